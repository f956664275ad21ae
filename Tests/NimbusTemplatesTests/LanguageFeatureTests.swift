import Foundation
import NimbusTemplates
import Testing

/// Focused language features, each compared against the output jinja2 recorded in the fixture.
@Suite struct LanguageFeatureTests {
    @Test(arguments: ChatTemplateFixture.shared?.features ?? [])
    func matchesJinja2(_ feature: ChatTemplateFixture.Feature) throws {
        let fixture = try #require(ChatTemplateFixture.shared)
        let template = try ChatTemplate(source: feature.template)
        try check(template: template, context: feature.context, options: fixture.renderOptions,
                  expected: feature.expected, error: feature.error, errorType: feature.errorType)
    }
}
