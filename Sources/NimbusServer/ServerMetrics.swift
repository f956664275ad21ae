import NimbusEngine
import Prometheus
import Synchronization

/// The server's Prometheus metrics, under both names operators' dashboards use: the NIM
/// reference's (`nim_*`) and vLLM's (`num_requests_running`, `time_to_first_token_seconds`...).
/// Every series carries `model_name`.
///
/// HTTP requests are counted here, under the name they used (`RequestRecord.model`: a served
/// model or one of its LoRA adapters), or the first served model for requests that name none
/// (probes, scrapes); so are the process's memory gauges. Each language model has its engine's
/// series (`EngineMetrics`) and each name requests use its per-request series
/// (`RequestMetrics`). Any name that is not a served model is an adapter's: its series exist from
/// its first request until the first scrape after it is no longer served (`forgetAdapters`), so
/// their number is bounded by the adapters served.
/// Nothing is recorded per token: see `RequestMetrics`.
public final class ServerMetrics: Sendable {
    let registry: PrometheusCollectorRegistry
    /// The first served model, the label of what belongs to no model in particular.
    let primaryModel: String
    /// Per language model, by served name.
    let engines: [String: EngineMetrics]
    private let languageModels: [String: RequestMetrics]
    /// Every served model's name (language models and encoders): never an adapter's.
    private let servedModels: Set<String>
    private let maxModelLength: Int
    /// Per adapter that requests used: its request series and the HTTP series made for it.
    private let adapters = Mutex<[String: AdapterSeries]>([:])
    private let memoryUsed: Gauge, memoryTotal: Gauge

    private struct AdapterSeries {
        var requests: RequestMetrics?
        var counters: [String: Counter] = [:]
        var histograms: [String: ValueHistogram] = [:]
    }

    /// - Parameters:
    ///   - primaryModel: the first served model's name.
    ///   - languageModels: the served names of the language models (the ones with an engine).
    ///   - otherModels: the other served models' names (encoders).
    ///   - maxModelLength: the context length, which bounds the token-count buckets.
    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry(), primaryModel: String,
                languageModels: [String], otherModels: [String] = [], maxModelLength: Int) {
        self.registry = registry
        self.primaryModel = primaryModel
        self.maxModelLength = maxModelLength
        servedModels = Set(languageModels + otherModels + [primaryModel])
        let names = Array(Set(languageModels))
        engines = Dictionary(uniqueKeysWithValues: names.map { ($0, EngineMetrics(registry: registry, modelName: $0)) })
        self.languageModels = Dictionary(uniqueKeysWithValues: names.map {
            ($0, RequestMetrics(registry: registry, modelName: $0, maxModelLength: maxModelLength))
        })
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

    /// The per-request series of `name`: a language model's, or, for any other name, an
    /// adapter's (made on first use). Callers pass only names the server serves.
    func requests(for name: String) -> RequestMetrics {
        if let series = languageModels[name] { return series }
        return adapters.withLock { adapters in
            if let series = adapters[name]?.requests { return series }
            let series = RequestMetrics(registry: registry, modelName: name, maxModelLength: maxModelLength)
            adapters[name, default: AdapterSeries()].requests = series
            return series
        }
    }

    /// Takes the series of adapters no longer served out of the exposition (called at scrapes).
    /// Under the same lock as their making, so a name served again meanwhile gets new series
    /// rather than ones being unregistered.
    func forgetAdapters(keeping isServed: (String) -> Bool) {
        adapters.withLock { adapters in
            for name in adapters.keys where !isServed(name) {
                guard let series = adapters.removeValue(forKey: name) else { continue }
                series.requests?.unregister()
                for counter in series.counters.values { registry.unregisterCounter(counter) }
                for histogram in series.histograms.values { registry.unregisterValueHistogram(histogram) }
            }
        }
    }

    /// One finished HTTP request: `nim_request_total` and `nim_request_duration_seconds`.
    /// - Parameters:
    ///   - endpoint: the matched route (never the raw path, whose values are unbounded).
    ///   - model: the served model or adapter the request named, if any.
    func recordHTTP(endpoint: String, status: Int, seconds: Double, model: String?) {
        let name = model ?? primaryModel
        func series() -> (Counter, ValueHistogram) {
            (registry.makeCounter(descriptor: .init("nim_request_total", "HTTP requests by endpoint and status code."),
                                  labels: [("model_name", name), ("endpoint", endpoint), ("status", String(status))]),
             durationHistogram(endpoint: endpoint, model: name))
        }
        // An adapter's series are noted for `forgetAdapters`, even when a request outlived its
        // adapter's removal and brings the name back: the next scrape takes it out again.
        let (counter, histogram) = servedModels.contains(name) ? series() : adapters.withLock { adapters in
            let (counter, histogram) = series()
            adapters[name, default: AdapterSeries()].counters["\(endpoint) \(status)"] = counter
            adapters[name, default: AdapterSeries()].histograms[endpoint] = histogram
            return (counter, histogram)
        }
        counter.increment()
        histogram.record(seconds)
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
