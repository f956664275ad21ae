import Foundation

/// The OpenAI endpoint a benchmark drives.
public enum Endpoint: String, Sendable, Codable, CaseIterable {
    case chat
    case completions

    var path: String {
        switch self {
        case .chat: "/v1/chat/completions"
        case .completions: "/v1/completions"
        }
    }
}

/// Everything one `nimbus bench` run needs, already validated.
public struct BenchConfiguration: Sendable {
    public var address: ServerAddress
    public var endpoint: Endpoint
    /// `nil`: the first model `GET /v1/models` lists.
    public var model: String?
    /// Concurrency levels, run one after another in this order.
    public var concurrencies: [Int]
    /// Requests measured at each level; `nil`: `defaultRequests(concurrency:)`.
    public var requestsPerLevel: Int?
    /// Words in each synthetic prompt, about one token each.
    public var inputTokens: Int
    /// `max_tokens` (and `min_tokens`) of each request.
    public var outputTokens: Int
    public var warmupRequests: Int
    public var apiKey: String?
    public var seed: UInt64
    /// Longest a request may take, connect to last byte.
    public var timeout: Duration

    public init(
        address: ServerAddress, endpoint: Endpoint = .chat, model: String? = nil,
        concurrencies: [Int] = [1], requestsPerLevel: Int? = nil, inputTokens: Int = 128,
        outputTokens: Int = 128, warmupRequests: Int = 1, apiKey: String? = nil, seed: UInt64 = 0,
        timeout: Duration = .seconds(300)
    ) throws {
        self.address = address
        self.endpoint = endpoint
        self.model = model
        self.concurrencies = concurrencies
        self.requestsPerLevel = requestsPerLevel
        self.inputTokens = inputTokens
        self.outputTokens = outputTokens
        self.warmupRequests = warmupRequests
        self.apiKey = apiKey
        self.seed = seed
        self.timeout = timeout
        try validate()
    }

    /// Requests at a level without `--requests`: two per concurrent stream, so every stream
    /// sees more than one request, and at least 8 for percentiles worth the name.
    public static func defaultRequests(concurrency: Int) -> Int { max(8, 2 * concurrency) }

    /// The number of requests measured at `concurrency`.
    public func requests(atConcurrency concurrency: Int) -> Int {
        requestsPerLevel ?? Self.defaultRequests(concurrency: concurrency)
    }

    /// Parses `--concurrency`: one level or a comma-separated sweep such as `1,4,8,16`.
    /// - Throws: `BenchError.invalidOption` naming the bad entry.
    public static func parseConcurrencies(_ text: String) throws -> [Int] {
        let entries = text.split(separator: ",", omittingEmptySubsequences: false)
        return try entries.map { entry in
            let trimmed = String(entry).trimmingCharacters(in: .whitespaces)
            guard let level = Int(trimmed), level >= 1 else {
                throw BenchError.invalidOption("--concurrency takes positive integers separated by commas, got '\(text)'")
            }
            return level
        }
    }

    /// Converts `--timeout`.
    /// - Throws: `BenchError.invalidOption` outside 0 < seconds ≤ one day (longer is surely a
    ///   typo, and the bound keeps the conversion in range).
    public static func timeout(seconds: Double) throws -> Duration {
        guard seconds > 0, seconds <= 86_400 else {
            throw BenchError.invalidOption("--timeout must be more than 0 and at most 86400 seconds, got \(seconds)")
        }
        return .milliseconds(Int64((seconds * 1000).rounded()))
    }

    private func validate() throws {
        guard !concurrencies.isEmpty, concurrencies.allSatisfy({ $0 >= 1 }) else {
            throw BenchError.invalidOption("--concurrency needs at least one level, each at least 1")
        }
        if let requestsPerLevel, requestsPerLevel < 1 {
            throw BenchError.invalidOption("--requests must be at least 1, got \(requestsPerLevel)")
        }
        guard inputTokens >= 1 else { throw BenchError.invalidOption("--input-tokens must be at least 1, got \(inputTokens)") }
        guard outputTokens >= 1 else { throw BenchError.invalidOption("--output-tokens must be at least 1, got \(outputTokens)") }
        guard warmupRequests >= 0 else { throw BenchError.invalidOption("--warmup must be 0 or more, got \(warmupRequests)") }
        guard timeout > .zero else { throw BenchError.invalidOption("--timeout must be positive") }
        if let model, model.isEmpty { throw BenchError.invalidOption("--model must not be empty") }
    }
}
