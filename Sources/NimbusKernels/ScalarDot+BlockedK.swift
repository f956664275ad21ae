/// The blocked summation order for K-quants in plain Swift: the scalar path's kernel in that
/// order and the oracle of `gemm_kx16.c`. It reads plain ggml rows and Q8_K activation blocks,
/// so it also checks the interleaving. Every integer sum is exact in Int32; per super-block:
///
/// - Q4_K: `imin = Σ_v min_v * (bsum[2v] + bsum[2v+1])`, `acc = fma(-Float(imin), dmin_w * d_a, acc)`,
///   then `isum = Σ_v sc_v * Σ_{e∈v} q_e * a_e` (v: 8 sub-blocks of 32),
///   `acc = fma(Float(isum), d_w * d_a, acc)`.
/// - Q5_K: as Q4_K, the quant `q_e` with its fifth bit.
/// - Q6_K: `isum = Σ_s sc_s * Σ_{e∈s} q_e * a_e - 32 * Σ_s sc_s * bsum_s` (s: 16 sub-blocks of 16,
///   q the unsigned 6-bit quant), `acc = fma(Float(isum), d_w * d_a, acc)`.
extension ScalarDot {
    /// Whether `blockedK` covers `type`.
    public static func hasBlockedK(_ type: QuantType) -> Bool { type == .q4_K || type == .q5_K || type == .q6_K }

    /// `type` is Q4_K, Q5_K or Q6_K (`hasBlockedK`); `a` holds Q8_K blocks.
    public static func blockedK(_ type: QuantType, _ w: UnsafeRawPointer, _ a: UnsafeRawPointer, blocks: Int) -> Float {
        type == .q6_K ? blockedQ6K(w, a, blocks: blocks) : blockedQ45K(w, a, blocks: blocks, fifthBit: type == .q5_K)
    }

    /// Q4_K, or Q5_K (`fifthBit`: 176-byte blocks, bit v of `qh[l]` is the fifth bit of element 32v + l).
    static func blockedQ45K(_ w: UnsafeRawPointer, _ a: UnsafeRawPointer, blocks: Int, fifthBit: Bool) -> Float {
        var acc: Float = 0
        let blockBytes = fifthBit ? 176 : 144, quants = fifthBit ? 48 : 16
        for b in 0..<blocks {
            let wb = w + blockBytes * b, ab = a + 292 * b
            let da = q8KScale(ab)
            let (sc, mn) = KQuantScales.q4(wb + 4)
            var imin: Int32 = 0
            for v in 0..<8 { imin &+= mn[v] &* (q8KSum(ab, 2 * v) &+ q8KSum(ab, 2 * v + 1)) }
            acc = acc.addingProduct(-Float(imin), Half.float(wb + 2) * da)
            var isum: Int32 = 0
            for v in 0..<8 {
                var s: Int32 = 0
                for l in 0..<32 {
                    let byte = wb.load(fromByteOffset: quants + 32 * (v / 2) + l, as: UInt8.self)
                    var q = Int32(v % 2 == 0 ? byte & 0xF : byte >> 4)
                    if fifthBit { q |= Int32((wb.load(fromByteOffset: 16 + l, as: UInt8.self) >> UInt8(v)) & 1) << 4 }
                    s &+= q &* q8KQuant(ab, 32 * v + l)
                }
                isum &+= sc[v] &* s
            }
            acc = acc.addingProduct(Float(isum), Half.float(wb) * da)
        }
        return acc
    }

    static func blockedQ6K(_ w: UnsafeRawPointer, _ a: UnsafeRawPointer, blocks: Int) -> Float {
        var acc: Float = 0
        for b in 0..<blocks {
            let wb = w + 210 * b, ab = a + 292 * b
            var isum: Int32 = 0, corr: Int32 = 0
            for s in 0..<16 {
                let sc = Int32(wb.load(fromByteOffset: 192 + s, as: Int8.self))
                corr &+= sc &* q8KSum(ab, s)
                var dot: Int32 = 0
                for e in 16 * s..<16 * s + 16 {
                    let q = Int32(KQuantScales.q6Value(wb, n: e / 128, i: (e / 32) % 4, l: e % 32))
                    dot &+= q &* q8KQuant(ab, e)
                }
                isum &+= sc &* dot
            }
            isum &-= 32 &* corr
            acc = acc.addingProduct(Float(isum), Half.float(wb + 208) * q8KScale(ab))
        }
        return acc
    }
}
