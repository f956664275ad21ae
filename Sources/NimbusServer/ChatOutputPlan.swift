#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import NimbusAPI
import NimbusEngine
import NimbusGrammar
import NimbusModels
import NimbusTemplates

/// What a chat request asks of the output beyond text, decided before generation: the prompt's
/// turns and tools as the template sees them, the tool call format to read back, whether the
/// answer opens with reasoning, and the grammar that `tool_choice`, `response_format` and the
/// `guided_*` fields compile to.
struct ChatOutputPlan {
    var turns: [ChatTurn]
    var tools: [TemplateValue]?
    /// Set when the answer's tool calls are parsed into `tool_calls`.
    var toolFormat: ToolCallFormat?
    /// Set when a reasoning parser is on: whether the prompt already opened `<think>`.
    var reasoningStartsInside: Bool?
    var constraint: OutputConstraint?
    var prompt: [Int] = []
    /// The declared tools' names, when calls are read back.
    var toolNames: Set<String> = []

    /// Calls at most per answer when parallel calls are allowed: bounded so a small model cannot
    /// call forever.
    static let maxParallelCalls = 8

    init(_ chat: ChatCompletionRequest, body: Data, model: LoadedModel, parsing: OutputParsing) throws(APIError) {
        let choice = chat.effectiveToolChoice
        let templateKnowsTools = model.chatTemplate.source.contains("tools")
        let format = parsing.toolCallFormat ?? (templateKnowsTools ? ToolCallFormat.detect(template: model.chatTemplate.source) : nil) ?? .hermes
        turns = chat.messages.map { Self.turn($0, writeCallsAsText: !templateKnowsTools, format: format) }
        if choice != .none {
            if choice == .auto, !parsing.autoToolChoice {
                throw .invalidRequest("tool_choice 'auto' is disabled on this server (NIM_ENABLE_AUTO_TOOL_CHOICE=false); use 'required', a named function or 'none'",
                                      param: "tool_choice")
            }
            toolFormat = format
            toolNames = Set((chat.tools ?? []).map(\.function.name))
            let toolValues = try Self.toolValues(body)
            if templateKnowsTools {
                tools = toolValues
            } else {
                // The template cannot show tools: describe them in a system turn, in hermes form.
                Self.describeTools(toolValues, in: &turns)
            }
        }
        var shape = try StructuredOutputCompiler.shape(for: chat.outputConstraint(), body: body)
        let param = try chat.outputConstraint()?.param ?? "tools"
        // The call grammar is needed when a call is required, or to offer calls beside a
        // constrained answer; plain `auto` reads back whatever the model wrote.
        if choice != .none, let tools = chat.tools, choice != .auto || shape != nil {
            let calls = try Self.callShape(tools, choice: choice, parallel: chat.parallelToolCalls ?? true, format: format, body: body)
            switch choice {
            case .required, .function:
                if shape != nil {
                    throw .invalidRequest("tool_choice '\(choice == .required ? "required" : "function")' cannot be combined with an output constraint such as response_format",
                                          param: "tool_choice")
                }
                shape = calls
            default:
                if let answer = shape { shape = .oneOf([calls, answer]) }
            }
        }
        let text: String
        do {
            text = try model.renderChat(turns, tools: tools)
        } catch {
            throw .invalidRequest("cannot apply the model's chat template: \(error)", param: "messages")
        }
        prompt = model.tokens(ofChat: text)
        if parsing.reasoning != nil {
            // Templates of thinking models may open the block themselves (DeepSeek-R1, Qwen3).
            var end = text[...]
            while let last = end.last, last.isWhitespace { end = end.dropLast() }
            let inside = end.hasSuffix("<think>")
            reasoningStartsInside = inside
            if let answer = shape {
                // Constraints apply after the reasoning block.
                let block: [OutputShape] = [.textExcluding("</think>"), .literal("</think>"), .whitespace, answer]
                shape = inside ? .sequence(block) : .oneOf([.sequence([.literal("<think>")] + block), answer])
            }
        }
        constraint = try StructuredOutputCompiler.constraint(shape, param: param)
    }

    private static func turn(_ message: ChatMessage, writeCallsAsText: Bool, format: ToolCallFormat) -> ChatTurn {
        var turn = ChatTurn(role: message.role.rawValue, content: message.content ?? "", toolCallID: message.toolCallID,
                            name: message.name)
        guard let calls = message.toolCalls, !calls.isEmpty else { return turn }
        if writeCallsAsText {
            // The template would drop them: keep them as the text the model would have written.
            let written = calls.map { "<tool_call>\n{\"name\": \(SchemaJSON.quoted($0.function.name)), \"arguments\": \($0.function.arguments)}\n</tool_call>" }
            turn.content = ([turn.content] + written).filter { !$0.isEmpty }.joined(separator: "\n")
            return turn
        }
        // Templates expect arguments as an object, as transformers passes them.
        turn.toolCalls = .array(calls.map { call in
            let arguments = (try? TemplateValue(parsingJSON: call.function.arguments)) ?? .string(call.function.arguments)
            return .object(TemplateObject([("id", .string(call.id)), ("type", .string("function")),
                                           ("function", .object(TemplateObject([("name", .string(call.function.name)), ("arguments", arguments)])))]))
        })
        return turn
    }

    /// `tools` as written in the body (key order kept), for the template.
    private static func toolValues(_ body: Data) throws(APIError) -> [TemplateValue] {
        guard let root = try? TemplateValue(parsingJSON: String(decoding: body, as: UTF8.self)),
              case .array(let tools)? = root["tools"] else {
            throw .invalidRequest("tools must be an array of function definitions", param: "tools")
        }
        return tools
    }

    private static func describeTools(_ tools: [TemplateValue], in turns: inout [ChatTurn]) {
        let listing = tools.compactMap { try? $0.jsonText() }.joined(separator: "\n")
        let description = """
            You may call one or more functions to assist with the user query. The functions are described, as JSON Schemas, within <tools></tools>:
            <tools>
            \(listing)
            </tools>
            To call a function, answer with a JSON object with the function name and arguments within <tool_call></tool_call> tags:
            <tool_call>
            {"name": <function-name>, "arguments": <args-json-object>}
            </tool_call>
            """
        if let first = turns.first, first.role == "system" || first.role == "developer" {
            turns[0].content = first.content + "\n\n" + description
        } else {
            turns.insert(ChatTurn(role: "system", content: description), at: 0)
        }
    }

    /// The grammar of the tool calls `choice` allows, in `format`: each call's arguments follow
    /// its function's `parameters` schema, so they always parse and validate.
    private static func callShape(_ tools: [ToolDefinition], choice: ToolChoice, parallel: Bool, format: ToolCallFormat,
                                  body: Data) throws(APIError) -> OutputShape {
        var calls: [OutputShape] = []
        // The body once, key order kept, for every tool's schema.
        let document = try StructuredOutputCompiler.checked("tools") { try SchemaJSON.parse(String(decoding: body, as: UTF8.self)) }
        for (i, tool) in tools.enumerated() {
            if case .function(let name) = choice, name != tool.function.name { continue }
            let param = "tools[\(i)].function.parameters"
            let schema: SchemaJSON = try StructuredOutputCompiler.checked(param) {
                guard tool.function.parameters != nil else { return SchemaJSON.object([("type", .string("object"))]) }
                guard case .array(let declared)? = document["tools"], declared.indices.contains(i),
                      let schema = declared[i]["function"]?["parameters"] else { throw GrammarError("the schema is missing") }
                _ = try JSONSchemaCompiler.grammar(schema: schema)
                return schema
            }
            let name = SchemaJSON.quoted(tool.function.name)
            switch format {
            case .hermes:
                calls.append(.sequence([.literal("<tool_call>\n{\"name\": \(name), \"arguments\": "), .schema(schema), .literal("}\n</tool_call>")]))
            case .llama3JSON:
                calls.append(.sequence([.literal("{\"name\": \(name), \"parameters\": "), .schema(schema), .literal("}")]))
            case .mistral:
                calls.append(.sequence([.literal("{\"name\": \(name), \"arguments\": "), .schema(schema), .literal("}")]))
            case .pythonic:
                throw .invalidRequest("tool_choice 'required' or a named function is not supported with the pythonic tool call format; use 'auto'",
                                      param: "tool_choice")
            }
        }
        let named: Bool
        if case .function = choice { named = true } else { named = false }
        let most = named || !parallel ? 1 : maxParallelCalls
        let separator = format == .llama3JSON ? "; " : format == .mistral ? ", " : "\n"
        let repeated = OutputShape.repeated(.oneOf(calls), separator: separator, minimum: 1, maximum: most)
        return format == .mistral ? .sequence([.literal("[TOOL_CALLS] ["), repeated, .literal("]")]) : repeated
    }
}
