/// Draft tokens by prompt lookup (n-gram matching): find the latest earlier place where the
/// sequence's last `n` tokens occurred, in its prompt or in its own output, and propose the
/// tokens that followed there. Longer n-grams are tried first (`longest` down to `shortest`).
///
/// No model runs: a draft costs a backward scan over the sequence's tokens. It is strong where
/// the output quotes its input (edits, corrections, answers citing a passage, JSON echoing keys)
/// and finds nothing, so costs nothing, in open-ended text.
struct PromptLookup {
    private(set) var tokens: [Int]
    let shortest: Int
    let longest: Int

    init(prompt: [Int], shortest: Int, longest: Int) {
        tokens = prompt
        self.shortest = max(1, shortest)
        self.longest = max(self.shortest, longest)
    }

    mutating func append(_ token: Int) { tokens.append(token) }

    /// Up to `count` tokens that followed the latest earlier occurrence of the longest suffix
    /// that occurs earlier; empty when none does.
    func draft(count: Int) -> [Int] {
        guard count > 0 else { return [] }
        return tokens.withUnsafeBufferPointer { t in
            let length = t.count
            var n = min(longest, length - 1)
            while n >= shortest {
                // Latest start first; a match may overlap the suffix itself (repetitions).
                var start = length - n - 1
                while start >= 0 {
                    if matches(t, at: start, suffix: n) {
                        let from = start + n
                        return Array(t[from..<min(length, from + count)])
                    }
                    start -= 1
                }
                n -= 1
            }
            return []
        }
    }

    /// `draft(count:)` as if `extra` had been appended (the draft continues a forced one).
    func draft(count: Int, after extra: [Int]) -> [Int] {
        guard !extra.isEmpty else { return draft(count: count) }
        var continued = self
        continued.tokens += extra
        return continued.draft(count: count)
    }

    private func matches(_ t: UnsafeBufferPointer<Int>, at start: Int, suffix n: Int) -> Bool {
        let offset = t.count - n
        var i = n - 1
        while i >= 0 {
            if t[start + i] != t[offset + i] { return false }
            i -= 1
        }
        return true
    }
}
