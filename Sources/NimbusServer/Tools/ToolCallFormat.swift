/// How a model writes tool calls into its output text, and so how `ToolCallParser` and
/// `ToolCallStreamParser` read them back.
///
/// - `hermes`: `<tool_call>\n{"name": …, "arguments": {…}}\n</tool_call>` blocks (Qwen2.5, Qwen3,
///   QwQ, Hermes 2 Pro / Hermes 3, Granite 4, MiMo).
/// - `llama3JSON`: the whole output is `{"name": …, "parameters": {…}}`, several joined by `;`,
///   optionally after `<|python_tag|>` (Llama 3.1 / 3.2 / 3.3 JSON tool calling).
/// - `mistral`: `[TOOL_CALLS][{"name": …, "arguments": {…}}, …]` (Mistral v0.3, Nemo) or
///   `[TOOL_CALLS]name[ARGS]{…}` (v11 tokenizers: Mistral Small 3.2, Devstral, Ministral 3; with an
///   optional `[CALL_ID]id` before `[ARGS]`).
/// - `pythonic`: the whole output is a Python list of calls, `[f(a=1), g(b="x")]` (Llama 3.2 / 4).
enum ToolCallFormat: String, CaseIterable, Sendable {
    case hermes
    case llama3JSON = "llama3_json"
    case mistral
    case pythonic

    /// The format a chat template teaches its model, judged from the template's text; nil when the
    /// template shows none of the formats above.
    ///
    /// - Templates that write calls as XML rather than JSON (`<function=name>` / `<parameter=…>` of
    ///   Qwen3-Coder, Qwen3.5, Nemotron 3; `<arg_key>`/`<arg_value>` of GLM 4.x; MiniMax's
    ///   `<invoke name=…>`; Functionary's `<function=…>`) are none of these formats, even when they
    ///   also wrap calls in `<tool_call>`: nil.
    /// - `<tool_call>` → hermes.
    /// - `<|python_tag|>`, or `"parameters"` together with `ipython` → llama3_json.
    /// - `[TOOL_CALLS]` → mistral.
    ///
    /// `pythonic` is never detected: Llama 3.2's template asks for JSON; pythonic is configured.
    static func detect(template: String) -> ToolCallFormat? {
        let xmlMarkers = ["<function=", "<arg_key>", "<invoke name=", "<invoke "]
        if xmlMarkers.contains(where: { template.contains($0) }) { return nil }
        if template.contains("<tool_call>") { return .hermes }
        if template.contains("<|python_tag|>") || (template.contains("\"parameters\"") && template.contains("ipython")) {
            return .llama3JSON
        }
        if template.contains("[TOOL_CALLS]") { return .mistral }
        return nil
    }
}
