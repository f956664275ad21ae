import NimbusKernels

/// One row of a batch as attention sees it.
struct AttentionRow: Sendable {
    /// Index of the row's sequence in the batch (and of its block table).
    let sequence: Int
    let position: Int
    /// llama.cpp's multi-token (tinyBLAS) reduction order rather than the single-token one.
    let batchedOrder: Bool
}

/// Causal grouped-query attention of every row of a batch over its own sequence's paged KV.
///
/// Mirrors llama.cpp's non-flash path bit for bit (see `AttentionKernels`): the query is rounded
/// to fp16 (the cache's precision) for Q·K, softmax uses ggml's exp and blocked double sum, and
/// the probabilities are rounded to fp16 before they weight V. Row r attends to positions
/// `0...position(r)` of its sequence, so rows of other sequences never meet.
enum Attention {
    /// What one layer's attention computes, beyond the rows and their caches.
    struct Shape {
        let headCount, kvHeadCount, headDimension: Int
        /// The factor on Q·K inside the softmax.
        let scale: Float
        /// Scores become `cap * tanh(score / cap)` before the softmax.
        let softCap: Float?
        /// Only the last `window` positions are visible; nil: all of them.
        let window: Int?

        init(_ c: DecoderConfiguration, layer: Int) {
            self.init(headCount: c.headCount, kvHeadCount: c.kvHeadCount, headDimension: c.headDimension,
                      scale: c.attention.softmaxScale ?? 1 / Float(c.headDimension).squareRoot(),
                      softCap: c.attention.logitSoftCap, window: c.layers[layer].window)
        }

        init(headCount: Int, kvHeadCount: Int, headDimension: Int, scale: Float, softCap: Float?, window: Int?) {
            self.headCount = headCount
            self.kvHeadCount = kvHeadCount
            self.headDimension = headDimension
            self.scale = scale
            self.softCap = softCap
            self.window = window
        }
    }

    /// - Parameters:
    ///   - queries: one row of `headCount * headDimension` rotated queries per batch row.
    ///   - tableStarts: where each sequence's block pointers begin in `pointers` (for this layer).
    ///   - output: one row of `headCount * headDimension` per batch row.
    static func run(_ shape: Shape, queries: UnsafeMutablePointer<Float>, rows: [AttentionRow],
                    tableStarts: [Int], pointers: BlockPointerTables, blockSize: Int,
                    output: UnsafeMutablePointer<Float>, pool: ComputePool) {
        let hd = shape.headDimension, kvHeads = shape.kvHeadCount
        let group = shape.headCount / kvHeads
        let kvDim = kvHeads * hd
        let q = UnsafeSendable(queries), out = UnsafeSendable(output)
        let keyTables = UnsafeSendable(pointers.keys), valueTables = UnsafeSendable(pointers.values)
        let longest = rows.reduce(0) { max($0, $1.position + 1) }
        let slicing = HeadSlicing(group: group)
        let mixScratch = AttentionKernels.mixScratchCount(dimension: hd, heads: slicing.heads)
        // One item per (row, KV head, slice of the query heads that share it): a slice's heads
        // are computed together, so each key and value row is read once for all of them. Items
        // cost in proportion to their row's context, which differs a lot between the decode rows
        // and the prefill rows of one step: small chunks (about 16 per worker, one item for a
        // lone row) keep the workers' finishing times close.
        let items = rows.count * kvHeads * slicing.count
        pool.parallelFor(items, chunk: max(1, items / (16 * pool.threadCount))) { items in
            withUnsafeTemporaryAllocation(of: Float.self, capacity: slicing.heads * (longest + hd) + mixScratch) { buffer in
                guard let scores = buffer.baseAddress else { return }
                let queries = scores + slicing.heads * longest
                let scratch = queries + slicing.heads * hd
                for item in items {
                    let slice = item % slicing.count, pair = item / slicing.count
                    let index = pair / kvHeads, kvHead = pair % kvHeads
                    let row = rows[index]
                    let firstOfSlice = slice * slicing.heads
                    let heads = min(slicing.heads, group - firstOfSlice)
                    let visible = row.position + 1
                    let start = tableStarts[row.sequence]
                    let kvOffset = kvHead * hd
                    let firstHead = (index * shape.headCount + kvHead * group + firstOfSlice) * hd
                    // A windowed layer reads from `first` on (see `firstRead`); the positions
                    // between it and the window stay in the sums as exact zeros (a -inf score),
                    // as llama.cpp masks them.
                    let first = shape.window.map { firstRead(position: row.position, window: $0, blockSize: blockSize) } ?? 0
                    let hidden = shape.window.map { max(0, visible - $0) - first } ?? 0
                    let count = visible - first
                    let firstBlock = start + first / blockSize
                    let keys = PagedRows(blocks: UnsafePointer(keyTables.pointer + firstBlock), blockSize: blockSize,
                                         stride: kvDim, offset: kvOffset)
                    let values = PagedRows(blocks: UnsafePointer(valueTables.pointer + firstBlock), blockSize: blockSize,
                                           stride: kvDim, offset: kvOffset)
                    Operations.roundToHalf(q.pointer + firstHead, count: heads * hd, into: queries)
                    AttentionKernels.scores(queries: queries, heads: heads, keys: keys, count: count, dimension: hd,
                                            batched: row.batchedOrder, into: scores, scoresStride: longest)
                    for h in 0..<heads {
                        let headScores = scores + h * longest
                        if let cap = shape.softCap { Operations.softCap(headScores, count: count, cap: cap) }
                        if hidden > 0 { headScores.update(repeating: -.infinity, count: hidden) }
                        AttentionKernels.softmax(headScores, count: count, scale: shape.scale)
                    }
                    AttentionKernels.mix(weights: scores, weightsStride: longest, heads: heads, values: values,
                                         count: count, dimension: hd, batched: row.batchedOrder, scratch: scratch,
                                         into: out.pointer + firstHead)
                }
            }
        }
    }
}

extension Attention {
    /// How the query heads that share a KV head are split into work items: into slices no
    /// wider than the grouped kernels take (`AttentionKernels.groupLimit`), as few as that
    /// allows, so each key and value row is read the fewest times. A wider group (Qwen2.5-1.5B's
    /// six heads per KV head) would otherwise run its heads one at a time on the AVX2 kernels,
    /// reading every key row six times: sliced 3 + 3, its 2,000-token prefill ran 1.4x faster.
    /// Every head gets the same bits whichever slice computes it (`AttentionKernels.scores`).
    /// Splitting further so that a decode step's few (row, KV head) items keep both workers busy
    /// gained nothing measurable (SmolLM2, Gemma 3 at 1,500-4,000 positions), so slices follow
    /// the kernel only.
    struct HeadSlicing: Equatable {
        /// Slices per KV head, and the heads in each (the last may hold fewer).
        let count: Int
        let heads: Int

        init(group: Int, limit: Int = AttentionKernels.groupLimit) {
            let group = max(1, group), limit = max(1, limit)
            count = (group + limit - 1) / limit
            heads = (group + count - 1) / count
        }
    }

    /// The first position a row at `position` reads in a layer with a sliding `window`.
    ///
    /// A masked position adds an exact zero to its reduction lane, so a read may start late,
    /// skipping whole masked stretches, as long as every lane still sums the same terms in the
    /// same order. The lanes are positions mod 16 (softmax blocks, batched mix) or mod 64 (decode
    /// mix, whose 64 slots fold as (s + s+32) + (s+16 + s+48): a shift by 16 only commutes those
    /// sums). So a start on a multiple of 16, and of the block size for the paging, keeps
    /// llama.cpp's bits while the work stays within the window.
    static func firstRead(position: Int, window: Int, blockSize: Int) -> Int {
        let alignment = readAlignment(blockSize: blockSize)
        return max(0, position + 1 - window) / alignment * alignment
    }

    /// The most positions before a row (itself included) that a windowed layer reads: a row at
    /// `p` reads nothing below `p + 1 - reach`, so KV blocks wholly below that can go.
    static func reach(window: Int, blockSize: Int) -> Int { window + readAlignment(blockSize: blockSize) - 1 }

    /// The least common multiple of 16 and the block size.
    private static func readAlignment(blockSize: Int) -> Int {
        var a = 16, b = max(1, blockSize)
        while b != 0 { (a, b) = (b, a % b) }
        return 16 / a * max(1, blockSize)
    }
}

/// A raw pointer carried into a parallel loop whose ranges write disjoint parts of it.
struct UnsafeSendable<T>: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<T>
    init(_ pointer: UnsafeMutablePointer<T>) { self.pointer = pointer }
}
