/// Hand-written equivalents of the regexes llama.cpp pre-tokenizes with.
///
/// Each function splits the piece `range` of `s` (code point values) and appends the resulting
/// pieces to `out`. `gpt2` and `llama3` follow llama.cpp's own scanners
/// (`unicode_regex_split_custom_gpt2` / `_llama3`) step by step, quirks included, because those
/// decide the token ids; `matches` is the `std::regex` path for single-class regexes.
enum ScalarScanner {
    private static let apostrophe: UInt32 = 0x27
    private static let space: UInt32 = 0x20
    private static let cr: UInt32 = 0x0D
    private static let lf: UInt32 = 0x0A

    /// Flags of `s[i]`, or none past the end of the piece (what the scanners test for).
    @inline(__always)
    private static func flags(_ s: [UInt32], _ i: Int, _ end: Int) -> CodepointFlags {
        i < end ? CodepointFlags.of(s[i]) : []
    }

    /// The length of a contraction (`'s 't 're 've 'm 'll 'd`) starting at `pos`, or 0.
    /// Llama-3 matches it case-insensitively; only ASCII letters lower-case to these.
    @inline(__always)
    private static func contraction(_ s: [UInt32], _ pos: Int, _ end: Int, caseInsensitive: Bool) -> Int {
        guard s[pos] == apostrophe, pos + 1 < end else { return 0 }
        func lower(_ c: UInt32) -> UInt32 { caseInsensitive && c >= 0x41 && c <= 0x5A ? c + 0x20 : c }
        let c1 = lower(s[pos + 1])
        if c1 == 0x73 || c1 == 0x74 || c1 == 0x6D || c1 == 0x64 { return 2 }  // s t m d
        guard pos + 2 < end else { return 0 }
        let c2 = lower(s[pos + 2])
        if (c1 == 0x72 && c2 == 0x65) || (c1 == 0x76 && c2 == 0x65) || (c1 == 0x6C && c2 == 0x6C) {  // re ve ll
            return 3
        }
        return 0
    }

    /// GPT-2: `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)`, where a
    /// whitespace run that no branch takes becomes a piece too.
    static func gpt2(_ s: [UInt32], _ range: Range<Int>, into out: inout [Range<Int>]) {
        let end = range.upperBound
        var pos = range.lowerBound
        var start = pos
        func emit(_ upTo: Int) {
            if upTo > start { out.append(start..<upTo) }
            start = upTo
        }
        while pos < end {
            let c = s[pos]
            let f = CodepointFlags.of(c)
            let n = contraction(s, pos, end, caseInsensitive: false)
            if n > 0 {
                pos += n
                emit(pos)
                continue
            }
            // An optional leading space joins the run that follows it.
            let f2 = c == space ? flags(s, pos + 1, end) : f
            if f2.contains(.letter) || f2.contains(.number) {
                let kind: CodepointFlags = f2.contains(.letter) ? .letter : .number
                if c == space { pos += 1 }
                while flags(s, pos, end).contains(kind) { pos += 1 }
                emit(pos)
                continue
            }
            if f2.isDisjoint(with: .wordOrSpace) && !f2.isEmpty {
                if c == space { pos += 1 }
                while true {
                    let g = flags(s, pos, end)
                    guard g.isDisjoint(with: .wordOrSpace) && !g.isEmpty else { break }
                    pos += 1
                }
                emit(pos)
                continue
            }
            var spaces = 0
            while flags(s, pos + spaces, end).contains(.whitespace) { spaces += 1 }
            if spaces > 1 && pos + spaces < end {
                // \s+(?!\S): leave the last space to start the next word.
                pos += spaces - 1
                emit(pos)
                continue
            }
            pos += max(spaces, 1)
            emit(pos)
        }
    }

    /// Llama-3: `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|
    /// ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`, with `{1,maxDigits}` for the digits.
    static func llama3(_ s: [UInt32], _ range: Range<Int>, maxDigits: Int, into out: inout [Range<Int>]) {
        let end = range.upperBound
        var pos = range.lowerBound
        var start = pos
        func emit(_ upTo: Int) {
            if upTo > start { out.append(start..<upTo) }
            start = upTo
        }
        while pos < end {
            let c = s[pos]
            let f = CodepointFlags.of(c)
            let n = contraction(s, pos, end, caseInsensitive: true)
            if n > 0 {
                pos += n
                emit(pos)
                continue
            }
            // [^\r\n\p{L}\p{N}]?\p{L}+
            if !(c == cr || c == lf || f.contains(.number)) {
                if f.contains(.letter) || flags(s, pos + 1, end).contains(.letter) {
                    pos += 1
                    while flags(s, pos, end).contains(.letter) { pos += 1 }
                    emit(pos)
                    continue
                }
            }
            // \p{N}{1,maxDigits}
            if f.contains(.number) {
                var groupStart = pos
                while flags(s, pos, end).contains(.number) {
                    pos += 1
                    if pos - groupStart >= maxDigits {
                        emit(pos)
                        groupStart = pos
                    }
                }
                emit(pos)
                continue
            }
            // ' ?[^\s\p{L}\p{N}]+[\r\n]*' (llama.cpp tests the current code point's flags for
            // "inside the text" here, so a final lone space becomes its own piece).
            var f2 = c == space ? flags(s, pos + 1, end) : f
            if f2.isDisjoint(with: .wordOrSpace) && !f.isEmpty {
                if c == space { pos += 1 }
                while f2.isDisjoint(with: .wordOrSpace) && !f2.isEmpty {
                    pos += 1
                    f2 = flags(s, pos, end)
                }
                while pos < end && (s[pos] == cr || s[pos] == lf) { pos += 1 }
                emit(pos)
                continue
            }
            var spaces = 0
            var afterLastNewline = 0
            while flags(s, pos + spaces, end).contains(.whitespace) {
                let w = s[pos + spaces]
                if w == cr || w == lf { afterLastNewline = pos + spaces + 1 }
                spaces += 1
            }
            if afterLastNewline > 0 {
                // \s*[\r\n]+
                pos = afterLastNewline
            } else if spaces > 1 && pos + spaces < end {
                // \s+(?!\S)
                pos += spaces - 1
            } else {
                pos += max(spaces, 1)
            }
            emit(pos)
        }
    }

    /// Splits by a regex that matches at a position with the given length (0: no match there):
    /// every match and every stretch between matches is a piece, as llama.cpp's `std::regex` path.
    static func matches(
        _ s: [UInt32], _ range: Range<Int>, into out: inout [Range<Int>],
        length: (_ s: [UInt32], _ pos: Int, _ end: Int) -> Int
    ) {
        let end = range.upperBound
        var pos = range.lowerBound
        var start = pos
        while pos < end {
            let n = length(s, pos, end)
            if n == 0 {
                pos += 1
                continue
            }
            if pos > start { out.append(start..<pos) }
            out.append(pos..<pos + n)
            pos += n
            start = pos
        }
        if end > start { out.append(start..<end) }
    }

    /// `\p{N}`
    static func oneNumber(_ s: [UInt32], _ pos: Int, _ end: Int) -> Int {
        CodepointFlags.of(s[pos]).contains(.number) ? 1 : 0
    }

    /// `\p{N}+`
    static func numberRun(_ s: [UInt32], _ pos: Int, _ end: Int) -> Int {
        var i = pos
        while i < end && CodepointFlags.of(s[i]).contains(.number) { i += 1 }
        return i - pos
    }

    /// `[\p{P}\$\+<=>\^~\|]+`
    static func punctuationRun(_ s: [UInt32], _ pos: Int, _ end: Int) -> Int {
        var i = pos
        while i < end {
            let c = s[i]
            // $ + < = > ^ ~ |
            let extra = c == 0x24 || c == 0x2B || (0x3C...0x3E).contains(c) || c == 0x5E || c == 0x7E || c == 0x7C
            guard extra || CodepointFlags.of(c).contains(.punctuation) else { break }
            i += 1
        }
        return i - pos
    }

    /// `[0-9][0-9][0-9]`
    static func asciiDigitTriple(_ s: [UInt32], _ pos: Int, _ end: Int) -> Int {
        guard pos + 3 <= end else { return 0 }
        for i in pos..<pos + 3 where !(0x30...0x39).contains(s[i]) { return 0 }
        return 3
    }
}
