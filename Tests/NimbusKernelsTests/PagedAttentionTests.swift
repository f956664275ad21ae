import NimbusKernels
import Testing
import NimbusTestSupport

/// Reading keys and values through a block table (the paged KV cache) gives exactly the bits of
/// reading them contiguously, for every block size, head offset and kernel path.
@Suite struct PagedAttentionTests {
    @Test func pagedEqualsContiguous() {
        var rng = SplitMix64(seed: 7)
        let dim = 64, heads = 3, stride = heads * dim
        for blockSize in [1, 3, 16] {
            for count in [1, 2, 16, 17, 70, 131] {
                let rows = AttentionKernelTests.halfBits(rng.activations(count * stride, scale: 3))
                let q = AttentionKernelTests.half(rng.activations(dim))
                // Scatter the rows into blocks in reverse order, with gaps between them.
                let blockCount = (count + blockSize - 1) / blockSize
                var storage = [UInt16](repeating: Float16.nan.bitPattern, count: (blockCount * 2 + 1) * blockSize * stride)
                var starts: [Int] = []
                for b in 0..<blockCount {
                    let start = (2 * (blockCount - b) - 1) * blockSize * stride
                    starts.append(start)
                    for r in 0..<min(blockSize, count - b * blockSize) {
                        for i in 0..<stride { storage[start + r * stride + i] = rows[(b * blockSize + r) * stride + i] }
                    }
                }
                for head in 0..<heads {
                    for batched in [false, true] {
                        for path in KernelPath.supported + [.scalar] {
                            var expectedScores = [Float](repeating: 0, count: count), expectedOut = [Float](repeating: 0, count: dim)
                            var scores = expectedScores, out = expectedOut
                            var scratch = [Float](repeating: 0, count: AttentionKernels.mixScratchCount(dimension: dim))
                            rows.withUnsafeBufferPointer { r in
                                guard let base = r.baseAddress else { return }
                                AttentionKernels.scores(query: q, keys: base + head * dim, stride: stride, count: count,
                                                        dimension: dim, batched: batched, into: &expectedScores, path: path)
                                AttentionKernels.mix(weights: expectedScores, values: base + head * dim, stride: stride,
                                                     count: count, dimension: dim, batched: batched, scratch: &scratch,
                                                     into: &expectedOut, path: path)
                            }
                            storage.withUnsafeBufferPointer { s in
                                guard let base = s.baseAddress else { return }
                                let blocks: [UnsafePointer<UInt16>?] = starts.map { base + $0 }
                                blocks.withUnsafeBufferPointer { table in
                                    guard let t = table.baseAddress else { return }
                                    let paged = PagedRows(blocks: t, blockSize: blockSize, stride: stride, offset: head * dim)
                                    AttentionKernels.scores(query: q, keys: paged, count: count, dimension: dim,
                                                            batched: batched, into: &scores, path: path)
                                    AttentionKernels.mix(weights: scores, values: paged, count: count, dimension: dim,
                                                         batched: batched, scratch: &scratch, into: &out, path: path)
                                }
                            }
                            #expect(scores.map(\.bitPattern) == expectedScores.map(\.bitPattern), "scores bs\(blockSize) n\(count) \(path)")
                            #expect(out.map(\.bitPattern) == expectedOut.map(\.bitPattern), "mix bs\(blockSize) n\(count) \(path)")
                            #expect(!out.contains { $0.isNaN })
                        }
                    }
                }
            }
        }
    }
}

@Suite struct HalfRoundingTests {
    /// The F16C path rounds exactly like Swift's Float16 (nearest, ties to even), tails included.
    @Test func simdMatchesScalar() {
        var rng = SplitMix64(seed: 3)
        for n in [0, 1, 7, 8, 9, 64, 197] {
            var x = rng.activations(n, scale: 1000)
            if n > 3 { x[0] = 65520; x[1] = -1e-8; x[2] = .infinity; x[3] = 2049 }  // overflow, subnormal, inf, tie
            for path in KernelPath.supported {
                var y = [Float](repeating: .nan, count: n)
                HalfRounding.round(x, count: n, into: &y, path: path)
                #expect(y.map(\.bitPattern) == x.map { Float(Float16($0)).bitPattern }, "\(n) \(path)")
            }
        }
    }
    /// The grouped-query calls (several query heads over one KV head, each key and value row read
    /// once) give every head the bits of its own one-head call, on every path and group size.
    @Test func groupedHeadsEqualOneHeadCalls() {
        var rng = SplitMix64(seed: 11)
        for dim in [64, 128, 80, 48, 256] {
            for count in [1, 15, 16, 17, 70, 131] {
                let stride = 2 * dim
                let rows = AttentionKernelTests.halfBits(rng.activations(count * stride, scale: 3))
                for heads in [1, 2, 3, 4, 5] {
                    let queries = AttentionKernelTests.half(rng.activations(heads * dim))
                    let weights = AttentionKernelTests.half(rng.activations(heads * count, scale: 0.1))
                    for batched in [false, true] {
                        for path in KernelPath.supported {
                            var grouped = [Float](repeating: .nan, count: heads * count)
                            var groupedOut = [Float](repeating: .nan, count: heads * dim)
                            var scratch = [Float](repeating: .nan, count: AttentionKernels.mixScratchCount(dimension: dim, heads: heads))
                            var expected = grouped, expectedOut = groupedOut
                            rows.withUnsafeBufferPointer { r in
                                guard let base = r.baseAddress else { return }
                                var block: UnsafePointer<UInt16>? = base + dim
                                withUnsafePointer(to: &block) { table in
                                    let paged = PagedRows(blocks: table, blockSize: count, stride: stride, offset: 0)
                                    AttentionKernels.scores(queries: queries, heads: heads, keys: paged, count: count, dimension: dim,
                                                            batched: batched, into: &grouped, scoresStride: count, path: path)
                                    AttentionKernels.mix(weights: weights, weightsStride: count, heads: heads, values: paged,
                                                         count: count, dimension: dim, batched: batched, scratch: &scratch,
                                                         into: &groupedOut, path: path)
                                    for h in 0..<heads {
                                        var one = [Float](repeating: .nan, count: count), oneOut = [Float](repeating: .nan, count: dim)
                                        AttentionKernels.scores(query: Array(queries[h * dim..<(h + 1) * dim]), keys: paged, count: count,
                                                                dimension: dim, batched: batched, into: &one, path: .scalar)
                                        AttentionKernels.mix(weights: Array(weights[h * count..<(h + 1) * count]), values: paged,
                                                             count: count, dimension: dim, batched: batched, scratch: &scratch,
                                                             into: &oneOut, path: .scalar)
                                        expected.replaceSubrange(h * count..<(h + 1) * count, with: one)
                                        expectedOut.replaceSubrange(h * dim..<(h + 1) * dim, with: oneOut)
                                    }
                                }
                            }
                            #expect(grouped.map(\.bitPattern) == expected.map(\.bitPattern), "scores d\(dim) n\(count) h\(heads) \(batched) \(path)")
                            #expect(groupedOut.map(\.bitPattern) == expectedOut.map(\.bitPattern), "mix d\(dim) n\(count) h\(heads) \(batched) \(path)")
                        }
                    }
                }
            }
        }
    }
}
