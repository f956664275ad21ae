import ArgumentParser
import Foundation
import NimbusModels

/// `nimbus bench-engine`: single-stream prefill and decode speed of the engine on one model,
/// without HTTP, so it compares directly with llama.cpp's `llama-bench` style figures.
struct BenchEngine: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-engine",
        abstract: "Measure single-stream prefill and decode tokens/s.")

    @Option(help: "GGUF model path.") var model: String
    @Option(help: "Prompt length in tokens for the prefill measurement.") var promptTokens = 512
    @Option(help: "Tokens to decode per run.") var decodeTokens = 128
    @Option(help: "Measured runs (after one warm-up).") var runs = 5
    @Option(help: "Compute threads (default: all cores).") var threads: Int?
    @Flag(help: "Print one JSON object instead of a table.") var json = false

    func run() throws {
        let threadCount = threads ?? ProcessInfo.processInfo.activeProcessorCount
        let loaded = try ModelLoader.load(path: model, threads: threadCount)
        let lm = loaded.model
        // A natural-text prompt repeated to the wanted length, so the tokens are realistic.
        let text = "The quick brown fox jumps over the lazy dog while the scientists measure the speed of light. "
        var prompt: [Int] = []
        while prompt.count < promptTokens { prompt += loaded.tokenizer.encode(text, addSpecial: false, parseSpecial: false) }
        prompt = Array(prompt.prefix(promptTokens))
        var logits = [Float](repeating: 0, count: lm.vocabularySize)

        var prefillRates: [Double] = [], decodeRates: [Double] = []
        for run in 0...runs {
            let cache = lm.makeCache(capacity: promptTokens + decodeTokens + 1)
            let t0 = ContinuousClock.now
            try logits.withUnsafeMutableBufferPointer { try lm.forward(tokens: prompt, cache: cache, logits: $0) }
            let prefill = ContinuousClock.now - t0
            // Decode from a short prompt, like an interactive request.
            let decodeCache = lm.makeCache(capacity: decodeTokens + 16)
            try logits.withUnsafeMutableBufferPointer { try lm.forward(tokens: Array(prompt.prefix(8)), cache: decodeCache, logits: $0) }
            let t1 = ContinuousClock.now
            for _ in 0..<decodeTokens {
                let next = argmax(logits)
                try logits.withUnsafeMutableBufferPointer { try lm.forward(tokens: [next], cache: decodeCache, logits: $0) }
            }
            let decode = ContinuousClock.now - t1
            guard run > 0 else { continue }  // the first run warms caches and page-faults the weights in
            prefillRates.append(Double(promptTokens) / prefill.seconds)
            decodeRates.append(Double(decodeTokens) / decode.seconds)
        }
        let p = Stats(prefillRates), d = Stats(decodeRates)
        if json {
            print("{\"engine\":\"nimbus\",\"kernels\":\"\(loaded.kernelPath)\",\"threads\":\(threadCount),\"prompt_tokens\":\(promptTokens),\"decode_tokens\":\(decodeTokens),"
                + "\"prefill_tps\":{\"min\":\(p.min),\"median\":\(p.median),\"max\":\(p.max)},"
                + "\"decode_tps\":{\"min\":\(d.min),\"median\":\(d.median),\"max\":\(d.max)}}")
        } else {
            print("nimbus  kernels=\(loaded.kernelPath) threads=\(threadCount) runs=\(runs)")
            print(String(format: "prefill %4d tokens: %8.1f tok/s median (min %.1f, max %.1f)", promptTokens, p.median, p.min, p.max))
            print(String(format: "decode  %4d tokens: %8.1f tok/s median (min %.1f, max %.1f)", decodeTokens, d.median, d.min, d.max))
        }
    }

    private func argmax(_ x: [Float]) -> Int {
        var best = 0
        for i in x.indices where x[i] > x[best] { best = i }
        return best
    }
}

struct Stats {
    let min: Double, median: Double, max: Double
    init(_ values: [Double]) {
        let s = values.sorted()
        min = s.first ?? 0
        max = s.last ?? 0
        median = s.isEmpty ? 0 : s[s.count / 2]
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) * 1e-18 }
}
