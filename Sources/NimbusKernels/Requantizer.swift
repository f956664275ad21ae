/// Weight requantization at load (NIM_QUANTIZATION): ggml's reference quantizers
/// `quantize_row_q8_0_ref` and `quantize_row_q4_0_ref`, which llama.cpp's `llama-quantize` and
/// gguf-py's `gguf.quants.quantize` implement identically, so a matrix converted here has the
/// bytes those tools would write for the same fp32 values.
public enum Requantizer {
    /// The types weights can be converted to.
    public static let targets: [QuantType] = [.q8_0, .q4_0]

    /// Q8_0: `d = amax / 127`, `id = 1 / d`, `q = roundf(x * id)` (half away from zero).
    public static func quantizeRowQ8_0(_ x: UnsafePointer<Float>, count: Int, into dst: UnsafeMutableRawPointer) throws(KernelError) {
        let nb = try QuantType.q8_0.rowBytes(count: count) / 34
        for b in 0..<nb {
            let xb = x + 32 * b, blk = dst + 34 * b
            var amax: Float = 0
            for j in 0..<32 { amax = Swift.max(amax, Swift.abs(xb[j])) }
            let d = amax / 127
            let id: Float = d != 0 ? 1 / d : 0
            blk.storeBytes(of: Half.bits(d), as: UInt16.self)
            for j in 0..<32 {
                let v = Swift.min(127, Swift.max(-128, (xb[j] * id).rounded(.toNearestOrAwayFromZero)))
                (blk + 2 + j).storeBytes(of: Int8(v), as: Int8.self)
            }
        }
    }

    /// Q4_0: `max` is the first element of largest magnitude, `d = max / -8`, `id = 1 / d`,
    /// `q = min(15, Int8(truncating: x * id + 8.5))`, element j in the low nibble of byte j,
    /// element j + 16 in its high nibble.
    public static func quantizeRowQ4_0(_ x: UnsafePointer<Float>, count: Int, into dst: UnsafeMutableRawPointer) throws(KernelError) {
        let nb = try QuantType.q4_0.rowBytes(count: count) / 18
        for b in 0..<nb {
            let xb = x + 32 * b, blk = dst + 18 * b
            var amax: Float = 0, max: Float = 0
            for j in 0..<32 where amax < Swift.abs(xb[j]) {
                amax = Swift.abs(xb[j])
                max = xb[j]
            }
            let d = max / -8
            let id: Float = d != 0 ? 1 / d : 0
            blk.storeBytes(of: Half.bits(d), as: UInt16.self)
            @inline(__always) func quant(_ v: Float) -> UInt8 {
                // x * id lies in [-8, 8], so the sum is in [0.5, 16.5]; NaN inputs become 0.
                let t = (v * id + 8.5).rounded(.towardZero)
                return t.isNaN ? 0 : UInt8(Swift.min(15, Swift.max(0, t)))
            }
            for j in 0..<16 {
                (blk + 2 + j).storeBytes(of: quant(xb[j]) | quant(xb[j + 16]) << 4, as: UInt8.self)
            }
        }
    }

    /// Converts `source` (any type `Dequantize` reads) to `type`, one row at a time.
    /// - Throws: `KernelError.unsupportedType` for a target other than Q8_0/Q4_0,
    ///   `.badShape` when the columns are not a whole number of 32-element blocks.
    public static func convert(_ source: WeightMatrix, to type: QuantType) throws(KernelError) -> OwnedWeightMatrix {
        guard targets.contains(type) else { throw .unsupportedType(type, operation: "requantization") }
        let rowBytes = try type.rowBytes(count: source.columns)
        let memory = WeightMemory(byteCount: rowBytes * source.rows)
        let storage = memory.bytes
        let row = UnsafeMutablePointer<Float>.allocate(capacity: Swift.max(1, source.columns))
        defer { row.deallocate() }
        for r in 0..<source.rows {
            try Dequantize.row(r, of: source, into: row)
            if type == .q8_0 {
                try quantizeRowQ8_0(row, count: source.columns, into: storage + r * rowBytes)
            } else {
                try quantizeRowQ4_0(row, count: source.columns, into: storage + r * rowBytes)
            }
        }
        let matrix = try WeightMatrix(rows: source.rows, columns: source.columns, type: type, base: storage)
        return OwnedWeightMatrix(matrix: matrix, memory: memory)
    }
}

/// A weight matrix whose bytes this object owns (a requantized copy, or an interleaved layout);
/// the view stays valid as long as the object lives.
public final class OwnedWeightMatrix: @unchecked Sendable {
    public let matrix: WeightMatrix
    private let memory: WeightMemory
    /// The owner of bytes the view also points at (the requantized rows behind an interleaved copy).
    private let source: OwnedWeightMatrix?

    init(matrix: WeightMatrix, memory: WeightMemory, source: OwnedWeightMatrix? = nil) {
        self.matrix = matrix
        self.memory = memory
        self.source = source
    }
}
