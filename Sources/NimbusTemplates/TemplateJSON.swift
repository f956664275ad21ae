/// JSON in and out with Python's exact conventions: the writer reproduces
/// `json.dumps(x, ensure_ascii=..., indent=..., separators=..., sort_keys=...)` byte for byte
/// (transformers' `tojson`), and the reader keeps key order and int/float distinction like `json.loads`.

struct JSONWriteOptions {
    /// nil: single line. Otherwise the per-level indent string (Python accepts an int or a string).
    var indent: String? = nil
    var itemSeparator: String? = nil
    var keySeparator: String? = nil
    var sortKeys = false
    var ensureASCII = false
}

func writeJSON(_ value: Value, options: JSONWriteOptions) throws -> String {
    var out = ""
    // Python's defaults: (', ', ': ') on one line, (',', ': ') once an indent is given.
    let itemSep = options.itemSeparator ?? (options.indent == nil ? ", " : ",")
    let keySep = options.keySeparator ?? ": "
    try writeJSONValue(value, into: &out, level: 0, itemSep: itemSep, keySep: keySep, options: options)
    return out
}

private func writeJSONValue(
    _ value: Value, into out: inout String, level: Int, itemSep: String, keySep: String, options: JSONWriteOptions
) throws {
    switch value {
    case .none: out += "null"
    case .bool(let b): out += b ? "true" : "false"
    case .int(let i): out += String(i)
    case .double(let d):
        if d.isNaN { out += "NaN" }
        else if d.isInfinite { out += d < 0 ? "-Infinity" : "Infinity" }
        else { out += pyFloatRepr(d) }
    case .string(let s): writeJSONString(s, into: &out, ensureASCII: options.ensureASCII)
    case .list(let items), .tuple(let items):
        if items.isEmpty {
            out += "[]"
            return
        }
        out += "["
        let (separator, closing) = layout(level: level, itemSep: itemSep, options: options, into: &out)
        for (i, item) in items.enumerated() {
            if i > 0 { out += separator }
            try writeJSONValue(item, into: &out, level: level + 1, itemSep: itemSep, keySep: keySep, options: options)
        }
        out += closing + "]"
    case .dict(let d):
        try writeJSONObject(keys: d.keys, values: d.values, into: &out, level: level, itemSep: itemSep, keySep: keySep, options: options)
    case .namespace(let ns):
        try writeJSONObject(keys: ns.attributes.keys, values: ns.attributes.values, into: &out, level: level, itemSep: itemSep, keySep: keySep, options: options)
    case .undefined, .loop, .callable:
        throw TemplateError(.render, "Object of type \(value.typeName) is not JSON serializable")
    }
}

private func writeJSONObject(
    keys: [String], values: [Value], into out: inout String, level: Int, itemSep: String, keySep: String, options: JSONWriteOptions
) throws {
    if keys.isEmpty {
        out += "{}"
        return
    }
    var order = Array(keys.indices)
    if options.sortKeys {
        order.sort { keys[$0].unicodeScalars.lexicographicallyPrecedes(keys[$1].unicodeScalars) }
    }
    out += "{"
    let (separator, closing) = layout(level: level, itemSep: itemSep, options: options, into: &out)
    for (n, i) in order.enumerated() {
        if n > 0 { out += separator }
        writeJSONString(keys[i], into: &out, ensureASCII: options.ensureASCII)
        out += keySep
        try writeJSONValue(values[i], into: &out, level: level + 1, itemSep: itemSep, keySep: keySep, options: options)
    }
    out += closing + "}"
}

/// Writes the newline+indent that opens a container and returns (separator, closing text).
private func layout(level: Int, itemSep: String, options: JSONWriteOptions, into out: inout String) -> (String, String) {
    guard let indent = options.indent else { return (itemSep, "") }
    let inner = "\n" + String(repeating: indent, count: level + 1)
    out += inner
    return (itemSep + inner, "\n" + String(repeating: indent, count: level))
}

private func writeJSONString(_ s: String, into out: inout String, ensureASCII: Bool) {
    var buf = String.UnicodeScalarView()
    buf.append("\"")
    for c in s.unicodeScalars {
        switch c {
        case "\"": buf.append(contentsOf: "\\\"".unicodeScalars)
        case "\\": buf.append(contentsOf: "\\\\".unicodeScalars)
        case "\n": buf.append(contentsOf: "\\n".unicodeScalars)
        case "\r": buf.append(contentsOf: "\\r".unicodeScalars)
        case "\t": buf.append(contentsOf: "\\t".unicodeScalars)
        case "\u{08}": buf.append(contentsOf: "\\b".unicodeScalars)
        case "\u{0C}": buf.append(contentsOf: "\\f".unicodeScalars)
        default:
            if c.value < 0x20 || (ensureASCII && c.value > 0x7E) {
                if c.value > 0xFFFF {
                    let v = c.value - 0x10000
                    buf.append(contentsOf: ("\\u" + hexPad(0xD800 + (v >> 10), 4) + "\\u" + hexPad(0xDC00 + (v & 0x3FF), 4)).unicodeScalars)
                } else {
                    buf.append(contentsOf: ("\\u" + hexPad(c.value, 4)).unicodeScalars)
                }
            } else {
                buf.append(c)
            }
        }
    }
    buf.append("\"")
    out.unicodeScalars.append(contentsOf: buf)
}

// MARK: - Reading

struct JSONReader {
    private let s: [Unicode.Scalar]
    private var i = 0

    init(_ text: String) { s = Array(text.unicodeScalars) }

    private func error(_ message: String) -> TemplateError {
        TemplateError(.syntax, "invalid JSON at offset \(i): \(message)")
    }

    private mutating func skipWhitespace() {
        while i < s.count, s[i] == " " || s[i] == "\n" || s[i] == "\r" || s[i] == "\t" { i += 1 }
    }

    mutating func parseDocument() throws -> TemplateValue {
        let v = try parseValue(depth: 0)
        skipWhitespace()
        guard i == s.count else { throw error("trailing characters") }
        return v
    }

    private mutating func literal(_ word: String, _ value: TemplateValue) throws -> TemplateValue {
        for c in word.unicodeScalars {
            guard i < s.count, s[i] == c else { throw error("unexpected character") }
            i += 1
        }
        return value
    }

    private mutating func parseValue(depth: Int) throws -> TemplateValue {
        guard depth < 512 else { throw error("nesting too deep") }
        skipWhitespace()
        guard i < s.count else { throw error("unexpected end") }
        switch s[i] {
        case "{":
            i += 1
            var object = TemplateObject()
            skipWhitespace()
            if i < s.count, s[i] == "}" { i += 1; return .object(object) }
            while true {
                skipWhitespace()
                guard i < s.count, s[i] == "\"" else { throw error("expected a string key") }
                let key = try parseString()
                skipWhitespace()
                guard i < s.count, s[i] == ":" else { throw error("expected ':'") }
                i += 1
                object[key] = try parseValue(depth: depth + 1)
                skipWhitespace()
                guard i < s.count else { throw error("unexpected end") }
                if s[i] == "," { i += 1; continue }
                if s[i] == "}" { i += 1; return .object(object) }
                throw error("expected ',' or '}'")
            }
        case "[":
            i += 1
            var items: [TemplateValue] = []
            skipWhitespace()
            if i < s.count, s[i] == "]" { i += 1; return .array(items) }
            while true {
                items.append(try parseValue(depth: depth + 1))
                skipWhitespace()
                guard i < s.count else { throw error("unexpected end") }
                if s[i] == "," { i += 1; continue }
                if s[i] == "]" { i += 1; return .array(items) }
                throw error("expected ',' or ']'")
            }
        case "\"": return .string(try parseString())
        case "t": return try literal("true", .bool(true))
        case "f": return try literal("false", .bool(false))
        case "n": return try literal("null", .none)
        case "N": return try literal("NaN", .double(.nan))
        case "I": return try literal("Infinity", .double(.infinity))
        default: return try parseNumber()
        }
    }

    private mutating func parseNumber() throws -> TemplateValue {
        let start = i
        if i < s.count, s[i] == "-" {
            i += 1
            if i < s.count, s[i] == "I" { _ = try literal("Infinity", .none); return .double(-.infinity) }
        }
        var isFloat = false
        while i < s.count {
            let c = s[i]
            if isDigit(c) { i += 1 }
            else if c == "." || c == "e" || c == "E" || c == "+" || c == "-" { isFloat = true; i += 1 }
            else { break }
        }
        var text = ""
        text.unicodeScalars.append(contentsOf: s[start..<i])
        guard !text.isEmpty, text != "-" else { throw error("unexpected character") }
        if !isFloat, let v = Int(text) { return .int(v) }
        guard let d = Double(text) else { throw error("bad number \(text)") }
        return .double(d)
    }

    private mutating func hex4() throws -> UInt32 {
        guard i + 4 <= s.count else { throw error("truncated \\u escape") }
        var v: UInt32 = 0
        for k in 0..<4 {
            guard let d = Character(s[i + k]).hexDigitValue else { throw error("bad \\u escape") }
            v = v * 16 + UInt32(d)
        }
        i += 4
        return v
    }

    private mutating func parseString() throws -> String {
        i += 1  // opening quote
        var out = String.UnicodeScalarView()
        while true {
            guard i < s.count else { throw error("unterminated string") }
            let c = s[i]
            i += 1
            if c == "\"" { return String(out) }
            guard c == "\\" else {
                out.append(c)
                continue
            }
            guard i < s.count else { throw error("unterminated escape") }
            let e = s[i]
            i += 1
            switch e {
            case "\"": out.append("\"")
            case "\\": out.append("\\")
            case "/": out.append("/")
            case "b": out.append("\u{08}")
            case "f": out.append("\u{0C}")
            case "n": out.append("\n")
            case "r": out.append("\r")
            case "t": out.append("\t")
            case "u":
                var v = try hex4()
                if (0xD800..<0xDC00).contains(v), i + 1 < s.count, s[i] == "\\", s[i + 1] == "u" {
                    let save = i
                    i += 2
                    let low = try hex4()
                    if (0xDC00..<0xE000).contains(low) {
                        v = 0x10000 + ((v - 0xD800) << 10) + (low - 0xDC00)
                    } else {
                        i = save
                    }
                }
                // A lone surrogate cannot live in a Swift string; Python would fail to encode it later anyway.
                out.append(Unicode.Scalar(v) ?? "\u{FFFD}")
            default:
                throw error("invalid escape")
            }
        }
    }
}

extension TemplateValue {
    /// JSON text as transformers' `tojson` writes it (one line, key order kept, non-ASCII as is).
    public func jsonText() throws -> String {
        try writeJSON(NimbusTemplates.Value(self), options: JSONWriteOptions())
    }
}
