import ArgumentParser
import Foundation
import Logging
import NimbusEngine
import NimbusModels

/// `nimbus bench-batching`: total decode throughput of the continuous-batching engine with N
/// concurrent sequences, in process and without HTTP (what `nimbus bench` measures through the
/// API, minus the server). Each level runs N requests with distinct prompts at once.
struct BenchBatching: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-batching",
        abstract: "Measure engine throughput with 1, 4, 8, 16... concurrent sequences.")

    @Option(help: "GGUF model path.") var model: String
    @Option(help: "Concurrent sequences per level, comma-separated.") var sequences = "1,4,8,16"
    @Option(help: "Prompt tokens per request.") var promptTokens = 64
    @Option(help: "Generated tokens per request.") var outputTokens = 128
    @Option(help: "Compute threads (default: all cores).") var threads: Int?
    @Option(help: "Most tokens per engine step.") var maxBatchedTokens = 256

    func run() async throws {
        let levels = sequences.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !levels.isEmpty, levels.allSatisfy({ $0 > 0 }) else { throw ValidationError("--sequences needs positive integers") }
        let loaded = try ModelLoader.load(path: model, threads: threads ?? ProcessInfo.processInfo.activeProcessorCount,
                                          maxBatch: maxBatchedTokens)
        var configuration = EngineConfiguration()
        configuration.maxSequences = levels.max() ?? 16
        configuration.maxBatchedTokens = maxBatchedTokens
        configuration.kvCacheBytes = (levels.max() ?? 16) * (promptTokens + outputTokens + 32) * loaded.model.kvLayout(blockSize: configuration.blockSize).bytesPerToken
        let engine = try Engine(model: loaded, contextLength: promptTokens + outputTokens + 16,
                                configuration: configuration, logger: Logger(label: "bench"))
        let runner = Task { try await engine.run() }
        defer { runner.cancel() }
        print("nimbus  kernels=\(loaded.kernelPath) prompt=\(promptTokens) output=\(outputTokens)")
        print("seqs  total tok/s  per-seq tok/s  ttft p50 (s)  wall (s)")
        var request = 0
        for n in [1] + levels {  // the first level-1 run warms up the weights and is not printed
            let start = ContinuousClock.now
            let ttfts = try await withThrowingTaskGroup(of: Double.self) { group in
                for _ in 0..<n {
                    request += 1
                    let stream = try engine.submit(GenerationRequest(prompt: prompt(loaded, seed: request), maxTokens: outputTokens,
                                                                     ignoreEOS: true))
                    group.addTask {
                        var first: Double?
                        for try await event in stream where first == nil {
                            if case .token = event { first = (ContinuousClock.now - start).seconds }
                        }
                        return first ?? 0
                    }
                }
                return try await group.reduce(into: [Double]()) { $0.append($1) }
            }
            let wall = (ContinuousClock.now - start).seconds
            if request == 1 { continue }
            let total = Double(n * outputTokens) / wall
            print(String(format: "%4d  %12.1f  %13.1f  %12.3f  %8.2f", n, total, total / Double(n),
                         Stats(ttfts).median, wall))
        }
    }

    /// Distinct prompts of `promptTokens` tokens: no two share a prefix block.
    private func prompt(_ loaded: LoadedModel, seed: Int) -> [Int] {
        let words = ["river", "stone", "quiet", "engine", "harvest", "silver", "paper", "window", "orbit", "garden"]
        var text = "Request \(seed):"
        var state = UInt64(seed) &* 0x9E37_79B9_7F4A_7C15
        var tokens: [Int] = []
        while tokens.count < promptTokens {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            text += " " + words[Int(state >> 33) % words.count]
            tokens = loaded.tokenizer.encode(text, addSpecial: false, parseSpecial: false)
        }
        return Array(tokens.prefix(promptTokens))
    }
}
