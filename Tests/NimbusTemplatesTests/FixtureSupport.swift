import Foundation
import NimbusTemplates
import Testing

/// The jinja2-rendered reference data written by scripts/fixtures/gen_template_fixtures.py.
struct ChatTemplateFixture: Sendable {
    struct Case: Sendable, CustomTestStringConvertible {
        let template: String
        let conversation: String
        let addGenerationPrompt: Bool
        let expected: String?
        let error: String?
        let errorType: String?
        var testDescription: String { "\(template) × \(conversation) (agp=\(addGenerationPrompt))" }
    }

    struct Feature: Sendable, CustomTestStringConvertible {
        let name: String
        let template: String
        let context: [String: TemplateValue]
        let expected: String?
        let error: String?
        let errorType: String?
        var testDescription: String { name }
    }

    let root: TemplateObject
    let cases: [Case]
    let features: [Feature]
    let now: Date

    static let shared: ChatTemplateFixture? = try? load()

    static func load() throws -> ChatTemplateFixture {
        guard let url = Bundle.module.url(forResource: "chat_templates", withExtension: "json", subdirectory: "Fixtures") else {
            throw TemplateError(.render, "fixture chat_templates.json missing from the test bundle")
        }
        let text = try String(contentsOf: url, encoding: .utf8)
        guard case .object(let root) = try TemplateValue(parsingJSON: text) else {
            throw TemplateError(.render, "fixture root is not an object")
        }
        func string(_ v: TemplateValue?) -> String? {
            if case .string(let s)? = v { return s }
            return nil
        }
        var cases: [Case] = []
        if case .array(let items)? = root["cases"] {
            for item in items {
                cases.append(Case(
                    template: string(item["template"]) ?? "", conversation: string(item["conversation"]) ?? "",
                    addGenerationPrompt: item["add_generation_prompt"] == .bool(true),
                    expected: string(item["expected"]), error: string(item["error"]), errorType: string(item["error_type"])))
            }
        }
        var features: [Feature] = []
        if case .array(let items)? = root["features"] {
            for item in items {
                var context: [String: TemplateValue] = [:]
                if case .object(let o)? = item["context"] {
                    for (k, v) in o.entries { context[k] = v }
                }
                features.append(Feature(
                    name: string(item["name"]) ?? "", template: string(item["template"]) ?? "", context: context,
                    expected: string(item["expected"]), error: string(item["error"]), errorType: string(item["error_type"])))
            }
        }
        var epoch = 0.0
        if case .double(let d)? = root["now"]?["epoch_utc"] { epoch = d }
        return ChatTemplateFixture(root: root, cases: cases, features: features, now: Date(timeIntervalSince1970: epoch))
    }

    var renderOptions: ChatTemplate.RenderOptions {
        ChatTemplate.RenderOptions(now: now, timeZone: TimeZone(identifier: "UTC") ?? .current)
    }

    func templateInfo(_ name: String) -> TemplateValue? { root["templates"]?[name] }
    func conversation(_ name: String) -> TemplateValue? { root["conversations"]?[name] }
}

/// Byte-level equality: Swift's `==` on String uses canonical equivalence, which would hide
/// differences between precomposed and combining forms.
func sameBytes(_ a: String, _ b: String) -> Bool {
    Array(a.utf8) == Array(b.utf8)
}

/// A readable pointer to the first differing byte, for failure messages.
func firstDifference(_ a: String, _ b: String) -> String {
    let x = Array(a.utf8), y = Array(b.utf8)
    let n = zip(x, y).prefix { $0 == $1 }.count
    let contextStart = max(0, n - 40)
    func snippet(_ bytes: [UInt8]) -> String {
        String(decoding: bytes[min(contextStart, bytes.count)..<min(n + 40, bytes.count)], as: UTF8.self)
    }
    return "first difference at byte \(n):\n  got:      \(snippet(x).debugDescription)\n  expected: \(snippet(y).debugDescription)"
}
