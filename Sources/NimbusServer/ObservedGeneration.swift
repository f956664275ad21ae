import NimbusEngine

/// An engine request's event stream, watched on its way to the handler: the first token, each
/// choice's end, and how the stream ended become one `GenerationSummary` for metrics, traces and
/// the access log.
///
/// The watching happens in the handler's own iteration, so it adds no task hop or lock per
/// token: per event it is a branch and, for tokens, an increment. The engine thread is untouched
/// apart from stamping the request's `RequestTimeline` once.
struct ObservedGeneration: AsyncSequence, Sendable {
    typealias Element = GenerationEvent

    let events: AsyncThrowingStream<GenerationEvent, any Error>
    /// Nil when nothing observes (metrics and tracing off, as in unit tests).
    let watch: Watch?

    /// What the tally needs to know about the request, fixed at submission.
    struct Watch: Sendable {
        let telemetry: GenerationTelemetry
        let submitted: ContinuousClock.Instant
        let timeline: RequestTimeline
        let promptTokens: Int
        let choices: Int
    }

    struct AsyncIterator: AsyncIteratorProtocol {
        var base: AsyncThrowingStream<GenerationEvent, any Error>.AsyncIterator
        let tally: GenerationTally?

        mutating func next() async throws -> GenerationEvent? {
            guard let tally else { return try await base.next() }
            let event: GenerationEvent?
            do {
                event = try await base.next()
            } catch {
                tally.end(failure: "\(error)")
                throw error
            }
            guard let event else {
                tally.end(failure: nil)
                return nil
            }
            tally.see(event)
            return event
        }
    }

    func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(base: events.makeAsyncIterator(), tally: watch.map(GenerationTally.init))
    }
}

/// The running count of one watched stream. It lives inside the iterator, so only the task that
/// iterates touches it; if that task drops the iterator early (the client went away and a write
/// failed), `deinit` reports the request as aborted.
final class GenerationTally {
    private let watch: ObservedGeneration.Watch
    private var firstToken: ContinuousClock.Instant?
    private var lastFinish: ContinuousClock.Instant?
    private var tokensSeen = 0
    private var reasons: [StopReason] = []
    private var finishedTokens = 0
    private var longestChoice = 0
    private var reported = false

    init(_ watch: ObservedGeneration.Watch) { self.watch = watch }

    func see(_ event: GenerationEvent) {
        switch event {
        case .token:
            tokensSeen += 1
            if firstToken == nil {
                let now = ContinuousClock.now
                firstToken = now
                watch.telemetry.firstToken(promptTokens: watch.promptTokens, timeToFirstToken: now - watch.submitted,
                                           queueTime: watch.timeline.scheduled.map { $0 - watch.submitted })
            }
        case .text:
            break
        case .finished(_, let reason, let count):
            reasons.append(reason)
            finishedTokens += count
            longestChoice = max(longestChoice, count)
            lastFinish = .now
        }
    }

    /// Reports the summary once; a stream that ended before every choice finished was aborted.
    func end(failure: String?) {
        guard !reported else { return }
        reported = true
        let outcome: GenerationSummary.Outcome
        if let failure {
            outcome = .failed(failure)
        } else if reasons.count == watch.choices {
            outcome = .finished(reasons)
        } else {
            outcome = .aborted
        }
        let finished = if case .finished = outcome { true } else { false }
        watch.telemetry.report(GenerationSummary(
            submitted: watch.submitted, scheduled: watch.timeline.scheduled, firstToken: firstToken,
            ended: lastFinish ?? .now, promptTokens: watch.promptTokens,
            completionTokens: finished ? finishedTokens : tokensSeen, choices: watch.choices,
            longestChoice: longestChoice, outcome: outcome))
    }

    deinit { end(failure: nil) }
}

/// What the server learned about one engine request by watching its stream.
struct GenerationSummary: Sendable {
    enum Outcome: Sendable, Equatable {
        /// Every choice finished, with these reasons (in the order they finished).
        case finished([StopReason])
        /// The stream ended early: the client went away or the request was cancelled.
        case aborted
        /// The engine failed the request.
        case failed(String)
    }

    var submitted: ContinuousClock.Instant
    /// When the engine first scheduled it (nil if it never was).
    var scheduled: ContinuousClock.Instant?
    var firstToken: ContinuousClock.Instant?
    /// When the last choice finished (or the stream ended, if not all did).
    var ended: ContinuousClock.Instant
    var promptTokens: Int
    /// Tokens generated over all choices (as `usage.completion_tokens` reports them).
    var completionTokens: Int
    var choices: Int
    /// Tokens of the choice that generated the most.
    var longestChoice: Int
    var outcome: Outcome

    var latency: Duration { ended - submitted }
    /// From the first token to the end.
    var decodeTime: Duration? { firstToken.map { ended - $0 } }
}
