import Foundation
import Testing
@testable import NimbusGrammar

/// Schema grammars against Python `jsonschema`'s verdicts (scripts/fixtures/gen_schema_fixtures.py).
struct JSONSchemaCompilerTests {
    struct Candidate: Decodable { var text: String; var valid: Bool; var natural: Bool }
    struct Case: Decodable { var schema: String; var candidates: [Candidate] }
    struct ErrorCase: Decodable { var schema: String; var mentions: String }
    struct Fixture: Decodable { var cases: [Case]; var errors: [ErrorCase] }

    static let fixture: Fixture = {
        guard let url = Bundle.module.url(forResource: "Fixtures/schema_cases", withExtension: "json"),
              let data = try? Data(contentsOf: url),
              let fixture = try? JSONDecoder().decode(Fixture.self, from: data) else {
            return Fixture(cases: [], errors: [])
        }
        return fixture
    }()

    @Test func theFixtureIsThere() {
        #expect(Self.fixture.cases.count >= 25)
        #expect(Self.fixture.errors.count >= 10)
    }

    /// Sound: every text the grammar accepts is valid. Useful: the natural outputs are accepted.
    @Test(arguments: fixture.cases.indices)
    func acceptedTextsAreValid(_ index: Int) throws {
        let testCase = Self.fixture.cases[index]
        let automaton = try GrammarAutomaton(JSONSchemaCompiler.grammar(schema: testCase.schema))
        for candidate in testCase.candidates {
            let accepted = GrammarMatcher.matches(candidate.text, automaton: automaton)
            if accepted { #expect(candidate.valid, "accepted an invalid text \(candidate.text) for \(testCase.schema)") }
            if candidate.natural { #expect(accepted, "refused \(candidate.text) for \(testCase.schema)") }
        }
    }

    @Test(arguments: fixture.errors.indices)
    func badSchemasAreRefusedByName(_ index: Int) {
        let errorCase = Self.fixture.errors[index]
        do {
            _ = try JSONSchemaCompiler.grammar(schema: errorCase.schema)
            Issue.record("compiled \(errorCase.schema)")
        } catch let error as GrammarError {
            #expect(error.message.contains(errorCase.mentions), "\(error.message)")
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    @Test func jsonObjectAcceptsObjectsOnly() throws {
        let automaton = try GrammarAutomaton(JSONSchemaCompiler.anyObject())
        #expect(GrammarMatcher.matches(#"{"a": [1, {"b": null}], "c": "d"}"#, automaton: automaton))
        #expect(GrammarMatcher.matches("{}", automaton: automaton))
        #expect(!GrammarMatcher.matches("[1]", automaton: automaton))
        #expect(!GrammarMatcher.matches(#"{"a": 1,}"#, automaton: automaton))
    }

    /// Whitespace is bounded: a model cannot pad forever between tokens.
    @Test func whitespaceIsBounded() throws {
        let automaton = try GrammarAutomaton(JSONSchemaCompiler.anyObject())
        let within = "{" + String(repeating: " ", count: JSONGrammarParts.maxWhitespace) + "}"
        let beyond = "{" + String(repeating: " ", count: JSONGrammarParts.maxWhitespace * 2 + 1) + "}"
        #expect(GrammarMatcher.matches(within, automaton: automaton))
        #expect(!GrammarMatcher.matches(beyond, automaton: automaton))
    }

    /// Integer ranges digit by digit, checked against plain comparison for every value nearby.
    @Test(arguments: [(Int64(-37), Int64(1205)), (0, 9), (7, 7), (-999, -100), (15, 3000), (-5, 0)])
    func integerRangesAreExact(_ bounds: (Int64, Int64)) throws {
        let schema = #"{"type": "integer", "minimum": \#(bounds.0), "maximum": \#(bounds.1)}"#
        let automaton = try GrammarAutomaton(JSONSchemaCompiler.grammar(schema: schema))
        for value in (bounds.0 - 30)...(bounds.1 + 30) {
            #expect(GrammarMatcher.matches(String(value), automaton: automaton) == (bounds.0...bounds.1).contains(value), "\(value)")
        }
    }

    /// Fractional bounds against a validator's reading: a JSON parser reads a number as the
    /// nearest double and compares doubles. Every plain spelling near the bounds with at most 15
    /// significant digits is accepted exactly when it is inside (and `Decimal` agrees, so the
    /// bound is the decimal the schema wrote); longer spellings, which a parser may round onto
    /// a bound (`10.199999999999999` is 10.2), are never written.
    @Test(arguments: [
        (low: "0.25", lowStrict: false, high: "0.75", highStrict: false),
        (low: "0", lowStrict: true, high: "1", highStrict: false),
        (low: "-1.5", lowStrict: false, high: "-0.25", highStrict: true),
        (low: "-0.75", lowStrict: true, high: "2.5", highStrict: true),
        (low: "1.25", lowStrict: false, high: nil, highStrict: false),
        (low: nil, lowStrict: false, high: "-0.5", highStrict: true),
        (low: "0.1", lowStrict: false, high: "0.1", highStrict: false),
        (low: "-2.05", lowStrict: true, high: "-2", highStrict: false),
        (low: "0.999", lowStrict: true, high: "1.001", highStrict: true),
        (low: nil, lowStrict: false, high: "10.2", highStrict: true),
        (low: "99.25", lowStrict: true, high: "100", highStrict: true),
        (low: "0.30000000000000004", lowStrict: true, high: "3", highStrict: false),
    ] as [(low: String?, lowStrict: Bool, high: String?, highStrict: Bool)])
    func decimalRangesAreExact(_ bounds: (low: String?, lowStrict: Bool, high: String?, highStrict: Bool)) throws {
        var keywords: [String] = [#""type": "number""#]
        if let low = bounds.low { keywords.append("\"\(bounds.lowStrict ? "exclusiveMinimum" : "minimum")\": \(low)") }
        if let high = bounds.high { keywords.append("\"\(bounds.highStrict ? "exclusiveMaximum" : "maximum")\": \(high)") }
        let automaton = try GrammarAutomaton(JSONSchemaCompiler.grammar(schema: "{" + keywords.joined(separator: ", ") + "}"))
        let fractions = ["", ".0", ".00", ".001", ".05", ".1", ".2", ".25", ".2500", ".249", ".251", ".3", ".5", ".50", ".75",
                         ".749", ".7501", ".9", ".99", ".999", ".9991", ".000000000000001", ".199999999999999",
                         ".1999999999999999", ".30000000000000004", ".3000000000000001", ".99999999999999", ".999999999999999"]
        func inside<T: Comparable>(_ value: T, _ low: T?, _ high: T?) -> Bool {
            if let low, bounds.lowStrict ? value <= low : value < low { return false }
            if let high, bounds.highStrict ? value >= high : value > high { return false }
            return true
        }
        var accepted = 0
        for sign in ["", "-"] {
            for integer in [0, 1, 2, 3, 9, 10, 99, 100] {
                for fraction in fractions {
                    let text = "\(sign)\(integer)\(fraction)"
                    let matches = GrammarMatcher.matches(text, automaton: automaton)
                    let parsed = try #require(Double(text))
                    let validated = inside(parsed, bounds.low.flatMap(Double.init), bounds.high.flatMap(Double.init))
                    let digits = text.filter(\.isNumber).drop { $0 == "0" }.count
                    if digits <= 15 {
                        #expect(matches == validated, "\(text) in \(bounds)")
                        let exact = inside(try #require(Decimal(string: text)), bounds.low.flatMap { Decimal(string: $0) }, bounds.high.flatMap { Decimal(string: $0) })
                        #expect(exact == validated, "\(text): the decimal and its double disagree on \(bounds)")
                    } else {
                        #expect(!matches, "\(text) has \(digits) significant digits")
                    }
                    if matches { accepted += 1 }
                }
            }
        }
        #expect(accepted > 0)
    }
}

/// Narrowings that keep a small model's output finite and valid.
struct SchemaNarrowingTests {
    static let list = ##"{"$defs": {"node": {"type": "object", "properties": {"value": {"type": "integer"}, "next": {"anyOf": [{"$ref": "#/$defs/node"}, {"type": "null"}]}}, "required": ["value", "next"], "additionalProperties": false}}, "$ref": "#/$defs/node"}"##

    func list(length: Int) -> String {
        (0..<length).reduce("null") { inner, i in #"{"value": \#(i), "next": \#(inner)}"# }
    }

    @Test func recursionUnfoldsToABoundedDepth() throws {
        let automaton = try GrammarAutomaton(JSONSchemaCompiler.grammar(schema: Self.list))
        for length in 1...JSONSchemaCompiler.maxRecursion {
            #expect(GrammarMatcher.matches(list(length: length), automaton: automaton), "\(length)")
        }
        #expect(!GrammarMatcher.matches(list(length: JSONSchemaCompiler.maxRecursion + 1), automaton: automaton))
    }

    /// At the depth limit the only way on is to close: no token leads into a dead end.
    @Test func theDepthLimitLeavesNoDeadEnds() throws {
        let automaton = try GrammarAutomaton(JSONSchemaCompiler.grammar(schema: Self.list))
        var text = list(length: JSONSchemaCompiler.maxRecursion)
        text.removeLast(JSONSchemaCompiler.maxRecursion)  // the closing braces
        let state = automaton.next(automaton.initial, bytes: text.utf8)
        #expect(state != GrammarAutomaton.dead)
        // Where "null" stands, "{" cannot: the deeper node would need a seventh level.
        let before = text.utf8.count - 4
        let open = automaton.next(automaton.next(automaton.initial, bytes: text.utf8.prefix(before)), UInt8(ascii: "{"))
        #expect(open == GrammarAutomaton.dead)
    }

    @Test func aRequiredInfiniteRecursionMatchesNothing() {
        let schema = ##"{"type": "object", "properties": {"next": {"$ref": "#"}}, "required": ["next"]}"##
        #expect(throws: GrammarError("the grammar matches no text")) {
            try GrammarAutomaton(JSONSchemaCompiler.grammar(schema: schema))
        }
    }

    @Test func aPatternWithinTheLengthBoundsIsKept() throws {
        let schema = #"{"type": "string", "pattern": "^[a-z][a-z0-9_]{2,15}$", "minLength": 3, "maxLength": 16}"#
        let automaton = try GrammarAutomaton(JSONSchemaCompiler.grammar(schema: schema))
        #expect(GrammarMatcher.matches(#""ada_99""#, automaton: automaton))
        #expect(!GrammarMatcher.matches(#""ad""#, automaton: automaton))
        #expect(!GrammarMatcher.matches(#""9ada""#, automaton: automaton))
    }

    @Test func aPatternBeyondTheLengthBoundsIsRefusedByName() {
        let schema = #"{"type": "string", "pattern": "^[a-z]+$", "maxLength": 16}"#
        #expect(throws: GrammarError.self) { try JSONSchemaCompiler.grammar(schema: schema) }
        do {
            _ = try JSONSchemaCompiler.grammar(schema: schema)
        } catch let error as GrammarError {
            #expect(error.message.contains("maxLength"))
        } catch {}
    }

    /// `format` with `maxLength` picks a spelling short enough, then the format still holds.
    @Test func aFormatFitsMaxLength() throws {
        let schema = #"{"type": "string", "format": "email", "maxLength": 40}"#
        let automaton = try GrammarAutomaton(JSONSchemaCompiler.grammar(schema: schema))
        #expect(GrammarMatcher.matches(#""ada@example.org""#, automaton: automaton))
        #expect(!GrammarMatcher.matches(#""ada.example.org""#, automaton: automaton))
        #expect(!GrammarMatcher.matches("\"" + String(repeating: "a", count: 30) + "@example.org\"", automaton: automaton))
    }

    @Test func lengthRangesCountCharacters() throws {
        #expect(try RegexCompiler.grammar("[a-z]{2,5}é?").characterLengthRange() == (2, 6))
        #expect(try RegexCompiler.grammar("ab(cd)*").characterLengthRange().maximum == nil)
        #expect(try RegexCompiler.grammar("😀|xy").characterLengthRange() == (1, 2))
    }
}

/// Guards against requests that would crash, hang or exhaust memory.
struct SchemaLimitTests {
    @Test func extraMembersCannotRepeatADeclaredName() throws {
        let schema = #"{"type": "object", "properties": {"age": {"type": "integer"}}, "additionalProperties": {"type": "string"}}"#
        let automaton = try GrammarAutomaton(JSONSchemaCompiler.grammar(schema: schema))
        #expect(GrammarMatcher.matches(#"{"age": 3, "name": "x"}"#, automaton: automaton))
        #expect(GrammarMatcher.matches(#"{"age": 3, "ag": "x", "ages": "y"}"#, automaton: automaton))
        #expect(!GrammarMatcher.matches(#"{"age": 3, "age": "x"}"#, automaton: automaton))
        #expect(!GrammarMatcher.matches(#"{"age": "x"}"#, automaton: automaton))
    }

    @Test func extraMembersAreBounded() throws {
        let automaton = try GrammarAutomaton(JSONSchemaCompiler.grammar(schema: #"{"type": "object", "additionalProperties": {"type": "integer"}}"#))
        func object(_ n: Int) -> String { "{" + (0..<n).map { "\"k\($0)\": \($0)" }.joined(separator: ", ") + "}" }
        #expect(GrammarMatcher.matches(object(JSONSchemaCompiler.maxExtraMembers), automaton: automaton))
        #expect(!GrammarMatcher.matches(object(JSONSchemaCompiler.maxExtraMembers + 1), automaton: automaton))
    }

    @Test func keywordsBesideAReferenceAreRefused() {
        #expect(throws: GrammarError.self) {
            try JSONSchemaCompiler.grammar(schema: ##"{"$defs": {"a": {"type": "string"}}, "$ref": "#/$defs/a", "maxLength": 3}"##)
        }
        #expect(throws: GrammarError.self) {
            try JSONSchemaCompiler.grammar(schema: #"{"anyOf": [{"type": "string"}], "minLength": 2}"#)
        }
    }

    @Test func enumValuesFollowTheirType() throws {
        let automaton = try GrammarAutomaton(JSONSchemaCompiler.grammar(schema: #"{"type": "string", "enum": ["a", 1, null]}"#))
        #expect(GrammarMatcher.matches(#""a""#, automaton: automaton))
        #expect(!GrammarMatcher.matches("1", automaton: automaton))
    }

    @Test func deepReferenceChainsAreRefused() {
        var defs: [String] = []
        for i in 0..<300 { defs.append("\"d\(i)\": {\"$ref\": \"#/$defs/d\(i + 1)\"}") }
        defs.append(#""d300": {"type": "string"}"#)
        let schema = "{\"$defs\": {" + defs.joined(separator: ", ") + "}, \"$ref\": \"#/$defs/d0\"}"
        #expect(throws: GrammarError.self) { try JSONSchemaCompiler.grammar(schema: schema) }
    }

    /// Proving a `oneOf`'s alternatives exclusive is bounded in depth and work: a union that
    /// refers to itself cannot overflow the stack, nor 16-way unions nested six deep run for
    /// seconds. Past the bounds the proof gives up, so both are refused (conservatively).
    @Test func oneOfProofsAreBounded() {
        let recursive = ##"{"$defs": {"T": {"anyOf": [{"const": 1}, {"$ref": "#/$defs/T"}]}}, "oneOf": [{"const": {"a": 5}}, {"properties": {"a": {"$ref": "#/$defs/T"}}}]}"##
        #expect(throws: GrammarError.self) { try JSONSchemaCompiler.grammar(schema: recursive) }
        var defs = [#""D0": {"const": 1}"#]
        for level in 1...6 {
            defs.append("\"D\(level)\": {\"anyOf\": [" + (0..<16).map { _ in "{\"$ref\": \"#/$defs/D\(level - 1)\"}" }.joined(separator: ", ") + "]}")
        }
        let wide = "{\"$defs\": {" + defs.joined(separator: ", ") + ##"}, "oneOf": [{"$ref": "#/$defs/D6"}, {"const": 2}]}"##
        #expect(throws: GrammarError.self) { try JSONSchemaCompiler.grammar(schema: wide) }
    }

    @Test func hugeSchemasAreRefused() {
        let properties = (0..<40).map { #""p\#($0)": {"type": "string", "minLength": \#(90_000 + $0)}"# }.joined(separator: ", ")
        #expect(throws: GrammarError.self) {
            try JSONSchemaCompiler.grammar(schema: #"{"type": "object", "properties": {"# + properties + "}}")
        }
    }

    @Test func deeplyNestedPatternsAreRefused() {
        let deep = String(repeating: "(", count: 5000) + "a" + String(repeating: ")", count: 5000)
        #expect(throws: GrammarError.self) { try RegexCompiler.grammar(deep) }
        #expect(throws: GrammarError.self) { try GBNFCompiler.grammar("root ::= " + deep.replacingOccurrences("a", "\"a\"")) }
        #expect(throws: GrammarError.self) { try GBNFCompiler.grammar(#"root ::= "a"+++"#) }
    }

    @Test func surrogateEscapesAreNotCharacters() throws {
        let automaton = try GrammarAutomaton(JSONSchemaCompiler.grammar(schema: #"{"type": "string", "minLength": 2}"#))
        #expect(!GrammarMatcher.matches(#""\ud83d\ude00""#, automaton: automaton))
        #expect(GrammarMatcher.matches(#""\u00e9x""#, automaton: automaton))
        // A high surrogate followed by another escape parses as two characters, not a crash.
        #expect(throws: Never.self) { _ = try? SchemaJSON.parse(#""\ud800\u0041""#) }
    }

    /// Right recursion keeps states finite: a long string revisits one state.
    @Test func longStringsDoNotGrowTheAutomaton() throws {
        let automaton = try GrammarAutomaton(JSONSchemaCompiler.grammar(schema: #"{"type": "string"}"#))
        _ = automaton.next(automaton.initial, bytes: ("\"" + String(repeating: "ab", count: 5000)).utf8)
        #expect(automaton.stateCount < 20)
    }
}

extension String {
    fileprivate func replacingOccurrences(_ a: String, _ b: String) -> String {
        split(separator: a, omittingEmptySubsequences: false).joined(separator: b)
    }
}
