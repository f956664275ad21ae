/// `stream_options` of chat and completion requests.
///
/// `include_usage` asks for one extra chunk before `[DONE]` that carries the token counts,
/// with `choices: []`; every other chunk then carries `"usage": null`.
public struct StreamOptions: Sendable, Hashable, Decodable {
    public var includeUsage: Bool?

    public init(includeUsage: Bool? = nil) {
        self.includeUsage = includeUsage
    }

    /// The JSON fields the decoder reads.
    public static var decodedFields: [String] { CodingKeys.allCases.map(\.stringValue) }

    private enum CodingKeys: String, CodingKey, CaseIterable {
        case includeUsage = "include_usage"
    }
}
