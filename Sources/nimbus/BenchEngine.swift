import ArgumentParser
import Foundation
import NimbusEngine
import NimbusModels

/// `nimbus bench-engine`: single-stream prefill and decode speed of the engine on one model,
/// without HTTP, so it compares directly with llama.cpp's `llama-bench` style figures. With
/// `--compare-llama-cpp` it then runs scripts/bench_llama_cpp.py (llama-cpp-python) on the same
/// file, thread count and token counts and prints the ratios (BenchEngine+Compare.swift).
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
    @Option(help: "Requantize float weights at load: q8_0 or q4_0.") var quantization: String?
    @Flag(help: "Also run llama.cpp (llama-cpp-python) on the same model and print the ratios.") var compareLlamaCpp = false
    @Option(help: "The llama.cpp benchmark script.") var llamaCppScript = "scripts/bench_llama_cpp.py"
    @Option(help: "Python interpreter with llama-cpp-python.") var python = "python3"
    @Option(help: "Sequence counts for batched decode (comma-separated; empty: skip).") var batchSequences = "4,8,16"

    func run() throws {
        let figures = try measure()
        guard compareLlamaCpp else {
            print(json ? figures.json : figures.table)
            return
        }
        let reference = try runLlamaCpp(threads: figures.threads)
        if json {
            print("{\"nimbus\":\(figures.json),\"llama_cpp\":\(reference.raw),\"ratios\":\(ratios(figures, reference).json)}")
        } else {
            print(figures.table)
            print(reference.table)
            print(ratios(figures, reference).table)
        }
    }

    /// Nimbus's own figures (one warm-up, then `runs` measured runs).
    func measure() throws -> BenchFigures {
        let threadCount = threads ?? ProcessInfo.processInfo.activeProcessorCount
        var requantize: WeightQuantization?
        if let quantization {
            guard let q = WeightQuantization(rawValue: quantization.lowercased()) else {
                throw ValidationError("--quantization must be q8_0 or q4_0, got '\(quantization)'")
            }
            requantize = q
        }
        let loaded = try ModelLoader.load(path: model, threads: threadCount, quantization: requantize)
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
        for note in loaded.loadNotes { FileHandle.standardError.write(Data("nimbus: \(note)\n".utf8)) }
        let counts = batchSequences.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }.filter { $0 > 0 }
        return BenchFigures(kernels: loaded.kernelPath, order: loaded.model.backend.matmulOrder, threads: threadCount, runs: runs, promptTokens: promptTokens,
                            decodeTokens: decodeTokens, prefill: Stats(prefillRates), decode: Stats(decodeRates),
                            batched: try batchedDecode(lm, prompt: prompt, sequenceCounts: counts))
    }

    func argmax(_ x: UnsafeBufferPointer<Float>) -> Int {
        var best = 0
        for i in x.indices where x[i] > x[best] { best = i }
        return best
    }

    func argmax(_ x: [Float]) -> Int { x.withUnsafeBufferPointer { argmax($0) } }
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
