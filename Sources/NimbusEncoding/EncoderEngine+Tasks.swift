import NimbusModels

/// One input to embed: text, or token ids of the text without the model's special tokens.
public enum EncoderInput: Sendable, Equatable {
    case text(String)
    case tokens([Int])
}

/// An input the model cannot take, with its position in the request.
public struct EncoderInputError: Error, Equatable, CustomStringConvertible {
    public enum Reason: Equatable, Sendable {
        /// Too long and truncation was not allowed.
        case tooLong(InputTooLong)
        /// A token id outside the vocabulary.
        case tokenOutOfRange(id: Int, vocabularySize: Int)
    }

    /// Index of the input (or passage) at fault; nil for a ranking query.
    public let index: Int?
    public let reason: Reason

    public var description: String {
        let which = index.map { "input \($0)" } ?? "the query"
        switch reason {
        case .tooLong(let e): return "\(which): \(e)"
        case .tokenOutOfRange(let id, let n): return "\(which): token id \(id) is outside the vocabulary (0..<\(n))"
        }
    }
}

/// Relevance scores of passages for a query, and how they were computed.
public struct Relevance: Sendable, Equatable {
    public enum Method: String, Sendable {
        /// A cross-encoder's logit for each (query, passage) pair.
        case crossEncoder = "cross_encoder"
        /// Cosine similarity of a bi-encoder's query and passage embeddings.
        case cosineSimilarity = "cosine_similarity"
    }

    public var scores: [Double]
    public var method: Method
    /// Tokens the model processed, special tokens included.
    public var tokens: Int
}

extension EncoderEngine {
    /// How this model ranks passages.
    public var rankingMethod: Relevance.Method { encoder.kind == .crossEncoder ? .crossEncoder : .cosineSimilarity }

    /// Embeddings of `inputs` (tokenized here, on the caller's task; the forward pass runs on
    /// the encoder thread).
    /// - Parameter inputType: `query` or `passage`, selecting the model's prompt prefix.
    /// - Returns: one vector per input and the tokens processed.
    /// - Throws: `EncoderInputError`, `EncoderEngineError` or `CancellationError`.
    public func embeddings(_ inputs: [EncoderInput], inputType: String?, truncation: Truncation) async throws -> (vectors: [[Float]], tokens: Int) {
        var sequences: [EncoderSequence] = []
        sequences.reserveCapacity(inputs.count)
        let vocabulary = encoder.model.configuration.vocabularySize
        for (i, input) in inputs.enumerated() {
            let content: [Int]
            switch input {
            case .text(let text): content = encoder.tokens(text, inputType: inputType)
            case .tokens(let ids):
                if let bad = ids.first(where: { $0 < 0 || $0 >= vocabulary }) {
                    throw EncoderInputError(index: i, reason: .tokenOutOfRange(id: bad, vocabularySize: vocabulary))
                }
                content = ids
            }
            do {
                sequences.append(try encoder.sequence(content, truncation: truncation))
            } catch {
                throw EncoderInputError(index: i, reason: .tooLong(error))
            }
        }
        let vectors = try await run(sequences)
        return (vectors, sequences.reduce(0) { $0 + $1.ids.count })
    }

    /// Scores `passages` against `query`: a cross-encoder's logits, or a bi-encoder's cosine
    /// similarities (query embedded as `query`, passages as `passage`).
    /// - Throws: `EncoderInputError` (index = passage), `EncoderEngineError` or `CancellationError`.
    public func relevance(query: String, passages: [String], truncation: Truncation) async throws -> Relevance {
        switch encoder.kind {
        case .crossEncoder:
            let q = encoder.tokens(query)
            var pairs: [EncoderSequence] = []
            for (i, passage) in passages.enumerated() {
                do {
                    pairs.append(try encoder.pair(query: q, passage: encoder.tokens(passage), truncation: truncation))
                } catch {
                    throw EncoderInputError(index: i, reason: .tooLong(error))
                }
            }
            let logits = try await run(pairs)
            return Relevance(scores: logits.map { Double($0.first ?? 0) }, method: .crossEncoder,
                             tokens: pairs.reduce(0) { $0 + $1.ids.count })
        case .embedding:
            let queryVector: [[Float]]
            let queryTokens: Int
            do {
                (queryVector, queryTokens) = try await embeddings([.text(query)], inputType: "query", truncation: truncation)
            } catch let error as EncoderInputError {
                throw EncoderInputError(index: nil, reason: error.reason)
            }
            let (vectors, tokens) = try await embeddings(passages.map { .text($0) }, inputType: "passage", truncation: truncation)
            let q = queryVector.first ?? []
            return Relevance(scores: vectors.map { Self.cosine(q, $0) }, method: .cosineSimilarity, tokens: queryTokens + tokens)
        }
    }

    static func cosine(_ a: [Float], _ b: [Float]) -> Double {
        var dot = 0.0, na = 0.0, nb = 0.0
        for (x, y) in zip(a, b) {
            dot += Double(x) * Double(y)
            na += Double(x) * Double(x)
            nb += Double(y) * Double(y)
        }
        let norms = (na * nb).squareRoot()
        return norms > 0 ? dot / norms : 0
    }
}
