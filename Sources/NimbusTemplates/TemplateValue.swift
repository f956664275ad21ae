/// A value passed into a chat template: the JSON-like data model that Hugging Face templates see.
///
/// Objects keep insertion order because `tojson` output (tool schemas, tool-call arguments) must
/// match Python's `json.dumps`, which writes dict keys in insertion order.
public enum TemplateValue: Sendable, Equatable {
    /// A variable that is not set (jinja2's `Undefined`): renders as "", is falsy, `is defined` is false.
    case undefined
    /// Python `None` / JSON `null`.
    case none
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case array([TemplateValue])
    case object(TemplateObject)

    /// Looks up a key when this is an object; `nil` otherwise or when absent.
    public subscript(key: String) -> TemplateValue? {
        if case .object(let object) = self { return object[key] }
        return nil
    }
}

/// An ordered string-keyed map, the template-side equivalent of a Python `dict`.
///
/// Keys compare by their Unicode scalars (as Python does), not by Swift's canonical equivalence.
public struct TemplateObject: Sendable, Equatable {
    public private(set) var keys: [String] = []
    public private(set) var values: [TemplateValue] = []

    public init() {}

    /// Builds an object from pairs; a repeated key keeps its first position and its last value, like a Python dict.
    public init(_ pairs: [(String, TemplateValue)]) {
        for (key, value) in pairs { self[key] = value }
    }

    public var count: Int { keys.count }
    public var isEmpty: Bool { keys.isEmpty }

    /// The entries in insertion order.
    public var entries: [(key: String, value: TemplateValue)] {
        Array(zip(keys, values)).map { (key: $0.0, value: $0.1) }
    }

    func index(of key: String) -> Int? {
        keys.firstIndex { scalarsEqual($0, key) }
    }

    /// Reading returns `nil` for a missing key; assigning `nil` removes the key.
    public subscript(key: String) -> TemplateValue? {
        get { index(of: key).map { values[$0] } }
        set {
            if let i = index(of: key) {
                if let newValue { values[i] = newValue } else {
                    keys.remove(at: i)
                    values.remove(at: i)
                }
            } else if let newValue {
                keys.append(key)
                values.append(newValue)
            }
        }
    }

    /// Python dict equality: same keys and equal values, regardless of order.
    public static func == (lhs: TemplateObject, rhs: TemplateObject) -> Bool {
        guard lhs.count == rhs.count else { return false }
        for (key, value) in zip(lhs.keys, lhs.values) {
            guard let other = rhs[key], other == value else { return false }
        }
        return true
    }
}

/// String equality by Unicode scalars, matching Python's `str.__eq__` rather than Swift's canonical equivalence.
func scalarsEqual(_ a: String, _ b: String) -> Bool {
    a.unicodeScalars.elementsEqual(b.unicodeScalars)
}

extension TemplateObject: ExpressibleByDictionaryLiteral {
    public init(dictionaryLiteral elements: (String, TemplateValue)...) {
        self.init(elements)
    }
}

extension TemplateValue: ExpressibleByStringLiteral {
    public init(stringLiteral value: String) { self = .string(value) }
}

extension TemplateValue: ExpressibleByIntegerLiteral {
    public init(integerLiteral value: Int) { self = .int(value) }
}

extension TemplateValue: ExpressibleByFloatLiteral {
    public init(floatLiteral value: Double) { self = .double(value) }
}

extension TemplateValue: ExpressibleByBooleanLiteral {
    public init(booleanLiteral value: Bool) { self = .bool(value) }
}

extension TemplateValue: ExpressibleByNilLiteral {
    public init(nilLiteral: ()) { self = .none }
}

extension TemplateValue: ExpressibleByArrayLiteral {
    public init(arrayLiteral elements: TemplateValue...) { self = .array(elements) }
}

extension TemplateValue: ExpressibleByDictionaryLiteral {
    /// Dictionary literals keep their written order, so `["role": "user", "content": "hi"]` is ordered.
    public init(dictionaryLiteral elements: (String, TemplateValue)...) {
        self = .object(TemplateObject(elements))
    }
}

extension TemplateValue {
    /// Parses JSON text into a value, keeping object key order (unlike `JSONSerialization`).
    ///
    /// Numbers without a fraction or exponent become `.int` (when they fit), others `.double`,
    /// mirroring Python's `json.loads`. Use this for tool schemas and tool-call arguments that arrive as JSON.
    /// - Throws: `TemplateError` when the text is not valid JSON.
    public init(parsingJSON text: String) throws {
        var parser = JSONReader(text)
        self = try parser.parseDocument()
    }

    /// Serialises like transformers' `tojson` filter (`json.dumps(x, ensure_ascii=False)`).
    /// - Throws: `TemplateError` for `.undefined`, which Python cannot serialise either.
    public func jsonString(indent: Int? = nil, sortKeys: Bool = false) throws -> String {
        var options = JSONWriteOptions()
        options.indent = indent.map { $0 > 0 ? String(repeating: " ", count: $0) : "" }
        options.sortKeys = sortKeys
        return try writeJSON(NimbusTemplates.Value(self), options: options)
    }
}
