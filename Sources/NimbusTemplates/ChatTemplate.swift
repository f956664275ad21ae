import Foundation

/// A Hugging Face / GGUF chat template (`tokenizer.chat_template`), parsed once and rendered per request.
///
/// Rendering matches Python jinja2 as transformers runs it —
/// `ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)` with the `loopcontrols`
/// extension, the `{% generation %}` tag, `raise_exception`, `strftime_now` and transformers' `tojson` —
/// byte for byte for the constructs this module supports. Anything else is rejected by `init`.
///
/// ```swift
/// let template = try ChatTemplate(source: chatTemplateText)
/// let prompt = try template.render(ChatTemplate.context(
///     messages: [["role": "user", "content": "Hello"]],
///     addGenerationPrompt: true, bosToken: "<s>", eosToken: "</s>"))
/// ```
public struct ChatTemplate: Sendable {
    /// The template text as given.
    public let source: String
    private let nodes: [Node]

    /// Parses `source`.
    /// - Throws: `TemplateError` (`.syntax` or `.unsupported`, with the line) when the template is
    ///   invalid or uses a construct this interpreter does not implement.
    public init(source: String) throws {
        self.source = source
        self.nodes = try TemplateParser.parse(source)
    }

    /// Options for one render.
    public struct RenderOptions: Sendable {
        /// The clock behind `strftime_now`; `nil` means the current time (as transformers does).
        public var now: Date?
        /// The zone `now` is shown in; transformers uses the server's local time.
        public var timeZone: TimeZone

        public init(now: Date? = nil, timeZone: TimeZone = .current) {
            self.now = now
            self.timeZone = timeZone
        }
    }

    /// Renders the template with `context` as its variables.
    /// - Returns: the prompt text.
    /// - Throws: `TemplateError` — `.raised` when the template called `raise_exception` (its message is
    ///   the template's), `.render` for type errors and misuse of undefined values where jinja2 fails too.
    public func render(_ context: [String: TemplateValue], options: RenderOptions = RenderOptions()) throws -> String {
        let root = Scope(parent: nil)
        for (name, value) in context {
            if case .undefined = value { continue }  // treated as not passed at all
            root.set(name, Value(value))
        }
        let now = options.now ?? Date()
        let zone = options.timeZone
        let evaluator = Evaluator(settings: RenderSettings(strftime: { pythonStrftime($0, date: now, timeZone: zone) }))
        var out = ""
        let flow = try evaluator.run(nodes, scope: root, into: &out)
        if flow != .normal { throw TemplateError(.render, "'break'/'continue' outside of a loop") }
        return out
    }

    /// Builds the variables transformers' `apply_chat_template` passes to a template.
    ///
    /// transformers always passes `tools` and `documents`, as `None` when absent, so templates that test
    /// `tools is defined` see it defined; this mirrors that.
    /// - Parameters:
    ///   - messages: one object per message, with at least `role` and `content` (other keys such as
    ///     `tool_calls`, `tool_call_id`, `name` are passed through).
    ///   - addGenerationPrompt: whether to end with the assistant header so the model answers.
    ///   - bosToken: the tokenizer's BOS text (e.g. `<|begin_of_text|>`).
    ///   - eosToken: the tokenizer's EOS text.
    ///   - tools: tool (function) definitions as JSON-like values, in the OpenAI `{"type": "function", ...}` shape.
    ///   - extra: any further variables (e.g. `date_string`, `enable_thinking`); these override the above.
    public static func context(
        messages: [TemplateValue],
        addGenerationPrompt: Bool,
        bosToken: String,
        eosToken: String,
        tools: [TemplateValue]? = nil,
        extra: [String: TemplateValue] = [:]
    ) -> [String: TemplateValue] {
        var context: [String: TemplateValue] = [
            "messages": .array(messages),
            "add_generation_prompt": .bool(addGenerationPrompt),
            "bos_token": .string(bosToken),
            "eos_token": .string(eosToken),
            "tools": tools.map { .array($0) } ?? .none,
            "documents": .none,
        ]
        for (key, value) in extra { context[key] = value }
        return context
    }
}
