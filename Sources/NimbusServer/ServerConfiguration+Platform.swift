import Logging
import NimbusKernels
import NimbusProfiles

/// A line about the configuration to log once at start-up: a NIM variable that cannot apply
/// on this hardware, one that is unused, or one nobody reads.
public struct StartupNotice: Sendable, Equatable {
    public let level: Logger.Level
    public let message: String
}

/// The hardware profile in force, and which explicit settings replaced its values.
public struct ResolvedProfile: Sendable, Equatable {
    public let selection: ProfileSelection
    /// Variables (or their flags) that were set and so override the profile's value.
    public let overriddenBy: [String]
}

extension ServerConfiguration {
    /// NIM's hardware variables: the profile, and the GPU settings a CPU engine reads only to
    /// say, in one line, what becomes of them.
    static let platformVariables: [(name: String, defaultValue: String, help: String)] = [
        ("NIM_MODEL_PROFILE", "the best compatible profile (see `nimbus list-profiles`)",
         "hardware profile: cpu-<avx512vnni|avx2|generic>-<throughput|latency>, or just throughput or latency; "
            + "sets threads, sequences, step tokens and chunked prefill unless those are set explicitly"),
        ("NIMBUS_KERNELS", "the profile's kernel path", "force a kernel path (scalar, avx2 or avx512vnni), overriding the profile's; for tests"),
        ("NIMBUS_MATMUL_ORDER", "blocked on AVX-512 VNNI, else ggml",
         "quantized matmul summation order: ggml (llama.cpp's exact results) or blocked (about 3x faster batched, a few ulp apart)"),
        ("NIMBUS_PREFETCH_BYTES", "0 on AMD Zen 3/4, 4096 elsewhere",
         "how far ahead the blocked kernels software-prefetch the weight stream (0 to 1048576 bytes; 0: the hardware prefetcher alone)"),
        ("NIMBUS_HUGEPAGES", "1", "0 keeps the interleaved weight copies off transparent huge pages"),
        ("NGC_API_KEY", "unset", "accepted for NIM compatibility and unused: nothing is downloaded from NGC"),
        ("CUDA_VISIBLE_DEVICES", "unset", "ignored with a warning: there is no GPU backend, inference runs on the CPU"),
        ("NIM_TENSOR_PARALLEL_SIZE", "1", "must be 1 (more needs a GPU backend; start-up stops)"),
        ("NIM_PIPELINE_PARALLEL_SIZE", "1", "must be 1 (more needs a GPU backend; start-up stops)"),
        ("NIM_GPU_MEMORY_UTILIZATION", "unset", "ignored with a warning (no GPU); CPU memory for the KV cache is NIM_KV_CACHE_FREE_MEM_FRACTION"),
        ("NIM_KV_CACHE_FREE_GPU_MEM_FRACTION", "unset", "ignored with a warning (GPU memory); see NIM_KV_CACHE_FREE_MEM_FRACTION"),
    ]

    /// The settings a profile provides; setting one of these explicitly wins over the profile.
    static let profileSettings = ["NIM_NUM_THREADS", "NIM_MAX_NUM_SEQS", "NIM_MAX_BATCH_SIZE",
                                  "NIM_MAX_NUM_BATCHED_TOKENS", "NIM_ENABLE_CHUNKED_PREFILL", "NIMBUS_KERNELS"]

    /// Chooses the profile: NIM_MODEL_PROFILE if set, else the best one `system` can run (on
    /// the path NIMBUS_KERNELS forces, if any).
    /// - Throws: `ConfigurationError` for NIM_MODEL_PROFILE naming an unknown or incompatible profile.
    static func resolveProfile(_ env: [String: String], system: SystemInfo) throws(ConfigurationError) -> ResolvedProfile {
        let forced = ProfileCatalog.kernelOverride(env)
        do {
            let selection = try ProfileCatalog.select(name: env["NIM_MODEL_PROFILE"], system: system, kernelOverride: forced)
            let overrides = profileSettings.filter { !($0 == "NIMBUS_KERNELS" && forced == nil) && nonEmpty(env[$0]) != nil }
            return ResolvedProfile(selection: selection, overriddenBy: overrides)
        } catch {
            throw ConfigurationError(variable: "NIM_MODEL_PROFILE", message: String(describing: error))
        }
    }

    /// Checks the NIM variables that cannot apply to a CPU engine, and every other NIM_* variable.
    /// - Returns: one notice per variable that is set but ignored, unused, or unknown.
    /// - Throws: `ConfigurationError` for a parallel size above 1 or a malformed value.
    static func platformNotices(_ env: [String: String], system: SystemInfo) throws(ConfigurationError) -> [StartupNotice] {
        var notices: [StartupNotice] = []
        for name in ["NIM_TENSOR_PARALLEL_SIZE", "NIM_PIPELINE_PARALLEL_SIZE"] {
            guard let size = try integer(env, name, range: 1...4096), size > 1 else { continue }
            throw ConfigurationError(variable: name, message: "is \(size) but Nimbus has no GPU backend to split a model across; "
                                     + "use 1 or unset it (CPU parallelism is NIM_NUM_THREADS)")
        }
        if let devices = nonEmpty(env["CUDA_VISIBLE_DEVICES"]) {
            let seen = system.gpus.isEmpty ? "and this machine has no NVIDIA GPU" : "so the \(system.gpus.count) NVIDIA GPU(s) here stay unused"
            notices.append(.init(level: .warning, message: "CUDA_VISIBLE_DEVICES=\(devices) is ignored: Nimbus has no GPU backend (inference runs on the CPU) \(seen)"))
        }
        for name in ["NIM_GPU_MEMORY_UTILIZATION", "NIM_KV_CACHE_FREE_GPU_MEM_FRACTION"] {
            guard let raw = nonEmpty(env[name]) else { continue }
            guard let value = Double(raw.trimmingCharacters(in: .whitespaces)), value > 0, value <= 1 else {
                throw ConfigurationError(variable: name, message: "must be a number in (0, 1], got '\(raw)'")
            }
            // Not mapped onto CPU memory: a GPU's memory is the engine's alone, the CPU's is
            // shared with the weights, the OS and other processes; 0.9 of it would starve them.
            notices.append(.init(level: .warning, message: "\(name)=\(value) is ignored: it sizes GPU memory and there is no GPU backend; "
                                 + "the KV cache takes NIM_KV_CACHE_FREE_MEM_FRACTION of available CPU memory, or NIM_KV_CACHE_SIZE"))
        }
        if let raw = nonEmpty(env["NIMBUS_KERNELS"]) {
            let names = KernelPath.allCases.map(\.rawValue)
            guard let path = KernelPath(rawValue: raw.trimmingCharacters(in: .whitespaces).lowercased()) else {
                throw ConfigurationError(variable: "NIMBUS_KERNELS", message: "must be one of \(names.joined(separator: ", ")), got '\(raw)'")
            }
            if !system.kernelPaths.contains(path) {
                notices.append(.init(level: .warning, message: "NIMBUS_KERNELS=\(raw) is ignored: this CPU cannot run the \(path.rawValue) kernels "
                                     + "(it runs \(system.kernelPaths.map(\.rawValue).joined(separator: ", ")))"))
            }
        }
        if let raw = nonEmpty(env["NIMBUS_MATMUL_ORDER"]) {
            let names = SummationOrder.allCases.map(\.rawValue)
            guard let order = SummationOrder(rawValue: raw.trimmingCharacters(in: .whitespaces).lowercased()) else {
                throw ConfigurationError(variable: "NIMBUS_MATMUL_ORDER", message: "must be one of \(names.joined(separator: ", ")), got '\(raw)'")
            }
            if !system.kernelPaths.contains(where: { order.isAvailable(on: $0) && $0 != .scalar }) {
                notices.append(.init(level: .warning, message: "NIMBUS_MATMUL_ORDER=\(raw) is ignored: the \(order.rawValue) order needs "
                                     + "the avx512vnni kernels, which this CPU cannot run; matmuls use the ggml order"))
            }
        }
        // Read again by the kernels (nk_stream_prefetch_bytes, nk_weight_alloc): checked here so a
        // typo stops start-up instead of silently keeping the default.
        if let raw = nonEmpty(env["NIMBUS_PREFETCH_BYTES"]) {
            guard let bytes = Int(raw.trimmingCharacters(in: .whitespaces)), (0...1_048_576).contains(bytes) else {
                throw ConfigurationError(variable: "NIMBUS_PREFETCH_BYTES", message: "must be a whole number of bytes from 0 to 1048576, got '\(raw)'")
            }
        }
        if let raw = nonEmpty(env["NIMBUS_HUGEPAGES"]), !["0", "1"].contains(raw.trimmingCharacters(in: .whitespaces)) {
            throw ConfigurationError(variable: "NIMBUS_HUGEPAGES", message: "must be 0 or 1, got '\(raw)'")
        }
        if nonEmpty(env["NGC_API_KEY"]) != nil {
            // Never the value: it is a credential.
            notices.append(.init(level: .info, message: "NGC_API_KEY is set but unused: Nimbus downloads nothing from NGC"))
        }
        return notices + unknownVariableNotices(env)
    }

    /// One warning per NIM_* variable that nothing reads, with the closest known name.
    static func unknownVariableNotices(_ env: [String: String]) -> [StartupNotice] {
        let known = variables.map(\.name)
        return env.keys.filter { $0.hasPrefix("NIM_") && !known.contains($0) }.sorted().map { name in
            let nimKnown = known.filter { $0.hasPrefix("NIM_") }
            let hint = VariableNames.closest(to: name, among: nimKnown).map { " (did you mean \($0)?)" } ?? ""
            return StartupNotice(level: .warning, message: "unknown variable \(name) is ignored\(hint); known: \(nimKnown.joined(separator: ", "))")
        }
    }

}
