import NimbusKernels
import Testing

/// Reading keys and values through a block table (the paged KV cache) gives exactly the bits of
/// reading them contiguously, for every block size, head offset and kernel path.
@Suite struct PagedAttentionTests {
    @Test func pagedEqualsContiguous() {
        var rng = SplitMix64(seed: 7)
        let dim = 64, heads = 3, stride = heads * dim
        for blockSize in [1, 3, 16] {
            for count in [1, 2, 16, 17, 70, 131] {
                let rows = AttentionKernelTests.half(rng.activations(count * stride, scale: 3))
                let q = AttentionKernelTests.half(rng.activations(dim))
                // Scatter the rows into blocks in reverse order, with gaps between them.
                let blockCount = (count + blockSize - 1) / blockSize
                var storage = [Float](repeating: .nan, count: (blockCount * 2 + 1) * blockSize * stride)
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
                                let blocks: [UnsafePointer<Float>?] = starts.map { base + $0 }
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
}
