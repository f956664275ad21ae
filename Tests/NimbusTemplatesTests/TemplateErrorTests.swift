import NimbusTemplates
import Testing

/// Constructs jinja2 accepts but this interpreter does not must fail at load time, naming the
/// construct and its line, so a template never renders a silently wrong prompt.
@Suite struct TemplateErrorTests {
    private func loadError(_ source: String) -> TemplateError? {
        do {
            _ = try ChatTemplate(source: source)
            return nil
        } catch let error as TemplateError {
            return error
        } catch {
            return nil
        }
    }

    @Test(arguments: [
        ("{% include 'other.jinja' %}", "include"),
        ("{% extends 'base' %}", "extends"),
        ("{% import 'm' as m %}", "import"),
        ("{% from 'm' import x %}", "from"),
        ("{% block b %}{% endblock %}", "block"),
        ("{% call m() %}x{% endcall %}", "call"),
        ("{{ x | groupby('a') }}", "groupby"),
        ("{{ x | batch(2) }}", "batch"),
        ("{{ x | format(1) }}", "format"),
        ("{{ x is escaped }}", "escaped"),
        ("{{ '%s' % x }}", "printf"),
        ("{% for x in y recursive %}{% endfor %}", "recursive"),
        ("{% set x | upper %}a{% endset %}", "block set"),
    ])
    func unsupportedConstructsFailAtLoad(_ source: String, _ construct: String) throws {
        let error = try #require(loadError(source))
        #expect(error.kind == .unsupported)
        #expect(error.line == 1)
        #expect(error.description.contains(construct))
    }

    @Test func unsupportedErrorNamesTheLine() throws {
        let error = try #require(loadError("line one\n{% if x %}\n  {{ x | wordwrap(5) }}\n{% endif %}"))
        #expect(error.kind == .unsupported)
        #expect(error.line == 3)
        #expect(error.description.contains("wordwrap"))
        #expect(error.description.contains("line 3"))
    }

    @Test(arguments: [
        "{% if x %}unclosed",
        "{{ x ",
        "{% for x in %}{% endfor %}",
        "{# never closed",
        "{% endif %}",
        "{% frobnicate %}",
        "{{ (1, 2 }}",
        "{% raw %}no end",
    ])
    func syntaxErrors(_ source: String) throws {
        let error = try #require(loadError(source))
        #expect(error.kind == .syntax)
    }

    @Test func raiseExceptionCarriesMessage() throws {
        let template = try ChatTemplate(source: "{{ raise_exception('Roles must alternate') }}")
        #expect(throws: TemplateError(.raised, "Roles must alternate", line: 1)) {
            try template.render([:])
        }
    }

    @Test func unsupportedMethodsFailAtRender() throws {
        let template = try ChatTemplate(source: "{{ messages.append(1) }}")
        #expect(throws: TemplateError.self) { try template.render(["messages": []]) }
        let format = try ChatTemplate(source: "{{ '{:>5}'.format(1) }}")
        #expect(throws: TemplateError.self) { try format.render([:]) }
    }

    @Test func renderErrorsCarryTheLine() throws {
        let template = try ChatTemplate(source: "a\nb\n{{ 'x' + 1 }}")
        do {
            _ = try template.render([:])
            Issue.record("expected a render error")
        } catch let error as TemplateError {
            #expect(error.kind == .render)
            #expect(error.line == 3)
        }
    }
}
