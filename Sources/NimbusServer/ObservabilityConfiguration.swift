/// Metrics, tracing and log format settings (NIM_ENABLE_METRICS, NIM_ENABLE_TRACING,
/// NIM_JSONL_LOGGING). Where traces go is OpenTelemetry's own business: swift-otel reads the
/// standard OTEL_* variables (endpoint, service name, sampler, batch delays).
public struct ObservabilityConfiguration: Sendable, Equatable {
    /// Serve GET /v1/metrics and record the metrics behind it.
    public var metrics = true
    /// Export a span tree per request over OTLP/HTTP.
    public var tracing = false
    /// One JSON object per log line instead of plain text.
    public var jsonLogging = false

    public init() {}

    static let variables: [(name: String, defaultValue: String, help: String)] = [
        ("NIM_ENABLE_METRICS", "true", "serve Prometheus metrics at /v1/metrics"),
        ("NIM_ENABLE_TRACING", "false", "export OpenTelemetry traces over OTLP/HTTP (see OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_SERVICE_NAME)"),
        ("NIM_JSONL_LOGGING", "false", "log one JSON object per line"),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://localhost:4318", "OTLP/HTTP collector; traces go to <endpoint>/v1/traces"),
        ("OTEL_SERVICE_NAME", "nimbus", "the traces' service.name"),
    ]

    /// - Throws: `ConfigurationError` for a malformed switch, or, with tracing on, an OTLP
    ///   setting this build cannot honour (it exports over HTTP only; gRPC is not built in).
    static func resolve(_ env: [String: String]) throws(ConfigurationError) -> ObservabilityConfiguration {
        var o = ObservabilityConfiguration()
        o.metrics = try ServerConfiguration.boolean(env, "NIM_ENABLE_METRICS") ?? o.metrics
        o.tracing = try ServerConfiguration.boolean(env, "NIM_ENABLE_TRACING") ?? o.tracing
        o.jsonLogging = try ServerConfiguration.boolean(env, "NIM_JSONL_LOGGING") ?? o.jsonLogging
        // OpenTelemetry's own switch wins: a disabled SDK exports nothing.
        if env["OTEL_SDK_DISABLED"]?.lowercased() == "true" { o.tracing = false }
        guard o.tracing else { return o }
        for name in ["OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"] {
            guard let raw = env[name], !raw.isEmpty else { continue }
            let lower = raw.lowercased()
            guard lower.hasPrefix("http://") || lower.hasPrefix("https://"), raw.count > 8 else {
                throw ConfigurationError(variable: name, message: "must be an http:// or https:// URL, got '\(raw)'")
            }
        }
        for name in ["OTEL_EXPORTER_OTLP_PROTOCOL", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"] {
            guard let raw = env[name], !raw.isEmpty else { continue }
            guard ["http/protobuf", "http/json"].contains(raw.lowercased()) else {
                throw ConfigurationError(variable: name, message: "must be http/protobuf or http/json (this build exports OTLP over HTTP, usually port 4318; gRPC is not built in), got '\(raw)'")
            }
        }
        if let raw = env["OTEL_TRACES_EXPORTER"], !raw.isEmpty, !["otlp", "console", "none"].contains(raw.lowercased()) {
            throw ConfigurationError(variable: "OTEL_TRACES_EXPORTER", message: "must be otlp, console or none, got '\(raw)'")
        }
        return o
    }
}
