/// One token chosen by `Sampler`, with logprobs when they were requested.
public struct SampledToken: Sendable, Equatable {
    /// A token id with its log-probability.
    public struct Alternative: Sendable, Equatable {
        public var id: Int
        public var logprob: Float

        public init(id: Int, logprob: Float) {
            self.id = id
            self.logprob = logprob
        }
    }

    /// The chosen token id.
    public var id: Int
    /// The chosen token's log-probability under the model's raw distribution (log-softmax of
    /// the logits as given, before bias, penalties, temperature and truncation);
    /// nil when `SamplingParameters.logprobs` is nil.
    public var logprob: Float?
    /// The `logprobs` most likely tokens under the same raw distribution, sorted by logprob
    /// descending, ties by id ascending; empty when not requested.
    public var topLogprobs: [Alternative]

    public init(id: Int, logprob: Float? = nil, topLogprobs: [Alternative] = []) {
        self.id = id
        self.logprob = logprob
        self.topLogprobs = topLogprobs
    }
}
