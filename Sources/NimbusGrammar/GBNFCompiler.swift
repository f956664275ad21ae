/// llama.cpp's GBNF grammars (grammars/README.md in llama.cpp): `name ::= alternatives` rules,
/// string literals, character classes (Unicode, negated with `^`), `.` (any character), rule
/// references, groups, `|`, `* + ?`, `{m}`, `{m,}`, `{m,n}`, and `#` comments. The output must
/// match rule `root`.
///
/// Newlines are whitespace anywhere (llama.cpp allows them only after `::=`, after `|` and
/// inside parentheses); a rule ends where the next `name ::=` begins, so every grammar
/// llama.cpp reads means the same here. Token references (`<[id]>`, `<think>`) are refused.
public enum GBNFCompiler {
    /// - Throws: `GrammarError` for a syntax error (with line:column), an undefined rule, a rule
    ///   defined twice, a missing `root`, or left recursion.
    public static func grammar(_ text: String) throws -> Grammar {
        try NestingGuard.check(text, what: "GBNF: the grammar", quotes: true)
        var parser = GBNFParser(text)
        let rules = try parser.parse()
        guard let root = rules.firstIndex(where: { $0.name == "root" }) else {
            throw GrammarError("GBNF: the grammar has no 'root' rule")
        }
        var builder = GrammarBuilder()
        var lowering = PatternLowering()
        let ids = lowering.lowerRules(rules, in: &builder)
        let grammar = builder.grammar(root: ids[root])
        do {
            _ = try FlatGrammar(grammar)  // left recursion is the grammar's fault: say so now
        } catch let error as GrammarError {
            throw GrammarError("GBNF: \(error.message)")
        }
        return grammar
    }

    /// The largest repetition bound accepted (llama.cpp stops at 2000).
    public static let maximumRepetition = 10_000
}

struct GBNFParser {
    private let scalars: [Unicode.Scalar]
    private var index = 0
    private var names: [String] = []
    private var ruleIndex: [String: Int] = [:]
    private var bodies: [PatternNode?] = []
    private var definitions: [Int?] = []  // where each rule is defined
    private var firstUses: [Int] = []  // where each rule is first named

    init(_ text: String) { scalars = Array(text.unicodeScalars) }

    mutating func parse() throws -> [(name: String, body: PatternNode)] {
        skipSpace()
        while index < scalars.count {
            let start = index
            let id = rule(named: try parseName())
            skipSpace(newlines: false)
            guard take("::=") else { throw error("expecting '::=' after rule name '\(names[id])'") }
            if let first = definitions[id] { throw error("rule '\(names[id])' is defined twice (first at \(location(first)))", at: start) }
            definitions[id] = start
            skipSpace()
            bodies[id] = try parseAlternatives()
            if index < scalars.count && !atRuleStart {
                throw error(scalars[index] == ")" ? "unbalanced ')'" : "unexpected '\(scalars[index])'")
            }
        }
        for (id, body) in bodies.enumerated() where body == nil {
            throw error("undefined rule '\(names[id])'", at: firstUses[id])
        }
        return names.indices.map { (names[$0], bodies[$0]!) }
    }

    // MARK: Rules and sequences

    private mutating func rule(named name: String) -> Int {
        if let id = ruleIndex[name] { return id }
        ruleIndex[name] = names.count
        names.append(name)
        bodies.append(nil)
        definitions.append(nil)
        firstUses.append(index - name.unicodeScalars.count)
        return names.count - 1
    }

    private mutating func parseAlternatives() throws -> PatternNode {
        var options = [try parseSequence()]
        while peek == "|" {
            index += 1
            skipSpace()
            options.append(try parseSequence())
        }
        return options.count == 1 ? options[0] : .choice(options)
    }

    private mutating func parseSequence() throws -> PatternNode {
        var items: [PatternNode] = []
        // A quantifier on a quantifier (`"a"++`) adds nothing but a level of nesting per mark.
        var quantified = false
        while let c = peek, c != "|", c != ")", !atRuleStart {
            let start = index
            let isQuantifier = "*+?{".unicodeScalars.contains(c)
            if isQuantifier && quantified { throw error("a quantifier cannot follow another quantifier") }
            quantified = isQuantifier
            switch c {
            case "\"": items.append(try parseLiteral())
            case "[": items.append(try parseClass())
            case ".":
                index += 1
                items.append(.characters(ScalarRanges([0...ScalarRanges.maximum])))
            case "(":
                index += 1
                skipSpace()
                let inner = try parseAlternatives()
                guard take(")") else { throw error("unclosed '('", at: start) }
                items.append(inner)
            case "*", "+", "?", "{":
                guard let last = items.popLast() else { throw error("expecting an item before '\(c)'") }
                let (min, max) = try parseQuantifier()
                items.append(.repetition(last, min: min, max: max))
            case "<", "!":
                throw error("token references (<...>) are not supported")
            default:
                guard Self.isNameCharacter(c) else { throw error("unexpected '\(c)'") }
                items.append(.reference(rule(named: try parseName())))
            }
            skipSpace()
        }
        return items.count == 1 ? items[0] : .sequence(items)
    }

    private mutating func parseQuantifier() throws -> (Int, Int?) {
        switch next() {
        case "*": return (0, nil)
        case "+": return (1, nil)
        case "?": return (0, 1)
        default: break  // "{"
        }
        let start = index - 1
        skipSpace()
        let min = try parseBound()
        skipSpace()
        var max: Int? = min
        if take(",") {
            skipSpace()
            max = peek.map { ("0"..."9").contains($0) } == true ? try parseBound() : nil
            skipSpace()
        }
        guard take("}") else { throw error("expecting '}'") }
        if let max, max < min { throw error("bad repetition {\(min),\(max)}: min is greater than max", at: start) }
        return (min, max)
    }

    private mutating func parseBound() throws -> Int {
        var digits = ""
        while let c = peek, ("0"..."9").contains(c) { digits.unicodeScalars.append(c); index += 1 }
        guard !digits.isEmpty else { throw error("expecting a number") }
        guard let value = Int(digits), value <= GBNFCompiler.maximumRepetition else {
            throw error("repetition bound \(digits) is above \(GBNFCompiler.maximumRepetition)", at: index - digits.count)
        }
        return value
    }

    // MARK: Terminals

    private mutating func parseLiteral() throws -> PatternNode {
        let start = index
        index += 1
        var items: [PatternNode] = []
        while peek != "\"" {
            guard peek != nil else { throw error("unterminated string literal", at: start) }
            let value = try parseCharacter()
            items.append(.characters(ScalarRanges([value...value])))
        }
        index += 1
        return items.count == 1 ? items[0] : .sequence(items)
    }

    private mutating func parseClass() throws -> PatternNode {
        let start = index
        index += 1
        let negated = take("^")
        var set = ScalarRanges()
        while peek != "]" {
            guard peek != nil else { throw error("unterminated character class", at: start) }
            let itemStart = index
            let low = try parseCharacter()
            var high = low
            if peek == "-", index + 1 < scalars.count, scalars[index + 1] != "]" {
                index += 1
                high = try parseCharacter()
                guard low <= high else { throw error("bad character range (end before start)", at: itemStart) }
            }
            set.insert(low...high)
        }
        index += 1
        return .characters(negated ? set.inverted() : set)
    }

    /// One character of a literal or class: itself, or an escape.
    private mutating func parseCharacter() throws -> UInt32 {
        let start = index
        guard let c = next() else { throw error("unexpected end of input") }
        guard c == "\\" else { return c.value }
        switch next() {
        case "x": return try hex(2, start)
        case "u": return try hex(4, start)
        case "U": return try hex(8, start)
        case "t": return 0x09
        case "r": return 0x0D
        case "n": return 0x0A
        case let e? where "\\\"[]-".unicodeScalars.contains(e): return e.value
        case let e?: throw error("unknown escape '\\\(e)'", at: start)
        case nil: throw error("unexpected end of input")
        }
    }

    private mutating func hex(_ count: Int, _ start: Int) throws -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<count {
            guard let c = peek, c.isASCII, let digit = UInt32(String(c), radix: 16) else {
                throw error("expecting \(count) hex digits", at: start)
            }
            value = value << 4 | digit
            index += 1
        }
        guard value <= ScalarRanges.maximum else { throw error("escape beyond U+10FFFF", at: start) }
        return value
    }

    // MARK: Scanning

    private var peek: Unicode.Scalar? { index < scalars.count ? scalars[index] : nil }

    private mutating func next() -> Unicode.Scalar? {
        guard index < scalars.count else { return nil }
        index += 1
        return scalars[index - 1]
    }

    private mutating func take(_ text: String) -> Bool {
        let expected = Array(text.unicodeScalars)
        guard index + expected.count <= scalars.count, Array(scalars[index..<(index + expected.count)]) == expected else { return false }
        index += expected.count
        return true
    }

    private static func isNameCharacter(_ c: Unicode.Scalar) -> Bool {
        c.isASCII && (c.properties.isAlphabetic || ("0"..."9").contains(c) || c == "-" || c == "_")
    }

    private mutating func parseName() throws -> String {
        var name = ""
        while let c = peek, Self.isNameCharacter(c) { name.unicodeScalars.append(c); index += 1 }
        guard !name.isEmpty else { throw error(peek.map { "expecting a rule name, found '\($0)'" } ?? "expecting a rule name") }
        return name
    }

    /// At `name ::=`: the current rule ends here.
    private var atRuleStart: Bool {
        var i = index
        while i < scalars.count, Self.isNameCharacter(scalars[i]) { i += 1 }
        guard i > index else { return false }
        while i < scalars.count, scalars[i] == " " || scalars[i] == "\t" { i += 1 }
        return i + 3 <= scalars.count && scalars[i] == ":" && scalars[i + 1] == ":" && scalars[i + 2] == "="
    }

    /// Spaces, tabs, comments, and (unless told otherwise) newlines.
    private mutating func skipSpace(newlines: Bool = true) {
        while let c = peek {
            if c == " " || c == "\t" || (newlines && (c == "\n" || c == "\r")) {
                index += 1
            } else if c == "#" {
                while let d = peek, d != "\n", d != "\r" { index += 1 }
            } else {
                return
            }
        }
    }

    private func location(_ position: Int) -> String {
        var line = 1
        var column = 1
        for c in scalars[..<min(position, scalars.count)] {
            if c == "\n" { line += 1; column = 1 } else { column += 1 }
        }
        return "\(line):\(column)"
    }

    private func error(_ problem: String, at position: Int? = nil) -> GrammarError {
        GrammarError("GBNF: \(problem) at \(location(position ?? index))")
    }
}
