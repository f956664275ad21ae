/// `stream_options` of chat and completion requests.
///
/// `include_usage` asks for one extra chunk before `[DONE]` that carries the token counts,
/// with `choices: []`; every other chunk then carries `"usage": null`.
public struct StreamOptions: Sendable, Hashable, Decodable {
    public var includeUsage: Bool?

    public init(includeUsage: Bool? = nil) {
        self.includeUsage = includeUsage
    }

    private enum CodingKeys: String, CodingKey {
        case includeUsage = "include_usage"
    }
}
