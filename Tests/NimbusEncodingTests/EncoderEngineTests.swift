import Logging
import NimbusEncoding
import NimbusModels
import NimbusTestSupport
import Testing

/// The engine thread on the tiny committed cross-encoder: concurrent requests give exactly what
/// direct forward passes give, ranking helpers report their method, and shutdown finishes.
@Suite struct EncoderEngineTests {
    static func withEngine(maxBatchSequences: Int = 256, _ body: (EncoderEngine) async throws -> Void) async throws {
        let encoder = try EncoderLoader.load(directory: TestFixtures.tinyCrossEncoderPath, threads: 2)
        let engine = EncoderEngine(encoder: encoder, maxBatchSequences: maxBatchSequences, logger: Logger(label: "test"))
        let runner = Task { try await engine.run() }
        try await body(engine)
        runner.cancel()
        try await runner.value
    }

    @Test func concurrentRequestsMatchDirectForwardPasses() async throws {
        let direct = try EncoderLoader.load(directory: TestFixtures.tinyCrossEncoderPath, threads: 1)
        let texts = ["what is deep learning?", "paris is the capital of france.", "who wrote hamlet?", "neural networks"]
        let pairs = try texts.map { try direct.pair(query: direct.tokens("query"), passage: direct.tokens($0), truncation: .end) }
        let expected = try direct.model.classify(pairs)
        try await Self.withEngine(maxBatchSequences: 3) { engine in
            try await withThrowingTaskGroup(of: (Int, [[Float]]).self) { group in
                for i in 0..<16 {
                    group.addTask { (i, try await engine.run([pairs[i % 4], pairs[(i + 1) % 4]])) }
                }
                for try await (i, outputs) in group {
                    #expect(outputs == [expected[i % 4], expected[(i + 1) % 4]])
                }
            }
        }
    }

    /// Requests queued while the thread is busy (here: not started yet) share one forward pass.
    @Test func queuedRequestsShareOneForwardPass() async throws {
        let encoder = try EncoderLoader.load(directory: TestFixtures.tinyCrossEncoderPath, threads: 2)
        let engine = EncoderEngine(encoder: encoder, logger: Logger(label: "test"))
        let pair = try encoder.pair(query: encoder.tokens("q"), passage: encoder.tokens("who wrote hamlet?"), truncation: .end)
        let requests = (0..<8).map { _ in Task { try await engine.run([pair, pair]) } }
        while engine.queuedSequences < 16 { try await Task.sleep(for: .milliseconds(5)) }
        let runner = Task { try await engine.run() }
        for request in requests { #expect(try await request.value.count == 2) }
        #expect(engine.forwardPasses == 1)
        runner.cancel()
        try await runner.value
    }

    @Test func relevanceUsesTheCrossEncoder() async throws {
        try await Self.withEngine { engine in
            let r = try await engine.relevance(query: "capital of france", passages: ["paris is the capital of france.", "bananas"],
                                               truncation: .none)
            #expect(r.method == .crossEncoder && r.scores.count == 2 && r.tokens > 10)
            await #expect(throws: EncoderInputError.self) {
                try await engine.relevance(query: "q", passages: ["a", String(repeating: "neural networks ", count: 40)], truncation: .none)
            }
        }
    }

    @Test func emptyRequestsReturnAtOnce() async throws {
        try await Self.withEngine { engine in
            let outputs = try await engine.run([])
            #expect(outputs.isEmpty)
        }
    }
}
