/// A validating, resumable JSON scanner (RFC 8259 syntax) for one container value, fed a UTF-8 byte
/// at a time. It never looks ahead, so it serves both whole-text parsing and streaming: after any
/// prefix it says whether that prefix can still grow into a valid value (`incomplete`), already is
/// one (`complete`; feed nothing more), or cannot (`invalid`, decided on the first byte that breaks
/// the grammar).
///
/// The root must be an object or an array. Strings are checked for escapes and raw control
/// characters; bytes of 0x80 and above are taken as they are (the input comes from Swift strings, so
/// it is valid UTF-8). Structure is reported through `Event`s with offsets counted from the first
/// byte fed (offset 0), which is how the tool-call readers find keys, values and their extents.
struct ToolJSONScanner {
    enum Status: Equatable { case incomplete, complete, invalid }

    enum Event: Equatable {
        /// A value begins with `byte` at `at`; `depth` is the number of containers around it (the root
        /// has depth 0, the members of a root object depth 1).
        case valueStart(depth: Int, at: Int, byte: UInt8)
        /// The value that began at `depth` ends just before `end`.
        case valueEnd(depth: Int, end: Int)
        /// An object key occupies `start..<end`, quotes included.
        case keyEnd(depth: Int, start: Int, end: Int)
    }

    private enum NumberState { case minus, zero, integer, fractionStart, fraction, exponentStart, exponentSign, exponent }
    private enum Literal { case `true`, `false`, null }
    private enum Mode {
        case value, valueOrClose, keyOrClose, key, colon, commaOrClose
        case string, escape, hex(Int)
        case number(NumberState)
        case literal(Literal, Int)
        case done
    }

    private(set) var status = Status.incomplete
    /// Bytes fed so far.
    private(set) var consumed = 0
    private var stack: [UInt8] = []
    private var mode = Mode.value
    private var stringStart = 0
    private var stringIsKey = false

    /// Feeds one byte. Feeding after `complete` or `invalid` leaves the scanner `invalid`.
    mutating func consume(_ byte: UInt8, _ emit: (Event) -> Void) {
        if status != .incomplete {
            status = .invalid
        } else {
            step(byte, emit)
        }
        consumed += 1
    }

    private mutating func step(_ b: UInt8, _ emit: (Event) -> Void) {
        let at = consumed
        switch mode {
        case .value, .valueOrClose:
            if ToolCallText.isSpace(b) { return }
            if b == UInt8(ascii: "]"), case .valueOrClose = mode { close(b, at: at, emit); return }
            beginValue(b, at: at, emit)
        case .keyOrClose, .key:
            if ToolCallText.isSpace(b) { return }
            if b == UInt8(ascii: "}"), case .keyOrClose = mode { close(b, at: at, emit); return }
            guard b == UInt8(ascii: "\"") else { return fail() }
            stringStart = at
            stringIsKey = true
            mode = .string
        case .colon:
            if ToolCallText.isSpace(b) { return }
            guard b == UInt8(ascii: ":") else { return fail() }
            mode = .value
        case .commaOrClose:
            if ToolCallText.isSpace(b) { return }
            if b == UInt8(ascii: ",") {
                mode = stack.last == UInt8(ascii: "{") ? .key : .value
            } else if b == UInt8(ascii: "}") || b == UInt8(ascii: "]") {
                close(b, at: at, emit)
            } else {
                fail()
            }
        case .string:
            if b == UInt8(ascii: "\"") {
                if stringIsKey {
                    emit(.keyEnd(depth: stack.count, start: stringStart, end: at + 1))
                    mode = .colon
                } else {
                    emit(.valueEnd(depth: stack.count, end: at + 1))
                    afterValue()
                }
            } else if b == UInt8(ascii: "\\") {
                mode = .escape
            } else if b < 0x20 {
                fail()
            }
        case .escape:
            switch b {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
                 UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                mode = .string
            case UInt8(ascii: "u"):
                mode = .hex(4)
            default:
                fail()
            }
        case .hex(let remaining):
            guard ToolCallText.hexValue(b) != nil else { return fail() }
            mode = remaining == 1 ? .string : .hex(remaining - 1)
        case .number(let state):
            stepNumber(state, b, at: at, emit)
        case .literal(let literal, let index):
            let spelling: StaticString = switch literal {
            case .true: "true"
            case .false: "false"
            case .null: "null"
            }
            guard b == spelling.utf8Start[index] else { return fail() }
            if index + 1 == spelling.utf8CodeUnitCount {
                emit(.valueEnd(depth: stack.count, end: at + 1))
                afterValue()
            } else {
                mode = .literal(literal, index + 1)
            }
        case .done:
            fail()
        }
    }

    private mutating func stepNumber(_ state: NumberState, _ b: UInt8, at: Int, _ emit: (Event) -> Void) {
        let digit = b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9")
        let exponentMark = b == UInt8(ascii: "e") || b == UInt8(ascii: "E")
        switch state {
        case .minus:
            guard digit else { return fail() }
            mode = .number(b == UInt8(ascii: "0") ? .zero : .integer)
            return
        case .zero, .integer:
            if digit && state == .integer { return }
            if b == UInt8(ascii: ".") { mode = .number(.fractionStart); return }
            if exponentMark { mode = .number(.exponentStart); return }
        case .fractionStart:
            guard digit else { return fail() }
            mode = .number(.fraction)
            return
        case .fraction:
            if digit { return }
            if exponentMark { mode = .number(.exponentStart); return }
        case .exponentStart:
            if b == UInt8(ascii: "+") || b == UInt8(ascii: "-") { mode = .number(.exponentSign); return }
            guard digit else { return fail() }
            mode = .number(.exponent)
            return
        case .exponentSign:
            guard digit else { return fail() }
            mode = .number(.exponent)
            return
        case .exponent:
            if digit { return }
        }
        // The number ended at the byte before `b`; `b` belongs to what follows it.
        emit(.valueEnd(depth: stack.count, end: at))
        afterValue()
        step(b, emit)
    }

    private mutating func beginValue(_ b: UInt8, at: Int, _ emit: (Event) -> Void) {
        let depth = stack.count
        let next: Mode
        switch b {
        case UInt8(ascii: "{"): next = .keyOrClose
        case UInt8(ascii: "["): next = .valueOrClose
        case UInt8(ascii: "\"") where depth > 0: next = .string
        case UInt8(ascii: "-") where depth > 0: next = .number(.minus)
        case UInt8(ascii: "0") where depth > 0: next = .number(.zero)
        case UInt8(ascii: "1")...UInt8(ascii: "9") where depth > 0: next = .number(.integer)
        case UInt8(ascii: "t") where depth > 0: next = .literal(.true, 1)
        case UInt8(ascii: "f") where depth > 0: next = .literal(.false, 1)
        case UInt8(ascii: "n") where depth > 0: next = .literal(.null, 1)
        default: return fail()
        }
        emit(.valueStart(depth: depth, at: at, byte: b))
        if b == UInt8(ascii: "{") || b == UInt8(ascii: "[") { stack.append(b) }
        if b == UInt8(ascii: "\"") {
            stringStart = at
            stringIsKey = false
        }
        mode = next
    }

    private mutating func close(_ b: UInt8, at: Int, _ emit: (Event) -> Void) {
        let open = stack.removeLast()
        guard (open == UInt8(ascii: "{")) == (b == UInt8(ascii: "}")) else { return fail() }
        emit(.valueEnd(depth: stack.count, end: at + 1))
        afterValue()
    }

    private mutating func afterValue() {
        if stack.isEmpty {
            status = .complete
            mode = .done
        } else {
            mode = .commaOrClose
        }
    }

    private mutating func fail() {
        status = .invalid
        mode = .done
    }

    /// The text of a JSON string literal (quotes included) that the scanner accepted; escapes are
    /// resolved, `\uD83D\uDE00` pairs joined, and a lone surrogate becomes U+FFFD.
    static func decodeString(_ literal: ArraySlice<UInt8>) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(literal.count)
        var i = literal.startIndex + 1
        let end = literal.endIndex - 1
        func hex4(_ at: Int) -> UInt32? {
            guard at + 4 <= end else { return nil }
            var v: UInt32 = 0
            for k in at..<(at + 4) {
                guard let h = ToolCallText.hexValue(literal[k]) else { return nil }
                v = v << 4 | UInt32(h)
            }
            return v
        }
        while i < end {
            let b = literal[i]
            guard b == UInt8(ascii: "\\"), i + 1 < end else {
                out.append(b)
                i += 1
                continue
            }
            let e = literal[i + 1]
            i += 2
            switch e {
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                guard var scalar = hex4(i) else { continue }
                i += 4
                if (0xD800..<0xDC00).contains(scalar), i + 6 <= end, literal[i] == UInt8(ascii: "\\"),
                   literal[i + 1] == UInt8(ascii: "u"), let low = hex4(i + 2), (0xDC00..<0xE000).contains(low) {
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    i += 6
                }
                ToolCallText.appendUTF8(Unicode.Scalar(scalar) ?? "\u{FFFD}", to: &out)
            default: out.append(e)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// Byte helpers shared by the tool-call readers. Whitespace, wherever these readers trim or skip
/// it, means the four JSON whitespace bytes: space, tab, line feed, carriage return.
enum ToolCallText {
    static func isSpace(_ b: UInt8) -> Bool {
        b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09
    }

    static func hexValue(_ b: UInt8) -> UInt8? {
        switch b {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): b - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): b - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): b - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    static func appendUTF8(_ scalar: Unicode.Scalar, to out: inout [UInt8]) {
        UTF8.encode(scalar) { out.append($0) }
    }

    static func string(_ bytes: ArraySlice<UInt8>) -> String {
        String(decoding: bytes, as: UTF8.self)
    }

    /// `bytes` without leading and trailing whitespace.
    static func trimmed(_ bytes: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        var lo = bytes.startIndex
        var hi = bytes.endIndex
        while lo < hi, isSpace(bytes[lo]) { lo += 1 }
        while hi > lo, isSpace(bytes[hi - 1]) { hi -= 1 }
        return bytes[lo..<hi]
    }

    /// The trimmed text, or nil when nothing is left.
    static func trimmedText(_ bytes: ArraySlice<UInt8>) -> String? {
        let t = trimmed(bytes)
        return t.isEmpty ? nil : string(t)
    }

    static func skipSpace(_ bytes: [UInt8], from: Int) -> Int {
        var i = from
        while i < bytes.count, isSpace(bytes[i]) { i += 1 }
        return i
    }

    enum Match { case full, partial, mismatch }

    /// Whether `marker` occurs at `at`: fully, only as far as the bytes go (they end inside it), or
    /// not at all.
    static func match(_ marker: [UInt8], in bytes: [UInt8], at: Int) -> Match {
        var k = 0
        while k < marker.count {
            if at + k >= bytes.count { return .partial }
            if bytes[at + k] != marker[k] { return .mismatch }
            k += 1
        }
        return .full
    }

    /// The first index at or after `from` where `marker` occurs completely, or nil.
    static func find(_ marker: [UInt8], in bytes: [UInt8], from: Int) -> Int? {
        guard let first = marker.first else { return from }
        var i = from
        while i + marker.count <= bytes.count {
            if bytes[i] == first, match(marker, in: bytes, at: i) == .full { return i }
            i += 1
        }
        return nil
    }
}

/// Reads one tool-call object, `{"name": "…", "arguments": {…}}`, from scanner events: the object
/// is the value that starts at `depth` (0 for a root object, 1 for the elements of a root array).
///
/// Rules: `name` must be a non-empty string; the arguments member (the first key of
/// `argumentKeys` to occur) must be an object, and may be missing (its text is then `{}`). When a
/// key occurs twice, the first occurrence counts and later ones are ignored like other extra keys.
/// With `onlyKeys`, any other key makes the object invalid as soon as the key is read.
struct ToolCallObjectReader {
    enum Signal { case none, nameKnown, ended, invalid }

    static let argumentKeys = ["arguments", "parameters"]

    let depth: Int
    let onlyKeys: [String]?
    private(set) var name: String?
    /// Scanner offsets of the arguments object, once it starts and once it ends.
    private(set) var argumentsStart: Int?
    private(set) var argumentsEnd: Int?
    private(set) var ended = false

    private enum Member { case none, name, arguments, other }
    private var member = Member.none
    private var nameStart = 0
    private var sawName = false
    private var sawArguments = false

    init(depth: Int, onlyKeys: [String]? = nil) {
        self.depth = depth
        self.onlyKeys = onlyKeys
    }

    /// `bytes(range)` returns the bytes at scanner offsets `range`.
    mutating func handle(_ event: ToolJSONScanner.Event, bytes: (Range<Int>) -> ArraySlice<UInt8>) -> Signal {
        switch event {
        case .valueStart(let d, _, let b) where d == depth:
            return b == UInt8(ascii: "{") ? .none : .invalid
        case .keyEnd(let d, let start, let end) where d == depth + 1:
            let key = ToolJSONScanner.decodeString(bytes(start..<end))
            if let onlyKeys, !onlyKeys.contains(key) { return .invalid }
            if key == "name" && !sawName {
                sawName = true
                member = .name
            } else if Self.argumentKeys.contains(key) && !sawArguments {
                sawArguments = true
                member = .arguments
            } else {
                member = .other
            }
        case .valueStart(let d, let at, let b) where d == depth + 1:
            switch member {
            case .name:
                guard b == UInt8(ascii: "\"") else { return .invalid }
                nameStart = at
            case .arguments:
                guard b == UInt8(ascii: "{") else { return .invalid }
                argumentsStart = at
            case .none, .other:
                break
            }
        case .valueEnd(let d, let end) where d == depth + 1:
            defer { member = .none }
            switch member {
            case .name:
                let decoded = ToolJSONScanner.decodeString(bytes(nameStart..<end))
                guard !decoded.isEmpty else { return .invalid }
                name = decoded
                return .nameKnown
            case .arguments:
                argumentsEnd = end
            case .none, .other:
                break
            }
        case .valueEnd(let d, _) where d == depth:
            ended = true
            return name == nil ? .invalid : .ended
        default:
            break
        }
        return .none
    }
}

/// Whole-text reading of JSON tool calls, shared by `ToolCallParser` and the stream parser's
/// decisions for the whole-output formats.
enum ToolCallJSON {
    enum Outcome {
        /// The value ends before `end`.
        case calls([ParsedToolCall], end: Int)
        /// The bytes ran out while the value could still become valid.
        case incomplete
        case invalid
    }

    /// Reads the call object (`callDepth` 0, `bytes[from]` is `{`) or array of call objects
    /// (`callDepth` 1, `bytes[from]` is `[`, at least one element) that starts at `from`.
    static func read(_ bytes: [UInt8], from: Int, callDepth: Int, onlyKeys: [String]? = nil) -> Outcome {
        var scanner = ToolJSONScanner()
        var reader = ToolCallObjectReader(depth: callDepth, onlyKeys: onlyKeys)
        var calls: [ParsedToolCall] = []
        var bad = false
        var i = from
        let rootByte = callDepth == 0 ? UInt8(ascii: "{") : UInt8(ascii: "[")
        guard i < bytes.count else { return .incomplete }
        guard bytes[i] == rootByte else { return .invalid }
        while i < bytes.count && scanner.status == .incomplete && !bad {
            scanner.consume(bytes[i]) { event in
                if bad { return }
                if case .valueStart(let d, _, _) = event, d == callDepth {
                    reader = ToolCallObjectReader(depth: callDepth, onlyKeys: onlyKeys)
                }
                switch reader.handle(event, bytes: { bytes[(from + $0.lowerBound)..<(from + $0.upperBound)] }) {
                case .invalid:
                    bad = true
                case .ended:
                    calls.append(call(from: reader, bytes: bytes, base: from))
                case .none, .nameKnown:
                    break
                }
            }
            i += 1
        }
        if bad || scanner.status == .invalid { return .invalid }
        if scanner.status == .incomplete { return .incomplete }
        return calls.isEmpty ? .invalid : .calls(calls, end: i)
    }

    static func call(from reader: ToolCallObjectReader, bytes: [UInt8], base: Int) -> ParsedToolCall {
        var arguments = "{}"
        if let s = reader.argumentsStart, let e = reader.argumentsEnd {
            arguments = ToolCallText.string(bytes[(base + s)..<(base + e)])
        }
        return ParsedToolCall(name: reader.name ?? "", arguments: arguments)
    }
}
