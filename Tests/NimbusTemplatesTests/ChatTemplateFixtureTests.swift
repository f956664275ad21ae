import Foundation
import NimbusTemplates
import Testing

/// Every template × conversation rendered by Python jinja2 must render to the same bytes here.
@Suite struct ChatTemplateFixtureTests {
    @Test func fixtureLoads() throws {
        let fixture = try ChatTemplateFixture.load()
        #expect(fixture.cases.count > 200)
        #expect(fixture.features.count > 50)
    }

    @Test(arguments: ChatTemplateFixture.shared?.cases ?? [])
    func rendersLikeJinja2(_ c: ChatTemplateFixture.Case) throws {
        let fixture = try #require(ChatTemplateFixture.shared)
        let info = try #require(fixture.templateInfo(c.template))
        let conversation = try #require(fixture.conversation(c.conversation))
        guard case .string(let source)? = info["source"], case .string(let bos)? = info["bos_token"],
              case .string(let eos)? = info["eos_token"], case .array(let messages)? = conversation["messages"]
        else {
            Issue.record("malformed fixture entry")
            return
        }
        var tools: [TemplateValue]? = nil
        if case .array(let t)? = conversation["tools"] { tools = t }
        var extra: [String: TemplateValue] = [:]
        if case .object(let o)? = conversation["extra"] {
            for (k, v) in o.entries { extra[k] = v }
        }
        let template = try ChatTemplate(source: source)
        let context = ChatTemplate.context(
            messages: messages, addGenerationPrompt: c.addGenerationPrompt, bosToken: bos, eosToken: eos,
            tools: tools, extra: extra)
        try check(template: template, context: context, options: fixture.renderOptions,
                  expected: c.expected, error: c.error, errorType: c.errorType)
    }
}

/// Shared assertion: output bytes equal jinja2's, or the same failure jinja2 had.
func check(
    template: ChatTemplate, context: [String: TemplateValue], options: ChatTemplate.RenderOptions,
    expected: String?, error: String?, errorType: String?
) throws {
    if let expected {
        let output = try template.render(context, options: options)
        #expect(sameBytes(output, expected), "\(firstDifference(output, expected))")
        return
    }
    do {
        let output = try template.render(context, options: options)
        Issue.record("jinja2 failed with \(errorType ?? "?"): \(error ?? "") but this rendered: \(output.debugDescription)")
    } catch let e as TemplateError {
        if errorType == "raise_exception" {
            #expect(e.kind == .raised)
            #expect(e.message == error)
        } else {
            #expect(e.kind == .render, "expected a render error like jinja2's \(errorType ?? ""), got \(e)")
        }
    }
}
