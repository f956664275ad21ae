/// One server-sent event of a streaming text completion.
///
/// OpenAI reuses `object: "text_completion"` for chunks; each carries new `text` for one
/// choice, `finish_reason: null` until that choice ends, and usage rules as for chat
/// (`StreamUsage`), with a final `choices: []` chunk from `usageChunk(...)`.
public struct CompletionChunk: Sendable, Hashable, Codable {
    public var id: String
    /// Always `text_completion`.
    public var object: String
    public var created: Int
    public var model: String
    public var systemFingerprint: String?
    public var choices: [Choice]
    public var usage: StreamUsage

    public init(
        id: String,
        created: Int,
        model: String,
        choices: [Choice],
        usage: StreamUsage = .omitted,
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

    /// The final chunk of an `include_usage` stream: no choices, only the counts.
    public static func usageChunk(
        id: String, created: Int, model: String, usage: Usage, systemFingerprint: String? = nil
    ) -> CompletionChunk {
        CompletionChunk(
            id: id, created: created, model: model, choices: [], usage: .value(usage),
            systemFingerprint: systemFingerprint
        )
    }

    private enum CodingKeys: String, CodingKey {
        case id, object, created, model, choices, usage
        case systemFingerprint = "system_fingerprint"
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(object, forKey: .object)
        try c.encode(created, forKey: .created)
        try c.encode(model, forKey: .model)
        try c.encodeIfPresent(systemFingerprint, forKey: .systemFingerprint)
        try c.encode(choices, forKey: .choices)
        try usage.encode(into: &c, forKey: .usage)
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(String.self, forKey: .id)
        object = try c.decode(String.self, forKey: .object)
        created = try c.decode(Int.self, forKey: .created)
        model = try c.decode(String.self, forKey: .model)
        systemFingerprint = try c.decodeIfPresent(String.self, forKey: .systemFingerprint)
        choices = try c.decode([Choice].self, forKey: .choices)
        usage = try StreamUsage.decode(from: c, forKey: .usage)
    }

    /// New text for one choice.
    public struct Choice: Sendable, Hashable, Codable {
        public var text: String
        public var index: Int
        public var logprobs: CompletionLogprobs?
        /// Null until the choice's last chunk.
        public var finishReason: FinishReason?

        public init(text: String, index: Int, logprobs: CompletionLogprobs? = nil, finishReason: FinishReason? = nil) {
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
