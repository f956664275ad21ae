import NimbusAPI

/// Reads a chat answer's text back into OpenAI's message parts: reasoning (when a reasoning parser
/// is on), content, and tool calls (when the request had tools), whole or as stream deltas.
struct ChatAnswerReader {
    struct Answer {
        var content: String?
        var toolCalls: [ToolCall]?
        var reasoning: String?
    }

    /// The parts of a whole answer; `toolNames` are the declared tools (a bare or fenced JSON
    /// call counts only if it names one).
    static func read(_ text: String, toolFormat: ToolCallFormat?, toolNames: Set<String> = [], reasoningStartsInside: Bool?) -> Answer {
        var answer = Answer(content: text)
        if let inside = reasoningStartsInside {
            let split = ReasoningSplitter.split(text, startsInside: inside)
            answer.reasoning = split.reasoning
            answer.content = split.content
        }
        if let toolFormat {
            var parsed = ToolCallParser.parse(answer.content ?? "", format: toolFormat)
            if parsed.calls.isEmpty, toolFormat == .hermes, let call = bareCall(answer.content ?? "", toolNames: toolNames) {
                parsed = (nil, [call])
            }
            if !parsed.calls.isEmpty {
                answer.content = parsed.content
                answer.toolCalls = parsed.calls.map { ToolCall(id: ResponseID.toolCall(), name: $0.name, arguments: $0.arguments) }
            }
        }
        return answer
    }

    /// Hermes models (Qwen2.5-Coder) often write a call as a bare or ```json-fenced object
    /// instead of a `<tool_call>` block: `{"name": "f", "arguments": {...}}` naming a declared
    /// tool, as the whole answer, is read as a call too (llama.cpp's server accepts the same).
    static func bareCall(_ text: String, toolNames: Set<String>) -> ParsedToolCall? {
        var body = Substring(text)
        func trim() {
            while let c = body.first, c.isWhitespace { body = body.dropFirst() }
            while let c = body.last, c.isWhitespace { body = body.dropLast() }
        }
        trim()
        if body.hasPrefix("```") {
            guard body.hasSuffix("```"), body.count >= 6 else { return nil }
            body = body.dropFirst(3).dropLast(3)
            if body.hasPrefix("json") { body = body.dropFirst(4) }
            trim()
        }
        // One `{"name", "arguments"}` object is llama3_json's form; its reader keeps the
        // arguments' text as written.
        guard body.first == "{" else { return nil }
        let parsed = ToolCallParser.parse(String(body), format: .llama3JSON)
        guard parsed.content == nil, parsed.calls.count == 1, let call = parsed.calls.first, toolNames.contains(call.name) else { return nil }
        return call
    }

    private var reasoning: ReasoningSplitter?
    private var calls: ToolCallStreamParser?
    private let toolNames: Set<String>
    /// Hermes answers that open with `{` or a code fence are held whole (they may be a bare call).
    private var held: String?
    private var startedCalls: Set<Int> = []
    /// Whether a tool call was made (the finish reason is then `tool_calls`): started, and not
    /// abandoned because its text broke off after its name was sent.
    var madeCalls: Bool { !startedCalls.subtracting(calls?.abortedCallIndices ?? []).isEmpty }

    init(toolFormat: ToolCallFormat?, toolNames: Set<String> = [], reasoningStartsInside: Bool?) {
        reasoning = reasoningStartsInside.map { ReasoningSplitter(startsInside: $0) }
        calls = toolFormat.map { ToolCallStreamParser(format: $0) }
        self.toolNames = toolFormat == .hermes ? toolNames : []
        held = self.toolNames.isEmpty ? nil : ""
    }

    /// Content for the call parser, once a held answer's opening shows it is no bare call.
    private mutating func release(_ text: String) -> String? {
        guard held != nil else { return text }
        held?.append(text)
        guard let buffer = held else { return text }
        let start = buffer.drop { $0.isWhitespace }
        if start.isEmpty || start.hasPrefix("{") || start.hasPrefix("```") || "```".hasPrefix(start) { return nil }
        held = nil
        return buffer
    }

    /// Deltas for the next piece of text (possibly none while a marker is undecided).
    mutating func feed(_ text: String) -> [ChatCompletionChunk.Delta] {
        guard reasoning != nil || calls != nil else { return text.isEmpty ? [] : [.init(content: text)] }
        var deltas: [ChatCompletionChunk.Delta] = []
        var content = text
        if reasoning != nil, let split = reasoning?.feed(text) {
            if !split.reasoning.isEmpty { deltas.append(.init(reasoningContent: split.reasoning)) }
            content = split.content
        }
        guard let released = release(content) else { return deltas }
        deltas += contentDeltas(calls == nil ? [.content(released)] : (calls?.feed(released) ?? []))
        return deltas
    }

    /// Deltas for whatever was held back, at the end of the answer.
    mutating func finish() -> [ChatCompletionChunk.Delta] {
        var deltas: [ChatCompletionChunk.Delta] = []
        var content = ""
        if reasoning != nil, let split = reasoning?.finish() {
            if !split.reasoning.isEmpty { deltas.append(.init(reasoningContent: split.reasoning)) }
            content = split.content
        }
        if let buffer = held.map({ $0 + content }) {
            held = nil
            if let call = Self.bareCall(buffer, toolNames: toolNames) {
                return deltas + contentDeltas([.callStarted(index: 0, name: call.name), .arguments(index: 0, fragment: call.arguments)])
            }
            content = buffer
        }
        if calls != nil {
            var events = calls?.feed(content) ?? []
            events += calls?.finish() ?? []
            deltas += contentDeltas(events)
        } else {
            deltas += contentDeltas([.content(content)])
        }
        return deltas
    }

    private mutating func contentDeltas(_ events: [ToolStreamEvent]) -> [ChatCompletionChunk.Delta] {
        events.compactMap { event in
            switch event {
            case .content(let text):
                return text.isEmpty ? nil : .init(content: text)
            case .callStarted(let index, let name):
                startedCalls.insert(index)
                return .init(toolCalls: [ToolCallDelta(index: index, id: ResponseID.toolCall(), name: name, arguments: "")])
            case .arguments(let index, let fragment):
                return fragment.isEmpty ? nil : .init(toolCalls: [ToolCallDelta(index: index, arguments: fragment)])
            }
        }
    }
}
