#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The body of `POST /v1/chat/completions`.
///
/// Field names follow OpenAI's API plus the NIM/vLLM extensions Nimbus honours (`top_k`,
/// `min_p`, `repetition_penalty`, `ignore_eos`, `priority`, `speculative`). Unknown fields are ignored so
/// clients that send `tools`, `metadata` or `store` still work; known fields are strict about
/// their JSON type. Ranges are checked separately by `validate()` so that a decoded request
/// can also be built in code and checked the same way.
public struct ChatCompletionRequest: APIRequest, Hashable {
    public var model: String
    public var messages: [ChatMessage]
    public var temperature: Double?
    public var topP: Double?
    /// NIM/vLLM extension; -1 or 0 disables top-k.
    public var topK: Int?
    /// vLLM extension; 0 disables min-p.
    public var minP: Double?
    /// Deprecated by OpenAI in favour of `max_completion_tokens`, still the common one.
    public var maxTokens: Int?
    public var maxCompletionTokens: Int?
    /// Number of choices; 1 when absent.
    public var n: Int
    /// Whether to answer as server-sent events; false when absent.
    public var stream: Bool
    public var streamOptions: StreamOptions?
    /// Stop sequences, normalised from a string or an array.
    public var stop: [String]?
    public var presencePenalty: Double?
    public var frequencyPenalty: Double?
    /// vLLM extension; 1 means no penalty.
    public var repetitionPenalty: Double?
    /// Token id (as a decimal string, as OpenAI sends it) → bias in -100…100.
    public var logitBias: [String: Double]?
    public var seed: Int?
    /// Whether to return log probabilities of the sampled tokens.
    public var logprobs: Bool
    /// How many alternatives per position (0…20); needs `logprobs: true`.
    public var topLogprobs: Int?
    public var user: String?
    public var responseFormat: ResponseFormat?
    /// Extension: keep generating past end-of-sequence tokens (benchmarks).
    public var ignoreEOS: Bool
    /// Extension: scheduling priority; lower runs earlier, as in vLLM.
    public var priority: Int?
    /// Extension: `false` turns speculative decoding off for this request (nil: the server's choice).
    public var speculative: Bool?
    /// `guided_*` (top level and in `nvext`) and `structured_outputs`; see `outputConstraint()`.
    public var structured = StructuredOutputFields()
    /// Functions the model may call, whether it must (`tool_choice`), and whether it may call
    /// several at once (`parallel_tool_calls`, default true).
    public var tools: [ToolDefinition]?
    public var toolChoice: ToolChoice?
    public var parallelToolCalls: Bool?

    public init(
        model: String,
        messages: [ChatMessage],
        temperature: Double? = nil,
        topP: Double? = nil,
        topK: Int? = nil,
        minP: Double? = nil,
        maxTokens: Int? = nil,
        maxCompletionTokens: Int? = nil,
        n: Int = 1,
        stream: Bool = false,
        streamOptions: StreamOptions? = nil,
        stop: [String]? = nil,
        presencePenalty: Double? = nil,
        frequencyPenalty: Double? = nil,
        repetitionPenalty: Double? = nil,
        logitBias: [String: Double]? = nil,
        seed: Int? = nil,
        logprobs: Bool = false,
        topLogprobs: Int? = nil,
        user: String? = nil,
        responseFormat: ResponseFormat? = nil,
        ignoreEOS: Bool = false,
        priority: Int? = nil,
        speculative: Bool? = nil
    ) {
        self.model = model
        self.messages = messages
        self.temperature = temperature
        self.topP = topP
        self.topK = topK
        self.minP = minP
        self.maxTokens = maxTokens
        self.maxCompletionTokens = maxCompletionTokens
        self.n = n
        self.stream = stream
        self.streamOptions = streamOptions
        self.stop = stop
        self.presencePenalty = presencePenalty
        self.frequencyPenalty = frequencyPenalty
        self.repetitionPenalty = repetitionPenalty
        self.logitBias = logitBias
        self.seed = seed
        self.logprobs = logprobs
        self.topLogprobs = topLogprobs
        self.user = user
        self.responseFormat = responseFormat
        self.ignoreEOS = ignoreEOS
        self.priority = priority
        self.speculative = speculative
    }

    /// The JSON fields the decoder reads: `CodingKeys` plus the structured output spellings.
    /// The OpenAPI document's request schema is checked against this list.
    public static var decodedFields: [String] {
        CodingKeys.allCases.map(\.stringValue) + StructuredOutputFields.topLevelFields
    }

    private enum CodingKeys: String, CodingKey, CaseIterable {
        case model, messages, temperature
        case topP = "top_p"
        case topK = "top_k"
        case minP = "min_p"
        case maxTokens = "max_tokens"
        case maxCompletionTokens = "max_completion_tokens"
        case n, stream
        case streamOptions = "stream_options"
        case stop
        case presencePenalty = "presence_penalty"
        case frequencyPenalty = "frequency_penalty"
        case repetitionPenalty = "repetition_penalty"
        case logitBias = "logit_bias"
        case seed, logprobs
        case topLogprobs = "top_logprobs"
        case user
        case responseFormat = "response_format"
        case ignoreEOS = "ignore_eos"
        case priority, speculative, tools
        case toolChoice = "tool_choice"
        case parallelToolCalls = "parallel_tool_calls"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        model = try c.decode(String.self, forKey: .model)
        messages = try c.decode([ChatMessage].self, forKey: .messages)
        temperature = try c.decodeIfPresent(Double.self, forKey: .temperature)
        topP = try c.decodeIfPresent(Double.self, forKey: .topP)
        topK = try c.decodeIntegerIfPresent(forKey: .topK)
        minP = try c.decodeIfPresent(Double.self, forKey: .minP)
        maxTokens = try c.decodeIntegerIfPresent(forKey: .maxTokens)
        maxCompletionTokens = try c.decodeIntegerIfPresent(forKey: .maxCompletionTokens)
        n = try c.decodeIntegerIfPresent(forKey: .n) ?? 1
        stream = try c.decodeIfPresent(Bool.self, forKey: .stream) ?? false
        streamOptions = try c.decodeIfPresent(StreamOptions.self, forKey: .streamOptions)
        stop = try StopSequences.decode(from: c, forKey: .stop)
        presencePenalty = try c.decodeIfPresent(Double.self, forKey: .presencePenalty)
        frequencyPenalty = try c.decodeIfPresent(Double.self, forKey: .frequencyPenalty)
        repetitionPenalty = try c.decodeIfPresent(Double.self, forKey: .repetitionPenalty)
        logitBias = try c.decodeIfPresent([String: Double].self, forKey: .logitBias)
        seed = try c.decodeIntegerIfPresent(forKey: .seed)
        logprobs = try c.decodeIfPresent(Bool.self, forKey: .logprobs) ?? false
        topLogprobs = try c.decodeIntegerIfPresent(forKey: .topLogprobs)
        user = try c.decodeIfPresent(String.self, forKey: .user)
        responseFormat = try c.decodeIfPresent(ResponseFormat.self, forKey: .responseFormat)
        ignoreEOS = try c.decodeIfPresent(Bool.self, forKey: .ignoreEOS) ?? false
        priority = try c.decodeIntegerIfPresent(forKey: .priority)
        speculative = try c.decodeIfPresent(Bool.self, forKey: .speculative)
        structured = try StructuredOutputFields(from: decoder)
        tools = try c.decodeIfPresent([ToolDefinition].self, forKey: .tools)
        toolChoice = try c.decodeIfPresent(ToolChoice.self, forKey: .toolChoice)
        parallelToolCalls = try c.decodeIfPresent(Bool.self, forKey: .parallelToolCalls)
    }

    /// The tool choice in effect: `auto` when tools are given without one, `none` without tools.
    public var effectiveToolChoice: ToolChoice {
        guard let tools, !tools.isEmpty else { return .none }
        return toolChoice ?? .auto
    }

    /// The output constraint asked for by any spelling (nil: none); throws a 400 for two or a
    /// malformed one. The constraint's own content (schema, regex) is checked when compiled.
    public func outputConstraint() throws(APIError) -> (output: StructuredOutput, param: String)? {
        try structured.resolve(responseFormat: responseFormat)
    }

    /// The output token limit the client asked for: `max_completion_tokens` wins over the
    /// deprecated `max_tokens`; nil means "until the context window is full".
    public var effectiveMaxTokens: Int? {
        maxCompletionTokens ?? maxTokens
    }

    /// Whether the stream must end with a usage chunk (and carry `"usage": null` before it).
    public var includeUsage: Bool {
        stream && streamOptions?.includeUsage == true
    }

    /// `logit_bias` with integer keys. Keys that do not parse are dropped; `validate()`
    /// rejects such requests, so after validation nothing is lost.
    public var logitBiasByTokenID: [Int: Double] {
        RequestValidation.logitBiasByTokenID(logitBias)
    }
}
