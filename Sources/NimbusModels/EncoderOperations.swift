import Foundation
import NimbusKernels

/// Element-wise and attention steps of an encoder block, in fp32, spread over the compute pool.
enum EncoderOperations {
    /// `x[i] = LayerNorm(x[i] (+ residual[i]))` for `rows` rows of `width` floats.
    static func layerNorm(_ x: UnsafeMutablePointer<Float>, adding residual: UnsafePointer<Float>?, rows: Int, width: Int,
                          _ weights: LayerNormWeights, epsilon: Float, pool: ComputePool) {
        let job = Pointers(x: x, y: residual.map { UnsafeMutablePointer(mutating: $0) })
        weights.weight.withUnsafeBufferPointer { w in
            weights.bias.withUnsafeBufferPointer { b in
                pool.parallelFor(rows) { range in
                    for r in range {
                        let row = job.x + r * width
                        if let res = job.y {
                            for i in 0..<width { row[i] += res[r * width + i] }
                        }
                        // Mean and variance in double: the rows are long and the reference (PyTorch)
                        // reduces pairwise; a float running sum would drift further from it.
                        var sum = 0.0
                        for i in 0..<width { sum += Double(row[i]) }
                        let mean = sum / Double(width)
                        var squares = 0.0
                        for i in 0..<width {
                            let d = Double(row[i]) - mean
                            squares += d * d
                        }
                        let scale = Float(1 / (squares / Double(width) + Double(epsilon)).squareRoot())
                        let m = Float(mean)
                        for i in 0..<width { row[i] = (row[i] - m) * scale * w[i] + b[i] }
                    }
                }
            }
        }
    }

    /// The feed-forward activation in place over `count` floats.
    static func activate(_ x: UnsafeMutablePointer<Float>, count: Int, _ activation: BertConfiguration.Activation, pool: ComputePool) {
        let job = Pointers(x: x, y: nil)
        let chunk = 4096
        pool.parallelFor((count + chunk - 1) / chunk, chunk: 1) { range in
            for c in range {
                let start = c * chunk, end = Swift.min(count, start + chunk)
                switch activation {
                case .gelu:
                    var i = start
                    while i + 16 <= end {
                        let v = UnsafeRawPointer(job.x + i).loadUnaligned(as: SIMD16<Float>.self)
                        let g = 0.5 * v * (1 + erf16(v * 0.70710678118654752))
                        UnsafeMutableRawPointer(job.x + i).storeBytes(of: g, as: SIMD16<Float>.self)
                        i += 16
                    }
                    while i < end {
                        job.x[i] = 0.5 * job.x[i] * (1 + erff(job.x[i] * 0.70710678118654752))
                        i += 1
                    }
                case .geluNew, .geluPyTorchTanh:
                    for i in start..<end {
                        let v = job.x[i]
                        job.x[i] = 0.5 * v * (1 + tanhf(0.7978845608028654 * (v + 0.044715 * v * v * v)))
                    }
                case .relu:
                    for i in start..<end { job.x[i] = Swift.max(0, job.x[i]) }
                }
            }
        }
    }

    /// Bidirectional multi-head attention for packed sequences.
    /// - Parameters:
    ///   - qkv: per token, Q then K then V (`3 * heads * dim` floats).
    ///   - sequences: `(start, length)` of each sequence among the packed tokens; a token only
    ///     attends to tokens of its own sequence, which is what padding plus a mask gives.
    ///   - output: per token, the heads' outputs side by side (`heads * dim` floats).
    static func attention(qkv: UnsafePointer<Float>, sequences: [(start: Int, length: Int)], heads: Int, dim: Int,
                          output: UnsafeMutablePointer<Float>, pool: ComputePool) {
        let width = heads * dim, stride = 3 * width
        let scale = 1 / Float(dim).squareRoot()
        let job = Pointers(x: UnsafeMutablePointer(mutating: qkv), y: output)
        let longest = sequences.map(\.length).max() ?? 0
        pool.parallelFor(sequences.count * heads, chunk: 1) { range in
            withUnsafeTemporaryAllocation(of: Float.self, capacity: Swift.max(1, longest)) { scores in
                for item in range {
                    let (start, length) = sequences[item / heads]
                    let h = item % heads
                    for i in 0..<length {
                        let q = job.x + (start + i) * stride + h * dim
                        var best = -Float.infinity
                        for j in 0..<length {
                            let k = job.x + (start + j) * stride + width + h * dim
                            let s = dot(q, k, dim) * scale
                            scores[j] = s
                            best = Swift.max(best, s)
                        }
                        var total: Float = 0
                        for j in 0..<length {
                            let e = expf(scores[j] - best)
                            scores[j] = e
                            total += e
                        }
                        let out = job.y.unsafelyUnwrapped + (start + i) * width + h * dim
                        out.update(repeating: 0, count: dim)
                        for j in 0..<length {
                            let v = job.x + (start + j) * stride + 2 * width + h * dim
                            let p = scores[j] / total
                            for e in 0..<dim { out[e] += p * v[e] }
                        }
                    }
                }
            }
        }
    }

    /// erf of 16 floats at once: Eigen's rational approximation (odd degree-13 numerator over an
    /// even degree-8 denominator on [-4, 4], where erf reaches ±1 in float), within 5e-7 of the
    /// exact erf. libm's scalar `erff` was a quarter of the encoder's time.
    @inline(__always)
    static func erf16(_ a: SIMD16<Float>) -> SIMD16<Float> {
        let x = a.clamped(lowerBound: SIMD16(repeating: -4), upperBound: SIMD16(repeating: 4))
        let x2 = x * x
        var p = x2 * -2.72614225801306e-10 + 2.77068142495902e-08
        p = x2 * p + -2.10102402082508e-06
        p = x2 * p + -5.69250639462346e-05
        p = x2 * p + -7.34990630326855e-04
        p = x2 * p + -2.95459980854025e-03
        p = x2 * p + -1.60960333262415e-02
        p = x * p
        var q = x2 * -1.45660718464996e-05 + -2.13374055278905e-04
        q = x2 * q + -1.68282697438203e-03
        q = x2 * q + -7.37332916720468e-03
        q = x2 * q + -1.42647390514189e-02
        return p / q
    }

    /// Dot product with eight independent partial sums (vectorizes; float order differs from a
    /// plain loop only in rounding).
    @inline(__always)
    static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
        var acc = SIMD8<Float>()
        var i = 0
        while i + 8 <= n {
            acc += UnsafeRawPointer(a + i).loadUnaligned(as: SIMD8<Float>.self) * UnsafeRawPointer(b + i).loadUnaligned(as: SIMD8<Float>.self)
            i += 8
        }
        var sum = acc.sum()
        while i < n {
            sum += a[i] * b[i]
            i += 1
        }
        return sum
    }
}

/// Raw pointers handed to pool workers; each worker touches disjoint rows.
struct Pointers: @unchecked Sendable {
    let x: UnsafeMutablePointer<Float>
    let y: UnsafeMutablePointer<Float>?
}
