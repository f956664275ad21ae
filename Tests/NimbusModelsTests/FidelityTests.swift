import Foundation
import NimbusModels
import NimbusTestSupport
import Testing

/// Greedy decoding of the real SmolLM2 model, token for token against llama.cpp's output
/// recorded by scripts/fixtures/gen_fidelity_fixtures.py.
@Suite(.serialized, .enabled(if: TestModel.shouldRun))
struct FidelityTests {
    struct Fixture: Decodable {
        struct Case: Decodable {
            let name: String
            let text: String
            let special: Bool
            let prompt: [Int]
            let generated: [Int]
            let top2_gap: [Double]
        }
        let steps: Int
        let cases: [Case]
    }

    static let fixture: Fixture? = try? ModelFixture.load(Fixture.self, fixture: "fidelity_smollm2")
    static let model: LoadedModel? = try? ModelLoader.load(path: TestModel.path, threads: 2)

    @Test func modelLoads() throws {
        let loaded = try ModelLoader.load(path: TestModel.path, threads: 2)
        #expect(loaded.architecture == "llama")
        #expect(loaded.model.vocabularySize == 49152)
    }

    /// Our tokenizer must give llama.cpp's prompt ids, or the comparison below means nothing.
    @Test(arguments: 0..<14) func promptTokensMatch(index: Int) throws {
        let fixture = try #require(Self.fixture)
        let loaded = try #require(Self.model)
        let c = fixture.cases[index]
        #expect(loaded.tokenizer.encode(c.text, addSpecial: false, parseSpecial: c.special) == c.prompt, "\(c.name)")
    }

    @Test(arguments: 0..<14) func greedyMatchesLlamaCpp(index: Int) throws {
        let fixture = try #require(Self.fixture)
        let loaded = try #require(Self.model)
        let c = fixture.cases[index]
        let lm = loaded.model
        let cache = lm.makeCache(capacity: c.prompt.count + fixture.steps)
        var logits = [Float](repeating: 0, count: lm.vocabularySize)
        try logits.withUnsafeMutableBufferPointer { try lm.forward(tokens: c.prompt, cache: cache, logits: $0) }
        var generated: [Int] = []
        for _ in 0..<fixture.steps {
            var best = 0
            for i in logits.indices where logits[i] > logits[best] { best = i }
            generated.append(best)
            try logits.withUnsafeMutableBufferPointer { try lm.forward(tokens: [best], cache: cache, logits: $0) }
        }
        let firstDifference = zip(generated, c.generated).enumerated().first { $0.element.0 != $0.element.1 }?.offset
        #expect(generated == c.generated,
                "\(c.name): first difference at step \(firstDifference ?? -1), llama.cpp's top-2 gap there \(firstDifference.map { c.top2_gap[$0] } ?? 0)")
    }

    /// A prompt prefilled in chunks (as a long prompt is) leaves exactly the logits of one
    /// batch: rows of a matmul are independent and each query's attention is computed alike.
    /// (One-token steps are another matter: llama.cpp, and so Nimbus, sums attention in a
    /// different order for a single token, so only multi-token chunks are bit-identical.)
    @Test func chunkedPrefillEqualsOneBatch() throws {
        let fixture = try #require(Self.fixture)
        let whole = try #require(Self.model).model
        let chunked = try ModelLoader.load(path: TestModel.path, threads: 2, maxBatch: 4).model
        let prompt = fixture.cases[1].prompt  // 19 tokens: chunks of 4, 4, 4, 4, 3
        var a = [Float](repeating: 0, count: whole.vocabularySize)
        var b = a
        let cacheA = whole.makeCache(capacity: prompt.count), cacheB = chunked.makeCache(capacity: prompt.count)
        try a.withUnsafeMutableBufferPointer { try whole.forward(tokens: prompt, cache: cacheA, logits: $0) }
        try b.withUnsafeMutableBufferPointer { try chunked.forward(tokens: prompt, cache: cacheB, logits: $0) }
        #expect(a == b)
    }

    @Test func badTokensAndOverflowAreErrors() throws {
        let loaded = try #require(Self.model)
        let lm = loaded.model
        var logits = [Float](repeating: 0, count: lm.vocabularySize)
        let cache = lm.makeCache(capacity: 4)
        #expect(throws: ModelError.tokenOutOfRange(49152, vocabularySize: 49152)) {
            try logits.withUnsafeMutableBufferPointer { try lm.forward(tokens: [49152], cache: cache, logits: $0) }
        }
        #expect(throws: ModelError.contextFull(capacity: 4)) {
            try logits.withUnsafeMutableBufferPointer { try lm.forward(tokens: [1, 2, 3, 4, 5], cache: cache, logits: $0) }
        }
        #expect(cache.count == 0)
    }
}
