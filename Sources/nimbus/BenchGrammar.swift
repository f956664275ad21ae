import ArgumentParser
import Foundation
import NimbusEngine
import NimbusGrammar
import NimbusModels

/// `nimbus bench-grammar`: what structured output costs outside the forward pass, for a model's
/// vocabulary: building the vocabulary trie, compiling each schema with its first token mask,
/// a cached mask, and masks along a random valid output (new states, then the same ones again).
struct BenchGrammar: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-grammar",
        abstract: "Measure schema compilation and token-mask costs for a model's vocabulary.")

    @Option(help: "GGUF model (its vocabulary is used).") var model: String
    @Option(help: "Folder of JSON Schema files.") var schemas = "tests/e2e/structured/schemas"
    @Option(help: "Tokens per random walk.") var tokens = 200
    @Flag(help: "Print one JSON object instead of a table.") var json = false

    func run() throws {
        let loaded = try ModelLoader.load(path: model, threads: 1, maxBatch: 1)
        let tokenizer = loaded.tokenizer
        let size = loaded.model.vocabularySize
        let bytes = (0..<size).map { $0 < tokenizer.vocabularySize ? tokenizer.pieceBytes($0, renderSpecial: false) : [] }
        var clock = ContinuousClock.now
        let trie = VocabularyTrie(tokenBytes: bytes)
        let trieMs = milliseconds(since: clock)
        let files = try FileManager.default.contentsOfDirectory(atPath: schemas).filter { $0.hasSuffix(".json") }.sorted()
        var rows: [(name: String, compile: Double, cached: Double, cold: Double, warm: Double)] = []
        for file in files {
            let text = try String(contentsOfFile: schemas + "/" + file, encoding: .utf8)
            clock = .now
            // Compile, check, and build the index with the first state's mask: what a new schema costs.
            let grammar = try JSONSchemaCompiler.grammar(schema: text)
            let index = try GrammarIndex(grammar: grammar, trie: trie)
            let compile = milliseconds(since: clock)
            clock = .now
            _ = index.mask(for: index.automaton.initial)
            let cached = milliseconds(since: clock) * 1000
            let cold = walk(index, bytes: bytes)
            let warm = walk(index, bytes: bytes)
            rows.append((file, compile, cached, cold, warm))
        }
        let compiles = rows.map(\.compile).sorted()
        if json {
            let items = rows.map { #"{"schema":"\#($0.name)","compile_ms":\#(f($0.compile)),"cached_mask_us":\#(f($0.cached)),"cold_mask_us_per_token":\#(f($0.cold)),"warm_mask_us_per_token":\#(f($0.warm))}"# }
            print(#"{"vocabulary":\#(size),"trie_ms":\#(f(trieMs)),"median_compile_ms":\#(f(compiles[compiles.count / 2])),"schemas":[\#(items.joined(separator: ","))]}"#)
            return
        }
        print("vocabulary \(size) tokens, trie built in \(f(trieMs)) ms")
        print("schema                              compile+first mask (ms)  cached mask (us)  mask/token cold (us)  warm (us)")
        for r in rows {
            print(r.name.padding(toLength: 36, withPad: " ", startingAt: 0)
                  + String(format: "%12.2f %20.1f %18.1f %12.1f", r.compile, r.cached, r.cold, r.warm))
        }
        print("median compile+first mask: \(f(compiles[compiles.count / 2])) ms, max \(f(compiles.last ?? 0)) ms")
    }

    /// Microseconds per token to get masks along a random valid output of `tokens` tokens (fixed
    /// seed, so a second walk revisits the same states from the cache).
    private func walk(_ index: GrammarIndex, bytes: [[UInt8]]) -> Double {
        var rng = SplitMix64(state: 7)  // the sampler's seeding generator, for a reproducible walk
        var matcher = GrammarMatcher(index: index) { bytes[$0] }
        var steps = 0
        let start = ContinuousClock.now
        while steps < tokens, !matcher.isComplete {
            let mask = matcher.allowedTokens()
            var allowed: [Int] = []
            for (w, word) in mask.words.enumerated() where word != 0 {
                for bit in 0..<64 where word & (1 << UInt64(bit)) != 0 { allowed.append(w * 64 + bit) }
            }
            guard !allowed.isEmpty else { break }
            matcher.accept(allowed[Int(rng.next() % UInt64(allowed.count))])
            steps += 1
        }
        return milliseconds(since: start) * 1000 / Double(max(steps, 1))
    }

    private func milliseconds(since start: ContinuousClock.Instant) -> Double {
        let d = ContinuousClock.now - start
        return Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15
    }

    private func f(_ x: Double) -> String { String(format: "%.2f", x) }
}
