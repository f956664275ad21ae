import Testing
import NimbusKernels
import NimbusTestSupport

/// The blocked summation order: the AVX-512 VNNI kernels on interleaved weights against their
/// scalar twin (`ScalarDot.blocked`, which reads plain ggml rows, so the interleaving is checked
/// too), bit for bit; a column's result independent of the other columns; and the order's
/// distance from ggml's (the same real number, rounded differently).
@Suite struct BlockedOrderTests {
    static let shapes: [(rows: Int, cols: Int, batch: Int)] = [
        (16, 32, 1), (32, 64, 1), (16, 96, 2), (48, 576, 3), (16, 160, 8), (32, 64, 9), (64, 1536, 17), (16, 32, 64),
    ]

    /// y for `batch` input rows, with `matrix` interleaved for the blocked order.
    static func run(_ type: QuantType, weights: [UInt8], rows: Int, cols: Int, input: [Float], batch: Int,
                    path: KernelPath, order: SummationOrder) throws -> [Float] {
        var y = [Float](repeating: .nan, count: rows * batch)
        try weights.withUnsafeBytes { wb in
            guard let base = wb.baseAddress else { return }
            let plain = try WeightMatrix(rows: rows, columns: cols, type: type, base: base)
            let owned = try #require(plain.interleavedForBlockedOrder(keeping: nil))
            let mm = try MatMul(pool: sharedPool, path: path, order: order)
            try input.withUnsafeBufferPointer { x in
                try y.withUnsafeMutableBufferPointer { out in
                    guard let xp = x.baseAddress, let op = out.baseAddress else { return }
                    try mm.multiply(owned.matrix, input: xp, inputStride: cols, batch: batch, output: op, outputStride: rows)
                }
            }
        }
        return y
    }

    // Skipped (reported, not passed) on a CPU without AVX-512 VNNI: nothing to compare there.
    @Test(.enabled(if: KernelPath.avx512vnni.isSupported, "needs AVX-512 VNNI"), arguments: [QuantType.q4_0, .q4_1, .q8_0])
    func vnniMatchesScalarTwin(type: QuantType) throws {
        try #require(SummationOrder.blocked.isAvailable(on: .avx512vnni))
        var rng = SplitMix64(seed: UInt64(type.rawValue) &+ 41)
        for s in Self.shapes {
            let w = rng.weights(type, rows: s.rows, cols: s.cols)
            let x = rng.activations(s.cols * s.batch)
            let reference = try Self.run(type, weights: w, rows: s.rows, cols: s.cols, input: x, batch: s.batch,
                                         path: .scalar, order: .blocked)
            #expect(!reference.contains { $0.isNaN })
            let y = try Self.run(type, weights: w, rows: s.rows, cols: s.cols, input: x, batch: s.batch,
                                 path: .avx512vnni, order: .blocked)
            #expect(y.map(\.bitPattern) == reference.map(\.bitPattern), "\(type) \(s)")
        }
    }

    /// Column b of a batch of 17 equals the same input run alone (tile position, neighbours and
    /// the single-column path must not matter), on every path with blocked kernels.
    @Test(arguments: [QuantType.q4_0, .q4_1, .q8_0])
    func aColumnIgnoresItsNeighbours(type: QuantType) throws {
        var rng = SplitMix64(seed: UInt64(type.rawValue) &+ 7)
        let rows = 48, cols = 576, batch = 17
        let w = rng.weights(type, rows: rows, cols: cols)
        let x = rng.activations(cols * batch)
        for path in KernelPath.supported where SummationOrder.blocked.isAvailable(on: path) {
            let all = try Self.run(type, weights: w, rows: rows, cols: cols, input: x, batch: batch, path: path, order: .blocked)
            for b in [0, 7, 8, 16] {
                let alone = try Self.run(type, weights: w, rows: rows, cols: cols, input: Array(x[b * cols..<(b + 1) * cols]),
                                         batch: 1, path: path, order: .blocked)
                #expect(Array(all[b * rows..<(b + 1) * rows]).map(\.bitPattern) == alone.map(\.bitPattern), "\(type) column \(b) on \(path)")
            }
        }
    }

    /// Both orders sum the same exact block products; only the float rounding differs, so the
    /// results agree to a few ulp of the sum of the magnitudes of the block terms.
    @Test(arguments: [QuantType.q4_0, .q4_1, .q8_0])
    func blockedIsCloseToGGMLOrder(type: QuantType) throws {
        var rng = SplitMix64(seed: UInt64(type.rawValue) &+ 3)
        let rows = 64, cols = 1536, batch = 5
        let w = rng.weights(type, rows: rows, cols: cols)
        let x = rng.activations(cols * batch)
        let blocked = try Self.run(type, weights: w, rows: rows, cols: cols, input: x, batch: batch, path: .scalar, order: .blocked)
        let ggml = try runMatMul(type, weights: w, rows: rows, cols: cols, input: x, batch: batch, path: .scalar, pool: sharedPool)
        var differing = 0
        for i in blocked.indices {
            let scale = max(1, abs(ggml[i]))
            #expect(abs(blocked[i] - ggml[i]) <= 1e-4 * scale, "\(type) output \(i): \(blocked[i]) vs \(ggml[i])")
            if blocked[i] != ggml[i] { differing += 1 }
        }
        // The orders really are different computations (otherwise this test checks nothing).
        #expect(differing > 0)
    }

    @Test func orderChoice() {
        #expect(SummationOrder.choose(forced: nil, path: .avx512vnni) == .blocked)
        #expect(SummationOrder.choose(forced: nil, path: .avx2) == .ggml)
        #expect(SummationOrder.choose(forced: "GGML", path: .avx512vnni) == .ggml)
        #expect(SummationOrder.choose(forced: "blocked", path: .avx2) == .ggml)  // no kernels there
        #expect(SummationOrder.choose(forced: "blocked", path: .scalar) == .blocked)
        #expect(SummationOrder.choose(forced: "fast", path: .avx512vnni) == .blocked)  // unknown: default
    }

    @Test func onlyWholeRowGroupsOfSimpleQuantsAreInterleaved() throws {
        let bytes = [UInt8](repeating: 0, count: 17 * 34)
        try bytes.withUnsafeBytes { raw in
            let base = try #require(raw.baseAddress)
            #expect(try WeightMatrix(rows: 16, columns: 32, type: .q8_0, base: base).interleavedForBlockedOrder(keeping: nil) != nil)
            #expect(try WeightMatrix(rows: 17, columns: 32, type: .q8_0, base: base).interleavedForBlockedOrder(keeping: nil) == nil)
            #expect(try WeightMatrix(rows: 4, columns: 32, type: .f32, base: base).interleavedForBlockedOrder(keeping: nil) == nil)
        }
    }
}

/// Q5_0 in the blocked order runs as the Q8_0 rows holding the same values.
@Suite struct Q5WideningTests {
    @Test func widenedRowsHoldTheSameValuesAndRunTheQ8Kernels() throws {
        var rng = SplitMix64(seed: 5)
        let rows = 32, cols = 256
        let w = rng.weights(.q5_0, rows: rows, cols: cols)
        try w.withUnsafeBytes { wb in
            let base = try #require(wb.baseAddress)
            let q5 = try WeightMatrix(rows: rows, columns: cols, type: .q5_0, base: base)
            let owned = try #require(q5.interleavedForBlockedOrder(keeping: nil))
            #expect(owned.matrix.type == .q8_0 && owned.matrix.interleaved != nil)
            var a = [Float](repeating: 0, count: cols), b = a
            for r in 0..<rows {
                try a.withUnsafeMutableBufferPointer { try Dequantize.row(r, of: q5, into: $0.baseAddress!) }
                try b.withUnsafeMutableBufferPointer { try Dequantize.row(r, of: owned.matrix, into: $0.baseAddress!) }
                #expect(a.map(\.bitPattern) == b.map(\.bitPattern), "row \(r)")
            }
            // A matrix whose rows do not fill 16-row groups keeps ggml's order (and its type).
            #expect(try WeightMatrix(rows: 24, columns: cols, type: .q5_0, base: base).interleavedForBlockedOrder(keeping: nil) == nil)
        }
    }
}
