/// What models and the engine need from a tokenizer, so that neither depends on a concrete one.
///
/// Token ids are `Int`s in `0..<vocabularySize`. Implementations are immutable and safe to use
/// from several tasks at once.
public protocol Tokenizer: Sendable {
    /// Number of tokens in the vocabulary.
    var vocabularySize: Int { get }
    /// The beginning-of-sequence token, if the vocabulary has one.
    var bosTokenID: Int? { get }
    /// The end-of-sequence token, if the vocabulary has one.
    var eosTokenID: Int? { get }
    /// Every token that ends generation: EOS, EOT, end-of-turn tokens found by their text.
    var endOfGenerationTokenIDs: Set<Int> { get }
    /// Whether `encode(_:addSpecial:parseSpecial:)` with `addSpecial` prepends BOS.
    var addBOS: Bool { get }
    /// Whether `encode(_:addSpecial:parseSpecial:)` with `addSpecial` appends EOS.
    var addEOS: Bool { get }

    /// Token ids for `text`.
    /// - Parameters:
    ///   - text: The text to encode.
    ///   - addSpecial: Add BOS/EOS as the vocabulary asks (`addBOS`, `addEOS`).
    ///   - parseSpecial: Recognise control tokens such as `<|im_start|>` written in the text;
    ///     when false they are encoded as plain text (user-defined tokens are always recognised).
    /// - Returns: The token ids.
    func encode(_ text: String, addSpecial: Bool, parseSpecial: Bool) -> [Int]

    /// The bytes a token renders to, as llama.cpp's `token_to_piece`.
    /// - Parameters:
    ///   - id: A token id; an id outside the vocabulary renders to nothing.
    ///   - renderSpecial: Render control tokens (EOS, `<|im_end|>`...) as their text; when false
    ///     they render to nothing.
    /// - Returns: The bytes, which need not be complete UTF-8 on their own.
    func pieceBytes(_ id: Int, renderSpecial: Bool) -> [UInt8]

    /// The id of the token whose vocabulary text is exactly `text`, e.g. `"<|im_end|>"`.
    func tokenID(for text: String) -> Int?

    /// The raw bytes a token stands for (control tokens included, as their text).
    func tokenBytes(_ id: Int) -> [UInt8]

    /// The bytes of a token sequence, as llama.cpp's `detokenize` (without removing special
    /// tokens): the pieces concatenated, except that SentencePiece vocabularies that prefix a
    /// space when encoding drop it from the first piece again.
    func decodeBytes(_ ids: [Int], renderSpecial: Bool) -> [UInt8]

    /// The text of a token sequence; invalid UTF-8 becomes U+FFFD.
    /// - Parameters:
    ///   - ids: Token ids.
    ///   - renderSpecial: Render control tokens as their text; when false they render as
    ///     nothing, as llama.cpp's detokenize does by default.
    func decode(_ ids: [Int], renderSpecial: Bool) -> String
}

extension Tokenizer {
    public func tokenBytes(_ id: Int) -> [UInt8] {
        pieceBytes(id, renderSpecial: true)
    }

    /// The pieces concatenated.
    public func decodeBytes(_ ids: [Int], renderSpecial: Bool) -> [UInt8] {
        var bytes: [UInt8] = []
        for id in ids { bytes.append(contentsOf: pieceBytes(id, renderSpecial: renderSpecial)) }
        return bytes
    }

    /// The bytes of a token sequence, control tokens rendered as nothing. (An overload rather
    /// than a default argument, so that calls reach a tokenizer's own `decodeBytes`.)
    public func decodeBytes(_ ids: [Int]) -> [UInt8] {
        decodeBytes(ids, renderSpecial: false)
    }

    public func decode(_ ids: [Int], renderSpecial: Bool) -> String {
        String(decoding: decodeBytes(ids, renderSpecial: renderSpecial), as: UTF8.self)
    }

    /// The text of a token sequence, control tokens rendered as nothing.
    public func decode(_ ids: [Int]) -> String {
        decode(ids, renderSpecial: false)
    }

    /// Whether `id` ends generation.
    public func isEndOfGeneration(_ id: Int) -> Bool {
        endOfGenerationTokenIDs.contains(id)
    }
}
