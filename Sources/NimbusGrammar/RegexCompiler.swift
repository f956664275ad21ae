/// Regular expressions as grammars: the output must match the whole pattern (a full match).
///
/// The dialect is Python's `re` (with `re.ASCII`), which agrees with ECMA-262 on everything
/// a constraint needs: literals (any Unicode), `.` (any character but `\n`), classes with
/// ranges and negation, `\d \w \s` and their negations (ASCII, as in JSON Schema), escapes,
/// groups (capturing, `(?:`, named), `|`, greedy and lazy quantifiers (the same language), and
/// `^`/`$` where nothing can stand before/after them. Refused, with the position: lookaround,
/// backreferences, word boundaries, inline flags, possessive quantifiers, bounds above 10000.
public enum RegexCompiler {
    /// The largest repetition bound accepted: `x{10000}` is ten thousand symbols already.
    public static let maximumRepetition = 10_000

    /// Symbols matching exactly the strings that fully match `pattern`.
    ///
    /// - Parameter jsonString: the characters are written as the content of a JSON string (no
    ///   quotes): `"` as `\"`, `\` as `\\`, U+0000-U+001F as `\b \f \n \r \t` or `\u00xx`,
    ///   exactly as `json.dumps(s, ensure_ascii=False)` writes them; everything else as itself.
    ///   The JSON Schema compiler uses this for `pattern`, between its own quotes.
    /// - Throws: `GrammarError` naming the problem and its position (in Unicode scalars).
    public static func compile(_ pattern: String, into builder: inout GrammarBuilder, jsonString: Bool = false) throws -> [Grammar.Symbol] {
        try NestingGuard.check(pattern, what: "the regular expression", quotes: false)
        var parser = RegexParser(pattern)
        let tree = try parser.parse()
        try checkAnchors(tree, atStart: true, atEnd: true)
        var lowering = PatternLowering(jsonString: jsonString)
        return lowering.lower(tree, in: &builder)
    }

    /// A grammar whose whole output fully matches `pattern` (see `compile`).
    public static func grammar(_ pattern: String, jsonString: Bool = false) throws -> Grammar {
        var builder = GrammarBuilder()
        let root = builder.declare("root")
        builder.define(root, [try compile(pattern, into: &builder, jsonString: jsonString)])
        return builder.grammar(root: root)
    }

    /// The match is always full, so `^` and `$` say nothing, but only where nothing can stand
    /// before `^` (or after `$`); elsewhere they would change the language, so they are refused.
    private static func checkAnchors(_ node: PatternNode, atStart: Bool, atEnd: Bool) throws {
        switch node {
        case .anchor(let start, let position):
            if start ? !atStart : !atEnd {
                throw GrammarError("regex: anchor \(start ? "^" : "$") is only supported at the \(start ? "start" : "end") of the pattern (position \(position))")
            }
        case .sequence(let items):
            for (i, item) in items.enumerated() {
                try checkAnchors(item,
                                 atStart: atStart && items[..<i].allSatisfy(matchesOnlyEmpty),
                                 atEnd: atEnd && items[(i + 1)...].allSatisfy(matchesOnlyEmpty))
            }
        case .choice(let options):
            for option in options { try checkAnchors(option, atStart: atStart, atEnd: atEnd) }
        case .repetition(let body, _, let max):
            // A second pass through the body would not be at the start any more.
            try checkAnchors(body, atStart: atStart && max == 1, atEnd: atEnd && max == 1)
        case .characters, .reference, .nonEmptyReference:
            break
        }
    }

    /// The node reads no character on any path (anchors, empty groups, `x{0}`).
    private static func matchesOnlyEmpty(_ node: PatternNode) -> Bool {
        switch node {
        case .anchor: return true
        case .characters, .reference, .nonEmptyReference: return false
        case .sequence(let items): return items.allSatisfy(matchesOnlyEmpty)
        case .choice(let options): return options.allSatisfy(matchesOnlyEmpty)
        case .repetition(let body, _, let max): return max == 0 || matchesOnlyEmpty(body)
        }
    }
}
