import Testing
import NimbusKernels
import NimbusTestSupport

/// The blocked summation order for Q4_K, Q5_K and Q6_K: the AVX-512 VNNI kernel on interleaved weights
/// against its scalar twin (`ScalarDot.blockedK`, which reads plain ggml rows, so the
/// interleaving is checked too), bit for bit; a column's result independent of the other
/// columns and of the thread split; and the order's distance from ggml's.
@Suite struct BlockedKQuantTests {
    static let types: [QuantType] = [.q4_K, .q5_K, .q6_K]
    static let shapes: [(rows: Int, cols: Int)] = [(16, 256), (32, 512), (48, 1536), (64, 768)]
    static let batches = [1, 2, 7, 16, 33]

    /// y for `batch` input rows, the matrix interleaved for the blocked order (padded rows when
    /// `pad` > 0).
    static func run(_ type: QuantType, weights: [UInt8], rows: Int, cols: Int, stride: Int, input: [Float], batch: Int,
                    path: KernelPath, order: SummationOrder, pool: ComputePool = sharedPool) throws -> [Float] {
        var y = [Float](repeating: .nan, count: rows * batch)
        try weights.withUnsafeBytes { wb in
            guard let base = wb.baseAddress else { return }
            let plain = try WeightMatrix(rows: rows, columns: cols, type: type, base: base, rowStride: stride)
            let owned = try #require(plain.interleavedForBlockedOrder(keeping: nil))
            let mm = try MatMul(pool: pool, path: path, order: order)
            try input.withUnsafeBufferPointer { x in
                try y.withUnsafeMutableBufferPointer { out in
                    guard let xp = x.baseAddress, let op = out.baseAddress else { return }
                    try mm.multiply(owned.matrix, input: xp, inputStride: cols, batch: batch, output: op, outputStride: rows)
                }
            }
        }
        return y
    }

    /// The first output whose bits differ, with both values (nil when all are identical).
    static func firstDifference(_ y: [Float], _ reference: [Float]) -> String? {
        guard y.count == reference.count else { return "\(y.count) outputs vs \(reference.count)" }
        guard let i = y.indices.first(where: { y[$0].bitPattern != reference[$0].bitPattern }) else { return nil }
        return "output \(i): \(y[i]) vs \(reference[i])"
    }

    static func inputs(_ rng: inout SplitMix64, cols: Int, batch: Int) -> [Float] {
        var x = rng.activations(cols * batch)
        if batch > 2 { for j in 0..<256 { x[cols + j] = 0 } }  // an all-zero activation block
        return x
    }

    // Skipped (reported, not passed) on a CPU without AVX-512 VNNI: nothing to compare there.
    @Test(.enabled(if: KernelPath.avx512vnni.isSupported, "needs AVX-512 VNNI"), arguments: types)
    func vnniMatchesScalarTwin(type: QuantType) throws {
        var rng = SplitMix64(seed: UInt64(type.rawValue) &+ 101)
        for (i, s) in Self.shapes.enumerated() {
            let stride = s.cols / 256 * type.blockBytes + (i % 2 == 1 ? 6 : 0)
            let w = KQuantParityTests.weights(type, rows: s.rows, cols: s.cols, stride: stride, rng: &rng)
            for batch in Self.batches {
                let x = Self.inputs(&rng, cols: s.cols, batch: batch)
                let reference = try Self.run(type, weights: w, rows: s.rows, cols: s.cols, stride: stride, input: x,
                                             batch: batch, path: .scalar, order: .blocked)
                #expect(!reference.contains { $0.isNaN })
                let y = try Self.run(type, weights: w, rows: s.rows, cols: s.cols, stride: stride, input: x,
                                     batch: batch, path: .avx512vnni, order: .blocked)
                #expect(Self.firstDifference(y, reference) == nil, "\(type) \(s) batch \(batch)")
            }
        }
    }

    /// Column b of a batch of 33 equals the same input run alone, and the whole batch is the same
    /// with 1, 2 or 3 threads, on every path with blocked kernels.
    @Test(arguments: types)
    func aColumnIgnoresItsNeighboursAndTheThreadSplit(type: QuantType) throws {
        var rng = SplitMix64(seed: UInt64(type.rawValue) &+ 17)
        let rows = 80, cols = 768, batch = 33, stride = cols / 256 * type.blockBytes
        let w = KQuantParityTests.weights(type, rows: rows, cols: cols, stride: stride, rng: &rng)
        let x = Self.inputs(&rng, cols: cols, batch: batch)
        let pools = [ComputePool(threads: 1), ComputePool(threads: 3)]
        for path in KernelPath.supported where SummationOrder.blocked.isAvailable(on: path) {
            let all = try Self.run(type, weights: w, rows: rows, cols: cols, stride: stride, input: x, batch: batch,
                                   path: path, order: .blocked)
            for b in [0, 1, 7, 8, 16, 32] {
                let alone = try Self.run(type, weights: w, rows: rows, cols: cols, stride: stride,
                                         input: Array(x[b * cols..<(b + 1) * cols]), batch: 1, path: path, order: .blocked)
                #expect(Self.firstDifference(Array(all[b * rows..<(b + 1) * rows]), alone) == nil, "\(type) column \(b) on \(path)")
            }
            for pool in pools {
                let split = try Self.run(type, weights: w, rows: rows, cols: cols, stride: stride, input: x, batch: batch,
                                         path: path, order: .blocked, pool: pool)
                #expect(Self.firstDifference(split, all) == nil, "\(type) \(pool.threadCount) threads on \(path)")
            }
        }
    }

    /// Both orders sum the same exact integer products; only the float rounding differs.
    @Test(arguments: types)
    func blockedIsCloseToGGMLOrder(type: QuantType) throws {
        var rng = SplitMix64(seed: UInt64(type.rawValue) &+ 5)
        let rows = 64, cols = 1536, batch = 5, stride = cols / 256 * type.blockBytes
        let w = KQuantParityTests.weights(type, rows: rows, cols: cols, stride: stride, rng: &rng)
        let x = rng.activations(cols * batch)
        let blocked = try Self.run(type, weights: w, rows: rows, cols: cols, stride: stride, input: x, batch: batch,
                                   path: .scalar, order: .blocked)
        let ggml = try runMatMul(type, weights: w, rows: rows, cols: cols, input: x, batch: batch, path: .scalar, pool: sharedPool)
        var differing = 0
        for i in blocked.indices {
            let scale = max(1, abs(ggml[i]))
            #expect(abs(blocked[i] - ggml[i]) <= 1e-4 * scale, "\(type) output \(i): \(blocked[i]) vs \(ggml[i])")
            if blocked[i] != ggml[i] { differing += 1 }
        }
        #expect(differing > 0)  // the orders really are different computations
    }

    /// The engine's grouped call (Q/K/V, gate/up: one parallel region for several weights that
    /// share the activations) writes the bits of one call per weight, here a Q4_K, a Q5_K and a Q6_K.
    @Test(.enabled(if: KernelPath.avx512vnni.isSupported, "needs AVX-512 VNNI"))
    func groupedCallMatchesOneCallPerWeight() throws {
        var rng = SplitMix64(seed: 29)
        let cols = 512, batch = 9, rows = [48, 32, 64]
        let types: [QuantType] = [.q4_K, .q6_K, .q5_K]
        let bytes = zip(types, rows).map { t, r in
            KQuantParityTests.weights(t, rows: r, cols: cols, stride: cols / 256 * t.blockBytes, rng: &rng)
        }
        let x = Self.inputs(&rng, cols: cols, batch: batch)
        let mm = try MatMul(pool: sharedPool, path: .avx512vnni, order: .blocked)
        let acts = ActivationBuffer()
        try mm.quantize(x, inputStride: cols, batch: batch, columns: cols, for: .q4_K, into: acts)
        // Weights copied to memory the test owns, so the three views outlive no closure.
        let storage = bytes.map { b -> UnsafeMutableRawPointer in
            let p = UnsafeMutableRawPointer.allocate(byteCount: b.count, alignment: 64)
            b.withUnsafeBytes { p.copyMemory(from: $0.baseAddress!, byteCount: b.count) }
            return p
        }
        defer { storage.forEach { $0.deallocate() } }
        var owned: [OwnedWeightMatrix] = []
        for i in types.indices {
            let m = try WeightMatrix(rows: rows[i], columns: cols, type: types[i], base: storage[i])
            owned.append(try #require(m.interleavedForBlockedOrder(keeping: nil)))
        }
        let grouped = rows.map { UnsafeMutablePointer<Float>.allocate(capacity: $0 * batch) }
        defer { grouped.forEach { $0.deallocate() } }
        for (i, p) in grouped.enumerated() { p.initialize(repeating: .nan, count: rows[i] * batch) }
        try mm.multiply(types.indices.map { (owned[$0].matrix, grouped[$0]) }, acts)
        for i in types.indices {
            var single = [Float](repeating: .nan, count: rows[i] * batch)
            try single.withUnsafeMutableBufferPointer { out in
                guard let p = out.baseAddress else { return }
                try mm.multiply(owned[i].matrix, acts, output: p, outputStride: rows[i])
            }
            #expect(!single.contains { $0.isNaN })
            #expect(Self.firstDifference(Array(UnsafeBufferPointer(start: grouped[i], count: rows[i] * batch)), single) == nil, "\(types[i])")
        }
    }

    @Test func onlyWholeRowGroupsOfBlockedKQuantsAreInterleaved() throws {
        let bytes = [UInt8](repeating: 0, count: 17 * 210)
        try bytes.withUnsafeBytes { raw in
            let base = try #require(raw.baseAddress)
            #expect(try WeightMatrix(rows: 16, columns: 256, type: .q4_K, base: base).interleavedForBlockedOrder(keeping: nil) != nil)
            #expect(try WeightMatrix(rows: 16, columns: 256, type: .q5_K, base: base).interleavedForBlockedOrder(keeping: nil) != nil)
            #expect(try WeightMatrix(rows: 16, columns: 256, type: .q6_K, base: base).interleavedForBlockedOrder(keeping: nil) != nil)
            #expect(try WeightMatrix(rows: 17, columns: 256, type: .q6_K, base: base).interleavedForBlockedOrder(keeping: nil) == nil)
            #expect(try WeightMatrix(rows: 16, columns: 256, type: .q2_K, base: base).interleavedForBlockedOrder(keeping: nil) == nil)
        }
    }
}
