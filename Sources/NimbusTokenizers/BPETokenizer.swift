import Foundation

/// Byte-level BPE (`tokenizer.ggml.model = gpt2`), token for token what llama.cpp produces.
///
/// Encoding: special tokens are cut out of the text first (`SpecialTokenMatcher`), the rest is
/// split into words by the pre-tokenizer, each word's UTF-8 bytes are spelled with GPT-2's byte
/// table and merged by rank. Decoding renders each token as llama.cpp's `token_to_piece`.
public final class BPETokenizer: Tokenizer {
    public let vocabularySize: Int
    public let specialTokens: SpecialTokenIDs
    public let addBOS: Bool
    public let addEOS: Bool
    public let endOfGenerationTokenIDs: Set<Int>
    public let preTokenizer: PreTokenizer
    /// Text is put in Unicode NFC before encoding (a `tokenizer.json` NFC normalizer, as Qwen2's;
    /// llama.cpp's GGUF vocabularies never ask for it).
    public let normalizesToNFC: Bool

    public var bosTokenID: Int? { specialTokens.bos }
    public var eosTokenID: Int? { specialTokens.eos }

    private let attributes: [TokenAttributes]
    private let tokenIndex: [String: Int]
    private let merges: BPEMerges
    private let specialMatcher: SpecialTokenMatcher
    /// Every token's piece (llama.cpp's `token_to_piece` with special = true), end to end.
    private let pieceStore: [UInt8]
    private let pieceEnds: [Int]
    private let cache = WordCache()

    /// Builds the tokenizer from a vocabulary's arrays, as GGUF stores them.
    /// - Parameters:
    ///   - tokens: `tokenizer.ggml.tokens`, in id order.
    ///   - tokenTypes: `tokenizer.ggml.token_type` (1 normal, 2 unknown, 3 control,
    ///     4 user-defined, 5 unused, 6 byte); nil makes every token normal, as llama.cpp.
    ///   - merges: `tokenizer.ggml.merges`, `"left right"` in rank order.
    ///   - preTokenizer: `tokenizer.ggml.pre`; nil or empty is llama.cpp's "default".
    ///   - specialTokens: Ids from the metadata; EOT, EOM and FIM ids that are nil are looked up
    ///     by their text, as llama.cpp does.
    ///   - addBOS: `tokenizer.ggml.add_bos_token`; nil takes llama.cpp's default for the
    ///     pre-tokenizer (true for the Llama-3 family, false otherwise).
    ///   - addEOS: `tokenizer.ggml.add_eos_token`; nil is false.
    /// - Throws: `TokenizerError` for an unknown pre-tokenizer, arrays of different lengths,
    ///   duplicate tokens, special ids outside the vocabulary, or add_bos/add_eos without the id.
    public init(
        tokens: [String], tokenTypes: [Int]?, merges: [String], preTokenizer: String?,
        specialTokens: SpecialTokenIDs, addBOS: Bool? = nil, addEOS: Bool? = nil, normalizesToNFC: Bool = false
    ) throws(TokenizerError) {
        self.normalizesToNFC = normalizesToNFC
        let pre = try PreTokenizer(name: preTokenizer)
        guard !tokens.isEmpty else { throw .inconsistentVocabulary("the token list is empty") }
        if let tokenTypes, tokenTypes.count < tokens.count {
            throw .inconsistentVocabulary("\(tokens.count) tokens but \(tokenTypes.count) token types")
        }
        for (name, id) in specialTokens.all where !(0..<tokens.count).contains(id) {
            throw .inconsistentVocabulary("\(name) token id \(id) is outside the vocabulary of \(tokens.count)")
        }
        // llama.cpp names empty tokens so that they cannot match, and rejects duplicates.
        var texts = tokens
        var index: [String: Int] = [:]
        index.reserveCapacity(tokens.count)
        for id in texts.indices {
            if texts[id].isEmpty { texts[id] = "[EMPTY_\(id)]" }
            if let other = index.updateValue(id, forKey: texts[id]) {
                throw .inconsistentVocabulary("duplicate token '\(texts[id])' has ids \(other) and \(id)")
            }
        }
        var attributes = tokenTypes.map { types in texts.indices.map { TokenAttributes(ggufTokenType: types[$0]) } }
            ?? Array(repeating: .normal, count: texts.count)
        var special = specialTokens
        let eog = EndOfGeneration.resolve(texts: texts, id: { index[$0] }, special: &special, attributes: &attributes)

        let addBOS = addBOS ?? pre.addsBOSByDefault
        let addEOS = addEOS ?? false
        if addBOS && special.bos == nil {
            throw .inconsistentVocabulary("add_bos_token is true but there is no BOS token id")
        }
        if addEOS && special.eos == nil {
            throw .inconsistentVocabulary("add_eos_token is true but there is no EOS token id")
        }

        var store: [UInt8] = []
        var ends: [Int] = []
        ends.reserveCapacity(texts.count)
        for id in texts.indices {
            store.append(contentsOf: Self.piece(text: texts[id], attributes: attributes[id]))
            ends.append(store.count)
        }

        self.vocabularySize = texts.count
        self.specialTokens = special
        self.addBOS = addBOS
        self.addEOS = addEOS
        self.endOfGenerationTokenIDs = eog
        self.preTokenizer = pre
        self.attributes = attributes
        self.tokenIndex = index
        self.merges = BPEMerges(tokens: texts, merges: merges)
        self.specialMatcher = SpecialTokenMatcher(texts: texts, attributes: attributes)
        self.pieceStore = store
        self.pieceEnds = ends
        // Build the code point class table now (a few ms) rather than in the first request.
        _ = CodepointFlags.of(0x20)
    }

    public func tokenID(for text: String) -> Int? {
        tokenIndex[text]
    }

    public func pieceBytes(_ id: Int, renderSpecial: Bool) -> [UInt8] {
        guard id >= 0, id < vocabularySize else { return [] }
        if !renderSpecial && !attributes[id].isDisjoint(with: [.control, .unknown]) { return [] }
        let start = id == 0 ? 0 : pieceEnds[id - 1]
        return Array(pieceStore[start..<pieceEnds[id]])
    }

    public func encode(_ text: String, addSpecial: Bool, parseSpecial: Bool) -> [Int] {
        let bytes = Array((normalizesToNFC ? text.precomposedStringWithCanonicalMapping : text).utf8)
        var out: [Int] = []
        out.reserveCapacity(bytes.count / 3 + 2)
        if addSpecial && addBOS, let bos = specialTokens.bos { out.append(bos) }
        for fragment in specialMatcher.partition(bytes, parseSpecial: parseSpecial) {
            switch fragment {
            case .token(let id): out.append(id)
            case .text(let range): encodeText(bytes[range], into: &out)
            }
        }
        if addSpecial && addEOS, let eos = specialTokens.eos { out.append(eos) }
        return out
    }

    /// Pre-tokenizes and merges one stretch of text without special tokens.
    private func encodeText(_ bytes: ArraySlice<UInt8>, into out: inout [Int]) {
        // Code points with the byte offset where each starts (valid UTF-8: it came from a String).
        var scalars: [UInt32] = []
        var offsets: [Int] = []
        scalars.reserveCapacity(bytes.count)
        offsets.reserveCapacity(bytes.count + 1)
        var i = bytes.startIndex
        var decoder = UTF8()
        var iterator = bytes.makeIterator()
        loop: while true {
            switch decoder.decode(&iterator) {
            case .scalarValue(let s):
                scalars.append(s.value)
                offsets.append(i)
                i += UTF8.width(s)
            case .emptyInput: break loop
            case .error:
                // Cannot happen for String input; keep the byte as U+FFFD like llama.cpp.
                scalars.append(0xFFFD)
                offsets.append(i)
                i += 1
            }
        }
        offsets.append(bytes.endIndex)
        for word in preTokenizer.split(scalars) {
            encodeWord(bytes[offsets[word.lowerBound]..<offsets[word.upperBound]], into: &out)
        }
    }

    private func encodeWord(_ word: ArraySlice<UInt8>, into out: inout [Int]) {
        let cacheable = word.count <= WordCache.maxWordBytes
        if cacheable, let ids = cache[word] {
            out.append(contentsOf: ids)
            return
        }
        var ids: [Int] = []
        if preTokenizer.ignoresMerges, let whole = tokenIndex[ByteLevel.encode(word)] {
            ids.append(whole)
        } else {
            for symbol in merges.merge(word) {
                let token = merges.symbolToken[Int(symbol)]
                if token >= 0 {
                    ids.append(Int(token))
                    continue
                }
                // Not a token (only with inconsistent merges): llama.cpp looks up each byte of
                // the spelling as a one-byte token and drops those that are not.
                for b in merges.symbolText[Int(symbol)].utf8 where b < 0x80 {
                    if let id = tokenIndex[String(UnicodeScalar(b))] { ids.append(id) }
                }
            }
        }
        if cacheable { cache[word] = ids }
        out.append(contentsOf: ids)
    }
}
