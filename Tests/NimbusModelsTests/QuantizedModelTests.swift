import Foundation
import NimbusModels
import NimbusTestSupport
import Testing

/// Whole-model checks of the K-quant kernels and of on-load requantization, on models derived
/// from SmolLM2 by llama.cpp's quantizer (scripts/make_test_models.py; skipped without them).
@Suite(.serialized)
struct QuantizedModelTests {
    static let kQuantPath = TestModel.derived("SmolLM2-135M-Instruct.Q4_K_M.gguf")
    static let f16Path = TestModel.derived("SmolLM2-135M-Instruct.F16.gguf")
    static let q8Path = TestModel.derived("SmolLM2-135M-Instruct.Q8_0.gguf")
    static let kQuantModel: LoadedModel? = kQuantPath.flatMap { try? ModelLoader.load(path: $0, threads: 2, order: .ggml) }

    /// Greedy decoding; `tokenByToken` feeds the prompt one token per step.
    static func greedy(_ lm: any LanguageModel, prompt: [Int], steps: Int, tokenByToken: Bool = false) throws -> [Int] {
        let cache = lm.makeCache(capacity: prompt.count + steps)
        var logits = [Float](repeating: 0, count: lm.vocabularySize)
        for chunk in tokenByToken ? prompt.map { [$0] } : [prompt] {
            try logits.withUnsafeMutableBufferPointer { try lm.forward(tokens: chunk, cache: cache, logits: $0) }
        }
        var generated: [Int] = []
        for _ in 0..<steps {
            var best = 0
            for i in logits.indices where logits[i] > logits[best] { best = i }
            generated.append(best)
            try logits.withUnsafeMutableBufferPointer { try lm.forward(tokens: [best], cache: cache, logits: $0) }
        }
        return generated
    }

    static func logits(_ lm: any LanguageModel, prompt: [Int]) throws -> [Float] {
        var logits = [Float](repeating: 0, count: lm.vocabularySize)
        let cache = lm.makeCache(capacity: prompt.count)
        try logits.withUnsafeMutableBufferPointer { try lm.forward(tokens: prompt, cache: cache, logits: $0) }
        return logits
    }

    /// Q5_0, Q4_K, Q6_K and Q8_0 matmuls in one model, greedy, token for token against llama.cpp
    /// with its repacked layouts off and the prompt fed one token at a time: llama.cpp runs K-quant
    /// matmuls of 8+ rows through another kernel than its vec_dot (which Nimbus follows at every
    /// batch size), so single-row steps are where the two agree bit for bit
    /// (fidelity_smollm2_q4_k_m.json; see gen_fidelity_fixtures.py).
    @Test(.enabled(if: kQuantPath != nil), arguments: 0..<14)
    func kQuantGreedyMatchesLlamaCpp(index: Int) throws {
        let fixture = try ModelFixture.load(FidelityTests.Fixture.self, fixture: "fidelity_smollm2_q4_k_m")
        let lm = try #require(Self.kQuantModel).model
        let c = fixture.cases[index]
        let generated = try Self.greedy(lm, prompt: c.prompt, steps: fixture.steps, tokenByToken: true)
        let first = zip(generated, c.generated).enumerated().first { $0.element.0 != $0.element.1 }?.offset
        #expect(generated == c.generated,
                "\(c.name): first difference at step \(first ?? -1), llama.cpp's top-2 gap there \(first.map { c.top2_gap[$0] } ?? 0)")
    }

    /// F16 weights requantized at load give the bytes llama.cpp's quantizer wrote into the Q8_0
    /// file, so the logits are bit-identical.
    @Test(.enabled(if: f16Path != nil && q8Path != nil))
    func requantizedF16EqualsLlamaCppQ8_0() throws {
        let converted = try ModelLoader.load(path: try #require(Self.f16Path), threads: 2, quantization: .q8_0)
        let reference = try ModelLoader.load(path: try #require(Self.q8Path), threads: 2)
        #expect(converted.loadNotes.contains { $0.hasPrefix("requantized 211 weight matrices (f16 x211) to q8_0") }, "\(converted.loadNotes)")
        let prompt = converted.tokenizer.encode("The history of the printing press begins in", addSpecial: false, parseSpecial: false)
        let a = try Self.logits(converted.model, prompt: prompt), b = try Self.logits(reference.model, prompt: prompt)
        #expect(a.map(\.bitPattern) == b.map(\.bitPattern))
        // Q4_0 runs too, and stays close enough to greedy-decode the same first tokens.
        let q4 = try ModelLoader.load(path: try #require(Self.f16Path), threads: 2, quantization: .q4_0)
        #expect(q4.loadNotes.contains { $0.contains("to q4_0") })
        #expect(try Self.greedy(q4.model, prompt: prompt, steps: 3).count == 3)
    }

    /// A model that is already quantized is left alone, and says so.
    @Test(.enabled(if: TestModel.shouldRun))
    func quantizedWeightsAreLeftAlone() throws {
        let plain = try ModelLoader.load(path: TestModel.path, threads: 2)
        let asked = try ModelLoader.load(path: TestModel.path, threads: 2, quantization: .q4_0)
        #expect(plain.loadNotes.isEmpty)
        #expect(asked.loadNotes.count == 1 && asked.loadNotes[0].contains("left 211 weight matrices as they are"), "\(asked.loadNotes)")
        let prompt = [1, 504, 2915, 282]
        #expect(try Self.logits(plain.model, prompt: prompt) == (try Self.logits(asked.model, prompt: prompt)))
    }
}
