/// An output assembled from literal text, JSON Schema values and free text: the shape of a tool
/// call (`<tool_call>{"name": "f", "arguments": SCHEMA}</tool_call>`), a reasoning block before a
/// constrained answer, or a choice between such shapes. Compiled to one grammar.
public indirect enum OutputShape: Sendable, Hashable {
    case literal(String)
    /// A JSON value valid under the schema (its `$ref`s resolve within it).
    case schema(SchemaJSON)
    /// Any JSON object (`response_format: json_object`).
    case anyObject
    /// Any text in which `terminator` does not occur (what comes before a closing tag).
    case textExcluding(String)
    /// Optional whitespace (at most a few characters), as between JSON tokens.
    case whitespace
    case sequence([OutputShape])
    case oneOf([OutputShape])
    /// `body`, `minimum` to `maximum` times (nil: unbounded), `separator` between them.
    case repeated(OutputShape, separator: String, minimum: Int, maximum: Int?)
    /// A grammar compiled on its own (see `embedded(_:)`).
    case grammar(EmbeddedGrammar)

    /// The grammar of this shape.
    public func grammar() throws -> Grammar {
        var compiler = JSONSchemaCompiler(root: .bool(true))
        let top = try compiler.compile(shape: self)
        return compiler.finish(top)
    }

    /// A stable text naming the shape (a cache key for its compiled grammar).
    public var key: String {
        switch self {
        case .literal(let s): return "lit" + SchemaJSON.quoted(s)
        case .schema(let s): return "schema" + s.text
        case .anyObject: return "object"
        case .textExcluding(let s): return "text-excluding" + SchemaJSON.quoted(s)
        case .whitespace: return "ws"
        case .sequence(let parts): return "seq(" + parts.map(\.key).joined(separator: ",") + ")"
        case .oneOf(let parts): return "oneOf(" + parts.map(\.key).joined(separator: ",") + ")"
        case .repeated(let body, let separator, let minimum, let maximum):
            return "rep(\(body.key),\(SchemaJSON.quoted(separator)),\(minimum),\(maximum ?? -1))"
        case .grammar(let embedded): return "grammar" + SchemaJSON.quoted(embedded.key)
        }
    }
}

extension JSONSchemaCompiler {
    mutating func compile(shape: OutputShape) throws -> Grammar.Symbol {
        switch shape {
        case .literal(let text):
            return parts.builder.rule("literal", [GrammarBuilder.literal(text)])
        case .schema(let schema):
            // Each schema's references resolve within that schema.
            let saved = (root, references)
            root = schema
            references = [:]
            defer { (root, references) = saved }
            return try compile(schema, at: "#")
        case .anyObject:
            return parts.anyObject()
        case .textExcluding(let terminator):
            return try textExcluding(terminator)
        case .whitespace:
            return parts.ws
        case .sequence(let items):
            var symbols: [Grammar.Symbol] = []
            for item in items { symbols.append(try compile(shape: item)) }
            return parts.builder.rule("sequence", [symbols])
        case .oneOf(let items):
            var alternatives: [[Grammar.Symbol]] = []
            for item in items { alternatives.append([try compile(shape: item)]) }
            return parts.builder.rule("one-of", alternatives)
        case .grammar(let embedded):
            // Copy the rules, renumbered past the ones already built.
            let offset = parts.builder.rules.count
            for rule in embedded.grammar.rules { _ = parts.builder.declare(rule.name) }
            for (i, rule) in embedded.grammar.rules.enumerated() {
                parts.builder.define(offset + i, rule.alternatives.map { $0.map {
                    if case .rule(let r) = $0 { return .rule(r + offset) } else { return $0 }
                } })
            }
            return .rule(offset + embedded.grammar.root)
        case .repeated(let body, let separator, let minimum, let maximum):
            let item = try compile(shape: body)
            let rest = parts.builder.repeated(GrammarBuilder.literal(separator) + [item], minimum: max(0, minimum - 1),
                                              maximum: maximum.map { $0 - 1 }, name: "repeat")
            let nonEmpty = [item] + rest
            return minimum > 0 ? parts.builder.rule("repeat", [nonEmpty]) : parts.builder.optional(nonEmpty, name: "repeat")
        }
    }

    /// Text without `terminator`: a right-recursive rule per prefix of the terminator matched so
    /// far (the string-search automaton), ending anywhere the terminator is not complete.
    private mutating func textExcluding(_ terminator: String) throws -> Grammar.Symbol {
        let pattern = Array(terminator.utf8)
        guard !pattern.isEmpty else { throw GrammarError("the terminator must not be empty") }
        // Failure links (KMP): the longest proper prefix that is also a suffix.
        var fail = [Int](repeating: 0, count: pattern.count)
        var k = 0
        for i in 1..<pattern.count {
            while k > 0 && pattern[i] != pattern[k] { k = fail[k - 1] }
            if pattern[i] == pattern[k] { k += 1 }
            fail[i] = k
        }
        func next(_ state: Int, _ byte: UInt8) -> Int {
            var s = state
            while s > 0 && pattern[s] != byte { s = fail[s - 1] }
            return pattern[s] == byte ? s + 1 : 0
        }
        let states = (0..<pattern.count).map { _ in parts.builder.declare("text") }
        for state in 0..<pattern.count {
            var byTarget: [Int: ByteSet] = [:]
            for byte in 0...255 {
                let target = next(state, UInt8(byte))
                guard target < pattern.count else { continue }  // that byte would complete the terminator
                byTarget[target, default: ByteSet()].insert(UInt8(byte))
            }
            var alternatives: [[Grammar.Symbol]] = [[]]
            for (target, bytes) in byTarget.sorted(by: { $0.key < $1.key }) { alternatives.append([.bytes(bytes), .rule(states[target])]) }
            parts.builder.define(states[state], alternatives)
        }
        return .rule(states[0])
    }
}

extension OutputShape {
    /// A grammar compiled elsewhere (regex, choice, GBNF), used as a part of a larger shape;
    /// `key` names it uniquely (its source text), for the shape's `key`.
    public static func embedded(_ grammar: Grammar, key: String) -> OutputShape { .grammar(EmbeddedGrammar(grammar, key: key)) }
}

/// A whole grammar inside a shape (boxed so the enum stays small).
public struct EmbeddedGrammar: Sendable, Hashable {
    public let grammar: Grammar
    public let key: String
    public init(_ grammar: Grammar, key: String) {
        self.grammar = grammar
        self.key = key
    }
}
