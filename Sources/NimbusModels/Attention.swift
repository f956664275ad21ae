import NimbusKernels

/// Causal grouped-query attention of a chunk of rows over one sequence's KV cache.
///
/// Mirrors llama.cpp's non-flash path: the query is rounded to fp16 (the cache's precision)
/// before Q·K, softmax runs in float with a double sum, and the probabilities are rounded to
/// fp16 before they weight V.
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
        let keys = cache.keys(layer: layer, position: 0)
        let values = cache.values(layer: layer, position: 0)
        let q = UnsafeSendable(queries), out = UnsafeSendable(output)
        let k = UnsafeSendable(keys), v = UnsafeSendable(values)
        pool.parallelFor(rows * c.headCount) { items in
            let length = firstPosition + rows  // an upper bound for the scratch size
            withUnsafeTemporaryAllocation(of: Float.self, capacity: length + hd) { buffer in
                guard let scores = buffer.baseAddress else { return }
                let query = scores + length
                for item in items {
                    let row = item / c.headCount, head = item % c.headCount
                    let visible = firstPosition + row + 1
                    let kvOffset = (head / group) * hd
                    Operations.roundToHalf(q.pointer + row * c.queryDimension + head * hd, count: hd, into: query)
                    for p in 0..<visible {
                        let key = k.pointer + p * kvDim + kvOffset
                        var dot: Float = 0
                        for i in 0..<hd { dot += query[i] * key[i] }
                        scores[p] = dot
                    }
                    Operations.scaledSoftmax(scores, count: visible, scale: scale)
                    Operations.roundToHalf(scores, count: visible, into: scores)
                    let result = out.pointer + row * c.queryDimension + head * hd
                    for i in 0..<hd { result[i] = 0 }
                    for p in 0..<visible {
                        let weight = scores[p]
                        let value = v.pointer + p * kvDim + kvOffset
                        for i in 0..<hd { result[i] += weight * value[i] }
                    }
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
