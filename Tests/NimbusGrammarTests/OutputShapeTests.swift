import Testing
@testable import NimbusGrammar

/// Shapes that join literals, schemas and free text into one grammar.
struct OutputShapeTests {
    static let weather = try! SchemaJSON.parse(#"{"type": "object", "properties": {"city": {"type": "string", "maxLength": 20}}, "required": ["city"], "additionalProperties": false}"#)

    func call(_ name: String, _ schema: SchemaJSON) -> OutputShape {
        .sequence([.literal("<tool_call>\n{\"name\": \"\(name)\", \"arguments\": "), .schema(schema), .literal("}\n</tool_call>")])
    }

    @Test func toolCallsRepeatWithTheirSeparator() throws {
        let shape = OutputShape.repeated(.oneOf([call("weather", Self.weather), call("time", try SchemaJSON.parse(#"{"type": "object", "properties": {}, "additionalProperties": false}"#))]),
                                         separator: "\n", minimum: 1, maximum: 2)
        let automaton = try GrammarAutomaton(shape.grammar())
        let one = "<tool_call>\n{\"name\": \"weather\", \"arguments\": {\"city\": \"Paris\"}}\n</tool_call>"
        let two = one + "\n<tool_call>\n{\"name\": \"time\", \"arguments\": {}}\n</tool_call>"
        #expect(GrammarMatcher.matches(one, automaton: automaton))
        #expect(GrammarMatcher.matches(two, automaton: automaton))
        #expect(!GrammarMatcher.matches(two + "\n" + one, automaton: automaton))
        #expect(!GrammarMatcher.matches("", automaton: automaton))
        // Arguments follow their own function's schema.
        #expect(!GrammarMatcher.matches(one.replacingOccurrences("weather", "time"), automaton: automaton))
    }

    @Test func textExcludingStopsAtItsTerminator() throws {
        let shape = OutputShape.sequence([.literal("<think>"), .textExcluding("</think>"), .literal("</think>"), .literal("ok")])
        let automaton = try GrammarAutomaton(shape.grammar())
        for inner in ["", "a < b", "<", "</", "</thin", "<</think", "x</thinkk"] {
            #expect(GrammarMatcher.matches("<think>\(inner)</think>ok", automaton: automaton), "\(inner)")
        }
        #expect(!GrammarMatcher.matches("<think>a</think>b</think>ok", automaton: automaton))
        #expect(!GrammarMatcher.matches("<think>a</think>", automaton: automaton))
    }
}

extension String {
    fileprivate func replacingOccurrences(_ a: String, _ b: String) -> String {
        split(separator: a, omittingEmptySubsequences: false).joined(separator: b)
    }
}
