/// Row dequantization (embedding lookup, `get_rows`), equal to ggml's `to_float`.
public enum Dequantize {
    /// Converts `count` elements starting at `src` (raw bytes of `type`) to fp32.
    /// - Throws: `KernelError.badShape` if `count` is not a whole number of blocks.
    public static func row(_ src: UnsafeRawPointer, type: QuantType, count: Int, into dst: UnsafeMutablePointer<Float>) throws(KernelError) {
        let nb = try type.rowBytes(count: count) / type.blockBytes
        switch type {
        case .f32:
            dst.update(from: src.assumingMemoryBound(to: Float.self), count: count)
        case .f16:
            for i in 0..<count { dst[i] = Half.float(src + 2 * i) }
        case .bf16:
            for i in 0..<count { dst[i] = Half.bf16ToFloat(src.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)) }
        case .q8_0, .q8_1:
            let bb = type.blockBytes, off = type == .q8_0 ? 2 : 4
            for b in 0..<nb {
                let blk = src + b * bb
                let d = Half.float(blk)
                for j in 0..<32 {
                    dst[b * 32 + j] = Float(blk.load(fromByteOffset: off + j, as: Int8.self)) * d
                }
            }
        case .q4_0:
            for b in 0..<nb {
                let blk = src + b * 18
                let d = Half.float(blk)
                for j in 0..<16 {
                    let q = blk.load(fromByteOffset: 2 + j, as: UInt8.self)
                    dst[b * 32 + j] = Float(Int(q & 0x0F) - 8) * d
                    dst[b * 32 + j + 16] = Float(Int(q >> 4) - 8) * d
                }
            }
        case .q4_1:
            for b in 0..<nb {
                let blk = src + b * 20
                let d = Half.float(blk), m = Half.float(blk + 2)
                for j in 0..<16 {
                    let q = blk.load(fromByteOffset: 4 + j, as: UInt8.self)
                    // ggml writes `x * d + m`, which its compilers contract to one fma.
                    dst[b * 32 + j] = m.addingProduct(Float(q & 0x0F), d)
                    dst[b * 32 + j + 16] = m.addingProduct(Float(q >> 4), d)
                }
            }
        case .q5_0, .q5_1, .q2_K, .q3_K, .q4_K, .q5_K, .q6_K, .q8_K:
            moreBlocks(src, type: type, blocks: nb, into: dst)
        }
    }

    /// Dequantizes row `r` of a weight matrix (e.g. one token's embedding).
    public static func row(_ r: Int, of w: WeightMatrix, into dst: UnsafeMutablePointer<Float>) throws(KernelError) {
        guard r >= 0, r < w.rows else { throw .badShape("row \(r) outside 0..<\(w.rows)") }
        try row(w.row(r), type: w.type, count: w.columns, into: dst)
    }
}
