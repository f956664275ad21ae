import Testing
@testable import NimbusGrammar

/// The oracle is the list itself: a text is accepted exactly when its bytes are one choice's.
struct ChoiceCompilerTests {
    @Test func acceptsExactlyTheChoices() throws {
        let choices = ["yes", "y", "yes!", "no", "maybe so", "café", "cafe\u{301}", "日本", "😀"]
        let automaton = try GrammarAutomaton(ChoiceCompiler.grammar(choices: choices))
        let allowed = Set(choices.map { Array($0.utf8) })
        // Every prefix and one-character extension of every choice, and a few strangers.
        var texts: Set<[UInt8]> = [Array("".utf8), Array("nope".utf8), Array("YES".utf8), Array("cafe".utf8)]
        for choice in choices {
            let bytes = Array(choice.utf8)
            for end in 0...bytes.count { texts.insert(Array(bytes[..<end])) }
            for extra in ["!", "s", "\u{301}", "😀"] { texts.insert(bytes + Array(extra.utf8)) }
        }
        for bytes in texts {
            let state = automaton.next(automaton.initial, bytes: bytes)
            let accepted = state != GrammarAutomaton.dead && automaton.accepts(state)
            #expect(accepted == allowed.contains(bytes), "\(String(decoding: bytes, as: UTF8.self).debugDescription)")
        }
        // "yes" may end the output, or go on to "yes!"; "yes!" must end it.
        let yes = automaton.next(automaton.initial, bytes: "yes".utf8)
        #expect(automaton.accepts(yes) && !automaton.isFinal(yes))
        #expect(automaton.isFinal(automaton.next(automaton.initial, bytes: "yes!".utf8)))
    }

    @Test func emptyListIsRefused() {
        #expect(throws: GrammarError.self) { try ChoiceCompiler.grammar(choices: []) }
    }

    @Test func emptyStringAndDuplicatesAreAllowed() throws {
        let grammar = try ChoiceCompiler.grammar(choices: ["", "a", "a", ""])
        #expect(grammar.rules[grammar.root].alternatives.count == 2)
        let automaton = try GrammarAutomaton(grammar)
        #expect(GrammarMatcher.matches("", automaton: automaton))
        #expect(GrammarMatcher.matches("a", automaton: automaton))
        #expect(!GrammarMatcher.matches("aa", automaton: automaton))
    }
}
