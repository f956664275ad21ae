import Foundation

/// The result of a `nimbus bench` run: what was asked, and one report per concurrency level.
public struct BenchReport: Sendable, Equatable, Codable {
    public var url: String
    public var endpoint: Endpoint
    public var model: String
    /// Requested prompt length (words, about a token each); see `LevelReport.meanPromptTokens`
    /// for what the server counted.
    public var inputTokens: Int
    public var outputTokens: Int
    public var seed: UInt64
    public var warmupRequests: Int
    public var timeoutSeconds: Double
    public var levels: [LevelReport]

    public init(configuration: BenchConfiguration, model: String, levels: [LevelReport]) {
        url = configuration.address.description
        endpoint = configuration.endpoint
        self.model = model
        inputTokens = configuration.inputTokens
        outputTokens = configuration.outputTokens
        seed = configuration.seed
        warmupRequests = configuration.warmupRequests
        timeoutSeconds = configuration.timeout.seconds
        self.levels = levels
    }

    /// The report as pretty-printed JSON with sorted keys (stable for diffs).
    public func jsonData() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(self)
    }

    enum CodingKeys: String, CodingKey {
        case url, endpoint, model, seed, levels
        case inputTokens = "input_tokens"
        case outputTokens = "output_tokens"
        case warmupRequests = "warmup_requests"
        case timeoutSeconds = "timeout_s"
    }
}
