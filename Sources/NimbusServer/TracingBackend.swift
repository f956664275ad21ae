import Hummingbird
import Logging
import OTel
import ServiceLifecycle
import Tracing

/// The OpenTelemetry tracer (swift-otel, OTLP over HTTP) and the service that batches and
/// exports its spans; that service must outlive the HTTP server so the last spans are flushed.
public struct TracingBackend: Sendable {
    public let tracer: any Tracer
    public let service: any Service

    /// Builds the tracer from the standard OTEL_* variables (OTEL_EXPORTER_OTLP_ENDPOINT,
    /// OTEL_SERVICE_NAME, OTEL_TRACES_SAMPLER, OTEL_BSP_SCHEDULE_DELAY...) and makes it the
    /// process's tracer, which also extracts incoming W3C `traceparent` headers.
    /// - Throws: `ConfigurationError` when swift-otel cannot build the exporter.
    public static func bootstrap(logger: Logger) throws(ConfigurationError) -> TracingBackend {
        var configuration = OTel.Configuration.default
        configuration.serviceName = "nimbus"
        configuration.traces.enabled = true
        configuration.metrics.enabled = false  // metrics are Prometheus's, at /v1/metrics
        configuration.logs.enabled = false
        configuration.diagnosticLogger = .custom(logger)
        do {
            let backend = try OTel.makeTracingBackend(configuration: configuration)
            InstrumentationSystem.bootstrap(backend.factory)
            return TracingBackend(tracer: backend.factory, service: backend.service)
        } catch {
            throw ConfigurationError(variable: "NIM_ENABLE_TRACING", message: "is on but the OTLP exporter cannot be set up: \(error)")
        }
    }
}

extension NimbusServer {
    /// Installs the process's log handler: plain lines, or JSON lines with NIM_JSONL_LOGGING;
    /// with tracing on, lines logged inside a request's span carry its `trace_id` and `span_id`.
    public static func bootstrapLogging(_ configuration: ServerConfiguration) {
        let level = configuration.logLevel
        let json = configuration.observability.jsonLogging
        let provider = configuration.observability.tracing ? OTel.makeLoggingMetadataProvider() : nil
        LoggingSystem.bootstrap({ label, provider in
            var handler: any LogHandler = json
                ? JSONLogHandler.standardError(label: label, metadataProvider: provider)
                : EscapingLogHandler(inner: StreamLogHandler.standardError(label: label, metadataProvider: provider))
            handler.logLevel = level
            return handler
        }, metadataProvider: provider)
    }
}

/// Hummingbird's `TracingMiddleware` for every route but the probes and scrapes, which would
/// otherwise add a trace every few seconds per Kubernetes probe and Prometheus server.
struct RequestTracingMiddleware<Context: RequestContext>: RouterMiddleware {
    private let tracing = TracingMiddleware<Context>(recordingHeaders: [RequestID.header])

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if RequestObservabilityMiddleware.quietRoutes.contains(request.uri.path) {
            return try await next(request, context)
        }
        return try await tracing.handle(request, context: context, next: next)
    }
}
