/// A few builders for the JSON Schema and OpenAPI fragments the document is made of.
///
/// The document is plain `JSONValue` (no OpenAPI library: NimbusAPI has no dependencies).
/// These helpers keep each field to one readable line and spell nullability one way:
/// `decodeIfPresent` accepts `null`, so every optional request field is `type: [X, "null"]`
/// (or `anyOf` with `{"type": "null"}` for references), as OpenAPI 3.1 writes it.
enum OpenAPISchema {
    static let nullType: JSONValue = .object(["type": "null"])

    /// `{"type": type}` plus a description and any further keywords; `null` joins the type
    /// (and an `enum`, which would otherwise exclude it) when `nullable`.
    static func typed(_ type: String, _ description: String?, nullable: Bool, _ extra: [String: JSONValue]) -> JSONValue {
        var fields = extra
        fields["type"] = nullable ? .array([.string(type), "null"]) : .string(type)
        if nullable, case .array(let values)? = fields["enum"], !values.contains(.null) {
            fields["enum"] = .array(values + [.null])
        }
        if let description { fields["description"] = .string(description) }
        return .object(fields)
    }

    static func string(_ description: String? = nil, nullable: Bool = false, _ extra: [String: JSONValue] = [:]) -> JSONValue {
        typed("string", description, nullable: nullable, extra)
    }

    static func integer(_ description: String? = nil, nullable: Bool = false, _ extra: [String: JSONValue] = [:]) -> JSONValue {
        // Integer fields decode into Swift's 64-bit Int; a larger number is a 400.
        var fields = extra
        fields["format"] = "int64"
        return typed("integer", description, nullable: nullable, fields)
    }

    static func number(_ description: String? = nil, nullable: Bool = false, _ extra: [String: JSONValue] = [:]) -> JSONValue {
        typed("number", description, nullable: nullable, extra)
    }

    static func boolean(_ description: String? = nil, nullable: Bool = false, _ extra: [String: JSONValue] = [:]) -> JSONValue {
        typed("boolean", description, nullable: nullable, extra)
    }

    // Keyword-only spellings: `S.string(["minLength": 1])` for an undescribed item schema.
    static func string(_ extra: [String: JSONValue]) -> JSONValue { string(nil, nullable: false, extra) }
    static func integer(_ extra: [String: JSONValue]) -> JSONValue { integer(nil, nullable: false, extra) }
    static func number(_ extra: [String: JSONValue]) -> JSONValue { number(nil, nullable: false, extra) }
    static func array(_ items: JSONValue, _ extra: [String: JSONValue]) -> JSONValue { array(items, nil, nullable: false, extra) }

    /// A string that is always `value` (the `object` field of responses, say).
    static func constant(_ value: String, _ description: String? = nil) -> JSONValue {
        typed("string", description, nullable: false, ["const": .string(value)])
    }

    /// A string limited to `values`.
    static func oneOfStrings(_ values: [String], _ description: String? = nil, nullable: Bool = false) -> JSONValue {
        typed("string", description, nullable: nullable, ["enum": .array(values.map { .string($0) })])
    }

    static func array(_ items: JSONValue, _ description: String? = nil, nullable: Bool = false,
                      _ extra: [String: JSONValue] = [:]) -> JSONValue {
        var fields = extra
        fields["items"] = items
        return typed("array", description, nullable: nullable, fields)
    }

    /// An object with `properties`. Unknown fields stay allowed (no `additionalProperties:
    /// false`): the server ignores them, as OpenAI does.
    static func object(_ description: String? = nil, nullable: Bool = false, required: [String] = [],
                       properties: [String: JSONValue], _ extra: [String: JSONValue] = [:]) -> JSONValue {
        var fields = extra
        fields["properties"] = .object(properties)
        if !required.isEmpty { fields["required"] = .array(required.map { .string($0) }) }
        return typed("object", description, nullable: nullable, fields)
    }

    /// A reference to a schema under `components/schemas`.
    static func ref(_ component: String) -> JSONValue {
        .object(["$ref": .string("#/components/schemas/\(component)")])
    }

    /// Any of `schemas` (plus `null` when `nullable`); used for union-typed fields and nullable references.
    static func anyOf(_ schemas: [JSONValue], _ description: String? = nil, nullable: Bool = false) -> JSONValue {
        var fields: [String: JSONValue] = ["anyOf": .array(schemas + (nullable ? [nullType] : []))]
        if let description { fields["description"] = .string(description) }
        return .object(fields)
    }

    /// A nullable reference with its own description.
    static func ref(_ component: String, _ description: String, nullable: Bool = false) -> JSONValue {
        anyOf([ref(component)], description, nullable: nullable)
    }

    /// Any JSON value at all (a JSON Schema the client supplies, say).
    static func any(_ description: String) -> JSONValue {
        .object(["description": .string(description)])
    }

    /// `if`/`then`: the cross-field rules `validate()` enforces, kept in the schema so a
    /// generated client or a fuzzer knows them too.
    static func rule(if condition: JSONValue, then consequence: JSONValue) -> JSONValue {
        .object(["if": condition, "then": consequence])
    }

    /// A condition that holds when `field` is present with a value of `type`.
    static func present(_ field: String, as type: String) -> JSONValue {
        .object(["required": .array([.string(field)]), "properties": .object([field: .object(["type": .string(type)])])])
    }
}

extension JSONValue {
    /// This object with `extra`'s keys added (replacing any already there).
    func merging(_ extra: [String: JSONValue]) -> JSONValue {
        guard case .object(var fields) = self else { return self }
        for (key, value) in extra { fields[key] = value }
        return .object(fields)
    }

    /// The member `key` of an object (nil for other values or a missing key).
    subscript(key: String) -> JSONValue? {
        if case .object(let fields) = self { return fields[key] }
        return nil
    }
}
