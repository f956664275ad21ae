/// Proofs that no value written for one schema satisfies another, for `oneOf`.
///
/// `oneOf` holds when exactly one alternative matches. A grammar can only take the union of
/// the alternatives, and the union is exact when no value the compiler writes for one
/// alternative matches another. The proof is conservative ("may overlap" when unsure): by
/// JSON type, by `const`/`enum` values, by disjoint numeric ranges, and for objects by a member
/// one always writes that the other forbids or constrains to other values (a discriminator),
/// or one the other requires but never gets (the compiler writes no undeclared members unless
/// `additionalProperties` asks for them). Written values follow the compiler; the other side
/// is read as a validator reads it.
///
/// Work is bounded (depth and a step budget): a schema cannot make the proof recurse past the
/// stack or run for seconds; out of budget, every answer is the conservative one.
final class SchemaOverlap {
    let root: SchemaJSON
    static let maxDepth = 16
    /// Steps (schema visits) the proofs for one `oneOf` may take.
    static let maxSteps = 100_000
    /// `const`/`enum` values followed through unions before giving up on listing them.
    static let maxValues = 256
    /// JSON types, with numbers split into integers and the rest ("fraction").
    static let allTypes: Set<String> = ["object", "array", "string", "integer", "fraction", "boolean", "null"]
    private var steps = 0
    /// The budget ran out: some answer was the conservative one for that reason alone.
    var exhausted: Bool { steps > Self.maxSteps }

    init(root: SchemaJSON) { self.root = root }

    /// Whether nothing written for `a` satisfies `b` and nothing written for `b` satisfies `a`.
    /// `alsoRequired` is a member the compiler writes in every object for either alternative
    /// that declares it (the discriminator it makes required).
    func excludes(_ a: SchemaJSON, _ b: SchemaJSON, alsoRequired: String? = nil, depth: Int = 0) -> Bool {
        guard step(depth) else { return false }
        let a = resolved(a), b = resolved(b)
        if a == .bool(false) || b == .bool(false) { return true }
        if let members = union(a) { return members.allSatisfy { excludes($0, b, depth: depth + 1) } }
        if let members = union(b) { return members.allSatisfy { excludes(a, $0, depth: depth + 1) } }
        if let values = finiteValues(a, depth: depth) { return values.allSatisfy { rejects(b, $0, depth: depth + 1) } }
        if let values = finiteValues(b, depth: depth) { return values.allSatisfy { rejects(a, $0, depth: depth + 1) } }
        return writtenFail(a, b, alsoRequired: alsoRequired, depth: depth) && writtenFail(b, a, alsoRequired: alsoRequired, depth: depth)
    }

    /// Counts a step; false when the depth or the budget is spent.
    private func step(_ depth: Int) -> Bool {
        steps += 1
        return depth < Self.maxDepth && steps <= Self.maxSteps
    }

    /// Whether every value the compiler writes for `x` fails `y`, type by type. `y` is read as
    /// JSON Schema reads it: keywords for one type (`properties`) do not exclude the others.
    private func writtenFail(_ x: SchemaJSON, _ y: SchemaJSON, alsoRequired: String?, depth: Int) -> Bool {
        writtenTypes(x, depth: depth).intersection(acceptedTypes(y, depth: depth)).allSatisfy { type in
            switch type {
            case "object": return writtenObjectsFail(x, y, alsoRequired: alsoRequired, depth: depth)
            case "integer", "fraction": return Self.intervalsExclude(Self.interval(x), Self.interval(y))
            default: return false
            }
        }
    }

    /// `$ref` chains and single-schema `allOf` followed to the schema that says something.
    func resolved(_ schema: SchemaJSON) -> SchemaJSON {
        var schema = schema
        for _ in 0..<32 {
            if case .string(let pointer)? = schema["$ref"], let target = JSONSchemaCompiler.lookup(pointer, in: root) {
                schema = target
            } else if case .array(let list)? = schema["allOf"], list.count == 1 {
                schema = list[0]
            } else {
                break
            }
        }
        return schema
    }

    /// The property names an object alternative declares, in order.
    func declaredProperties(_ schema: SchemaJSON) -> [String] {
        let schema = resolved(schema)
        guard union(schema) == nil, case .object(let members)? = schema["properties"] else { return [] }
        return members.map(\.key)
    }

    private func union(_ schema: SchemaJSON) -> [SchemaJSON]? {
        if case .array(let list)? = schema["anyOf"] ?? schema["oneOf"] { return list }
        return nil
    }

    /// The values a schema admits when it lists them (`const`, `enum`, unions of those); nil
    /// when it does not, or when there are too many to follow.
    private func finiteValues(_ schema: SchemaJSON, depth: Int) -> [SchemaJSON]? {
        guard step(depth) else { return nil }
        let schema = resolved(schema)
        if schema == .bool(false) { return [] }
        var values: [SchemaJSON]
        if let value = schema["const"] {
            values = [value]
        } else if case .array(let list)? = schema["enum"] {
            values = list
        } else if let members = union(schema) {
            values = []
            for member in members {
                guard let more = finiteValues(member, depth: depth + 1), values.count + more.count <= Self.maxValues else { return nil }
                values += more
            }
            return values
        } else {
            return nil
        }
        if schema["type"] != nil, let declared = try? JSONSchemaCompiler.declaredTypes(schema, at: "#") {
            let allowed = Self.split(declared)
            values = values.filter { allowed.contains(Self.type(of: $0)) }
        }
        return values
    }

    /// The types of the values the compiler writes: the declared ones, or those the keywords
    /// imply (`properties`: objects).
    private func writtenTypes(_ schema: SchemaJSON, depth: Int) -> Set<String> {
        types(schema, written: true, depth: depth)
    }

    /// The types of the values `schema` accepts: only `type`, `const`/`enum` and unions restrict them.
    private func acceptedTypes(_ schema: SchemaJSON, depth: Int) -> Set<String> {
        types(schema, written: false, depth: depth)
    }

    private func types(_ schema: SchemaJSON, written: Bool, depth: Int) -> Set<String> {
        guard step(depth) else { return Self.allTypes }
        let schema = resolved(schema)
        switch schema {
        case .bool(false): return []
        case .object: break
        default: return Self.allTypes
        }
        if let values = finiteValues(schema, depth: depth + 1) { return Set(values.map(Self.type(of:))) }
        if let members = union(schema) {
            return members.reduce(into: Set<String>()) { $0.formUnion(types($1, written: written, depth: depth + 1)) }
        }
        guard written || schema["type"] != nil, let declared = try? JSONSchemaCompiler.declaredTypes(schema, at: "#") else { return Self.allTypes }
        return Self.split(declared)
    }

    private static func split(_ types: [String]) -> Set<String> {
        Set(types.flatMap { $0 == "number" ? ["integer", "fraction"] : [$0] })
    }

    /// Whether `value` certainly fails `schema`.
    private func rejects(_ schema: SchemaJSON, _ value: SchemaJSON, depth: Int) -> Bool {
        guard step(depth) else { return false }
        let schema = resolved(schema)
        if schema == .bool(false) { return true }
        if let values = finiteValues(schema, depth: depth + 1) { return !values.contains { $0.sameValue(as: value) } }
        if let members = union(schema) { return members.allSatisfy { rejects($0, value, depth: depth + 1) } }
        if !acceptedTypes(schema, depth: depth + 1).contains(Self.type(of: value)) { return true }
        switch value {
        case .number(let n):
            let range = Self.interval(schema)
            if let low = range.low, n < low.value || (n == low.value && low.strict) { return true }
            if let high = range.high, n > high.value || (n == high.value && high.strict) { return true }
            return false
        case .object(let members):
            if validRequired(schema).contains(where: { name in !members.contains { $0.key == name } }) { return true }
            return members.contains { member in
                guard let propertySchema = property(member.key, of: schema) else { return true }
                return rejects(propertySchema, member.value, depth: depth + 1)
            }
        default:
            return false
        }
    }

    /// Whether every object the compiler writes for `x` fails `y`: `x` always writes a member
    /// that `y` forbids or whose values exclude `y`'s, or `y` requires a member `x` never writes.
    private func writtenObjectsFail(_ x: SchemaJSON, _ y: SchemaJSON, alsoRequired: String?, depth: Int) -> Bool {
        for name in writtenRequired(x, also: alsoRequired) {
            guard let inY = property(name, of: y) else { return true }
            if let inX = property(name, of: x), excludes(inX, inY, depth: depth + 1) { return true }
        }
        return validRequired(y).contains { !writes($0, x) }
    }

    /// The members every object a validator accepts for `schema` has.
    private func validRequired(_ schema: SchemaJSON) -> Set<String> {
        var names: Set<String> = []
        if case .array(let list)? = schema["required"] {
            for case .string(let name) in list { names.insert(name) }
        }
        return names
    }

    /// The members every object the compiler writes for `schema` has: the required ones, and
    /// `also` where the schema declares it.
    private func writtenRequired(_ schema: SchemaJSON, also: String?) -> Set<String> {
        var names = validRequired(schema)
        if let also, schema["properties"]?[also] != nil { names.insert(also) }
        return names
    }

    /// Whether the compiler may write a member `name` in objects for `schema`.
    private func writes(_ name: String, _ schema: SchemaJSON) -> Bool {
        if let declared = schema["properties"]?[name] { return declared != .bool(false) }
        if validRequired(schema).contains(name) { return true }
        switch schema["additionalProperties"] {
        case .bool(false)?: return false
        case .some: return true
        case nil:
            // Undeclared members only when nothing is declared.
            if case .object(let members)? = schema["properties"], !members.isEmpty { return false }
            return validRequired(schema).isEmpty
        }
    }

    /// The schema a member named `name` must satisfy (and is written under); nil when the
    /// object forbids it.
    private func property(_ name: String, of schema: SchemaJSON) -> SchemaJSON? {
        if let declared = schema["properties"]?[name] { return declared == .bool(false) ? nil : declared }
        let extra = schema["additionalProperties"] ?? .bool(true)
        return extra == .bool(false) ? nil : extra
    }

    typealias Bound = JSONSchemaCompiler.NumberBound

    private static func interval(_ schema: SchemaJSON) -> (low: Bound?, high: Bound?) {
        func number(_ key: String) -> Double? {
            if case .number(let n)? = schema[key] { return n }
            return nil
        }
        return JSONSchemaCompiler.tighterBounds(minimum: number("minimum"), exclusiveMinimum: number("exclusiveMinimum"),
                                                maximum: number("maximum"), exclusiveMaximum: number("exclusiveMaximum"))
    }

    private static func intervalsExclude(_ a: (low: Bound?, high: Bound?), _ b: (low: Bound?, high: Bound?)) -> Bool {
        func below(_ high: Bound?, _ low: Bound?) -> Bool {
            guard let high, let low else { return false }
            return high.value < low.value || (high.value == low.value && (high.strict || low.strict))
        }
        return below(a.high, b.low) || below(b.high, a.low)
    }

    static func type(of value: SchemaJSON) -> String {
        switch value {
        case .null: return "null"
        case .bool: return "boolean"
        case .number(let n): return n.rounded() == n ? "integer" : "fraction"
        case .string: return "string"
        case .array: return "array"
        case .object: return "object"
        }
    }
}

extension SchemaJSON {
    /// JSON equality: members in any order, 1 and 1.0 alike.
    func sameValue(as other: SchemaJSON) -> Bool {
        switch (self, other) {
        case let (.array(x), .array(y)):
            return x.count == y.count && zip(x, y).allSatisfy { $0.sameValue(as: $1) }
        case let (.object(x), .object(y)):
            return x.count == y.count && x.allSatisfy { member in
                y.contains { $0.key == member.key && $0.value.sameValue(as: member.value) }
            }
        default:
            return self == other
        }
    }
}

extension JSONSchemaCompiler {
    /// `oneOf` compiles to the union of its alternatives, which is exact only when no value can
    /// match two of them. When they exclude each other only once a property they all declare
    /// with distinct constants is written (a discriminator with a default, as Pydantic emits
    /// it), that property is made required (a narrowing) and its name returned. Otherwise the
    /// schema is refused: the output could match two alternatives, which `oneOf` forbids.
    func exclusiveAlternatives(_ list: [SchemaJSON], beside schema: SchemaJSON, at path: String) throws -> String? {
        let overlap = SchemaOverlap(root: root)
        func firstOverlap(alsoRequired: String?) -> (Int, Int)? {
            for i in list.indices {
                for j in list.indices where j > i && !overlap.excludes(list[i], list[j], alsoRequired: alsoRequired) { return (i, j) }
            }
            return nil
        }
        guard let pair = firstOverlap(alsoRequired: nil) else { return nil }
        var candidates: [String] = []
        if case .string(let name)? = schema["discriminator"]?["propertyName"] { candidates.append(name) }
        for member in list { candidates += overlap.declaredProperties(member) }
        var tried: Set<String> = []
        for name in candidates.prefix(64) where tried.insert(name).inserted {
            if firstOverlap(alsoRequired: name) == nil { return name }
        }
        if overlap.exhausted { throw GrammarError("'oneOf' at \(path) is too complex to prove that its alternatives exclude each other; use 'anyOf' if a value may match several") }
        throw GrammarError("'oneOf' at \(path): alternatives \(pair.0) and \(pair.1) may both match one value, but oneOf needs exactly one to match. It is supported when its alternatives exclude each other (different types, distinct const/enum values, disjoint ranges, or a property with distinct constants); use 'anyOf' if a value may match several")
    }

    /// `schema` with `name` required, when it is an object schema declaring that property.
    func requiring(_ name: String, in schema: SchemaJSON) -> SchemaJSON {
        let target = SchemaOverlap(root: root).resolved(schema)
        guard case .object(var members) = target, target["properties"]?[name] != nil,
              target["anyOf"] == nil, target["oneOf"] == nil else { return schema }
        var required: [SchemaJSON] = []
        if case .array(let list)? = target["required"] { required = list }
        guard !required.contains(.string(name)) else { return schema }
        members.removeAll { $0.key == "required" }
        members.append((key: "required", value: .array(required + [.string(name)])))
        return .object(members)
    }
}
