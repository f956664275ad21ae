import CNimbusKernels

/// The non-matmul steps of llama.cpp's non-flash attention, in the exact operation order of its
/// AVX-512 CPU build (ggml-cpu + llamafile tinyBLAS), so that attention output is bit-identical.
///
/// Inputs are fp32 arrays holding fp16-rounded values (llama.cpp keeps K/V in fp16 and converts
/// q and the probabilities to fp16 before each mul_mat). The order depends on the ubatch size:
/// for two or more tokens llama.cpp runs tinyBLAS (one 16-lane fma accumulator per output), for
/// one token `ggml_vec_dot_f16` (64 slots folded to 16). Every path here (AVX-512, AVX2, scalar C)
/// computes that same AVX-512 order and gives the same bits; llama.cpp builds for AVX2 or
/// without SIMD reduce in other orders, so they can differ from us (and from AVX-512 llama.cpp)
/// in the last bits.
public enum AttentionKernels {
    /// Scratch floats that `mix` needs for a head dimension of `dimension`.
    public static func mixScratchCount(dimension: Int) -> Int { 64 * dimension }

    /// `scores[p] = query · keys[p * stride ..< p * stride + dimension]` for `p < count`.
    /// - Parameter batched: whether the ubatch holds two or more tokens (tinyBLAS order).
    public static func scores(query: UnsafePointer<Float>, keys: UnsafePointer<Float>, stride: Int, count: Int,
                              dimension: Int, batched: Bool, into scores: UnsafeMutablePointer<Float>,
                              path: KernelPath = .detected) {
        let b: Int32 = batched ? 1 : 0
        switch path {
        case .avx512vnni: nk_attn_scores_avx512(query, keys, Int64(stride), Int64(count), Int64(dimension), b, scores)
        case .avx2: nk_attn_scores_avx2(query, keys, Int64(stride), Int64(count), Int64(dimension), b, scores)
        case .scalar: nk_attn_scores_scalar(query, keys, Int64(stride), Int64(count), Int64(dimension), b, scores)
        }
    }

    /// In place: `x = fp16(softmax(x * scale))` over `count` visible scores (the masked ones are
    /// simply absent), with ggml's vectorized exp and its blocked double-precision sum.
    public static func softmax(_ x: UnsafeMutablePointer<Float>, count: Int, scale: Float, path: KernelPath = .detected) {
        if path == .avx512vnni {
            nk_attn_softmax_avx512(x, Int64(count), scale)
        } else {
            nk_attn_softmax_scalar(x, Int64(count), scale)
        }
    }

    /// `output[d] = Σ_p weights[p] * values[p * stride + d]` for `d < dimension`.
    /// - Parameter scratch: at least `mixScratchCount(dimension:)` floats.
    public static func mix(weights: UnsafePointer<Float>, values: UnsafePointer<Float>, stride: Int, count: Int,
                           dimension: Int, batched: Bool, scratch: UnsafeMutablePointer<Float>,
                           into output: UnsafeMutablePointer<Float>, path: KernelPath = .detected) {
        let b: Int32 = batched ? 1 : 0
        switch path {
        case .avx512vnni:
            nk_attn_mix_avx512(weights, values, Int64(stride), Int64(count), Int64(dimension), b, scratch, output)
        case .avx2:
            nk_attn_mix_avx2(weights, values, Int64(stride), Int64(count), Int64(dimension), b, scratch, output)
        case .scalar:
            nk_attn_mix_scalar(weights, values, Int64(stride), Int64(count), Int64(dimension), b, scratch, output)
        }
    }
}
