/// One message of a chat request, with content already reduced to plain text.
///
/// Nimbus serves text-only models, so `content` arrays are accepted only when every part is
/// `{"type": "text"}`; the parts are concatenated. Anything else (images, audio) is rejected
/// while decoding, with the exact part named, rather than silently dropped.
public struct ChatMessage: Sendable, Hashable, Decodable {
    /// The roles OpenAI defines. `developer` is the newer name for `system`.
    public enum Role: String, Sendable, Hashable, Codable, CaseIterable {
        case system, user, assistant, tool, developer
    }

    public var role: Role
    /// The text of the message; nil only when the client sent `null` or omitted it
    /// (validation allows that for assistant messages only).
    public var content: String?
    /// Optional participant name.
    public var name: String?
    /// For `tool` messages: the id of the tool call this message answers.
    public var toolCallID: String?
    /// For assistant messages of the history: the calls it made.
    public var toolCalls: [ToolCall]?

    public init(role: Role, content: String?, name: String? = nil, toolCallID: String? = nil, toolCalls: [ToolCall]? = nil) {
        self.role = role
        self.content = content
        self.name = name
        self.toolCallID = toolCallID
        self.toolCalls = toolCalls
    }

    /// The JSON fields the decoder reads.
    public static var decodedFields: [String] { CodingKeys.allCases.map(\.stringValue) }

    /// The fields of a content part object (`{"type": "text", "text": ...}`): the one list
    /// `partText` reads them by.
    public static var contentPartFields: [String] { ContentPartKey.allCases.map(\.rawValue) }

    private enum ContentPartKey: String, CaseIterable { case type, text }

    private enum CodingKeys: String, CodingKey, CaseIterable {
        case role, content, name
        case toolCallID = "tool_call_id"
        case toolCalls = "tool_calls"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let path = CodingPath.describe(decoder.codingPath)
        let rawRole = try container.decode(String.self, forKey: .role)
        guard let role = Role(rawValue: rawRole) else {
            let param = CodingPath.appending(path, "role")
            throw APIError.invalidRequest(
                "Invalid value for '\(param)': '\(rawRole)'. Supported values are: "
                    + "'system', 'user', 'assistant', 'tool', and 'developer'.",
                param: param
            )
        }
        self.role = role
        self.name = try container.decodeIfPresent(String.self, forKey: .name)
        self.toolCallID = try container.decodeIfPresent(String.self, forKey: .toolCallID)
        self.toolCalls = try container.decodeIfPresent([ToolCall].self, forKey: .toolCalls)
        let rawContent = try container.decodeIfPresent(JSONValue.self, forKey: .content) ?? .null
        self.content = try Self.text(of: rawContent, path: CodingPath.appending(path, "content"))
    }

    /// Reduces `content` (string, array of text parts, or null) to a string.
    static func text(of content: JSONValue, path: String) throws(APIError) -> String? {
        switch content {
        case .null:
            return nil
        case .string(let text):
            return text
        case .array(let parts):
            var text = ""
            for (index, part) in parts.enumerated() {
                text += try partText(part, path: CodingPath.appending(path, index: index))
            }
            return text
        default:
            throw APIError.typeMismatch(param: path, expected: "a string or an array of content parts, got \(content.typeDescription)")
        }
    }

    private static func partText(_ part: JSONValue, path: String) throws(APIError) -> String {
        guard case .object(let fields) = part else {
            throw APIError.typeMismatch(
                param: path,
                expected: #"a content part object such as {"type": "text", "text": "..."}, got "# + part.typeDescription
            )
        }
        guard case .string(let type)? = fields[ContentPartKey.type.rawValue] else {
            let param = CodingPath.appending(path, ContentPartKey.type.rawValue)
            if fields[ContentPartKey.type.rawValue] == nil {
                throw APIError.invalidRequest("Missing required parameter: '\(param)'.", param: param)
            }
            throw APIError.typeMismatch(param: param, expected: "a string")
        }
        guard type == "text" else {
            let param = CodingPath.appending(path, ContentPartKey.type.rawValue)
            throw APIError.invalidRequest(
                "Content part type '\(type)' at '\(path)' is not supported: this server accepts only 'text' parts.",
                param: param
            )
        }
        let param = CodingPath.appending(path, ContentPartKey.text.rawValue)
        switch fields[ContentPartKey.text.rawValue] {
        case .string(let text)?: return text
        case nil: throw APIError.invalidRequest("Missing required parameter: '\(param)'.", param: param)
        case let other?: throw APIError.typeMismatch(param: param, expected: "a string, got \(other.typeDescription)")
        }
    }
}
