/// The body of NIM's `POST /v1/ranking`:
/// `{"model", "query": {"text"}, "passages": [{"text"}...], "truncate": "NONE"|"END"}`.
public struct RankingRequest: APIRequest, Hashable {
    public struct Text: Sendable, Hashable, Decodable {
        public var text: String
        public init(text: String) { self.text = text }

        /// The JSON fields the decoder reads.
        public static var decodedFields: [String] { CodingKeys.allCases.map(\.stringValue) }
        private enum CodingKeys: String, CodingKey, CaseIterable { case text }
    }

    public var model: String
    public var query: Text
    public var passages: [Text]
    public var truncate: String

    /// Most passages one request may rank.
    public static let maxPassages = 1024

    public init(model: String, query: Text, passages: [Text], truncate: String = "NONE") {
        self.model = model
        self.query = query
        self.passages = passages
        self.truncate = truncate
    }

    /// The JSON fields the decoder reads (the OpenAPI document is checked against them).
    public static var decodedFields: [String] { CodingKeys.allCases.map(\.stringValue) }

    private enum CodingKeys: String, CodingKey, CaseIterable { case model, query, passages, truncate }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        model = try c.decode(String.self, forKey: .model)
        query = try c.decode(Text.self, forKey: .query)
        passages = try c.decode([Text].self, forKey: .passages)
        truncate = try c.decodeIfPresent(String.self, forKey: .truncate) ?? "NONE"
    }

    public func validate() throws(APIError) {
        try RequestValidation.checkModel(model)
        try RankingValidation.check(query: query.text, passages: passages.map(\.text), param: "passages")
        try EncoderRequestValidation.checkTruncate(truncate)
    }
}

/// The answer of `POST /v1/ranking`: passages by decreasing score.
public struct RankingResponse: Sendable, Hashable, Encodable {
    public struct Ranking: Sendable, Hashable, Encodable {
        public var index: Int
        /// A cross-encoder's raw logit, or a bi-encoder's cosine similarity.
        public var logit: Double
        public init(index: Int, logit: Double) {
            self.index = index
            self.logit = logit
        }
    }

    public var rankings: [Ranking]

    /// Orders `scores` (one per passage) highest first; ties keep passage order.
    public init(scores: [Double]) {
        rankings = RankingOrder.sorted(scores).map { Ranking(index: $0, logit: scores[$0]) }
    }
}

/// Checks shared by `/v1/ranking` and `/v1/rerank`.
enum RankingValidation {
    static func check(query: String, passages: [String], param: String) throws(APIError) {
        guard !query.isEmpty else { throw .invalidRequest("query must have text", param: "query") }
        guard !passages.isEmpty else { throw .invalidRequest("\(param) must not be empty", param: param) }
        guard passages.count <= RankingRequest.maxPassages else {
            throw .invalidRequest("\(param) has \(passages.count) items, more than the maximum of \(RankingRequest.maxPassages)",
                                  param: param)
        }
        if let i = passages.firstIndex(where: \.isEmpty) {
            throw .invalidRequest("\(param)[\(i)] is empty; every passage must have text", param: param)
        }
    }
}

/// Passage indices by decreasing score, stable for ties.
public enum RankingOrder {
    public static func sorted(_ scores: [Double]) -> [Int] {
        scores.indices.sorted { scores[$0] > scores[$1] || (scores[$0] == scores[$1] && $0 < $1) }
    }
}
