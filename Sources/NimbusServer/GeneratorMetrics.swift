import NimbusEngine
import Prometheus
import Synchronization

/// The series of one language model, labelled with its served name: the engine's gauges and the
/// per-request counters and histograms, in NIM's names and vLLM's.
///
/// Fed from two sources, neither of them per token:
/// - the generation observer, once at an engine request's first token (`recordFirstToken`) and
///   once when its stream ends (`record(_:)`);
/// - the engine's published statistics, read when /v1/metrics is scraped (`refresh`).
final class GeneratorMetrics: Sendable {
    let modelName: String
    private let registry: PrometheusCollectorRegistry
    // Gauges, set at scrape time.
    private let queueSize: Gauge, requestQueueSize: Gauge, waiting: Gauge
    private let batchSize: Gauge, running: Gauge
    private let kvUtilization: Gauge, kvUsage: Gauge
    private let tokensPerSecond: Gauge
    // Counters.
    private let tokensGenerated: Counter, generationTokens: Counter, promptTokens: Counter
    private let preemptions: Counter
    // Speculative decoding, in vLLM's names.
    private let drafts: Counter, draftTokens: Counter, acceptedTokens: Counter
    private let acceptanceRate: Gauge
    /// The engine's running totals at the last scrape; counters advance by the difference.
    private let lastTotals = Mutex(EngineStatistics())
    // Per-request histograms.
    private let timeToFirstToken: ValueHistogram, timePerOutputToken: ValueHistogram
    private let endToEnd: ValueHistogram, queueTime: ValueHistogram
    private let requestPromptTokens: ValueHistogram, requestGenerationTokens: ValueHistogram

    /// - Parameter maxModelLength: the context length, which bounds the token-count buckets.
    init(registry: PrometheusCollectorRegistry, modelName: String, maxModelLength: Int) {
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
        tokensGenerated = counter("nim_tokens_generated_total", "Completion tokens of finished requests.")
        generationTokens = counter("generation_tokens_total", "Completion tokens of finished requests.")
        promptTokens = counter("prompt_tokens_total", "Prompt tokens of requests whose prefill finished.")
        preemptions = counter("num_preemptions_total", "Sequences preempted to free KV cache blocks.")
        drafts = counter("spec_decode_num_drafts_total", "Drafts verified by speculative decoding.")
        draftTokens = counter("spec_decode_num_draft_tokens_total", "Draft tokens verified by speculative decoding.")
        acceptedTokens = counter("spec_decode_num_accepted_tokens_total", "Draft tokens accepted (sampled as drafted).")
        acceptanceRate = gauge("spec_decode_draft_acceptance_rate", "Fraction (0-1) of draft tokens accepted since start.")
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
    }

    /// How a generation ended, as vLLM labels `request_success_total`.
    enum FinishLabel: String, CaseIterable {
        case stop, length
        /// The client went away (or the request was cancelled) before it finished.
        case abort
    }

    private func successCounter(_ reason: FinishLabel) -> Counter {
        registry.makeCounter(descriptor: .init("request_success_total", "Finished sequences (choices) by finish reason."),
                             labels: [("model_name", modelName), ("finish_reason", reason.rawValue)])
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

    /// Sets the gauges from the engine's latest statistics (called when /v1/metrics is scraped).
    func refresh(_ s: EngineStatistics, tokensPerSecond rate: Double) {
        for gauge in [queueSize, requestQueueSize, waiting] { gauge.set(Int64(s.waitingRequests)) }
        for gauge in [batchSize, running] { gauge.set(Int64(s.runningSequences)) }
        for gauge in [kvUtilization, kvUsage] { gauge.set(s.kvCacheUsage) }
        tokensPerSecond.set(rate)
        acceptanceRate.set(s.draftAcceptanceRate)
        let last = lastTotals.withLock { last in
            defer {
                last.preemptions = max(last.preemptions, s.preemptions)
                last.drafts = max(last.drafts, s.drafts)
                last.draftTokens = max(last.draftTokens, s.draftTokens)
                last.acceptedDraftTokens = max(last.acceptedDraftTokens, s.acceptedDraftTokens)
            }
            return last
        }
        let totals: [(Counter, now: Int, before: Int)] = [
            (preemptions, s.preemptions, last.preemptions), (drafts, s.drafts, last.drafts),
            (draftTokens, s.draftTokens, last.draftTokens), (acceptedTokens, s.acceptedDraftTokens, last.acceptedDraftTokens),
        ]
        for (counter, now, before) in totals where now > before { counter.increment(by: Int64(now - before)) }
    }
}
