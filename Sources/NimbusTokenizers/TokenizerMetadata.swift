/// Read access to GGUF-style metadata, so that this module needs no GGUF reader.
///
/// The method names are those of `NimbusGGUF.GGUFFile`; conform it with an empty extension.
public protocol TokenizerMetadata {
    func string(_ key: String) -> String?
    func strings(_ key: String) -> [String]?
    func int(_ key: String) -> Int?
    func ints(_ key: String) -> [Int]?
    func floats(_ key: String) -> [Float]?
    func bool(_ key: String) -> Bool?
}

/// Builds the tokenizer that a model's `tokenizer.ggml.*` metadata describes, as llama.cpp does.
///
/// Special token ids follow llama.cpp: for `gpt2` vocabularies BOS and EOS default to id 11 when
/// the metadata has none, for `llama` (SentencePiece) ones BOS is 1, EOS 2 and UNK 0; a default
/// outside the vocabulary is dropped, and an id outside it is ignored in favour of the default.
/// - Throws: `TokenizerError.unsupportedModel` for models other than `gpt2` and `llama`,
///   `.missingMetadata` when tokens, merges (gpt2) or scores (llama) are absent, and the
///   tokenizers' own errors.
public func makeTokenizer(metadata: some TokenizerMetadata) throws(TokenizerError) -> any Tokenizer {
    let key = "tokenizer.ggml."
    guard let model = metadata.string(key + "model") else { throw .missingMetadata(key + "model") }
    guard model == "gpt2" || model == "llama" else { throw unsupported(model) }
    guard let tokens = metadata.strings(key + "tokens") else { throw .missingMetadata(key + "tokens") }

    // An id in range replaces the default; one out of range keeps it (llama.cpp only warns).
    func id(_ name: String, default fallback: Int? = nil) -> Int? {
        let fallback = fallback.flatMap { $0 < tokens.count ? $0 : nil }
        guard let value = metadata.int(key + name) else { return fallback }
        return (0..<tokens.count).contains(value) ? value : fallback
    }
    let isSPM = model == "llama"
    var special = SpecialTokenIDs(
        bos: id("bos_token_id", default: isSPM ? 1 : 11), eos: id("eos_token_id", default: isSPM ? 2 : 11),
        eot: id("eot_token_id"), eom: id("eom_token_id"), unknown: id("unknown_token_id", default: isSPM ? 0 : nil),
        separator: id("seperator_token_id"), padding: id("padding_token_id"),
        fimPrefix: id("fim_pre_token_id"), fimSuffix: id("fim_suf_token_id"), fimMiddle: id("fim_mid_token_id"),
        fimPad: id("fim_pad_token_id"), fimRepo: id("fim_rep_token_id"), fimSeparator: id("fim_sep_token_id"))
    // The deprecated keys come later in llama.cpp's list and so win.
    special.fimPrefix = id("prefix_token_id", default: special.fimPrefix)
    special.fimSuffix = id("suffix_token_id", default: special.fimSuffix)
    special.fimMiddle = id("middle_token_id", default: special.fimMiddle)

    if isSPM {
        guard let scores = metadata.floats(key + "scores") else { throw .missingMetadata(key + "scores") }
        return try SPMTokenizer(
            tokens: tokens, scores: scores, tokenTypes: metadata.ints(key + "token_type"), specialTokens: special,
            addBOS: metadata.bool(key + "add_bos_token"), addEOS: metadata.bool(key + "add_eos_token"),
            addSpacePrefix: metadata.bool(key + "add_space_prefix"), modelName: metadata.string("general.name"),
            spacePrefixRule: metaspaceRule(metadata.string(huggingFaceKey + "metaspace")))
    }
    guard let merges = metadata.strings(key + "merges") else { throw .missingMetadata(key + "merges") }
    return try BPETokenizer(
        tokens: tokens, tokenTypes: metadata.ints(key + "token_type"), merges: merges,
        preTokenizer: metadata.string(key + "pre"), specialTokens: special,
        addBOS: metadata.bool(key + "add_bos_token"), addEOS: metadata.bool(key + "add_eos_token"),
        normalizesToNFC: metadata.string(huggingFaceKey + "normalizer") == "NFC")
}

/// Keys a Hugging Face checkpoint's `tokenizer.json` adds beside the GGUF ones, for what GGUF
/// vocabularies never ask for: `metaspace` (`first`, `always`) and `normalizer` (`NFC`).
public let huggingFaceKey = "tokenizer.huggingface."

private func metaspaceRule(_ scheme: String?) -> SPMTokenizer.SpacePrefixRule {
    switch scheme {
    case "first": .metaspace(onlyAtStart: true)
    case "always": .metaspace(onlyAtStart: false)
    default: .everyStretch
    }
}

/// Builds a tokenizer from plain vocabulary arrays.
/// - Parameters:
///   - model: `tokenizer.ggml.model`: `gpt2` (byte-level BPE) or `llama` (SentencePiece).
///   - merges: Required for `gpt2`.
///   - scores: Required for `llama`.
///   - Others: as `BPETokenizer.init` and `SPMTokenizer.init` (whose `addSpacePrefix` and
///     `modelName` take their defaults here).
/// - Throws: `TokenizerError.unsupportedModel` for other models, `.missingMetadata` when merges
///   or scores are absent, and the tokenizers' own errors.
public func makeTokenizer(
    model: String, tokens: [String], tokenTypes: [Int]?, merges: [String]?, scores: [Float]? = nil,
    preTokenizer: String?, specialTokens: SpecialTokenIDs, addBOS: Bool? = nil, addEOS: Bool? = nil
) throws(TokenizerError) -> any Tokenizer {
    switch model {
    case "gpt2":
        guard let merges else { throw .missingMetadata("tokenizer.ggml.merges") }
        return try BPETokenizer(
            tokens: tokens, tokenTypes: tokenTypes, merges: merges, preTokenizer: preTokenizer,
            specialTokens: specialTokens, addBOS: addBOS, addEOS: addEOS)
    case "llama":
        guard let scores else { throw .missingMetadata("tokenizer.ggml.scores") }
        return try SPMTokenizer(
            tokens: tokens, scores: scores, tokenTypes: tokenTypes, specialTokens: specialTokens,
            addBOS: addBOS, addEOS: addEOS)
    default:
        throw unsupported(model)
    }
}

private func unsupported(_ model: String) -> TokenizerError {
    switch model {
    case "bert": .unsupportedModel("bert (WordPiece)")
    case "t5": .unsupportedModel("t5 (Unigram)")
    default: .unsupportedModel(model)
    }
}
