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

    /// A prompt processed in one batch or token by token leaves the same logits: the batched
    /// (matrix-matrix) path and the decode (matrix-vector) path agree.
    @Test func batchedPrefillEqualsTokenByToken() throws {
        let fixture = try #require(Self.fixture)
        let loaded = try #require(Self.model)
        let lm = loaded.model
        let prompt = fixture.cases[1].prompt
        var batched = [Float](repeating: 0, count: lm.vocabularySize)
        var stepped = batched
        let a = lm.makeCache(capacity: prompt.count), b = lm.makeCache(capacity: prompt.count)
        try batched.withUnsafeMutableBufferPointer { try lm.forward(tokens: prompt, cache: a, logits: $0) }
        for t in prompt {
            try stepped.withUnsafeMutableBufferPointer { try lm.forward(tokens: [t], cache: b, logits: $0) }
        }
        let maxDiff = zip(batched, stepped).map { abs($0 - $1) }.max() ?? .infinity
        #expect(maxDiff < 1e-3, "max logit difference \(maxDiff)")
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
