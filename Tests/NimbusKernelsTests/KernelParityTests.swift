import Testing
import NimbusKernels
import CNimbusKernels
import NimbusTestSupport

/// Every SIMD path against its scalar twin on random data and awkward shapes. The quantized
/// kernels reproduce the twin's operation order exactly (integer lane sums are exact, fp16
/// scale products are exact in fp32, the fma chain and final reduction are the same), so the
/// bound is zero ulp; the fp16 dot too.
@Suite struct KernelParityTests {
    static let simdPaths = KernelPath.supported.filter { $0 != .scalar }
    static let shapes: [(rows: Int, cols: Int, batch: Int)] = [
        (1, 32, 1), (4, 64, 1), (5, 96, 2), (7, 128, 3), (13, 576, 1), (9, 160, 8), (11, 64, 9),
        (6, 192, 17), (67, 96, 3), (3, 1536, 33), (16, 32, 64),
    ]

    @Test(arguments: [QuantType.q4_0, .q4_1, .q8_0, .f16, .bf16, .f32])
    func simdMatchesScalar(type: QuantType) throws {
        var rng = SplitMix64(seed: UInt64(type.rawValue) &+ 17)
        for s in Self.shapes {
            let cols = type.blockSize == 1 ? s.cols + 3 : s.cols  // float types: odd lengths too
            let w = rng.weights(type, rows: s.rows, cols: cols)
            let x = rng.activations(cols * s.batch)
            let reference = try runMatMul(type, weights: w, rows: s.rows, cols: cols, input: x, batch: s.batch,
                                          path: .scalar, pool: sharedPool)
            #expect(!reference.contains { $0.isNaN })
            for path in Self.simdPaths {
                let y = try runMatMul(type, weights: w, rows: s.rows, cols: cols, input: x, batch: s.batch,
                                      path: path, pool: sharedPool)
                #expect(y.map(\.bitPattern) == reference.map(\.bitPattern), "\(type) \(s) on \(path)")
            }
        }
    }

    @Test func scalarQuantizedDotIsCloseToFloatDot() throws {
        // Sanity of the oracle itself: against a double-precision dot of the dequantized
        // values with the dequantized activations, the error is only float rounding.
        var rng = SplitMix64(seed: 99)
        for type in [QuantType.q4_0, .q4_1, .q8_0] {
            let cols = 256
            let w = rng.weights(type, rows: 1, cols: cols)
            let x = rng.activations(cols)
            let y = try runMatMul(type, weights: w, rows: 1, cols: cols, input: x, batch: 1, path: .scalar, pool: sharedPool)
            var wf = [Float](repeating: 0, count: cols), af = [Float](repeating: 0, count: cols)
            var qa = [UInt8](repeating: 0, count: cols / 32 * type.vecDotType.blockBytes)
            try w.withUnsafeBytes { try Dequantize.row($0.baseAddress!, type: type, count: cols, into: &wf) }
            try x.withUnsafeBufferPointer { xp in
                try qa.withUnsafeMutableBytes { q in
                    if type.vecDotType == .q8_0 {
                        try ActivationQuantizer.quantizeQ8_0(xp.baseAddress!, count: cols, into: q.baseAddress!)
                    } else {
                        try ActivationQuantizer.quantizeQ8_1(xp.baseAddress!, count: cols, into: q.baseAddress!)
                    }
                }
            }
            try qa.withUnsafeBytes { try Dequantize.row($0.baseAddress!, type: type.vecDotType, count: cols, into: &af) }
            let exact = zip(wf, af).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
            let mag = zip(wf, af).reduce(0.0) { $0 + abs(Double($1.0) * Double($1.1)) }
            // Q4_1 uses s = fp16(d * sum q) instead of the exact sum: allow fp16 rounding of s.
            #expect(abs(Double(y[0]) - exact) <= 1e-5 * mag + (type == .q4_1 ? 2e-3 * mag : 0), "\(type)")
        }
    }

    @Test func f16HelpersMatchScalar() {
        var rng = SplitMix64(seed: 5)
        for n in [1, 7, 63, 64, 65, 128, 200, 576] {
            let x = (0..<n).map { _ in Float16(rng.normal()).bitPattern }
            let y = (0..<n).map { _ in Float16(rng.normal()).bitPattern }
            let reference = ScalarDot.f16(x, y, count: n)
            for path in Self.simdPaths {
                #expect(F16Ops.dot(x, y, count: n, path: path).bitPattern == reference.bitPattern, "dot n=\(n) \(path)")
            }
            var a = y, b = y
            F16Ops.axpy(&a, x, 0.37, count: n, path: .scalar)
            if Self.simdPaths.contains(.avx2) {
                F16Ops.axpy(&b, x, 0.37, count: n, path: .avx2)
                #expect(a == b, "axpy n=\(n)")
            }
        }
    }

    /// The SIMD activation quantizer equals its scalar twin bit for bit: quants, d and the sum,
    /// on normal data, exact rounding ties, all-zero blocks, tiny and huge values, inf and NaN.
    @Test(.enabled(if: simdPaths.contains(.avx2), "needs an AVX2 CPU"))
    func activationBlockQuantizerMatchesScalar() {
        var rng = SplitMix64(seed: 11)
        var blocks: [[Float]] = (0..<400).map { i in (0..<32).map { _ in rng.normal() * Float(1 << (i % 12)) / 64 } }
        // amax 127 makes id exactly 1, so x.5 values are rounding ties (to even).
        blocks.append((0..<32).map { $0 == 0 ? 127 : Float($0) - 15.5 })
        blocks.append([Float](repeating: 0, count: 32))
        blocks.append((0..<32).map { _ in Float.leastNonzeroMagnitude * Float(Int.random(in: -3...3, using: &rng)) })
        blocks.append((0..<32).map { $0 == 7 ? .infinity : Float($0) })
        blocks.append((0..<32).map { $0 == 3 ? .nan : Float($0) - 16 })
        blocks.append((0..<32).map { _ in Float.greatestFiniteMagnitude * rng.normal() / 4 })
        for (n, x) in blocks.enumerated() {
            var qs = [Int8](repeating: 0, count: 32), qv = [Int8](repeating: 0, count: 32)
            let scalar = ActivationQuantizer.block(x, &qs, path: .scalar)
            let simd = ActivationQuantizer.block(x, &qv, path: .avx2)
            #expect(qs == qv, "quants of block \(n)")
            #expect(scalar.d.bitPattern == simd.d.bitPattern && scalar.sum == simd.sum, "d and sum of block \(n)")
        }
    }

    /// The C Q8_K quantizer equals its scalar twin bit for bit (d, quants and the 16 sums of a
    /// record): normal data at many scales, exact rounding ties, the largest magnitude repeated
    /// with either sign first (the first one sets the sign of d), zeros, subnormals, inf, NaN
    /// and values near the float limit.
    @Test(.enabled(if: simdPaths.contains(.avx2), "needs an AVX2 CPU"))
    func q8KQuantizerMatchesScalar() throws {
        var rng = SplitMix64(seed: 23)
        var blocks: [[Float]] = (0..<300).map { i in (0..<256).map { _ in rng.normal() * Float(1 << (i % 16)) / 256 } }
        // max -127 makes iscale exactly 1, so x.5 values are rounding ties (to even).
        blocks.append((0..<256).map { $0 == 5 ? -127 : (Float($0 % 200) - 100) + 0.5 })
        blocks.append((0..<256).map { $0 == 40 ? 3 : $0 == 200 ? -3 : Float($0 % 3) - 1 })
        blocks.append((0..<256).map { $0 == 40 ? -3 : $0 == 200 ? 3 : Float($0 % 3) - 1 })
        blocks.append([Float](repeating: 0, count: 256))
        blocks.append((0..<256).map { $0 % 2 == 0 ? -0.0 : 0 })
        blocks.append((0..<256).map { _ in Float.leastNonzeroMagnitude * Float(rng.next(below: 7) - 3) })
        blocks.append((0..<256).map { $0 == 77 ? .infinity : Float($0) })
        blocks.append((0..<256).map { $0 == 9 ? -.infinity : $0 == 10 ? .infinity : Float($0) })
        blocks.append((0..<256).map { $0 == 3 ? .nan : Float($0) - 128 })
        // The largest magnitude and a NaN in the same SIMD lane, the NaN in the last chunk.
        blocks.append((0..<256).map { $0 == 0 ? -200 : $0 == 248 ? .nan : Float($0 % 50) })
        blocks.append([Float](repeating: .nan, count: 256))
        blocks.append((0..<256).map { _ in Float.greatestFiniteMagnitude * rng.normal() / 4 })
        let x = blocks.flatMap { $0 }
        var scalar = [UInt8](repeating: 0xAA, count: blocks.count * 292)
        try x.withUnsafeBufferPointer { xp in
            let base = try #require(xp.baseAddress)
            try scalar.withUnsafeMutableBytes { try ActivationQuantizer.quantizeQ8_K(base, count: x.count, into: #require($0.baseAddress), path: .scalar) }
        }
        for path in Self.simdPaths {
            // Another fill than the scalar buffer's, so that a byte the kernel skips shows.
            var simd = [UInt8](repeating: 0x55, count: scalar.count)
            try x.withUnsafeBufferPointer { xp in
                let base = try #require(xp.baseAddress)
                try simd.withUnsafeMutableBytes { try ActivationQuantizer.quantizeQ8_K(base, count: x.count, into: #require($0.baseAddress), path: path) }
            }
            for n in blocks.indices {
                #expect(scalar[292 * n..<292 * (n + 1)] == simd[292 * n..<292 * (n + 1)], "record \(n) on \(path)")
            }
        }
    }

    /// The C record packer (quantize 8 columns, round d and s through fp16, integer sums, zero
    /// padding) against its Swift twin, for every column count of a group.
    @Test(.enabled(if: simdPaths.contains(.avx2), "needs an AVX2 CPU"))
    func activationRecordPackerMatchesScalar() {
        var rng = SplitMix64(seed: 5)
        let stride = 40
        let x = (0..<8 * stride).map { i in rng.normal() * Float(1 << (i % 9)) / 16 }
        for columns in 1...8 {
            var a = [UInt8](repeating: 0xAB, count: Int(NK_ACT_RECORD)), b = a
            x.withUnsafeBufferPointer { xp in
                a.withUnsafeMutableBytes { ActivationQuantizer.packRecord(xp.baseAddress! + 3, stride: stride, columns: columns, into: $0.baseAddress!, path: .scalar) }
                b.withUnsafeMutableBytes { ActivationQuantizer.packRecord(xp.baseAddress! + 3, stride: stride, columns: columns, into: $0.baseAddress!, path: .avx2) }
            }
            #expect(a[0..<352] == b[0..<352], "\(columns) columns")
        }
    }

    @Test func activationBufferIsReusableAcrossShapes() throws {
        // A buffer reused for a smaller batch must not leak old columns into padding lanes.
        var rng = SplitMix64(seed: 11)
        let cols = 64, rows = 8
        let w = rng.weights(.q4_1, rows: rows, cols: cols)
        for path in KernelPath.supported {
            let big = rng.activations(cols * 9), small = Array(big[0..<cols * 3])
            _ = try runMatMul(.q4_1, weights: w, rows: rows, cols: cols, input: big, batch: 9, path: path, pool: sharedPool)
            let a = try runMatMul(.q4_1, weights: w, rows: rows, cols: cols, input: small, batch: 3, path: path, pool: sharedPool)
            let b = try runMatMul(.q4_1, weights: w, rows: rows, cols: cols, input: small, batch: 3, path: .scalar, pool: sharedPool)
            #expect(a.map(\.bitPattern) == b.map(\.bitPattern))
        }
    }

    @Test func rejectsBadShapes() throws {
        let bytes = [UInt8](repeating: 0, count: 64)
        bytes.withUnsafeBytes { b in
            #expect(throws: KernelError.self) { try WeightMatrix(rows: 1, columns: 33, type: .q4_0, base: b.baseAddress!) }
            #expect(throws: KernelError.self) { try WeightMatrix(rows: 1, columns: 32, type: .q4_0, base: b.baseAddress!, rowStride: 10) }
        }
        #expect(QuantType(ggmlID: 16) == nil)  // IQ2_XXS: no kernels
        #expect(QuantType(ggmlID: 3) == .q4_1)
    }
}
