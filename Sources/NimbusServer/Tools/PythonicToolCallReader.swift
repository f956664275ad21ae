/// Reads the "pythonic" tool-call format of Llama 3.2 / Llama 4: the whole output is a Python list
/// of calls, `[get_weather(city="Paris", days=3), search(q='x', exact=True)]`, and each call's
/// keyword arguments become a compact JSON object, `{"city":"Paris","days":3}`.
///
/// Accepted (whitespace, including newlines, may surround every token):
/// - optionally `<|python_start|>` before the list and `<|python_end|>` after it;
/// - a list of one or more calls, trailing comma allowed;
/// - a call: a name (a Python identifier, or dotted identifiers `a.b`), then `(`, zero or more
///   `keyword=value` (no positional arguments, no keyword twice), trailing comma allowed, `)`;
/// - values: strings (`'…'`, `"…"`, triple-quoted, prefixes `r`/`u`, adjacent literals
///   concatenated; escapes `\\ \' \" \a \b \f \n \r \t \v \ooo \xhh \uhhhh \Uhhhhhhhh`, a
///   backslash before a newline continues the line, an unknown escape keeps its backslash as
///   Python does; `\N{…}` is not accepted), decimal integers and floats (underscores, signs,
///   `.5`, `5.`, exponents; written out as JSON numbers: `.5` → `0.5`, `5.` → `5.0`, `007.5` →
///   `7.5`, `1_000` → `1000`), `True`/`False`/`None`, lists, tuples (as arrays), and dicts with
///   string keys (duplicate keys are kept in order, so the last wins for JSON readers, as in Python).
/// - Not accepted: positional arguments, hex/octal/binary/complex numbers, sets, bytes and
///   f-strings, names, expressions, comments; nesting deeper than 64.
///
/// Strings are written with JSON escapes for `"`, `\`, control characters and the code points
/// U+D800…U+DFFF (which Python strings may hold but UTF-8 cannot); everything else is UTF-8.
enum PythonicToolCallReader {
    static let start = Array("<|python_start|>".utf8)
    static let end = Array("<|python_end|>".utf8)

    /// With `final` false the output may still grow: `invalid` is returned only when no
    /// continuation could make the text a call list (the first byte that breaks the grammar
    /// decides); running out of text is `incomplete`, or `calls` when it could end here.
    static func read(_ bytes: [UInt8], final: Bool) -> ToolCallJSON.Outcome {
        var cursor = Cursor(bytes: bytes, final: final)
        do {
            let calls = try cursor.callList()
            return .calls(calls, end: bytes.count)
        } catch .incomplete {
            return .incomplete
        } catch {
            return .invalid
        }
    }

    private enum Stop: Error { case incomplete, invalid }

    private struct Cursor {
        let bytes: [UInt8]
        let final: Bool
        var i = 0
        var depth = 0

        init(bytes: [UInt8], final: Bool) {
            self.bytes = bytes
            self.final = final
        }

        var eof: Stop { final ? .invalid : .incomplete }

        func peek() throws(Stop) -> UInt8 {
            guard i < bytes.count else { throw eof }
            return bytes[i]
        }

        func peek(_ offset: Int) throws(Stop) -> UInt8 {
            guard i + offset < bytes.count else { throw eof }
            return bytes[i + offset]
        }

        mutating func skipSpace() {
            i = ToolCallText.skipSpace(bytes, from: i)
        }

        mutating func expect(_ c: Character) throws(Stop) {
            guard try peek() == c.asciiValue! else { throw .invalid }
            i += 1
        }

        mutating func marker(_ m: [UInt8]) throws(Stop) {
            switch ToolCallText.match(m, in: bytes, at: i) {
            case .full: i += m.count
            case .partial: throw eof
            case .mismatch: throw .invalid
            }
        }

        mutating func callList() throws(Stop) -> [ParsedToolCall] {
            skipSpace()
            if try peek() == UInt8(ascii: "<") {
                try marker(PythonicToolCallReader.start)
                skipSpace()
            }
            try expect("[")
            skipSpace()
            var calls: [ParsedToolCall] = []
            while true {
                calls.append(try call())
                skipSpace()
                let c = try peek()
                if c == UInt8(ascii: "]") {
                    i += 1
                    break
                }
                guard c == UInt8(ascii: ",") else { throw .invalid }
                i += 1
                skipSpace()
                if try peek() == UInt8(ascii: "]") {
                    i += 1
                    break
                }
            }
            skipSpace()
            if i < bytes.count {
                try marker(PythonicToolCallReader.end)
                skipSpace()
                if i < bytes.count { throw .invalid }
            }
            return calls
        }

        static func isIdentifierStart(_ b: UInt8) -> Bool {
            (b >= UInt8(ascii: "a") && b <= UInt8(ascii: "z")) || (b >= UInt8(ascii: "A") && b <= UInt8(ascii: "Z")) || b == UInt8(ascii: "_")
        }

        static func isIdentifierByte(_ b: UInt8) -> Bool {
            isIdentifierStart(b) || isDigit(b)
        }

        static func isDigit(_ b: UInt8) -> Bool {
            b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9")
        }

        /// An identifier; the byte after it must be present (it could otherwise go on).
        mutating func identifier() throws(Stop) -> ArraySlice<UInt8> {
            let s = i
            guard Self.isIdentifierStart(try peek()) else { throw .invalid }
            i += 1
            while Self.isIdentifierByte(try peek()) { i += 1 }
            return bytes[s..<i]
        }

        mutating func call() throws(Stop) -> ParsedToolCall {
            let s = i
            _ = try identifier()
            while try peek() == UInt8(ascii: ".") {
                i += 1
                _ = try identifier()
            }
            let name = ToolCallText.string(bytes[s..<i])
            skipSpace()
            try expect("(")
            var json: [UInt8] = [UInt8(ascii: "{")]
            var keys: [ArraySlice<UInt8>] = []
            skipSpace()
            if try peek() == UInt8(ascii: ")") {
                i += 1
            } else {
                while true {
                    let key = try identifier()
                    guard !keys.contains(key) else { throw .invalid }
                    keys.append(key)
                    skipSpace()
                    try expect("=")
                    skipSpace()
                    if keys.count > 1 { json.append(UInt8(ascii: ",")) }
                    json.append(UInt8(ascii: "\""))
                    json += key
                    json += Array("\":".utf8)
                    try value(into: &json)
                    if try closes(")") { break }
                }
            }
            json.append(UInt8(ascii: "}"))
            return ParsedToolCall(name: name, arguments: ToolCallText.string(json[...]))
        }

        /// After an element: `,` (then possibly the closer, for a trailing comma) or the closer.
        /// True when the closer was consumed.
        mutating func closes(_ closer: Character) throws(Stop) -> Bool {
            let close = closer.asciiValue!
            skipSpace()
            let c = try peek()
            if c == close {
                i += 1
                return true
            }
            guard c == UInt8(ascii: ",") else { throw .invalid }
            i += 1
            skipSpace()
            if try peek() == close {
                i += 1
                return true
            }
            return false
        }

        mutating func value(into out: inout [UInt8]) throws(Stop) {
            depth += 1
            defer { depth -= 1 }
            guard depth <= 64 else { throw .invalid }
            let c = try peek()
            switch c {
            case UInt8(ascii: "\""), UInt8(ascii: "'"):
                try strings(into: &out)
            case UInt8(ascii: "["):
                i += 1
                out.append(UInt8(ascii: "["))
                try sequence(closer: "]", into: &out)
            case UInt8(ascii: "("):
                i += 1
                try parenthesized(into: &out)
            case UInt8(ascii: "{"):
                i += 1
                try dict(into: &out)
            case UInt8(ascii: "-"), UInt8(ascii: "+"):
                i += 1
                if c == UInt8(ascii: "-") { out.append(c) }
                skipSpace()
                let d = try peek()
                guard Self.isDigit(d) || d == UInt8(ascii: ".") else { throw .invalid }
                try number(into: &out)
            case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."):
                try number(into: &out)
            case UInt8(ascii: "r"), UInt8(ascii: "R"), UInt8(ascii: "u"), UInt8(ascii: "U"):
                if isQuote(try peek(1)) {
                    try strings(into: &out)
                } else {
                    try keyword(into: &out)
                }
            default:
                try keyword(into: &out)
            }
        }

        /// `True`, `False` or `None`.
        mutating func keyword(into out: inout [UInt8]) throws(Stop) {
            let word = try identifier()
            switch ToolCallText.string(word) {
            case "True": out += Array("true".utf8)
            case "False": out += Array("false".utf8)
            case "None": out += Array("null".utf8)
            default: throw .invalid
            }
        }

        func isQuote(_ b: UInt8) -> Bool {
            b == UInt8(ascii: "\"") || b == UInt8(ascii: "'")
        }

        /// Elements up to `closer`, the opening bracket already read and written.
        mutating func sequence(closer: Character, into out: inout [UInt8]) throws(Stop) {
            skipSpace()
            if try peek() == closer.asciiValue! {
                i += 1
            } else {
                var first = true
                repeat {
                    if !first { out.append(UInt8(ascii: ",")) }
                    first = false
                    try value(into: &out)
                } while try !closes(closer)
            }
            out.append(UInt8(ascii: "]"))
        }

        /// `()` is an empty tuple, `(x)` is x, `(x,)` and `(x, y)` are tuples; tuples become arrays.
        mutating func parenthesized(into out: inout [UInt8]) throws(Stop) {
            skipSpace()
            if try peek() == UInt8(ascii: ")") {
                i += 1
                out += Array("[]".utf8)
                return
            }
            var first: [UInt8] = []
            try value(into: &first)
            skipSpace()
            if try peek() == UInt8(ascii: ")") {
                i += 1
                out += first
                return
            }
            try expect(",")
            out.append(UInt8(ascii: "["))
            out += first
            skipSpace()
            if try peek() == UInt8(ascii: ")") {
                i += 1
                out.append(UInt8(ascii: "]"))
                return
            }
            out.append(UInt8(ascii: ","))
            repeat {
                try value(into: &out)
                if try closes(")") { break }
                out.append(UInt8(ascii: ","))
            } while true
            out.append(UInt8(ascii: "]"))
        }

        mutating func dict(into out: inout [UInt8]) throws(Stop) {
            out.append(UInt8(ascii: "{"))
            skipSpace()
            if try peek() == UInt8(ascii: "}") {
                i += 1
            } else {
                var first = true
                repeat {
                    if !first { out.append(UInt8(ascii: ",")) }
                    first = false
                    let c = try peek()
                    let prefixed = (c == UInt8(ascii: "r") || c == UInt8(ascii: "R") || c == UInt8(ascii: "u") || c == UInt8(ascii: "U"))
                    var quoted = isQuote(c)
                    if !quoted && prefixed { quoted = isQuote(try peek(1)) }
                    guard quoted else { throw .invalid }
                    try strings(into: &out)
                    skipSpace()
                    try expect(":")
                    out.append(UInt8(ascii: ":"))
                    skipSpace()
                    try value(into: &out)
                } while try !closes("}")
            }
            out.append(UInt8(ascii: "}"))
        }

        /// One or more adjacent string literals, written as one JSON string.
        mutating func strings(into out: inout [UInt8]) throws(Stop) {
            out.append(UInt8(ascii: "\""))
            while true {
                try literal(into: &out)
                let save = i
                skipSpace()
                guard i < bytes.count else {
                    i = save
                    if final { break }
                    throw .incomplete
                }
                let c = bytes[i]
                if isQuote(c) { continue }
                if c == UInt8(ascii: "r") || c == UInt8(ascii: "R") || c == UInt8(ascii: "u") || c == UInt8(ascii: "U") {
                    // `r` here starts another literal only when a quote follows.
                    guard i + 1 < bytes.count else {
                        if final { i = save; break }
                        throw .incomplete
                    }
                    if isQuote(bytes[i + 1]) { continue }
                }
                i = save
                break
            }
            out.append(UInt8(ascii: "\""))
        }

        /// One string literal's characters (no quotes) into a JSON string body.
        mutating func literal(into out: inout [UInt8]) throws(Stop) {
            var raw = false
            var c = try peek()
            if !isQuote(c) {
                raw = c == UInt8(ascii: "r") || c == UInt8(ascii: "R")
                i += 1
                c = try peek()
            }
            let quote = c
            i += 1
            var triple = false
            if try peek() == quote {
                if try peek(1) == quote {
                    triple = true
                    i += 2
                } else {
                    i += 1
                    return
                }
            }
            while true {
                let b = try peek()
                if b == quote {
                    if !triple {
                        i += 1
                        return
                    }
                    if try peek(1) == quote, try peek(2) == quote {
                        i += 3
                        return
                    }
                    Self.appendJSON(UInt32(b), to: &out)
                    i += 1
                    continue
                }
                if !triple && (b == 0x0A || b == 0x0D) { throw .invalid }
                if b != UInt8(ascii: "\\") {
                    if b < 0x80 {
                        Self.appendJSON(UInt32(b), to: &out)
                    } else {
                        out.append(b)
                    }
                    i += 1
                    continue
                }
                let e = try peek(1)
                if raw {
                    // A raw string keeps the backslash and the character after it.
                    Self.appendJSON(UInt32(b), to: &out)
                    if e < 0x80 { Self.appendJSON(UInt32(e), to: &out) } else { out.append(e) }
                    i += 2
                    continue
                }
                i += 2
                switch e {
                case 0x0A:
                    break
                case 0x0D:
                    if i < bytes.count, bytes[i] == 0x0A { i += 1 }
                case UInt8(ascii: "\\"), UInt8(ascii: "'"), UInt8(ascii: "\""):
                    Self.appendJSON(UInt32(e), to: &out)
                case UInt8(ascii: "a"): Self.appendJSON(0x07, to: &out)
                case UInt8(ascii: "b"): Self.appendJSON(0x08, to: &out)
                case UInt8(ascii: "f"): Self.appendJSON(0x0C, to: &out)
                case UInt8(ascii: "n"): Self.appendJSON(0x0A, to: &out)
                case UInt8(ascii: "r"): Self.appendJSON(0x0D, to: &out)
                case UInt8(ascii: "t"): Self.appendJSON(0x09, to: &out)
                case UInt8(ascii: "v"): Self.appendJSON(0x0B, to: &out)
                case UInt8(ascii: "0")...UInt8(ascii: "7"):
                    var v = UInt32(e - UInt8(ascii: "0"))
                    for _ in 0..<2 {
                        let d = try peek()
                        guard d >= UInt8(ascii: "0") && d <= UInt8(ascii: "7") else { break }
                        v = v * 8 + UInt32(d - UInt8(ascii: "0"))
                        i += 1
                    }
                    Self.appendJSON(v, to: &out)
                case UInt8(ascii: "x"), UInt8(ascii: "u"), UInt8(ascii: "U"):
                    let count = e == UInt8(ascii: "x") ? 2 : e == UInt8(ascii: "u") ? 4 : 8
                    var v: UInt32 = 0
                    for _ in 0..<count {
                        guard let h = ToolCallText.hexValue(try peek()) else { throw .invalid }
                        v = v << 4 | UInt32(h)
                        i += 1
                    }
                    guard v <= 0x10FFFF else { throw .invalid }
                    Self.appendJSON(v, to: &out)
                case UInt8(ascii: "N"):
                    throw .invalid
                default:
                    // Python keeps an unknown escape as it is written.
                    Self.appendJSON(UInt32(b), to: &out)
                    i -= 1
                }
            }
        }

        /// A code point inside a JSON string.
        static func appendJSON(_ v: UInt32, to out: inout [UInt8]) {
            func escaped(_ s: String) { out += Array(s.utf8) }
            switch v {
            case 0x22: escaped("\\\"")
            case 0x5C: escaped("\\\\")
            case 0x08: escaped("\\b")
            case 0x0C: escaped("\\f")
            case 0x0A: escaped("\\n")
            case 0x0D: escaped("\\r")
            case 0x09: escaped("\\t")
            case 0..<0x20, 0xD800..<0xE000:
                let hex = Array("0123456789abcdef".utf8)
                escaped("\\u")
                for shift in stride(from: 12, through: 0, by: -4) { out.append(hex[Int((v >> UInt32(shift)) & 0xF)]) }
            default:
                ToolCallText.appendUTF8(Unicode.Scalar(v)!, to: &out)
            }
        }

        /// digits with single underscores between them; at least one digit.
        mutating func digits(into d: inout [UInt8]) throws(Stop) {
            guard Self.isDigit(try peek()) else { throw .invalid }
            while true {
                let c = try peek()
                if Self.isDigit(c) {
                    d.append(c)
                    i += 1
                } else if c == UInt8(ascii: "_") {
                    i += 1
                    guard Self.isDigit(try peek()) else { throw .invalid }
                } else {
                    return
                }
            }
        }

        /// A decimal integer or float literal, written as a JSON number.
        mutating func number(into out: inout [UInt8]) throws(Stop) {
            var integer: [UInt8] = []
            var fraction: [UInt8]?
            var exponent: [UInt8]?
            if try peek() != UInt8(ascii: ".") { try digits(into: &integer) }
            if try peek() == UInt8(ascii: ".") {
                i += 1
                var f: [UInt8] = []
                if Self.isDigit(try peek()) {
                    try digits(into: &f)
                } else if integer.isEmpty {
                    throw .invalid
                }
                fraction = f
            }
            let e = try peek()
            if e == UInt8(ascii: "e") || e == UInt8(ascii: "E") {
                i += 1
                var x: [UInt8] = []
                let s = try peek()
                if s == UInt8(ascii: "+") || s == UInt8(ascii: "-") {
                    x.append(s)
                    i += 1
                }
                try digits(into: &x)
                exponent = x
            }
            let next = try peek()
            guard !Self.isIdentifierByte(next) && next != UInt8(ascii: ".") else { throw .invalid }
            let isFloat = fraction != nil || exponent != nil
            if !isFloat && integer.count > 1 && integer.first == UInt8(ascii: "0") && integer.contains(where: { $0 != UInt8(ascii: "0") }) {
                throw .invalid  // `012` is not Python
            }
            var k = 0
            while k < integer.count - 1 && integer[k] == UInt8(ascii: "0") { k += 1 }
            out += integer.isEmpty ? [UInt8(ascii: "0")] : Array(integer[k...])
            if let fraction {
                out.append(UInt8(ascii: "."))
                out += fraction.isEmpty ? [UInt8(ascii: "0")] : fraction
            }
            if let exponent {
                out.append(UInt8(ascii: "e"))
                out += exponent
            }
        }
    }
}
