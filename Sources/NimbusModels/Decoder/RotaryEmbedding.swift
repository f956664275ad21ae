import Foundation

/// Rotary position embedding as ggml computes it, in either pairing (`RopeLayout`): `normal`
/// rotates adjacent pairs (2i, 2i+1), `neox` the pairs (i, i + d/2) of the rotated dimensions.
///
/// The angle for pair i is `position * base^(-2i/d)`, built like ggml by multiplying a running
/// float by `base^(-2/d)` pair after pair; the rounding of that product is part of the numerics.
/// Linear scaling multiplies the angle, per-pair factors (Llama 3.1's `rope_freqs`, Phi-3's
/// LongRoPE) divide it first.
struct RotaryEmbedding {
    let layout: RopeLayout
    let headDimension: Int
    let rotatedDimensions: Int
    let thetaScale: Float
    let frequencyScale: Float
    let frequencyFactors: [Float]?

    init(options: RopeOptions, headDimension: Int, plan: LayerPlan, frequencyFactors: [Float]?) {
        layout = options.layout
        self.headDimension = headDimension
        rotatedDimensions = options.dimensionCount
        thetaScale = powf(plan.ropeBase, -2 / Float(options.dimensionCount))
        frequencyScale = plan.ropeScale
        self.frequencyFactors = frequencyFactors
    }

    /// Rotates `heads` consecutive heads of `x` in place for `position`.
    func apply(_ x: UnsafeMutablePointer<Float>, heads: Int, position: Int) {
        let pairs = rotatedDimensions / 2
        // The second element of pair i: the next dimension, or the one half the rotation away.
        let (stride, partner) = layout == .normal ? (2, 1) : (1, pairs)
        // One table per call: the same angles serve every head.
        withUnsafeTemporaryAllocation(of: Float.self, capacity: 2 * pairs) { table in
            var theta = Float(position)
            for i in 0..<pairs {
                let divisor = frequencyFactors?[i] ?? 1
                let angle = frequencyScale * (theta / divisor)
                table[2 * i] = cosf(angle)
                table[2 * i + 1] = sinf(angle)
                theta *= thetaScale
            }
            for h in 0..<heads {
                let head = x + h * headDimension
                for i in 0..<pairs {
                    let cos = table[2 * i], sin = table[2 * i + 1]
                    let a = i * stride, b = a + partner
                    let x0 = head[a], x1 = head[b]
                    // GCC contracts ggml's `x0*cos - x1*sin` and `x0*sin + x1*cos` into one fma
                    // each, with the x1 product rounded first; the bits follow that.
                    head[a] = (-(x1 * sin)).addingProduct(x0, cos)
                    head[b] = (x1 * cos).addingProduct(x0, sin)
                }
            }
        }
    }
}
