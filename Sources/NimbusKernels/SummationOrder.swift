#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// How quantized matmuls turn integer block products into a float: the one numerical choice
/// the kernels make, picked once per process so that a request's output never depends on what
/// else is in its batch.
///
/// Both orders compute the same real number (each 32-element block's products are summed
/// exactly in integers); they round differently, a few ulp apart.
public enum SummationOrder: String, Sendable, CaseIterable {
    /// ggml's x86 order: 8 float lanes per output, block after block, then a fixed horizontal
    /// sum. Bit-identical to llama.cpp's CPU backend on every kernel path.
    case ggml
    /// One float step per block: `acc = fma(float(isum), d_w * d_a, acc)` (plus `m_w * s_a`
    /// for Q4_1), on weights interleaved 16 rows at a time. A fraction of ggml's float work,
    /// about 3x the batched matmul speed on AVX-512 VNNI; applies to Q4_0, Q4_1 and Q8_0
    /// matrices whose row count is a multiple of 16, and to Q5_0 ones rewritten as the Q8_0
    /// rows of the same values (`WeightMatrix.widenedQ5ToQ8`).
    ///
    /// K-quants (Q4_K, Q5_K, Q6_K, same row condition) take one or two float steps per 256-element
    /// super-block: the sub-block scales are applied exactly in int32, so
    /// `acc = fma(float(isum), d_w * d_a, acc)` with, for Q4_K and Q5_K, first
    /// `acc = fma(-float(imin), dmin_w * d_a, acc)` (`ScalarDot.blockedK`, `gemm_kx16.c`); about
    /// 2x ggml's batched speed and at least its single-row speed. Other matrices (Q2_K, Q3_K,
    /// Q5_1, ...) keep ggml's order in either mode.
    case blocked

    /// Whether kernels exist for this order on `path`: ggml's everywhere, the blocked order on
    /// AVX-512 VNNI and on the scalar path (its oracle).
    public func isAvailable(on path: KernelPath) -> Bool {
        self == .ggml || path == .avx512vnni || path == .scalar
    }

    /// The process-wide order: `NIMBUS_MATMUL_ORDER=ggml|blocked` when set and available on
    /// `KernelPath.detected`, else blocked where AVX-512 VNNI runs, else ggml.
    public static let detected: SummationOrder = choose(
        forced: getenv("NIMBUS_MATMUL_ORDER").map { String(cString: $0) }, path: KernelPath.detected)

    /// The choice behind `detected`, as a pure function of its inputs.
    public static func choose(forced: String?, path: KernelPath) -> SummationOrder {
        if let forced, let wanted = SummationOrder(rawValue: forced.filter { !$0.isWhitespace }.lowercased()),
           wanted.isAvailable(on: path) {
            return wanted
        }
        return path == .avx512vnni ? .blocked : .ggml
    }
}
