/// `tools` entries of a chat request: functions the model may call.
public struct ToolDefinition: Sendable, Hashable, Decodable {
    /// Always `function` (the only kind OpenAI defines for chat completions).
    public var type: String
    public var function: FunctionDefinition

    public init(function: FunctionDefinition) {
        type = "function"
        self.function = function
    }

    /// The JSON fields the decoder reads.
    public static var decodedFields: [String] { CodingKeys.allCases.map(\.stringValue) }
    private enum CodingKeys: String, CodingKey, CaseIterable { case type, function }
}

public struct FunctionDefinition: Sendable, Hashable, Decodable {
    public var name: String
    public var description: String?
    /// The arguments' JSON Schema; absent means no arguments (`{}`).
    public var parameters: JSONValue?
    public var strict: Bool?

    public init(name: String, description: String? = nil, parameters: JSONValue? = nil) {
        self.name = name
        self.description = description
        self.parameters = parameters
    }

    /// The JSON fields the decoder reads.
    public static var decodedFields: [String] { CodingKeys.allCases.map(\.stringValue) }
    private enum CodingKeys: String, CodingKey, CaseIterable { case name, description, parameters, strict }
}

/// `tool_choice`: whether and which tool the model must call.
public enum ToolChoice: Sendable, Hashable, Decodable {
    case none, auto, required
    case function(String)

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let word = try? container.decode(String.self) {
            switch word {
            case "none": self = .none
            case "auto": self = .auto
            case "required": self = .required
            default:
                let param = CodingPath.describe(decoder.codingPath)
                throw APIError.invalidRequest("Invalid value for '\(param)': '\(word)'. Supported values are: 'none', 'auto', 'required', or an object naming a function.", param: param)
            }
            return
        }
        let named = try container.decode(Named.self)
        self = .function(named.function.name)
    }

    /// The object form, `{"type": "function", "function": {"name": ...}}`. `type` is read but
    /// not checked.
    private struct Named: Decodable {
        struct Function: Decodable {
            var name: String
            enum CodingKeys: String, CodingKey, CaseIterable { case name }
        }
        var type: String
        var function: Function
        enum CodingKeys: String, CodingKey, CaseIterable { case type, function }
    }

    /// The JSON fields the decoder reads from the object form.
    public static var decodedFields: [String] { Named.CodingKeys.allCases.map(\.stringValue) }
    /// The JSON fields the decoder reads from the object form's `function`.
    public static var functionDecodedFields: [String] { Named.Function.CodingKeys.allCases.map(\.stringValue) }
}

/// A call the model made: in responses, and in assistant messages of the history.
public struct ToolCall: Sendable, Hashable, Codable {
    public var id: String
    public var type: String
    public var function: FunctionCall

    public struct FunctionCall: Sendable, Hashable, Codable {
        public var name: String
        /// The arguments as JSON text, as OpenAI sends them.
        public var arguments: String

        public init(name: String, arguments: String) {
            self.name = name
            self.arguments = arguments
        }

        /// The JSON fields the decoder reads.
        public static var decodedFields: [String] { CodingKeys.allCases.map(\.stringValue) }
        private enum CodingKeys: String, CodingKey, CaseIterable { case name, arguments }
    }

    public init(id: String, name: String, arguments: String) {
        self.id = id
        type = "function"
        function = FunctionCall(name: name, arguments: arguments)
    }

    /// The JSON fields the decoder reads (assistant messages of the history).
    public static var decodedFields: [String] { CodingKeys.allCases.map(\.stringValue) }
    private enum CodingKeys: String, CodingKey, CaseIterable { case id, type, function }
}

/// One `tool_calls` entry of a streamed delta: the first fragment of a call carries its index,
/// id, type and name; later ones only the index and more of the arguments.
public struct ToolCallDelta: Sendable, Hashable, Codable {
    public var index: Int
    public var id: String?
    public var type: String?
    public var function: Function

    public struct Function: Sendable, Hashable, Codable {
        public var name: String?
        public var arguments: String?

        public init(name: String? = nil, arguments: String? = nil) {
            self.name = name
            self.arguments = arguments
        }
    }

    public init(index: Int, id: String? = nil, name: String? = nil, arguments: String? = nil) {
        self.index = index
        self.id = id
        type = id == nil ? nil : "function"
        function = Function(name: name, arguments: arguments)
    }
}

extension ResponseID {
    /// `call_` and random characters, like OpenAI's tool call ids.
    public static func toolCall() -> String { make(prefix: "call_") }
}
