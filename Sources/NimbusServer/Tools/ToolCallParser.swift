/// Reads tool calls out of a model's complete output.
///
/// What each format accepts (whitespace is space, tab, LF, CR):
///
/// - `hermes`: the text is read left to right; at each `<tool_call>` a call is recognized when,
///   after optional whitespace, a complete JSON object follows whose `name` is a non-empty string
///   and whose `arguments` (or `parameters`) member, if present, is an object; other members are
///   ignored. The call covers the tag, the whitespace, the object and, when it follows after
///   optional whitespace, the `</tool_call>` tag; so an unterminated last block counts when its
///   JSON is complete (output cut after the object). Anything else about a `<tool_call>` tag (not
///   JSON, JSON broken or cut off, no name) leaves the tag in the text, where it and what follows it
///   are read like any other text. Text after a call's object but before its `</tool_call>` stays
///   text, and so does that `</tool_call>`.
/// - `llama3_json`: the whole output, trimmed, optionally starting with `<|python_tag|>`, is one or
///   more call objects separated by `;` (a trailing `;` is allowed). An object may hold only
///   `name` (a non-empty string), `parameters` or `arguments` (an object) and `type`; any other key
///   makes the output plain content.
/// - `mistral`: like hermes, read left to right; at each `[TOOL_CALLS]`, after optional
///   whitespace, either a JSON array of one or more call objects (`name`, `arguments` as for
///   hermes, other members such as `id` ignored), or `name[ARGS]{…}` / `name[CALL_ID]id[ARGS]{…}`
///   where `name` and `id` are runs of letters, digits, `_`, `-`, `.` and whitespace may precede
///   the `{`. Each `[TOOL_CALLS]` carries one section (v11 models repeat the marker per call).
///   Text around sections is content; a marker whose section does not parse stays in the text.
///   An array section is all or nothing.
/// - `pythonic`: the whole output, trimmed, optionally wrapped in `<|python_start|>` …
///   `<|python_end|>`, is a Python list of one or more calls `name(key=value, …)` with keyword
///   arguments only (see `PythonicToolCallReader`).
///
/// `content` is the text outside recognized calls, concatenated in order and trimmed of
/// whitespace at both ends; nil when nothing is left. For the whole-output formats it is the whole
/// output, trimmed, when the output is not a call list, and nil when it is.
enum ToolCallParser {
    static let hermesOpen = Array("<tool_call>".utf8)
    static let hermesClose = Array("</tool_call>".utf8)
    static let mistralMarker = Array("[TOOL_CALLS]".utf8)
    static let mistralArgs = Array("[ARGS]".utf8)
    static let mistralCallID = Array("[CALL_ID]".utf8)
    static let pythonTag = Array("<|python_tag|>".utf8)
    static let llama3Keys = ["name", "parameters", "arguments", "type"]

    static func parse(_ text: String, format: ToolCallFormat) -> (content: String?, calls: [ParsedToolCall]) {
        let bytes = Array(text.utf8)
        switch format {
        case .hermes, .mistral:
            return parseSections(bytes, format: format)
        case .llama3JSON, .pythonic:
            let outcome = format == .pythonic
                ? PythonicToolCallReader.read(bytes, final: true)
                : readLlama3(bytes, final: true)
            if case .calls(let calls, _) = outcome { return (nil, calls) }
            return (ToolCallText.trimmedText(bytes[...]), [])
        }
    }

    /// The marker-led formats: content around sections, calls from the sections that parse.
    private static func parseSections(_ bytes: [UInt8], format: ToolCallFormat) -> (content: String?, calls: [ParsedToolCall]) {
        let marker = format == .hermes ? hermesOpen : mistralMarker
        var content: [UInt8] = []
        var calls: [ParsedToolCall] = []
        var segmentStart = 0
        var p = 0
        while let m = ToolCallText.find(marker, in: bytes, from: p) {
            let section = format == .hermes
                ? readHermesSection(bytes, bodyStart: m + marker.count)
                : readMistralSection(bytes, bodyStart: m + marker.count)
            if let (found, end) = section {
                content += bytes[segmentStart..<m]
                calls += found
                segmentStart = end
                p = end
            } else {
                p = m + marker.count
            }
        }
        content += bytes[segmentStart...]
        return (ToolCallText.trimmedText(content[...]), calls)
    }

    /// The call after a `<tool_call>` tag and where its block ends.
    static func readHermesSection(_ bytes: [UInt8], bodyStart: Int) -> ([ParsedToolCall], end: Int)? {
        let start = ToolCallText.skipSpace(bytes, from: bodyStart)
        guard case .calls(let calls, let end) = ToolCallJSON.read(bytes, from: start, callDepth: 0) else { return nil }
        let close = ToolCallText.skipSpace(bytes, from: end)
        if ToolCallText.match(hermesClose, in: bytes, at: close) == .full {
            return (calls, close + hermesClose.count)
        }
        return (calls, end)
    }

    /// The call(s) after a `[TOOL_CALLS]` marker and where they end.
    static func readMistralSection(_ bytes: [UInt8], bodyStart: Int) -> ([ParsedToolCall], end: Int)? {
        let i = ToolCallText.skipSpace(bytes, from: bodyStart)
        guard i < bytes.count else { return nil }
        if bytes[i] == UInt8(ascii: "[") {
            guard case .calls(let calls, let end) = ToolCallJSON.read(bytes, from: i, callDepth: 1) else { return nil }
            return (calls, end)
        }
        var j = i
        while j < bytes.count, isMistralNameByte(bytes[j]) { j += 1 }
        guard j > i else { return nil }
        let name = ToolCallText.string(bytes[i..<j])
        if ToolCallText.match(mistralCallID, in: bytes, at: j) == .full {
            let idStart = j + mistralCallID.count
            var k = idStart
            while k < bytes.count, isMistralNameByte(bytes[k]) { k += 1 }
            guard k > idStart else { return nil }
            j = k
        }
        guard ToolCallText.match(mistralArgs, in: bytes, at: j) == .full else { return nil }
        let a = ToolCallText.skipSpace(bytes, from: j + mistralArgs.count)
        guard a < bytes.count, bytes[a] == UInt8(ascii: "{") else { return nil }
        var scanner = ToolJSONScanner()
        var e = a
        while e < bytes.count, scanner.status == .incomplete {
            scanner.consume(bytes[e]) { _ in }
            e += 1
        }
        guard scanner.status == .complete else { return nil }
        return ([ParsedToolCall(name: name, arguments: ToolCallText.string(bytes[a..<e]))], e)
    }

    static func isMistralNameByte(_ b: UInt8) -> Bool {
        switch b {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "-"), UInt8(ascii: "."):
            true
        default:
            false
        }
    }

    /// The llama3_json reading of a whole output. With `final` false the output may still grow:
    /// `incomplete` and `calls` both mean "could still be a call list", and `invalid` is only
    /// returned when no continuation can make it one.
    static func readLlama3(_ bytes: [UInt8], final: Bool) -> ToolCallJSON.Outcome {
        let short: ToolCallJSON.Outcome = final ? .invalid : .incomplete
        var i = ToolCallText.skipSpace(bytes, from: 0)
        switch ToolCallText.match(pythonTag, in: bytes, at: i) {
        case .full: i = ToolCallText.skipSpace(bytes, from: i + pythonTag.count)
        case .partial: return short
        case .mismatch: break
        }
        var calls: [ParsedToolCall] = []
        while true {
            guard i < bytes.count else { return calls.isEmpty ? short : .calls(calls, end: i) }
            switch ToolCallJSON.read(bytes, from: i, callDepth: 0, onlyKeys: llama3Keys) {
            case .invalid: return .invalid
            case .incomplete: return short
            case .calls(let found, let end):
                calls += found
                i = ToolCallText.skipSpace(bytes, from: end)
            }
            if i == bytes.count { return .calls(calls, end: i) }
            guard bytes[i] == UInt8(ascii: ";") else { return .invalid }
            i = ToolCallText.skipSpace(bytes, from: i + 1)
        }
    }
}
