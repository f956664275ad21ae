import CNimbusKernels
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Which implementation family runs the kernels.
///
/// All paths compute bit-identical results for the quantized types (they all follow ggml's
/// x86 order); they differ only in speed.
public enum KernelPath: String, Sendable, CaseIterable, Comparable {
    /// Plain Swift, any CPU. Also the test oracle.
    case scalar
    /// AVX2 + FMA + F16C.
    case avx2
    /// AVX-512 F/BW/VL/DQ + VNNI.
    case avx512vnni

    var rank: Int {
        switch self {
        case .scalar: 0
        case .avx2: 1
        case .avx512vnni: 2
        }
    }

    public static func < (a: KernelPath, b: KernelPath) -> Bool { a.rank < b.rank }

    /// Paths this CPU can run, slowest first.
    public static let supported: [KernelPath] = {
        let f = nk_cpu_features()
        var paths: [KernelPath] = [.scalar]
        if f & Int32(NK_CPU_AVX2) != 0 { paths.append(.avx2) }
        if f & Int32(NK_CPU_AVX512VNNI) != 0 { paths.append(.avx512vnni) }
        return paths
    }()

    /// The path every kernel call uses by default, chosen once, at the first kernel call: the
    /// environment variable `NIMBUS_KERNELS=scalar|avx2|avx512vnni` if set, else the path asked
    /// for with `request(_:)` (a hardware profile's), else the best supported one. A path above
    /// what the CPU has is ignored.
    public static let detected: KernelPath = choose(
        forced: getenv("NIMBUS_KERNELS").map { String(cString: $0) },
        requested: requested.withLock { $0 }, supported: supported)

    /// Asks that the process run on `path`. The choice is made once, so this must come before
    /// any kernel runs (at start-up, before models load).
    /// - Returns: the path the process runs on, which differs from `path` when NIMBUS_KERNELS
    ///   overrides it, the CPU lacks it, or kernels already ran.
    @discardableResult
    public static func request(_ path: KernelPath) -> KernelPath {
        requested.withLock { $0 = path }
        return detected
    }

    /// The choice behind `detected`, as a pure function of its inputs.
    public static func choose(forced: String?, requested: KernelPath?, supported: [KernelPath]) -> KernelPath {
        if let forced, let wanted = KernelPath(rawValue: forced.lowercased()), supported.contains(wanted) { return wanted }
        if let requested, supported.contains(requested) { return requested }
        return supported.max() ?? .scalar
    }

    private static let requested = Mutex<KernelPath?>(nil)

    /// Whether this CPU can run the path.
    public var isSupported: Bool { Self.supported.contains(self) }
}
