import Testing
@testable import NimbusGrammar

/// The automaton against languages small enough to list by hand.
struct GrammarAutomatonTests {
    /// root ::= "a" ( "b" | "cd" )* "e"
    private func smallGrammar() -> Grammar {
        var b = GrammarBuilder()
        let root = b.declare("root")
        let middle = b.rule("middle", [GrammarBuilder.literal("b"), GrammarBuilder.literal("cd")])
        let star = b.repeated([middle], minimum: 0, maximum: nil)
        b.define(root, [GrammarBuilder.literal("a") + star + GrammarBuilder.literal("e")])
        return b.grammar(root: root)
    }

    @Test func acceptsExactlyTheLanguage() throws {
        let automaton = try GrammarAutomaton(smallGrammar())
        for text in ["ae", "abe", "acde", "abcdbbe"] {
            #expect(GrammarMatcher.matches(text, automaton: automaton), "\(text)")
        }
        for text in ["", "a", "e", "ace", "abce", "aee", "abcdb", "xae"] {
            #expect(!GrammarMatcher.matches(text, automaton: automaton), "\(text)")
        }
        let done = automaton.next(automaton.initial, bytes: "abe".utf8)
        #expect(automaton.isFinal(done))
    }

    /// Forced bytes: while one byte alone may follow and the input may not end.
    @Test func forcedBytesFollowTheOnlyPath() throws {
        let automaton = try GrammarAutomaton(smallGrammar())  // a ( b | cd )* e
        #expect(automaton.forcedBytes(after: automaton.initial, limit: 10) == Array("a".utf8))
        #expect(automaton.forcedBytes(after: automaton.next(automaton.initial, bytes: "ac".utf8), limit: 10) == Array("d".utf8))
        #expect(automaton.forcedBytes(after: automaton.next(automaton.initial, bytes: "ab".utf8), limit: 10).isEmpty)
        #expect(automaton.forcedBytes(after: automaton.next(automaton.initial, bytes: "abe".utf8), limit: 10).isEmpty)
        // A JSON object's only key, after its opening quote, up to the quote that closes it
        // (whitespace may come before the colon).
        let schema = #"{"type": "object", "properties": {"customer_identifier": {"type": "integer"}},"#
            + #" "required": ["customer_identifier"], "additionalProperties": false}"#
        let json = try GrammarAutomaton(try JSONSchemaCompiler.grammar(schema: schema))
        let quote = json.next(json.initial, bytes: #"{""#.utf8)
        #expect(String(decoding: json.forcedBytes(after: quote, limit: 64), as: UTF8.self) == #"customer_identifier""#)
        #expect(json.forcedBytes(after: quote, limit: 4) == Array("cust".utf8))
        // The object opens with "{"; whitespace or the key's quote may follow.
        #expect(json.forcedBytes(after: json.initial, limit: 64) == Array("{".utf8))
        // Past the key, whitespace may come before the colon: the colon is only likely.
        let key = json.next(quote, bytes: #"customer_identifier""#.utf8)
        #expect(json.forcedBytes(after: key, limit: 64).isEmpty)
        #expect(json.likelyByte(after: key) == UInt8(ascii: ":"))
        // After the colon the value may start with several bytes: no guess.
        #expect(json.likelyByte(after: json.next(key, bytes: ":".utf8)) == nil)
        #expect(automaton.likelyByte(after: automaton.next(automaton.initial, bytes: "ab".utf8)) == nil)
    }

    @Test func leftRecursionIsRefused() {
        var b = GrammarBuilder()
        let root = b.declare("expr")
        b.define(root, [[.rule(root)] + GrammarBuilder.literal("+x"), GrammarBuilder.literal("x")])
        #expect(throws: GrammarError.self) { try GrammarAutomaton(b.grammar(root: root)) }
    }

    @Test func nullableRepetitionIsRefused() {
        var b = GrammarBuilder()
        let empty = b.rule("maybe", [[], GrammarBuilder.literal("x")])
        let star = b.repeated([empty], minimum: 0, maximum: nil)
        let root = b.declare("root")
        b.define(root, [star])
        #expect(throws: GrammarError.self) { try GrammarAutomaton(b.grammar(root: root)) }
    }

    @Test func boundedRepetitionCounts() throws {
        var b = GrammarBuilder()
        let root = b.declare("root")
        let body = b.repeated(GrammarBuilder.literal("x"), minimum: 2, maximum: 4)
        b.define(root, [body])
        let automaton = try GrammarAutomaton(b.grammar(root: root))
        let accepted = (0...6).filter { GrammarMatcher.matches(String(repeating: "x", count: $0), automaton: automaton) }
        #expect(accepted == [2, 3, 4])
    }

    /// Characters beyond ASCII are matched as their UTF-8 bytes: every scalar of a range and
    /// nothing outside it, checked exhaustively against Swift's own UTF-8 encoding.
    @Test func characterClassesMatchTheirUTF8Encodings() throws {
        let set = ScalarRanges([0x41...0x5A, 0xE9...0xE9, 0x7F0...0x840, 0xFFF0...0x10010])
        var b = GrammarBuilder()
        let root = b.declare("root")
        let character = b.characters(set)
        b.define(root, [[character]])
        let automaton = try GrammarAutomaton(b.grammar(root: root))
        for value in Array(0...0x900) + Array(0xFF00...0x10100) {
            guard let scalar = Unicode.Scalar(UInt32(value)) else { continue }
            let text = String(Character(scalar))
            #expect(GrammarMatcher.matches(text, automaton: automaton) == set.contains(UInt32(value)), "U+\(String(value, radix: 16))")
        }
    }

    @Test func invertedSetsExcludeExactlyTheirMembers() {
        let set = ScalarRanges([0x22...0x22, 0x5C...0x5C, 0...0x1F])
        let inverse = set.inverted()
        for value: UInt32 in [0, 0x1F, 0x20, 0x22, 0x23, 0x5C, 0x5D, 0x10FFFF] {
            #expect(set.contains(value) != inverse.contains(value))
        }
    }

    /// The mask for a state holds exactly the tokens whose bytes the grammar can read there,
    /// checked against matching each token's bytes one by one.
    @Test func masksAgreeWithMatchingEachToken() throws {
        let vocabulary: [[UInt8]] = ["a", "ab", "abc", "b", "cd", "c", "d", "e", "be", "bcde", "x", "", "ae"].map { Array($0.utf8) }
        let trie = VocabularyTrie(tokenBytes: vocabulary)
        let index = try GrammarIndex(grammar: smallGrammar(), trie: trie)
        var matcher = GrammarMatcher(index: index) { vocabulary[$0] }
        for step in ["a", "b", "cd"] {
            let mask = matcher.allowedTokens()
            for token in vocabulary.indices {
                let expected = !vocabulary[token].isEmpty
                    && index.automaton.next(matcher.state, bytes: vocabulary[token]) != GrammarAutomaton.dead
                #expect(mask.contains(token) == expected, "after \(step) token \(token)")
            }
            let accepted = matcher.accept(try #require(vocabulary.firstIndex(of: Array(step.utf8))))
            #expect(accepted)
        }
        #expect(!matcher.canEnd)
        let ended = matcher.accept(7)
        #expect(ended)
        #expect(matcher.canEnd && matcher.isComplete)
    }
}
