/// What one concurrency level measured.
///
/// Throughputs divide by the level's wall time, first request sent to last response ended.
/// Token counts and latencies come from completed requests only; a failed request counts in
/// `failed` and nowhere else.
public struct LevelReport: Sendable, Equatable, Codable {
    /// Where the output token counts came from.
    public enum TokenCountSource: String, Sendable, Codable {
        /// Every completed request's `usage.completion_tokens`.
        case usage
        /// Content chunks, one token each: the server sent no usage.
        case chunks
        /// Some requests had usage and some did not.
        case mixed
    }

    public var concurrency: Int
    public var requests: Int
    public var completed: Int
    public var failed: Int
    public var firstError: String?
    public var durationSeconds: Double
    public var requestThroughput: Double
    public var outputTokenThroughput: Double
    /// `nil` when the server reported no prompt token counts.
    public var inputTokenThroughput: Double?
    public var meanPromptTokens: Double?
    public var meanOutputTokens: Double?
    public var outputTokenSource: TokenCountSource
    public var timeToFirstTokenMs: Distribution?
    /// Gaps between content chunks, pooled over all completed requests.
    public var interTokenLatencyMs: Distribution?
    /// One value per request with more than one output token.
    public var timePerOutputTokenMs: Distribution?
    public var endToEndLatencyMs: Distribution?

    /// Summarises the records of one level.
    /// - Parameters:
    ///   - records: Every request of the level, failed ones included.
    ///   - durationSeconds: Wall time of the level.
    public init(concurrency: Int, records: [RequestRecord], durationSeconds: Double) {
        let done = records.filter(\.succeeded)
        let promptCounts = done.compactMap(\.promptTokens).map(Double.init)
        let outputCounts = done.map { Double($0.outputTokens) }
        let withUsage = done.filter { $0.completionTokens != nil }.count
        let perSecond = { (total: Double) in durationSeconds > 0 ? total / durationSeconds : 0 }

        self.concurrency = concurrency
        requests = records.count
        completed = done.count
        failed = records.count - done.count
        firstError = records.lazy.compactMap(\.failure).first.map(String.init(describing:))
        self.durationSeconds = durationSeconds
        requestThroughput = perSecond(Double(done.count))
        outputTokenThroughput = perSecond(outputCounts.reduce(0, +))
        meanPromptTokens = promptCounts.isEmpty ? nil : promptCounts.reduce(0, +) / Double(promptCounts.count)
        inputTokenThroughput = meanPromptTokens.map { perSecond($0 * Double(done.count)) }
        meanOutputTokens = outputCounts.isEmpty ? nil : outputCounts.reduce(0, +) / Double(outputCounts.count)
        outputTokenSource = withUsage == done.count ? .usage : withUsage == 0 ? .chunks : .mixed
        timeToFirstTokenMs = Distribution(done.compactMap(\.timeToFirstToken))?.scaled(by: 1000)
        interTokenLatencyMs = Distribution(done.flatMap(\.interTokenLatencies))?.scaled(by: 1000)
        timePerOutputTokenMs = Distribution(done.compactMap(\.timePerOutputToken))?.scaled(by: 1000)
        endToEndLatencyMs = Distribution(done.map(\.latency))?.scaled(by: 1000)
    }

    enum CodingKeys: String, CodingKey {
        case concurrency, requests, completed, failed
        case firstError = "first_error"
        case durationSeconds = "duration_s"
        case requestThroughput = "request_throughput"
        case outputTokenThroughput = "output_token_throughput"
        case inputTokenThroughput = "input_token_throughput"
        case meanPromptTokens = "mean_prompt_tokens"
        case meanOutputTokens = "mean_output_tokens"
        case outputTokenSource = "output_token_source"
        case timeToFirstTokenMs = "ttft_ms"
        case interTokenLatencyMs = "itl_ms"
        case timePerOutputTokenMs = "tpot_ms"
        case endToEndLatencyMs = "e2e_latency_ms"
    }

    /// Every key is always written, `null` when there is no value, so readers of the JSON
    /// see one shape whatever happened.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(concurrency, forKey: .concurrency)
        try container.encode(requests, forKey: .requests)
        try container.encode(completed, forKey: .completed)
        try container.encode(failed, forKey: .failed)
        try container.encode(firstError, forKey: .firstError)
        try container.encode(durationSeconds, forKey: .durationSeconds)
        try container.encode(requestThroughput, forKey: .requestThroughput)
        try container.encode(outputTokenThroughput, forKey: .outputTokenThroughput)
        try container.encode(inputTokenThroughput, forKey: .inputTokenThroughput)
        try container.encode(meanPromptTokens, forKey: .meanPromptTokens)
        try container.encode(meanOutputTokens, forKey: .meanOutputTokens)
        try container.encode(outputTokenSource, forKey: .outputTokenSource)
        try container.encode(timeToFirstTokenMs, forKey: .timeToFirstTokenMs)
        try container.encode(interTokenLatencyMs, forKey: .interTokenLatencyMs)
        try container.encode(timePerOutputTokenMs, forKey: .timePerOutputTokenMs)
        try container.encode(endToEndLatencyMs, forKey: .endToEndLatencyMs)
    }
}
