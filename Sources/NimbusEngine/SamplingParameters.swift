/// The per-request knobs of token sampling, with OpenAI / vLLM meanings.
///
/// Values outside the useful range are not rejected here (the API layer validates requests);
/// the sampler treats them leniently: `temperature <= 0` is greedy, `topK <= 0` or
/// `topK >= vocabulary` is off, `topP >= 1` is off, `minP <= 0` is off.
public struct SamplingParameters: Sendable, Equatable {
    /// Softmax temperature; 0 (or below) selects the argmax deterministically.
    public var temperature: Float
    /// Nucleus sampling: keep the smallest set of most likely tokens whose mass reaches `topP`.
    public var topP: Float
    /// Keep only the `topK` most likely tokens; 0 or -1 means off.
    public var topK: Int
    /// Drop tokens whose probability is below `minP` times the most likely token's.
    public var minP: Float
    /// OpenAI presence penalty: subtracted once from every token generated at least once.
    public var presencePenalty: Float
    /// OpenAI frequency penalty: subtracted per occurrence in the generated tokens.
    public var frequencyPenalty: Float
    /// CTRL / llama.cpp repetition penalty over prompt and generated tokens; 1 means off.
    public var repetitionPenalty: Float
    /// Added to the logits of the given token ids before anything else (OpenAI `logit_bias`).
    public var logitBias: [Int: Float]
    /// Seed of the sampler's own generator; nil draws a seed from the system.
    public var seed: UInt64?
    /// How many top alternatives to report with each token; nil reports no logprobs at all,
    /// 0 reports only the chosen token's logprob (OpenAI `logprobs: true, top_logprobs: 0`).
    public var logprobs: Int?

    public init(
        temperature: Float = 1,
        topP: Float = 1,
        topK: Int = 0,
        minP: Float = 0,
        presencePenalty: Float = 0,
        frequencyPenalty: Float = 0,
        repetitionPenalty: Float = 1,
        logitBias: [Int: Float] = [:],
        seed: UInt64? = nil,
        logprobs: Int? = nil
    ) {
        self.temperature = temperature
        self.topP = topP
        self.topK = topK
        self.minP = minP
        self.presencePenalty = presencePenalty
        self.frequencyPenalty = frequencyPenalty
        self.repetitionPenalty = repetitionPenalty
        self.logitBias = logitBias
        self.seed = seed
        self.logprobs = logprobs
    }

    /// Greedy decoding: argmax with ties to the lowest id.
    public static let greedy = SamplingParameters(temperature: 0)

    /// Whether the sampler will take the argmax instead of drawing: temperature 0 or below,
    /// NaN, or so small (subnormal) that 1 / temperature would overflow.
    public var isGreedy: Bool { !(temperature >= .leastNormalMagnitude) }
}
