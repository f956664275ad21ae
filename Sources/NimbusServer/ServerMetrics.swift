import NimbusEngine
import Prometheus
import Synchronization

/// The Prometheus metrics of the served model, under both names operators' dashboards use: the
/// NIM reference's (`nim_*`) and vLLM's (`num_requests_running`, `time_to_first_token_seconds`...).
/// Every series carries `model_name`.
///
/// Three kinds of sources feed it, none of them per token:
/// - the HTTP layer, once per request (`recordHTTP`);
/// - the generation observer, once per engine request when its stream ends (`record(_:)`), and
///   once at its first token (`recordFirstToken`);
/// - the engine's published statistics, read when /v1/metrics is scraped (`refresh`).
public final class ServerMetrics: Sendable {
    let registry: PrometheusCollectorRegistry
    let modelName: String
    private var model: [(String, String)] { [("model_name", modelName)] }

    // Gauges, set at scrape time.
    private let queueSize: Gauge, requestQueueSize: Gauge, waiting: Gauge
    private let batchSize: Gauge, running: Gauge
    private let kvUtilization: Gauge, kvUsage: Gauge
    private let tokensPerSecond: Gauge
    private let memoryUsed: Gauge, memoryTotal: Gauge
    // Counters.
    private let tokensGenerated: Counter, generationTokens: Counter, promptTokens: Counter
    private let preemptions: Counter
    private let lastPreemptions = Mutex(0)
    // Per-request histograms.
    private let timeToFirstToken: ValueHistogram, timePerOutputToken: ValueHistogram
    private let endToEnd: ValueHistogram, queueTime: ValueHistogram
    private let requestPromptTokens: ValueHistogram, requestGenerationTokens: ValueHistogram

    /// - Parameters:
    ///   - maxModelLength: the context length, which bounds the token-count buckets.
    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry(), modelName: String, maxModelLength: Int) {
        self.registry = registry
        self.modelName = modelName
        let model = [("model_name", modelName)]
        func gauge(_ name: String, _ help: String) -> Gauge { registry.makeGauge(descriptor: .init(name, help), labels: model) }
        func counter(_ name: String, _ help: String) -> Counter {
            registry.makeCounter(descriptor: .init(name, help), labels: model)
        }
        func histogram(_ name: String, _ buckets: [Double], _ help: String) -> ValueHistogram {
            registry.makeValueHistogram(descriptor: .init(name, help), labels: model, buckets: buckets)
        }
        queueSize = gauge("nim_queue_size", "Requests waiting to be scheduled.")
        requestQueueSize = gauge("nim_request_queue_size", "Requests waiting to be scheduled (what the NIM HorizontalPodAutoscaler scales on).")
        waiting = gauge("num_requests_waiting", "Requests waiting to be scheduled.")
        batchSize = gauge("nim_batch_size", "Sequences in the current batch.")
        running = gauge("num_requests_running", "Sequences being computed (one per choice; equals requests when n = 1).")
        kvUtilization = gauge("nim_kv_cache_utilization", "Fraction (0-1) of KV cache blocks held by sequences.")
        kvUsage = gauge("kv_cache_usage_perc", "Fraction (0-1) of KV cache blocks held by sequences (vLLM's name).")
        tokensPerSecond = gauge("nim_tokens_per_second", "Tokens generated per second, over the last seconds.")
        memoryUsed = gauge("nim_memory_used_bytes", "Resident memory of the server process (CPU memory).")
        memoryTotal = gauge("nim_memory_total_bytes", "Memory available to the server: the machine's, or its cgroup limit when lower.")
        tokensGenerated = counter("nim_tokens_generated_total", "Completion tokens of finished requests.")
        generationTokens = counter("generation_tokens_total", "Completion tokens of finished requests.")
        promptTokens = counter("prompt_tokens_total", "Prompt tokens of requests whose prefill finished.")
        preemptions = counter("num_preemptions_total", "Sequences preempted to free KV cache blocks.")
        timeToFirstToken = histogram("time_to_first_token_seconds", Buckets.timeToFirstToken,
                                     "From submission to the engine until the first generated token.")
        timePerOutputToken = histogram("time_per_output_token_seconds", Buckets.timePerOutputToken,
                                       "Mean time between output tokens of a request (its longest choice).")
        endToEnd = histogram("e2e_request_latency_seconds", Buckets.requestLatency,
                             "From submission to the engine until the last token.")
        queueTime = histogram("request_queue_time_seconds", Buckets.requestLatency,
                              "From submission until the engine first scheduled the request.")
        let tokenBuckets = Buckets.tokenCounts(upTo: maxModelLength)
        requestPromptTokens = histogram("request_prompt_tokens", tokenBuckets, "Prompt tokens per request.")
        requestGenerationTokens = histogram("request_generation_tokens", tokenBuckets, "Completion tokens per request (all choices).")
        // Registered up front so that dashboards see the series (at zero) before the first request.
        for reason in FinishLabel.allCases { _ = successCounter(reason) }
        _ = durationHistogram(endpoint: "/v1/chat/completions")
    }

    /// The exposition text of every metric in the registry.
    public func exposition() -> [UInt8] { registry.emitToBuffer() }

    // MARK: - HTTP

    /// One finished HTTP request: `nim_request_total` and `nim_request_duration_seconds`.
    /// - Parameter endpoint: the matched route (never the raw path, whose values are unbounded).
    func recordHTTP(endpoint: String, status: Int, seconds: Double) {
        registry.makeCounter(descriptor: .init("nim_request_total", "HTTP requests by endpoint and status code."),
                             labels: model + [("endpoint", endpoint), ("status", String(status))]).increment()
        durationHistogram(endpoint: endpoint).record(seconds)
    }

    private func durationHistogram(endpoint: String) -> ValueHistogram {
        registry.makeValueHistogram(
            descriptor: .init("nim_request_duration_seconds", "HTTP request latency, until the last byte of the body (streams included)."),
            labels: model + [("endpoint", endpoint)], buckets: Buckets.httpDuration)
    }

    // MARK: - Generations

    /// How a generation ended, as vLLM labels `request_success_total`.
    enum FinishLabel: String, CaseIterable {
        case stop, length
        /// The client went away (or the request was cancelled) before it finished.
        case abort
    }

    private func successCounter(_ reason: FinishLabel) -> Counter {
        registry.makeCounter(descriptor: .init("request_success_total", "Finished sequences (choices) by finish reason."),
                             labels: model + [("finish_reason", reason.rawValue)])
    }

    /// The first token of an engine request: time to first token, queue time, prompt tokens.
    func recordFirstToken(promptTokens count: Int, timeToFirstToken ttft: Duration, queueTime queued: Duration?) {
        timeToFirstToken.record(ttft.seconds)
        if let queued { queueTime.record(queued.seconds) }
        promptTokens.increment(by: Int64(count))
    }

    /// An engine request whose stream ended.
    func record(_ summary: GenerationSummary) {
        let completion = Int64(summary.completionTokens)
        tokensGenerated.increment(by: completion)
        generationTokens.increment(by: completion)
        switch summary.outcome {
        case .finished(let reasons):
            for reason in reasons { successCounter(reason == .stop ? .stop : .length).increment() }
            endToEnd.record(summary.latency.seconds)
            requestPromptTokens.record(Double(summary.promptTokens))
            requestGenerationTokens.record(Double(summary.completionTokens))
            if let decode = summary.decodeTime, summary.longestChoice > 1 {
                timePerOutputToken.record(decode.seconds / Double(summary.longestChoice - 1))
            }
        case .aborted:
            successCounter(.abort).increment(by: Int64(max(1, summary.choices)))
        case .failed:
            break  // counted by nim_request_total with its 5xx status
        }
    }

    // MARK: - Engine state

    /// Sets the gauges from the engine's latest statistics (called when /v1/metrics is scraped).
    /// - Parameter s: nil before the model is loaded; then only memory is set.
    func refresh(_ s: EngineStatistics?, tokensPerSecond rate: Double, memory: HostMemory.Reading) {
        memoryUsed.set(Int64(memory.usedBytes))
        memoryTotal.set(Int64(memory.totalBytes))
        guard let s else { return }
        for gauge in [queueSize, requestQueueSize, waiting] { gauge.set(Int64(s.waitingRequests)) }
        for gauge in [batchSize, running] { gauge.set(Int64(s.runningSequences)) }
        for gauge in [kvUtilization, kvUsage] { gauge.set(s.kvCacheUsage) }
        tokensPerSecond.set(rate)
        let delta = lastPreemptions.withLock { last in
            defer { last = max(last, s.preemptions) }
            return max(0, s.preemptions - last)
        }
        if delta > 0 { preemptions.increment(by: Int64(delta)) }
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
