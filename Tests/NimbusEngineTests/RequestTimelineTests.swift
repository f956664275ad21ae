import Logging
import NimbusEngine
import NimbusModels
import NimbusTestSupport
import Testing

/// The engine stamps when it first schedules a request: after submission, before the first
/// token, and, when only one sequence may run, not before the request ahead of it has finished.
@Suite(.serialized, .enabled(if: TestModel.shouldRun))
struct RequestTimelineTests {
    static let loaded: LoadedModel? = try? ModelLoader.load(path: TestModel.path, threads: 2, maxBatch: 256)

    func prompt(_ text: String) throws -> [Int] {
        try #require(Self.loaded).tokenizer.encode(text, addSpecial: false, parseSpecial: false)
    }

    @Test func stampLiesBetweenSubmissionAndFirstToken() async throws {
        var configuration = EngineConfiguration()
        configuration.kvCacheBytes = 16 << 20
        let engine = try Engine(model: try #require(Self.loaded), contextLength: 256, configuration: configuration,
                                logger: Logger(label: "test"))
        let runner = Task { try await engine.run() }
        defer { runner.cancel() }
        var request = GenerationRequest(prompt: try prompt("Hello there"), maxTokens: 3, ignoreEOS: true)
        let timeline = RequestTimeline()
        request.timeline = timeline
        let submitted = ContinuousClock.now
        var firstEvent: ContinuousClock.Instant?
        for try await _ in try engine.submit(request) where firstEvent == nil {
            firstEvent = .now
        }
        let scheduled = try #require(timeline.scheduled)
        #expect(submitted <= scheduled)
        #expect(scheduled <= (try #require(firstEvent)))
    }

    @Test func secondRequestWaitsForTheOnlySlot() async throws {
        var configuration = EngineConfiguration()
        configuration.kvCacheBytes = 16 << 20
        configuration.maxSequences = 1
        let engine = try Engine(model: try #require(Self.loaded), contextLength: 256, configuration: configuration,
                                logger: Logger(label: "test"))
        let runner = Task { try await engine.run() }
        defer { runner.cancel() }
        var first = GenerationRequest(prompt: try prompt("One"), maxTokens: 12, ignoreEOS: true)
        var second = GenerationRequest(prompt: try prompt("Two"), maxTokens: 2, ignoreEOS: true)
        let (firstTimeline, secondTimeline) = (RequestTimeline(), RequestTimeline())
        first.timeline = firstTimeline
        second.timeline = secondTimeline
        let streams = [try engine.submit(first), try engine.submit(second)]
        for stream in streams {
            for try await _ in stream {}
        }
        // Twelve decode steps of the first request separate the two stamps.
        let gap = try #require(secondTimeline.scheduled) - (try #require(firstTimeline.scheduled))
        #expect(gap > .zero)
    }
}
