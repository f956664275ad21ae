import NimbusKernels
import Testing
import NimbusTestSupport

/// The Q5_0/Q5_1 and K-quant SIMD kernels against their scalar twins on random blocks (every
/// bit pattern of quants and scales), odd row counts, batches 1...17 and weights at odd
/// addresses with padded row strides. Integer paths: the bound is zero ulp.
@Suite struct KQuantParityTests {
    static let types: [QuantType] = [.q5_0, .q5_1, .q2_K, .q3_K, .q4_K, .q5_K, .q6_K]

    /// Random bytes with fp16 scales of sane magnitude at the type's scale offsets.
    static func weights(_ type: QuantType, rows: Int, cols: Int, stride: Int, rng: inout SplitMix64) -> [UInt8] {
        var out = (0..<rows * stride).map { _ in UInt8.random(in: 0...255, using: &rng) }
        let halves: [Int] = switch type {
        case .q5_0: [0]
        case .q5_1, .q4_K, .q5_K: [0, 2]
        case .q2_K: [80, 82]
        case .q3_K: [108]
        default: [208]
        }
        for r in 0..<rows {
            for b in 0..<cols / type.blockSize {
                for off in halves {
                    let h = Float16(Float.random(in: 0.002...0.05, using: &rng) * (Bool.random(using: &rng) ? 1 : -1)).bitPattern
                    let at = r * stride + b * type.blockBytes + off
                    out[at] = UInt8(h & 0xFF)
                    out[at + 1] = UInt8(h >> 8)
                }
            }
        }
        return out
    }

    func run(_ type: QuantType, _ w: [UInt8], offset: Int, rows: Int, cols: Int, stride: Int, x: [Float], batch: Int,
             path: KernelPath) throws -> [Float] {
        var y = [Float](repeating: .nan, count: rows * batch)
        try w.withUnsafeBytes { wb in
            let m = try WeightMatrix(rows: rows, columns: cols, type: type, base: wb.baseAddress! + offset, rowStride: stride)
            let mm = try MatMul(pool: sharedPool, path: path)
            try x.withUnsafeBufferPointer { xp in
                try y.withUnsafeMutableBufferPointer { yp in
                    try mm.multiply(m, input: xp.baseAddress!, inputStride: cols, batch: batch, output: yp.baseAddress!, outputStride: rows)
                }
            }
        }
        return y
    }

    @Test(arguments: types)
    func simdMatchesScalar(type: QuantType) throws {
        var rng = SplitMix64(seed: UInt64(type.rawValue) &* 7919)
        let widths = type.blockSize == 32 ? [32, 96, 160, 576] : [256, 512, 768, 1536]
        let shapes = [(1, 0), (3, 1), (5, 2), (7, 3), (13, 0), (67, 1)]
        for (i, (rows, width)) in shapes.enumerated() {
            let cols = widths[width]
            let stride = cols / type.blockSize * type.blockBytes + (i % 2 == 0 ? 0 : 3)
            let offset = i % 3 == 0 ? 0 : 1
            let w = [UInt8](repeating: 0, count: offset) + Self.weights(type, rows: rows, cols: cols, stride: stride, rng: &rng)
            for batch in 1...17 where batch <= 9 || batch == 17 || rows <= 13 {
                var x = rng.activations(cols * batch)
                if batch > 2 { for j in 0..<min(cols, 256) { x[cols + j] = 0 } }  // an all-zero activation block
                let reference = try run(type, w, offset: offset, rows: rows, cols: cols, stride: stride, x: x, batch: batch, path: .scalar)
                #expect(!reference.contains { $0.isNaN }, "\(type) rows \(rows) batch \(batch)")
                for path in KernelParityTests.simdPaths {
                    let y = try run(type, w, offset: offset, rows: rows, cols: cols, stride: stride, x: x, batch: batch, path: path)
                    #expect(y.map(\.bitPattern) == reference.map(\.bitPattern), "\(type) rows \(rows) cols \(cols) batch \(batch) on \(path)")
                }
            }
        }
    }

    /// The oracle itself: against a double-precision dot of the dequantized weights and
    /// activations, the error is float rounding only (plus Q8_1's fp16 sum for Q5_1).
    @Test(arguments: types)
    func scalarDotIsCloseToFloatDot(type: QuantType) throws {
        var rng = SplitMix64(seed: 3)
        let cols = 512
        let w = Self.weights(type, rows: 1, cols: cols, stride: cols / type.blockSize * type.blockBytes, rng: &rng)
        let x = rng.activations(cols)
        let y = try run(type, w, offset: 0, rows: 1, cols: cols, stride: w.count, x: x, batch: 1, path: .scalar)
        let act = type.vecDotType
        var wf = [Float](repeating: 0, count: cols), af = [Float](repeating: 0, count: cols)
        var qa = [UInt8](repeating: 0, count: cols / act.blockSize * act.blockBytes)
        try w.withUnsafeBytes { try Dequantize.row($0.baseAddress!, type: type, count: cols, into: &wf) }
        try x.withUnsafeBufferPointer { xp in
            try qa.withUnsafeMutableBytes { q in
                switch act {
                case .q8_0: try ActivationQuantizer.quantizeQ8_0(xp.baseAddress!, count: cols, into: q.baseAddress!)
                case .q8_1: try ActivationQuantizer.quantizeQ8_1(xp.baseAddress!, count: cols, into: q.baseAddress!)
                default: try ActivationQuantizer.quantizeQ8_K(xp.baseAddress!, count: cols, into: q.baseAddress!)
                }
            }
        }
        try qa.withUnsafeBytes { try Dequantize.row($0.baseAddress!, type: act, count: cols, into: &af) }
        let exact = zip(wf, af).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        let mag = zip(wf, af).reduce(0.0) { $0 + abs(Double($1.0) * Double($1.1)) }
        #expect(abs(Double(y[0]) - exact) <= 1e-5 * mag + (type == .q5_1 ? 2e-3 * mag : 0), "\(type)")
    }
}
