/// One grammar over one vocabulary: which tokens each parse state allows. Masks are computed by
/// one walk of the vocabulary trie (subtrees the grammar refuses are skipped whole) and kept per
/// state, so a state met again, by this request or any later one with the same constraint,
/// costs a lookup. Engine-thread only, like the automaton.
public final class GrammarIndex {
    public let automaton: GrammarAutomaton
    public let trie: VocabularyTrie
    private var masks: [Int32: TokenMask] = [:]
    private let maskLimit: Int
    /// Masks computed (cache misses), for statistics and tests.
    public private(set) var maskComputations = 0

    public init(grammar: Grammar, trie: VocabularyTrie, maskLimit: Int = 1024) throws {
        automaton = try GrammarAutomaton(grammar)
        self.trie = trie
        self.maskLimit = maskLimit
        _ = mask(for: automaton.initial)
    }

    /// The tokens whose bytes can follow in `state` (end-of-generation tokens not included).
    public func mask(for state: Int32) -> TokenMask {
        if let known = masks[state] { return known }
        maskComputations += 1
        var mask = TokenMask(vocabularySize: trie.vocabularySize)
        var states = [Int32](repeating: GrammarAutomaton.dead, count: trie.maxDepth + 1)
        states[0] = state
        var node = 1
        let count = trie.nodeCount
        while node < count {
            let depth = Int(trie.depth[node])
            let next = automaton.next(states[depth - 1], trie.byte[node])
            if next == GrammarAutomaton.dead {
                node = Int(trie.subtreeEnd[node])
                continue
            }
            states[depth] = next
            for t in trie.tokenStart[node]..<trie.tokenStart[node + 1] { mask.insert(Int(trie.tokens[Int(t)])) }
            node += 1
        }
        if masks.count >= maskLimit { masks.removeAll(keepingCapacity: true) }
        masks[state] = mask
        return mask
    }
}

/// Where one sequence stands in its grammar. Value type: a choice owns one, and recomputing
/// after preemption leaves it as it was (it follows sampled tokens, not the KV cache).
public struct GrammarMatcher {
    public let index: GrammarIndex
    public private(set) var state: Int32
    private let tokenBytes: (Int) -> [UInt8]

    public init(index: GrammarIndex, tokenBytes: @escaping (Int) -> [UInt8]) {
        self.index = index
        state = index.automaton.initial
        self.tokenBytes = tokenBytes
    }

    /// The output may end here (an end-of-generation token is allowed).
    public var canEnd: Bool { index.automaton.accepts(state) }
    /// Nothing may follow: the output is complete.
    public var isComplete: Bool { index.automaton.isFinal(state) }

    public func allowedTokens() -> TokenMask { index.mask(for: state) }

    /// Advances past `token`. - Returns: false (state unchanged) if the grammar refuses it.
    @discardableResult
    public mutating func accept(_ token: Int) -> Bool {
        let bytes = tokenBytes(token)
        guard !bytes.isEmpty else { return false }
        let next = index.automaton.next(state, bytes: bytes)
        guard next != GrammarAutomaton.dead else { return false }
        state = next
        return true
    }

    /// Up to `limit` bytes the grammar forces next (`GrammarAutomaton.forcedBytes`), and, when
    /// `guessing` and there are some, the byte likely to follow them unless whitespace comes
    /// first (`likelyByte`: a key's colon, which a tokenizer merges with the key's closing quote).
    public func forcedBytes(limit: Int, guessing: Bool = false) -> [UInt8] {
        let automaton = index.automaton
        var bytes = automaton.forcedBytes(after: state, limit: limit)
        if guessing, !bytes.isEmpty, bytes.count < limit,
           let likely = automaton.likelyByte(after: automaton.next(state, bytes: bytes)) {
            bytes.append(likely)
        }
        return bytes
    }

    /// Whether `text` could be the whole output from the start (tests and validation).
    public static func matches(_ text: String, automaton: GrammarAutomaton) -> Bool {
        let end = automaton.next(automaton.initial, bytes: text.utf8)
        return end != GrammarAutomaton.dead && automaton.accepts(end)
    }
}
