import NimbusEngine
import Tracing

/// What the routes share for metrics, traces and the status page: the metrics (nil with
/// NIM_ENABLE_METRICS=false), the tracer (nil unless NIM_ENABLE_TRACING), the machine, and the
/// tokens-per-second meter that the status page and the scrapes both sample.
struct Observability: Sendable {
    let metrics: ServerMetrics?
    let tracer: (any Tracer)?
    let hardware: HardwareInfo
    let throughput = ThroughputMeter()
    let started = ContinuousClock.now

    /// Where a handler's generations report, captured inside the request's span.
    func telemetry(for context: NimbusRequestContext, operation: String, model: String) -> GenerationTelemetry {
        GenerationTelemetry(
            metrics: metrics,
            spans: tracer.map {
                GenerationSpans(tracer: $0, parent: InstrumentationContext.current ?? .topLevel, operation: operation, model: model)
            },
            record: context.record)
    }

    /// Brings the scrape-time gauges up to date (before the model is loaded only memory is known).
    func refresh(_ metrics: ServerMetrics, engine: Engine?) {
        let statistics = engine?.statistics
        let rate = statistics.map { throughput.rate(total: $0.generatedTokens) } ?? 0
        metrics.refresh(statistics, tokensPerSecond: rate, memory: HostMemory.read())
    }

    /// GET /v1/status: the engine's figures plus what the status page shows around them.
    func status(servedName: String, engine: Engine) -> EngineStatus {
        var status = EngineStatus(servedName: servedName, engine: engine)
        status.tokensPerSecond = throughput.rate(total: status.generatedTokens)
        status.memoryUsedBytes = HostMemory.read().usedBytes
        status.hardware = hardware
        status.uptimeSeconds = Int((ContinuousClock.now - started).components.seconds)
        return status
    }
}
