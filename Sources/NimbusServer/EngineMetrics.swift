import NimbusEngine
import Prometheus
import Synchronization

/// The engine series of one language model, labelled with its served name: gauges and running
/// totals read from the engine's published statistics when /v1/metrics is scraped (`refresh`),
/// in NIM's names and vLLM's. An engine serves its LoRA adapters too, so these carry the base
/// model's name; per-request series carry the adapter's (`RequestMetrics`).
final class EngineMetrics: Sendable {
    let modelName: String
    private let queueSize: Gauge, requestQueueSize: Gauge, waiting: Gauge
    private let batchSize: Gauge, running: Gauge
    private let kvUtilization: Gauge, kvUsage: Gauge
    private let tokensPerSecond: Gauge
    private let preemptions: Counter
    // Speculative decoding, in vLLM's names.
    private let drafts: Counter, draftTokens: Counter, acceptedTokens: Counter
    private let acceptanceRate: Gauge
    /// The engine's running totals at the last scrape; counters advance by the difference.
    private let lastTotals = Mutex(EngineStatistics())

    init(registry: PrometheusCollectorRegistry, modelName: String) {
        self.modelName = modelName
        let model = [("model_name", modelName)]
        func gauge(_ name: String, _ help: String) -> Gauge { registry.makeGauge(descriptor: .init(name, help), labels: model) }
        func counter(_ name: String, _ help: String) -> Counter {
            registry.makeCounter(descriptor: .init(name, help), labels: model)
        }
        queueSize = gauge("nim_queue_size", "Requests waiting to be scheduled.")
        requestQueueSize = gauge("nim_request_queue_size", "Requests waiting to be scheduled (what the NIM HorizontalPodAutoscaler scales on).")
        waiting = gauge("num_requests_waiting", "Requests waiting to be scheduled.")
        batchSize = gauge("nim_batch_size", "Sequences in the current batch.")
        running = gauge("num_requests_running", "Sequences being computed (one per choice; equals requests when n = 1).")
        kvUtilization = gauge("nim_kv_cache_utilization", "Fraction (0-1) of KV cache blocks held by sequences.")
        kvUsage = gauge("kv_cache_usage_perc", "Fraction (0-1) of KV cache blocks held by sequences (vLLM's name).")
        tokensPerSecond = gauge("nim_tokens_per_second", "Tokens generated per second, over the last seconds.")
        preemptions = counter("num_preemptions_total", "Sequences preempted to free KV cache blocks.")
        drafts = counter("spec_decode_num_drafts_total", "Drafts verified by speculative decoding.")
        draftTokens = counter("spec_decode_num_draft_tokens_total", "Draft tokens verified by speculative decoding.")
        acceptedTokens = counter("spec_decode_num_accepted_tokens_total", "Draft tokens accepted (sampled as drafted).")
        acceptanceRate = gauge("spec_decode_draft_acceptance_rate", "Fraction (0-1) of draft tokens accepted since start.")
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
