/// What `ToolCallStreamParser` releases as generated text arrives.
enum ToolStreamEvent: Equatable, Sendable {
    /// Text outside tool calls.
    case content(String)
    /// A call's name is known; `index` counts announced calls from 0 (OpenAI's `tool_calls[].index`).
    case callStarted(index: Int, name: String)
    /// The next piece of call `index`'s arguments JSON.
    case arguments(index: Int, fragment: String)
}

/// Reads tool calls out of generated text as it streams, with the same grammar as
/// `ToolCallParser.parse` (see there for what each format accepts).
///
/// What it releases, and when:
/// - Content: text that cannot be part of a call is released on the `feed` that brings it, with
///   two holds: a suffix that could begin a marker (`<tool_call>`, `[TOOL_CALLS]`) waits until it
///   is decided, and whitespace waits until text follows it. Whitespace before the first content
///   and after the last is never released. So the concatenated `.content` of a stream is exactly
///   `parse`'s `content` (or "" where that is nil), for every output.
/// - hermes and mistral: `.callStarted` as soon as the name is known (hermes and mistral arrays:
///   when the `name` string closes; `name[ARGS]`: at the `{` after `[ARGS]`), then `.arguments`
///   fragments with everything of the arguments object that has arrived, never past its `}`
///   (when the model writes `arguments` before `name`, it is held and released with the name).
///   A call object without arguments gets one `.arguments("{}")` when it closes.
/// - llama3_json and pythonic: the calls are the whole output, so text that starts like a call
///   list (`{` or `<|python_tag|>`; `[` or `<|python_start|>`, after whitespace) is held to the
///   end and released by `finish()`: all calls, or all of it as content. Held text is re-checked
///   as it grows (at most about every eighth of its size once past 1 KiB) and released as
///   content as soon as it can no longer be a call list; text that starts otherwise streams as
///   content at once.
/// - `finish()` decides everything still held: a partial marker is content, and a section cut
///   off is handled as `parse` does.
///
/// Equivalence with `parse`, for any output and any way of cutting it into `feed` chunks: the
/// events depend only on the text, not on the cutting, up to how pieces are grouped into events.
/// The concatenated content always equals `parse`'s. The calls equal `parse`'s calls (name, and
/// concatenated `.arguments` equal to its arguments, index by index) whenever no announced call
/// is aborted. A call is aborted when, after `.callStarted`, its section fails to parse: the JSON
/// breaks, the arguments member is not an object, or the output ends first (max_tokens). Its
/// announcement cannot be taken back: its index stays used and is listed in
/// `abortedCallIndices`, its arguments stop where the failure was found, and the section's text
/// comes out as content, exactly as `parse` (which returns no call for it) puts it in its content.
/// So `parse`'s calls are always the stream's calls minus the aborted ones.
///
/// Feed after `finish()` is not supported.
struct ToolCallStreamParser {
    let format: ToolCallFormat
    /// Announced calls whose sections then failed, in order.
    private(set) var abortedCallIndices: [Int] = []

    private enum Mode {
        case text
        case hermesBody, hermesObject, hermesAfter
        case mistralStart, mistralArray, mistralName, mistralTag(idAllowed: Bool), mistralID, mistralArgsSpace, mistralArgs
        case wholeStart, wholeHeld, passthrough
    }

    private var buffer: [UInt8] = []
    private var pos = 0
    private var mode: Mode
    private var trimmer = ToolContentTrimmer()
    private var events: [ToolStreamEvent] = []
    private var nextIndex = 0

    // The section being read: where its marker starts and ends, the calls it announced.
    private var sectionStart = 0
    private var markerEnd = 0
    private var sectionCalls: [Int] = []
    // JSON being scanned: scanner offset 0 is `buffer[scanBase]`.
    private var scanner = ToolJSONScanner()
    private var scanBase = 0
    private var reader = ToolCallObjectReader(depth: 0)
    private var scanEvents: [ToolJSONScanner.Event] = []
    private var currentIndex: Int?
    private var argumentsEmitted: Int?
    private var nameStart = 0
    private var nameEnd = 0
    private var idStart = 0
    private var afterStart = 0
    private var checkedCount = 0

    init(format: ToolCallFormat) {
        self.format = format
        switch format {
        case .hermes, .mistral: mode = .text
        case .llama3JSON, .pythonic: mode = .wholeStart
        }
    }

    mutating func feed(_ text: String) -> [ToolStreamEvent] {
        buffer.append(contentsOf: text.utf8)
        run(final: false)
        return takeEvents()
    }

    mutating func finish() -> [ToolStreamEvent] {
        run(final: true)
        trimmer.finish()
        return takeEvents()
    }

    private mutating func takeEvents() -> [ToolStreamEvent] {
        defer { events.removeAll() }
        return events
    }

    private mutating func run(final: Bool) {
        while step(final: final) {}
        // Outside sections nothing before `pos` is needed again.
        switch mode {
        case .text, .passthrough:
            if pos > 0 {
                buffer.removeFirst(pos)
                pos = 0
            }
        default:
            break
        }
    }

    /// Advances the current mode; false when it needs more text (or, at the end, is done).
    private mutating func step(final: Bool) -> Bool {
        switch mode {
        case .text: return text(final: final)
        case .hermesBody: return hermesBody(final: final)
        case .hermesObject, .mistralArray: return scanCalls(final: final)
        case .hermesAfter: return hermesAfter(final: final)
        case .mistralStart: return mistralStart(final: final)
        case .mistralName: return mistralName(final: final)
        case .mistralTag(let idAllowed): return mistralTag(idAllowed: idAllowed, final: final)
        case .mistralID: return mistralID(final: final)
        case .mistralArgsSpace: return mistralArgsSpace(final: final)
        case .mistralArgs: return mistralArgs(final: final)
        case .wholeStart: return wholeStart(final: final)
        case .wholeHeld: return wholeHeld(final: final)
        case .passthrough:
            emitContent(pos..<buffer.count)
            pos = buffer.count
            return false
        }
    }

    // MARK: Output

    private mutating func emit(_ event: ToolStreamEvent) {
        switch (events.last, event) {
        case (.content(let a)?, .content(let b)):
            events[events.count - 1] = .content(a + b)
        case (.arguments(let i, let a)?, .arguments(let j, let b)) where i == j:
            events[events.count - 1] = .arguments(index: i, fragment: a + b)
        default:
            events.append(event)
        }
    }

    private mutating func emitContent(_ range: Range<Int>) {
        guard !range.isEmpty, let bytes = trimmer.add(buffer[range]) else { return }
        emit(.content(ToolCallText.string(bytes[...])))
    }

    private mutating func announce(_ name: String) {
        let index = nextIndex
        nextIndex += 1
        sectionCalls.append(index)
        currentIndex = index
        argumentsEmitted = nil
        emit(.callStarted(index: index, name: name))
    }

    // MARK: Sections (hermes, mistral)

    private var marker: [UInt8] {
        format == .hermes ? ToolCallParser.hermesOpen : ToolCallParser.mistralMarker
    }

    private mutating func text(final: Bool) -> Bool {
        let marker = self.marker
        let first = marker[0]
        var i = pos
        while i < buffer.count {
            if buffer[i] == first {
                switch ToolCallText.match(marker, in: buffer, at: i) {
                case .full:
                    emitContent(pos..<i)
                    sectionStart = i
                    markerEnd = i + marker.count
                    sectionCalls = []
                    pos = markerEnd
                    mode = format == .hermes ? .hermesBody : .mistralStart
                    return true
                case .partial where !final:
                    emitContent(pos..<i)
                    pos = i
                    return false
                case .partial, .mismatch:
                    break
                }
            }
            i += 1
        }
        emitContent(pos..<buffer.count)
        pos = buffer.count
        return false
    }

    /// The section does not parse: its marker is text, and reading goes on right after it.
    private mutating func failSection() -> Bool {
        abortedCallIndices += sectionCalls
        sectionCalls = []
        currentIndex = nil
        emitContent(sectionStart..<markerEnd)
        pos = markerEnd
        mode = .text
        return true
    }

    private mutating func endSection(at end: Int) -> Bool {
        sectionCalls = []
        currentIndex = nil
        pos = end
        mode = .text
        return true
    }

    /// Skips whitespace from `pos`; false when the text ran out.
    private mutating func skipSpace() -> Bool {
        pos = ToolCallText.skipSpace(buffer, from: pos)
        return pos < buffer.count
    }

    private mutating func startScan(depth: Int) {
        scanner = ToolJSONScanner()
        scanBase = pos
        reader = ToolCallObjectReader(depth: depth)
        currentIndex = nil
        argumentsEmitted = nil
    }

    private mutating func hermesBody(final: Bool) -> Bool {
        guard skipSpace() else { return final ? failSection() : false }
        guard buffer[pos] == UInt8(ascii: "{") else { return failSection() }
        startScan(depth: 0)
        mode = .hermesObject
        return true
    }

    /// Scans call objects (hermes' object, mistral's array) with `reader`.
    private mutating func scanCalls(final: Bool) -> Bool {
        var sc = scanner
        var failed = false
        var collected = scanEvents
        while pos < buffer.count && sc.status == .incomplete && !failed {
            collected.removeAll(keepingCapacity: true)
            sc.consume(buffer[pos]) { collected.append($0) }
            for event in collected where !failed {
                failed = !handle(event)
            }
            if failed || sc.status == .invalid {
                // What was valid before the breaking byte goes out first, so that an aborted
                // call's arguments do not depend on where the feeds were cut.
                flushArguments(limit: pos - scanBase)
                failed = true
            }
            pos += 1
        }
        scanner = sc
        scanEvents = collected
        if failed { return failSection() }
        flushArguments(limit: pos - scanBase)
        if sc.status == .complete {
            if format == .hermes {
                afterStart = pos
                mode = .hermesAfter
                return true
            }
            return sectionCalls.isEmpty ? failSection() : endSection(at: pos)
        }
        return final ? failSection() : false
    }

    /// One scanner event for the call reader; false when the section fails.
    private mutating func handle(_ event: ToolJSONScanner.Event) -> Bool {
        if case .valueStart(let d, _, _) = event, d == 1, reader.depth == 1 {
            reader = ToolCallObjectReader(depth: 1)
            currentIndex = nil
            argumentsEmitted = nil
        }
        let bytes = buffer
        let base = scanBase
        switch reader.handle(event, bytes: { bytes[(base + $0.lowerBound)..<(base + $0.upperBound)] }) {
        case .invalid:
            return false
        case .nameKnown:
            announce(reader.name ?? "")
            if let end = reader.argumentsEnd { flushArguments(limit: end) }
        case .ended:
            if let index = currentIndex {
                if let end = reader.argumentsEnd {
                    flushArguments(limit: end)
                } else {
                    emit(.arguments(index: index, fragment: "{}"))
                }
            }
            currentIndex = nil
        case .none:
            break
        }
        return true
    }

    /// Releases the announced call's arguments up to scanner offset `limit` (never past their end).
    private mutating func flushArguments(limit: Int) {
        guard let index = currentIndex, let start = reader.argumentsStart else { return }
        let end = min(reader.argumentsEnd ?? limit, limit)
        let from = argumentsEmitted ?? start
        guard end > from else { return }
        argumentsEmitted = end
        emit(.arguments(index: index, fragment: ToolCallText.string(buffer[(scanBase + from)..<(scanBase + end)])))
    }

    private mutating func hermesAfter(final: Bool) -> Bool {
        let close = ToolCallText.skipSpace(buffer, from: afterStart)
        switch ToolCallText.match(ToolCallParser.hermesClose, in: buffer, at: close) {
        case .full:
            return endSection(at: close + ToolCallParser.hermesClose.count)
        case .partial where !final:
            return false
        case .partial, .mismatch:
            return endSection(at: afterStart)
        }
    }

    private mutating func mistralStart(final: Bool) -> Bool {
        guard skipSpace() else { return final ? failSection() : false }
        let b = buffer[pos]
        if b == UInt8(ascii: "[") {
            startScan(depth: 1)
            mode = .mistralArray
            return true
        }
        guard ToolCallParser.isMistralNameByte(b) else { return failSection() }
        nameStart = pos
        mode = .mistralName
        return true
    }

    private mutating func mistralName(final: Bool) -> Bool {
        while pos < buffer.count, ToolCallParser.isMistralNameByte(buffer[pos]) { pos += 1 }
        guard pos < buffer.count else { return final ? failSection() : false }
        nameEnd = pos
        mode = .mistralTag(idAllowed: true)
        return true
    }

    private mutating func mistralTag(idAllowed: Bool, final: Bool) -> Bool {
        let args = ToolCallText.match(ToolCallParser.mistralArgs, in: buffer, at: pos)
        if args == .full {
            pos += ToolCallParser.mistralArgs.count
            mode = .mistralArgsSpace
            return true
        }
        let callID = idAllowed ? ToolCallText.match(ToolCallParser.mistralCallID, in: buffer, at: pos) : .mismatch
        if callID == .full {
            pos += ToolCallParser.mistralCallID.count
            idStart = pos
            mode = .mistralID
            return true
        }
        if (args == .partial || callID == .partial) && !final { return false }
        return failSection()
    }

    private mutating func mistralID(final: Bool) -> Bool {
        while pos < buffer.count, ToolCallParser.isMistralNameByte(buffer[pos]) { pos += 1 }
        guard pos < buffer.count else { return final ? failSection() : false }
        guard pos > idStart else { return failSection() }
        mode = .mistralTag(idAllowed: false)
        return true
    }

    private mutating func mistralArgsSpace(final: Bool) -> Bool {
        guard skipSpace() else { return final ? failSection() : false }
        guard buffer[pos] == UInt8(ascii: "{") else { return failSection() }
        startScan(depth: 0)
        announce(ToolCallText.string(buffer[nameStart..<nameEnd]))
        argumentsEmitted = 0
        mode = .mistralArgs
        return true
    }

    private mutating func mistralArgs(final: Bool) -> Bool {
        var sc = scanner
        while pos < buffer.count && sc.status == .incomplete {
            sc.consume(buffer[pos]) { _ in }
            if sc.status == .invalid { break }
            pos += 1
        }
        scanner = sc
        // Up to `pos`: everything that arrived, or up to the byte that broke the JSON.
        if let index = currentIndex, let from = argumentsEmitted, pos - scanBase > from {
            emit(.arguments(index: index, fragment: ToolCallText.string(buffer[(scanBase + from)..<pos])))
            argumentsEmitted = pos - scanBase
        }
        if sc.status == .invalid { return failSection() }
        if sc.status == .complete { return endSection(at: pos) }
        return final ? failSection() : false
    }

    // MARK: Whole-output formats (llama3_json, pythonic)

    private mutating func wholeStart(final: Bool) -> Bool {
        let i = ToolCallText.skipSpace(buffer, from: 0)
        guard i < buffer.count else {
            if final { mode = .passthrough }
            return final
        }
        let (opener, tag): (UInt8, [UInt8]) = format == .pythonic
            ? (UInt8(ascii: "["), PythonicToolCallReader.start)
            : (UInt8(ascii: "{"), ToolCallParser.pythonTag)
        if buffer[i] == opener {
            mode = .wholeHeld
            return true
        }
        switch ToolCallText.match(tag, in: buffer, at: i) {
        case .full:
            mode = .wholeHeld
            return true
        case .partial where !final:
            return false
        case .partial, .mismatch:
            mode = .passthrough
            return true
        }
    }

    private func readWhole(final: Bool) -> ToolCallJSON.Outcome {
        format == .pythonic
            ? PythonicToolCallReader.read(buffer, final: final)
            : ToolCallParser.readLlama3(buffer, final: final)
    }

    private mutating func wholeHeld(final: Bool) -> Bool {
        if final {
            guard case .calls(let calls, _) = readWhole(final: true) else {
                mode = .passthrough
                return true
            }
            for call in calls {
                announce(call.name)
                emit(.arguments(index: currentIndex!, fragment: call.arguments))
            }
            sectionCalls = []
            pos = buffer.count
            mode = .passthrough
            return false
        }
        let grown = buffer.count - checkedCount
        guard grown > 0, buffer.count <= 1024 || grown >= buffer.count / 8 else { return false }
        checkedCount = buffer.count
        if case .invalid = readWhole(final: false) {
            mode = .passthrough
            return true
        }
        return false
    }
}

/// Releases content with whitespace trimmed at both ends of the whole stream: whitespace before
/// the first other byte is dropped, whitespace after is held until another byte follows it, and
/// what is still held at the end is dropped.
struct ToolContentTrimmer {
    private var started = false
    private var pending: [UInt8] = []

    /// The bytes to release now, or nil.
    mutating func add(_ bytes: ArraySlice<UInt8>) -> [UInt8]? {
        guard let last = bytes.lastIndex(where: { !ToolCallText.isSpace($0) }) else {
            if started { pending += bytes }
            return nil
        }
        var out: [UInt8]
        if started {
            out = pending
            out += bytes[..<(last + 1)]
        } else {
            let first = bytes.firstIndex(where: { !ToolCallText.isSpace($0) })!
            out = Array(bytes[first...last])
            started = true
        }
        pending = Array(bytes[(last + 1)...])
        return out
    }

    mutating func finish() {
        pending = []
    }
}
