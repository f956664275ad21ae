import Foundation

/// Hugging Face's `BertNormalizer`: control characters removed and whitespace unified, CJK
/// ideographs surrounded by spaces, accents stripped (NFD, then non-spacing marks dropped), and
/// lowercasing, in that order, as `tokenizers`' `normalizers/bert.rs` does.
///
/// Everything works on Unicode scalars (Rust `char`s), never on Swift `Character`s, whose
/// grapheme clustering and canonical equivalence the reference does not have.
public struct BertNormalizer: Sendable, Equatable {
    public var cleanText = true
    public var handleChineseChars = true
    /// nil: follow `lowercase`, as the reference does.
    public var stripAccents: Bool?
    public var lowercase = true

    public init(cleanText: Bool = true, handleChineseChars: Bool = true, stripAccents: Bool? = nil, lowercase: Bool = true) {
        self.cleanText = cleanText
        self.handleChineseChars = handleChineseChars
        self.stripAccents = stripAccents
        self.lowercase = lowercase
    }

    /// The normalized scalars of `text`.
    public func normalize(_ text: Substring.UnicodeScalarView) -> [Unicode.Scalar] {
        var scalars: [Unicode.Scalar] = []
        scalars.reserveCapacity(text.count)
        for s in text {
            if cleanText {
                if s.value == 0 || s.value == 0xFFFD || Self.isControl(s) { continue }
                if Self.isWhitespace(s) {
                    scalars.append(" ")
                    continue
                }
            }
            if handleChineseChars, Self.isChineseChar(s) {
                scalars.append(" ")
                scalars.append(s)
                scalars.append(" ")
            } else {
                scalars.append(s)
            }
        }
        if stripAccents ?? lowercase {
            // NFD without recomposition afterwards: Hangul syllables stay split into jamo, as
            // in the reference.
            var view = String.UnicodeScalarView()
            view.append(contentsOf: scalars)
            let decomposed = String(view).decomposedStringWithCanonicalMapping.unicodeScalars
            scalars = decomposed.filter { $0.properties.generalCategory != .nonspacingMark }
        }
        if lowercase {
            // Per scalar, like Rust's `char::to_lowercase` (no final-sigma context rule).
            var lowered: [Unicode.Scalar] = []
            lowered.reserveCapacity(scalars.count)
            for s in scalars {
                if s.isASCII {
                    lowered.append(s.value >= 65 && s.value <= 90 ? Unicode.Scalar(s.value + 32) ?? s : s)
                } else {
                    lowered.append(contentsOf: s.properties.lowercaseMapping.unicodeScalars)
                }
            }
            scalars = lowered
        }
        return scalars
    }

    /// Tab, newline and carriage return count as whitespace, as does everything with the
    /// White_Space property.
    static func isWhitespace(_ s: Unicode.Scalar) -> Bool {
        s == "\t" || s == "\n" || s == "\r" || s.properties.isWhitespace
    }

    /// Unicode "other" categories (Cc, Cf, Co, Cn, Cs), except tab, newline and carriage return.
    static func isControl(_ s: Unicode.Scalar) -> Bool {
        if s == "\t" || s == "\n" || s == "\r" { return false }
        switch s.properties.generalCategory {
        case .control, .format, .privateUse, .unassigned, .surrogate: return true
        default: return false
        }
    }

    /// The CJK Unified Ideograph blocks BERT's original tokenizer spaces out.
    static func isChineseChar(_ s: Unicode.Scalar) -> Bool {
        switch s.value {
        case 0x4E00...0x9FFF, 0x3400...0x4DBF, 0x20000...0x2A6DF, 0x2A700...0x2B73F, 0x2B740...0x2B81F,
             0x2B920...0x2CEAF, 0xF900...0xFAFF, 0x2F800...0x2FA1F:
            return true
        default:
            return false
        }
    }
}

/// Hugging Face's `BertPreTokenizer`: split on whitespace (dropped) and on punctuation, each
/// punctuation character becoming a word of its own.
enum BertPreTokenizer {
    static func split(_ scalars: [Unicode.Scalar]) -> [ArraySlice<Unicode.Scalar>] {
        var words: [ArraySlice<Unicode.Scalar>] = []
        var start = 0
        for (i, s) in scalars.enumerated() {
            if s.properties.isWhitespace {
                if start < i { words.append(scalars[start..<i]) }
                start = i + 1
            } else if isPunctuation(s) {
                if start < i { words.append(scalars[start..<i]) }
                words.append(scalars[i..<i + 1])
                start = i + 1
            }
        }
        if start < scalars.count { words.append(scalars[start...]) }
        return words
    }

    /// ASCII punctuation (which includes symbols such as `$`, `+`, `^`) or a Unicode P* category.
    static func isPunctuation(_ s: Unicode.Scalar) -> Bool {
        if s.isASCII {
            let v = s.value
            return (33...47).contains(v) || (58...64).contains(v) || (91...96).contains(v) || (123...126).contains(v)
        }
        switch s.properties.generalCategory {
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
             .initialPunctuation, .finalPunctuation, .otherPunctuation:
            return true
        default:
            return false
        }
    }
}
