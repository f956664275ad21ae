/// The blocked order for float weights (`SummationOrder.blocked`) in plain Swift: the scalar
/// path's kernel and the oracle of `gemm_float.c`. Each weight is widened exactly and multiplied
/// by an fp32 activation (ggml's order rounds the activations to the weight's type first).
/// Lane `l` of 16 accumulates `fma(w[16 i + l], x[16 i + l], acc)`, zeros past the end, and the
/// lanes fold in halves: `acc[l] += acc[l + 8]`, then `+ 4`, `+ 2`, `+ 1`.
extension ScalarDot {
    /// `type` is F32, F16 or BF16; `w` is one plain row of `n` elements.
    public static func floatBlocked(_ type: QuantType, _ w: UnsafeRawPointer, _ x: UnsafePointer<Float>, count n: Int) -> Float {
        var lanes = [Float](repeating: 0, count: 16)
        var k = 0
        while k < n {
            for l in 0..<16 {
                let i = k + l
                // Past the end both operands are zero, as the kernel's masked loads give.
                let (weight, input) = i < n ? (floatWeight(type, w, i), x[i]) : (0, 0)
                lanes[l] = lanes[l].addingProduct(weight, input)
            }
            k += 16
        }
        var half = 8
        while half >= 1 {
            for l in 0..<half { lanes[l] = lanes[l] + lanes[l + half] }
            half /= 2
        }
        return lanes[0]
    }

    /// Element `i` of a float row, widened exactly.
    @inline(__always)
    static func floatWeight(_ type: QuantType, _ w: UnsafeRawPointer, _ i: Int) -> Float {
        switch type {
        case .f16: Half.float(w + 2 * i)
        case .bf16: Half.bf16ToFloat(w.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))
        default: w.loadUnaligned(fromByteOffset: 4 * i, as: Float.self)
        }
    }
}
