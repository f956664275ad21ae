/// `response_format` of a chat request: `text`, `json_object`, or `json_schema` with its schema.
public struct ResponseFormat: Sendable, Hashable, Decodable {
    /// `text`, `json_object` or `json_schema` as sent by the client (others fail validation).
    public var type: String
    public var jsonSchema: JSONSchemaFormat?

    public struct JSONSchemaFormat: Sendable, Hashable, Decodable {
        public var name: String?
        public var description: String?
        /// The schema; nil when absent (validation refuses that).
        public var schema: JSONValue?
        public var strict: Bool?
    }

    public init(type: String, jsonSchema: JSONSchemaFormat? = nil) {
        self.type = type
        self.jsonSchema = jsonSchema
    }

    private enum CodingKeys: String, CodingKey {
        case type
        case jsonSchema = "json_schema"
    }
}
