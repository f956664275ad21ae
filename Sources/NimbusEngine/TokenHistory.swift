/// The tokens a sequence has seen, kept incrementally for the penalties.
///
/// Presence and frequency penalties look only at generated tokens (OpenAI semantics);
/// the repetition penalty looks at prompt and generated tokens alike (CTRL / llama.cpp /
/// vLLM). Both are kept sparse, so applying penalties costs O(distinct tokens seen),
/// never O(vocabulary).
public struct TokenHistory: Sendable, Equatable {
    /// How many times each token id occurs among the generated tokens.
    public private(set) var generatedCounts: [Int: Int]
    /// Every token id of the prompt and of the generated tokens.
    public private(set) var seen: Set<Int>
    /// Number of generated tokens appended so far.
    public private(set) var generatedCount: Int

    /// - Parameter prompt: the prompt's token ids; they count for the repetition penalty only.
    public init(prompt: some Sequence<Int> = [Int]()) {
        generatedCounts = [:]
        seen = Set(prompt)
        generatedCount = 0
    }

    /// Records one generated token.
    public mutating func append(_ token: Int) {
        generatedCounts[token, default: 0] += 1
        seen.insert(token)
        generatedCount += 1
    }

    /// Records several generated tokens in order.
    public mutating func append(contentsOf tokens: some Sequence<Int>) {
        for token in tokens { append(token) }
    }

    /// How many times `token` was generated.
    public func count(of token: Int) -> Int { generatedCounts[token] ?? 0 }
}
