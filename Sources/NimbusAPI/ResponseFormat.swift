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

        /// The JSON fields the decoder reads.
        public static var decodedFields: [String] { CodingKeys.allCases.map(\.stringValue) }
        private enum CodingKeys: String, CodingKey, CaseIterable { case name, description, schema, strict }
    }

    public init(type: String, jsonSchema: JSONSchemaFormat? = nil) {
        self.type = type
        self.jsonSchema = jsonSchema
    }

    /// The JSON fields the decoder reads.
    public static var decodedFields: [String] { CodingKeys.allCases.map(\.stringValue) }

    private enum CodingKeys: String, CodingKey, CaseIterable {
        case type
        case jsonSchema = "json_schema"
    }
}
