import Foundation

/// Rotary position embedding in llama.cpp's "normal" mode: adjacent pairs (2i, 2i+1) rotate
/// (GGUF conversion permutes Llama's Q/K weights so that this mode is the right one).
///
/// The angle for pair i is `position * base^(-2i/d)`, built like ggml by multiplying a running
/// float by `base^(-2/d)` pair after pair; the rounding of that product is part of the numerics.
struct RotaryEmbedding {
    let headDimension: Int
    let rotatedDimensions: Int
    let thetaScale: Float
    let frequencyScale: Float
    /// Llama 3.1-style per-pair divisors of the angle, when the model has them.
    let frequencyFactors: [Float]?

    init(configuration c: LlamaConfiguration, frequencyFactors: [Float]?) {
        headDimension = c.headDimension
        rotatedDimensions = c.ropeDimensionCount
        thetaScale = powf(c.ropeFrequencyBase, -2 / Float(c.ropeDimensionCount))
        frequencyScale = c.ropeFrequencyScale
        self.frequencyFactors = frequencyFactors
    }

    /// Rotates `heads` consecutive heads of `x` in place for `position`.
    func apply(_ x: UnsafeMutablePointer<Float>, heads: Int, position: Int) {
        let pairs = rotatedDimensions / 2
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
                    let x0 = head[2 * i], x1 = head[2 * i + 1]
                    // GCC contracts ggml's `x0*cos - x1*sin` and `x0*sin + x1*cos` into one fma
                    // each, with the x1 product rounded first; the bits follow that.
                    head[2 * i] = (-(x1 * sin)).addingProduct(x0, cos)
                    head[2 * i + 1] = (x1 * cos).addingProduct(x0, sin)
                }
            }
        }
    }
}
