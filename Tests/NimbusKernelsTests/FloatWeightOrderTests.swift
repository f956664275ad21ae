import NimbusKernels
import Testing
import NimbusTestSupport

/// Float weights (F32, F16, BF16) in the blocked order: fp32 activations (ggml's order rounds
/// them to the weight's type), the AVX-512 kernel gives its scalar twin's bits, each column is
/// independent of its neighbours, and the result is a float-rounding away from the exact sum.
@Suite struct FloatWeightOrderTests {
    static let types: [QuantType] = [.f32, .f16, .bf16]
    /// Odd row counts (partial 4-row tiles), lengths below, at and past the 16-lane chunk, and
    /// batches that leave partial 4-column tiles.
    static let shapes: [(rows: Int, cols: Int, batch: Int)] = [
        (1, 1, 1), (4, 15, 1), (5, 16, 3), (13, 17, 4), (37, 70, 9), (8, 576, 5), (3, 1536, 2),
    ]

    @Test func blockedOrderKeepsActivationsInFloat() throws {
        let blocked = try MatMul(pool: sharedPool, path: .scalar, order: .blocked)
        let ggml = try MatMul(pool: sharedPool, path: .scalar, order: .ggml)
        for type in Self.types { #expect(blocked.activationType(for: type) == .f32, "\(type)") }
        #expect(ggml.activationType(for: .f16) == .f16)
        #expect(ggml.activationType(for: .bf16) == .bf16)
        #expect(blocked.activationType(for: .q4_0) == .q8_0)
    }

    @Test(.enabled(if: KernelPath.avx512vnni.isSupported), arguments: types)
    func avx512MatchesScalarTwin(type: QuantType) throws {
        var rng = SplitMix64(seed: 0xF10A7 &+ UInt64(type.rawValue))
        for s in Self.shapes {
            let w = rng.weights(type, rows: s.rows, cols: s.cols)
            let x = rng.activations(s.cols * s.batch)
            let twin = try runMatMul(type, weights: w, rows: s.rows, cols: s.cols, input: x, batch: s.batch,
                                     path: .scalar, pool: sharedPool, order: .blocked)
            let simd = try runMatMul(type, weights: w, rows: s.rows, cols: s.cols, input: x, batch: s.batch,
                                     path: .avx512vnni, pool: sharedPool, order: .blocked)
            #expect(!twin.contains { $0.isNaN })
            #expect(simd.map(\.bitPattern) == twin.map(\.bitPattern), "\(type) \(s)")
            // Each column alone gives the bits it gets inside the batch.
            for b in 0..<s.batch {
                let alone = try runMatMul(type, weights: w, rows: s.rows, cols: s.cols, input: Array(x[b * s.cols..<(b + 1) * s.cols]),
                                          batch: 1, path: .avx512vnni, pool: sharedPool, order: .blocked)
                #expect(alone.map(\.bitPattern) == simd[b * s.rows..<(b + 1) * s.rows].map(\.bitPattern), "\(type) \(s) column \(b)")
            }
        }
    }

    /// Against a double-precision sum of the widened weights times the fp32 activations: the
    /// blocked order is within fp32 rounding, while ggml's order (activations rounded to the
    /// weight's type) is off by the activations' own rounding, which for BF16 is far larger.
    @Test(arguments: types)
    func blockedOrderIsCloseToTheExactSum(type: QuantType) throws {
        var rng = SplitMix64(seed: 0xE4AC7 &+ UInt64(type.rawValue))
        let rows = 24, cols = 640
        let w = rng.weights(type, rows: rows, cols: cols)
        let x = rng.activations(cols)
        let blocked = try runMatMul(type, weights: w, rows: rows, cols: cols, input: x, batch: 1, path: .scalar,
                                    pool: sharedPool, order: .blocked)
        let ggml = try runMatMul(type, weights: w, rows: rows, cols: cols, input: x, batch: 1, path: .scalar,
                                 pool: sharedPool, order: .ggml)
        var widened = [Float](repeating: 0, count: rows * cols)
        try w.withUnsafeBytes { bytes in
            for r in 0..<rows {
                try widened.withUnsafeMutableBufferPointer { out in
                    try Dequantize.row(bytes.baseAddress.unsafelyUnwrapped + r * cols * type.blockBytes, type: type, count: cols,
                                       into: out.baseAddress.unsafelyUnwrapped + r * cols)
                }
            }
        }
        var worstBlocked = 0.0, worstGGML = 0.0
        for r in 0..<rows {
            var exact = 0.0, magnitude = 0.0
            for k in 0..<cols {
                exact += Double(widened[r * cols + k]) * Double(x[k])
                magnitude += abs(Double(widened[r * cols + k]) * Double(x[k]))
            }
            worstBlocked = max(worstBlocked, abs(Double(blocked[r]) - exact) / magnitude)
            worstGGML = max(worstGGML, abs(Double(ggml[r]) - exact) / magnitude)
        }
        #expect(worstBlocked < 1e-6, "\(type): blocked order relative error \(worstBlocked)")
        if type == .bf16 { #expect(worstGGML > 10 * worstBlocked, "bf16: ggml's order \(worstGGML), blocked \(worstBlocked)") }
    }
}
