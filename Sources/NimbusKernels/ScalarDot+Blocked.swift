/// The blocked summation order (`SummationOrder.blocked`) in plain Swift: the scalar path's
/// kernel in that order and the oracle of `gemm_x16.c`. It reads plain ggml rows and activation
/// blocks, so it also checks the interleaving. Per block the 32 products are summed exactly in
/// Int32, then `acc = fma(Float(isum), d_w * d_a, acc)` and, for Q4_1,
/// `acc = fma(m_w, s_a, acc)`.
extension ScalarDot {
    /// `type` is Q4_0, Q4_1 or Q8_0; `a` holds the matching Q8_0 / Q8_1 activation blocks.
    public static func blocked(_ type: QuantType, _ w: UnsafeRawPointer, _ a: UnsafeRawPointer, blocks: Int) -> Float {
        var acc: Float = 0
        let wBytes = type.blockBytes, aBytes = type.vecDotType.blockBytes
        for b in 0..<blocks {
            let wb = w + wBytes * b, ab = a + aBytes * b
            let aq = ab + (type == .q4_1 ? 4 : 2)
            var isum: Int32 = 0
            for e in 0..<32 {
                let q: Int32
                switch type {
                case .q8_0:
                    q = Int32(wb.load(fromByteOffset: 2 + e, as: Int8.self))
                default:
                    let byte = wb.load(fromByteOffset: (type == .q4_1 ? 4 : 2) + (e & 15), as: UInt8.self)
                    q = Int32(e < 16 ? byte & 0x0F : byte >> 4) - (type == .q4_0 ? 8 : 0)
                }
                isum += q * Int32(aq.load(fromByteOffset: e, as: Int8.self))
            }
            acc = acc.addingProduct(Float(isum), Half.float(wb) * Half.float(ab))
            if type == .q4_1 { acc = acc.addingProduct(Half.float(wb + 2), Half.float(ab + 2)) }
        }
        return acc
    }
}
