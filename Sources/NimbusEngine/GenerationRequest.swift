import NimbusModels

/// What the engine is asked to do for one API request: continue `prompt`, `choices` times.
public struct GenerationRequest: Sendable {
    public var prompt: [Int]
    /// Most tokens to generate per choice.
    public var maxTokens: Int
    public var sampling: SamplingParameters
    /// Stop strings: generation ends before the first one, which is not returned.
    public var stop: [String]
    /// Keep generating past end-of-generation tokens (until `maxTokens`).
    public var ignoreEOS: Bool
    /// OpenAI's `n`: independent continuations of the same prompt, sharing its prefill.
    public var choices: Int
    /// Scheduling priority under the `priority` policy: lower runs first (vLLM's convention).
    public var priority: Int
    /// Stamped with the time the engine first schedules the request; nil when nobody asks.
    public var timeline: RequestTimeline?
    /// May use speculative decoding when the engine has it on (the API's `speculative: false`
    /// turns it off for one request).
    public var speculative = true
    /// The grammar every choice's output must match (structured output); nil: free text.
    public var constraint: OutputConstraint?
    /// The LoRA adapter to run with (nil: the base model). Requests for different adapters
    /// share steps; their KV is never shared.
    public var adapter: LoRAAdapter?
    /// The API request's id, for the engine's own log lines about it (nil: none given).
    public var requestID: String?

    public init(prompt: [Int], maxTokens: Int, sampling: SamplingParameters = .greedy, stop: [String] = [],
                ignoreEOS: Bool = false, choices: Int = 1, priority: Int = 0) {
        self.priority = priority
        self.prompt = prompt
        self.maxTokens = maxTokens
        self.sampling = sampling
        self.stop = stop
        self.ignoreEOS = ignoreEOS
        self.choices = choices
    }
}

/// Why a choice ended; maps one to one onto OpenAI's `finish_reason`.
public enum StopReason: String, Sendable, Equatable {
    /// An end-of-generation token or a stop string.
    case stop
    /// `maxTokens` or the context length was reached.
    case length
}

/// One generated token as the API reports it in `logprobs`.
public struct GeneratedToken: Sendable, Equatable {
    public struct Alternative: Sendable, Equatable {
        public var id: Int
        public var text: String
        public var bytes: [UInt8]
        public var logprob: Float
    }

    public var id: Int
    /// The token's own text (may be part of a UTF-8 sequence, then with replacement characters);
    /// empty, like `bytes`, unless the request asked for logprobs.
    public var text: String
    public var bytes: [UInt8]
    public var logprob: Float?
    public var topLogprobs: [Alternative]
}

/// What a generation stream yields.
public enum GenerationEvent: Sendable, Equatable {
    /// A sampled token of choice `choice`, with the text that became safe to show because of it
    /// (possibly empty: incomplete UTF-8 and possible stop-string prefixes are held back).
    case token(choice: Int, text: String, token: GeneratedToken)
    /// Text released at the end of a choice (held-back text), not tied to a new token.
    case text(choice: Int, text: String)
    /// Choice `choice` ended after generating `completionTokens` tokens.
    case finished(choice: Int, reason: StopReason, completionTokens: Int)
}

extension GenerationRequest {
    /// The events this request's stream buffers: `perChoice` for each of its choices, which
    /// share the stream (a step can send each choice a token, its text and its end).
    func streamBacklog(perChoice: Int) -> Int {
        max(1, perChoice) * max(1, choices)
    }
}
