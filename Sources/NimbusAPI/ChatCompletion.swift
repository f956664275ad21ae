/// The non-streaming answer of `POST /v1/chat/completions` (`object: "chat.completion"`).
///
/// Encoding writes `logprobs: null` and `content: null` explicitly, as OpenAI does, because
/// some clients index those keys without checking they exist.
public struct ChatCompletion: Sendable, Hashable, Codable {
    public var id: String
    /// Always `chat.completion`.
    public var object: String
    /// Unix seconds.
    public var created: Int
    public var model: String
    public var choices: [Choice]
    public var usage: Usage
    /// Identifies the build/config that served the request; omitted when nil.
    public var systemFingerprint: String?

    public init(
        id: String = ResponseID.chatCompletion(),
        created: Int = ResponseID.now(),
        model: String,
        choices: [Choice],
        usage: Usage,
        systemFingerprint: String? = nil
    ) {
        self.id = id
        self.object = "chat.completion"
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

    /// One of the `n` answers.
    public struct Choice: Sendable, Hashable, Codable {
        public var index: Int
        public var message: Message
        public var logprobs: ChatLogprobs?
        public var finishReason: FinishReason

        public init(index: Int, message: Message, logprobs: ChatLogprobs? = nil, finishReason: FinishReason) {
            self.index = index
            self.message = message
            self.logprobs = logprobs
            self.finishReason = finishReason
        }

        /// Shorthand for the usual case: an assistant message with this text.
        public init(index: Int, text: String, logprobs: ChatLogprobs? = nil, finishReason: FinishReason) {
            self.init(index: index, message: Message(content: text), logprobs: logprobs, finishReason: finishReason)
        }

        private enum CodingKeys: String, CodingKey {
            case index, message, logprobs
            case finishReason = "finish_reason"
        }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(index, forKey: .index)
            try c.encode(message, forKey: .message)
            try c.encode(logprobs, forKey: .logprobs)
            try c.encode(finishReason, forKey: .finishReason)
        }
    }

    /// The generated assistant message.
    public struct Message: Sendable, Hashable, Codable {
        /// Always `assistant` for generated messages.
        public var role: ChatMessage.Role
        public var content: String?
        /// The calls the model made (omitted when none).
        public var toolCalls: [ToolCall]?
        /// A reasoning model's thinking, split off by `NIM_REASONING_PARSER` (omitted when none).
        public var reasoningContent: String?

        public init(role: ChatMessage.Role = .assistant, content: String?, toolCalls: [ToolCall]? = nil,
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

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(role, forKey: .role)
            try c.encode(content, forKey: .content)
            try c.encodeIfPresent(toolCalls, forKey: .toolCalls)
            try c.encodeIfPresent(reasoningContent, forKey: .reasoningContent)
        }
    }
}
