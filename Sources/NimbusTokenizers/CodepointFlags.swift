/// The few Unicode facts the pre-tokenizers ask about one code point, as llama.cpp's
/// `unicode_cpt_flags` gives them: general-category classes and the White_Space property.
///
/// `any` is set for every code point so that "inside the text" (non-zero flags) can be told
/// from "past the end" (zero), which llama.cpp's scanners rely on.
struct CodepointFlags: OptionSet, Sendable {
    let rawValue: UInt8

    static let letter = CodepointFlags(rawValue: 1 << 0)       // \p{L}
    static let number = CodepointFlags(rawValue: 1 << 1)       // \p{N}
    static let whitespace = CodepointFlags(rawValue: 1 << 2)   // White_Space
    static let punctuation = CodepointFlags(rawValue: 1 << 3)  // \p{P}
    static let any = CodepointFlags(rawValue: 1 << 7)

    /// Letter, number or whitespace: what `[^\s\p{L}\p{N}]` excludes.
    static let wordOrSpace: CodepointFlags = [.letter, .number, .whitespace]

    init(rawValue: UInt8) {
        self.rawValue = rawValue
    }

    /// Flags of code point `value`; table lookup for the BMP, computed above it.
    @inline(__always)
    static func of(_ value: UInt32) -> CodepointFlags {
        if value < 0x10000 { return CodepointFlags(rawValue: bmpTable[Int(value)]) }
        return compute(value)
    }

    /// Computing a general category costs far more than a lookup, and prompts are mostly BMP.
    private static let bmpTable: [UInt8] = (0..<0x10000).map { compute(UInt32($0)).rawValue }

    private static func compute(_ value: UInt32) -> CodepointFlags {
        guard let scalar = Unicode.Scalar(value) else { return .any }  // surrogates: never in a String
        var flags: CodepointFlags = .any
        let properties = scalar.properties
        switch properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter:
            flags.insert(.letter)
        case .decimalNumber, .letterNumber, .otherNumber:
            flags.insert(.number)
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
             .initialPunctuation, .finalPunctuation, .otherPunctuation:
            flags.insert(.punctuation)
        default:
            break
        }
        if properties.isWhitespace { flags.insert(.whitespace) }
        return flags
    }
}
