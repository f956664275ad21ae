/// Recursive-descent parser for `RegexCompiler`'s dialect; positions count Unicode scalars.
/// Where Python's `re` reads something leniently (`]` first in a class, `{` that does not
/// start a bound), this parser does the same, so Python's answers stay the oracle.
struct RegexParser {
    private let scalars: [Unicode.Scalar]
    private var index = 0

    init(_ pattern: String) { scalars = Array(pattern.unicodeScalars) }

    mutating func parse() throws -> PatternNode {
        let node = try parseAlternation()
        if index < scalars.count { throw error("unbalanced parenthesis", at: index) }  // a stray ')'
        return node
    }

    private var peek: Unicode.Scalar? { index < scalars.count ? scalars[index] : nil }

    private mutating func next() -> Unicode.Scalar? {
        guard index < scalars.count else { return nil }
        index += 1
        return scalars[index - 1]
    }

    private func error(_ problem: String, at position: Int) -> GrammarError {
        GrammarError("regex: \(problem) at position \(position)")
    }

    private mutating func parseAlternation() throws -> PatternNode {
        var options = [try parseSequence()]
        while peek == "|" {
            index += 1
            options.append(try parseSequence())
        }
        return options.count == 1 ? options[0] : .choice(options)
    }

    private mutating func parseSequence() throws -> PatternNode {
        var items: [PatternNode] = []
        var lastIsRepeated = false
        while let c = peek, c != "|", c != ")" {
            let start = index
            guard let (min, max) = try parseQuantifier() else {
                items.append(try parseAtom())
                lastIsRepeated = false
                continue
            }
            guard let last = items.last, !last.isAnchor else { throw error("nothing to repeat", at: start) }
            if lastIsRepeated { throw error("multiple repeat", at: start) }
            // A lazy quantifier matches the same strings; a possessive one would not.
            if peek == "?" {
                index += 1
            } else if peek == "+" {
                throw error("possessive quantifiers are not supported", at: index)
            }
            items[items.count - 1] = .repetition(last, min: min, max: max)
            lastIsRepeated = true
        }
        return items.count == 1 ? items[0] : .sequence(items)
    }

    /// `* + ? {n} {n,} {,m} {n,m}`, or nil (nothing consumed) when no quantifier starts here;
    /// like Python, a `{` that does not form a bound is a literal.
    private mutating func parseQuantifier() throws -> (Int, Int?)? {
        let start = index
        switch peek {
        case "*": index += 1; return (0, nil)
        case "+": index += 1; return (1, nil)
        case "?": index += 1; return (0, 1)
        case "{": break
        default: return nil
        }
        index += 1
        if peek == "}" { index = start; return nil }  // `{}` is a literal, as in Python
        let low = digits()
        var high = low
        if peek == "," {
            index += 1
            high = digits()
        }
        guard peek == "}" else {
            index = start
            return nil
        }
        index += 1
        func bound(_ text: String) throws -> Int {
            guard let value = Int(text), value <= RegexCompiler.maximumRepetition else {
                throw error("repetition bound \(text) is above \(RegexCompiler.maximumRepetition)", at: start)
            }
            return value
        }
        let min = low.isEmpty ? 0 : try bound(low)
        let max = high.isEmpty ? nil : try bound(high)
        if let max, max < min { throw error("bad repetition {\(min),\(max)}: min is greater than max", at: start) }
        return (min, max)
    }

    private mutating func digits() -> String {
        var text = ""
        while let c = peek, ("0"..."9").contains(c) { text.unicodeScalars.append(c); index += 1 }
        return text
    }

    private mutating func parseAtom() throws -> PatternNode {
        let start = index
        let c = next()!
        switch c {
        case "(": return try parseGroup(start)
        case "[": return try parseClass(start)
        case ".": return .characters(ScalarRanges([0...0x09, 0x0B...ScalarRanges.maximum]))
        case "^": return .anchor(start: true, position: start)
        case "$": return .anchor(start: false, position: start)
        case "\\":
            switch try parseEscape(start, inClass: false) {
            case .scalar(let value): return .characters(ScalarRanges([value...value]))
            case .set(let set): return .characters(set)
            case .anchor(let atStart): return .anchor(start: atStart, position: start)
            }
        default: return .literal(c)
        }
    }

    private mutating func parseGroup(_ start: Int) throws -> PatternNode {
        if peek == "?" {
            index += 1
            guard let kind = next() else { throw error("missing ), unterminated subpattern", at: start) }
            switch kind {
            case ":":
                break
            case "P" where peek == "<":
                index += 1
                try skipGroupName(start)
            case "P" where peek == "=":
                throw error("backreferences are not supported", at: start)
            case "<" where peek == "=" || peek == "!":
                throw error("lookbehind is not supported", at: start)
            case "<":
                try skipGroupName(start)
            case "=", "!":
                throw error("lookahead is not supported", at: start)
            case "#":  // a comment group: skipped whole
                while let c = peek, c != ")" { index += 1 }
                guard next() == ")" else { throw error("missing ), unterminated comment", at: start) }
                return .empty
            default:
                throw error("unsupported group syntax (inline flags, atomic groups, conditionals)", at: start)
            }
        }
        let inner = try parseAlternation()
        guard next() == ")" else { throw error("missing ), unterminated subpattern", at: start) }
        return inner
    }

    /// The `name>` of a named group: letters, digits and `_`, not starting with a digit.
    private mutating func skipGroupName(_ start: Int) throws {
        let nameStart = index
        while let c = peek, c != ">" {
            guard c == "_" || c.properties.isAlphabetic || (("0"..."9").contains(c) && index > nameStart) else {
                throw error("bad character in group name", at: index)
            }
            index += 1
        }
        guard peek == ">", index > nameStart else { throw error("missing group name", at: start) }
        index += 1
    }

    /// A class, after `[`: `]` right after `[` or `[^` is a member, `-` first or last is a
    /// member, and a range's ends must be single characters.
    private mutating func parseClass(_ start: Int) throws -> PatternNode {
        let negated = peek == "^"
        if negated { index += 1 }
        var set = ScalarRanges()
        var first = true
        while true {
            guard let c = next() else { throw error("unterminated character set", at: start) }
            if c == "]" && !first { break }
            first = false
            let itemStart = index - 1
            let low = c == "\\" ? try parseEscape(itemStart, inClass: true) : .scalar(c.value)
            guard peek == "-" else { low.add(to: &set); continue }
            index += 1
            guard let d = next() else { throw error("unterminated character set", at: start) }
            if d == "]" {  // `[a-]`: the dash is a member
                low.add(to: &set)
                set.insert(0x2D...0x2D)
                break
            }
            let high = d == "\\" ? try parseEscape(index - 1, inClass: true) : .scalar(d.value)
            guard case .scalar(let a) = low, case .scalar(let b) = high, a <= b else {
                throw error("bad character range \(String(scalars[itemStart..<index].map(Character.init)))", at: itemStart)
            }
            set.insert(a...b)
        }
        return .characters(negated ? set.inverted() : set)
    }

    enum Escape {
        case scalar(UInt32)
        case set(ScalarRanges)
        case anchor(start: Bool)

        func add(to set: inout ScalarRanges) {
            switch self {
            case .scalar(let value): set.insert(value...value)
            case .set(let other): set.formUnion(other)
            case .anchor: break
            }
        }
    }

    static let digitSet = ScalarRanges([0x30...0x39])
    static let wordSet = ScalarRanges([0x30...0x39, 0x41...0x5A, 0x5F...0x5F, 0x61...0x7A])
    static let spaceSet = ScalarRanges([0x09...0x0D, 0x20...0x20])

    /// After a backslash at `start`.
    private mutating func parseEscape(_ start: Int, inClass: Bool) throws -> Escape {
        guard let c = next() else { throw error("trailing backslash", at: start) }
        switch c {
        case "d": return .set(Self.digitSet)
        case "D": return .set(Self.digitSet.inverted())
        case "w": return .set(Self.wordSet)
        case "W": return .set(Self.wordSet.inverted())
        case "s": return .set(Self.spaceSet)
        case "S": return .set(Self.spaceSet.inverted())
        case "n": return .scalar(0x0A)
        case "t": return .scalar(0x09)
        case "r": return .scalar(0x0D)
        case "f": return .scalar(0x0C)
        case "v": return .scalar(0x0B)
        case "a": return .scalar(0x07)
        case "x": return .scalar(try hex(2, start))
        case "u": return .scalar(try hex(4, start))
        case "U": return .scalar(try hex(8, start))
        case "0":
            if let d = peek, ("0"..."7").contains(d) { throw error("octal escapes are not supported", at: start) }
            return .scalar(0)
        case "1"..."9":
            throw error(inClass ? "octal escapes are not supported" : "backreferences are not supported", at: start)
        case "b" where inClass:
            return .scalar(0x08)  // backspace, inside a class only
        case "b", "B":
            throw error("word boundaries (\\\(c)) are not supported", at: start)
        case "A" where !inClass:
            return .anchor(start: true)
        case "Z" where !inClass:
            return .anchor(start: false)
        default:
            // Any other letter or digit is a typo or a feature we lack; punctuation is itself.
            if c.isASCII && (c.properties.isAlphabetic || ("0"..."9").contains(c)) {
                throw error("unknown escape \\\(c)", at: start)
            }
            return .scalar(c.value)
        }
    }

    private mutating func hex(_ count: Int, _ start: Int) throws -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<count {
            guard let c = peek, c.isASCII, let digit = UInt32(String(c), radix: 16) else {
                throw error("incomplete escape \\\(scalars[start + 1]) (expected \(count) hex digits)", at: start)
            }
            value = value << 4 | digit
            index += 1
        }
        guard value <= ScalarRanges.maximum else { throw error("escape \\U beyond U+10FFFF", at: start) }
        return value
    }
}

private extension PatternNode {
    var isAnchor: Bool {
        if case .anchor = self { return true }
        return false
    }
}
