import Foundation

/// Element-wise steps of a transformer block, written to round exactly where ggml rounds.
enum Operations {
    /// `into = x / sqrt(mean(x²) + eps) * weight`, squares summed in double as ggml does.
    static func rmsNorm(_ x: UnsafePointer<Float>, weight: [Float], count: Int, epsilon: Float,
                        into y: UnsafeMutablePointer<Float>) {
        var sum: Double = 0
        for i in 0..<count { sum += Double(x[i] * x[i]) }
        let mean = sum / Double(count)
        let scale = 1 / sqrtf(Float(mean + Double(epsilon)))
        weight.withUnsafeBufferPointer { w in
            for i in 0..<count { y[i] = (x[i] * scale) * w[i] }
        }
    }

    /// `y += x`.
    static func add(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count { y[i] += x[i] }
    }

    /// `gate = silu(gate) * up`, the SwiGLU feed-forward activation.
    static func swiGLU(gate: UnsafeMutablePointer<Float>, up: UnsafePointer<Float>, count: Int) {
        for i in 0..<count {
            let g = gate[i]
            gate[i] = g / (1 + expf(-g)) * up[i]
        }
    }

    /// Copies `x` rounded to the nearest fp16 value (the KV cache's precision).
    static func roundToHalf(_ x: UnsafePointer<Float>, count: Int, into y: UnsafeMutablePointer<Float>) {
        for i in 0..<count { y[i] = Float(Float16(x[i])) }
    }

    /// In-place softmax of `x * scale`, normalised with a double-precision sum like ggml's.
    static func scaledSoftmax(_ x: UnsafeMutablePointer<Float>, count: Int, scale: Float) {
        var maximum = -Float.infinity
        for i in 0..<count {
            x[i] *= scale
            maximum = max(maximum, x[i])
        }
        var sum: Double = 0
        for i in 0..<count {
            let e = expf(x[i] - maximum)
            x[i] = e
            sum += Double(e)
        }
        let inverse = Float(1 / sum)
        for i in 0..<count { x[i] *= inverse }
    }
}
