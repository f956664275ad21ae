/// Cuts a streamed text at the first occurrence of any stop string, without ever letting a
/// partial stop string reach the client.
///
/// Semantics: the output is exactly the whole text cut before the earliest-*starting*
/// occurrence of any stop string (the stop string and everything after it are dropped, as
/// OpenAI does), whatever the chunking. Matching is on Unicode scalars, so a chunk is never
/// split inside a scalar; it can split between the scalars of one grapheme (an emoji with a
/// skin tone, a letter and its combining accent) when a stop string could start there, and a
/// stop string "e" does match the first scalar of a decomposed "é".
///
/// Held back: every tail of the pending text that could still become a stop string, and,
/// when a complete stop string is in the pending text, any earlier start that is still a
/// partial match (stops "abcd" and "bc" with "abc" so far: "abcd" could still start earlier).
/// `stopped` is reported as soon as the cut is certain.
public struct StopSequenceMatcher: Sendable {
    private let stops: [[Unicode.Scalar]]
    private var pending: [Unicode.Scalar] = []
    /// True once a stop string has been found; further text is discarded.
    public private(set) var isStopped = false

    /// - Parameter stops: stop strings; empty ones are ignored.
    public init(stops: [String]) {
        self.stops = stops.filter { !$0.isEmpty }.map { Array($0.unicodeScalars) }
    }

    /// The longest stop string in scalars: how much text the matcher can hold back.
    public var maximumHoldBack: Int { max(0, (stops.map(\.count).max() ?? 0) - 1) }

    /// Feeds the next piece of generated text.
    /// - Returns: the text that is safe to emit now, and whether the stream must stop.
    public mutating func append(_ text: String) -> (emit: String, stopped: Bool) {
        guard !isStopped else { return ("", true) }
        guard !stops.isEmpty else { return (text, false) }
        pending.append(contentsOf: text.unicodeScalars)

        let complete = earliestCompleteMatch()
        let partial = earliestPartialMatch(before: complete ?? pending.count)
        if let complete, partial == nil {
            isStopped = true
            let emit = Self.string(pending[..<complete])
            pending.removeAll()
            return (emit, true)
        }
        let safe = partial ?? pending.count
        let emit = Self.string(pending[..<safe])
        pending.removeFirst(safe)
        return (emit, false)
    }

    /// Ends the stream: returns the held-back text (cut at a complete stop string if one is
    /// waiting on an earlier partial that can no longer complete).
    public mutating func flush() -> String {
        guard !isStopped else { return "" }
        let end = earliestCompleteMatch() ?? pending.count
        if end < pending.count { isStopped = true }
        let emit = Self.string(pending[..<end])
        pending.removeAll()
        return emit
    }

    /// Start of the earliest stop string fully inside `pending`.
    private func earliestCompleteMatch() -> Int? {
        for start in pending.indices {
            for stop in stops where stop.count <= pending.count - start {
                if matches(stop, at: start, length: stop.count) { return start }
            }
        }
        return nil
    }

    /// Earliest start before `limit` whose tail `pending[start...]` is a proper prefix of a stop.
    private func earliestPartialMatch(before limit: Int) -> Int? {
        // Only the last (longest stop - 1) positions can start a proper prefix.
        var start = max(0, pending.count - maximumHoldBack)
        while start < limit {
            let length = pending.count - start
            for stop in stops where stop.count > length {
                if matches(stop, at: start, length: length) { return start }
            }
            start += 1
        }
        return nil
    }

    private func matches(_ stop: [Unicode.Scalar], at start: Int, length: Int) -> Bool {
        for i in 0..<length where pending[start + i] != stop[i] { return false }
        return true
    }

    private static func string(_ scalars: ArraySlice<Unicode.Scalar>) -> String {
        var result = String()
        result.unicodeScalars.append(contentsOf: scalars)
        return result
    }
}
