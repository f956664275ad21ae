/// Why a tokenizer could not be built.
public enum TokenizerError: Error, Equatable, CustomStringConvertible {
    /// `tokenizer.ggml.model` names a tokenizer this module does not implement (yet).
    case unsupportedModel(String)
    /// `tokenizer.ggml.pre` names a pre-tokenizer this module does not know.
    case unknownPreTokenizer(String)
    /// A metadata key the tokenizer needs is absent or of the wrong type.
    case missingMetadata(String)
    /// The vocabulary arrays disagree: lengths, duplicate tokens, ids out of range.
    case inconsistentVocabulary(String)
    /// A `tokenizer.json` uses a model, normalizer or post-processor this module does not implement.
    case unsupportedTokenizerJSON(String)

    public var description: String {
        switch self {
        case .unsupportedModel(let model):
            "tokenizer model '\(model)' is not supported yet (only 'gpt2' byte-level BPE and 'llama' SentencePiece are)"
        case .unknownPreTokenizer(let pre):
            "unknown pre-tokenizer type '\(pre)' (tokenizer.ggml.pre; supported: \(PreTokenizer.supportedNames.joined(separator: ", ")))"
        case .missingMetadata(let key):
            "tokenizer metadata '\(key)' is missing or has the wrong type"
        case .inconsistentVocabulary(let why):
            "inconsistent tokenizer vocabulary: \(why)"
        case .unsupportedTokenizerJSON(let what):
            "tokenizer.json: unsupported \(what)"
        }
    }
}
