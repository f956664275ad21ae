import ArgumentParser
import Foundation
import NimbusEngine
import NimbusModels

/// `nimbus bench-embeddings`: sentences per second of an encoder folder for batches of short
/// sentences, without HTTP, comparable with `scripts/bench_sentence_transformers.py`.
struct BenchEmbeddings: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-embeddings",
        abstract: "Measure embedding sentences/s for batches of short sentences.")

    @Option(help: "Hugging Face encoder folder.") var model: String
    @Option(help: "Batch sizes, comma-separated.") var batches = "1,8,32"
    @Option(help: "Seconds to measure each batch size (after one warm-up batch).") var seconds = 3.0
    @Option(help: "Compute threads (default: all cores).") var threads: Int?
    @Flag(help: "Print one JSON object instead of a table.") var json = false

    /// Short sentences (8-16 words), shared with the sentence-transformers script.
    static let sentences = [
        "The quick brown fox jumps over the lazy dog.",
        "A man is playing a guitar on the street corner.",
        "What is the capital city of France?",
        "Deep learning models need a lot of training data.",
        "The weather is lovely today, let us go for a walk.",
        "Stock markets fell sharply after the announcement.",
        "She bought fresh bread and cheese at the market.",
        "How do I reset my password on this website?",
    ]

    func run() throws {
        let threadCount = threads ?? ProcessInfo.processInfo.activeProcessorCount
        let encoder = try EncoderLoader.load(directory: model, threads: threadCount)
        let sizes = batches.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }.filter { $0 > 0 }
        var rows: [(batch: Int, rate: Double)] = []
        for size in sizes {
            let batch = try (0..<size).map { i in
                try encoder.sequence(encoder.tokens(Self.sentences[i % Self.sentences.count]), truncation: .end)
            }
            _ = try encoder.model.embed(batch, pooling: encoder.settings.pooling, normalize: encoder.settings.normalize)
            var done = 0
            let start = ContinuousClock.now
            while (ContinuousClock.now - start).seconds < seconds {
                _ = try encoder.model.embed(batch, pooling: encoder.settings.pooling, normalize: encoder.settings.normalize)
                done += size
            }
            rows.append((size, Double(done) / (ContinuousClock.now - start).seconds))
        }
        if json {
            let items = rows.map { "\"\($0.batch)\":\(String(format: "%.1f", $0.rate))" }.joined(separator: ",")
            print("{\"engine\":\"nimbus\",\"kernels\":\"\(encoder.kernelPath)\",\"threads\":\(threadCount),\"sentences_per_second\":{\(items)}}")
        } else {
            print("nimbus  kernels=\(encoder.kernelPath) threads=\(threadCount)")
            for row in rows { print(String(format: "batch %3d: %8.1f sentences/s", row.batch, row.rate)) }
        }
    }
}
