/// Builds a `Grammar` rule by rule. Compilers (JSON Schema, regex, GBNF) describe their language
/// with these helpers; repetition and character classes become plain rules here, once.
public struct GrammarBuilder {
    public typealias Symbol = Grammar.Symbol
    public private(set) var rules: [Grammar.Rule] = []
    private var characterRules: [ScalarRanges: Symbol] = [:]
    private var sequenceRules: [[[Symbol]]: Int] = [:]

    public init() {}

    /// A new rule without alternatives yet (for recursion: reference it, define it later).
    public mutating func declare(_ name: String) -> Int {
        rules.append(Grammar.Rule(name: name, alternatives: []))
        return rules.count - 1
    }

    public mutating func define(_ rule: Int, _ alternatives: [[Symbol]]) {
        rules[rule].alternatives = alternatives
        symbolCount += alternatives.reduce(alternatives.count) { $0 + $1.count }
    }

    /// Symbols defined so far (compilers stop past a budget: memory follows this number).
    public private(set) var symbolCount = 0

    /// A rule with these alternatives; identical alternative lists share one rule.
    public mutating func rule(_ name: String, _ alternatives: [[Symbol]]) -> Symbol {
        if let known = sequenceRules[alternatives] { return .rule(known) }
        let id = declare(name)
        define(id, alternatives)
        sequenceRules[alternatives] = id
        return .rule(id)
    }

    public func grammar(root: Int) -> Grammar { Grammar(rules: rules, root: root) }

    /// The UTF-8 bytes of `text`, one symbol per byte.
    public static func literal(_ text: String) -> [Symbol] {
        text.utf8.map { .bytes(ByteSet($0)) }
    }

    /// One character from `set`, as UTF-8: a byte set when every member is ASCII, else a rule
    /// whose alternatives are the byte sequences of the set's characters.
    public mutating func characters(_ set: ScalarRanges) -> Symbol {
        if let known = characterRules[set] { return known }
        let sequences = UTF8Ranges.sequences(for: set)
        let symbol: Symbol
        if sequences.allSatisfy({ $0.count == 1 }) {
            var bytes = ByteSet()
            for sequence in sequences { bytes.formUnion(sequence[0]) }
            symbol = .bytes(bytes)
        } else {
            symbol = rule("char", sequences.map { $0.map { .bytes($0) } })
        }
        characterRules[set] = symbol
        return symbol
    }

    /// `body` repeated between `minimum` and `maximum` times (nil: unbounded).
    /// `body` must not match the empty string (that would loop); compilers check it.
    public mutating func repeated(_ body: [Symbol], minimum: Int, maximum: Int?, name: String = "repeat") -> [Symbol] {
        var sequence: [Symbol] = []
        for _ in 0..<minimum { sequence += body }
        if let maximum {
            guard maximum > minimum else { return sequence }
            // r(k) ::= "" | body r(k-1): at most k more.
            var tail = rule(name, [[], body])
            for _ in 1..<(maximum - minimum) { tail = rule(name, [[], body + [tail]]) }
            return sequence + [tail]
        }
        // star ::= "" | body star
        let star = declare(name)
        define(star, [[], body + [.rule(star)]])
        return sequence + [.rule(star)]
    }

    public mutating func optional(_ body: [Symbol], name: String = "optional") -> Symbol {
        rule(name, [[], body])
    }
}

/// A set of Unicode scalar values as sorted, disjoint, non-adjacent closed ranges.
public struct ScalarRanges: Sendable, Hashable {
    public private(set) var ranges: [ClosedRange<UInt32>]

    public static let maximum: UInt32 = 0x10FFFF

    public init(_ ranges: [ClosedRange<UInt32>] = []) {
        self.ranges = []
        for range in ranges { insert(range) }
    }

    public init(_ scalar: Unicode.Scalar) { self.init([scalar.value...scalar.value]) }

    public mutating func insert(_ range: ClosedRange<UInt32>) {
        var merged = range
        var kept: [ClosedRange<UInt32>] = []
        for r in ranges {
            if r.upperBound &+ 1 < merged.lowerBound || merged.upperBound &+ 1 < r.lowerBound {
                kept.append(r)
            } else {
                merged = min(r.lowerBound, merged.lowerBound)...max(r.upperBound, merged.upperBound)
            }
        }
        kept.append(merged)
        ranges = kept.sorted { $0.lowerBound < $1.lowerBound }
    }

    public mutating func formUnion(_ other: ScalarRanges) {
        for range in other.ranges { insert(range) }
    }

    /// Every scalar not in the set (surrogates are never scalars, so never included).
    public func inverted() -> ScalarRanges {
        var result: [ClosedRange<UInt32>] = []
        var next: UInt32 = 0
        for r in ranges {
            if r.lowerBound > next { result.append(next...(r.lowerBound - 1)) }
            next = r.upperBound &+ 1
            if r.upperBound >= Self.maximum { next = Self.maximum + 1 }
        }
        if next <= Self.maximum { result.append(next...Self.maximum) }
        return ScalarRanges(result)
    }

    public func contains(_ value: UInt32) -> Bool { ranges.contains { $0.contains(value) } }
    public var isEmpty: Bool { ranges.isEmpty }
}
