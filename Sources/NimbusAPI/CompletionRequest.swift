#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The body of the legacy `POST /v1/completions`.
///
/// Kept because benchmarks (vLLM's, genai-perf) and older clients drive raw prompts
/// through it. Same conventions as `ChatCompletionRequest`: unknown fields ignored, known
/// fields strictly typed, ranges checked by `validate()`.
public struct CompletionRequest: APIRequest, Hashable {
    public var model: String
    public var prompt: Prompt
    /// Insertion suffix; not supported, so validation rejects anything but null or "".
    public var suffix: String?
    /// Output token limit; nil when absent or null, which means OpenAI's 16
    /// (`defaultMaxTokens`), lowered to the server's maximum output length and the context room.
    public var maxTokens: Int?
    public var temperature: Double?
    public var topP: Double?
    public var topK: Int?
    public var minP: Double?
    /// Choices per prompt; 1 when absent.
    public var n: Int
    public var stream: Bool
    public var streamOptions: StreamOptions?
    public var stop: [String]?
    public var presencePenalty: Double?
    public var frequencyPenalty: Double?
    public var repetitionPenalty: Double?
    public var logitBias: [String: Double]?
    public var seed: Int?
    /// Number of top alternatives per position (0…5); nil means no logprobs at all.
    public var logprobs: Int?
    /// Whether to return the prompt in front of the completion.
    public var echo: Bool
    /// Accepted only when equal to `n` (no server-side best-of selection).
    public var bestOf: Int?
    public var user: String?
    public var ignoreEOS: Bool
    /// Extension: scheduling priority; lower runs earlier, as in vLLM.
    public var priority: Int?
    /// Extension: `false` turns speculative decoding off for this request (nil: the server's choice).
    public var speculative: Bool?
    /// vLLM accepts `response_format` on completions too.
    public var responseFormat: ResponseFormat?
    /// `guided_*` (top level and in `nvext`) and `structured_outputs`; see `outputConstraint()`.
    public var structured = StructuredOutputFields()

    /// OpenAI's documented default for `max_tokens` on this endpoint.
    public static let defaultMaxTokens = 16

    public init(
        model: String,
        prompt: Prompt,
        suffix: String? = nil,
        maxTokens: Int? = nil,
        temperature: Double? = nil,
        topP: Double? = nil,
        topK: Int? = nil,
        minP: Double? = nil,
        n: Int = 1,
        stream: Bool = false,
        streamOptions: StreamOptions? = nil,
        stop: [String]? = nil,
        presencePenalty: Double? = nil,
        frequencyPenalty: Double? = nil,
        repetitionPenalty: Double? = nil,
        logitBias: [String: Double]? = nil,
        seed: Int? = nil,
        logprobs: Int? = nil,
        echo: Bool = false,
        bestOf: Int? = nil,
        user: String? = nil,
        ignoreEOS: Bool = false,
        priority: Int? = nil,
        speculative: Bool? = nil
    ) {
        self.model = model
        self.prompt = prompt
        self.suffix = suffix
        self.maxTokens = maxTokens
        self.temperature = temperature
        self.topP = topP
        self.topK = topK
        self.minP = minP
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
        self.echo = echo
        self.bestOf = bestOf
        self.user = user
        self.ignoreEOS = ignoreEOS
        self.priority = priority
        self.speculative = speculative
    }

    /// The JSON fields the decoder reads: `CodingKeys` plus the structured output spellings.
    public static var decodedFields: [String] {
        CodingKeys.allCases.map(\.stringValue) + StructuredOutputFields.topLevelFields
    }

    private enum CodingKeys: String, CodingKey, CaseIterable {
        case model, prompt, suffix
        case maxTokens = "max_tokens"
        case temperature
        case topP = "top_p"
        case topK = "top_k"
        case minP = "min_p"
        case n, stream
        case streamOptions = "stream_options"
        case stop
        case presencePenalty = "presence_penalty"
        case frequencyPenalty = "frequency_penalty"
        case repetitionPenalty = "repetition_penalty"
        case logitBias = "logit_bias"
        case seed, logprobs, echo
        case bestOf = "best_of"
        case user
        case ignoreEOS = "ignore_eos"
        case priority, speculative
        case responseFormat = "response_format"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        model = try c.decode(String.self, forKey: .model)
        prompt = try c.decode(Prompt.self, forKey: .prompt)
        suffix = try c.decodeIfPresent(String.self, forKey: .suffix)
        maxTokens = try c.decodeIntegerIfPresent(forKey: .maxTokens)
        temperature = try c.decodeIfPresent(Double.self, forKey: .temperature)
        topP = try c.decodeIfPresent(Double.self, forKey: .topP)
        topK = try c.decodeIntegerIfPresent(forKey: .topK)
        minP = try c.decodeIfPresent(Double.self, forKey: .minP)
        n = try c.decodeIntegerIfPresent(forKey: .n) ?? 1
        stream = try c.decodeIfPresent(Bool.self, forKey: .stream) ?? false
        streamOptions = try c.decodeIfPresent(StreamOptions.self, forKey: .streamOptions)
        stop = try StopSequences.decode(from: c, forKey: .stop)
        presencePenalty = try c.decodeIfPresent(Double.self, forKey: .presencePenalty)
        frequencyPenalty = try c.decodeIfPresent(Double.self, forKey: .frequencyPenalty)
        repetitionPenalty = try c.decodeIfPresent(Double.self, forKey: .repetitionPenalty)
        logitBias = try c.decodeIfPresent([String: Double].self, forKey: .logitBias)
        seed = try c.decodeIntegerIfPresent(forKey: .seed)
        logprobs = try c.decodeIntegerIfPresent(forKey: .logprobs)
        echo = try c.decodeIfPresent(Bool.self, forKey: .echo) ?? false
        bestOf = try c.decodeIntegerIfPresent(forKey: .bestOf)
        user = try c.decodeIfPresent(String.self, forKey: .user)
        ignoreEOS = try c.decodeIfPresent(Bool.self, forKey: .ignoreEOS) ?? false
        priority = try c.decodeIntegerIfPresent(forKey: .priority)
        speculative = try c.decodeIfPresent(Bool.self, forKey: .speculative)
        responseFormat = try c.decodeIfPresent(ResponseFormat.self, forKey: .responseFormat)
        structured = try StructuredOutputFields(from: decoder)
    }

    /// The output constraint asked for by any spelling (nil: none); throws a 400 for two or a
    /// malformed one.
    public func outputConstraint() throws(APIError) -> (output: StructuredOutput, param: String)? {
        try structured.resolve(responseFormat: responseFormat)
    }

    /// Whether the stream must end with a usage chunk (and carry `"usage": null` before it).
    public var includeUsage: Bool {
        stream && streamOptions?.includeUsage == true
    }

    /// `logit_bias` with integer keys; see `ChatCompletionRequest.logitBiasByTokenID`.
    public var logitBiasByTokenID: [Int: Double] {
        RequestValidation.logitBiasByTokenID(logitBias)
    }
}
