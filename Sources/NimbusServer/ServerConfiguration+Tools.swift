import Foundation

/// How a chat answer is read back: tool calls (NIM_TOOL_CALL_PARSER, NIM_ENABLE_AUTO_TOOL_CHOICE)
/// and reasoning (NIM_REASONING_PARSER).
public struct OutputParsing: Sendable {
    /// The tool call format; nil: detected from the chat template, hermes when it shows none.
    var toolCallFormat: ToolCallFormat?
    /// `tool_choice: auto` (the default with tools) is served; false refuses it with a 400.
    var autoToolChoice = true
    /// Split `<think>...</think>` into `reasoning_content`; nil: off.
    var reasoning: ReasoningFormat?

    public init() {}
}

/// Reasoning parsers by vLLM's names; both read a leading `<think>...</think>` block.
enum ReasoningFormat: String, CaseIterable, Sendable {
    case deepseekR1 = "deepseek_r1"
    case qwen3
}

extension ServerConfiguration {
    static let toolVariables: [(name: String, defaultValue: String, help: String)] = [
        ("NIM_TOOL_CALL_PARSER", "from the chat template (hermes if it shows none)",
         "how tool calls are written and read: hermes, llama3_json, mistral or pythonic"),
        ("NIM_ENABLE_AUTO_TOOL_CHOICE", "true", "serve tool_choice 'auto' (the default when a request has tools); false answers it with 400"),
        ("NIM_REASONING_PARSER", "unset", "deepseek_r1 or qwen3: a leading <think>...</think> becomes reasoning_content"),
    ]

    static func resolveOutputParsing(_ env: [String: String]) throws(ConfigurationError) -> OutputParsing {
        var parsing = OutputParsing()
        if let raw = nonEmpty(env["NIM_TOOL_CALL_PARSER"]) {
            guard let format = ToolCallFormat(rawValue: raw.lowercased()) else {
                throw ConfigurationError(variable: "NIM_TOOL_CALL_PARSER",
                                         message: "must be \(ToolCallFormat.allCases.map(\.rawValue).joined(separator: ", ")), got '\(raw)'")
            }
            parsing.toolCallFormat = format
        }
        if let raw = nonEmpty(env["NIM_ENABLE_AUTO_TOOL_CHOICE"]) {
            switch raw.lowercased() {
            case "1", "true", "yes", "on": parsing.autoToolChoice = true
            case "0", "false", "no", "off": parsing.autoToolChoice = false
            default: throw ConfigurationError(variable: "NIM_ENABLE_AUTO_TOOL_CHOICE", message: "must be true or false, got '\(raw)'")
            }
        }
        if let raw = nonEmpty(env["NIM_REASONING_PARSER"]) {
            guard let format = ReasoningFormat(rawValue: raw.lowercased()) else {
                throw ConfigurationError(variable: "NIM_REASONING_PARSER",
                                         message: "must be \(ReasoningFormat.allCases.map(\.rawValue).joined(separator: " or ")), got '\(raw)'")
            }
            parsing.reasoning = format
        }
        return parsing
    }
}
