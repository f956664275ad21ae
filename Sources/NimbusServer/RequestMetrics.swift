import NimbusEngine
import Prometheus

/// The per-request series of one name requests use: a language model, or one of its LoRA
/// adapters (whose requests are labelled with the adapter's id, as NIM labels them). Fed by the
/// generation observer, never per token: once at a request's first token (`recordFirstToken`) and
/// once when its stream ends (`record(_:)`).
final class RequestMetrics: Sendable {
    let modelName: String
    private let registry: PrometheusCollectorRegistry
    private let tokensGenerated: Counter, generationTokens: Counter, promptTokens: Counter
    private let timeToFirstToken: ValueHistogram, timePerOutputToken: ValueHistogram
    private let endToEnd: ValueHistogram, queueTime: ValueHistogram
    private let requestPromptTokens: ValueHistogram, requestGenerationTokens: ValueHistogram
    /// `request_success_total` by finish reason, registered up front so that dashboards see the
    /// series (at zero) before the first request.
    private let success: [FinishLabel: Counter]

    /// How a generation ended, as vLLM labels `request_success_total`.
    enum FinishLabel: String, CaseIterable {
        case stop, length
        /// The client went away (or the request was cancelled) before it finished.
        case abort
    }

    /// - Parameter maxModelLength: the context length, which bounds the token-count buckets.
    init(registry: PrometheusCollectorRegistry, modelName: String, maxModelLength: Int) {
        self.registry = registry
        self.modelName = modelName
        let model = [("model_name", modelName)]
        func counter(_ name: String, _ help: String) -> Counter {
            registry.makeCounter(descriptor: .init(name, help), labels: model)
        }
        func histogram(_ name: String, _ buckets: [Double], _ help: String) -> ValueHistogram {
            registry.makeValueHistogram(descriptor: .init(name, help), labels: model, buckets: buckets)
        }
        tokensGenerated = counter("nim_tokens_generated_total", "Completion tokens of finished requests.")
        generationTokens = counter("generation_tokens_total", "Completion tokens of finished requests.")
        promptTokens = counter("prompt_tokens_total", "Prompt tokens of requests whose prefill finished.")
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
        success = Dictionary(uniqueKeysWithValues: FinishLabel.allCases.map { reason in
            (reason, registry.makeCounter(descriptor: .init("request_success_total", "Finished sequences (choices) by finish reason."),
                                          labels: [("model_name", modelName), ("finish_reason", reason.rawValue)]))
        })
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
            for reason in reasons { success[reason == .stop ? .stop : .length]?.increment() }
            endToEnd.record(summary.latency.seconds)
            requestPromptTokens.record(Double(summary.promptTokens))
            requestGenerationTokens.record(Double(summary.completionTokens))
            if let decode = summary.decodeTime, summary.longestChoice > 1 {
                timePerOutputToken.record(decode.seconds / Double(summary.longestChoice - 1))
            }
        case .aborted:
            success[.abort]?.increment(by: Int64(max(1, summary.choices)))
        case .failed:
            break  // counted by nim_request_total with its 5xx status
        }
    }

    /// Takes every series out of the registry (an adapter that is no longer served).
    func unregister() {
        for counter in [tokensGenerated, generationTokens, promptTokens] + Array(success.values) {
            registry.unregisterCounter(counter)
        }
        for histogram in [timeToFirstToken, timePerOutputToken, endToEnd, queueTime, requestPromptTokens, requestGenerationTokens] {
            registry.unregisterValueHistogram(histogram)
        }
    }
}
