import Foundation
import Synchronization
import Logging
import NimbusEngine
import NimbusModels
import NimbusTestSupport
import Testing

/// Continuous batching on the real model: a request's tokens do not depend on what else runs
/// with it (other requests, how its prompt is chunked, preemption, prefix reuse), and the
/// engine's limits hold.
@Suite(.serialized, .enabled(if: TestModel.shouldRun))
struct BatchingTests {
    static let loaded: LoadedModel? = try? ModelLoader.load(path: TestModel.path, threads: 2, maxBatch: 1024)

    func engine(context: Int = 1024, _ configure: (inout EngineConfiguration) -> Void = { _ in }) throws -> Engine {
        let loaded = try #require(Self.loaded)
        var configuration = EngineConfiguration()
        configuration.kvCacheBytes = 64 << 20
        configure(&configuration)
        return try Engine(model: loaded, contextLength: context, configuration: configuration, logger: Logger(label: "test"))
    }

    func run(_ engine: Engine, _ body: (Engine) async throws -> Void) async throws {
        let runner = Task { try await engine.run() }
        defer { runner.cancel() }
        try await body(engine)
    }

    /// Every choice's token ids.
    func tokens(_ stream: AsyncThrowingStream<GenerationEvent, any Error>, choices: Int = 1) async throws -> [[Int]] {
        var out = Array(repeating: [Int](), count: choices)
        for try await event in stream {
            if case .token(let c, _, let token) = event { out[c].append(token.id) }
        }
        return out
    }

    func prompt(_ text: String) throws -> [Int] {
        try #require(Self.loaded).tokenizer.encode(text, addSpecial: false, parseSpecial: false)
    }

    /// A long prompt, so that it is chunked differently alone (budget 128) and in a crowd.
    func longPrompt() throws -> [Int] {
        let text = (1...30).map { "Item \($0): the quick brown fox number \($0 * 7) jumps over the lazy dog." }.joined(separator: " ")
        return try prompt(text + " Summary:")
    }

    let greedy = SamplingParameters.greedy
    let seeded = SamplingParameters(temperature: 0.9, topP: 0.95, seed: 1234)

    func targets() throws -> [GenerationRequest] {
        [GenerationRequest(prompt: try longPrompt(), maxTokens: 40, sampling: greedy, ignoreEOS: true),
         GenerationRequest(prompt: try prompt("Once upon a time"), maxTokens: 40, sampling: seeded, ignoreEOS: true, choices: 2)]
    }

    /// 16 other requests of varied lengths and sampling, all different prompts.
    func crowd() throws -> [GenerationRequest] {
        try (0..<16).map { i in
            let p = try prompt("Request \(i): " + String(repeating: "tell me about the number \(i * 13). ", count: 1 + i % 5))
            let sampling = i % 2 == 0 ? greedy : SamplingParameters(temperature: 1.1, seed: UInt64(i))
            return GenerationRequest(prompt: p, maxTokens: 20 + 3 * i, sampling: sampling, ignoreEOS: true)
        }
    }

    /// The targets run one after the other on an engine of their own (computed once per run).
    func alone() async throws -> [[[Int]]] {
        if let cached = Self.reference.withLock({ $0 }) { return cached }
        var results: [[[Int]]] = []
        try await run(try engine { $0.maxBatchedTokens = 128 }) { engine in
            for t in try targets() { results.append(try await tokens(engine.submit(t), choices: t.choices)) }
        }
        Self.reference.withLock { $0 = results }
        return results
    }

    static let reference = Mutex<[[[Int]]]?>(nil)

    func together(_ engine: Engine) async throws -> [[[Int]]] {
        let targets = try targets(), others = try crowd()
        return try await withThrowingTaskGroup(of: (Int, [[Int]]).self) { group in
            // Interleave: some of the crowd start before the targets, some after.
            for (i, r) in others.enumerated() where i < 8 {
                let s = try engine.submit(r)
                group.addTask { (-1, try await tokens(s)) }
            }
            for (i, t) in targets.enumerated() {
                let s = try engine.submit(t)
                group.addTask { (i, try await tokens(s, choices: t.choices)) }
            }
            for (i, r) in others.enumerated() where i >= 8 {
                let s = try engine.submit(r)
                group.addTask { (-1, try await tokens(s)) }
            }
            var results = Array(repeating: [[Int]](), count: targets.count)
            for try await (i, t) in group where i >= 0 { results[i] = t }
            return results
        }
    }

    @Test func outputDoesNotDependOnTheBatch() async throws {
        let reference = try await alone()
        #expect(reference[0][0].count == 40)
        #expect(reference[1][0] != reference[1][1])
        try await run(try engine()) { engine in
            let crowded = try await together(engine)
            #expect(crowded == reference)
            #expect(engine.statistics.steps > 0)
        }
    }

    @Test func preemptionAndRecomputeKeepTheTokens() async throws {
        let reference = try await alone()
        // About 40 blocks of 16 tokens for 18 requests needing ~6-17 blocks each: the pool runs
        // dry and sequences are preempted and recomputed.
        let tight = try engine(context: 640) {
            $0.kvCacheBytes = 40 * 16 * (Self.loaded?.model.kvLayout(blockSize: 16).bytesPerToken ?? 0)
            $0.maxBatchedTokens = 128
        }
        try await run(tight) { engine in
            let crowded = try await together(engine)
            #expect(engine.statistics.preemptions > 0)
            #expect(crowded == reference)
        }
    }

    @Test func prefixReuseKeepsTheTokensAndSkipsWork() async throws {
        let reference = try await alone()
        try await run(try engine { $0.maxBatchedTokens = 128 }) { engine in
            let first = try await tokens(engine.submit(try targets()[0]))
            let computedOnce = engine.statistics.promptTokensComputed
            let second = try await tokens(engine.submit(try targets()[0]))
            let hits = engine.statistics.prefixHitTokens
            #expect(first == reference[0] && second == reference[0])
            let promptLength = try longPrompt().count
            #expect(hits == (promptLength - 1) / 16 * 16)
            #expect(engine.statistics.promptTokensComputed - computedOnce == promptLength - hits)
        }
    }

    @Test func withoutChunkingOrReuseTheTokensAreTheSame() async throws {
        let reference = try await alone()
        let plain = try engine {
            $0.chunkedPrefill = false
            $0.prefixCaching = false
        }
        try await run(plain) { engine in
            let crowded = try await together(engine)
            #expect(crowded == reference)
        }
    }

    @Test func fullQueueRefusesWithoutLosingAcceptedWork() async throws {
        let e = try engine {
            $0.maxSequences = 1
            $0.maxQueuedRequests = 2
            $0.streamBacklog = 2048  // the long answer below is read only after the queue checks
        }
        try await run(e) { engine in
            var long = GenerationRequest(prompt: try prompt("Count:"), maxTokens: 1000, ignoreEOS: true)
            long.speculative = false  // prompt lookup could accept most of a repetitive answer at once
            let running = try await submitSeenRunning(long, on: engine, remaining: 500)
            // Nothing suspends from the check above to the refusal below.
            let queued = try (0..<2).map { _ in try engine.submit(GenerationRequest(prompt: try prompt("Hi"), maxTokens: 2)) }
            #expect(engine.waitingRequests == 2)
            // One running plus two waiting fill the sequence slot and the queue.
            #expect(throws: EngineError.queueFull(limit: 3)) {
                try engine.submit(GenerationRequest(prompt: [1, 2], maxTokens: 2))
            }
            let first = try await tokens(running)
            #expect(first[0].count == 1000)
            for q in queued {
                let t = try await tokens(q)
                #expect(t[0].count >= 1)
            }
        }
    }

    /// Submits `request` to an idle engine and returns its stream once the engine is seen computing
    /// it, alone, with at least `remaining` of its tokens still to come, so the caller can queue
    /// work behind it with no suspension in between. A loaded CI host can starve this task for
    /// longer than a whole answer takes (seen three times, at 200, 400 and 1,000 tokens), so a
    /// fixed wait proves nothing; a request that ends unseen is read to its end (which throws if
    /// it failed) and replaced by a new one.
    /// Progress is counted as generated tokens since the submission, which is exact for one
    /// single-choice, non-speculative request that ignores EOS, on an otherwise idle engine.
    func submitSeenRunning(_ request: GenerationRequest, on engine: Engine, remaining: Int) async throws
        -> AsyncThrowingStream<GenerationEvent, any Error> {
        precondition(request.maxTokens > remaining && request.choices == 1 && !request.speculative && request.ignoreEOS)
        for _ in 0..<5 {
            let before = engine.statistics.generatedTokens
            let stream = try engine.submit(request)
            for _ in 0..<6000 {
                let s = engine.statistics
                let done = s.generatedTokens - before
                if done >= request.maxTokens - remaining { break }
                if s.runningSequences == 1, s.waitingRequests == 0 { return stream }
                if s.runningSequences == 0, s.waitingRequests == 0, done > 0 { break }  // started and ended
                try await Task.sleep(for: .milliseconds(10))
            }
            _ = try await tokens(stream)
        }
        throw NeverSeenRunning()
    }

    struct NeverSeenRunning: Error, CustomStringConvertible {
        var description: String { "five long requests each ended before this task saw one running" }
    }

    /// A burst as large as the sequence slots plus the queue is taken whole, even though the
    /// engine has started none of it yet; one more is refused.
    @Test func burstUpToSlotsPlusQueueIsAdmitted() async throws {
        let e = try engine {
            $0.maxSequences = 3
            $0.maxQueuedRequests = 2
        }
        try await run(e) { engine in
            let burst = try (0..<5).map { _ in
                try engine.submit(GenerationRequest(prompt: try prompt("Burst"), maxTokens: 40, ignoreEOS: true))
            }
            #expect(throws: EngineError.queueFull(limit: 5)) {
                try engine.submit(GenerationRequest(prompt: [1, 2], maxTokens: 2))
            }
            for stream in burst { #expect(try await tokens(stream)[0].count == 40) }
            // Every accepted request ended, so a new burst is taken whole again.
            let again = try (0..<5).map { _ in try engine.submit(GenerationRequest(prompt: try prompt("Again"), maxTokens: 2)) }
            for stream in again { #expect(try await tokens(stream)[0].count == 2) }
        }
    }

    /// A consumer that stops reading loses its request once its backlog is full: the stream ends
    /// with `slowConsumer` after the events it holds, and the KV blocks come back.
    @Test func unreadStreamIsCancelledAtItsBacklog() async throws {
        let e = try engine { $0.streamBacklog = 4 }
        try await run(e) { engine in
            var request = GenerationRequest(prompt: try prompt("Tell me a long story:"), maxTokens: 300, ignoreEOS: true)
            request.speculative = false
            let stream = try engine.submit(request)
            // Unread while the engine produces more than the backlog holds.
            for _ in 0..<3000 where engine.statistics.slowConsumerCancels == 0 { try await Task.sleep(for: .milliseconds(10)) }
            #expect(engine.statistics.slowConsumerCancels == 1)
            var received = 0
            await #expect(throws: EngineError.slowConsumer(backlog: 4)) {
                for try await _ in stream { received += 1 }
            }
            #expect(received == 4)
            for _ in 0..<500 where engine.statistics.usedBlocks > 0 { try await Task.sleep(for: .milliseconds(10)) }
            #expect(engine.statistics.usedBlocks == 0)
        }
    }

    @Test func priorityPolicyRunsUrgentRequestsFirst() async throws {
        let e = try engine {
            $0.maxSequences = 1
            $0.policy = .priority
        }
        try await run(e) { engine in
            // Without speculation: prompt lookup can accept most of a repetitive answer and end it
            // in a fraction of its 400 steps, before the three are queued.
            var blocking = GenerationRequest(prompt: try prompt("Wait:"), maxTokens: 400, ignoreEOS: true)
            blocking.speculative = false
            let blocker = try await submitSeenRunning(blocking, on: engine, remaining: 300)
            // The order is the engine's own: when each request was first scheduled (one at a
            // time, a step apart), not when this task happened to read each answer.
            var timelines: [(name: String, timeline: RequestTimeline, stream: AsyncThrowingStream<GenerationEvent, any Error>)] = []
            for (name, priority) in [("low", 10), ("urgent", -5), ("normal", 0)] {
                var request = GenerationRequest(prompt: try prompt(name), maxTokens: 1, priority: priority)
                let timeline = RequestTimeline()
                request.timeline = timeline
                timelines.append((name, timeline, try engine.submit(request)))
            }
            _ = try await tokens(blocker)
            var scheduled: [(name: String, at: ContinuousClock.Instant)] = []
            for t in timelines {
                #expect(try await tokens(t.stream)[0].count == 1)
                scheduled.append((t.name, try #require(t.timeline.scheduled, "\(t.name) was never scheduled")))
            }
            #expect(scheduled.sorted { $0.at < $1.at }.map(\.name) == ["urgent", "normal", "low"])
        }
    }
}
