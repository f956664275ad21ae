import Foundation
import Testing
@testable import NimbusGrammar

/// Python's `re.fullmatch` answers, written by scripts/fixtures/gen_regex_fixtures.py.
struct RegexFixture: Decodable, Sendable {
    struct Candidate: Decodable, Sendable {
        let text: String
        let match: Bool
    }

    struct Case: Decodable, Sendable, CustomTestStringConvertible {
        let pattern: String
        let candidates: [Candidate]
        /// Texts as JSON string content, and whether the JSON-string grammar takes them.
        let json: [Candidate]
        var testDescription: String { pattern }
    }

    let cases: [Case]
    let invalid: [String]

    static let shared: RegexFixture? = try? load()

    static func load() throws -> RegexFixture {
        guard let url = Bundle.module.url(forResource: "regex_cases", withExtension: "json", subdirectory: "Fixtures") else {
            throw GrammarError("fixture regex_cases.json missing from the test bundle")
        }
        return try JSONDecoder().decode(RegexFixture.self, from: Data(contentsOf: url))
    }
}

struct RegexCompilerTests {
    private func compiled(_ pattern: String, jsonString: Bool = false) throws -> GrammarAutomaton {
        try GrammarAutomaton(RegexCompiler.grammar(pattern, jsonString: jsonString))
    }

    @Test func fixtureIsPresent() throws {
        let fixture = try RegexFixture.load()
        #expect(fixture.cases.count >= 40)
        #expect(fixture.cases.allSatisfy { $0.candidates.contains(where: \.match) && $0.candidates.contains { !$0.match } })
    }

    @Test(arguments: RegexFixture.shared?.cases ?? [])
    func agreesWithPython(_ fixture: RegexFixture.Case) throws {
        let automaton = try compiled(fixture.pattern)
        for candidate in fixture.candidates {
            #expect(GrammarMatcher.matches(candidate.text, automaton: automaton) == candidate.match,
                    "\(fixture.pattern) on \(candidate.text.debugDescription)")
        }
    }

    /// Matching strings are taken in their JSON-escaped form; raw quotes, backslashes and
    /// control characters are not (unless the raw text is itself the escape of a match).
    @Test(arguments: RegexFixture.shared?.cases ?? [])
    func jsonStringModeAgreesWithPython(_ fixture: RegexFixture.Case) throws {
        let automaton = try compiled(fixture.pattern, jsonString: true)
        for candidate in fixture.json {
            #expect(GrammarMatcher.matches(candidate.text, automaton: automaton) == candidate.match,
                    "\(fixture.pattern) on \(candidate.text.debugDescription)")
        }
    }

    @Test(arguments: RegexFixture.shared?.invalid ?? [])
    func refusesWhatPythonRefuses(_ pattern: String) {
        #expect(throws: GrammarError.self, "\(pattern)") { try RegexCompiler.grammar(pattern) }
    }

    /// Valid in Python, but refused here: each would change the language or needs state a
    /// grammar lacks. The message names the problem and where it is.
    @Test(arguments: [
        ("(?=a)a", "lookahead", 0), ("a(?!b)", "lookahead", 1), ("(?<=a)b", "lookbehind", 0), ("(?<!a)b", "lookbehind", 0),
        ("(a)\\1", "backreferences", 3), ("(?P<x>a)(?P=x)", "backreferences", 8),
        ("a\\k", "unknown escape \\k", 1), ("\\p{L}", "unknown escape \\p", 0), ("[\\q]", "unknown escape \\q", 1),
        ("\\bword", "word boundaries", 0), ("(?i)abc", "unsupported group", 0), ("(?>a)", "unsupported group", 0),
        ("a*+", "possessive", 2), ("a{10001}", "above 10000", 1), ("a{0,99999}", "above 10000", 1), ("a{5,2}", "min is greater", 1),
        ("a^b", "anchor ^", 1), ("a$b", "anchor $", 1), ("a?^b", "anchor ^", 2), ("(^a)*", "anchor ^", 1), ("a\\Ab", "anchor ^", 1),
        ("(ab", "missing )", 0), ("ab)", "unbalanced parenthesis", 2), ("[z-a]", "bad character range z-a", 1),
        ("x|*", "nothing to repeat", 2), ("a**", "multiple repeat", 2), ("[abc", "unterminated character set", 0), ("ab\\", "trailing backslash", 2),
        ("\\x4", "incomplete escape", 0), ("\\012", "octal", 0),
    ])
    func refusesWithMessage(_ pattern: String, _ problem: String, _ position: Int) {
        let error = #expect(throws: GrammarError.self, "\(pattern)") { try RegexCompiler.grammar(pattern) }
        let message = error?.message ?? ""
        #expect(message.contains(problem), "\(pattern): \(message)")
        #expect(message.hasSuffix("at position \(position)") || message.contains("(position \(position))"), "\(pattern): \(message)")
    }

    /// Repetitions whose body can be empty are rewritten, so the automaton (which refuses
    /// loops that read nothing) accepts them; the language is checked against listed strings.
    @Test func nullableRepetitionsCompile() throws {
        let cases: [(String, [String], [String])] = [
            ("(a*)*", ["", "a", "aaa"], ["b"]),
            ("(a?)+", ["", "a", "aa"], ["b"]),
            ("(a?b?)*c", ["c", "abc", "bac", "aabbc"], ["", "cc"]),
            ("(a{0})*x", ["x"], ["ax"]),
            ("()*x", ["x"], ["ax"]),
            ("(|a)*x", ["x", "ax", "aax"], ["xa"]),
            ("(a*)+b{2,3}", ["bb", "abbb", "aaabb"], ["b", "abbbb"]),
            ("((a?)*){3}", ["", "aaaa"], ["b"]),
            ("(a?){2,3}", ["", "a", "aa", "aaa"], ["aaaa"]),
            ("(a|b?)+", ["", "a", "bab"], ["c"]),
        ]
        for (pattern, accepted, refused) in cases {
            let automaton = try compiled(pattern)
            for text in accepted { #expect(GrammarMatcher.matches(text, automaton: automaton), "\(pattern) on \(text)") }
            for text in refused { #expect(!GrammarMatcher.matches(text, automaton: automaton), "\(pattern) on \(text)") }
        }
    }

    /// Bounds up to the limit compile. (Matching a long bounded tail is quadratic the first
    /// time: `GrammarBuilder.repeated` nests one rule per optional repetition.)
    @Test func boundsUpToTheLimit() throws {
        let widest = try compiled("a{2,10000}")
        #expect(GrammarMatcher.matches("aaa", automaton: widest))
        #expect(!GrammarMatcher.matches("a", automaton: widest))
        let exact = try compiled("a{10000}")
        #expect(GrammarMatcher.matches(String(repeating: "a", count: 10000), automaton: exact))
        #expect(!GrammarMatcher.matches(String(repeating: "a", count: 9999), automaton: exact))
        let bounded = try compiled("(abc|d){2,500}")
        #expect(GrammarMatcher.matches(String(repeating: "abcd", count: 250), automaton: bounded))
        #expect(!GrammarMatcher.matches(String(repeating: "abcd", count: 250) + "d", automaton: bounded))
    }

    /// The JSON Schema compiler puts the pattern's symbols between its own quotes.
    @Test func jsonStringSymbolsEmbedInAString() throws {
        var builder = GrammarBuilder()
        let root = builder.declare("root")
        let quote = GrammarBuilder.literal("\"")
        let body = try RegexCompiler.compile("say \"(hi|bye)\"\\\\[\\x00-\\x02\\n]", into: &builder, jsonString: true)
        builder.define(root, [quote + body + quote])
        let automaton = try GrammarAutomaton(builder.grammar(root: root))
        for text in [#""say \"hi\"\\\u0000""#, #""say \"bye\"\\\n""#, #""say \"hi\"\\\u0002""#] {
            #expect(GrammarMatcher.matches(text, automaton: automaton), "\(text)")
        }
        // Raw characters, other escapes of the same character, and uppercase hex are not canonical.
        for text in [#""say "hi"\\\u0000""#, #""say \"hi\"\\\u000A""#, "\"say \\\"hi\\\"\\\\\n\"", #""say \"hi\"\\\u0003""#, #""say \u0022hi\"\\\n""#] {
            #expect(!GrammarMatcher.matches(text, automaton: automaton), "\(text)")
        }
    }

    /// A pattern compiled into a builder that already holds rules leaves them alone.
    @Test func compilesIntoAnExistingBuilder() throws {
        var builder = GrammarBuilder()
        let root = builder.declare("root")
        let digits = try RegexCompiler.compile("[0-9]+", into: &builder)
        let word = try RegexCompiler.compile("[a-z]{2}", into: &builder)
        builder.define(root, [digits + GrammarBuilder.literal(":") + word])
        let automaton = try GrammarAutomaton(builder.grammar(root: root))
        #expect(GrammarMatcher.matches("123:ab", automaton: automaton))
        #expect(!GrammarMatcher.matches("123:abc", automaton: automaton))
        #expect(!GrammarMatcher.matches(":ab", automaton: automaton))
    }
}
