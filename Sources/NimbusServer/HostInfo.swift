import Foundation
import NimbusProfiles

/// Memory figures of the server process and the machine (CPU memory; there is no GPU backend).
enum HostMemory {
    struct Reading: Sendable, Equatable {
        /// Resident set size of this process.
        var usedBytes: Int
        /// Physical memory, or the cgroup's limit when the process runs under a lower one.
        var totalBytes: Int
    }

    static func read() -> Reading {
        Reading(usedBytes: residentBytes() ?? 0, totalBytes: totalBytes())
    }

    /// The second field of /proc/self/statm is the resident size in pages.
    static func residentBytes() -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return nil }
        let fields = text.split(separator: " ")
        guard fields.count > 1, let pages = Int(fields[1]) else { return nil }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }

    static func totalBytes() -> Int {
        let physical = Int(clamping: ProcessInfo.processInfo.physicalMemory)
        // cgroup v2, then v1; "max" (or v1's huge sentinel) means no limit.
        for path in ["/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"] {
            if let text = try? String(contentsOfFile: path, encoding: .utf8),
               let limit = Int(text.trimmingCharacters(in: .whitespacesAndNewlines)), limit > 0, limit < physical {
                return limit
            }
        }
        return physical
    }
}

/// What the server runs on, for the status page.
struct HardwareInfo: Encodable, Sendable {
    /// The CPU's model name from /proc/cpuinfo ("unknown" elsewhere).
    let cpu: String
    let cores: Int
    /// Compute threads the kernels use (NIM_NUM_THREADS).
    let computeThreads: Int
    let memoryTotalBytes: Int
    /// The hardware profile in force (NIM_MODEL_PROFILE or the automatic choice).
    var profile: String?

    enum CodingKeys: String, CodingKey {
        case cpu, cores, computeThreads = "compute_threads", memoryTotalBytes = "memory_total_bytes", profile
    }

    /// From the detection the profiles use (NimbusProfiles), so the status page and
    /// `nimbus list-profiles` always describe the machine the same way.
    static func current(computeThreads: Int, profile: String? = nil, system: SystemInfo = .detect()) -> HardwareInfo {
        HardwareInfo(cpu: system.cpuModel, cores: system.logicalCores, computeThreads: computeThreads,
                     memoryTotalBytes: system.memoryTotalBytes, profile: profile)
    }
}
