#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The one error type of NimbusAPI: an HTTP status plus the OpenAI error body.
///
/// OpenAI clients (the official SDKs, LangChain, curl scripts) parse failures from
/// `{"error": {"message", "type", "param", "code"}}`, so every failure the server reports
/// must carry exactly that shape. Keeping the status next to the body lets the HTTP layer
/// answer without a second mapping table.
public struct APIError: Error, Sendable, Equatable, Hashable, CustomStringConvertible {
    /// The HTTP status code to answer with (400, 404, 422, 429, 500, 503…).
    public var status: Int
    /// Human-readable explanation; names the offending value and what is allowed.
    public var message: String
    /// OpenAI error type, e.g. `invalid_request_error`.
    public var type: String
    /// The request parameter at fault (`temperature`, `messages[0].role`), or nil.
    public var param: String?
    /// A machine-readable code (`model_not_found`, `rate_limit_exceeded`), or nil.
    public var code: String?

    public init(status: Int, message: String, type: String, param: String? = nil, code: String? = nil) {
        self.status = status
        self.message = message
        self.type = type
        self.param = param
        self.code = code
    }

    public var description: String {
        var text = "\(status) \(type): \(message)"
        if let param { text += " (param: \(param))" }
        if let code { text += " (code: \(code))" }
        return text
    }
}

// MARK: - Factories for the cases the server reports

extension APIError {
    /// 400 `invalid_request_error`: the body is malformed or a parameter is out of range.
    public static func invalidRequest(_ message: String, param: String? = nil, code: String? = nil) -> APIError {
        APIError(status: 400, message: message, type: "invalid_request_error", param: param, code: code)
    }

    /// 404 `not_found_error` / `model_not_found`: the request names a model this server does not serve.
    /// The wording follows OpenAI's so clients that pattern-match on it keep working.
    public static func modelNotFound(_ model: String) -> APIError {
        APIError(
            status: 404,
            message: "The model '\(model)' does not exist or you do not have access to it.",
            type: "not_found_error",
            param: "model",
            code: "model_not_found"
        )
    }

    /// 404 `not_found_error` for anything else that does not exist (an unknown route, say).
    public static func notFound(_ message: String, param: String? = nil, code: String? = nil) -> APIError {
        APIError(status: 404, message: message, type: "not_found_error", param: param, code: code)
    }

    /// 422 `invalid_request_error`: well-formed and in range, but this server cannot honour it
    /// (e.g. the prompt does not fit the context window).
    public static func unprocessable(_ message: String, param: String? = nil, code: String? = nil) -> APIError {
        APIError(status: 422, message: message, type: "invalid_request_error", param: param, code: code)
    }

    /// 429 `rate_limit_exceeded`: the queue is full; clients retry with backoff on 429.
    public static func rateLimitExceeded(_ message: String = "The server is at capacity; retry the request later.") -> APIError {
        APIError(status: 429, message: message, type: "rate_limit_exceeded", param: nil, code: "rate_limit_exceeded")
    }

    /// 500 `server_error`: a bug or engine failure; not the client's fault.
    public static func serverError(_ message: String = "The server had an error while processing your request.") -> APIError {
        APIError(status: 500, message: message, type: "server_error", param: nil, code: nil)
    }

    /// 503 `service_unavailable`: the model is still loading or the server is shutting down.
    public static func serviceUnavailable(_ message: String = "The server is not ready to accept requests.") -> APIError {
        APIError(status: 503, message: message, type: "service_unavailable", param: nil, code: "service_unavailable")
    }
}

// MARK: - Wire encoding

extension APIError: Encodable {
    private enum OuterKeys: String, CodingKey { case error }
    private enum InnerKeys: String, CodingKey { case message, type, param, code }

    /// Encodes `{"error": {"message", "type", "param", "code"}}` with `param` and `code`
    /// written as JSON null when absent, exactly like OpenAI.
    public func encode(to encoder: any Encoder) throws {
        var outer = encoder.container(keyedBy: OuterKeys.self)
        var inner = outer.nestedContainer(keyedBy: InnerKeys.self, forKey: .error)
        try inner.encode(message, forKey: .message)
        try inner.encode(type, forKey: .type)
        try inner.encode(param, forKey: .param)
        try inner.encode(code, forKey: .code)
    }

    /// The JSON body to send with `status`. Never fails: the body only holds strings.
    public var jsonBody: Data {
        (try? APIJSON.encode(self)) ?? Data(#"{"error":{"message":"internal error","type":"server_error","param":null,"code":null}}"#.utf8)
    }
}

extension APIError: Decodable {
    private struct Inner: Decodable {
        var message: String
        var type: String
        var param: String?
        var code: String?
    }

    /// Reads an OpenAI error body back (for tests and for clients of other servers).
    /// The status is not part of the body and is set to 0.
    public init(from decoder: any Decoder) throws {
        let outer = try decoder.container(keyedBy: OuterKeys.self)
        let inner = try outer.decode(Inner.self, forKey: .error)
        self.init(status: 0, message: inner.message, type: inner.type, param: inner.param, code: inner.code)
    }
}
