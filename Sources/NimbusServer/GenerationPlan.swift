import NimbusAPI
import NimbusEngine

/// The engine-side view of an API request, checked against the model and the server's limits.
///
/// Chat and completions differ in how they build the prompt; everything after the prompt (the
/// sampling parameters, the length checks, the error messages) is shared here.
struct GenerationPlan {
    struct Options {
        var temperature: Double?
        var topP: Double?
        var topK: Int?
        var minP: Double?
        var presencePenalty: Double?
        var frequencyPenalty: Double?
        var repetitionPenalty: Double?
        var logitBias: [Int: Double]?
        var seed: Int?
        /// Alternatives per token; nil = no logprobs.
        var logprobs: Int?
        var maxTokens: Int?
        /// The limit when `maxTokens` is nil (16 on /v1/completions); nil = all the room left.
        var defaultMaxTokens: Int? = nil
        var stop: [String]
        var ignoreEOS: Bool
        var n: Int
        var priority: Int?
        /// `false`: no speculative decoding for this request.
        var speculative: Bool? = nil
        /// The compiled output constraint (structured output), if the request has one.
        var constraint: OutputConstraint? = nil
    }

    /// Checks `prompt` and `options` against `engine` and `limits` and builds the engine request.
    /// - Throws: `APIError` (400) with the numbers when a limit is exceeded.
    static func make(prompt: [Int], options o: Options, engine: Engine, limits: RequestLimits) throws(APIError) -> GenerationRequest {
        let context = engine.contextLength
        guard !prompt.isEmpty else { throw .invalidRequest("the prompt is empty after tokenization", param: "prompt") }
        let maxInput = min(limits.maxInputLength ?? context - 1, context - 1)
        guard prompt.count <= maxInput else {
            throw .invalidRequest("the prompt has \(prompt.count) tokens, more than the maximum input length of \(maxInput) tokens",
                                  param: "messages", code: "context_length_exceeded")
        }
        let room = context - prompt.count
        let maxTokens: Int
        if let requested = o.maxTokens {
            guard requested <= room else {
                throw .invalidRequest(
                    "This model's maximum context length is \(context) tokens. However, you requested \(prompt.count + requested) tokens (\(prompt.count) in the messages, \(requested) in the completion). Please reduce the length of the messages or completion.",
                    param: "max_tokens", code: "context_length_exceeded")
            }
            if let cap = limits.maxOutputLength, requested > cap {
                throw .invalidRequest("max_tokens must be at most \(cap) (the server's maximum output length), got \(requested)",
                                      param: "max_tokens")
            }
            maxTokens = requested
        } else {
            maxTokens = min(room, limits.maxOutputLength ?? room, o.defaultMaxTokens ?? room)
        }
        let vocabulary = engine.model.model.vocabularySize
        var bias: [Int: Float] = [:]
        for (token, value) in o.logitBias ?? [:] {
            guard token >= 0, token < vocabulary else {
                throw .invalidRequest("logit_bias token id \(token) is outside the vocabulary (0..<\(vocabulary))", param: "logit_bias")
            }
            bias[token] = Float(value)
        }
        let sampling = SamplingParameters(
            temperature: Float(o.temperature ?? 1),
            topP: Float(o.topP ?? 1),
            topK: max(0, o.topK ?? 0),
            minP: Float(o.minP ?? 0),
            presencePenalty: Float(o.presencePenalty ?? 0),
            frequencyPenalty: Float(o.frequencyPenalty ?? 0),
            repetitionPenalty: Float(o.repetitionPenalty ?? 1),
            logitBias: bias,
            seed: o.seed.map { UInt64(bitPattern: Int64($0)) },
            logprobs: o.logprobs
        )
        var request = GenerationRequest(prompt: prompt, maxTokens: maxTokens, sampling: sampling, stop: o.stop,
                                        ignoreEOS: o.ignoreEOS, choices: o.n, priority: o.priority ?? 0)
        request.speculative = o.speculative ?? true
        request.constraint = o.constraint
        return request
    }

    /// Submits to the engine, mapping its refusals to API errors; `telemetry` watches the stream.
    static func submit(_ request: GenerationRequest, to engine: Engine,
                       telemetry: GenerationTelemetry = .off) throws(APIError) -> ObservedGeneration {
        var request = request
        request.requestID = telemetry.record?.id
        guard !telemetry.isOff else { return ObservedGeneration(events: try enqueue(request, on: engine), watch: nil) }
        let timeline = RequestTimeline()
        request.timeline = timeline
        let submitted = ContinuousClock.now
        let events = try enqueue(request, on: engine)
        return ObservedGeneration(events: events, watch: .init(telemetry: telemetry, submitted: submitted, timeline: timeline,
                                                               promptTokens: request.prompt.count, choices: request.choices))
    }

    private static func enqueue(_ request: GenerationRequest, on engine: Engine) throws(APIError) -> AsyncThrowingStream<GenerationEvent, any Error> {
        do {
            return try engine.submit(request)
        } catch .shuttingDown {
            throw .serviceUnavailable("the server is shutting down")
        } catch .queueFull(let limit) {
            throw .rateLimitExceeded("The server is at capacity: \(limit) requests are already running or waiting (NIM_MAX_NUM_SEQS + NIM_MAX_QUEUE_SIZE). Retry the request later.")
        } catch .exceedsKVCache(let tokens, let capacity?) {
            throw .invalidRequest("the request needs \(tokens) tokens of KV cache (prompt + n x max_tokens) but the server's whole KV cache holds \(capacity); reduce max_tokens or n",
                                  param: "max_tokens", code: "context_length_exceeded")
        } catch .exceedsKVCache(let tokens, nil) {
            // Only the number of choices can help here: the engine's own words, aimed at `n`.
            throw .invalidRequest(EngineError.exceedsKVCache(tokens: tokens, capacity: nil).description,
                                  param: "n", code: "context_length_exceeded")
        } catch {
            throw .invalidRequest(error.description, code: "context_length_exceeded")
        }
    }
}

extension ModelHost {
    /// The engine, after checking the request names the served model.
    /// - Throws: 503 while loading or shutting down, 404 for another model's name.
    func engine(for model: String) throws(APIError) -> Engine {
        guard let engine else { throw .serviceUnavailable("the model is not loaded yet; retry when /v1/health/ready returns 200") }
        guard serves(model) else { throw Self.unknown(model, servedName) }
        return engine
    }
}
