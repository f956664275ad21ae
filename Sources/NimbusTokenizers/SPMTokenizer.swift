/// SentencePiece vocabularies as llama.cpp reads them from GGUF (`tokenizer.ggml.model = llama`:
/// Llama 1/2, Mistral, Phi-3, Gemma), token for token what llama.cpp produces.
///
/// Encoding: special tokens are cut out of the text first (`SpecialTokenMatcher`); each stretch
/// of text between them gets a leading space if the vocabulary asks for one and it starts the
/// input or follows a special token, its spaces become U+2581 ("▁"), and it is merged by token
/// score (`SPMMerger`), characters with no token falling back to byte tokens `<0xAB>`. There is
/// no pre-tokenizer: SentencePiece sees the whole stretch at once.
/// Decoding renders each token as llama.cpp's `token_to_piece`: "▁" back to a space, byte tokens
/// as their byte.
public final class SPMTokenizer: Tokenizer {
    public let vocabularySize: Int
    public let specialTokens: SpecialTokenIDs
    public let addBOS: Bool
    public let addEOS: Bool
    /// Whether a space is put before text at the start of the input and after special tokens
    /// (`tokenizer.ggml.add_space_prefix`; Llama and Phi-3 do, Gemma does not).
    public let addSpacePrefix: Bool
    /// Where the space prefix goes. llama.cpp (and a `Prepend("▁")` normalizer): before the
    /// first stretch of text and every stretch after a special token. A `tokenizer.json`
    /// Metaspace pre-tokenizer: only before the text's start (scheme `first`) or each stretch
    /// (`always`), and never before one that already starts with a space.
    public enum SpacePrefixRule: Sendable, Equatable {
        case everyStretch
        case metaspace(onlyAtStart: Bool)
    }
    public let spacePrefixRule: SpacePrefixRule
    public let endOfGenerationTokenIDs: Set<Int>

    public var bosTokenID: Int? { specialTokens.bos }
    public var eosTokenID: Int? { specialTokens.eos }

    private let attributes: [TokenAttributes]
    private let index: TokenTextIndex
    private let scores: [Float]
    private let byteTokens: [Int32]
    private let specialMatcher: SpecialTokenMatcher
    /// Every token's piece (llama.cpp's `token_to_piece` with special = true), end to end.
    private let pieceStore: [UInt8]
    private let pieceEnds: [Int]

    /// U+2581 LOWER ONE EIGHTH BLOCK, SentencePiece's stand-in for a space, in UTF-8.
    static let escapedSpace: [UInt8] = [0xE2, 0x96, 0x81]

    /// Builds the tokenizer from a vocabulary's arrays, as GGUF stores them.
    /// - Parameters:
    ///   - tokens: `tokenizer.ggml.tokens`, in id order.
    ///   - scores: `tokenizer.ggml.scores`, one per token: higher merges first.
    ///   - tokenTypes: `tokenizer.ggml.token_type` (1 normal, 2 unknown, 3 control,
    ///     4 user-defined, 5 unused, 6 byte); nil makes every token normal, as llama.cpp.
    ///   - specialTokens: Ids from the metadata (`makeTokenizer(metadata:)` applies llama.cpp's
    ///     SentencePiece defaults BOS 1, EOS 2, UNK 0); EOT, EOM and FIM ids that are nil are
    ///     looked up by their text, as llama.cpp does.
    ///   - addBOS: `tokenizer.ggml.add_bos_token`; nil is true, llama.cpp's default here.
    ///   - addEOS: `tokenizer.ggml.add_eos_token`; nil is false.
    ///   - addSpacePrefix: `tokenizer.ggml.add_space_prefix`; nil is true.
    ///   - modelName: `general.name`; llama.cpp gives Phi-3's special tokens "rstrip" by name.
    /// - Throws: `TokenizerError` for arrays of different lengths, duplicate tokens, special ids
    ///   outside the vocabulary, add_bos/add_eos without the id, or a byte that UTF-8 text can
    ///   contain but that has no byte token to fall back to.
    public init(
        tokens: [String], scores: [Float], tokenTypes: [Int]?, specialTokens: SpecialTokenIDs,
        addBOS: Bool? = nil, addEOS: Bool? = nil, addSpacePrefix: Bool? = nil, modelName: String? = nil,
        spacePrefixRule: SpacePrefixRule = .everyStretch
    ) throws(TokenizerError) {
        self.spacePrefixRule = spacePrefixRule
        guard !tokens.isEmpty else { throw .inconsistentVocabulary("the token list is empty") }
        // llama.cpp refuses fewer scores or types than tokens, and ignores any extra.
        guard scores.count >= tokens.count else {
            throw .inconsistentVocabulary("\(tokens.count) tokens but \(scores.count) scores")
        }
        if let tokenTypes, tokenTypes.count < tokens.count {
            throw .inconsistentVocabulary("\(tokens.count) tokens but \(tokenTypes.count) token types")
        }
        for (name, id) in specialTokens.all where !(0..<tokens.count).contains(id) {
            throw .inconsistentVocabulary("\(name) token id \(id) is outside the vocabulary of \(tokens.count)")
        }
        // llama.cpp names empty tokens so that they cannot match.
        var texts = tokens
        for id in texts.indices where texts[id].isEmpty { texts[id] = "[EMPTY_\(id)]" }
        let index = try TokenTextIndex(texts: texts)

        var attributes = tokenTypes.map { types in texts.indices.map { TokenAttributes(ggufTokenType: types[$0]) } }
            ?? Array(repeating: .normal, count: texts.count)
        var special = specialTokens
        let eog = EndOfGeneration.resolve(texts: texts, id: index.id(for:), special: &special, attributes: &attributes)
        if let modelName { Self.applyModelQuirks(modelName: modelName, index: index, attributes: &attributes) }

        let addBOS = addBOS ?? true
        let addEOS = addEOS ?? false
        if addBOS && special.bos == nil {
            throw .inconsistentVocabulary("add_bos_token is true but there is no BOS token id")
        }
        if addEOS && special.eos == nil {
            throw .inconsistentVocabulary("add_eos_token is true but there is no EOS token id")
        }

        self.vocabularySize = texts.count
        self.specialTokens = special
        self.addBOS = addBOS
        self.addEOS = addEOS
        self.addSpacePrefix = addSpacePrefix ?? true
        self.endOfGenerationTokenIDs = eog
        self.byteTokens = try Self.byteTokens(index: index)
        (self.pieceStore, self.pieceEnds) = Self.pieces(index: index, attributes: attributes)
        self.attributes = attributes
        self.index = index
        self.scores = Array(scores.prefix(texts.count))
        self.specialMatcher = SpecialTokenMatcher(texts: texts, attributes: attributes)
    }

    public func tokenID(for text: String) -> Int? {
        index.id(for: text)
    }

    public func pieceBytes(_ id: Int, renderSpecial: Bool) -> [UInt8] {
        guard id >= 0, id < vocabularySize else { return [] }
        if !renderSpecial && !attributes[id].isDisjoint(with: [.control, .unknown]) { return [] }
        let start = id == 0 ? 0 : pieceEnds[id - 1]
        return Array(pieceStore[start..<pieceEnds[id]])
    }

    /// llama.cpp's `detokenize` with `remove_special` false: when the vocabulary prefixes a
    /// space, the first token's piece loses one leading space (a first BOS renders as nothing or
    /// as its text, so then nothing is removed).
    public func decodeBytes(_ ids: [Int], renderSpecial: Bool) -> [UInt8] {
        var bytes: [UInt8] = []
        for (k, id) in ids.enumerated() {
            let piece = pieceBytes(id, renderSpecial: renderSpecial)
            if k == 0 && addSpacePrefix && piece.first == UInt8(ascii: " ") {
                bytes.append(contentsOf: piece.dropFirst())
            } else {
                bytes.append(contentsOf: piece)
            }
        }
        return bytes
    }

    private func prefixesSpace(_ bytes: [UInt8], _ range: Range<Int>) -> Bool {
        switch spacePrefixRule {
        case .everyStretch: return true
        case .metaspace(let onlyAtStart):
            return (!onlyAtStart || range.lowerBound == 0) && bytes[range].first != UInt8(ascii: " ")
        }
    }

    public func encode(_ text: String, addSpecial: Bool, parseSpecial: Bool) -> [Int] {
        let bytes = Array(text.utf8)
        var out: [Int] = []
        out.reserveCapacity(bytes.count / 3 + 2)
        if addSpecial && addBOS, let bos = specialTokens.bos { out.append(bos) }
        var merger = SPMMerger(index: index, scores: scores, byteTokens: byteTokens)
        var escaped: [UInt8] = []
        // llama.cpp prefixes the space to the first stretch of text and to every stretch that
        // follows a special token, but not to one that follows text.
        var afterSpecial = true
        for fragment in specialMatcher.partition(bytes, parseSpecial: parseSpecial) {
            switch fragment {
            case .token(let id):
                out.append(id)
                afterSpecial = true
            case .text(let range):
                escaped.removeAll(keepingCapacity: true)
                escaped.reserveCapacity(range.count + 3)
                if addSpacePrefix && afterSpecial && prefixesSpace(bytes, range) { escaped.append(contentsOf: Self.escapedSpace) }
                for b in bytes[range] {
                    if b == UInt8(ascii: " ") {
                        escaped.append(contentsOf: Self.escapedSpace)
                    } else {
                        escaped.append(b)
                    }
                }
                escaped.withUnsafeBufferPointer { merger.encode($0, into: &out) }
                afterSpecial = false
            }
        }
        if addSpecial && addEOS, let eos = specialTokens.eos { out.append(eos) }
        return out
    }
}
