// K-quant matmul in ggml's order against the blocked order (`--kquant`), on Qwen2.5-1.5B shapes:
// GMAC/s (multiply-adds per second) of `MatMul.multiply` on activations quantized beforehand.
// Each case cycles through enough copies of the matrix (about 96 MB) that the weights come from
// memory, not the L3, as in a real decode step.
import Foundation
import NimbusKernels

struct KQuantShape { let rows: Int; let cols: Int }

let kquantShapes = [
    KQuantShape(rows: 1536, cols: 1536), KQuantShape(rows: 8960, cols: 1536),
    KQuantShape(rows: 1536, cols: 8960), KQuantShape(rows: 256, cols: 1536),
]

/// Random quants with every fp16 scale set to a small constant (0.01).
func kquantWeights(_ type: QuantType, rows: Int, cols: Int) throws -> [UInt8] {
    let rowBytes = try type.rowBytes(count: cols)
    var state: UInt64 = 0x9E37_79B9_7F4A_7C15 &* UInt64(rows &+ 31 &* cols)
    var w = (0..<rowBytes * rows).map { _ -> UInt8 in  // xorshift: fast enough for 100 MB
        state ^= state << 13; state ^= state >> 7; state ^= state << 17
        return UInt8(truncatingIfNeeded: state >> 24)
    }
    let halves = type == .q6_K ? [208] : [0, 2]
    for b in stride(from: 0, to: w.count, by: type.blockBytes) {
        for o in halves { w[b + o] = 0x1F; w[b + o + 1] = 0x21 }
    }
    return w
}

/// `hot`: one copy of each matrix (weights from the caches: the kernels' compute speed).
func kquantBench(pool: ComputePool, quick: Bool, hot: Bool) throws {
    print("K-quant matmul, avx512vnni path, \(pool.threadCount) threads, \(hot ? "hot" : "cold") weights: GMAC/s ggml order -> blocked order")
    guard KernelPath.avx512vnni.isSupported else { print("no AVX-512 VNNI on this CPU"); return }
    let ggml = try MatMul(pool: pool, path: .avx512vnni, order: .ggml)
    let blocked = try MatMul(pool: pool, path: .avx512vnni, order: .blocked)
    let acts = ActivationBuffer()
    // KQ_TYPE=q6_K (one type) and KQ_SHAPE=i (one shape) narrow the run, e.g. under perf.
    let only = ProcessInfo.processInfo.environment
    for type in [QuantType.q4_K, .q5_K, .q6_K] where only["KQ_TYPE"].map({ $0 == type.description }) ?? true {
        for (i, s) in kquantShapes.enumerated() where only["KQ_SHAPE"].map({ $0 == String(i) }) ?? true {
            let w = try kquantWeights(type, rows: s.rows, cols: s.cols)
            let copies = hot ? 1 : max(1, 96 << 20 / w.count)
            let storage = UnsafeMutableRawPointer.allocate(byteCount: w.count * copies, alignment: 64)
            defer { storage.deallocate() }
            for c in 0..<copies { w.withUnsafeBytes { (storage + c * w.count).copyMemory(from: $0.baseAddress!, byteCount: w.count) } }
            var plain: [WeightMatrix] = []
            for c in 0..<copies { plain.append(try WeightMatrix(rows: s.rows, columns: s.cols, type: type, base: storage + c * w.count)) }
            let t0 = now()
            let interleaved = plain.compactMap { $0.interleavedForBlockedOrder(keeping: nil) }
            let repack = Double(w.count * copies) / (now() - t0) * 1e-9
            guard interleaved.count == copies else { print("no interleaved layout for \(type)"); return }
            var line = String(format: "%-5@ %5dx%-5d", type.description, s.rows, s.cols)
            try withExtendedLifetime(interleaved) {
            for batch in quick ? [1, 16] : [1, 16, 64, 512] {
                let x = (0..<s.cols * batch).map { i in Float((i &* 7919) % 2001 - 1000) / 1000 }
                var y = [Float](repeating: 0, count: s.rows * batch)
                try ggml.quantize(x, inputStride: s.cols, batch: batch, columns: s.cols, for: type, into: acts)
                var rates: [Double] = []
                for (mm, ws) in [(ggml, plain), (blocked, interleaved.map(\.matrix))] {
                    var best = Double.infinity
                    var i = 0
                    try y.withUnsafeMutableBufferPointer { yp in
                        let out = yp.baseAddress!
                        try mm.multiply(ws[0], acts, output: out, outputStride: s.rows)
                        for _ in 0..<(quick ? 3 : 5) {  // best of several trials: the cores are shared
                            let t0 = now()
                            var n = 0
                            repeat {
                                try mm.multiply(ws[i % copies], acts, output: out, outputStride: s.rows)
                                i += 1; n += 1
                            } while now() - t0 < 0.05
                            best = min(best, (now() - t0) / Double(n))
                        }
                    }
                    rates.append(Double(s.rows * s.cols * batch) / best * 1e-9)
                }
                line += String(format: "  B=%-3d %6.1f -> %6.1f", batch, rates[0], rates[1])
            }
            }
            print(line + String(format: "  (interleaving at load: %.2f GB/s)", repack))
        }
    }
}
