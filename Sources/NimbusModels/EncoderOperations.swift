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
    static func activate(_ x: UnsafeMutablePointer<Float>, count: Int, _ activation: BertConfiguration.Activation,
                         path: KernelPath, pool: ComputePool) {
        if activation == .gelu {
            GELU.apply(x, count: count, path: path, pool: pool)
            return
        }
        let job = Pointers(x: x, y: nil)
        let chunk = 4096
        pool.parallelFor((count + chunk - 1) / chunk, chunk: 1) { range in
            for c in range {
                let start = c * chunk, end = Swift.min(count, start + chunk)
                for i in start..<end {
                    let v = job.x[i]
                    if activation == .relu {
                        job.x[i] = Swift.max(0, v)
                    } else {
                        job.x[i] = 0.5 * v * (1 + tanhf(0.7978845608028654 * (v + 0.044715 * v * v * v)))
                    }
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
