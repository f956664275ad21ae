import NimbusEngine
import Tracing

/// Where the facts about a handler's engine requests go: the metrics, the trace, and the HTTP
/// request's record (for its access-log line). Captured when the handler starts, inside the HTTP
/// span, because a streamed body is written later, outside it.
struct GenerationTelemetry: Sendable {
    /// The per-request series of the name the request used (a model or one of its adapters).
    var metrics: RequestMetrics?
    var spans: GenerationSpans?
    var record: RequestRecord?

    /// Observes nothing (unit tests that build handlers directly).
    static let off = GenerationTelemetry()

    var isOff: Bool { metrics == nil && spans == nil && record == nil }

    func firstToken(promptTokens: Int, timeToFirstToken: Duration, queueTime: Duration?) {
        metrics?.recordFirstToken(promptTokens: promptTokens, timeToFirstToken: timeToFirstToken, queueTime: queueTime)
    }

    func report(_ summary: GenerationSummary) {
        metrics?.record(summary)
        record?.add(promptTokens: summary.promptTokens, completionTokens: summary.completionTokens)
        spans?.emit(summary)
    }
}
