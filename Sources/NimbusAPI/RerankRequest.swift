/// The body of `POST /v1/rerank` in the Cohere/Jina shape: `{"model", "query", "documents":
/// [string or {"text"}], "top_n", "return_documents"}`.
public struct RerankRequest: APIRequest, Hashable {
    /// A document given as a plain string or as `{"text": ...}`.
    public struct Document: Sendable, Hashable, Codable, JSONTypeDescribing {
        public var text: String

        static let jsonTypeDescription = "a string or an object with a 'text' string"

        public init(text: String) { self.text = text }

        /// The fields of the object form (the decoder also takes a plain string).
        public static var decodedFields: [String] { CodingKeys.allCases.map(\.stringValue) }
        private enum CodingKeys: String, CodingKey, CaseIterable { case text }

        public init(from decoder: any Decoder) throws {
            if let text = try? decoder.singleValueContainer().decode(String.self) {
                self.text = text
                return
            }
            guard let c = try? decoder.container(keyedBy: CodingKeys.self), let text = try? c.decode(String.self, forKey: .text) else {
                let path = CodingPath.describe(decoder.codingPath)
                throw APIError.typeMismatch(param: path.isEmpty ? "documents" : path, expected: Self.jsonTypeDescription)
            }
            self.text = text
        }
    }

    public var model: String
    public var query: String
    public var documents: [Document]
    public var topN: Int?
    public var returnDocuments: Bool

    public init(model: String, query: String, documents: [Document], topN: Int? = nil, returnDocuments: Bool = false) {
        self.model = model
        self.query = query
        self.documents = documents
        self.topN = topN
        self.returnDocuments = returnDocuments
    }

    /// The JSON fields the decoder reads (the OpenAPI document is checked against them).
    public static var decodedFields: [String] { CodingKeys.allCases.map(\.stringValue) }

    private enum CodingKeys: String, CodingKey, CaseIterable {
        case model, query, documents
        case topN = "top_n"
        case returnDocuments = "return_documents"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        model = try c.decode(String.self, forKey: .model)
        query = try c.decode(String.self, forKey: .query)
        documents = try c.decode([Document].self, forKey: .documents)
        topN = try c.decodeIntegerIfPresent(forKey: .topN)
        returnDocuments = try c.decodeIfPresent(Bool.self, forKey: .returnDocuments) ?? false
    }

    public func validate() throws(APIError) {
        try RequestValidation.checkModel(model)
        try RankingValidation.check(query: query, passages: documents.map(\.text), param: "documents")
        try RequestValidation.check(topN, "top_n", atLeast: 1)
    }
}

/// The answer of `POST /v1/rerank`: the `top_n` best documents, most relevant first.
public struct RerankResponse: Sendable, Hashable, Encodable {
    public struct Result: Sendable, Hashable, Encodable {
        public var index: Int
        /// sigmoid(logit) for a cross-encoder, cosine similarity for a bi-encoder.
        public var relevanceScore: Double
        public var document: RerankRequest.Document?

        private enum CodingKeys: String, CodingKey {
            case index, document
            case relevanceScore = "relevance_score"
        }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(index, forKey: .index)
            try c.encode(relevanceScore, forKey: .relevanceScore)
            try c.encodeIfPresent(document, forKey: .document)
        }
    }

    public struct RerankUsage: Sendable, Hashable, Encodable {
        public var totalTokens: Int
        private enum CodingKeys: String, CodingKey { case totalTokens = "total_tokens" }
    }

    public var id: String
    public var model: String
    public var results: [Result]
    public var usage: RerankUsage

    /// The `topN` highest of `scores`, with the documents when asked for.
    public init(model: String, scores: [Double], request: RerankRequest, totalTokens: Int) {
        id = ResponseID.make(prefix: "rerank-")
        self.model = model
        let order = RankingOrder.sorted(scores).prefix(request.topN ?? scores.count)
        results = order.map { i in
            Result(index: i, relevanceScore: scores[i], document: request.returnDocuments ? request.documents[i] : nil)
        }
        usage = RerankUsage(totalTokens: totalTokens)
    }
}
