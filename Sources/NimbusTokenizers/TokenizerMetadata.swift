/// Read access to GGUF-style metadata, so that this module needs no GGUF reader.
///
/// The method names are those of `NimbusGGUF.GGUFFile`; conform it with an empty extension.
public protocol TokenizerMetadata {
    func string(_ key: String) -> String?
    func strings(_ key: String) -> [String]?
    func int(_ key: String) -> Int?
    func ints(_ key: String) -> [Int]?
    func bool(_ key: String) -> Bool?
}

/// Builds the tokenizer that a model's `tokenizer.ggml.*` metadata describes, as llama.cpp does.
///
/// Special token ids follow llama.cpp: for `gpt2` vocabularies BOS and EOS default to id 11 when
/// the metadata has none, and an id outside the vocabulary is ignored in favour of the default.
/// - Throws: `TokenizerError.unsupportedModel` for SentencePiece (`llama`) and other models,
///   `.missingMetadata` when tokens or merges are absent, and `BPETokenizer`'s errors.
public func makeTokenizer(metadata: some TokenizerMetadata) throws(TokenizerError) -> any Tokenizer {
    let key = "tokenizer.ggml."
    guard let model = metadata.string(key + "model") else { throw .missingMetadata(key + "model") }
    guard model == "gpt2" else { throw unsupported(model) }
    guard let tokens = metadata.strings(key + "tokens") else { throw .missingMetadata(key + "tokens") }
    guard let merges = metadata.strings(key + "merges") else { throw .missingMetadata(key + "merges") }

    // An id in range replaces the default; one out of range keeps it (llama.cpp only warns).
    func id(_ name: String, default fallback: Int? = nil) -> Int? {
        let fallback = fallback.flatMap { $0 < tokens.count ? $0 : nil }
        guard let value = metadata.int(key + name) else { return fallback }
        return (0..<tokens.count).contains(value) ? value : fallback
    }
    var special = SpecialTokenIDs(
        bos: id("bos_token_id", default: 11), eos: id("eos_token_id", default: 11),
        eot: id("eot_token_id"), eom: id("eom_token_id"), unknown: id("unknown_token_id"),
        separator: id("seperator_token_id"), padding: id("padding_token_id"),
        fimPrefix: id("fim_pre_token_id"), fimSuffix: id("fim_suf_token_id"), fimMiddle: id("fim_mid_token_id"),
        fimPad: id("fim_pad_token_id"), fimRepo: id("fim_rep_token_id"), fimSeparator: id("fim_sep_token_id"))
    // The deprecated keys come later in llama.cpp's list and so win.
    special.fimPrefix = id("prefix_token_id", default: special.fimPrefix)
    special.fimSuffix = id("suffix_token_id", default: special.fimSuffix)
    special.fimMiddle = id("middle_token_id", default: special.fimMiddle)

    return try makeTokenizer(
        model: model, tokens: tokens, tokenTypes: metadata.ints(key + "token_type"), merges: merges,
        preTokenizer: metadata.string(key + "pre"), specialTokens: special,
        addBOS: metadata.bool(key + "add_bos_token"), addEOS: metadata.bool(key + "add_eos_token"))
}

/// Builds a tokenizer from plain vocabulary arrays.
/// - Parameters:
///   - model: `tokenizer.ggml.model`; only `gpt2` (byte-level BPE) is implemented.
///   - merges: Required for `gpt2`.
///   - Others: as `BPETokenizer.init`.
/// - Throws: `TokenizerError.unsupportedModel` for anything but `gpt2`, `.missingMetadata` when
///   merges are absent, and `BPETokenizer`'s errors.
public func makeTokenizer(
    model: String, tokens: [String], tokenTypes: [Int]?, merges: [String]?, preTokenizer: String?,
    specialTokens: SpecialTokenIDs, addBOS: Bool? = nil, addEOS: Bool? = nil
) throws(TokenizerError) -> any Tokenizer {
    guard model == "gpt2" else { throw unsupported(model) }
    guard let merges else { throw .missingMetadata("tokenizer.ggml.merges") }
    return try BPETokenizer(
        tokens: tokens, tokenTypes: tokenTypes, merges: merges, preTokenizer: preTokenizer,
        specialTokens: specialTokens, addBOS: addBOS, addEOS: addEOS)
}

private func unsupported(_ model: String) -> TokenizerError {
    switch model {
    case "llama": .unsupportedModel("llama (SentencePiece)")
    case "bert": .unsupportedModel("bert (WordPiece)")
    case "t5": .unsupportedModel("t5 (Unigram)")
    default: .unsupportedModel(model)
    }
}
