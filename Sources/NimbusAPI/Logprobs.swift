/// Log-probability payloads in the two shapes OpenAI uses.
///
/// Chat uses per-token objects with UTF-8 `bytes` (tokens may split characters); the legacy
/// completions endpoint uses parallel arrays. Log probabilities of `-inf` cannot be written
/// as JSON, so they are written as `-9999.0`, the value vLLM and OpenAI clients expect.

/// A JSON-safe log probability: non-finite values become `-9999.0`.
func jsonSafeLogprob(_ value: Double) -> Double {
    value.isFinite ? value : -9999.0
}

// MARK: - Chat

/// `choices[].logprobs` of a chat completion or chunk: `{"content": [...]}`.
public struct ChatLogprobs: Sendable, Hashable, Codable {
    /// One entry per generated token; null only when there is nothing to report.
    public var content: [ChatTokenLogprob]?

    public init(content: [ChatTokenLogprob]?) {
        self.content = content
    }

    private enum CodingKeys: String, CodingKey { case content }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(content, forKey: .content)
    }
}

/// One sampled token with its log probability and the most likely alternatives.
public struct ChatTokenLogprob: Sendable, Hashable, Codable {
    public var token: String
    public var logprob: Double
    /// The token's UTF-8 bytes; lets clients rebuild characters split across tokens.
    public var bytes: [UInt8]?
    /// Up to `top_logprobs` alternatives, most likely first; empty when not requested.
    public var topLogprobs: [ChatTopLogprob]

    /// - Parameter bytes: the token's raw bytes; defaults to the UTF-8 of `token`. Pass the
    ///   tokenizer's bytes when a token is a partial character.
    public init(token: String, logprob: Double, bytes: [UInt8]? = nil, topLogprobs: [ChatTopLogprob] = []) {
        self.token = token
        self.logprob = logprob
        self.bytes = bytes ?? Array(token.utf8)
        self.topLogprobs = topLogprobs
    }

    private enum CodingKeys: String, CodingKey {
        case token, logprob, bytes
        case topLogprobs = "top_logprobs"
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(token, forKey: .token)
        try c.encode(jsonSafeLogprob(logprob), forKey: .logprob)
        try c.encode(bytes, forKey: .bytes)
        try c.encode(topLogprobs, forKey: .topLogprobs)
    }
}

/// One alternative in `top_logprobs`.
public struct ChatTopLogprob: Sendable, Hashable, Codable {
    public var token: String
    public var logprob: Double
    public var bytes: [UInt8]?

    public init(token: String, logprob: Double, bytes: [UInt8]? = nil) {
        self.token = token
        self.logprob = logprob
        self.bytes = bytes ?? Array(token.utf8)
    }

    private enum CodingKeys: String, CodingKey { case token, logprob, bytes }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(token, forKey: .token)
        try c.encode(jsonSafeLogprob(logprob), forKey: .logprob)
        try c.encode(bytes, forKey: .bytes)
    }
}

// MARK: - Legacy completions

/// `choices[].logprobs` of a text completion: parallel arrays, one slot per token.
public struct CompletionLogprobs: Sendable, Hashable, Codable {
    public var tokens: [String]
    /// Null for the first echoed prompt token, which has no conditional probability.
    public var tokenLogprobs: [Double?]
    /// Token text → log probability of the top alternatives; null where not computed.
    public var topLogprobs: [[String: Double]?]
    /// Character offset of each token within prompt-plus-completion text.
    public var textOffset: [Int]

    public init(tokens: [String], tokenLogprobs: [Double?], topLogprobs: [[String: Double]?], textOffset: [Int]) {
        self.tokens = tokens
        self.tokenLogprobs = tokenLogprobs
        self.topLogprobs = topLogprobs
        self.textOffset = textOffset
    }

    private enum CodingKeys: String, CodingKey {
        case tokens
        case tokenLogprobs = "token_logprobs"
        case topLogprobs = "top_logprobs"
        case textOffset = "text_offset"
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(tokens, forKey: .tokens)
        try c.encode(tokenLogprobs.map { $0.map(jsonSafeLogprob) }, forKey: .tokenLogprobs)
        try c.encode(topLogprobs.map { $0?.mapValues(jsonSafeLogprob) }, forKey: .topLogprobs)
        try c.encode(textOffset, forKey: .textOffset)
    }
}
