import Logging
import NimbusEngine
import NimbusKernels
import NimbusModels
import NimbusTestSupport
import Testing

/// Speculative decoding (prompt lookup) on the real model: whatever the drafts, every request
/// gets exactly the events it gets without speculation (tokens, text, logprobs, finish), in both
/// summation orders, alone and among others; and drafts really are verified and accepted.
@Suite(.serialized, .enabled(if: TestModel.shouldRun))
struct SpeculationTests {
    static let models: [SummationOrder: LoadedModel] = {
        var loaded: [SummationOrder: LoadedModel] = [:]
        for order in [SummationOrder.ggml, .blocked] {
            loaded[order] = try? ModelLoader.load(path: TestModel.path, threads: 2, maxBatch: 512, order: order)
        }
        return loaded
    }()

    /// The same file loaded again as a draft model (on the target's compute threads): its greedy
    /// drafts are what the target would decode, so every one should be accepted.
    static let drafts: [SummationOrder: LoadedModel] = {
        var loaded: [SummationOrder: LoadedModel] = [:]
        for (order, target) in models { loaded[order] = try? ModelLoader.loadDraft(path: TestModel.path, for: target) }
        return loaded
    }()

    func engine(_ order: SummationOrder, _ speculation: SpeculativeConfiguration, draft: Bool = false) throws -> Engine {
        let model = try #require(Self.models[order])
        var configuration = EngineConfiguration()
        configuration.kvCacheBytes = 64 << 20
        configuration.speculation = speculation
        return try Engine(model: model, contextLength: 1024, configuration: configuration,
                          draft: draft ? try #require(Self.drafts[order]) : nil, logger: Logger(label: "test"))
    }

    /// The engine's statistics once it has published the step that finished the last sequence
    /// (a stream can end just before that).
    func settled(_ engine: Engine) async throws -> EngineStatistics {
        for _ in 0..<3000 where engine.statistics.runningSequences > 0 { try await Task.sleep(for: .milliseconds(10)) }
        return engine.statistics
    }

    func prompt(_ text: String) throws -> [Int] {
        try #require(Self.models[.ggml]).tokenizer.encode(text, addSpecial: false, parseSpecial: false)
    }

    static let passage = """
        The lighthouse at Point Reyes was built in 1870 and stands on a cliff above the Pacific. \
        Its first-order Fresnel lens, made in France, has 24 panels and weighs more than two tons. \
        Keepers climbed 308 steps every night to wind the clockwork that turned the lens.
        """

    /// Prompts whose answers quote them (drafts get accepted) and open ones (few drafts).
    func requests() throws -> [GenerationRequest] {
        let greedy = SamplingParameters.greedy
        let seeded = SamplingParameters(temperature: 0.8, topP: 0.95, seed: 77)
        let quoting = "Repeat this text exactly.\nText: \(Self.passage)\nRepeated text: The lighthouse"
        let code = "def area(width, height):\n    return width * height\n\n\ndef area_of_square(side):\n    return area("
        var logprobs = greedy
        logprobs.logprobs = 3
        var stopped = GenerationRequest(prompt: try prompt(quoting), maxTokens: 60, sampling: greedy)
        stopped.stop = ["Fresnel lens"]
        return [
            GenerationRequest(prompt: try prompt(quoting), maxTokens: 64, sampling: greedy, ignoreEOS: true),
            GenerationRequest(prompt: try prompt(code), maxTokens: 48, sampling: greedy, ignoreEOS: true),
            GenerationRequest(prompt: try prompt(quoting), maxTokens: 48, sampling: seeded, ignoreEOS: true, choices: 2),
            GenerationRequest(prompt: try prompt(quoting), maxTokens: 40, sampling: logprobs),
            stopped,
            GenerationRequest(prompt: try prompt("Write a short poem about autumn."), maxTokens: 40, sampling: greedy),
        ]
    }

    /// Every event of every request, submitted all at once (`together`) or one after the other.
    func events(_ engine: Engine, together: Bool) async throws -> [[GenerationEvent]] {
        let runner = Task { try await engine.run() }
        defer { runner.cancel() }
        let requests = try requests()
        func collect(_ stream: AsyncThrowingStream<GenerationEvent, any Error>) async throws -> [GenerationEvent] {
            var out: [GenerationEvent] = []
            for try await event in stream { out.append(event) }
            return out
        }
        if !together {
            var results: [[GenerationEvent]] = []
            for request in requests { results.append(try await collect(engine.submit(request))) }
            return results
        }
        return try await withThrowingTaskGroup(of: (Int, [GenerationEvent]).self) { group in
            for (i, request) in requests.enumerated() {
                let stream = try engine.submit(request)
                group.addTask { (i, try await collect(stream)) }
            }
            var results = Array(repeating: [GenerationEvent](), count: requests.count)
            for try await (i, events) in group { results[i] = events }
            return results
        }
    }

    /// Events of choice `c` in order (choices of one request interleave differently per run).
    func perChoice(_ events: [GenerationEvent]) -> [Int: [GenerationEvent]] {
        var out: [Int: [GenerationEvent]] = [:]
        for event in events {
            switch event {
            case .token(let c, _, _), .text(let c, _), .finished(let c, _, _): out[c, default: []].append(event)
            }
        }
        return out
    }

    /// The blocked order's kernels need AVX-512 VNNI: its tests are skipped, and say so, on a CPU
    /// without it (where the engine runs in ggml's order).
    static let blockedOrderRuns = SummationOrder.blocked.isAvailable(on: .detected)
    static let blockedOrderReason: Comment = "the blocked order's kernels need AVX-512 VNNI, which this CPU lacks"

    @Test func speculationChangesNothingButSpeedInGgmlOrder() async throws {
        try await speculationChangesNothingButSpeed(order: .ggml)
    }

    @Test(.enabled(if: blockedOrderRuns, blockedOrderReason))
    func speculationChangesNothingButSpeedInTheBlockedOrder() async throws {
        try await speculationChangesNothingButSpeed(order: .blocked)
    }

    func speculationChangesNothingButSpeed(order: SummationOrder) async throws {
        let plain = try await events(try engine(order, .off), together: false)
        let lookup = SpeculativeConfiguration(method: .ngram, maxDraftTokens: 6, maxStepRows: 8)
        let alone = try engine(order, lookup)
        let speculated = try await events(alone, together: false)
        #expect(speculated.map(perChoice) == plain.map(perChoice))
        // The quoting prompts must have had drafts verified and mostly accepted, or this test
        // would prove nothing about verification.
        let s = try await settled(alone)
        #expect(s.drafts > 10)
        #expect(s.acceptedDraftTokens > 40)
        #expect(s.draftTokens > s.acceptedDraftTokens)  // some drafts were also rejected
        // Fewer steps than tokens: accepted drafts made several tokens per step.
        #expect(s.steps < s.generatedTokens)

        let crowd = try engine(order, lookup)
        let crowded = try await events(crowd, together: true)
        #expect(crowded.map(perChoice) == plain.map(perChoice))
        #expect(try await settled(crowd).acceptedDraftTokens > 0)
    }

    @Test func aDraftModelChangesNothingButSpeedInGgmlOrder() async throws {
        try await aDraftModelChangesNothingButSpeed(order: .ggml)
    }

    @Test(.enabled(if: blockedOrderRuns, blockedOrderReason))
    func aDraftModelChangesNothingButSpeedInTheBlockedOrder() async throws {
        try await aDraftModelChangesNothingButSpeed(order: .blocked)
    }

    func aDraftModelChangesNothingButSpeed(order: SummationOrder) async throws {
        let plain = try await events(try engine(order, .off), together: false)
        let byModel = SpeculativeConfiguration(method: .draftModel, maxDraftTokens: 4, maxStepRows: 8)
        let alone = try engine(order, byModel, draft: true)
        #expect(try await events(alone, together: false).map(perChoice) == plain.map(perChoice))
        let s = try await settled(alone)
        #expect(s.drafts > 20)
        // Greedy requests accept every draft token of an identical draft model; the seeded ones
        // reject some, and their output is still unchanged.
        #expect(s.acceptedDraftTokens > s.draftTokens / 2)
        #expect(s.acceptedDraftTokens < s.draftTokens)
        let crowd = try engine(order, byModel, draft: true)
        #expect(try await events(crowd, together: true).map(perChoice) == plain.map(perChoice))
    }

    @Test func greedyDraftsOfAnIdenticalModelAreAllAccepted() async throws {
        let engine = try engine(.detected, SpeculativeConfiguration(method: .draftModel, maxDraftTokens: 4, maxStepRows: 8),
                                draft: true)
        let runner = Task { try await engine.run() }
        defer { runner.cancel() }
        let request = GenerationRequest(prompt: try prompt("Write a short poem about autumn."), maxTokens: 48,
                                        sampling: .greedy, ignoreEOS: true)
        for try await _ in try engine.submit(request) {}
        let s = try await settled(engine)
        #expect(s.draftTokens > 20)
        #expect(s.acceptedDraftTokens == s.draftTokens)
        #expect(s.steps < s.generatedTokens / 2)
    }

    @Test func aRequestCanTurnSpeculationOff() async throws {
        let engine = try engine(.ggml, SpeculativeConfiguration(method: .ngram))
        let runner = Task { try await engine.run() }
        defer { runner.cancel() }
        var request = try requests()[0]
        request.speculative = false
        var tokens = 0
        for try await event in try engine.submit(request) { if case .token = event { tokens += 1 } }
        #expect(tokens == 64)
        let s = try await settled(engine)
        #expect(s.generatedTokens == 64 && s.drafts == 0)
    }

    @Test func aFullBatchDoesNotSpeculate() async throws {
        // 8 rows a step at most: 8 running sequences leave none for drafts.
        let engine = try engine(.ggml, SpeculativeConfiguration(method: .ngram, maxStepRows: 8))
        let runner = Task { try await engine.run() }
        defer { runner.cancel() }
        let quoting = try requests()[0]
        var request = quoting
        request.choices = 8
        request.maxTokens = 24
        var tokens = 0
        for try await event in try engine.submit(request) { if case .token = event { tokens += 1 } }
        #expect(tokens == 8 * 24)
        let s = try await settled(engine)
        #expect(s.generatedTokens == 8 * 24 && s.drafts == 0)
    }
}
