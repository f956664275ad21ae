/// One server-sent event of a streaming chat completion (`object: "chat.completion.chunk"`).
///
/// The usual sequence per choice is a first chunk with `delta.role`, content chunks with
/// `delta.content`, and a last chunk with an empty delta and `finish_reason`. If usage was
/// requested, a final chunk from `usageChunk(...)` follows, then `data: [DONE]`.
/// `logprobs` and `finish_reason` are written as null while absent, as OpenAI does.
public struct ChatCompletionChunk: Sendable, Hashable, Codable {
    /// The same for every chunk of one response.
    public var id: String
    /// Always `chat.completion.chunk`.
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
        self.object = "chat.completion.chunk"
        self.created = created
        self.model = model
        self.choices = choices
        self.usage = usage
        self.systemFingerprint = systemFingerprint
    }

    /// The final chunk of an `include_usage` stream: no choices, only the counts.
    public static func usageChunk(
        id: String, created: Int, model: String, usage: Usage, systemFingerprint: String? = nil
    ) -> ChatCompletionChunk {
        ChatCompletionChunk(
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

    /// The change to one choice carried by this chunk.
    public struct Choice: Sendable, Hashable, Codable {
        public var index: Int
        public var delta: Delta
        public var logprobs: ChatLogprobs?
        /// Null until the choice's last chunk.
        public var finishReason: FinishReason?

        public init(index: Int, delta: Delta, logprobs: ChatLogprobs? = nil, finishReason: FinishReason? = nil) {
            self.index = index
            self.delta = delta
            self.logprobs = logprobs
            self.finishReason = finishReason
        }

        private enum CodingKeys: String, CodingKey {
            case index, delta, logprobs
            case finishReason = "finish_reason"
        }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(index, forKey: .index)
            try c.encode(delta, forKey: .delta)
            try c.encode(logprobs, forKey: .logprobs)
            try c.encode(finishReason, forKey: .finishReason)
        }
    }

    /// New text for a choice; keys are omitted when nil, so the closing delta is `{}`.
    public struct Delta: Sendable, Hashable, Codable {
        /// Set (to `assistant`) on the first chunk of each choice only.
        public var role: ChatMessage.Role?
        public var content: String?
        public var toolCalls: [ToolCallDelta]?
        public var reasoningContent: String?

        public init(role: ChatMessage.Role? = nil, content: String? = nil, toolCalls: [ToolCallDelta]? = nil,
                    reasoningContent: String? = nil) {
            self.role = role
            self.content = content
            self.toolCalls = toolCalls
            self.reasoningContent = reasoningContent
        }

        private enum CodingKeys: String, CodingKey {
            case role, content
            case toolCalls = "tool_calls"
            case reasoningContent = "reasoning_content"
        }
    }
}
