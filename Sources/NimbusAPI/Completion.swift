/// The non-streaming answer of `POST /v1/completions` (`object: "text_completion"`).
public struct Completion: Sendable, Hashable, Codable {
    public var id: String
    /// Always `text_completion`.
    public var object: String
    public var created: Int
    public var model: String
    public var choices: [Choice]
    public var usage: Usage
    public var systemFingerprint: String?

    public init(
        id: String = ResponseID.completion(),
        created: Int = ResponseID.now(),
        model: String,
        choices: [Choice],
        usage: Usage,
        systemFingerprint: String? = nil
    ) {
        self.id = id
        self.object = "text_completion"
        self.created = created
        self.model = model
        self.choices = choices
        self.usage = usage
        self.systemFingerprint = systemFingerprint
    }

    private enum CodingKeys: String, CodingKey {
        case id, object, created, model, choices, usage
        case systemFingerprint = "system_fingerprint"
    }

    /// One completion; with several prompts, `index` runs prompt by prompt, `n` per prompt.
    public struct Choice: Sendable, Hashable, Codable {
        public var text: String
        public var index: Int
        /// Written as null when logprobs were not requested.
        public var logprobs: CompletionLogprobs?
        public var finishReason: FinishReason

        public init(text: String, index: Int, logprobs: CompletionLogprobs? = nil, finishReason: FinishReason) {
            self.text = text
            self.index = index
            self.logprobs = logprobs
            self.finishReason = finishReason
        }

        private enum CodingKeys: String, CodingKey {
            case text, index, logprobs
            case finishReason = "finish_reason"
        }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(text, forKey: .text)
            try c.encode(index, forKey: .index)
            try c.encode(logprobs, forKey: .logprobs)
            try c.encode(finishReason, forKey: .finishReason)
        }
    }
}
