import Logging
import NimbusKernels
import NimbusProfiles

extension ServerConfiguration {
    /// Puts the profile's process-wide setting (the kernel path) in force, before any model
    /// loads, and logs the profile and the start-up notices, one line each.
    func applyProfile(logger: Logger) {
        for notice in notices { logger.log(level: notice.level, "\(notice.message)") }
        guard let resolved = profile else { return }
        let profile = resolved.selection.profile
        let kernels = KernelPath.request(profile.kernelPath)
        let how = resolved.selection.requested
            ? "set by NIM_MODEL_PROFILE"
            : "best compatible; NIM_MODEL_PROFILE picks another, see `nimbus list-profiles`"
        var metadata: Logger.Metadata = [
            "kernels": "\(kernels.rawValue)", "max_num_seqs": "\(engine.maxSequences)",
            "max_num_batched_tokens": "\(engine.maxBatchedTokens)", "chunked_prefill": "\(engine.chunkedPrefill)",
            "threads": "\(threads)",
        ]
        if !resolved.overriddenBy.isEmpty { metadata["overridden_by"] = "\(resolved.overriddenBy.joined(separator: ","))" }
        logger.info("model profile \(profile.name) (\(how))", metadata: metadata)
        if kernels != profile.kernelPath, !resolved.overriddenBy.contains("NIMBUS_KERNELS") {
            // Only possible when kernels ran before start-up chose the path (a programming error).
            logger.warning("profile \(profile.name) wants the \(profile.kernelPath.rawValue) kernels but \(kernels.rawValue) were already chosen")
        }
    }
}
