import NimbusKernels

/// Causal grouped-query attention of a chunk of rows over one sequence's KV cache.
///
/// Mirrors llama.cpp's non-flash path bit for bit (see `AttentionKernels`): the query is rounded
/// to fp16 (the cache's precision) for Q·K, softmax uses ggml's exp and blocked double sum, and
/// the probabilities are rounded to fp16 before they weight V. The reduction orders of Q·K and
/// of the V mix depend on whether llama.cpp sees one token (decode) or several (a batched
/// ubatch), so `rows > 1` selects the batched order for every row of the chunk.
enum Attention {
    /// - Parameters:
    ///   - queries: `rows` rows of `headCount * headDimension` rotated queries.
    ///   - firstPosition: the position of row 0; row r attends to positions `0...firstPosition + r`.
    ///   - output: `rows` rows of `headCount * headDimension`.
    static func run(configuration c: LlamaConfiguration, queries: UnsafeMutablePointer<Float>, rows: Int,
                    firstPosition: Int, cache: KVCache, layer: Int,
                    output: UnsafeMutablePointer<Float>, pool: ComputePool) {
        let hd = c.headDimension
        let group = c.headCount / c.kvHeadCount
        let scale = 1 / Float(hd).squareRoot()
        let kvDim = c.kvDimension
        let batched = rows > 1
        let keys = cache.keys(layer: layer, position: 0)
        let values = cache.values(layer: layer, position: 0)
        let q = UnsafeSendable(queries), out = UnsafeSendable(output)
        let k = UnsafeSendable(keys), v = UnsafeSendable(values)
        let mixScratch = AttentionKernels.mixScratchCount(dimension: hd)
        // One head per chunk at decode: a handful of heads in chunks of two balances badly.
        pool.parallelFor(rows * c.headCount, chunk: rows == 1 ? 1 : nil) { items in
            let length = firstPosition + rows  // an upper bound for the scratch size
            withUnsafeTemporaryAllocation(of: Float.self, capacity: length + hd + mixScratch) { buffer in
                guard let scores = buffer.baseAddress else { return }
                let query = scores + length
                let scratch = query + hd
                for item in items {
                    let row = item / c.headCount, head = item % c.headCount
                    let visible = firstPosition + row + 1
                    let kvOffset = (head / group) * hd
                    Operations.roundToHalf(q.pointer + row * c.queryDimension + head * hd, count: hd, into: query)
                    AttentionKernels.scores(query: query, keys: k.pointer + kvOffset, stride: kvDim, count: visible,
                                            dimension: hd, batched: batched, into: scores)
                    AttentionKernels.softmax(scores, count: visible, scale: scale)
                    AttentionKernels.mix(weights: scores, values: v.pointer + kvOffset, stride: kvDim, count: visible,
                                         dimension: hd, batched: batched, scratch: scratch,
                                         into: out.pointer + row * c.queryDimension + head * hd)
                }
            }
        }
    }
}

/// A raw pointer carried into a parallel loop whose ranges write disjoint parts of it.
struct UnsafeSendable<T>: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<T>
    init(_ pointer: UnsafeMutablePointer<T>) { self.pointer = pointer }
}
