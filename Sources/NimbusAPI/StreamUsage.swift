/// How a streaming chunk writes its `usage` key.
///
/// OpenAI omits `usage` unless `stream_options.include_usage` is set; when it is set, every
/// chunk carries `"usage": null` and a final chunk with `choices: []` carries the counts.
/// Three states, so a plain optional is not enough.
public enum StreamUsage: Sendable, Hashable {
    /// No `usage` key (the client did not ask for usage).
    case omitted
    /// `"usage": null` (usage was requested; this is not the final chunk).
    case null
    /// `"usage": {...}` (the final usage chunk).
    case value(Usage)

    /// The counts, when present.
    public var usage: Usage? {
        if case .value(let usage) = self { return usage }
        return nil
    }

    /// The state for a content chunk of a stream whose request said `includeUsage`.
    public static func forContentChunk(includeUsage: Bool) -> StreamUsage {
        includeUsage ? .null : .omitted
    }

    func encode<K: CodingKey>(into container: inout KeyedEncodingContainer<K>, forKey key: K) throws {
        switch self {
        case .omitted: break
        case .null: try container.encodeNil(forKey: key)
        case .value(let usage): try container.encode(usage, forKey: key)
        }
    }

    static func decode<K: CodingKey>(from container: KeyedDecodingContainer<K>, forKey key: K) throws -> StreamUsage {
        guard container.contains(key) else { return .omitted }
        if let usage = try container.decodeIfPresent(Usage.self, forKey: key) { return .value(usage) }
        return .null
    }
}
