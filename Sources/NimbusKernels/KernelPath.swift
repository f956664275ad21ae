import CNimbusKernels

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

    /// The path used by default: the best supported one, lowered by the environment variable
    /// `NIMBUS_KERNELS=scalar|avx2|avx512vnni` (a request above what the CPU has is ignored).
    public static let detected: KernelPath = {
        let best = supported.last ?? .scalar
        if let raw = getenv("NIMBUS_KERNELS"), let wanted = KernelPath(rawValue: String(cString: raw)),
           supported.contains(wanted) {
            return wanted
        }
        return best
    }()

    /// Whether this CPU can run the path.
    public var isSupported: Bool { Self.supported.contains(self) }
}
