// Kernel benchmark on SmolLM2-135M shapes: GFLOP/s and weight GB/s per dispatch path.
// Usage: nimbus-kernels-bench [threads] [--quick] [--kquant [--hot] (K-quant orders, KQuantBench.swift)]
//        [--stream (page size and prefetch for the decode weight stream, StreamBench.swift)]
import Foundation
import NimbusKernels

let args = CommandLine.arguments
let threads = args.dropFirst().compactMap { Int($0) }.first ?? 2
let quick = args.contains("--quick")
let pool = ComputePool(threads: threads)

func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}

struct Shape { let name: String; let type: QuantType; let k: Int; let n: Int }
let shapes = [
    Shape(name: "attn_q/o 576->576", type: .q4_1, k: 576, n: 576),
    Shape(name: "attn_k/v 576->192", type: .q4_1, k: 576, n: 192),
    Shape(name: "ffn_up   576->1536", type: .q4_1, k: 576, n: 1536),
    Shape(name: "ffn_down 1536->576", type: .q4_1, k: 1536, n: 576),
    Shape(name: "output   576->49152", type: .q8_0, k: 576, n: 49152),
]

// ComputePool per-call overhead.
do {
    let iters = 20_000
    pool.parallelFor(threads, chunk: 1) { _ in }
    let t0 = now()
    for _ in 0..<iters { pool.parallelFor(threads, chunk: 1) { _ in } }
    print(String(format: "ComputePool(%d threads): %.2f µs per empty parallelFor", pool.threadCount, (now() - t0) / Double(iters) * 1e6))
}

if args.contains("--stream") {
    for type in [QuantType.q4_K, .q6_K] { try streamBench(pool: pool, rounds: quick ? 10 : 30, type: type) }
    exit(0)
}

if args.contains("--kquant") {
    try kquantBench(pool: pool, quick: quick, hot: args.contains("--hot"))
    exit(0)
}

if args.contains("--dist") {
    // Distribution of per-call times for a small decode-sized job.
    let k = 576, n = 576
    var w = [UInt8](repeating: 0x11, count: n * k / 32 * 20)
    for b in stride(from: 0, to: w.count, by: 20) { w[b] = 0x1F; w[b + 1] = 0x21 }
    let x = [Float](repeating: 0.5, count: k)
    var y = [Float](repeating: 0, count: n)
    let mm = try MatMul(pool: pool)
    var times: [Double] = []
    try w.withUnsafeBytes { wb in
        let wm = try WeightMatrix(rows: n, columns: k, type: .q4_1, base: wb.baseAddress!)
        for _ in 0..<3000 {
            let t0 = now()
            try mm.multiply(wm, input: x, inputStride: k, batch: 1, output: &y, outputStride: n)
            times.append(now() - t0)
        }
    }
    times.sort()
    print(String(format: "q4_1 576x576 B=1: min %.1f µs, median %.1f, p90 %.1f, p99 %.1f, max %.1f",
                 times[0] * 1e6, times[1500] * 1e6, times[2700] * 1e6, times[2970] * 1e6, times[2999] * 1e6))
    exit(0)
}
print("CPU paths: \(KernelPath.supported.map(\.rawValue)), default \(KernelPath.detected.rawValue), \(threads) threads")
var rng = SystemRandomNumberGenerator()
for path in KernelPath.supported {
    let mm = try MatMul(pool: pool, path: path)
    for s in shapes {
        let rowBytes = try s.type.rowBytes(count: s.k)
        var w = [UInt8](repeating: 0, count: rowBytes * s.n)
        for i in 0..<w.count { w[i] = UInt8.random(in: 0...255, using: &rng) }
        // Keep scales finite and small: set each block's fp16 d (and m) to 0.01.
        for b in stride(from: 0, to: w.count, by: s.type.blockBytes) {
            w[b] = 0x1F; w[b + 1] = 0x21
            if s.type == .q4_1 { w[b + 2] = 0x1F; w[b + 3] = 0x21 }
        }
        for batch in quick ? [1, 64] : [1, 64, 512] {
            if path == .scalar && batch > 1 && s.n > 2000 { continue }
            let x = (0..<s.k * batch).map { _ in Float.random(in: -1...1, using: &rng) }
            var y = [Float](repeating: 0, count: s.n * batch)
            try w.withUnsafeBytes { wb in
                let wm = try WeightMatrix(rows: s.n, columns: s.k, type: s.type, base: wb.baseAddress!)
                try x.withUnsafeBufferPointer { xp in
                    try y.withUnsafeMutableBufferPointer { yp in
                        let out = yp.baseAddress!
                        let run = { () throws(KernelError) in
                            try mm.multiply(wm, input: xp.baseAddress!, inputStride: s.k, batch: batch, output: out, outputStride: s.n)
                        }
                        try run()
                        let flops = 2.0 * Double(s.k * s.n * batch)
                        var iters = 0
                        let t0 = now()
                        var t = 0.0
                        repeat { try run(); iters += 1; t = now() - t0 } while t < (quick ? 0.15 : 0.4)
                        let per = t / Double(iters)
                        print(String(format: "%-11@ %-20@ B=%-4d %9.1f µs %8.1f GFLOP/s %7.1f GB/s(w)",
                                     path.rawValue, s.name, batch, per * 1e6, flops / per * 1e-9, Double(w.count) / per * 1e-9))
                    }
                }
            }
        }
    }
}
