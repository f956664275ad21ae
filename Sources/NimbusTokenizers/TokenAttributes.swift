/// A token's attributes, as llama.cpp's `llama_token_attr` bit set.
///
/// GGUF stores one `token_type` per token; llama.cpp turns it into these bits and then adds
/// `control` to tokens it recognises as end-of-generation or FIM markers by their text, which
/// changes how they are matched in input and rendered in output. We keep the same bits.
struct TokenAttributes: OptionSet, Sendable, Hashable {
    let rawValue: UInt16

    static let unknown = TokenAttributes(rawValue: 1 << 0)
    static let unused = TokenAttributes(rawValue: 1 << 1)
    static let normal = TokenAttributes(rawValue: 1 << 2)
    static let control = TokenAttributes(rawValue: 1 << 3)
    static let userDefined = TokenAttributes(rawValue: 1 << 4)
    static let byte = TokenAttributes(rawValue: 1 << 5)
    /// When cut out of input text, the whitespace before (lstrip) or after (rstrip) the token goes
    /// with it. GGUF does not store these; llama.cpp sets them for a few models by name.
    static let lstrip = TokenAttributes(rawValue: 1 << 7)
    static let rstrip = TokenAttributes(rawValue: 1 << 8)

    /// Attributes for a GGUF `tokenizer.ggml.token_type` value (1 normal, 2 unknown, 3 control,
    /// 4 user-defined, 5 unused, 6 byte); anything else is "undefined" (no bits), as in llama.cpp.
    init(ggufTokenType type: Int) {
        switch type {
        case 1: self = .normal
        case 2: self = .unknown
        case 3: self = .control
        case 4: self = .userDefined
        case 5: self = .unused
        case 6: self = .byte
        default: self = []
        }
    }

    init(rawValue: UInt16) {
        self.rawValue = rawValue
    }
}
