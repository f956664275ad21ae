import Foundation

/// The request body of a streamed benchmark request, for either endpoint.
struct StreamingRequestBody: Encodable {
    struct Message: Encodable {
        var role = "user"
        var content: String
    }

    struct StreamOptions: Encodable {
        var includeUsage = true
        enum CodingKeys: String, CodingKey { case includeUsage = "include_usage" }
    }

    var model: String
    var messages: [Message]?
    var prompt: String?
    var maxTokens: Int
    /// vLLM, Nimbus and llama-cpp-python read these to keep generating to `max_tokens`;
    /// servers that do not know them ignore unknown fields.
    var minTokens: Int
    var ignoreEOS = true
    /// Greedy: the same work on every server, and no sampler settings to tune.
    var temperature = 0.0
    var stream = true
    var streamOptions = StreamOptions()

    init(endpoint: Endpoint, model: String, prompt: String, outputTokens: Int) {
        self.model = model
        switch endpoint {
        case .chat: messages = [Message(content: prompt)]
        case .completions: self.prompt = prompt
        }
        maxTokens = outputTokens
        minTokens = outputTokens
    }

    enum CodingKeys: String, CodingKey {
        case model, messages, prompt, temperature, stream
        case maxTokens = "max_tokens", minTokens = "min_tokens", ignoreEOS = "ignore_eos"
        case streamOptions = "stream_options"
    }
}

/// The parts of a streamed chunk (`chat.completion.chunk` or `text_completion`) a benchmark reads.
struct StreamChunk: Decodable {
    struct Choice: Decodable {
        struct Delta: Decodable {
            var content: String?
        }
        var delta: Delta?
        var text: String?
    }

    struct Usage: Decodable {
        var promptTokens: Int?
        var completionTokens: Int?
        enum CodingKeys: String, CodingKey {
            case promptTokens = "prompt_tokens", completionTokens = "completion_tokens"
        }
    }

    var choices: [Choice]?
    var usage: Usage?
    var error: ErrorBody.Detail?

    /// The generated text this chunk carries (chat deltas and completion text alike).
    var content: String {
        (choices ?? []).map { $0.delta?.content ?? $0.text ?? "" }.joined()
    }
}

/// An error body: OpenAI's `{"error": {"message": ...}}` or FastAPI's `{"detail": ...}`.
struct ErrorBody: Decodable {
    struct Detail: Decodable {
        var message: String?
    }

    var error: Detail?
    var detail: FastAPIDetail?

    /// The most useful one-line message in `bytes`: the server's own message if the body
    /// has one, else the start of the body itself.
    static func message(in bytes: [UInt8]) -> String {
        if let body = try? JSONDecoder().decode(ErrorBody.self, from: Data(bytes)) {
            if let message = body.error?.message { return message }
            if let detail = body.detail?.text { return detail }
        }
        let text = String(decoding: bytes.prefix(300), as: UTF8.self)
            .split(whereSeparator: \.isNewline).joined(separator: " ")
        return text.isEmpty ? "(empty body)" : text
    }
}

/// FastAPI's `detail`: a string, or a list of validation errors each with a `msg`.
struct FastAPIDetail: Decodable {
    struct ValidationError: Decodable {
        var msg: String?
    }

    var text: String

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let string = try? container.decode(String.self) {
            text = string
        } else {
            text = try container.decode([ValidationError].self).compactMap(\.msg).joined(separator: "; ")
        }
    }
}

/// `GET /v1/models`: only the ids.
struct ModelList: Decodable {
    struct Model: Decodable {
        var id: String
    }
    var data: [Model]
}
