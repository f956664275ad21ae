/// Synthetic prompts of a given length, reproducible from a seed, no two alike at the start.
///
/// A prompt is `wordCount` words from `PromptWords.all`, each a single token (with its leading
/// space) in GPT-2-style BPE vocabularies, so a prompt is about `wordCount` tokens; the server's
/// `usage.prompt_tokens` gives the true count. The first two words are a function of the
/// request's index alone, distinct for the first 512 × 512 requests, so no two requests of a run
/// share a prefix a server could cache; the rest are random.
public struct PromptSynthesizer: Sendable {
    public let wordCount: Int
    public let seed: UInt64

    public init(wordCount: Int, seed: UInt64) {
        self.wordCount = wordCount
        self.seed = seed
    }

    /// The prompt of request `index` (counted over the whole run, warm-up included). It depends
    /// on nothing else, so the order in which concurrent requests start does not change it.
    public func prompt(index: Int) -> String {
        let words = PromptWords.all
        var random = SplitMix64(seed: seed &+ UInt64(truncatingIfNeeded: index) &* 0x9E37_79B9_7F4A_7C15)
        // The seed shifts the index → prefix mapping, so different seeds start differently too.
        var seedMixer = SplitMix64(seed: seed)
        let shift = Int(truncatingIfNeeded: seedMixer.next() % UInt64(words.count))
        var chosen: [String] = []
        chosen.reserveCapacity(wordCount)
        chosen.append(words[(index + shift) % words.count])
        if wordCount > 1 { chosen.append(words[(index / words.count + shift) % words.count]) }
        while chosen.count < wordCount {
            chosen.append(words[Int(random.next() % UInt64(words.count))])
        }
        return chosen.joined(separator: " ")
    }
}

/// Sebastiano Vigna's SplitMix64: tiny, fast, and the same numbers on every platform (the
/// standard library's generator is neither seedable nor stable across releases).
struct SplitMix64 {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
