import Testing
@testable import NimbusServer

/// Whole-output parsing, one format at a time, with expectations written out by hand.
struct ToolCallParserTests {
    typealias Call = ParsedToolCall

    // MARK: hermes (Qwen2.5, Hermes 2 Pro / 3)

    @Test func hermesSingleCallAsQwenWritesIt() {
        let text = """
            <tool_call>
            {"name": "get_current_temperature", "arguments": {"location": "San Francisco, CA, USA", "unit": "celsius"}}
            </tool_call>
            """
        let r = ToolCallParser.parse(text, format: .hermes)
        #expect(r.content == nil)
        #expect(r.calls == [Call(name: "get_current_temperature", arguments: #"{"location": "San Francisco, CA, USA", "unit": "celsius"}"#)])
    }

    @Test func hermesParallelCallsWithContentBefore() {
        let text = """
            Let me check both for you.
            <tool_call>
            {"name": "get_current_temperature", "arguments": {"location": "San Francisco, CA, USA"}}
            </tool_call>
            <tool_call>
            {"name": "get_temperature_date", "arguments": {"location": "San Francisco, CA, USA", "date": "2024-10-01"}}
            </tool_call>
            """
        let r = ToolCallParser.parse(text, format: .hermes)
        #expect(r.content == "Let me check both for you.")
        #expect(r.calls == [
            Call(name: "get_current_temperature", arguments: #"{"location": "San Francisco, CA, USA"}"#),
            Call(name: "get_temperature_date", arguments: #"{"location": "San Francisco, CA, USA", "date": "2024-10-01"}"#),
        ])
    }

    @Test func hermesContentBetweenAndAfterCallsIsKeptInOrder() {
        let text = "First.\n<tool_call>\n{\"name\": \"a\", \"arguments\": {}}\n</tool_call>\nSecond.\n<tool_call>{\"name\": \"b\", \"arguments\": {\"x\": 1}}</tool_call> Third."
        let r = ToolCallParser.parse(text, format: .hermes)
        #expect(r.content == "First.\n\nSecond.\n Third.")
        #expect(r.calls == [Call(name: "a", arguments: "{}"), Call(name: "b", arguments: #"{"x": 1}"#)])
    }

    @Test func hermesUnicodeEscapedQuotesAndBracesInStrings() {
        let args = #"{"text": "Grüße aus Köln 🌧️ — he said \"hi\" {not a brace} [nor this]", "to": "Zoë", "n": -1.5e3}"#
        let text = "<tool_call>\n{\"name\": \"send_message\", \"arguments\": \(args)}\n</tool_call>"
        let r = ToolCallParser.parse(text, format: .hermes)
        #expect(r.content == nil)
        #expect(r.calls == [Call(name: "send_message", arguments: args)])
    }

    @Test func hermesClosingTagInsideAStringDoesNotEndTheCall() {
        let args = #"{"code": "def f():\n    return {'a': [1, 2]}\nprint(\"}</tool_call>\")"}"#
        let text = "<tool_call>\n{\"name\": \"run_python\", \"arguments\": \(args)}\n</tool_call>"
        let r = ToolCallParser.parse(text, format: .hermes)
        #expect(r.content == nil)
        #expect(r.calls == [Call(name: "run_python", arguments: args)])
    }

    @Test func hermesNameIsUnescapedAndExtraKeysIgnored() {
        let text = #"<tool_call>{"id": "call_7", "name": "get_\u0077eather", "arguments": {"q": 1}, "name": "ignored"}</tool_call>"#
        let r = ToolCallParser.parse(text, format: .hermes)
        #expect(r.calls == [Call(name: "get_weather", arguments: #"{"q": 1}"#)])
        #expect(r.content == nil)
    }

    @Test func hermesArgumentsBeforeNameAndMissingArguments() {
        let text = """
            <tool_call>
            {"arguments": {"query": "swift testing"}, "name": "search"}
            </tool_call>
            <tool_call>
            {"name": "get_time"}
            </tool_call>
            """
        let r = ToolCallParser.parse(text, format: .hermes)
        #expect(r.calls == [Call(name: "search", arguments: #"{"query": "swift testing"}"#), Call(name: "get_time", arguments: "{}")])
        #expect(r.content == nil)
    }

    @Test func hermesParametersIsAcceptedForArguments() {
        let r = ToolCallParser.parse(#"<tool_call>{"name": "f", "parameters": {"a": true}}</tool_call>"#, format: .hermes)
        #expect(r.calls == [Call(name: "f", arguments: #"{"a": true}"#)])
    }

    @Test func hermesUnterminatedLastBlockCountsWhenItsJSONIsComplete() {
        let text = "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"location\": \"Paris\"}}"
        let r = ToolCallParser.parse(text, format: .hermes)
        #expect(r.content == nil)
        #expect(r.calls == [Call(name: "get_weather", arguments: #"{"location": "Paris"}"#)])
        let partialClose = ToolCallParser.parse(text + "\n</tool_", format: .hermes)
        #expect(partialClose.calls == r.calls)
        #expect(partialClose.content == "</tool_")
    }

    @Test func hermesTruncatedBlockIsContent() {
        let text = "Sure.\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"location\": \"Par"
        let r = ToolCallParser.parse(text, format: .hermes)
        #expect(r.calls.isEmpty)
        #expect(r.content == text)
    }

    @Test func hermesMalformedBlocksStayInTheContent() {
        // A missing brace, a Python call instead of JSON, a string for arguments, no name.
        let missingBrace = "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"location\": \"Paris\"}\n</tool_call>"
        let notJSON = "<tool_call>\nget_weather(location=\"Paris\")\n</tool_call>"
        let stringArguments = #"<tool_call>{"name": "f", "arguments": "{\"a\": 1}"}</tool_call>"#
        let noName = #"<tool_call>{"arguments": {"a": 1}}</tool_call>"#
        let emptyName = #"<tool_call>{"name": "", "arguments": {}}</tool_call>"#
        for text in [missingBrace, notJSON, stringArguments, noName, emptyName] {
            let r = ToolCallParser.parse(text, format: .hermes)
            #expect(r.calls.isEmpty, "\(text)")
            #expect(r.content == text)
        }
    }

    @Test func hermesAGoodBlockAfterABadOneStillParses() {
        let bad = "<tool_call>\n{\"name\": \"broken\", \"arguments\": {]}\n</tool_call>"
        let good = "<tool_call>\n{\"name\": \"ok\", \"arguments\": {\"a\": [1, {\"b\": null}]}}\n</tool_call>"
        let r = ToolCallParser.parse(bad + "\n" + good, format: .hermes)
        #expect(r.content == bad)
        #expect(r.calls == [Call(name: "ok", arguments: #"{"a": [1, {"b": null}]}"#)])
        // A tag left open by a bad block: the next tag inside it is still read.
        let nested = ToolCallParser.parse("<tool_call> oops <tool_call>{\"name\": \"x\"}</tool_call>", format: .hermes)
        #expect(nested.content == "<tool_call> oops")
        #expect(nested.calls == [Call(name: "x", arguments: "{}")])
    }

    @Test func hermesTextAfterTheObjectInsideTheBlockIsContent() {
        let r = ToolCallParser.parse("<tool_call>{\"name\": \"f\", \"arguments\": {}} trailing</tool_call>", format: .hermes)
        #expect(r.calls == [Call(name: "f", arguments: "{}")])
        #expect(r.content == "trailing</tool_call>")
    }

    @Test func hermesPlainTextAndProseMentioningTheTag() {
        #expect(ToolCallParser.parse("The weather in Paris is 18 °C.", format: .hermes) == (content: "The weather in Paris is 18 °C.", calls: []))
        let prose = "Wrap calls in <tool_call> tags, like <tool_call>this</tool_call>."
        let r = ToolCallParser.parse(prose, format: .hermes)
        #expect(r.content == prose)
        #expect(r.calls.isEmpty)
        #expect(ToolCallParser.parse("  \n ", format: .hermes).content == nil)
        #expect(ToolCallParser.parse("", format: .hermes).content == nil)
    }

    // MARK: llama3_json (Llama 3.1 / 3.2 / 3.3)

    @Test func llama3SingleCallWithParameters() {
        let text = #"{"name": "get_current_conditions", "parameters": {"location": "San Francisco, CA", "unit": "Fahrenheit"}}"#
        let r = ToolCallParser.parse(text, format: .llama3JSON)
        #expect(r.content == nil)
        #expect(r.calls == [Call(name: "get_current_conditions", arguments: #"{"location": "San Francisco, CA", "unit": "Fahrenheit"}"#)])
    }

    @Test func llama3PythonTagTypeKeyArgumentsKeyAndSemicolons() {
        let text = "<|python_tag|>{\"type\": \"function\", \"name\": \"get_weather\", \"parameters\": {\"city\": \"Tokyo\"}}; {\"name\": \"get_time\", \"arguments\": {\"tz\": \"Asia/Tokyo\"}};\n"
        let r = ToolCallParser.parse(text, format: .llama3JSON)
        #expect(r.content == nil)
        #expect(r.calls == [Call(name: "get_weather", arguments: #"{"city": "Tokyo"}"#), Call(name: "get_time", arguments: #"{"tz": "Asia/Tokyo"}"#)])
        let noParameters = ToolCallParser.parse("\n {\"name\": \"list_files\"} ", format: .llama3JSON)
        #expect(noParameters.calls == [Call(name: "list_files", arguments: "{}")])
    }

    @Test func llama3AnythingElseIsContent() {
        let cases = [
            "The capital of France is Paris.",
            #"{"answer": 42}"#,
            #"{"name": "get_weather", "parameters": {"city": "Paris"}} Let me know if you need more."#,
            #"Calling: {"name": "get_weather", "parameters": {"city": "Paris"}}"#,
            #"{"name": "get_weather", "parameters": {"city": "Par"#,
            #"{"name": "get_weather", "parameters": "city=Paris"}"#,
            #"{"name": 7, "parameters": {}}"#,
            "<|python_tag|>brave_search.call(query=\"weather\")",
            "<|python_tag|>",
        ]
        for text in cases {
            let r = ToolCallParser.parse(text, format: .llama3JSON)
            #expect(r.calls.isEmpty, "\(text)")
            #expect(r.content == text)
        }
        #expect(ToolCallParser.parse("  {\"answer\": 42}\n", format: .llama3JSON).content == #"{"answer": 42}"#)
    }

    // MARK: mistral

    @Test func mistralV3ArrayWithAndWithoutSpace() {
        let args = #"{"location": "Paris, France", "format": "celsius"}"#
        for text in ["[TOOL_CALLS] [{\"name\": \"get_current_weather\", \"arguments\": \(args)}]",
                     "[TOOL_CALLS][{\"name\": \"get_current_weather\", \"arguments\": \(args)}]"] {
            let r = ToolCallParser.parse(text, format: .mistral)
            #expect(r.content == nil)
            #expect(r.calls == [Call(name: "get_current_weather", arguments: args)])
        }
    }

    @Test func mistralNemoParallelCallsWithIDs() {
        let text = #"[TOOL_CALLS][{"name": "get_weather", "arguments": {"city": "Paris"}, "id": "a1b2c3d4e"}, {"name": "get_time", "arguments": {"tz": "Europe/Paris"}, "id": "f5g6h7i8j"}]"#
        let r = ToolCallParser.parse(text, format: .mistral)
        #expect(r.content == nil)
        #expect(r.calls == [Call(name: "get_weather", arguments: #"{"city": "Paris"}"#), Call(name: "get_time", arguments: #"{"tz": "Europe/Paris"}"#)])
    }

    @Test func mistralV11NameArgsFormRepeated() {
        let text = #"[TOOL_CALLS]get_weather[ARGS]{"city": "Paris"}[TOOL_CALLS]get_time[ARGS]{"tz": "Europe/Paris"}"#
        let r = ToolCallParser.parse(text, format: .mistral)
        #expect(r.content == nil)
        #expect(r.calls == [Call(name: "get_weather", arguments: #"{"city": "Paris"}"#), Call(name: "get_time", arguments: #"{"tz": "Europe/Paris"}"#)])
    }

    @Test func mistralCallIDFormAndContentAround() {
        let text = "Let me look that up.[TOOL_CALLS]web-search.v2[CALL_ID]a1b2c3d4e[ARGS] {\"query\": \"Mistral \\\"Small\\\" 3.2 — 日本語\"}\nDone."
        let r = ToolCallParser.parse(text, format: .mistral)
        #expect(r.content == "Let me look that up.\nDone.")
        #expect(r.calls == [Call(name: "web-search.v2", arguments: #"{"query": "Mistral \"Small\" 3.2 — 日本語"}"#)])
    }

    @Test func mistralMalformedSectionsStayInTheContent() {
        let cases: [(text: String, content: String)] = [
            (#"[TOOL_CALLS]get_weather{"city": "Paris"}"#, #"[TOOL_CALLS]get_weather{"city": "Paris"}"#),  // no [ARGS]
            (#"[TOOL_CALLS]get_weather[ARGS]"city""#, #"[TOOL_CALLS]get_weather[ARGS]"city""#),  // not an object
            (#"[TOOL_CALLS]get_weather[CALL_ID][ARGS]{}"#, #"[TOOL_CALLS]get_weather[CALL_ID][ARGS]{}"#),  // empty id
            (#"[TOOL_CALLS][{"name": "get_weather", "arguments": {"city": "Par"#, #"[TOOL_CALLS][{"name": "get_weather", "arguments": {"city": "Par"#),
            (#"[TOOL_CALLS][{"name": "a", "arguments": {}}, 3]"#, #"[TOOL_CALLS][{"name": "a", "arguments": {}}, 3]"#),
            ("[TOOL_CALLS][]", "[TOOL_CALLS][]"),
            ("Hmm. [TOOL_CALLS] \n", "Hmm. [TOOL_CALLS]"),
        ]
        for (text, content) in cases {
            let r = ToolCallParser.parse(text, format: .mistral)
            #expect(r.calls.isEmpty, "\(text)")
            #expect(r.content == content)
        }
    }

    @Test func mistralPlainText() {
        let r = ToolCallParser.parse("Bonjour ! [Note] Il fait beau.", format: .mistral)
        #expect(r.content == "Bonjour ! [Note] Il fait beau.")
        #expect(r.calls.isEmpty)
    }

    // MARK: pythonic (Llama 3.2 / 4)

    @Test func pythonicCallsAsLlamaWritesThem() {
        let text = #"[get_weather(city="San Francisco", metric="celsius"), get_time(timezone='America/Los_Angeles')]"#
        let r = ToolCallParser.parse(text, format: .pythonic)
        #expect(r.content == nil)
        #expect(r.calls == [
            Call(name: "get_weather", arguments: #"{"city":"San Francisco","metric":"celsius"}"#),
            Call(name: "get_time", arguments: #"{"timezone":"America/Los_Angeles"}"#),
        ])
    }

    @Test func pythonicValuesBecomeJSON() {
        let text = """
            [search(q='x', exact=True, tags=["a", None, ('t', 2)], limits={"max": 10, 'min': -2.5}, ratio=.5, big=1_000_000, e=5., z=007.25, x=1E-3, empty=(), one=(1,), paren=(3)), noop()]
            """
        let r = ToolCallParser.parse(text, format: .pythonic)
        #expect(r.content == nil)
        #expect(r.calls == [
            Call(name: "search", arguments: #"{"q":"x","exact":true,"tags":["a",null,["t",2]],"limits":{"max":10,"min":-2.5},"ratio":0.5,"big":1000000,"e":5.0,"z":7.25,"x":1e-3,"empty":[],"one":[1],"paren":3}"#),
            Call(name: "noop", arguments: "{}"),
        ])
    }

    @Test func pythonicStringsAndEscapes() {
        // Python source: [send(text='It\'s "quoted"\n\ttab', emoji="\u00e9\U0001F389 ü", raw=r'C:\dir\n', multi='''two
        // lines''', joined='a' "b", octal='\101\x41', odd='\d')]
        let text = #"[send(text='It\'s "quoted"\n\ttab', emoji="\u00e9\U0001F389 ü", raw=r'C:\dir\n', multi='''two"# + "\n" + #"lines''', joined='a' "b", octal='\101\x41', odd='\d')]"#
        let r = ToolCallParser.parse(text, format: .pythonic)
        #expect(r.content == nil)
        #expect(r.calls == [Call(name: "send", arguments: #"{"text":"It's \"quoted\"\n\ttab","emoji":"é🎉 ü","raw":"C:\\dir\\n","multi":"two\nlines","joined":"ab","octal":"AA","odd":"\\d"}"#)])
    }

    @Test func pythonicLlama4WrapperDottedNameAndTrailingCommas() {
        let text = "<|python_start|>[\n  tools.get_weather(\n    city=\"Paris\",\n  ),\n]<|python_end|>"
        let r = ToolCallParser.parse(text, format: .pythonic)
        #expect(r.calls == [Call(name: "tools.get_weather", arguments: #"{"city":"Paris"}"#)])
        #expect(r.content == nil)
    }

    @Test func pythonicAnythingElseIsContent() {
        let cases = [
            "[1] First, preheat the oven.",
            "[get_weather(\"Paris\")]",  // positional argument
            "[get_weather(city=\"Paris\", city=\"Lyon\")]",  // keyword twice
            "[get_weather(city=Paris)]",  // a name, not a value
            "[get_weather(city=\"Paris\")] and more",
            "[get_weather(city=\"Paris\"",  // cut off
            "[get_weather(n=0x10)]",
            "[get_weather(n=012)]",
            "[get_weather(s='line\nbreak')]",
            "[]",
            "get_weather(city=\"Paris\")",
            "See [the docs](https://example.com).",
        ]
        for text in cases {
            let r = ToolCallParser.parse(text, format: .pythonic)
            #expect(r.calls.isEmpty, "\(text)")
            #expect(r.content == text)
        }
    }
}
