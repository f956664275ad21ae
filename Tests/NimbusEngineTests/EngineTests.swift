import Foundation
import Logging
import NimbusEngine
import NimbusModels
import NimbusTestSupport
import Testing

/// The engine on the real model: streaming, choices, stop strings, cancellation.
@Suite(.serialized, .enabled(if: TestModel.shouldRun))
struct EngineTests {
    /// Runs `body` with a started engine and stops it afterwards.
    func withEngine(_ body: (Engine) async throws -> Void) async throws {
        let loaded = try ModelLoader.load(path: TestModel.path, threads: 2, maxBatch: 256)
        var configuration = EngineConfiguration()
        configuration.kvCacheBytes = 64 << 20
        let engine = try Engine(model: loaded, contextLength: 512, configuration: configuration, logger: Logger(label: "test"))
        let runner = Task { try await engine.run() }
        defer { runner.cancel() }
        try await body(engine)
    }

    struct Output {
        var texts: [String]
        var tokens: [[Int]]
        var reasons: [StopReason]
    }

    func collect(_ stream: AsyncThrowingStream<GenerationEvent, any Error>, choices: Int = 1) async throws -> Output {
        var out = Output(texts: Array(repeating: "", count: choices), tokens: Array(repeating: [], count: choices), reasons: [])
        for try await event in stream {
            switch event {
            case .token(let c, let text, let token):
                out.texts[c] += text
                out.tokens[c].append(token.id)
            case .text(let c, let text):
                out.texts[c] += text
            case .finished(_, let reason, let count):
                out.reasons.append(reason)
                #expect(count == out.tokens[out.reasons.count - 1].count)
            }
        }
        return out
    }

    func prompt(_ loaded: LoadedModel, _ text: String) -> [Int] {
        loaded.tokenizer.encode(text, addSpecial: false, parseSpecial: false)
    }

    @Test func greedyChoicesAgreeAndTextMatchesTokens() async throws {
        try await withEngine { engine in
            let ids = prompt(engine.model, "The three primary colours are")
            let out = try await collect(engine.submit(GenerationRequest(prompt: ids, maxTokens: 12, ignoreEOS: true, choices: 3)), choices: 3)
            #expect(out.tokens[0].count == 12)
            #expect(out.tokens[0] == out.tokens[1] && out.tokens[1] == out.tokens[2])
            #expect(out.reasons == [.length, .length, .length])
            #expect(out.texts[0] == engine.model.tokenizer.decode(out.tokens[0]))
        }
    }

    @Test func seededSamplingReproducesAndChoicesDiffer() async throws {
        try await withEngine { engine in
            let ids = prompt(engine.model, "My favourite animal is")
            let request = GenerationRequest(prompt: ids, maxTokens: 16,
                                            sampling: SamplingParameters(temperature: 1.2, seed: 7), ignoreEOS: true, choices: 2)
            let a = try await collect(engine.submit(request), choices: 2)
            let b = try await collect(engine.submit(request), choices: 2)
            #expect(a.tokens == b.tokens)
            #expect(a.tokens[0] != a.tokens[1])
        }
    }

    @Test func stopStringCutsTheText() async throws {
        try await withEngine { engine in
            let ids = prompt(engine.model, "1, 2, 3, 4,")
            let free = try await collect(engine.submit(GenerationRequest(prompt: ids, maxTokens: 16, ignoreEOS: true)))
            let text = free.texts[0]
            let stop = " 7"
            let cut = try #require(text.range(of: stop))
            let stopped = try await collect(engine.submit(GenerationRequest(prompt: ids, maxTokens: 16, stop: [stop], ignoreEOS: true)))
            #expect(stopped.texts[0] == String(text[..<cut.lowerBound]))
            #expect(stopped.reasons == [.stop])
        }
    }

    @Test func droppingAStreamCancelsTheRequest() async throws {
        try await withEngine { engine in
            let ids = prompt(engine.model, "Tell me a very long story about")
            var received = 0
            for try await event in try engine.submit(GenerationRequest(prompt: ids, maxTokens: 400, ignoreEOS: true)) {
                if case .token = event { received += 1 }
                if received == 3 { break }
            }
            // Its sequence stops and its KV blocks return to the pool within a step or two.
            #expect(await waitUntilIdle(engine))
            let next = try await collect(engine.submit(GenerationRequest(prompt: ids, maxTokens: 2, ignoreEOS: true)))
            #expect(next.tokens[0].count == 2)
        }
    }

    @Test func refusesWhatCannotFit() async throws {
        try await withEngine { engine in
            #expect(throws: EngineError.contextExceeded(promptTokens: 3, maxTokens: 510, contextLength: 512)) {
                try engine.submit(GenerationRequest(prompt: [1, 2, 3], maxTokens: 510))
            }
            #expect(throws: EngineError.emptyPrompt) { try engine.submit(GenerationRequest(prompt: [], maxTokens: 1)) }
        }
    }

    /// Polls the engine's statistics until nothing runs and no block is held (or 30 s pass, for a loaded host).
    func waitUntilIdle(_ engine: Engine) async -> Bool {
        for _ in 0..<3000 {
            let s = engine.statistics
            if s.runningSequences == 0, s.usedBlocks == 0, s.waitingRequests == 0 { return true }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return false
    }
}
