import Foundation
import Logging
import NimbusEngine
import NimbusModels
import NimbusTestSupport
import Testing

/// Gemma 3 (five of every six layers see a 512-position window) through the engine, whose
/// scheduler frees each windowed layer group's blocks once its window has passed them: a
/// sequence that full attention could not hold in the pool runs to the same greedy tokens as
/// the model computes with every block kept, and a second request reuses the cached prompt.
@Suite(.serialized, .enabled(if: CachedTestModel.gemma3.shouldRun))
struct SlidingWindowEngineTests {
    @Test func aPoolTooSmallForFullAttentionRunsWindowedLayers() async throws {
        let loaded = try ModelLoader.load(path: CachedTestModel.gemma3.path, threads: 2, maxBatch: 64)
        let layout = loaded.model.kvLayout(blockSize: 16)
        // 18 layers, 3 global: groups of 3 layers, one global and five windowed.
        #expect(layout.reaches.count == 6 && layout.reaches.filter { $0 == nil }.count == 1)
        let text = (1...70).map { "Line \($0): the tide turned at \($0 % 12 + 1) and the boats went out." }
            .joined(separator: "\n")
        let prompt = loaded.tokenizer.encode(text, addSpecial: true, parseSpecial: false)
        try #require(prompt.count > 900)
        let steps = 24, positions = prompt.count + steps

        // The model alone, every block kept (the fidelity tests check this path against llama.cpp).
        let cache = loaded.model.makeCache(capacity: positions)
        var logits = [Float](repeating: 0, count: loaded.model.vocabularySize)
        var expected: [Int] = []
        var input = prompt
        for _ in 0..<steps {
            try logits.withUnsafeMutableBufferPointer { try loaded.model.forward(tokens: input, cache: cache, logits: $0) }
            let best = logits.indices.max { logits[$0] < logits[$1] || (logits[$0] == logits[$1] && $0 > $1) } ?? 0
            expected.append(best)
            input = [best]
        }

        // A pool of 80% of the blocks that keeping every block would take.
        let allBlocks = layout.reaches.count * ((positions + 15) / 16)
        let poolBlocks = allBlocks * 4 / 5
        var configuration = EngineConfiguration()
        configuration.maxBatchedTokens = 64
        configuration.kvCacheBytes = poolBlocks * 16 * layout.bytesPerPosition
        let engine = try Engine(model: loaded, contextLength: positions, configuration: configuration,
                                logger: Logger(label: "test"))
        #expect(engine.kvBlocks == poolBlocks)
        let runner = Task { try await engine.run() }
        defer { runner.cancel() }
        let request = GenerationRequest(prompt: prompt, maxTokens: steps, sampling: .greedy, ignoreEOS: true)
        for round in 0..<2 {
            var tokens: [Int] = []
            for try await event in try engine.submit(request) {
                if case .token(_, _, let token) = event { tokens.append(token.id) }
            }
            #expect(tokens == expected, "round \(round)")
        }
        // The second request took every shareable prompt block from the cache: the global
        // group's from 0 and the windowed groups' that its window still reads.
        #expect(engine.statistics.prefixHitTokens == (prompt.count - 1) / 16 * 16)
    }
}
