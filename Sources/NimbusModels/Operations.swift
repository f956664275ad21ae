import Foundation
import NimbusKernels

/// Element-wise steps of a transformer block, written to round exactly where ggml rounds.
enum Operations {
    /// `into = x / sqrt(mean(x²) + eps) * weight`, as ggml_compute_forward_rms_norm_f32: squares
    /// summed in double, the mean rounded to float *before* eps is added in float (adding eps in
    /// double and rounding once changes the scale's last bit for a sizeable share of rows).
    static func rmsNorm(_ x: UnsafePointer<Float>, weight: [Float], count: Int, epsilon: Float,
                        into y: UnsafeMutablePointer<Float>) {
        var sum: Double = 0
        for i in 0..<count { sum += Double(x[i] * x[i]) }
        let mean = Float(sum / Double(count))
        let scale = 1 / sqrtf(mean + epsilon)
        weight.withUnsafeBufferPointer { w in
            for i in 0..<count { y[i] = (x[i] * scale) * w[i] }
        }
    }

    /// `into = (x - mean) / sqrt(var + eps) * weight + bias`, as the AVX-512 build of
    /// ggml_compute_forward_norm_f32 followed by ggml_mul and ggml_add: the mean is a double sum
    /// rounded to float, divided in float; the squared deviations are summed 16 at a time in
    /// `_mm512_reduce_add_ps`'s tree (GCC's: halves, quarters, then pairs), each group's float
    /// sum added in double, the rest one by one; the variance is rounded to float before eps is
    /// added; weight and bias are applied as two separate roundings.
    static func layerNorm(_ x: UnsafePointer<Float>, weight: [Float], bias: [Float]?, count: Int, epsilon: Float,
                          into y: UnsafeMutablePointer<Float>) {
        var total: Double = 0
        for i in 0..<count { total += Double(x[i]) }
        let mean = Float(total) / Float(count)
        var squares: Double = 0
        var i = 0
        while i + 16 <= count {
            var d = SIMD16<Float>()
            for j in 0..<16 { d[j] = x[i + j] - mean }
            for j in 0..<16 { y[i + j] = d[j] }
            let sq = d * d
            let eighths = sq.highHalf + sq.lowHalf
            let quarters = eighths.highHalf + eighths.lowHalf
            squares += Double((quarters[0] + quarters[2]) + (quarters[1] + quarters[3]))
            i += 16
        }
        while i < count {
            let d = x[i] - mean
            y[i] = d
            squares += Double(d * d)
            i += 1
        }
        let variance = Float(squares / Double(count))
        let scale = 1 / sqrtf(variance + epsilon)
        weight.withUnsafeBufferPointer { w in
            for i in 0..<count { y[i] = (y[i] * scale) * w[i] }
        }
        if let bias {
            bias.withUnsafeBufferPointer { b in
                for i in 0..<count { y[i] += b[i] }
            }
        }
    }

    /// `x *= factor` (ggml_scale).
    static func scale(_ x: UnsafeMutablePointer<Float>, count: Int, by factor: Float) {
        for i in 0..<count { x[i] *= factor }
    }

    /// `x = cap * tanh(x / cap)`, as ggml's scale, tanh, scale (the division is a multiplication
    /// by the float `1 / cap`, which rounds differently).
    static func softCap(_ x: UnsafeMutablePointer<Float>, count: Int, cap: Float) {
        let inverse = 1 / cap
        for i in 0..<count { x[i] = tanhf(x[i] * inverse) * cap }
    }

    /// `x += bias`, for each of `rows` rows of `bias.count` values.
    static func addBias(_ bias: [Float], to x: UnsafeMutablePointer<Float>, rows: Int) {
        bias.withUnsafeBufferPointer { b in
            for r in 0..<rows {
                let row = x + r * b.count
                for i in 0..<b.count { row[i] += b[i] }
            }
        }
    }

    /// `y += x`.
    static func add(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count { y[i] += x[i] }
    }

    /// `gate = silu(gate) * up`, the SwiGLU feed-forward activation, with ggml's vectorized exp
    /// (libm's `expf` differs from it in the last bit for about a quarter of the inputs).
    static func swiGLU(gate: UnsafeMutablePointer<Float>, up: UnsafePointer<Float>, count: Int) {
        ActivationKernels.swiGLU(gate: gate, up: up, count: count)
    }

    /// Copies `x` rounded to the nearest fp16 value (the KV cache's precision).
    static func roundToHalf(_ x: UnsafePointer<Float>, count: Int, into y: UnsafeMutablePointer<Float>) {
        HalfRounding.round(x, count: count, into: y)
    }

    /// `y[i]` = the fp16 bits of `x[i]`, rounded to nearest even (the KV cache's format).
    static func storeAsHalf(_ x: UnsafePointer<Float>, count: Int, into y: UnsafeMutablePointer<UInt16>) {
        ActivationQuantizer.convertToF16(x, count: count, into: y)
    }
}
