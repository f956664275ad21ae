import NimbusKernels
@testable import NimbusModels
import NimbusTestSupport
import Testing

/// A sliding-window layer reads only from `Attention.firstRead` on. llama.cpp attends over every
/// position and masks the hidden ones (-inf scores, zero weights), so the skip must not change a
/// bit: the reference here attends over all visible positions with the one-head kernels and
/// masks, and the windowed run must equal it exactly, for decode and prompt (batched) rows.
@Suite struct WindowedAttentionTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let window, blockSize: Int
        var heads = 4, kvHeads = 2
        var testDescription: String { "window \(window), blocks of \(blockSize), \(heads) heads over \(kvHeads)" }
    }

    // The last two have groups wider than the grouped kernels take (six heads per KV head, as in
    // Qwen2.5-1.5B, and five): `Attention.HeadSlicing` splits them, 3 + 3 and 3 + 2.
    static let cases = [Case(window: 16, blockSize: 16), Case(window: 40, blockSize: 16), Case(window: 100, blockSize: 4),
                        Case(window: 512, blockSize: 16), Case(window: 70, blockSize: 48),
                        Case(window: 100, blockSize: 16, heads: 12, kvHeads: 2), Case(window: 40, blockSize: 4, heads: 10, kvHeads: 2)]

    @Test func headSlicesFollowTheGroupedKernelsLimit() {
        #expect(AttentionKernels.groupLimit == 4)
        let slicing = [1, 3, 4, 5, 6, 8, 9].map { Attention.HeadSlicing(group: $0) }
        #expect(slicing.map(\.count) == [1, 1, 1, 2, 2, 2, 3])
        #expect(slicing.map(\.heads) == [1, 3, 4, 3, 3, 4, 3])
    }

    @Test(arguments: cases)
    func skippingHiddenPositionsKeepsTheBits(_ c: Case) throws {
        let heads = c.heads, kvHeads = c.kvHeads, dim = 64, positions = 700
        let kvDim = kvHeads * dim
        var rng = SplitMix64(seed: UInt64(c.window * 1000 + c.blockSize))
        func random(_ n: Int, scale: Float) -> [Float] {
            (0..<n).map { _ in (Float(rng.next() % 2001) / 1000 - 1) * scale }
        }
        let blocks = (positions + c.blockSize - 1) / c.blockSize
        let cache = PagedKVCache(layersPerBlock: 1, kvDimension: kvDim, blockSize: c.blockSize, blockCount: blocks + 2)
        let table = Array((2..<blocks + 2).reversed())  // paged out of order
        for p in 0..<positions {
            for storage in [cache.keys, cache.values] {
                random(kvDim, scale: 2).withUnsafeBufferPointer { row in
                    Operations.storeAsHalf(row.baseAddress!, count: kvDim,
                                           into: cache.position(storage, slot: 0, table: table, position: p))
                }
            }
        }
        let pointers = BlockPointerTables()
        let starts = pointers.fill(slot: 0, tables: [table], cache: cache)
        let keys = PagedRows(blocks: UnsafePointer(pointers.keys + starts[0]), blockSize: c.blockSize, stride: kvDim, offset: 0)
        let values = PagedRows(blocks: UnsafePointer(pointers.values + starts[0]), blockSize: c.blockSize, stride: kvDim, offset: 0)
        let shape = Attention.Shape(headCount: heads, kvHeadCount: kvHeads, headDimension: dim, scale: 0.125,
                                    softCap: nil, window: c.window)
        let pool = ComputePool(threads: 2)
        // Every position: before, at and far past the point where reading starts late. (A start
        // off the 16-position lanes changes the softmax's fp32 block sums, which its fp16
        // rounding hides most of the time: it takes many rows to see.)
        let rowPositions = Array(0..<positions)
        #expect(rowPositions.contains { Attention.firstRead(position: $0, window: c.window, blockSize: c.blockSize) > 0 })
        for batched in [false, true] {
            let rows = rowPositions.map { AttentionRow(sequence: 0, position: $0, batchedOrder: batched) }
            var queries = random(rows.count * heads * dim, scale: 1)
            var output = [Float](repeating: 0, count: rows.count * heads * dim)
            let expected = reference(queries, rows: rows, heads: heads, kvHeads: kvHeads, dim: dim, keys: keys, values: values,
                                     window: c.window, scale: shape.scale)
            queries.withUnsafeMutableBufferPointer { q in
                output.withUnsafeMutableBufferPointer { out in
                    Attention.run(shape, queries: q.baseAddress!, rows: rows, tableStarts: starts, pointers: pointers,
                                  blockSize: c.blockSize, output: out.baseAddress!, pool: pool)
                }
            }
            for (i, row) in rows.enumerated() {
                let range = i * heads * dim..<(i + 1) * heads * dim
                let differing = zip(output[range], expected[range]).filter { $0.bitPattern != $1.bitPattern }.count
                #expect(differing == 0, "row at \(row.position), batched \(batched): \(differing) of \(range.count) floats differ")
            }
        }
    }

    /// Every visible position attended, the hidden ones masked, one head at a time.
    private func reference(_ queries: [Float], rows: [AttentionRow], heads: Int, kvHeads: Int, dim: Int,
                           keys: PagedRows, values: PagedRows, window: Int, scale: Float) -> [Float] {
        var out = [Float](repeating: 0, count: queries.count)
        var scratch = [Float](repeating: 0, count: AttentionKernels.mixScratchCount(dimension: dim))
        for (i, row) in rows.enumerated() {
            let visible = row.position + 1
            for h in 0..<heads {
                let kvHead = h / (heads / kvHeads)
                let headKeys = PagedRows(blocks: keys.blocks, blockSize: keys.blockSize, stride: keys.stride, offset: kvHead * dim)
                let headValues = PagedRows(blocks: values.blocks, blockSize: values.blockSize, stride: values.stride,
                                           offset: kvHead * dim)
                var q = [Float](repeating: 0, count: dim)
                var scores = [Float](repeating: 0, count: visible)
                let base = (i * heads + h) * dim
                queries.withUnsafeBufferPointer { Operations.roundToHalf($0.baseAddress! + base, count: dim, into: &q) }
                AttentionKernels.scores(query: q, keys: headKeys, count: visible, dimension: dim, batched: row.batchedOrder,
                                        into: &scores)
                for p in 0..<max(0, visible - window) { scores[p] = -.infinity }
                AttentionKernels.softmax(&scores, count: visible, scale: scale)
                out.withUnsafeMutableBufferPointer { o in
                    AttentionKernels.mix(weights: scores, values: headValues, count: visible, dimension: dim,
                                         batched: row.batchedOrder, scratch: &scratch, into: o.baseAddress! + base)
                }
            }
        }
        return out
    }
}
