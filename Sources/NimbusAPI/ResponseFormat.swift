/// `response_format` of a chat request.
///
/// Only `{"type": "text"}` is served; constrained decoding (`json_object`, `json_schema`) is
/// not implemented, so validation rejects those instead of returning unconstrained text that
/// a client would trust as JSON.
public struct ResponseFormat: Sendable, Hashable, Decodable {
    /// `text`, `json_object`, `json_schema`… as sent by the client.
    public var type: String

    public init(type: String) {
        self.type = type
    }
}
