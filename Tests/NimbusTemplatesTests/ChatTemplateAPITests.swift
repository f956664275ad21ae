import Foundation
import NimbusTemplates
import Testing

@Suite struct ChatTemplateAPITests {
    @Test func contextBuilderMatchesTransformers() throws {
        let context = ChatTemplate.context(
            messages: [["role": "user", "content": "hi"]], addGenerationPrompt: true,
            bosToken: "<s>", eosToken: "</s>", extra: ["date_string": "01 Jan 2025"])
        #expect(context["tools"] == TemplateValue.none)
        #expect(context["documents"] == TemplateValue.none)
        #expect(context["add_generation_prompt"] == true)
        #expect(context["bos_token"] == "<s>")
        #expect(context["date_string"] == "01 Jan 2025")
        let template = try ChatTemplate(source: "{{ tools is defined }} {{ tools is none }} {{ bos_token }}{{ messages[0].content }}")
        #expect(try template.render(context) == "True True <s>hi")
    }

    @Test func undefinedContextValuesAreNotDefined() throws {
        let template = try ChatTemplate(source: "{{ x is defined }}")
        #expect(try template.render(["x": .undefined]) == "False")
    }

    @Test func jsonParsingKeepsOrderAndNumberKinds() throws {
        let value = try TemplateValue(parsingJSON: #"{"z": 1, "a": 1.0, "m": [true, null, "\u00e9\ud83d\ude00"], "e": {}}"#)
        guard case .object(let object) = value else {
            Issue.record("not an object")
            return
        }
        #expect(object.keys == ["z", "a", "m", "e"])
        #expect(object["z"] == 1)
        #expect(object["a"] == .double(1.0))
        #expect(object["m"] == [true, nil, "é😀"])
        #expect(try value.jsonString() == #"{"z": 1, "a": 1.0, "m": [true, null, "é😀"], "e": {}}"#)
        #expect(try value.jsonString(indent: 2, sortKeys: true).hasPrefix("{\n  \"a\": 1.0,\n  \"e\": {},"))
        #expect(throws: TemplateError.self) { try TemplateValue(parsingJSON: "{\"a\": }") }
    }

    @Test func objectLiteralKeepsWrittenOrder() throws {
        let tool: TemplateValue = ["type": "function", "function": ["name": "f", "parameters": ["b": 1, "a": 2]]]
        let template = try ChatTemplate(source: "{{ t | tojson }}")
        #expect(try template.render(["t": tool]) == #"{"type": "function", "function": {"name": "f", "parameters": {"b": 1, "a": 2}}}"#)
    }

    @Test func strftimeNowUsesTheGivenClock() throws {
        let template = try ChatTemplate(source: "{{ strftime_now('%d %b %Y %H:%M') }}")
        let options = ChatTemplate.RenderOptions(
            now: Date(timeIntervalSince1970: 1_700_000_000), timeZone: TimeZone(secondsFromGMT: 3600) ?? .current)
        #expect(try template.render([:], options: options) == "14 Nov 2023 23:13")
    }

    @Test func rendersConcurrently() async throws {
        let template = try ChatTemplate(source: "{% for m in messages %}<{{ m.role }}>{{ m.content | trim }}{% endfor %}")
        let outputs = try await withThrowingTaskGroup(of: String.self) { group in
            for i in 0..<16 {
                group.addTask {
                    try template.render(["messages": [["role": "user", "content": .string(" \(i) ")]]])
                }
            }
            var all: [String] = []
            for try await output in group { all.append(output) }
            return all
        }
        #expect(Set(outputs).count == 16)
    }
}
