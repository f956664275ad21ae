/// JSON Schema to grammar: the output is a JSON text that validates against the schema.
///
/// Where a keyword's exact language cannot be a grammar, it is narrowed, never widened (bounded
/// numbers are written without an exponent), so output always validates. Keywords it cannot honour are refused by
/// name rather than ignored. Properties are written in the schema's order; optional ones may be
/// left out; `additionalProperties` admits extra members only when given explicitly.
public struct JSONSchemaCompiler {
    var parts = JSONGrammarParts()
    var root: SchemaJSON
    /// `$ref` targets already given a rule, by pointer and unfolding state.
    var references: [String: Int] = [:]
    /// How often each `$ref` is being unfolded on the path being compiled.
    private var unfolding: [String: Int] = [:]
    /// A recursive `$ref` unfolds this deep inside itself, then only its non-recursive forms
    /// remain (a `null`, an empty array, an omitted member). Unbounded recursion lets a small
    /// model nest until `max_tokens`; bounded, every output closes and validates.
    public static let maxRecursion = 4
    /// Rules a schema may compile to.
    static let maxRules = 200_000
    /// Grammar symbols a schema may compile to (about 40 bytes each, twice over).
    static let maxSymbols = 2_000_000
    static let maxDepth = 128
    /// Members an object may have beyond its declared properties (`additionalProperties`).
    public static let maxExtraMembers = 16
    private var depth = 0

    /// Keywords that only describe: they never change what is valid.
    static let annotations: Set<String> = [
        "title", "description", "default", "examples", "$schema", "$id", "$comment", "deprecated", "readOnly",
        "writeOnly", "$defs", "definitions", "discriminator", "strict", "$anchor", "contentMediaType",
        // OpenAPI's `nullable` is not JSON Schema: validators ignore it, so null is never written
        // for it (the output is then valid under either reading). `type: [..., "null"]` admits null.
        "nullable",
    ]
    static let supported: Set<String> = [
        "type", "properties", "required", "additionalProperties", "items", "prefixItems", "minItems", "maxItems",
        "enum", "const", "minLength", "maxLength", "pattern", "format", "minimum", "maximum", "exclusiveMinimum",
        "exclusiveMaximum", "anyOf", "oneOf", "allOf", "$ref",
    ]
    static let types: Set<String> = ["object", "array", "string", "number", "integer", "boolean", "null"]

    /// The grammar of JSON texts valid under `schema` (JSON text).
    public static func grammar(schema text: String) throws -> Grammar {
        try grammar(schema: SchemaJSON.parse(text))
    }

    public static func grammar(schema: SchemaJSON) throws -> Grammar {
        var compiler = JSONSchemaCompiler(root: schema)
        let top = try compiler.compile(schema, at: "#")
        return compiler.finish(top)
    }

    /// The grammar whose root is `top`.
    mutating func finish(_ top: Grammar.Symbol) -> Grammar {
        let root = parts.builder.declare("root")
        parts.builder.define(root, [[top]])
        return parts.builder.grammar(root: root)
    }

    /// Any JSON object (`response_format: json_object`).
    public static func anyObject() -> Grammar {
        var parts = JSONGrammarParts()
        let object = parts.anyObject()
        let root = parts.builder.declare("root")
        parts.builder.define(root, [[object]])
        return parts.builder.grammar(root: root)
    }

    init(root: SchemaJSON) { self.root = root }

    typealias Symbol = Grammar.Symbol

    mutating func compile(_ schema: SchemaJSON, at path: String) throws -> Symbol {
        // Nesting, through $ref chains too, and total size are bounded: a request cannot make
        // the compiler recurse past its stack or build gigabytes of rules.
        depth += 1
        defer { depth -= 1 }
        guard depth <= Self.maxDepth else { throw GrammarError("the schema nests more than \(Self.maxDepth) levels deep (at \(path))") }
        guard parts.builder.symbolCount <= Self.maxSymbols else { throw GrammarError("the schema is too large to compile (at \(path))") }
        switch schema {
        case .bool(true): return parts.anyValue()
        case .bool(false): throw GrammarError("the schema at \(path) is false: no value can satisfy it")
        case .object(let members):
            for (key, _) in members where !Self.supported.contains(key) && !Self.annotations.contains(key) && !key.hasPrefix("x-") {
                throw GrammarError("unsupported JSON Schema keyword '\(key)' at \(path)")
            }
        default:
            throw GrammarError("the schema at \(path) must be an object or a boolean")
        }
        if let reference = schema["$ref"] {
            try onlyAnnotationsBeside("$ref", in: schema, at: path)
            return try resolve(reference, at: path)
        }
        if schema["const"] != nil || schema["enum"] != nil {
            let keyword = schema["const"] != nil ? "const" : "enum"
            try onlyAnnotationsBeside(keyword, in: schema, at: path, alsoAllowed: ["type"])
            var values: [SchemaJSON]
            if let value = schema["const"] {
                values = [value]
            } else {
                guard case .array(let list)? = schema["enum"], !list.isEmpty else { throw GrammarError("'enum' at \(path) must be a non-empty array") }
                values = list
            }
            // With `type` beside it, only the values of that type are valid.
            if schema["type"] != nil {
                let types = try Self.declaredTypes(schema, at: path)
                values = values.filter { Self.value($0, hasOneOf: types) }
                guard !values.isEmpty else { throw GrammarError("no '\(keyword)' value at \(path) has the declared type") }
            }
            return parts.builder.rule(keyword, values.map { JSONGrammarParts.literal($0.text) })
        }
        for keyword in ["anyOf", "oneOf", "allOf"] {
            guard let value = schema[keyword] else { continue }
            try onlyAnnotationsBeside(keyword, in: schema, at: path)
            guard case .array(let list) = value, !list.isEmpty else { throw GrammarError("'\(keyword)' at \(path) must be a non-empty array") }
            if keyword == "allOf" {
                guard list.count == 1 else { throw GrammarError("'allOf' with more than one schema is not supported (at \(path))") }
                return try compile(list[0], at: path + "/allOf/0")
            }
            var members = list
            if keyword == "oneOf", let discriminator = try exclusiveAlternatives(list, beside: schema, at: path) {
                members = list.map { requiring(discriminator, in: $0) }
            }
            var alternatives: [[Symbol]] = []
            for (i, member) in members.enumerated() { alternatives.append([try compile(member, at: "\(path)/\(keyword)/\(i)")]) }
            return parts.builder.rule(keyword, alternatives)
        }
        let types = try Self.declaredTypes(schema, at: path)
        var alternatives: [[Symbol]] = []
        for type in types { alternatives.append([try compile(type: type, schema, at: path)]) }
        return alternatives.count == 1 ? alternatives[0][0] : parts.builder.rule("types", alternatives)
    }

    /// Keywords beside `$ref`, a combinator, `enum` or `const` would have to hold too; the
    /// grammar cannot intersect them, so they are refused rather than ignored.
    private func onlyAnnotationsBeside(_ keyword: String, in schema: SchemaJSON, at path: String, alsoAllowed: Set<String> = []) throws {
        guard case .object(let members) = schema else { return }
        for (key, _) in members where key != keyword && !Self.annotations.contains(key) && !alsoAllowed.contains(key) && !key.hasPrefix("x-") {
            throw GrammarError("'\(key)' beside '\(keyword)' at \(path) is not supported (move it into the referenced or combined schemas)")
        }
    }

    /// Whether a JSON value is of one of the JSON Schema types.
    private static func value(_ value: SchemaJSON, hasOneOf types: [String]) -> Bool {
        switch value {
        case .null: return types.contains("null")
        case .bool: return types.contains("boolean")
        case .number(let n): return types.contains("number") || (types.contains("integer") && n.rounded() == n)
        case .string: return types.contains("string")
        case .array: return types.contains("array")
        case .object: return types.contains("object")
        }
    }

    /// The `type` keyword as a list; without it, the type the other keywords imply (or any).
    static func declaredTypes(_ schema: SchemaJSON, at path: String) throws -> [String] {
        switch schema["type"] {
        case .string(let t)?:
            guard Self.types.contains(t) else { throw GrammarError("unknown type '\(t)' at \(path)") }
            return [t]
        case .array(let list)?:
            var types: [String] = []
            for case let item in list {
                guard case .string(let t) = item, Self.types.contains(t) else { throw GrammarError("unknown type \(item.text) at \(path)") }
                types.append(t)
            }
            guard !types.isEmpty else { throw GrammarError("'type' at \(path) is an empty list") }
            return types
        case nil:
            if schema["properties"] != nil || schema["additionalProperties"] != nil || schema["required"] != nil { return ["object"] }
            if schema["items"] != nil || schema["prefixItems"] != nil || schema["minItems"] != nil || schema["maxItems"] != nil { return ["array"] }
            if schema["pattern"] != nil || schema["format"] != nil || schema["minLength"] != nil || schema["maxLength"] != nil { return ["string"] }
            if schema["minimum"] != nil || schema["maximum"] != nil || schema["exclusiveMinimum"] != nil || schema["exclusiveMaximum"] != nil { return ["number"] }
            return ["object", "array", "string", "number", "boolean", "null"]
        default:
            throw GrammarError("'type' at \(path) must be a string or a list of strings")
        }
    }

    private mutating func compile(type: String, _ schema: SchemaJSON, at path: String) throws -> Symbol {
        switch type {
        case "null": return parts.builder.rule("null", [JSONGrammarParts.literal("null")])
        case "boolean": return parts.builder.rule("boolean", [JSONGrammarParts.literal("true"), JSONGrammarParts.literal("false")])
        case "string": return try string(schema, at: path)
        case "integer", "number": return try number(schema, integer: type == "integer", at: path)
        case "array": return try array(schema, at: path)
        default: return try object(schema, at: path)
        }
    }

    // MARK: - Keyword groups

    private func count(_ schema: SchemaJSON, _ key: String, at path: String) throws -> Int? {
        guard let value = schema[key] else { return nil }
        guard case .number(let n) = value, n >= 0, n.rounded() == n, n <= 100_000 else {
            throw GrammarError("'\(key)' at \(path) must be a non-negative integer (at most 100000)")
        }
        return Int(n)
    }

    private mutating func string(_ schema: SchemaJSON, at path: String) throws -> Symbol {
        let minLength = try count(schema, "minLength", at: path) ?? 0
        let maxLength = try count(schema, "maxLength", at: path)
        if let maxLength, maxLength < minLength { throw GrammarError("'maxLength' is below 'minLength' at \(path)") }
        // Candidate regexes over the content: the format's spellings, widest first, or the pattern.
        var candidates: [String] = []
        var source = "pattern"
        if let format = schema["format"] {
            guard case .string(let name) = format else { throw GrammarError("'format' at \(path) must be a string") }
            guard let regexes = StringFormats.patterns[name] else {
                throw GrammarError("unsupported string format '\(name)' at \(path) (supported: \(StringFormats.patterns.keys.sorted().joined(separator: ", ")))")
            }
            candidates = regexes
            source = "format '\(name)'"
        }
        if let value = schema["pattern"] {
            guard case .string(let regex) = value else { throw GrammarError("'pattern' at \(path) must be a string") }
            guard candidates.isEmpty else { throw GrammarError("'pattern' together with 'format' is not supported (at \(path))") }
            candidates = [Self.unanchored(regex)]
        }
        guard !candidates.isEmpty else { return parts.string(minLength: minLength, maxLength: maxLength) }
        // With length bounds, a regex is used only if every string it matches has a length
        // within them (the grammar cannot intersect the two languages).
        var chosen: String?
        for regex in candidates {
            let lengths: (minimum: Int, maximum: Int?)
            do {
                lengths = try RegexCompiler.grammar(regex).characterLengthRange()
            } catch let error as GrammarError {
                throw GrammarError("'pattern' at \(path): \(error.message)")
            }
            if lengths.minimum >= minLength, maxLength.map({ m in lengths.maximum.map { $0 <= m } ?? false }) ?? true {
                chosen = regex
                break
            }
        }
        guard let pattern = chosen else {
            throw GrammarError("'minLength'/'maxLength' at \(path) cannot be combined with this \(source): its strings are not all within the bounds; bound the lengths in the pattern itself (e.g. {3,16})")
        }
        let body: [Symbol]
        do {
            body = try RegexCompiler.compile(pattern, into: &parts.builder, jsonString: true)
        } catch let error as GrammarError {
            throw GrammarError("'pattern' at \(path): \(error.message)")
        }
        return parts.builder.rule("pattern", [JSONGrammarParts.literal("\"") + body + JSONGrammarParts.literal("\"")])
    }

    /// JSON Schema's `pattern` is a search, not a full match: unanchored ends match anything.
    static func unanchored(_ regex: String) -> String {
        let start = regex.hasPrefix("^"), end = regex.hasSuffix("$") && !regex.hasSuffix("\\$")
        guard !(start && end) else { return regex }
        return (start ? "" : ".*") + "(?:" + regex.dropFirst(start ? 1 : 0).dropLast(end ? 1 : 0) + ")" + (end ? "" : ".*")
    }

    private func bound(_ schema: SchemaJSON, _ key: String, at path: String) throws -> Double? {
        guard let value = schema[key] else { return nil }
        guard case .number(let n) = value else { throw GrammarError("'\(key)' at \(path) must be a number") }
        return n
    }

    private mutating func number(_ schema: SchemaJSON, integer: Bool, at path: String) throws -> Symbol {
        let limit = Double(JSONGrammarParts.digitLimit)
        let minimum = try bound(schema, "minimum", at: path), maximum = try bound(schema, "maximum", at: path)
        let exclusiveMinimum = try bound(schema, "exclusiveMinimum", at: path), exclusiveMaximum = try bound(schema, "exclusiveMaximum", at: path)
        let (low, high) = Self.tighterBounds(minimum: minimum, exclusiveMinimum: exclusiveMinimum, maximum: maximum, exclusiveMaximum: exclusiveMaximum)
        func beyond(_ key: String) -> GrammarError { GrammarError("'\(key)' at \(path) is beyond the supported range (±\(Int64(limit)))") }
        if let l = low, l.value > limit { throw beyond("minimum") }
        if let h = high, h.value < -limit { throw beyond("maximum") }
        let empty = GrammarError("no \(integer ? "integer" : "number") lies between the bounds at \(path)")
        guard integer else {
            if low == nil && high == nil { return parts.number() }
            // A bound beyond the digits a number may have is clamped to them (a narrowing).
            let lowBound = low.map { DecimalBound($0.value, strict: $0.strict, limit: JSONGrammarParts.digitLimit) }
            let highBound = high.map { DecimalBound($0.value, strict: $0.strict, limit: JSONGrammarParts.digitLimit) }
            guard let symbol = parts.decimal(low: lowBound, high: highBound) else { throw empty }
            return symbol
        }
        // Integers: rounding a bound inward is exact; an exclusive one steps past it.
        let lowest = low.map { $0.strict ? $0.value.rounded(.down) + 1 : $0.value.rounded(.up) }
        let highest = high.map { $0.strict ? $0.value.rounded(.up) - 1 : $0.value.rounded(.down) }
        if let l = lowest, let h = highest, l > h { throw empty }
        if let l = lowest, l > limit { throw beyond("minimum") }
        if let h = highest, h < -limit { throw beyond("maximum") }
        let lowBound = lowest.map { Int64(max($0, -limit)) }, highBound = highest.map { Int64(min($0, limit)) }
        if lowBound == nil && highBound == nil { return parts.integer() }
        return parts.integer(minimum: lowBound, maximum: highBound)
    }

    /// A number bound: its value, and whether the value itself is excluded.
    typealias NumberBound = (value: Double, strict: Bool)

    /// The tighter bound on each side; at a tie the exclusive one.
    static func tighterBounds(minimum: Double?, exclusiveMinimum: Double?, maximum: Double?, exclusiveMaximum: Double?) -> (low: NumberBound?, high: NumberBound?) {
        let low: NumberBound? = switch (minimum, exclusiveMinimum) {
        case let (m?, e?): e >= m ? (e, true) : (m, false)
        case let (m?, nil): (m, false)
        case let (nil, e?): (e, true)
        case (nil, nil): nil
        }
        let high: NumberBound? = switch (maximum, exclusiveMaximum) {
        case let (m?, e?): e <= m ? (e, true) : (m, false)
        case let (m?, nil): (m, false)
        case let (nil, e?): (e, true)
        case (nil, nil): nil
        }
        return (low, high)
    }

    private mutating func array(_ schema: SchemaJSON, at path: String) throws -> Symbol {
        let minItems = try count(schema, "minItems", at: path) ?? 0
        let maxItems = try count(schema, "maxItems", at: path)
        if let maxItems, maxItems < minItems { throw GrammarError("'maxItems' is below 'minItems' at \(path)") }
        var prefix: [Symbol] = []
        if let value = schema["prefixItems"] {
            guard case .array(let list) = value else { throw GrammarError("'prefixItems' at \(path) must be an array") }
            for (i, item) in list.enumerated() { prefix.append(try compile(item, at: "\(path)/prefixItems/\(i)")) }
        }
        if let maxItems, prefix.count > maxItems { throw GrammarError("'prefixItems' is longer than 'maxItems' at \(path)") }
        var item: Symbol?
        switch schema["items"] {
        case nil: item = prefix.isEmpty ? parts.anyValue() : nil
        case .bool(false)?: item = nil
        case let value?: item = try compile(value, at: path + "/items")
        }
        let ws = parts.ws
        let comma: [Symbol] = [ws] + JSONGrammarParts.literal(",") + [ws]
        // The prefix items in order, then the rest: between (minItems - prefix) and (maxItems - prefix).
        var elements: [Symbol] = []
        for (i, p) in prefix.enumerated() { elements += (i == 0 ? [] : comma) + [p] }
        let restMin = max(0, minItems - prefix.count)
        let restMax = maxItems.map { $0 - prefix.count }
        if item == nil, restMin > 0 { throw GrammarError("'minItems' needs more items than 'prefixItems' allows at \(path)") }
        var body: [Symbol]
        if let item, restMax != 0 {
            if prefix.isEmpty {
                // first item, then (comma item) repeated
                let rest = parts.builder.repeated(comma + [item], minimum: max(0, restMin - 1), maximum: restMax.map { $0 - 1 }, name: "items")
                let nonEmpty = [item] + rest
                body = restMin > 0 ? nonEmpty : [parts.builder.optional(nonEmpty, name: "items")]
            } else {
                body = elements + parts.builder.repeated(comma + [item], minimum: restMin, maximum: restMax, name: "items")
            }
        } else {
            body = elements
        }
        return parts.builder.rule("array", [JSONGrammarParts.literal("[") + [ws] + body + [ws] + JSONGrammarParts.literal("]")])
    }

    private mutating func object(_ schema: SchemaJSON, at path: String) throws -> Symbol {
        var properties: [(key: String, value: SchemaJSON)] = []
        if let value = schema["properties"] {
            guard case .object(let members) = value else { throw GrammarError("'properties' at \(path) must be an object") }
            properties = members
        }
        var required: Set<String> = [], requiredInOrder: [String] = []
        if let value = schema["required"] {
            guard case .array(let list) = value else { throw GrammarError("'required' at \(path) must be an array of strings") }
            for case let item in list {
                guard case .string(let name) = item else { throw GrammarError("'required' at \(path) must be an array of strings") }
                if required.insert(name).inserted { requiredInOrder.append(name) }
            }
        }
        for name in requiredInOrder where !properties.contains(where: { $0.key == name }) {
            // A required member the schema does not declare: `additionalProperties` describes it.
            switch schema["additionalProperties"] {
            case .bool(false)?: throw GrammarError("required member '\(name)' at \(path) is not declared in 'properties', and 'additionalProperties' is false: no object can satisfy the schema")
            case nil: properties.append((name, .bool(true)))
            case let extra?: properties.append((name, extra))
            }
        }
        // Extra members: only when asked for (or when nothing else describes the object).
        var extra: Symbol?
        switch schema["additionalProperties"] {
        case .bool(false)?: extra = nil
        case .bool(true)?: extra = parts.anyValue()
        case nil: extra = properties.isEmpty ? parts.anyValue() : nil
        case let value?: extra = try compile(value, at: path + "/additionalProperties")
        }
        let ws = parts.ws
        let comma: [Symbol] = [ws] + JSONGrammarParts.literal(",") + [ws]
        let colon: [Symbol] = [ws] + JSONGrammarParts.literal(":") + [ws]
        var members: [[Symbol]] = []
        for (name, value) in properties {
            members.append(JSONGrammarParts.literal(SchemaJSON.quoted(name)) + colon + [try compile(value, at: "\(path)/properties/\(name)")])
        }
        // tail(first): the extra members, "first" when nothing was written before them.
        // An extra member must not repeat a declared name (a duplicate key would override it).
        let extraKey = properties.isEmpty ? parts.string() : keyExcluding(properties.map(\.key))
        let extraMember: [Symbol]? = extra.map { [extraKey] + colon + [$0] }
        // At most `maxExtraMembers` of them: a small model otherwise adds members until max_tokens.
        let most = Self.maxExtraMembers
        let tailAfter: Symbol = parts.builder.rule("extra", [[]] + (extraMember.map { [parts.builder.repeated(comma + $0, minimum: 1, maximum: most, name: "extra")] } ?? []))
        let tailFirst: Symbol = parts.builder.rule("extra", [[]] + (extraMember.map { [$0 + parts.builder.repeated(comma + $0, minimum: 0, maximum: most - 1, name: "extra")] } ?? []))
        // rest(k, first): members k..< in order; required ones must appear.
        var next = (first: tailFirst, after: tailAfter)
        for k in stride(from: properties.count - 1, through: 0, by: -1) {
            let isRequired = required.contains(properties[k].key)
            let withFirst: [[Symbol]] = [members[k] + [next.after]] + (isRequired ? [] : [[next.first]])
            let withAfter: [[Symbol]] = [comma + members[k] + [next.after]] + (isRequired ? [] : [[next.after]])
            next = (parts.builder.rule("members", withFirst), parts.builder.rule("members", withAfter))
        }
        return parts.builder.rule("object", [JSONGrammarParts.literal("{") + [ws, next.first, ws] + JSONGrammarParts.literal("}")])
    }

    /// A member name that is none of `names`: letters, digits, `_`, `-` and `.` (no escapes, at
    /// most 32 characters past a name's prefix), walked along a trie of the names so a name can
    /// never be completed.
    private mutating func keyExcluding(_ names: [String]) -> Symbol {
        var alphabet = ByteSet(0x30...0x39)
        for b in UInt8(ascii: "a")...UInt8(ascii: "z") { alphabet.insert(b) }
        for b in UInt8(ascii: "A")...UInt8(ascii: "Z") { alphabet.insert(b) }
        for b in "_-.".utf8 { alphabet.insert(b) }
        // Trie of the names that this alphabet can spell.
        var children: [[UInt8: Int]] = [[:]]
        var isName: [Bool] = [false]
        for name in names where name.utf8.allSatisfy(alphabet.contains) {
            var node = 0
            for b in name.utf8 {
                if let next = children[node][b] { node = next; continue }
                children.append([:])
                isName.append(false)
                children[node][b] = children.count - 1
                node = children.count - 1
            }
            isName[node] = true
        }
        let free = parts.builder.repeated([.bytes(alphabet)], minimum: 0, maximum: 31, name: "key")
        let rules = children.indices.map { _ in parts.builder.declare("key") }
        for node in children.indices {
            var alternatives: [[Symbol]] = (node == 0 || isName[node]) ? [] : [[]]
            var others = alphabet
            for (b, child) in children[node].sorted(by: { $0.key < $1.key }) {
                alternatives.append([.bytes(ByteSet(b)), .rule(rules[child])])
                others = others.removing(b)
            }
            if !others.isEmpty { alternatives.append([.bytes(others)] + free) }
            parts.builder.define(rules[node], alternatives)
        }
        return parts.builder.rule("key", [JSONGrammarParts.literal("\"") + [.rule(rules[0])] + JSONGrammarParts.literal("\"")])
    }

    // MARK: - Literals and references

    private mutating func literalRule(_ value: SchemaJSON) -> Int {
        let id = parts.builder.declare("const")
        parts.builder.define(id, [JSONGrammarParts.literal(value.text)])
        return id
    }

    private mutating func resolve(_ reference: SchemaJSON, at path: String) throws -> Symbol {
        guard case .string(let pointer) = reference else { throw GrammarError("'$ref' at \(path) must be a string") }
        guard pointer == "#" || pointer.hasPrefix("#/") else {
            throw GrammarError("unresolvable $ref '\(pointer)' at \(path): only references within the schema (#/...) are supported")
        }
        let depth = unfolding[pointer, default: 0]
        if depth >= Self.maxRecursion {
            // No alternatives: the forms that recurse further drop out of the grammar.
            return .rule(parts.builder.declare("ref-depth-limit"))
        }
        let key = pointer + "|" + unfolding.filter { $0.value > 0 }.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
        if let known = references[key] { return .rule(known) }
        guard parts.builder.rules.count < Self.maxRules else { throw GrammarError("the schema is too large to compile (at \(path))") }
        guard let target = Self.lookup(pointer, in: root) else { throw GrammarError("unresolvable $ref '\(pointer)' at \(path)") }
        let rule = parts.builder.declare("ref")
        references[key] = rule
        unfolding[pointer] = depth + 1
        defer { unfolding[pointer] = depth }
        let body = try compile(target, at: pointer)
        parts.builder.define(rule, [[body]])
        return .rule(rule)
    }
}

extension JSONSchemaCompiler {
    /// The schema a `#/...` pointer names within `root`, if any.
    static func lookup(_ pointer: String, in root: SchemaJSON) -> SchemaJSON? {
        guard pointer == "#" || pointer.hasPrefix("#/") else { return nil }
        var target = root
        for raw in pointer.dropFirst(2).split(separator: "/", omittingEmptySubsequences: false) where pointer != "#" {
            let key = pointerToken(raw)
            switch target {
            case .object:
                guard let next = target[key] else { return nil }
                target = next
            case .array(let items):
                guard let i = Int(key), items.indices.contains(i) else { return nil }
                target = items[i]
            default:
                return nil
            }
        }
        return target
    }
}

/// A JSON Pointer token with `~1` and `~0` decoded (RFC 6901).
private func pointerToken(_ raw: Substring) -> String {
    var out = "", escaped = false
    for c in raw {
        if escaped {
            out.append(c == "1" ? "/" : c == "0" ? "~" : c)
            escaped = false
        } else if c == "~" {
            escaped = true
        } else {
            out.append(c)
        }
    }
    return out
}
