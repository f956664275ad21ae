import Foundation
import NimbusKernels
import Testing
import NimbusTestSupport

/// Attention and SwiGLU steps against llama.cpp's own layer-0 tensors of SmolLM2
/// (scripts/fixtures/gen_attention_fixtures.py), and every SIMD path against the scalar twin.
/// All comparisons are exact.
@Suite struct AttentionKernelTests {
    struct Shape: Decodable {
        let promptTokens, heads, kvHeads, dimension, ffn, swigluRows: Int
        let scale: Float
    }

    static func half(_ x: [Float]) -> [Float] { x.map { Float(Float16($0)) } }
    /// The fp16 bit patterns the KV cache stores.
    static func halfBits(_ x: [Float]) -> [UInt16] { x.map { Float16($0).bitPattern } }

    /// Runs scores → softmax → mix for every head and row of one llama.cpp ubatch.
    func check(phase: String, firstPosition: Int, rows: Int, path: KernelPath) throws {
        let dir = try #require(Fixtures.directory)
        let s = try JSONDecoder().decode(Shape.self, from: Data(contentsOf: dir.appendingPathComponent("attention.json")))
        let q = Self.half(try Fixtures.floats("attn_\(phase)_q.f32"))
        let k = Self.halfBits(try Fixtures.floats("attn_k.f32")), v = Self.halfBits(try Fixtures.floats("attn_v.f32"))
        let kq = try Fixtures.floats("attn_\(phase)_kq.f32"), probs = try Fixtures.floats("attn_\(phase)_probs.f32")
        let kqv = try Fixtures.floats("attn_\(phase)_kqv.f32")
        let d = s.dimension, kvDim = s.kvHeads * d
        var offset = 0
        var scratch = [Float](repeating: .nan, count: AttentionKernels.mixScratchCount(dimension: d))
        for h in 0..<s.heads {
            let g = h / (s.heads / s.kvHeads)
            for t in 0..<rows {
                let visible = firstPosition + t + 1
                var scores = [Float](repeating: .nan, count: visible)
                var out = [Float](repeating: .nan, count: d)
                let qRow = Array(q[(t * s.heads + h) * d..<(t * s.heads + h + 1) * d])
                k.withUnsafeBufferPointer { kp in
                    AttentionKernels.scores(query: qRow, keys: kp.baseAddress! + g * d, stride: kvDim, count: visible,
                                            dimension: d, batched: rows > 1, into: &scores, path: path)
                }
                #expect(scores.map(\.bitPattern) == kq[offset..<offset + visible].map(\.bitPattern), "kq \(phase) h\(h) t\(t) \(path)")
                // Softmax and the mix are checked on llama.cpp's own inputs, so a failure points at one step.
                var p = Array(kq[offset..<offset + visible])
                AttentionKernels.softmax(&p, count: visible, scale: s.scale, path: path)
                #expect(p.map(\.bitPattern) == probs[offset..<offset + visible].map(\.bitPattern), "softmax \(phase) h\(h) t\(t) \(path)")
                let weights = Array(probs[offset..<offset + visible])
                v.withUnsafeBufferPointer { vp in
                    AttentionKernels.mix(weights: weights, values: vp.baseAddress! + g * d, stride: kvDim, count: visible,
                                         dimension: d, batched: rows > 1, scratch: &scratch, into: &out, path: path)
                }
                let expected = kqv[(h * rows + t) * d..<(h * rows + t + 1) * d]
                #expect(out.map(\.bitPattern) == expected.map(\.bitPattern), "kqv \(phase) h\(h) t\(t) \(path)")
                offset += visible
            }
        }
    }

    @Test(arguments: KernelPath.supported)
    func batchedAttentionEqualsLlamaCpp(path: KernelPath) throws {
        try check(phase: "prompt", firstPosition: 0, rows: 7, path: path)
    }

    @Test(arguments: KernelPath.supported)
    func decodeAttentionEqualsLlamaCpp(path: KernelPath) throws {
        try check(phase: "decode", firstPosition: 7, rows: 1, path: path)
    }

    @Test(arguments: KernelPath.supported)
    func swiGLUEqualsLlamaCpp(path: KernelPath) throws {
        var gate = try Fixtures.floats("swiglu_gate.f32")
        let up = try Fixtures.floats("swiglu_up.f32"), expected = try Fixtures.floats("swiglu_out.f32")
        let width = gate.count / 2
        // Row by row, as ggml runs the op (its 16-wide blocks restart at each row).
        gate.withUnsafeMutableBufferPointer { g in
            up.withUnsafeBufferPointer { u in
                for r in 0..<2 {
                    ActivationKernels.swiGLU(gate: g.baseAddress! + r * width, up: u.baseAddress! + r * width, count: width, path: path)
                }
            }
        }
        #expect(gate.map(\.bitPattern) == expected.map(\.bitPattern))
    }

    /// Awkward lengths (partial 16-blocks, more than 64 positions, head sizes that are not a
    /// multiple of 16 or 64) give the scalar twin's bits on every path.
    @Test func simdMatchesScalar() {
        var rng = SplitMix64(seed: 99)
        for dim in [64, 128, 80, 48, 36, 256] {
            for count in [1, 2, 3, 15, 16, 17, 63, 64, 65, 130, 300] {
                let stride = dim * 3 + 5
                let q = AttentionKernelTests.half(rng.activations(dim))
                let keys = AttentionKernelTests.halfBits(rng.activations(count * stride, scale: 3))
                for batched in [false, true] {
                    var reference: (scores: [Float], probs: [Float], out: [Float])?
                    for path in KernelPath.supported.reversed() + [.scalar] {
                        var scores = [Float](repeating: 0, count: count), out = [Float](repeating: 0, count: dim)
                        var scratch = [Float](repeating: .nan, count: AttentionKernels.mixScratchCount(dimension: dim))
                        AttentionKernels.scores(query: q, keys: keys, stride: stride, count: count, dimension: dim,
                                                batched: batched, into: &scores, path: path)
                        var probs = scores
                        AttentionKernels.softmax(&probs, count: count, scale: 0.125, path: path)
                        AttentionKernels.mix(weights: probs, values: keys, stride: stride, count: count, dimension: dim,
                                             batched: batched, scratch: &scratch, into: &out, path: path)
                        let r = reference ?? (scores, probs, out)
                        reference = r
                        #expect(scores.map(\.bitPattern) == r.scores.map(\.bitPattern), "scores \(dim) \(count) \(batched) \(path)")
                        #expect(probs.map(\.bitPattern) == r.probs.map(\.bitPattern), "softmax \(dim) \(count) \(path)")
                        #expect(out.map(\.bitPattern) == r.out.map(\.bitPattern), "mix \(dim) \(count) \(batched) \(path)")
                        #expect(!out.contains { $0.isNaN })
                    }
                }
            }
        }
        for n in [1, 15, 16, 17, 100, 1536] {
            let g = rng.activations(n, scale: 8), u = rng.activations(n)
            var results: [[UInt32]] = []
            for path in KernelPath.supported {
                var y = g
                ActivationKernels.swiGLU(gate: &y, up: u, count: n, path: path)
                results.append(y.map(\.bitPattern))
            }
            #expect(Set(results).count == 1, "swiglu \(n)")
        }
    }
}
