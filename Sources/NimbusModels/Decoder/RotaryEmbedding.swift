import Foundation

/// Rotary position embedding as ggml computes it, in either pairing (`RopeLayout`): `normal`
/// rotates adjacent pairs (2i, 2i+1), `neox` the pairs (i, i + d/2) of the rotated dimensions.
///
/// The angle for pair i is `position * base^(-2i/d)`, built like ggml by multiplying a running
/// float by `base^(-2/d)` pair after pair; the rounding of that product is part of the numerics.
/// Linear scaling multiplies the angle, per-pair factors (Llama 3.1's `rope_freqs`, Phi-3's
/// LongRoPE) divide it first. YaRN blends the scaled angle with the unscaled one: pairs below
/// the ramp keep the unscaled angle (they turn fast enough to have seen every angle in
/// training), pairs above it take the scaled one, and cos and sin grow by 0.1 ln(1/scale) + 1
/// (ggml's `rope_yarn`).
struct RotaryEmbedding {
    let layout: RopeLayout
    let headDimension: Int
    let rotatedDimensions: Int
    let thetaScale: Float
    let frequencyScale: Float
    let frequencyFactors: [Float]?
    /// What cos and sin are multiplied by.
    let magnitude: Float
    /// YaRN: each pair's share of the unscaled angle, falling from 1 to 0 over the ramp (it
    /// depends on the pair only, so it is worked out once here); nil without YaRN.
    let unscaledShares: [Float]?

    /// C's `(float)M_PI`, π rounded to nearest; Swift's `Float.pi` is rounded down, one ulp below.
    static let pi = Float(Double.pi)

    init(options: RopeOptions, headDimension: Int, plan: LayerPlan, frequencyFactors: [Float]?) {
        layout = options.layout
        self.headDimension = headDimension
        rotatedDimensions = options.dimensionCount
        thetaScale = powf(plan.ropeBase, -2 / Float(options.dimensionCount))
        frequencyScale = plan.ropeScale
        self.frequencyFactors = frequencyFactors
        if options.scaling == .yarn {
            // ggml_rope_yarn_corr_dims with llama.cpp's beta_fast 32 and beta_slow 1: the pairs
            // that turn 32 times and once over the original context.
            let n = options.dimensionCount
            func pair(turning rotations: Float) -> Float {
                Float(n) * logf(Float(options.originalContextLength) / (rotations * 2 * Self.pi)) / (2 * logf(plan.ropeBase))
            }
            let low = max(0, floorf(pair(turning: 32))), high = min(Float(n - 1), ceilf(pair(turning: 1)))
            unscaledShares = (0..<(n / 2)).map { i in 1 - min(1, max(0, (Float(i) - low) / max(0.001, high - low))) }
            magnitude = options.magnitude * Float(1).addingProduct(0.1, logf(1 / plan.ropeScale))
        } else {
            unscaledShares = nil
            magnitude = options.magnitude
        }
    }

    /// Rotates the query heads and then the key heads of one row in place for `position`, both
    /// with one table of angles: the same angles serve every head.
    func apply(queries: UnsafeMutablePointer<Float>, heads queryHeads: Int, keys: UnsafeMutablePointer<Float>,
               heads keyHeads: Int, position: Int) {
        let pairs = rotatedDimensions / 2
        withUnsafeTemporaryAllocation(of: Float.self, capacity: 2 * pairs) { table in
            fill(table, position: position)
            rotate(queries, heads: queryHeads, table: table)
            rotate(keys, heads: keyHeads, table: table)
        }
    }

    /// (cos, sin) of every pair's angle at `position`, times the magnitude, as ggml's rope cache.
    private func fill(_ table: UnsafeMutableBufferPointer<Float>, position: Int) {
        var theta = Float(position)
        for i in 0..<(rotatedDimensions / 2) {
            let unscaled = theta / (frequencyFactors?[i] ?? 1)
            var angle = frequencyScale * unscaled
            if let share = unscaledShares?[i] {
                // ggml: `scaled * (1 - share) + unscaled * share`, which GCC 12 -O3 compiles to
                // fma(scaled, 1 - share, unscaled * share) (checked in its assembly).
                angle = (unscaled * share).addingProduct(angle, 1 - share)
            }
            table[2 * i] = cosf(angle) * magnitude
            table[2 * i + 1] = sinf(angle) * magnitude
            theta *= thetaScale
        }
    }

    private func rotate(_ x: UnsafeMutablePointer<Float>, heads: Int, table: UnsafeMutableBufferPointer<Float>) {
        let pairs = rotatedDimensions / 2
        // The second element of pair i: the next dimension, or the one half the rotation away.
        let (stride, partner) = layout == .normal ? (2, 1) : (1, pairs)
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
