/// Dequantization of Q5_0/Q5_1 and the K-quants, following ggml's `dequantize_row_*`.
///
/// Every product below is exact in fp32 (an fp16 scale times small integers needs at most 24
/// significant bits), so the only rounding is the final add or subtract, and the results equal
/// gguf-py's numpy dequantizer bit for bit whatever order either side multiplies in.
extension Dequantize {
    static func moreBlocks(_ src: UnsafeRawPointer, type: QuantType, blocks nb: Int, into dst: UnsafeMutablePointer<Float>) {
        let bb = type.blockBytes
        for b in 0..<nb {
            let blk = src + b * bb, y = dst + b * type.blockSize
            switch type {
            case .q5_0, .q5_1: q5(blk, hasMin: type == .q5_1, y)
            case .q2_K: q2K(blk, y)
            case .q3_K: q3K(blk, y)
            case .q4_K, .q5_K: q45K(blk, fifthBit: type == .q5_K, y)
            case .q6_K: q6K(blk, y)
            default: q8K(blk, y)
            }
        }
    }

    /// Q5_0: `(nibble | fifth bit << 4) - 16` times d; Q5_1: `q * d + m`.
    private static func q5(_ blk: UnsafeRawPointer, hasMin: Bool, _ y: UnsafeMutablePointer<Float>) {
        let d = Half.float(blk), m: Float = hasMin ? Half.float(blk + 2) : 0
        let head = hasMin ? 4 : 2
        let qh = blk.loadUnaligned(fromByteOffset: head, as: UInt32.self)
        for j in 0..<16 {
            let q = blk.load(fromByteOffset: head + 4 + j, as: UInt8.self)
            let lo = Int32(q & 0x0F) | Int32((qh >> UInt32(j)) & 1) << 4
            let hi = Int32(q >> 4) | Int32((qh >> UInt32(j + 16)) & 1) << 4
            if hasMin {
                y[j] = m.addingProduct(Float(lo), d)
                y[j + 16] = m.addingProduct(Float(hi), d)
            } else {
                y[j] = Float(lo - 16) * d
                y[j + 16] = Float(hi - 16) * d
            }
        }
    }

    /// Q2_K: element 128n + 32j + l is bits 2j..2j+1 of qs[32n + l], with the scale/min pair
    /// `scales[8n + 2j + l / 16]` (low nibble scale, high nibble min).
    private static func q2K(_ blk: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
        let d = Half.float(blk + 80), dmin = Half.float(blk + 82)
        for n in 0..<2 {
            for j in 0..<4 {
                for l in 0..<32 {
                    let sc = blk.load(fromByteOffset: 8 * n + 2 * j + l / 16, as: UInt8.self)
                    let q = (blk.load(fromByteOffset: 16 + 32 * n + l, as: UInt8.self) >> UInt8(2 * j)) & 3
                    y[128 * n + 32 * j + l] = d * Float(sc & 0xF) * Float(q) - dmin * Float(sc >> 4)
                }
            }
        }
    }

    /// Q3_K: 2 low bits as Q2_K, minus 4 where bit 4n + j of hmask[l] is clear; 6-bit signed
    /// scales (`KQuantScales.q3`).
    private static func q3K(_ blk: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
        let d = Half.float(blk + 108)
        let scales = KQuantScales.q3(blk + 96)
        for n in 0..<2 {
            for j in 0..<4 {
                for l in 0..<32 {
                    let low = Int32((blk.load(fromByteOffset: 32 + 32 * n + l, as: UInt8.self) >> UInt8(2 * j)) & 3)
                    let high = (blk.load(fromByteOffset: l, as: UInt8.self) >> UInt8(4 * n + j)) & 1
                    let dl = d * Float(scales[8 * n + 2 * j + l / 16])
                    y[128 * n + 32 * j + l] = dl * Float(low - (high == 0 ? 4 : 0))
                }
            }
        }
    }

    /// Q4_K/Q5_K: element 64j + l (l < 32) is the low nibble of qs[32j + l], element 64j + 32 + l
    /// the high nibble, with scale/min pairs 2j and 2j + 1; Q5_K adds bit 2j (2j + 1) of qh[l] as 16.
    private static func q45K(_ blk: UnsafeRawPointer, fifthBit: Bool, _ y: UnsafeMutablePointer<Float>) {
        let d = Half.float(blk), dmin = Half.float(blk + 2)
        let (sc, mn) = KQuantScales.q4(blk + 4)
        let qs = fifthBit ? 48 : 16
        for j in 0..<4 {
            let d1 = d * Float(sc[2 * j]), m1 = dmin * Float(mn[2 * j])
            let d2 = d * Float(sc[2 * j + 1]), m2 = dmin * Float(mn[2 * j + 1])
            for l in 0..<32 {
                let q = blk.load(fromByteOffset: qs + 32 * j + l, as: UInt8.self)
                var lo = Int32(q & 0x0F), hi = Int32(q >> 4)
                if fifthBit {
                    let h = blk.load(fromByteOffset: 16 + l, as: UInt8.self)
                    lo += Int32((h >> UInt8(2 * j)) & 1) << 4
                    hi += Int32((h >> UInt8(2 * j + 1)) & 1) << 4
                }
                y[64 * j + l] = d1 * Float(lo) - m1
                y[64 * j + 32 + l] = d2 * Float(hi) - m2
            }
        }
    }

    /// Q6_K: element 128n + 32i + l takes a nibble of ql (low for i < 2, high otherwise; byte
    /// 64n + l or 64n + 32 + l) and bits 2i..2i+1 of qh[32n + l], minus 32; int8 scale 8n + 2i + l / 16.
    private static func q6K(_ blk: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
        let d = Half.float(blk + 208)
        for n in 0..<2 {
            for i in 0..<4 {
                for l in 0..<32 {
                    let q = Int32(KQuantScales.q6Value(blk, n: n, i: i, l: l)) - 32
                    let sc = blk.load(fromByteOffset: 192 + 8 * n + 2 * i + l / 16, as: Int8.self)
                    y[128 * n + 32 * i + l] = d * Float(sc) * Float(q)
                }
            }
        }
    }

    /// Q8_K (activations): fp32 d times the int8 quants.
    private static func q8K(_ blk: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
        let d = blk.loadUnaligned(as: Float.self)
        for i in 0..<256 { y[i] = d * Float(blk.load(fromByteOffset: 4 + i, as: Int8.self)) }
    }
}

/// Unpacking of the K-quants' packed scales, shared by dequantization and the scalar dots.
enum KQuantScales {
    /// Q4_K/Q5_K: 8 six-bit scales and 8 six-bit mins from 12 bytes (ggml's get_scale_min_k4).
    @inline(__always)
    static func q4(_ p: UnsafeRawPointer) -> (scales: [Int32], mins: [Int32]) {
        var sc = [Int32](repeating: 0, count: 8), mn = [Int32](repeating: 0, count: 8)
        func byte(_ i: Int) -> Int32 { Int32(p.load(fromByteOffset: i, as: UInt8.self)) }
        for j in 0..<8 {
            if j < 4 {
                sc[j] = byte(j) & 63
                mn[j] = byte(j + 4) & 63
            } else {
                sc[j] = (byte(j + 4) & 0xF) | ((byte(j - 4) >> 6) << 4)
                mn[j] = (byte(j + 4) >> 4) | ((byte(j) >> 6) << 4)
            }
        }
        return (sc, mn)
    }

    /// Q3_K: 16 six-bit scales from 12 bytes, minus 32: scale k has its low 4 bits in byte
    /// k % 8 (low nibble for k < 8, high for k >= 8) and its top 2 bits in byte 8 + k % 4,
    /// bits 2(k / 4)..2(k / 4)+1.
    @inline(__always)
    static func q3(_ p: UnsafeRawPointer) -> [Int32] {
        (0..<16).map { k in
            let low = Int32(p.load(fromByteOffset: k % 8, as: UInt8.self) >> (k < 8 ? 0 : 4)) & 0xF
            let high = Int32(p.load(fromByteOffset: 8 + k % 4, as: UInt8.self) >> UInt8(2 * (k / 4))) & 3
            return (low | high << 4) - 32
        }
    }

    /// Q6_K: the unsigned 6-bit quant of element 128n + 32i + l (see `Dequantize.q6K`).
    @inline(__always)
    static func q6Value(_ blk: UnsafeRawPointer, n: Int, i: Int, l: Int) -> UInt8 {
        let ql = blk.load(fromByteOffset: 64 * n + 32 * (i & 1) + l, as: UInt8.self)
        let qh = blk.load(fromByteOffset: 128 + 32 * n + l, as: UInt8.self)
        return (i < 2 ? ql & 0xF : ql >> 4) | ((qh >> UInt8(2 * i)) & 3) << 4
    }
}
