// The weight stream of a decode step (`--stream`): about 600 MB of blocked Q4_K (and Q6_K) matrices
// (Qwen2.5-1.5B's ffn shape) multiplied by one activation column, in four variants: copies on
// huge or 4 KiB pages, with software prefetch off or 4096 bytes ahead. Variants alternate sweep
// by sweep in one process so the shared host's bandwidth swings hit them alike.
import CNimbusKernels
import Foundation
import NimbusKernels

func streamBench(pool: ComputePool, rounds: Int, type: QuantType) throws {
    guard KernelPath.avx512vnni.isSupported else { print("no AVX-512 VNNI on this CPU"); return }
    let rows = 8960, cols = 1536, copies = 24
    let mm = try MatMul(pool: pool, path: .avx512vnni, order: .blocked)
    let w = try kquantWeights(type, rows: rows, cols: cols)
    let source = UnsafeMutableRawPointer.allocate(byteCount: w.count, alignment: 64)
    defer { source.deallocate() }
    w.withUnsafeBytes { source.copyMemory(from: $0.baseAddress!, byteCount: w.count) }
    let plain = try WeightMatrix(rows: rows, columns: cols, type: type, base: source)
    func copiesMade(hugePages: Bool) -> [OwnedWeightMatrix] {
        setenv("NIMBUS_HUGEPAGES", hugePages ? "1" : "0", 1)
        defer { unsetenv("NIMBUS_HUGEPAGES") }
        return (0..<copies).compactMap { _ in plain.interleavedForBlockedOrder(keeping: nil) }
    }
    let huge = copiesMade(hugePages: true), small = copiesMade(hugePages: false)
    let variants = [("huge pages, no prefetch", huge, 0), ("4 KiB pages, no prefetch", small, 0),
                    ("huge pages, prefetch 4096", huge, 4096), ("4 KiB pages, prefetch 4096", small, 4096)]
    let chosen = nk_stream_prefetch_bytes()
    defer { nk_set_stream_prefetch_bytes(chosen) }
    let acts = ActivationBuffer()
    let x = (0..<cols).map { i in Float((i &* 7919) % 2001 - 1000) / 1000 }
    try mm.quantize(x, inputStride: cols, batch: 1, columns: cols, for: type, into: acts)
    var y = [Float](repeating: 0, count: rows)
    var rates: [[Double]] = variants.map { _ in [] }
    let bytes = Double(w.count * copies)
    try y.withUnsafeMutableBufferPointer { yp in
        for _ in 0..<rounds {
            for (v, variant) in variants.enumerated() {
                nk_set_stream_prefetch_bytes(variant.2)
                let t0 = now()
                for m in variant.1 { try mm.multiply(m.matrix, acts, output: yp.baseAddress!, outputStride: rows) }
                rates[v].append(bytes / (now() - t0) * 1e-9)
            }
        }
    }
    print("\(type) \(rows)x\(cols) x\(copies) copies, B=1, \(pool.threadCount) threads, \(rounds) sweeps each, GB/s of GGUF bytes (this CPU's default prefetch: \(chosen) bytes):")
    for (v, variant) in variants.enumerated() {
        let r = rates[v].sorted()
        let ratio = zip(rates[v], rates[0]).map { $0 / $1 }.sorted()
        print(String(format: "  %-27@ median %5.1f  min %5.1f  max %5.1f   vs first, sweep by sweep: %.2fx",
                     variant.0, r[r.count / 2], r[0], r[r.count - 1], ratio[ratio.count / 2]))
    }
}
