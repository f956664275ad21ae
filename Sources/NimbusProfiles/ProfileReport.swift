import Foundation

/// What `nimbus list-profiles` prints: the detected system, then compatible profiles (the
/// one start-up would pick marked), then incompatible ones with the reason.
public struct ProfileReport: Encodable {
    public struct Entry: Encodable {
        let profile: Profile
        let compatible: Bool
        /// Why it cannot run here (incompatible profiles only).
        let reason: String?
        /// Whether start-up picks it when NIM_MODEL_PROFILE is unset.
        let isDefault: Bool

        enum CodingKeys: String, CodingKey { case profile, compatible, reason, isDefault = "default" }
    }

    public let system: SystemInfo
    public let profiles: [Entry]

    public init(system: SystemInfo, defaultProfile: String?) {
        self.system = system
        profiles = ProfileCatalog.all(threads: system.logicalCores).map { profile in
            let reason = ProfileCatalog.incompatibility(of: profile, on: system)
            return Entry(profile: profile, compatible: reason == nil, reason: reason, isDefault: profile.name == defaultProfile)
        }
    }

    public var text: String {
        var lines = ["System"]
        let s = system
        lines.append("  CPU           \(s.cpuModel) (\(s.architecture))")
        lines.append("  Cores         \(s.logicalCores) usable, \(s.physicalCores) physical")
        lines.append("  SIMD          \(s.simdFeatures.isEmpty ? "none detected" : s.simdFeatures.joined(separator: " "))")
        lines.append("  Kernel paths  \(s.kernelPaths.sorted(by: >).map(\.rawValue).joined(separator: ", "))")
        lines.append("  Memory        \(Self.gib(s.memoryTotalBytes)) total, \(Self.gib(s.memoryAvailableBytes)) available")
        lines.append("  GPUs          " + (s.gpus.isEmpty
            ? "none (no NVIDIA driver files under /proc/driver/nvidia or /dev/nvidia*)"
            : s.gpus.joined(separator: ", ") + " (not used: Nimbus has no GPU backend yet)"))
        let compatible = profiles.filter(\.compatible)
        let incompatible = profiles.filter { !$0.compatible }
        lines.append("")
        lines.append("Compatible profiles (* = the one `nimbus serve` uses here: NIM_MODEL_PROFILE, or the best when it is unset)")
        let width = profiles.map(\.profile.name.count).max() ?? 0
        func padded(_ name: String) -> String { name + String(repeating: " ", count: max(0, width - name.count)) }
        for entry in compatible {
            lines.append("  \(entry.isDefault ? "*" : " ") \(padded(entry.profile.name))  \(entry.profile.settingsSummary)")
        }
        lines.append("")
        lines.append("Incompatible profiles")
        if incompatible.isEmpty { lines.append("    none") }
        for entry in incompatible {
            lines.append("    \(padded(entry.profile.name))  \(entry.reason ?? "")")
        }
        return lines.joined(separator: "\n")
    }

    static func gib(_ bytes: Int) -> String {
        String(format: "%.1f GiB", Double(bytes) / Double(1 << 30))
    }
}
