#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The body of `POST /v1/embeddings`: OpenAI's fields plus NIM's `input_type` and `truncate`.
///
/// `input` takes the four shapes a completions `prompt` takes (text, texts, token ids, batches of
/// token ids); token ids are the text's tokens without the model's special tokens.
public struct EmbeddingRequest: APIRequest, Hashable {
    /// How vectors are written: JSON numbers, or base64 of little-endian float32 (what the
    /// official Python client asks for by default and decodes with numpy).
    public enum EncodingFormat: String, Sendable, Hashable, CaseIterable {
        case float, base64
    }

    public var model: String
    public var input: Prompt
    public var encodingFormat: EncodingFormat
    /// Requested vector length; only the model's own length is supported.
    public var dimensions: Int?
    /// NIM's `query` or `passage`: selects the model's prompt prefix for asymmetric retrieval.
    public var inputType: String?
    /// NIM's `NONE` (too long is an error), `START` or `END`.
    public var truncate: String
    public var user: String?

    /// OpenAI's limit on inputs per request.
    public static let maxInputs = 2048
    public static let inputTypes = ["query", "passage"]
    public static let truncateModes = ["NONE", "START", "END"]

    public init(model: String, input: Prompt, encodingFormat: EncodingFormat = .float, dimensions: Int? = nil,
                inputType: String? = nil, truncate: String = "NONE", user: String? = nil) {
        self.model = model
        self.input = input
        self.encodingFormat = encodingFormat
        self.dimensions = dimensions
        self.inputType = inputType
        self.truncate = truncate
        self.user = user
    }

    /// The JSON fields the decoder reads (the OpenAPI document is checked against them).
    public static var decodedFields: [String] { CodingKeys.allCases.map(\.stringValue) }

    private enum CodingKeys: String, CodingKey, CaseIterable {
        case model, input, dimensions, truncate, user
        case encodingFormat = "encoding_format"
        case inputType = "input_type"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        model = try c.decode(String.self, forKey: .model)
        input = try c.decode(Prompt.self, forKey: .input)
        let format = try c.decodeIfPresent(String.self, forKey: .encodingFormat) ?? "float"
        guard let parsed = EncodingFormat(rawValue: format) else {
            throw APIError.invalidRequest("encoding_format must be 'float' or 'base64', got '\(format)'", param: "encoding_format")
        }
        encodingFormat = parsed
        dimensions = try c.decodeIntegerIfPresent(forKey: .dimensions)
        inputType = try c.decodeIfPresent(String.self, forKey: .inputType)
        truncate = try c.decodeIfPresent(String.self, forKey: .truncate) ?? "NONE"
        user = try c.decodeIfPresent(String.self, forKey: .user)
    }

    public func validate() throws(APIError) {
        try RequestValidation.checkModel(model)
        let items = input.items
        // `[]` decodes as an empty token array; it is an empty input list all the same.
        guard !items.isEmpty, input != .tokens([]) else { throw .invalidRequest("input must not be empty", param: "input") }
        guard items.count <= Self.maxInputs else {
            throw .invalidRequest("input has \(items.count) items, more than the maximum of \(Self.maxInputs)", param: "input")
        }
        for (i, item) in items.enumerated() {
            switch item {
            case .text(let text) where text.isEmpty:
                throw .invalidRequest("input[\(i)] is an empty string; every input must have text", param: "input")
            case .tokens(let ids) where ids.isEmpty:
                throw .invalidRequest("input[\(i)] is an empty token array", param: "input")
            default: break
            }
        }
        try RequestValidation.check(dimensions, "dimensions", atLeast: 1)
        try EncoderRequestValidation.checkInputType(inputType)
        try EncoderRequestValidation.checkTruncate(truncate)
    }
}

/// Checks shared by the embedding and ranking requests.
enum EncoderRequestValidation {
    static func checkInputType(_ inputType: String?) throws(APIError) {
        guard let inputType else { return }
        guard EmbeddingRequest.inputTypes.contains(inputType) else {
            throw .invalidRequest("input_type must be 'query' or 'passage', got '\(inputType)'", param: "input_type")
        }
    }

    static func checkTruncate(_ truncate: String) throws(APIError) {
        guard EmbeddingRequest.truncateModes.contains(truncate) else {
            throw .invalidRequest("truncate must be 'NONE', 'START' or 'END', got '\(truncate)'", param: "truncate")
        }
    }
}
