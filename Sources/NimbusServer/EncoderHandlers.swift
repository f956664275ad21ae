import Foundation
import Hummingbird
import NimbusAPI
import NimbusEncoding
import NimbusModels

/// POST /v1/embeddings, /v1/ranking and /v1/rerank: requests checked against the model, then
/// handed to its encoder engine (which batches them with concurrent requests).
struct EncoderHandlers {
    let registry: ModelRegistry

    func embeddings(_ request: EmbeddingRequest) async throws -> Response {
        let engine = try registry.encoder(for: request.model, endpoint: "/v1/embeddings")
        let encoder = engine.encoder
        guard encoder.kind == .embedding else {
            throw APIError.invalidRequest("The model '\(request.model)' is a ranking (cross-encoder) model; it does not produce embeddings (use /v1/ranking).",
                                          param: "model", code: "model_not_supported")
        }
        if let dimensions = request.dimensions, dimensions != encoder.dimensions {
            throw APIError.invalidRequest("The model '\(request.model)' only supports dimensions=\(encoder.dimensions), got \(dimensions)",
                                          param: "dimensions")
        }
        let inputs: [EncoderInput] = request.input.items.map {
            switch $0 {
            case .text(let text): .text(text)
            case .tokens(let ids): .tokens(ids)
            }
        }
        let (vectors, tokens) = try await Self.mapErrors(param: "input") {
            try await engine.embeddings(inputs, inputType: request.inputType, truncation: Truncation(rawValue: request.truncate) ?? Truncation.none)
        }
        return try JSONResponse(EmbeddingResponse(model: request.model, vectors: vectors, format: request.encodingFormat,
                                                  promptTokens: tokens))
    }

    func ranking(_ request: RankingRequest) async throws -> Response {
        let engine = try registry.encoder(for: request.model, endpoint: "/v1/ranking")
        let relevance = try await Self.mapErrors(param: "passages") {
            try await engine.relevance(query: request.query.text, passages: request.passages.map(\.text),
                                       truncation: Truncation(rawValue: request.truncate) ?? Truncation.none)
        }
        return try JSONResponse(RankingResponse(scores: relevance.scores))
    }

    /// Cohere and Jina truncate long documents silently, so /v1/rerank does too (at the end).
    func rerank(_ request: RerankRequest) async throws -> Response {
        let engine = try registry.encoder(for: request.model, endpoint: "/v1/rerank")
        let relevance = try await Self.mapErrors(param: "documents") {
            try await engine.relevance(query: request.query, passages: request.documents.map(\.text), truncation: .end)
        }
        // A relevance score in [0, 1] for a cross-encoder, as rerank clients expect; cosine otherwise.
        let scores = relevance.method == .crossEncoder ? relevance.scores.map { 1 / (1 + exp(-$0)) } : relevance.scores
        return try JSONResponse(RerankResponse(model: request.model, scores: scores, request: request, totalTokens: relevance.tokens))
    }

    /// Encoder failures as OpenAI errors: bad inputs 400 with the numbers, a full queue 429.
    static func mapErrors<T>(param: String, _ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as EncoderInputError {
            let what = error.index.map { "\(param)[\($0)]" } ?? "query"
            switch error.reason {
            case .tooLong(let e):
                throw APIError.invalidRequest(
                    "\(what) has \(e.tokens) tokens, more than the model's maximum of \(e.maxLength); shorten it or set truncate to START or END",
                    param: error.index == nil ? "query" : param, code: "context_length_exceeded")
            case .tokenOutOfRange(let id, let n):
                throw APIError.invalidRequest("\(what) has token id \(id), outside the vocabulary (0..<\(n))", param: param)
            }
        } catch let error as EncoderEngineError {
            switch error {
            case .queueFull: throw APIError.rateLimitExceeded("The encoder is at capacity (\(error)); retry the request later.")
            case .shuttingDown: throw APIError.serviceUnavailable("the server is shutting down")
            case .model: throw APIError.serverError("\(error)")
            }
        }
    }
}

extension NimbusServer {
    static func addEncoderRoutes(to router: Router<NimbusRequestContext>, registry: ModelRegistry) {
        let handlers = EncoderHandlers(registry: registry)
        router.post("/v1/embeddings") { request, context in
            let parsed = try await EmbeddingRequest.parse(RequestBody.read(request, context: context))
            if registry.serves(parsed.model) { context.record?.attribute(to: parsed.model) }
            return try await handlers.embeddings(parsed)
        }
        router.post("/v1/ranking") { request, context in
            let parsed = try await RankingRequest.parse(RequestBody.read(request, context: context))
            if registry.serves(parsed.model) { context.record?.attribute(to: parsed.model) }
            return try await handlers.ranking(parsed)
        }
        router.post("/v1/rerank") { request, context in
            let parsed = try await RerankRequest.parse(RequestBody.read(request, context: context))
            if registry.serves(parsed.model) { context.record?.attribute(to: parsed.model) }
            return try await handlers.rerank(parsed)
        }
    }
}
