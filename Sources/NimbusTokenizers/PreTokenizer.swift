/// Splits text into the words that BPE merges within, by `tokenizer.ggml.pre`, as llama.cpp does.
///
/// llama.cpp gives each pre-tokenizer type a list of regexes; each regex splits every piece the
/// previous one left, and text between two matches becomes a piece of its own. The GPT-2 and
/// Llama-3 regexes run through hand-written scanners there (`unicode.cpp`), whose behaviour is
/// the reference; the others run through `std::regex`. Each stage here is a scanner that gives
/// the same pieces, so no regex engine is involved.
public struct PreTokenizer: Sendable {
    /// One regex of llama.cpp's list.
    enum Stage: Sendable {
        /// `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)`
        case gpt2
        /// Llama-3's regex, `\p{N}{1,3}`; with `maxDigits` 1 it is Qwen2's (`\p{N}`).
        case llama3(maxDigits: Int)
        /// `\p{N}`: every digit alone.
        case eachNumber
        /// `\p{N}+`
        case numberRuns
        /// `[\p{P}\$\+<=>\^~\|]+`
        case punctuationRuns
        /// `[0-9][0-9][0-9]`
        case asciiDigitTriples
    }

    /// The `tokenizer.ggml.pre` value this was built for.
    public let name: String
    let stages: [Stage]
    /// llama.cpp's `ignore_merges`: a word that is itself a token is emitted whole, unmerged.
    let ignoresMerges: Bool
    /// llama.cpp turns `add_bos` on for some pre-tokenizer types before reading the metadata.
    let addsBOSByDefault: Bool

    /// How llama.cpp treats a group of `tokenizer.ggml.pre` values.
    struct Kind: Sendable {
        let names: [String]
        let stages: [Stage]
        var ignoresMerges = false
        var addsBOS = false
    }

    /// Every `tokenizer.ggml.pre` value this module implements, in llama.cpp's groups. The error
    /// for an unknown value lists these names, so the list and the message cannot disagree.
    static let kinds: [Kind] = [
        Kind(names: ["default"], stages: [.punctuationRuns, .gpt2, .numberRuns, .asciiDigitTriples]),
        Kind(names: ["llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1", "pixtral", "midm-2.0", "lfm2",
                     "jina-v5-nano"],
             stages: [.llama3(maxDigits: 3)], ignoresMerges: true, addsBOS: true),
        Kind(names: ["dbrx", "smaug-bpe"], stages: [.llama3(maxDigits: 3)]),
        Kind(names: ["qwen2", "deepseek-r1-qwen", "kormo", "f2llmv2", "megrez", "stablelm2", "hunyuan", "solar-open"],
             stages: [.llama3(maxDigits: 1)]),
        Kind(names: ["smollm", "starcoder", "refact", "command-r", "codeshell", "exaone", "minerva-7b", "mellum2"],
             stages: [.eachNumber, .gpt2]),
        Kind(names: ["gpt-2", "phi-2", "jina-es", "jina-de", "gigachat", "jina-v2-es", "jina-v2-de", "a.x-4.0",
                     "mellum", "modern-bert", "jina-v1-en", "jina-v2-code", "roberta-bpe", "exaone4", "mpt",
                     "olmo", "jais", "trillion", "granite-docling"],
             stages: [.gpt2]),
    ]

    /// The `tokenizer.ggml.pre` values this module implements (an absent or empty one means
    /// "default", as in llama.cpp).
    public static let supportedNames: [String] = kinds.flatMap(\.names)

    /// The pre-tokenizer for a `tokenizer.ggml.pre` value; nil or empty means llama.cpp's default.
    /// - Throws: `TokenizerError.unknownPreTokenizer` for a type this module does not implement.
    public init(name: String?) throws(TokenizerError) {
        let name = name ?? ""
        let lookup = name.isEmpty ? "default" : name
        guard let kind = Self.kinds.first(where: { $0.names.contains(lookup) }) else {
            throw .unknownPreTokenizer(name)
        }
        self.name = name
        stages = kind.stages
        ignoresMerges = kind.ignoresMerges
        addsBOSByDefault = kind.addsBOS
    }

    /// The words of `text`, in order; joined they give `text` back.
    public func split(_ text: String) -> [String] {
        let scalars = text.unicodeScalars.map(\.value)
        var view = String.UnicodeScalarView()
        return split(scalars).map { range in
            view.removeAll(keepingCapacity: true)
            for v in scalars[range] { view.append(Unicode.Scalar(v) ?? "\u{FFFD}") }
            return String(view)
        }
    }

    /// Word boundaries in `scalars` (code point values), as index ranges.
    func split(_ scalars: [UInt32]) -> [Range<Int>] {
        guard !scalars.isEmpty else { return [] }
        var pieces = [0..<scalars.count]
        var next: [Range<Int>] = []
        for stage in stages {
            next.removeAll(keepingCapacity: true)
            next.reserveCapacity(pieces.count * 2)
            for piece in pieces {
                switch stage {
                case .gpt2: ScalarScanner.gpt2(scalars, piece, into: &next)
                case .llama3(let maxDigits): ScalarScanner.llama3(scalars, piece, maxDigits: maxDigits, into: &next)
                case .eachNumber: ScalarScanner.matches(scalars, piece, into: &next, length: ScalarScanner.oneNumber)
                case .numberRuns: ScalarScanner.matches(scalars, piece, into: &next, length: ScalarScanner.numberRun)
                case .punctuationRuns:
                    ScalarScanner.matches(scalars, piece, into: &next, length: ScalarScanner.punctuationRun)
                case .asciiDigitTriples:
                    ScalarScanner.matches(scalars, piece, into: &next, length: ScalarScanner.asciiDigitTriple)
                }
            }
            swap(&pieces, &next)
        }
        return pieces
    }
}
