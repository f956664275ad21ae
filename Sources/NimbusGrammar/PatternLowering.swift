/// The tree regular expressions and GBNF parse into, before it becomes grammar rules.
indirect enum PatternNode: Sendable {
    /// One character from the set.
    case characters(ScalarRanges)
    case sequence([PatternNode])
    /// Any one of the alternatives; no alternatives matches nothing.
    case choice([PatternNode])
    case repetition(PatternNode, min: Int, max: Int?)
    /// A named rule of the pattern set (GBNF), by index.
    case reference(Int)
    /// That rule without the empty string: made by the lowering, never by a parser.
    case nonEmptyReference(Int)
    /// A regex `^` or `$`: matches the empty string; `RegexCompiler` checks where it stands.
    case anchor(start: Bool, position: Int)

    static let empty = PatternNode.sequence([])
    static let nothing = PatternNode.choice([])

    static func literal(_ scalar: Unicode.Scalar) -> PatternNode { .characters(ScalarRanges(scalar)) }

    var isNothing: Bool {
        if case .choice(let options) = self { return options.isEmpty }
        return false
    }
}

/// Turns pattern trees into `GrammarBuilder` rules.
///
/// The automaton refuses a rule that can reach itself without reading a byte, so a repetition
/// whose body can match the empty string (`(a*)*`, `(a?)+`, `ws*` with a nullable `ws`) is
/// rewritten to repeat the body without its empty string: L{m,n} = L'{0,n} when L holds "",
/// where L' = L - {""}. The regular language stays the same and the loop always reads a byte.
struct PatternLowering {
    /// Characters are written as JSON string content: `"`, `\` and U+0000-U+001F escaped.
    let jsonString: Bool
    private var bodies: [PatternNode] = []
    private var ruleIDs: [Int] = []
    private var nullableRules: [Bool] = []
    private var nonEmptyRuleIDs: [Int: Int] = [:]

    init(jsonString: Bool = false) { self.jsonString = jsonString }

    /// Declares one grammar rule per named rule, defines them, and returns their rule ids.
    mutating func lowerRules(_ rules: [(name: String, body: PatternNode)], in builder: inout GrammarBuilder) -> [Int] {
        bodies = rules.map(\.body)
        ruleIDs = rules.map { builder.declare($0.name) }
        nullableRules = [Bool](repeating: false, count: rules.count)
        var changed = true
        while changed {  // least fixpoint: a rule is nullable once some alternative is
            changed = false
            for (index, body) in bodies.enumerated() where !nullableRules[index] && isNullable(body) {
                nullableRules[index] = true
                changed = true
            }
        }
        for (index, body) in bodies.enumerated() { builder.define(ruleIDs[index], alternatives(body, in: &builder)) }
        return ruleIDs
    }

    /// The symbols of one sequence matching `node`.
    mutating func lower(_ node: PatternNode, in builder: inout GrammarBuilder) -> [Grammar.Symbol] {
        switch node {
        case .characters(let set):
            return lowerCharacters(set, in: &builder)
        case .sequence(let items):
            return items.flatMap { lower($0, in: &builder) }
        case .choice(let options):
            if options.count == 1 { return lower(options[0], in: &builder) }
            return [builder.rule("alt", alternatives(node, in: &builder))]
        case .repetition(let body, let min, let max):
            return lowerRepetition(body, min: min, max: max, in: &builder)
        case .reference(let index):
            return [.rule(ruleIDs[index])]
        case .nonEmptyReference(let index):
            return [.rule(nonEmptyRule(index, in: &builder))]
        case .anchor:
            return []
        }
    }

    /// The alternatives of a rule whose body is `node`; never an empty list, so every rule is
    /// well formed (matching nothing is a set of no bytes).
    private mutating func alternatives(_ node: PatternNode, in builder: inout GrammarBuilder) -> [[Grammar.Symbol]] {
        guard case .choice(let options) = node else { return [lower(node, in: &builder)] }
        if options.isEmpty { return [[.bytes(ByteSet())]] }
        return options.map { lower($0, in: &builder) }
    }

    private mutating func lowerRepetition(_ body: PatternNode, min: Int, max: Int?, in builder: inout GrammarBuilder) -> [Grammar.Symbol] {
        if max == 0 { return [] }
        var body = body
        var min = min
        if isNullable(body) {
            body = nonEmpty(body)
            min = 0
        }
        var unit = lower(body, in: &builder)
        // One symbol per repetition keeps `x{1000}` at a thousand symbols, whatever x is.
        if unit.count != 1 { unit = [builder.rule("group", [unit])] }
        return builder.repeated(unit, minimum: min, maximum: max)
    }

    private mutating func nonEmptyRule(_ index: Int, in builder: inout GrammarBuilder) -> Int {
        if let known = nonEmptyRuleIDs[index] { return known }
        // Declared before it is defined: the rule may refer to itself.
        let id = builder.declare(builder.rules[ruleIDs[index]].name + "-nonempty")
        nonEmptyRuleIDs[index] = id
        builder.define(id, alternatives(nonEmpty(bodies[index]), in: &builder))
        return id
    }

    func isNullable(_ node: PatternNode) -> Bool {
        switch node {
        case .characters, .nonEmptyReference: return false
        case .sequence(let items): return items.allSatisfy(isNullable)
        case .choice(let options): return options.contains(where: isNullable)
        case .repetition(let body, let min, _): return min == 0 || isNullable(body)
        case .reference(let index): return nullableRules[index]
        case .anchor: return true
        }
    }

    /// A node matching what `node` matches except the empty string.
    func nonEmpty(_ node: PatternNode) -> PatternNode {
        guard isNullable(node) else { return node }
        switch node {
        case .characters, .nonEmptyReference:
            return node
        case .anchor:
            return .nothing
        case .reference(let index):
            return .nonEmptyReference(index)
        case .choice(let options):
            return .choice(options.map(nonEmpty).filter { !$0.isNothing })
        case .sequence(let items):
            // Every item can be empty: some item i is the first to read a character.
            var options: [PatternNode] = []
            for i in items.indices {
                let first = nonEmpty(items[i])
                if !first.isNothing { options.append(.sequence([first] + items[(i + 1)...])) }
            }
            return .choice(options)
        case .repetition(let body, _, let max):
            if max == 0 { return .nothing }
            let part = nonEmpty(body)
            return part.isNothing ? .nothing : .repetition(part, min: 1, max: max)
        }
    }

    // MARK: Characters

    private mutating func lowerCharacters(_ set: ScalarRanges, in builder: inout GrammarBuilder) -> [Grammar.Symbol] {
        guard jsonString else { return plainCharacters(set, in: &builder) }
        let escaped = set.ranges.flatMap { $0.members(within: 0...0x5C) }.filter(Self.needsJSONEscape)
        if escaped.isEmpty { return plainCharacters(set, in: &builder) }
        // Plain part: the set minus the escaped ones, as (set' ∪ escaped)'.
        var complement = set.inverted()
        for value in escaped { complement.insert(value...value) }
        let plain = complement.inverted()
        var options: [[Grammar.Symbol]] = plain.isEmpty ? [] : [plainCharacters(plain, in: &builder)]
        var unicodeEscapes: [UInt32: ByteSet] = [:]  // high nibble -> low nibbles, for \u00XX
        for value in escaped {
            if let short = Self.shortJSONEscapes[value] {
                options.append(GrammarBuilder.literal(short))
            } else {
                unicodeEscapes[value >> 4, default: ByteSet()].insert(Self.hexDigit(value & 0xF))
            }
        }
        for (high, lows) in unicodeEscapes.sorted(by: { $0.key < $1.key }) {
            options.append(GrammarBuilder.literal("\\u00") + [.bytes(ByteSet(Self.hexDigit(high))), .bytes(lows)])
        }
        return options.count == 1 ? options[0] : [builder.rule("json-char", options)]
    }

    /// One character: its bytes when the set is a single scalar, else a character class.
    private func plainCharacters(_ set: ScalarRanges, in builder: inout GrammarBuilder) -> [Grammar.Symbol] {
        if set.ranges.count == 1, set.ranges[0].lowerBound == set.ranges[0].upperBound,
           let scalar = Unicode.Scalar(set.ranges[0].lowerBound) {
            return GrammarBuilder.literal(String(Character(scalar)))
        }
        return [builder.characters(set)]
    }

    private static func needsJSONEscape(_ value: UInt32) -> Bool { value < 0x20 || value == 0x22 || value == 0x5C }

    /// The escapes JSON has short forms for; Python's json.dumps writes these, and `\u00xx`
    /// (lowercase hex) for the other control characters.
    private static let shortJSONEscapes: [UInt32: String] = [
        0x22: "\\\"", 0x5C: "\\\\", 0x08: "\\b", 0x0C: "\\f", 0x0A: "\\n", 0x0D: "\\r", 0x09: "\\t",
    ]

    private static func hexDigit(_ value: UInt32) -> UInt8 { Array("0123456789abcdef".utf8)[Int(value)] }
}

private extension ClosedRange<UInt32> {
    /// The members of the range that also lie in `bounds` (empty if none).
    func members(within bounds: ClosedRange<UInt32>) -> [UInt32] {
        overlaps(bounds) ? Array(clamped(to: bounds)) : []
    }
}
