import Foundation
import NimbusKernels

/// The hardware a profile is chosen for: CPU, SIMD features, memory and GPUs.
public struct SystemInfo: Sendable, Equatable, Encodable {
    /// The CPU's model name ("unknown" where /proc/cpuinfo does not say).
    public var cpuModel: String
    /// `uname -m`: x86_64, aarch64...
    public var architecture: String
    /// Cores this process may run on (affinity and cgroup limits applied).
    public var logicalCores: Int
    /// Distinct physical cores in /proc/cpuinfo (the logical count where it does not say).
    public var physicalCores: Int
    /// The SIMD extensions the CPU reports that matter to the kernels (cpuinfo spelling).
    public var simdFeatures: [String]
    /// Kernel paths this CPU can run (cpuid and OS register state checked), slowest first.
    public var kernelPaths: [KernelPath]
    /// Physical memory, or the cgroup's limit when lower.
    public var memoryTotalBytes: Int
    /// Memory available to start a process without swapping (MemAvailable).
    public var memoryAvailableBytes: Int
    /// NVIDIA GPUs the driver exposes (none without the driver). Nimbus has no GPU backend yet.
    public var gpus: [String]

    public init(cpuModel: String, architecture: String, logicalCores: Int, physicalCores: Int, simdFeatures: [String],
                kernelPaths: [KernelPath], memoryTotalBytes: Int, memoryAvailableBytes: Int, gpus: [String]) {
        self.cpuModel = cpuModel
        self.architecture = architecture
        self.logicalCores = logicalCores
        self.physicalCores = physicalCores
        self.simdFeatures = simdFeatures
        self.kernelPaths = kernelPaths
        self.memoryTotalBytes = memoryTotalBytes
        self.memoryAvailableBytes = memoryAvailableBytes
        self.gpus = gpus
    }

    enum CodingKeys: String, CodingKey {
        case cpuModel = "cpu_model", architecture, logicalCores = "logical_cores", physicalCores = "physical_cores"
        case simdFeatures = "simd_features", kernelPaths = "kernel_paths", memoryTotalBytes = "memory_total_bytes"
        case memoryAvailableBytes = "memory_available_bytes", gpus
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(cpuModel, forKey: .cpuModel)
        try c.encode(architecture, forKey: .architecture)
        try c.encode(logicalCores, forKey: .logicalCores)
        try c.encode(physicalCores, forKey: .physicalCores)
        try c.encode(simdFeatures, forKey: .simdFeatures)
        try c.encode(kernelPaths.map(\.rawValue), forKey: .kernelPaths)
        try c.encode(memoryTotalBytes, forKey: .memoryTotalBytes)
        try c.encode(memoryAvailableBytes, forKey: .memoryAvailableBytes)
        try c.encode(gpus, forKey: .gpus)
    }

    /// Reads this machine. Only files are read (/proc, /sys, /dev); nothing is run.
    public static func detect() -> SystemInfo {
        let cpuinfo = read("/proc/cpuinfo") ?? ""
        let cpu = CPUInfoText(cpuinfo)
        let logical = ProcessInfo.processInfo.activeProcessorCount
        let meminfo = MemInfoText(read("/proc/meminfo") ?? "")
        let physical = Int(clamping: ProcessInfo.processInfo.physicalMemory)
        let limit = ["/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"].lazy
            .compactMap { read($0).flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) } }.first
        let total = min(meminfo.totalBytes ?? physical, limit.map { max(1, $0) } ?? Int.max)
        return SystemInfo(
            cpuModel: cpu.modelName ?? "unknown", architecture: machine(),
            logicalCores: logical, physicalCores: min(cpu.physicalCores ?? logical, max(logical, 1)),
            simdFeatures: cpu.simdFeatures, kernelPaths: KernelPath.supported,
            memoryTotalBytes: total, memoryAvailableBytes: min(meminfo.availableBytes ?? total, total),
            gpus: NVIDIADevices.detect())
    }

    static func read(_ path: String) -> String? {
        try? String(contentsOfFile: path, encoding: .utf8)
    }

    private static func machine() -> String {
        var name = utsname()
        uname(&name)
        return withUnsafeBytes(of: &name.machine) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
    }
}
