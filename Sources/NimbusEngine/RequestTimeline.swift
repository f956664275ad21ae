import Synchronization

/// When the engine first scheduled a request, for whoever submitted it (queue-time metrics and
/// trace spans live in the server; the engine only stamps the moment).
///
/// Written once by the engine thread, in the step that first schedules the request (a preempted
/// request that is scheduled again keeps its first stamp); read by the submitter after it has
/// seen the request's first event. One lock per request, never per token.
public final class RequestTimeline: Sendable {
    private let scheduledAt = Mutex<ContinuousClock.Instant?>(nil)

    public init() {}

    /// The start of the step that first scheduled the request; nil while it waits.
    public var scheduled: ContinuousClock.Instant? { scheduledAt.withLock { $0 } }

    func markScheduled(at instant: ContinuousClock.Instant) {
        scheduledAt.withLock { if $0 == nil { $0 = instant } }
    }
}
