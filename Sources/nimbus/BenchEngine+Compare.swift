import ArgumentParser
import Foundation
import NimbusModels

/// What one `bench-engine` run measured on Nimbus.
struct BenchFigures {
    let kernels: String
    /// The matmul `SummationOrder` (ggml or blocked).
    let order: String
    let threads: Int
    let runs: Int
    let promptTokens: Int
    let decodeTokens: Int
    let prefill: Stats
    let decode: Stats
    /// Total decode tokens/s of N sequences decoding together (see `BenchEngine.batchedDecode`).
    let batched: [(rows: Int, stats: Stats)]

    var table: String {
        var lines = [
            "nimbus    kernels=\(kernels) matmul_order=\(order) threads=\(threads) runs=\(runs)",
            String(format: "  prefill %4d tokens: %8.1f tok/s median (min %.1f, max %.1f)", promptTokens, prefill.median, prefill.min, prefill.max),
            String(format: "  decode  %4d tokens: %8.1f tok/s median (min %.1f, max %.1f)", decodeTokens, decode.median, decode.min, decode.max),
        ]
        for b in batched {
            lines.append(String(format: "  decode %2d sequences: %8.1f tok/s median in total (min %.1f, max %.1f)",
                                b.rows, b.stats.median, b.stats.min, b.stats.max))
        }
        return lines.joined(separator: "\n")
    }

    var json: String {
        let rows = batched.map { "{\"sequences\":\($0.rows),\"tps\":\($0.stats.json)}" }.joined(separator: ",")
        return "{\"engine\":\"nimbus\",\"kernels\":\"\(kernels)\",\"matmul_order\":\"\(order)\",\"threads\":\(threads),\"runs\":\(runs),"
            + "\"prompt_tokens\":\(promptTokens),\"decode_tokens\":\(decodeTokens),"
            + "\"prefill_tps\":\(prefill.json),\"decode_tps\":\(decode.json),\"batched_decode_tps\":[\(rows)]}"
    }
}

extension Stats {
    var json: String { "{\"min\":\(min),\"median\":\(median),\"max\":\(max)}" }
    init(json: [String: Any]?) {
        let v = ["min", "median", "max"].map { (json?[$0] as? NSNumber)?.doubleValue ?? 0 }
        self.init(v)
    }
}

/// llama.cpp's figures as printed by scripts/bench_llama_cpp.py --json.
struct ReferenceFigures {
    let raw: String
    let prefill: Stats
    let decode: Stats
    let threads: Int

    var table: String {
        [
            "llama.cpp threads=\(threads) (llama-cpp-python, same model and token counts)",
            String(format: "  prefill: %8.1f tok/s median (min %.1f, max %.1f)", prefill.median, prefill.min, prefill.max),
            String(format: "  decode:  %8.1f tok/s median (min %.1f, max %.1f)", decode.median, decode.min, decode.max),
        ].joined(separator: "\n")
    }
}

/// Nimbus / llama.cpp for each statistic.
struct Ratios {
    let prefill: (min: Double, median: Double, max: Double)
    let decode: (min: Double, median: Double, max: Double)

    var table: String {
        [
            "ratio nimbus / llama.cpp",
            String(format: "  prefill: %.2fx median (min/min %.2fx, max/max %.2fx)", prefill.median, prefill.min, prefill.max),
            String(format: "  decode:  %.2fx median (min/min %.2fx, max/max %.2fx)", decode.median, decode.min, decode.max),
        ].joined(separator: "\n")
    }

    var json: String {
        "{\"prefill\":{\"min\":\(prefill.min),\"median\":\(prefill.median),\"max\":\(prefill.max)},"
            + "\"decode\":{\"min\":\(decode.min),\"median\":\(decode.median),\"max\":\(decode.max)}}"
    }
}

extension BenchEngine {
    /// Runs the llama.cpp benchmark script with this run's model, threads and token counts.
    /// - Throws: `ValidationError` naming the script when it fails or prints no JSON.
    func runLlamaCpp(threads: Int) throws -> ReferenceFigures {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [python, llamaCppScript, model, "--threads", "\(threads)", "--runs", "\(runs)",
                             "--prompt-tokens", "\(promptTokens)", "--decode-tokens", "\(decodeTokens)", "--json"]
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        guard process.terminationStatus == 0,
              let line = text.split(separator: "\n").last(where: { $0.hasPrefix("{") }),
              let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
            throw ValidationError("\(python) \(llamaCppScript) failed (exit \(process.terminationStatus)); is llama-cpp-python installed?")
        }
        return ReferenceFigures(raw: String(line), prefill: Stats(json: object["prefill_tps"] as? [String: Any]),
                                decode: Stats(json: object["decode_tps"] as? [String: Any]),
                                threads: (object["threads"] as? NSNumber)?.intValue ?? threads)
    }

    func ratios(_ n: BenchFigures, _ r: ReferenceFigures) -> Ratios {
        func div(_ a: Double, _ b: Double) -> Double { b > 0 ? a / b : 0 }
        return Ratios(prefill: (div(n.prefill.min, r.prefill.min), div(n.prefill.median, r.prefill.median), div(n.prefill.max, r.prefill.max)),
                      decode: (div(n.decode.min, r.decode.min), div(n.decode.median, r.decode.median), div(n.decode.max, r.decode.max)))
    }
}
