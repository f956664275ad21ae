import NimbusEngine
import Prometheus
import Synchronization

/// The server's Prometheus metrics, under both names operators' dashboards use: the NIM
/// reference's (`nim_*`) and vLLM's (`num_requests_running`, `time_to_first_token_seconds`...).
/// Every series carries `model_name`.
///
/// HTTP requests are counted here, under the model they named (`RequestRecord.model`), or the
/// first served model for requests that name none (probes, scrapes); so are the process's memory
/// gauges. Each language model has its own `GeneratorMetrics` for the engine and per-request series.
/// Nothing is recorded per token: see `GeneratorMetrics`.
public final class ServerMetrics: Sendable {
    let registry: PrometheusCollectorRegistry
    /// The first served model, the label of what belongs to no model in particular.
    let primaryModel: String
    /// Per language model, by served name.
    let generators: [String: GeneratorMetrics]
    private let memoryUsed: Gauge, memoryTotal: Gauge

    /// - Parameters:
    ///   - primaryModel: the first served model's name.
    ///   - languageModels: the served names of the language models (the ones with an engine).
    ///   - maxModelLength: the context length, which bounds the token-count buckets.
    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry(), primaryModel: String,
                languageModels: [String], maxModelLength: Int) {
        self.registry = registry
        self.primaryModel = primaryModel
        generators = Dictionary(languageModels.map { ($0, GeneratorMetrics(registry: registry, modelName: $0, maxModelLength: maxModelLength)) },
                                uniquingKeysWith: { first, _ in first })
        let primary = [("model_name", primaryModel)]
        memoryUsed = registry.makeGauge(descriptor: .init("nim_memory_used_bytes", "Resident memory of the server process (CPU memory)."),
                                        labels: primary)
        memoryTotal = registry.makeGauge(
            descriptor: .init("nim_memory_total_bytes", "Memory available to the server: the machine's, or its cgroup limit when lower."),
            labels: primary)
        // Registered up front so that the latency panel has a series before the first request.
        for name in languageModels { _ = durationHistogram(endpoint: "/v1/chat/completions", model: name) }
    }

    /// The exposition text of every metric in the registry.
    public func exposition() -> [UInt8] { registry.emitToBuffer() }

    /// One finished HTTP request: `nim_request_total` and `nim_request_duration_seconds`.
    /// - Parameters:
    ///   - endpoint: the matched route (never the raw path, whose values are unbounded).
    ///   - model: the served model the request named, if any.
    func recordHTTP(endpoint: String, status: Int, seconds: Double, model: String?) {
        let name = model ?? primaryModel
        registry.makeCounter(descriptor: .init("nim_request_total", "HTTP requests by endpoint and status code."),
                             labels: [("model_name", name), ("endpoint", endpoint), ("status", String(status))]).increment()
        durationHistogram(endpoint: endpoint, model: name).record(seconds)
    }

    private func durationHistogram(endpoint: String, model: String) -> ValueHistogram {
        registry.makeValueHistogram(
            descriptor: .init("nim_request_duration_seconds", "HTTP request latency, until the last byte of the body (streams included)."),
            labels: [("model_name", model), ("endpoint", endpoint)], buckets: Buckets.httpDuration)
    }

    /// Sets the process's memory gauges (called when /v1/metrics is scraped).
    func refresh(memory: HostMemory.Reading) {
        memoryUsed.set(Int64(memory.usedBytes))
        memoryTotal.set(Int64(memory.totalBytes))
    }
}

/// Histogram bucket bounds (upper bounds, ascending), after vLLM's where it has them.
enum Buckets {
    static let timeToFirstToken: [Double] = [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5,
                                             7.5, 10, 20, 40, 80, 160, 640]
    static let timePerOutputToken: [Double] = [0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1, 2.5, 5,
                                               7.5, 10, 20, 40, 80]
    static let requestLatency: [Double] = [0.3, 0.5, 0.8, 1, 1.5, 2, 2.5, 5, 10, 15, 20, 30, 40, 50, 60, 120, 240, 480,
                                           960, 1920, 7680]
    /// Health checks and scrapes take milliseconds, generations seconds to minutes.
    static let httpDuration: [Double] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600]

    /// 1, 2, 5, 10, 20, 50... up to the first bound at or above `limit` (vLLM's `build_1_2_5_buckets`).
    static func tokenCounts(upTo limit: Int) -> [Double] {
        var bounds: [Double] = []
        var exponent = 1.0
        while true {
            for mantissa in [1.0, 2.0, 5.0] {
                let bound = mantissa * exponent
                bounds.append(bound)
                if bound >= Double(max(1, limit)) { return bounds }
            }
            exponent *= 10
        }
    }
}

extension MetricNameDescriptor {
    /// A full metric name as it is (the names here are fixed by NIM and vLLM, not composed).
    init(_ name: String, _ help: String) {
        self.init(metricName: name, unitName: "", helpText: help)
    }
}

extension Duration {
    /// The duration in seconds, as a double.
    var seconds: Double {
        let (s, attoseconds) = components
        return Double(s) + Double(attoseconds) / 1e18
    }
}
