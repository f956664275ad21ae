/// What one request measured. Times are seconds from the moment the request was sent.
public struct RequestRecord: Sendable, Equatable {
    /// When each chunk carrying generated text arrived (chunks with only a role, or empty
    /// text, are not content).
    public var contentArrivals: [Double]
    /// When the response ended, or the request failed.
    public var latency: Double
    /// `usage.prompt_tokens`, when the server reported usage.
    public var promptTokens: Int?
    /// `usage.completion_tokens`, when the server reported usage.
    public var completionTokens: Int?
    /// Why the request failed; `nil` for a complete response.
    public var failure: BenchError?

    public init(
        contentArrivals: [Double], latency: Double, promptTokens: Int? = nil,
        completionTokens: Int? = nil, failure: BenchError? = nil
    ) {
        self.contentArrivals = contentArrivals
        self.latency = latency
        self.promptTokens = promptTokens
        self.completionTokens = completionTokens
        self.failure = failure
    }

    public var succeeded: Bool { failure == nil }

    /// Tokens generated: the server's count, else one per content chunk (exact for servers
    /// that stream a token per chunk, which is what servers without usage do).
    public var outputTokens: Int { completionTokens ?? contentArrivals.count }

    /// Time to first token: to the first chunk with generated text.
    public var timeToFirstToken: Double? { contentArrivals.first }

    /// Gaps between consecutive content chunks.
    public var interTokenLatencies: [Double] {
        zip(contentArrivals.dropFirst(), contentArrivals).map { $0 - $1 }
    }

    /// Time per output token after the first: (latency − TTFT) / (output tokens − 1).
    public var timePerOutputToken: Double? {
        guard let first = timeToFirstToken, outputTokens > 1 else { return nil }
        return (latency - first) / Double(outputTokens - 1)
    }
}
