/// The `prompt` of a completions request, in any of the four shapes OpenAI accepts.
///
/// Token-id prompts matter to benchmarks and to clients that tokenise themselves, so they
/// are kept as ids rather than forced through text.
public enum Prompt: Sendable, Hashable, Decodable, JSONTypeDescribing {
    /// `"prompt": "Once upon a time"`
    case text(String)
    /// `"prompt": ["a", "b"]`: one completion set per string.
    case texts([String])
    /// `"prompt": [1, 2, 3]`: a single prompt already tokenised.
    case tokens([Int])
    /// `"prompt": [[1, 2], [3]]`: several tokenised prompts.
    case tokenBatches([[Int]])

    /// One prompt of the batch.
    public enum Item: Sendable, Hashable {
        case text(String)
        case tokens([Int])
    }

    static let jsonTypeDescription =
        "a string, an array of strings, an array of token ids, or an array of arrays of token ids"

    /// The prompts to complete, in order; choices are numbered prompt by prompt, `n` each.
    public var items: [Item] {
        switch self {
        case .text(let text): [.text(text)]
        case .texts(let texts): texts.map { .text($0) }
        case .tokens(let tokens): [.tokens(tokens)]
        case .tokenBatches(let batches): batches.map { .tokens($0) }
        }
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let text = try? container.decode(String.self) {
            self = .text(text)
        } else if let tokens = try? container.decode([Int].self) {
            self = .tokens(tokens)
        } else if let texts = try? container.decode([String].self) {
            self = .texts(texts)
        } else if let batches = try? container.decode([[Int]].self) {
            self = .tokenBatches(batches)
        } else {
            let path = CodingPath.describe(decoder.codingPath)
            throw APIError.typeMismatch(param: path.isEmpty ? "prompt" : path, expected: Self.jsonTypeDescription)
        }
    }
}
