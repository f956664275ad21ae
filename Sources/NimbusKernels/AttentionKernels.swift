import CNimbusKernels

/// The non-matmul steps of llama.cpp's non-flash attention, in the exact operation order of its
/// AVX-512 CPU build (ggml-cpu + llamafile tinyBLAS), so that attention output is bit-identical.
///
/// Keys and values are fp16 bit patterns (llama.cpp's fp16 cache); the query and the
/// probabilities are fp32 holding fp16-rounded values (llama.cpp converts them to fp16 before
/// each mul_mat). The order depends on the ubatch size:
/// for two or more tokens llama.cpp runs tinyBLAS (one 16-lane fma accumulator per output), for
/// one token `ggml_vec_dot_f16` (64 slots folded to 16). Every path here (AVX-512, AVX2, scalar C)
/// computes that same AVX-512 order and gives the same bits; llama.cpp builds for AVX2 or
/// without SIMD reduce in other orders, so they can differ from us (and from AVX-512 llama.cpp)
/// in the last bits.
public enum AttentionKernels {
    /// The most query heads a grouped call (`scores(queries:heads:...)`, `mix(...heads:...)`)
    /// serves with one read of each key and value row; beyond it, heads run one at a time.
    public static let groupLimit = Int(NK_ATTN_GROUP_MAX)

    /// Scratch floats that `mix` needs for a head dimension of `dimension` (and `heads` heads of
    /// a grouped call).
    public static func mixScratchCount(dimension: Int, heads: Int = 1) -> Int { 64 * dimension * heads }

    /// `scores` for `heads` query heads that share one KV head: head h's query at
    /// `queries + h * dimension`, its scores at `scores + h * scoresStride`. Each head gets the
    /// bits of a one-head call; AVX-512 reads each key row once for all of them.
    public static func scores(queries: UnsafePointer<Float>, heads: Int, keys: PagedRows, count: Int,
                              dimension: Int, batched: Bool, into scores: UnsafeMutablePointer<Float>,
                              scoresStride: Int, path: KernelPath = .detected) {
        guard path == .avx512vnni else {
            for h in 0..<heads {
                Self.scores(query: queries + h * dimension, keys: keys, count: count, dimension: dimension,
                            batched: batched, into: scores + h * scoresStride, path: path)
            }
            return
        }
        nk_attn_scores_group_avx512(queries, Int64(heads), keys.blocks, Int64(keys.blockSize), Int64(keys.stride),
                                    Int64(keys.offset), Int64(count), Int64(dimension), batched ? 1 : 0, scores,
                                    Int64(scoresStride))
    }

    /// `mix` for `heads` query heads that share one KV head: head h's weights at
    /// `weights + h * weightsStride`, its output at `output + h * dimension`.
    /// - Parameter scratch: at least `mixScratchCount(dimension:heads:)` floats.
    public static func mix(weights: UnsafePointer<Float>, weightsStride: Int, heads: Int, values: PagedRows, count: Int,
                           dimension: Int, batched: Bool, scratch: UnsafeMutablePointer<Float>,
                           into output: UnsafeMutablePointer<Float>, path: KernelPath = .detected) {
        guard path == .avx512vnni else {
            for h in 0..<heads {
                Self.mix(weights: weights + h * weightsStride, values: values, count: count, dimension: dimension,
                         batched: batched, scratch: scratch, into: output + h * dimension, path: path)
            }
            return
        }
        nk_attn_mix_group_avx512(weights, Int64(weightsStride), Int64(heads), values.blocks, Int64(values.blockSize),
                                 Int64(values.stride), Int64(values.offset), Int64(count), Int64(dimension),
                                 batched ? 1 : 0, scratch, output)
    }

    /// `scores[p] = query · key(p)` for `p < count`, keys read from a paged cache.
    /// - Parameter batched: whether the ubatch holds two or more tokens (tinyBLAS order).
    public static func scores(query: UnsafePointer<Float>, keys: PagedRows, count: Int,
                              dimension: Int, batched: Bool, into scores: UnsafeMutablePointer<Float>,
                              path: KernelPath = .detected) {
        let b: Int32 = batched ? 1 : 0
        let bs = Int64(keys.blockSize), st = Int64(keys.stride), off = Int64(keys.offset)
        switch path {
        case .avx512vnni: nk_attn_scores_avx512(query, keys.blocks, bs, st, off, Int64(count), Int64(dimension), b, scores)
        case .avx2: nk_attn_scores_avx2(query, keys.blocks, bs, st, off, Int64(count), Int64(dimension), b, scores)
        case .scalar: nk_attn_scores_scalar(query, keys.blocks, bs, st, off, Int64(count), Int64(dimension), b, scores)
        }
    }

    /// `scores` over contiguous keys: key `p` at `keys + p * stride`.
    public static func scores(query: UnsafePointer<Float>, keys: UnsafePointer<UInt16>, stride: Int, count: Int,
                              dimension: Int, batched: Bool, into scores: UnsafeMutablePointer<Float>,
                              path: KernelPath = .detected) {
        PagedRows.contiguous(keys, stride: stride, count: count) { rows in
            Self.scores(query: query, keys: rows, count: count, dimension: dimension, batched: batched, into: scores, path: path)
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

    /// `output[d] = Σ_p weights[p] * value(p)[d]` for `d < dimension`, values read from a paged cache.
    /// - Parameter scratch: at least `mixScratchCount(dimension:)` floats.
    public static func mix(weights: UnsafePointer<Float>, values: PagedRows, count: Int,
                           dimension: Int, batched: Bool, scratch: UnsafeMutablePointer<Float>,
                           into output: UnsafeMutablePointer<Float>, path: KernelPath = .detected) {
        let b: Int32 = batched ? 1 : 0
        let bs = Int64(values.blockSize), st = Int64(values.stride), off = Int64(values.offset)
        switch path {
        case .avx512vnni:
            nk_attn_mix_avx512(weights, values.blocks, bs, st, off, Int64(count), Int64(dimension), b, scratch, output)
        case .avx2:
            nk_attn_mix_avx2(weights, values.blocks, bs, st, off, Int64(count), Int64(dimension), b, scratch, output)
        case .scalar:
            nk_attn_mix_scalar(weights, values.blocks, bs, st, off, Int64(count), Int64(dimension), b, scratch, output)
        }
    }

    /// `mix` over contiguous values: value `p` at `values + p * stride`.
    public static func mix(weights: UnsafePointer<Float>, values: UnsafePointer<UInt16>, stride: Int, count: Int,
                           dimension: Int, batched: Bool, scratch: UnsafeMutablePointer<Float>,
                           into output: UnsafeMutablePointer<Float>, path: KernelPath = .detected) {
        PagedRows.contiguous(values, stride: stride, count: count) { rows in
            Self.mix(weights: weights, values: rows, count: count, dimension: dimension, batched: batched,
                     scratch: scratch, into: output, path: path)
        }
    }
}

/// Where the rows of one KV head live in a paged cache of fp16 bits: row `p` starts at
/// `blocks[p / blockSize] + (p % blockSize) * stride + offset`.
public struct PagedRows {
    public let blocks: UnsafePointer<UnsafePointer<UInt16>?>
    public let blockSize: Int
    public let stride: Int
    public let offset: Int

    public init(blocks: UnsafePointer<UnsafePointer<UInt16>?>, blockSize: Int, stride: Int, offset: Int) {
        self.blocks = blocks
        self.blockSize = blockSize
        self.stride = stride
        self.offset = offset
    }

    /// Contiguous rows as a single block.
    static func contiguous(_ base: UnsafePointer<UInt16>, stride: Int, count: Int, _ body: (PagedRows) -> Void) {
        var block: UnsafePointer<UInt16>? = base
        withUnsafePointer(to: &block) { pointer in
            body(PagedRows(blocks: pointer, blockSize: max(count, 1), stride: stride, offset: 0))
        }
    }
}
