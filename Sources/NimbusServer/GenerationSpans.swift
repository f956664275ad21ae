import NimbusEngine
import Tracing

/// The trace of one engine request, emitted once it has ended: a span named as OpenTelemetry's
/// GenAI conventions name them (`chat <model>`, `text_completion <model>`) under the HTTP
/// request's span, and under it the three phases `queue` (submitted → first scheduled),
/// `prefill` (→ first token) and `decode` (→ last token).
///
/// Every time comes from the `GenerationSummary`, so spans are started and ended with explicit
/// instants after the fact: tracing does no work while the request runs.
struct GenerationSpans: Sendable {
    let tracer: any Tracer
    /// The HTTP request's span context (which carries an incoming `traceparent`).
    let parent: InstrumentationContext
    /// `chat` or `text_completion`.
    let operation: String
    let model: String

    func emit(_ s: GenerationSummary) {
        let clock = WallClock()
        let root = tracer.startSpan("\(operation) \(model)", context: parent, ofKind: .internal, at: clock.instant(s.submitted))
        root.updateAttributes { a in
            a["gen_ai.operation.name"] = operation
            a["gen_ai.request.model"] = model
            a["gen_ai.response.model"] = model
            a["gen_ai.request.choice.count"] = s.choices
            a["gen_ai.usage.input_tokens"] = s.promptTokens
            a["gen_ai.usage.output_tokens"] = s.completionTokens
        }
        switch s.outcome {
        case .finished(let reasons):
            root.attributes["gen_ai.response.finish_reasons"] = reasons.map(\.rawValue)
        case .aborted:
            root.attributes["gen_ai.response.finish_reasons"] = ["abort"]
        case .failed(let message):
            root.setStatus(SpanStatus(code: .error, message: message))
        }

        func phase(_ name: String, from start: ContinuousClock.Instant, to end: ContinuousClock.Instant,
                   _ attributes: SpanAttributes = [:]) {
            let span = tracer.startSpan(name, context: root.context, ofKind: .internal, at: clock.instant(start))
            if !attributes.isEmpty { span.attributes = attributes }
            span.end(at: clock.instant(max(start, end)))
        }
        phase("queue", from: s.submitted, to: s.scheduled ?? s.firstToken ?? s.ended)
        if let scheduled = s.scheduled {
            phase("prefill", from: scheduled, to: s.firstToken ?? s.ended, ["gen_ai.usage.input_tokens": .int64(Int64(s.promptTokens))])
        }
        if let first = s.firstToken {
            var attributes: SpanAttributes = ["gen_ai.usage.output_tokens": .int64(Int64(s.completionTokens))]
            if case .finished(let reasons) = s.outcome {
                attributes["gen_ai.response.finish_reasons"] = reasons.map(\.rawValue)
            }
            phase("decode", from: first, to: s.ended, attributes)
        }
        root.end(at: clock.instant(s.ended))
    }
}

/// Maps monotonic instants onto the wall-clock nanoseconds spans carry, anchored at one moment.
struct WallClock {
    private let wall = Int64(clamping: DefaultTracerClock.now.nanosecondsSinceEpoch)
    private let monotonic = ContinuousClock.now

    func instant(_ x: ContinuousClock.Instant) -> DefaultTracerClock.Instant {
        let (seconds, attoseconds) = (monotonic - x).components
        let ago = seconds * 1_000_000_000 + attoseconds / 1_000_000_000
        return DefaultTracerClock.Instant(nanosecondsSinceEpoch: UInt64(clamping: max(0, wall - ago)))
    }
}
