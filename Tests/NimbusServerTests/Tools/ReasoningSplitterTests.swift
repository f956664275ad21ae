import Testing
@testable import NimbusServer

struct ReasoningSplitterTests {
    @Test func deepSeekR1OutputThatOpensItsOwnThinkBlock() {
        let text = "<think>\nThe user asks for 2 + 2. That is 4.\n</think>\n\nThe answer is **4**."
        let r = ReasoningSplitter.split(text, startsInside: false)
        #expect(r.reasoning == "The user asks for 2 + 2. That is 4.\n")
        #expect(r.content == "The answer is **4**.")
    }

    @Test func promptAlreadyOpenedThink() {
        // DeepSeek-R1 distills and QwQ end the prompt with "<think>\n".
        let text = "Okay, 2 + 2 = 4.\n</think>\n\nIt is 4."
        let r = ReasoningSplitter.split(text, startsInside: true)
        #expect(r.reasoning == "Okay, 2 + 2 = 4.\n")
        #expect(r.content == "It is 4.")
        // Newlines at the very start count as "after <think>"; a repeated <think> is dropped too.
        #expect(ReasoningSplitter.split("\n\nHmm.</think>Yes.", startsInside: true) == (reasoning: "Hmm.", content: "Yes."))
        #expect(ReasoningSplitter.split(" <think>\nHmm.</think>Yes.", startsInside: true) == (reasoning: "Hmm.", content: "Yes."))
        // The same output without startsInside has no leading think block: all content.
        #expect(ReasoningSplitter.split(text, startsInside: false) == (reasoning: nil, content: text))
    }

    @Test func onlyALeadingThinkBlockCounts() {
        let text = "Answer first. <think>not reasoning</think> still content"
        #expect(ReasoningSplitter.split(text, startsInside: false) == (reasoning: nil, content: text))
        #expect(ReasoningSplitter.split("  \n<think>r</think>c", startsInside: false) == (reasoning: "r", content: "c"))
        #expect(ReasoningSplitter.split("  \nplain", startsInside: false) == (reasoning: nil, content: "  \nplain"))
    }

    @Test func cutOffReasoningAndEmptyParts() {
        #expect(ReasoningSplitter.split("<think>\nStill thinking about", startsInside: false) == (reasoning: "Still thinking about", content: nil))
        #expect(ReasoningSplitter.split("Still thinking </thi", startsInside: true) == (reasoning: "Still thinking </thi", content: nil))
        #expect(ReasoningSplitter.split("<think>\n\n</think>\n\nHi!", startsInside: false) == (reasoning: nil, content: "Hi!"))
        #expect(ReasoningSplitter.split("<think>x</think>\n\n", startsInside: false) == (reasoning: "x", content: nil))
        #expect(ReasoningSplitter.split("", startsInside: false) == (reasoning: nil, content: nil))
        #expect(ReasoningSplitter.split("", startsInside: true) == (reasoning: nil, content: nil))
        // Only newlines are dropped after the tags, not spaces; a second </think> is content.
        #expect(ReasoningSplitter.split("<think> a\n</think> b</think>", startsInside: false) == (reasoning: " a\n", content: " b</think>"))
    }

    @Test func qwen3ThinkingWithAToolCallAfterIt() {
        let text = "<think>\nI should call get_weather for Paris.\n</think>\n\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}\n</tool_call>"
        let r = ReasoningSplitter.split(text, startsInside: false)
        #expect(r.reasoning == "I should call get_weather for Paris.\n")
        let calls = ToolCallParser.parse(r.content ?? "", format: .hermes)
        #expect(calls.content == nil)
        #expect(calls.calls == [ParsedToolCall(name: "get_weather", arguments: #"{"city": "Paris"}"#)])
    }

    @Test func streamingReleasesAsSoonAsItCan() {
        var s = ReasoningSplitter(startsInside: false)
        #expect(s.feed("\n<thi") == ("", ""))
        #expect(s.feed("nk>\n") == ("", ""))
        #expect(s.feed("\nLet me see") == ("Let me see", ""))
        #expect(s.feed(" <b> and </th") == (" <b> and ", ""))
        #expect(s.feed("ink>\n") == ("", ""))
        #expect(s.feed("\nHello") == ("", "Hello"))
        #expect(s.feed(" </think>") == ("", " </think>"))
        #expect(s.finish() == ("", ""))
        var plain = ReasoningSplitter(startsInside: false)
        #expect(plain.feed("  ") == ("", ""))
        #expect(plain.feed("Hi") == ("", "  Hi"))
        var inside = ReasoningSplitter(startsInside: true)
        #expect(inside.feed("Hmm") == ("Hmm", ""))
        #expect(inside.feed("</think") == ("", ""))
        #expect(inside.finish() == ("</think", ""))
    }

    static let samples = [
        "<think>\nThe user asks for 2 + 2. That is 4.\n</think>\n\nThe answer is **4**.",
        "Okay, 2 + 2 = 4.\n</think>\n\nIt is 4.",
        "  \n<think>r</think>c",
        "<think> a\n</think> b</think> <think>",
        "<think>\n\n</think>\n\nHi! é 日本 🎉",
        "\r\n<think>\r\nWindows newlines\r\n</think>\r\nDone",
        "Answer first. <think>not reasoning</think> still content",
        "<thinking>not the tag</thinking>",
        "<</think></think>",
        "",
        " \n ",
    ]

    @Test(arguments: samples, [false, true])
    func streamingAgreesWithSplitForEveryCuttingAndTruncation(_ text: String, _ startsInside: Bool) {
        let scalars = Array(text.unicodeScalars)
        for n in 0...scalars.count {
            var view = String.UnicodeScalarView()
            view.append(contentsOf: scalars[..<n])
            let prefix = String(view)
            let expected = ReasoningSplitter.split(prefix, startsInside: startsInside)
            for chunks in ToolTestSupport.cuttings(prefix, exhaustiveLimit: 200, pairLimit: n == scalars.count ? 60 : 0, randomCount: 10) {
                var splitter = ReasoningSplitter(startsInside: startsInside)
                var reasoning = ""
                var content = ""
                for chunk in chunks {
                    let out = splitter.feed(chunk)
                    reasoning += out.reasoning
                    content += out.content
                }
                let out = splitter.finish()
                reasoning += out.reasoning
                content += out.content
                guard reasoning == (expected.reasoning ?? "") && content == (expected.content ?? "") else {
                    Issue.record("\(chunks.map(\.debugDescription)): (\(reasoning.debugDescription), \(content.debugDescription)) != \(expected)")
                    return
                }
            }
        }
    }
}
