#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The answer of `POST /v1/embeddings`:
/// `{"object": "list", "data": [{"object": "embedding", "index", "embedding"}], "model", "usage"}`.
public struct EmbeddingResponse: Sendable, Hashable, Encodable {
    public struct Item: Sendable, Hashable, Encodable {
        public var index: Int
        public var embedding: Vector
    }

    /// A vector as JSON numbers or as base64 of its little-endian float32 bytes.
    public enum Vector: Sendable, Hashable, Encodable {
        case float([Float])
        case base64(String)

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.singleValueContainer()
            switch self {
            case .float(let values): try c.encode(values)
            case .base64(let text): try c.encode(text)
            }
        }

        /// Encodes `values` in `format`.
        public init(_ values: [Float], format: EmbeddingRequest.EncodingFormat) {
            switch format {
            case .float:
                self = .float(values)
            case .base64:
                var bytes: [UInt8] = []
                bytes.reserveCapacity(values.count * 4)
                for v in values {
                    let bits = v.bitPattern.littleEndian
                    withUnsafeBytes(of: bits) { bytes.append(contentsOf: $0) }
                }
                self = .base64(Data(bytes).base64EncodedString())
            }
        }
    }

    /// `usage` of an embeddings response: no completion tokens.
    public struct EmbeddingUsage: Sendable, Hashable, Encodable {
        public var promptTokens: Int
        public var totalTokens: Int

        public init(promptTokens: Int) {
            self.promptTokens = promptTokens
            self.totalTokens = promptTokens
        }

        private enum CodingKeys: String, CodingKey {
            case promptTokens = "prompt_tokens"
            case totalTokens = "total_tokens"
        }
    }

    public var model: String
    public var data: [Item]
    public var usage: EmbeddingUsage

    public init(model: String, vectors: [[Float]], format: EmbeddingRequest.EncodingFormat, promptTokens: Int) {
        self.model = model
        self.data = vectors.enumerated().map { Item(index: $0.offset, embedding: Vector($0.element, format: format)) }
        self.usage = EmbeddingUsage(promptTokens: promptTokens)
    }

    private enum CodingKeys: String, CodingKey { case object, data, model, usage }
    private enum ItemKeys: String, CodingKey { case object, index, embedding }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode("list", forKey: .object)
        var items = c.nestedUnkeyedContainer(forKey: .data)
        for item in data {
            var i = items.nestedContainer(keyedBy: ItemKeys.self)
            try i.encode("embedding", forKey: .object)
            try i.encode(item.index, forKey: .index)
            try i.encode(item.embedding, forKey: .embedding)
        }
        try c.encode(model, forKey: .model)
        try c.encode(usage, forKey: .usage)
    }
}
