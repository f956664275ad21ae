/// The answer of `GET /v1/models`: `{"object": "list", "data": [...]}`.
public struct ModelList: Sendable, Hashable, Codable {
    /// Always `list`.
    public var object: String
    public var data: [ModelCard]

    public init(data: [ModelCard]) {
        self.object = "list"
        self.data = data
    }

    private enum CodingKeys: String, CodingKey { case object, data }
}

/// One served model: OpenAI's `{"id", "object": "model", "created", "owned_by"}` plus
/// optional metadata that vLLM/NIM clients read (`max_model_len`, `root`, `parent`) and any
/// further fields in `extra`, all written at the top level of the object.
public struct ModelCard: Sendable, Hashable, Codable {
    public var id: String
    /// Always `model`.
    public var object: String
    public var created: Int
    public var ownedBy: String
    /// Context length in tokens; benchmark clients size prompts from it. Omitted when nil.
    public var maxModelLen: Int?
    /// The base model id (vLLM convention); omitted when nil.
    public var root: String?
    /// For adapters, the model they apply to; omitted when nil.
    public var parent: String?
    /// Further top-level fields. Keys that collide with the ones above are ignored.
    public var extra: [String: JSONValue]

    public init(
        id: String,
        created: Int = ResponseID.now(),
        ownedBy: String = "nimbus",
        maxModelLen: Int? = nil,
        root: String? = nil,
        parent: String? = nil,
        extra: [String: JSONValue] = [:]
    ) {
        self.id = id
        self.object = "model"
        self.created = created
        self.ownedBy = ownedBy
        self.maxModelLen = maxModelLen
        self.root = root
        self.parent = parent
        self.extra = extra
    }

    private enum Field: String, CaseIterable {
        case id, object, created
        case ownedBy = "owned_by"
        case maxModelLen = "max_model_len"
        case root, parent
    }

    private struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(_ string: String) { stringValue = string }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: AnyKey.self)
        try c.encode(id, forKey: AnyKey(Field.id.rawValue))
        try c.encode(object, forKey: AnyKey(Field.object.rawValue))
        try c.encode(created, forKey: AnyKey(Field.created.rawValue))
        try c.encode(ownedBy, forKey: AnyKey(Field.ownedBy.rawValue))
        try c.encodeIfPresent(maxModelLen, forKey: AnyKey(Field.maxModelLen.rawValue))
        try c.encodeIfPresent(root, forKey: AnyKey(Field.root.rawValue))
        try c.encodeIfPresent(parent, forKey: AnyKey(Field.parent.rawValue))
        for key in extra.keys.sorted() where Field(rawValue: key) == nil {
            try c.encode(extra[key] ?? .null, forKey: AnyKey(key))
        }
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: AnyKey.self)
        id = try c.decode(String.self, forKey: AnyKey(Field.id.rawValue))
        object = try c.decodeIfPresent(String.self, forKey: AnyKey(Field.object.rawValue)) ?? "model"
        created = try c.decodeIfPresent(Int.self, forKey: AnyKey(Field.created.rawValue)) ?? 0
        ownedBy = try c.decodeIfPresent(String.self, forKey: AnyKey(Field.ownedBy.rawValue)) ?? ""
        maxModelLen = try c.decodeIfPresent(Int.self, forKey: AnyKey(Field.maxModelLen.rawValue))
        root = try c.decodeIfPresent(String.self, forKey: AnyKey(Field.root.rawValue))
        parent = try c.decodeIfPresent(String.self, forKey: AnyKey(Field.parent.rawValue))
        var extra: [String: JSONValue] = [:]
        for key in c.allKeys where Field(rawValue: key.stringValue) == nil {
            extra[key.stringValue] = try c.decode(JSONValue.self, forKey: key)
        }
        self.extra = extra
    }
}
