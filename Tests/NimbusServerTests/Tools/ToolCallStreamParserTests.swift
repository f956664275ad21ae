import Testing
@testable import NimbusServer

/// Streaming: what each feed releases, written out by hand.
struct ToolCallStreamParserTests {
    typealias E = ToolStreamEvent

    /// Feeds the chunks one by one and returns each feed's events, then finish()'s.
    func feeds(_ chunks: [String], _ format: ToolCallFormat) -> (perFeed: [[E]], finish: [E], aborted: [Int]) {
        var parser = ToolCallStreamParser(format: format)
        let perFeed = chunks.map { parser.feed($0) }
        let finish = parser.finish()
        return (perFeed, finish, parser.abortedCallIndices)
    }

    @Test func hermesNameThenArgumentFragmentsAsTheyArrive() {
        let r = feeds([
            "Let me check.",
            "\n<tool",
            "_call>\n{\"name\": \"get_",
            "weather\", \"arguments\": {\"loc",
            "ation\": \"Paris\"}}\n</tool_call>",
        ], .hermes)
        #expect(r.perFeed == [
            [.content("Let me check.")],
            [],
            [],
            [.callStarted(index: 0, name: "get_weather"), .arguments(index: 0, fragment: "{\"loc")],
            [.arguments(index: 0, fragment: "ation\": \"Paris\"}")],
        ])
        #expect(r.finish == [])
        #expect(r.aborted == [])
    }

    @Test func hermesParallelCallsGetConsecutiveIndices() {
        let r = feeds([
            "<tool_call>\n{\"name\": \"a\", \"arguments\": {\"x\": 1}}\n</tool_call>\n<tool_call>\n{\"name\": \"b\", ",
            "\"arguments\": {}}\n</tool_call>",
        ], .hermes)
        #expect(r.perFeed == [
            [.callStarted(index: 0, name: "a"), .arguments(index: 0, fragment: "{\"x\": 1}"), .callStarted(index: 1, name: "b")],
            [.arguments(index: 1, fragment: "{}")],
        ])
        #expect(r.finish == [])
    }

    @Test func plainTextStreamsAtOnceExceptTrailingWhitespaceAndMarkerPrefixes() {
        let r = feeds(["  Hello", " world", "! ", "See <b>", "</b> and <tool", "box>.\n"], .hermes)
        #expect(r.perFeed == [
            [.content("Hello")],
            [.content(" world")],
            [.content("!")],
            [.content(" See <b>")],
            [.content("</b> and")],
            [.content(" <toolbox>.")],
        ])
        #expect(r.finish == [])
        let partialAtEnd = feeds(["The tag is <tool_ca"], .hermes)
        #expect(partialAtEnd.perFeed == [[.content("The tag is")]])
        #expect(partialAtEnd.finish == [.content(" <tool_ca")])
    }

    @Test func hermesArgumentsWrittenBeforeTheNameAreReleasedWithIt() {
        let r = feeds(["<tool_call>{\"arguments\": {\"q\": \"swift\"}, ", "\"name\": \"search\"}</tool_call>"], .hermes)
        #expect(r.perFeed == [[], [.callStarted(index: 0, name: "search"), .arguments(index: 0, fragment: "{\"q\": \"swift\"}")]])
    }

    @Test func hermesCallWithoutArgumentsGetsAnEmptyObject() {
        let r = feeds(["<tool_call>{\"name\": \"get_time\"", "}</tool_call>"], .hermes)
        #expect(r.perFeed == [[.callStarted(index: 0, name: "get_time")], [.arguments(index: 0, fragment: "{}")]])
    }

    @Test func hermesCallCutOffAfterItsNameIsAbortedAndItsTextBecomesContent() {
        let text = "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"location\": \"Par"
        let r = feeds([text], .hermes)
        #expect(r.perFeed == [[.callStarted(index: 0, name: "get_weather"), .arguments(index: 0, fragment: "{\"location\": \"Par")]])
        #expect(r.finish == [.content(text)])
        #expect(r.aborted == [0])
        #expect(ToolCallParser.parse(text, format: .hermes) == (content: text, calls: []))
    }

    @Test func hermesBrokenCallIsAbortedAndTheNextCallTakesTheNextIndex() {
        let bad = "<tool_call>\n{\"name\": \"a\", \"arguments\": {\"x\": 1}\n</tool_call>"
        let good = "<tool_call>\n{\"name\": \"b\", \"arguments\": {}}\n</tool_call>"
        let r = feeds([bad, "\n", good], .hermes)
        #expect(r.perFeed == [
            [.callStarted(index: 0, name: "a"), .arguments(index: 0, fragment: "{\"x\": 1}"), .content(bad)],
            [],
            [.callStarted(index: 1, name: "b"), .arguments(index: 1, fragment: "{}")],
        ])
        #expect(r.aborted == [0])
        let parsed = ToolCallParser.parse(bad + "\n" + good, format: .hermes)
        #expect(parsed.content == bad)
        #expect(parsed.calls == [ParsedToolCall(name: "b", arguments: "{}")])
    }

    @Test func hermesUnterminatedCompleteCallIsDecidedAtFinish() {
        let r = feeds(["<tool_call>{\"name\": \"f\", \"arguments\": {}}", "\n</tool_"], .hermes)
        #expect(r.perFeed == [[.callStarted(index: 0, name: "f"), .arguments(index: 0, fragment: "{}")], []])
        #expect(r.finish == [.content("</tool_")])
        #expect(r.aborted == [])
    }

    @Test func mistralV11ReleasesTheNameAtItsArgumentsObject() {
        let r = feeds(["Checking.", "[TOOL_CALLS]", "get_weather", "[ARGS]", "{\"city\": ", "\"Paris\"}", "[TOOL_CALLS]get_time[CALL_ID]a1b2c3d4e[ARGS]{}"], .mistral)
        #expect(r.perFeed == [
            [.content("Checking.")],
            [],
            [],
            [],
            [.callStarted(index: 0, name: "get_weather"), .arguments(index: 0, fragment: "{\"city\": ")],
            [.arguments(index: 0, fragment: "\"Paris\"}")],
            [.callStarted(index: 1, name: "get_time"), .arguments(index: 1, fragment: "{}")],
        ])
        #expect(r.finish == [])
    }

    @Test func mistralArrayStreamsEachElement() {
        let r = feeds(["[TOOL_CALLS] [{\"name\": \"get_weather\", \"arguments\": {\"city\"", ": \"Paris\"}, \"id\": \"a1b2c3d4e\"}, {\"name\": \"get_time\"}]"], .mistral)
        #expect(r.perFeed == [
            [.callStarted(index: 0, name: "get_weather"), .arguments(index: 0, fragment: "{\"city\"")],
            [.arguments(index: 0, fragment: ": \"Paris\"}"), .callStarted(index: 1, name: "get_time"), .arguments(index: 1, fragment: "{}")],
        ])
    }

    @Test func llama3CallsComeAtFinishAndOtherJSONIsReleasedEarly() {
        let call = feeds(["{\"name\": \"get_weather\", ", "\"parameters\": {\"city\": \"Tokyo\"}}"], .llama3JSON)
        #expect(call.perFeed == [[], []])
        #expect(call.finish == [.callStarted(index: 0, name: "get_weather"), .arguments(index: 0, fragment: "{\"city\": \"Tokyo\"}")])
        let other = feeds(["{\"ans", "wer\": 4", "2}"], .llama3JSON)
        #expect(other.perFeed == [[], [.content("{\"answer\": 4")], [.content("2}")]])
        #expect(other.finish == [])
        let prose = feeds(["\nThe answer", " is 42."], .llama3JSON)
        #expect(prose.perFeed == [[.content("The answer")], [.content(" is 42.")]])
    }

    @Test func pythonicCallsComeAtFinishAndOtherBracketsAreReleasedEarly() {
        let call = feeds(["[get_weather(city=", "\"Paris\")]"], .pythonic)
        #expect(call.perFeed == [[], []])
        #expect(call.finish == [.callStarted(index: 0, name: "get_weather"), .arguments(index: 0, fragment: "{\"city\":\"Paris\"}")])
        let list = feeds(["[1", "] Preheat the oven."], .pythonic)
        #expect(list.perFeed == [[.content("[1")], [.content("] Preheat the oven.")]])
        let cut = feeds(["[get_weather(city=\"Pa"], .pythonic)
        #expect(cut.perFeed == [[]])
        #expect(cut.finish == [.content("[get_weather(city=\"Pa")])
    }

    @Test func wholeOutputFormatsWaitOnAPartialTag() {
        let r = feeds(["<|python", "_tag|>{\"name\": \"f\"}"], .llama3JSON)
        #expect(r.perFeed == [[], []])
        #expect(r.finish == [.callStarted(index: 0, name: "f"), .arguments(index: 0, fragment: "{}")])
        let notTag = feeds(["<|python", "_start|>"], .llama3JSON)
        #expect(notTag.perFeed == [[], [.content("<|python_start|>")]])
    }
}
