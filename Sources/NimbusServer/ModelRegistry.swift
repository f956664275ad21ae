import NimbusAPI
import NimbusEncoding
import NimbusEngine

/// Every model the server serves, by served name: language models (chat, completions) and
/// encoders (embeddings, ranking). Each endpoint asks for the kind it needs, so a request to a
/// model of the other kind gets a 400 that says what the model does.
public final class ModelRegistry: Sendable {
    public enum Entry: Sendable {
        case generator(ModelHost)
        case encoder(EncoderHost)

        var isReady: Bool {
            switch self {
            case .generator(let h): h.isReady
            case .encoder(let h): h.isReady
            }
        }
    }

    /// In configuration order.
    public let entries: [(name: String, entry: Entry)]

    public init(_ entries: [(name: String, entry: Entry)]) {
        self.entries = entries
    }

    /// Ready when every model is loaded and none is shutting down.
    public var isReady: Bool { entries.allSatisfy { $0.entry.isReady } }

    /// The language model served as `model`.
    /// - Throws: 404 for an unknown name, 400 when `model` is an encoder.
    func generator(for model: String, endpoint: String) throws(APIError) -> ModelHost {
        switch try entry(model) {
        case .generator(let host): return host
        case .encoder(let host):
            let what = host.engine?.encoder.kind == .crossEncoder ? "a ranking (cross-encoder) model" : "an embedding model"
            throw Self.wrongJob(model, "is \(what); it does not serve \(endpoint) (use /v1/embeddings or /v1/ranking)")
        }
    }

    /// The encoder served as `model`, once loaded.
    /// - Throws: 404 for an unknown name, 400 when `model` is a language model, 503 while loading.
    func encoder(for model: String, endpoint: String) throws(APIError) -> EncoderEngine {
        switch try entry(model) {
        case .generator:
            throw Self.wrongJob(model, "is a language model; it does not serve \(endpoint) (use /v1/chat/completions or /v1/completions)")
        case .encoder(let host):
            guard let engine = host.engine else {
                throw .serviceUnavailable("the model is not loaded yet; retry when /v1/health/ready returns 200")
            }
            return engine
        }
    }

    private func entry(_ model: String) throws(APIError) -> Entry {
        // An adapter's name leads to the language model it applies to.
        guard let found = entries.first(where: { $0.name == model }) ?? entries.first(where: {
            if case .generator(let host) = $0.entry { return host.adapters?.contains(model) == true }
            return false
        }) else {
            let names = entries.map { "'\($0.name)'" }.joined(separator: ", ")
            throw APIError(status: 404, message: "The model '\(model)' does not exist; this server serves \(names).",
                           type: "not_found_error", param: "model", code: "model_not_found")
        }
        return found.entry
    }

    private static func wrongJob(_ model: String, _ what: String) -> APIError {
        .invalidRequest("The model '\(model)' \(what).", param: "model", code: "model_not_supported")
    }

    /// /v1/models: every loaded model, with what it can do.
    func modelCards() -> [ModelCard] {
        var cards: [ModelCard] = []
        for (name, entry) in entries {
            switch entry {
            case .generator(let host):
                guard let engine = host.engine else { continue }
                let summary = engine.model.summary
                cards.append(ModelCard(id: name, created: ResponseID.now(), ownedBy: "nimbus", maxModelLen: engine.contextLength, extra: [
                    "capabilities": .array([.string("chat"), .string("completions")]),
                    "architecture": .string(summary.architecture),
                    "parameters": .number(Double(summary.parameterCount)),
                    "context_length": .number(Double(summary.contextLength)),
                    "weight_types": .object(summary.weightTypes.mapValues { .number(Double($0)) }),
                ]))
                for (adapter, path) in host.adapters?.adapters ?? [] {
                    cards.append(ModelCard(id: adapter, created: ResponseID.now(), ownedBy: "nimbus", maxModelLen: engine.contextLength,
                                           root: path, parent: name, extra: [
                                               "capabilities": .array([.string("chat"), .string("completions")]),
                                               "adapter": .string("lora"),
                                           ]))
                }
            case .encoder(let host):
                guard let engine = host.engine else { continue }
                let encoder = engine.encoder
                var extra: [String: JSONValue] = [
                    "ranking_method": .string(engine.rankingMethod.rawValue),
                    "architecture": .string(encoder.architecture),
                ]
                if encoder.kind == .embedding {
                    extra["capabilities"] = .array([.string("embeddings"), .string("ranking")])
                    extra["embedding_dimensions"] = .number(Double(encoder.dimensions))
                    extra["pooling"] = .string(encoder.settings.pooling.rawValue)
                    extra["normalized"] = .bool(encoder.settings.normalize)
                } else {
                    extra["capabilities"] = .array([.string("ranking")])
                }
                cards.append(ModelCard(id: name, created: ResponseID.now(), ownedBy: "nimbus", maxModelLen: encoder.maxLength,
                                       extra: extra))
            }
        }
        return cards
    }
}
