import NimbusGrammar
import NimbusTokenizers

/// A grammar the output of a request must match (compiled from a JSON Schema, regex, choice list
/// or GBNF by the server). `key` names the constraint: requests with the same key share one
/// automaton and its token masks.
public struct OutputConstraint: Sendable {
    public var key: String
    public var grammar: Grammar

    public init(key: String, grammar: Grammar) {
        self.key = key
        self.grammar = grammar
    }
}

/// The engine thread's grammar indexes: the vocabulary trie (built on first use) and one index
/// per constraint key, the least recently used dropped past `limit`.
final class ConstraintIndexes {
    private let tokenizer: any Tokenizer
    private let vocabularySize: Int
    private var trie: VocabularyTrie?
    private var indexes: [String: (index: GrammarIndex, lastUse: Int)] = [:]
    private var uses = 0
    private let limit: Int

    init(tokenizer: any Tokenizer, vocabularySize: Int, limit: Int = 32) {
        self.tokenizer = tokenizer
        self.vocabularySize = vocabularySize
        self.limit = limit
    }

    /// The bytes a token adds to the output; empty for control tokens, which no grammar admits.
    func bytes(of token: Int) -> [UInt8] {
        token < tokenizer.vocabularySize ? tokenizer.pieceBytes(token, renderSpecial: false) : []
    }

    func matcher(for constraint: OutputConstraint) throws -> GrammarMatcher {
        uses += 1
        if let known = indexes[constraint.key] {
            indexes[constraint.key]?.lastUse = uses
            return GrammarMatcher(index: known.index, tokenBytes: bytes)
        }
        let trie = self.trie ?? VocabularyTrie(tokenBytes: (0..<vocabularySize).map(bytes))
        self.trie = trie
        let index = try GrammarIndex(grammar: constraint.grammar, trie: trie, maskLimit: 256)
        if indexes.count >= limit, let oldest = indexes.min(by: { $0.value.lastUse < $1.value.lastUse })?.key {
            indexes[oldest] = nil
        }
        indexes[constraint.key] = (index, uses)
        return GrammarMatcher(index: index, tokenBytes: bytes)
    }
}
