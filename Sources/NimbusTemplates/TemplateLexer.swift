/// Splits template source into data and tag tokens, applying jinja2's whitespace rules
/// (`trim_blocks`, `lstrip_blocks`, `-`/`+` markers) exactly as `jinja2/lexer.py` does, since
/// a single stray newline changes the prompt the model sees.
struct Token: Sendable, Equatable {
    enum Kind: Sendable, Equatable {
        case data(String)
        case blockBegin, blockEnd, variableBegin, variableEnd
        case name(String)
        case string(String)
        case integer(Int)
        case float(Double)
        case op(String)
        case eof
    }
    let kind: Kind
    let line: Int
}

struct TemplateLexer {
    private let src: [Unicode.Scalar]
    private var pos = 0
    private var line = 1
    /// jinja2's `line_starting`: whether the previous match ended with a newline, which lets
    /// `lstrip_blocks` strip indentation that starts the data token.
    private var lineStarting = true
    private var tokens: [Token] = []
    private var balance: [Unicode.Scalar] = []

    init(_ source: String) {
        // Normalise \r\n and \r to \n and drop one trailing newline (keep_trailing_newline=False).
        var scalars: [Unicode.Scalar] = []
        scalars.reserveCapacity(source.unicodeScalars.count)
        var it = source.unicodeScalars.makeIterator()
        var pending = it.next()
        while let c = pending {
            pending = it.next()
            if c == "\r" {
                scalars.append("\n")
                if pending == "\n" { pending = it.next() }
            } else {
                scalars.append(c)
            }
        }
        if scalars.last == "\n" { scalars.removeLast() }
        src = scalars
    }

    static func tokenize(_ source: String) throws -> [Token] {
        var lexer = TemplateLexer(source)
        try lexer.run()
        return lexer.tokens
    }

    private func peek(_ offset: Int = 0) -> Unicode.Scalar? {
        let i = pos + offset
        return i < src.count ? src[i] : nil
    }

    private func starts(_ s: String, at i: Int) -> Bool {
        var j = i
        for c in s.unicodeScalars {
            guard j < src.count, src[j] == c else { return false }
            j += 1
        }
        return true
    }

    private func text(_ range: Range<Int>) -> String {
        var s = String.UnicodeScalarView()
        s.append(contentsOf: src[range])
        return String(s)
    }

    private mutating func emit(_ kind: Token.Kind, line: Int) {
        tokens.append(Token(kind: kind, line: line))
    }

    private func syntaxError(_ message: String) -> TemplateError {
        TemplateError(.syntax, message, line: line)
    }

    private mutating func advance(to newPos: Int) {
        for i in pos..<newPos where src[i] == "\n" { line += 1 }
        pos = newPos
    }

    private mutating func run() throws {
        while pos < src.count {
            guard let tagStart = findTagStart(from: pos) else {
                emit(.data(text(pos..<src.count)), line: line)
                advance(to: src.count)
                break
            }
            let kindScalar = src[tagStart + 1]
            var sign: Unicode.Scalar? = nil
            if tagStart + 2 < src.count, src[tagStart + 2] == "-" || src[tagStart + 2] == "+" {
                sign = src[tagStart + 2]
            }
            let rawEnd = kindScalar == "%" ? matchRawBegin(at: tagStart) : nil
            var dataEnd = tagStart
            if sign == "-" {
                while dataEnd > pos, isPythonSpace(src[dataEnd - 1]) { dataEnd -= 1 }
            } else if sign != "+", kindScalar != "{" {
                dataEnd = lstripEnd(dataStart: pos, tagStart: tagStart)
            }
            if dataEnd > pos { emit(.data(text(pos..<dataEnd)), line: line) }
            advance(to: tagStart)
            if let rawEnd {
                advance(to: rawEnd)
                try lexRawBody()
                continue
            }
            let afterStart = tagStart + 2 + (sign == nil ? 0 : 1)
            switch kindScalar {
            case "#":
                advance(to: afterStart)
                try lexComment()
            case "%":
                emit(.blockBegin, line: line)
                advance(to: afterStart)
                try lexTag(isBlock: true)
            default:
                emit(.variableBegin, line: line)
                advance(to: afterStart)
                try lexTag(isBlock: false)
            }
        }
        emit(.eof, line: line)
    }

    private func findTagStart(from start: Int) -> Int? {
        var i = start
        while i + 1 < src.count {
            if src[i] == "{", src[i + 1] == "{" || src[i + 1] == "%" || src[i + 1] == "#" { return i }
            i += 1
        }
        return nil
    }

    /// `lstrip_blocks`: drop spaces/tabs between the start of the line and a `{%`/`{#` tag.
    private func lstripEnd(dataStart: Int, tagStart: Int) -> Int {
        var lineStart = tagStart
        while lineStart > dataStart, src[lineStart - 1] != "\n" { lineStart -= 1 }
        let atLineStart = lineStart > dataStart || lineStarting
        guard atLineStart, lineStart < tagStart else { return tagStart }
        for i in lineStart..<tagStart where !isPythonSpace(src[i]) { return tagStart }
        return lineStart
    }

    /// Skips whitespace after `-%}` / `-#}` / `-}}` (Python `\s*`).
    private func skipSpaces(from i: Int) -> Int {
        var j = i
        while j < src.count, isPythonSpace(src[j]) { j += 1 }
        return j
    }

    private mutating func lexComment() throws {
        var i = pos
        while i < src.count {
            if starts("+#}", at: i) {
                return finishTag(at: i + 3)
            } else if starts("-#}", at: i) {
                return finishTag(at: skipSpaces(from: i + 3))
            } else if starts("#}", at: i) {
                var end = i + 2
                if end < src.count, src[end] == "\n" { end += 1 }  // trim_blocks
                return finishTag(at: end)
            }
            i += 1
        }
        throw syntaxError("Missing end of comment tag")
    }

    private mutating func finishTag(at end: Int) {
        lineStarting = end > 0 && src[end - 1] == "\n"
        advance(to: end)
    }

    /// Matches `{%(-|+|)\s*raw\s*(-%}\s*|%})` and returns the index after it.
    private func matchRawBegin(at start: Int) -> Int? {
        var i = start + 2
        if i < src.count, src[i] == "-" || src[i] == "+" { i += 1 }
        while i < src.count, isPythonSpace(src[i]) { i += 1 }
        guard starts("raw", at: i) else { return nil }
        i += 3
        while i < src.count, isPythonSpace(src[i]) { i += 1 }
        if starts("-%}", at: i) { return skipSpaces(from: i + 3) }
        if starts("%}", at: i) { return i + 2 }
        return nil
    }

    /// The body of `{% raw %}`: literal data up to `{% endraw %}`, with the same strip rules as a block.
    private mutating func lexRawBody() throws {
        var i = pos
        while i + 1 < src.count {
            if src[i] == "{", src[i + 1] == "%" {
                var j = i + 2
                var sign: Unicode.Scalar? = nil
                if j < src.count, src[j] == "-" || src[j] == "+" { sign = src[j]; j += 1 }
                while j < src.count, isPythonSpace(src[j]) { j += 1 }
                if starts("endraw", at: j) {
                    j += 6
                    while j < src.count, isPythonSpace(src[j]) { j += 1 }
                    var end: Int? = nil
                    if starts("+%}", at: j) { end = j + 3 }
                    else if starts("-%}", at: j) { end = skipSpaces(from: j + 3) }
                    else if starts("%}", at: j) {
                        end = j + 2
                        if let e = end, e < src.count, src[e] == "\n" { end = e + 1 }
                    }
                    if let end {
                        var dataEnd = i
                        if sign == "-" {
                            while dataEnd > pos, isPythonSpace(src[dataEnd - 1]) { dataEnd -= 1 }
                        } else if sign != "+" {
                            dataEnd = lstripEnd(dataStart: pos, tagStart: i)
                        }
                        if dataEnd > pos { emit(.data(text(pos..<dataEnd)), line: line) }
                        advance(to: i)
                        finishTag(at: end)
                        return
                    }
                }
            }
            i += 1
        }
        throw syntaxError("Missing end of raw directive")
    }

    private mutating func lexTag(isBlock: Bool) throws {
        balance = []
        while true {
            guard pos < src.count else {
                throw syntaxError(isBlock ? "unexpected end of template inside a {% %} tag" : "unexpected end of template inside a {{ }} tag")
            }
            if balance.isEmpty, let end = matchTagEnd(isBlock: isBlock) {
                emit(isBlock ? .blockEnd : .variableEnd, line: line)
                finishTag(at: end)
                return
            }
            let c = src[pos]
            if isPythonSpace(c) {
                advance(to: skipSpaces(from: pos))
            } else if isDigit(c) {
                try lexNumber()
            } else if isIdentStart(c) {
                var j = pos + 1
                while j < src.count, isIdentContinue(src[j]) { j += 1 }
                emit(.name(text(pos..<j)), line: line)
                advance(to: j)
            } else if c == "'" || c == "\"" {
                try lexString(quote: c)
            } else {
                try lexOperator()
            }
        }
    }

    private func matchTagEnd(isBlock: Bool) -> Int? {
        if isBlock {
            if starts("+%}", at: pos) { return pos + 3 }
            if starts("-%}", at: pos) { return skipSpaces(from: pos + 3) }
            if starts("%}", at: pos) {
                let end = pos + 2
                return end < src.count && src[end] == "\n" ? end + 1 : end  // trim_blocks
            }
        } else {
            if starts("-}}", at: pos) { return skipSpaces(from: pos + 3) }
            if starts("}}", at: pos) { return pos + 2 }
        }
        return nil
    }

    private static let operators2 = ["**", "//", "==", "!=", "<=", ">="]
    private static let operators1: Set<Unicode.Scalar> = [
        "+", "-", "/", "*", "%", "~", "[", "]", "(", ")", "{", "}", "<", ">", "=", ".", ":", "|", ",", ";",
    ]

    private mutating func lexOperator() throws {
        for op in Self.operators2 where starts(op, at: pos) {
            emit(.op(op), line: line)
            advance(to: pos + 2)
            return
        }
        let c = src[pos]
        guard Self.operators1.contains(c) else {
            throw syntaxError("unexpected char '\(Character(c))'")
        }
        switch c {
        case "(": balance.append(")")
        case "[": balance.append("]")
        case "{": balance.append("}")
        case ")", "]", "}":
            guard let expected = balance.popLast() else { throw syntaxError("unexpected '\(Character(c))'") }
            guard expected == c else {
                throw syntaxError("unexpected '\(Character(c))', expected '\(Character(expected))'")
            }
        default: break
        }
        emit(.op(String(Character(c))), line: line)
        advance(to: pos + 1)
    }

    /// Digits with optional `_` separators, as in jinja2's integer/float regexes.
    private func digitRun(from i: Int) -> Int {
        var j = i
        guard j < src.count, isDigit(src[j]) else { return i }
        while j < src.count {
            if isDigit(src[j]) { j += 1 }
            else if src[j] == "_", j + 1 < src.count, isDigit(src[j + 1]) { j += 1 }
            else { break }
        }
        return j
    }

    private mutating func lexNumber() throws {
        let start = pos
        // Prefixed integers: 0b / 0o / 0x.
        if src[start] == "0", start + 1 < src.count {
            let p = src[start + 1]
            let radix: Int? = (p == "b" || p == "B") ? 2 : (p == "o" || p == "O") ? 8 : (p == "x" || p == "X") ? 16 : nil
            if let radix {
                var j = start + 2
                var digits = ""
                while j < src.count {
                    if src[j] == "_" { j += 1; continue }
                    guard Character(src[j]).hexDigitValue.map({ $0 < radix }) == true else { break }
                    digits.unicodeScalars.append(src[j])
                    j += 1
                }
                if let value = Int(digits, radix: radix) {
                    emit(.integer(value), line: line)
                    advance(to: j)
                    return
                }
            }
        }
        var end = digitRun(from: start)
        var isFloat = false
        if end < src.count, src[end] == ".", end + 1 < src.count, isDigit(src[end + 1]) {
            end = digitRun(from: end + 1)
            isFloat = true
        }
        if end < src.count, src[end] == "e" || src[end] == "E" {
            var j = end + 1
            if j < src.count, src[j] == "+" || src[j] == "-" { j += 1 }
            let expEnd = digitRun(from: j)
            if expEnd > j {
                end = expEnd
                isFloat = true
            }
        }
        let literal = text(start..<end).replacingUnderscores()
        if isFloat {
            guard let value = Double(literal) else { throw syntaxError("invalid float literal \(literal)") }
            emit(.float(value), line: line)
        } else {
            // jinja2 reads "007" as 0 then 07: a leading zero only matches "0" (and "0_0").
            var intEnd = end
            if src[start] == "0" {
                intEnd = start + 1
                while intEnd < end, src[intEnd] == "0" || src[intEnd] == "_" { intEnd += 1 }
            }
            let digits = text(start..<intEnd).replacingUnderscores()
            guard let value = Int(digits) else { throw syntaxError("integer literal too large: \(digits)") }
            emit(.integer(value), line: line)
            end = intEnd
        }
        advance(to: end)
    }

    private mutating func lexString(quote: Unicode.Scalar) throws {
        let startLine = line
        var j = pos + 1
        var raw = String.UnicodeScalarView()
        while true {
            guard j < src.count else { throw syntaxError("unterminated string literal") }
            let c = src[j]
            if c == quote { break }
            if c == "\\", j + 1 < src.count {
                raw.append(c)
                raw.append(src[j + 1])
                j += 2
                continue
            }
            raw.append(c)
            j += 1
        }
        let value = try unescapePythonString(String(raw), line: startLine)
        emit(.string(value), line: startLine)
        advance(to: j + 1)
    }
}

private extension String {
    func replacingUnderscores() -> String { String(unicodeScalars.filter { $0 != "_" }) }
}

func isDigit(_ c: Unicode.Scalar) -> Bool { c >= "0" && c <= "9" }

private func isIdentStart(_ c: Unicode.Scalar) -> Bool {
    (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || c == "_" || (c.value > 0x7F && c.properties.isXIDStart)
}

private func isIdentContinue(_ c: Unicode.Scalar) -> Bool {
    isIdentStart(c) || isDigit(c) || (c.value > 0x7F && c.properties.isXIDContinue)
}

/// Python's `str.isspace()` / regex `\s` for str patterns.
func isPythonSpace(_ c: Unicode.Scalar) -> Bool {
    switch c.value {
    case 0x09...0x0D, 0x1C...0x20, 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000:
        return true
    default:
        return false
    }
}

/// Decodes a string literal body the way jinja2 does: Python's `unicode-escape` codec
/// (`\n`, `\t`, `\xhh`, `\uXXXX`, octal...), leaving unknown escapes such as `\d` as written.
func unescapePythonString(_ raw: String, line: Int) throws -> String {
    var out = String.UnicodeScalarView()
    let s = Array(raw.unicodeScalars)
    var i = 0
    func hex(_ count: Int) throws -> Unicode.Scalar {
        guard i + count <= s.count else {
            throw TemplateError(.syntax, "truncated escape in string literal", line: line)
        }
        var v: UInt32 = 0
        for k in 0..<count {
            guard let d = Character(s[i + k]).hexDigitValue else {
                throw TemplateError(.syntax, "truncated escape in string literal", line: line)
            }
            v = v * 16 + UInt32(d)
        }
        i += count
        guard let scalar = Unicode.Scalar(v) else {
            throw TemplateError(.syntax, "invalid escape in string literal", line: line)
        }
        return scalar
    }
    while i < s.count {
        let c = s[i]
        i += 1
        guard c == "\\", i < s.count else {
            out.append(c)
            continue
        }
        let e = s[i]
        i += 1
        switch e {
        case "\n": break  // backslash-newline is a line continuation
        case "\\": out.append("\\")
        case "'": out.append("'")
        case "\"": out.append("\"")
        case "a": out.append("\u{07}")
        case "b": out.append("\u{08}")
        case "f": out.append("\u{0C}")
        case "n": out.append("\n")
        case "r": out.append("\r")
        case "t": out.append("\t")
        case "v": out.append("\u{0B}")
        case "x": out.append(try hex(2))
        case "u": out.append(try hex(4))
        case "U": out.append(try hex(8))
        case "0"..."7":
            var v = e.value - 48
            var n = 1
            while n < 3, i < s.count, s[i] >= "0", s[i] <= "7" {
                v = v * 8 + (s[i].value - 48)
                i += 1
                n += 1
            }
            out.append(Unicode.Scalar(v) ?? "\u{FFFD}")
        case "N":
            throw TemplateError(.unsupported, "\\N{...} escapes in string literals are not supported", line: line)
        default:
            out.append("\\")
            out.append(e)
        }
    }
    return String(out)
}
