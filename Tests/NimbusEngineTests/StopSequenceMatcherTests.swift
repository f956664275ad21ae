import Testing
@testable import NimbusEngine

@Suite struct StopSequenceMatcherTests {
    /// Feeds `pieces` and returns what was emitted, including the flush.
    static func run(_ stops: [String], _ pieces: [String]) -> (text: String, stopped: Bool) {
        var matcher = StopSequenceMatcher(stops: stops)
        var out = ""
        for piece in pieces {
            let (emit, stopped) = matcher.append(piece)
            out += emit
            if stopped { return (out, true) }
        }
        out += matcher.flush()
        return (out, matcher.isStopped)
    }

    @Test func overlappingCandidates() {
        #expect(Self.run(["abc", "bc"], ["xab", "c"]) == ("x", true))
        #expect(Self.run(["abc", "bc"], ["xab", "d"]) == ("xabd", false))
    }

    @Test func holdsBackPartialStop() {
        var matcher = StopSequenceMatcher(stops: ["</s>"])
        #expect(matcher.append("hello <") == ("hello ", false))
        #expect(matcher.append("/") == ("", false))
        #expect(matcher.append("x") == ("</x", false))
        #expect(matcher.append(" ok</") == (" ok", false))
        #expect(matcher.append("s> more") == ("", true))
        #expect(matcher.append("late") == ("", true))
        #expect(matcher.flush() == "")
    }

    @Test func flushReleasesHeldText() {
        var matcher = StopSequenceMatcher(stops: ["abc"])
        #expect(matcher.append("zab") == ("z", false))
        #expect(matcher.flush() == "ab")
        #expect(!matcher.isStopped)
    }

    @Test func earlierPartialWinsOverLaterComplete() {
        // "bc" is complete, but "abcd" could still start earlier.
        var matcher = StopSequenceMatcher(stops: ["abcd", "bc"])
        #expect(matcher.append("abc") == ("", false))
        #expect(matcher.append("x") == ("a", true))
        #expect(Self.run(["abcd", "bc"], ["abc", "d"]) == ("", true))
        // If the stream ends while waiting, flush cuts at the complete one.
        #expect(Self.run(["abcd", "bc"], ["zabc"]) == ("za", true))
    }

    @Test func stopSpanningManyPieces() {
        #expect(Self.run(["STOP HERE"], ["a S", "T", "O", "P", " ", "HE", "RE", "b"]) == ("a ", true))
    }

    @Test func emojiAndCombiningMarks() {
        // 👍🏽 is two scalars; only the full pair stops.
        #expect(Self.run(["👍🏽"], ["ok 👍", "🏽 more"]) == ("ok ", true))
        #expect(Self.run(["👍🏽"], ["ok 👍", " more"]) == ("ok 👍 more", false))
        var matcher = StopSequenceMatcher(stops: ["👍🏽"])
        #expect(matcher.append("ok 👍") == ("ok ", false))
        // Decomposed é: stop "e\u{301}" matches across pieces split between its scalars.
        #expect(Self.run(["e\u{301}!"], ["cafe", "\u{301}", "!"]) == ("caf", true))
    }

    @Test func noStopsPassesThrough() {
        #expect(Self.run([], ["a", "b"]) == ("ab", false))
        #expect(Self.run([""], ["a", "b"]) == ("ab", false))
    }

    // MARK: - Randomized against a whole-text reference

    static let alphabet: [Unicode.Scalar] = ["a", "b", "a", "b", "c", "x", " ", "\u{301}", "👍", "\u{1F3FD}", "é", "日"]

    /// Cut before the earliest start of any stop in the whole text.
    static func referenceCut(_ text: [Unicode.Scalar], _ stops: [[Unicode.Scalar]]) -> Int? {
        for start in text.indices {
            for stop in stops where !stop.isEmpty && start + stop.count <= text.count {
                if Array(text[start..<start + stop.count]) == stop { return start }
            }
        }
        return nil
    }

    /// The longest prefix that can be emitted having seen `text`: up to the earliest position
    /// where a stop starts or where the rest is a proper prefix of a stop.
    static func safeLength(_ text: [Unicode.Scalar], _ stops: [[Unicode.Scalar]]) -> Int {
        for start in text.indices {
            let rest = Array(text[start...])
            for stop in stops where !stop.isEmpty {
                if rest.count >= stop.count ? Array(rest.prefix(stop.count)) == stop : Array(stop.prefix(rest.count)) == rest {
                    return start
                }
            }
        }
        return text.count
    }

    static func string(_ scalars: some Sequence<Unicode.Scalar>) -> String {
        var s = ""
        s.unicodeScalars.append(contentsOf: scalars)
        return s
    }

    @Test func randomChunkingsMatchReference() {
        var rng = Xoshiro256StarStar(seed: 31_337)
        func below(_ n: Int) -> Int { Int(rng.next() % UInt64(n)) }
        for _ in 0..<3_000 {
            let text = (0..<below(40)).map { _ in Self.alphabet[below(Self.alphabet.count)] }
            let stops: [[Unicode.Scalar]] = (0..<(1 + below(3))).map { _ in
                if !text.isEmpty && below(3) > 0 {
                    let start = below(text.count)
                    return Array(text[start..<min(text.count, start + 1 + below(4))])
                }
                return (0..<(1 + below(4))).map { _ in Self.alphabet[below(Self.alphabet.count)] }
            }
            let cut = Self.referenceCut(text, stops)
            let expected = Array(text[..<(cut ?? text.count)])

            var matcher = StopSequenceMatcher(stops: stops.map { Self.string($0) })
            var emitted: [Unicode.Scalar] = []
            var fed = 0
            var stopped = false
            while fed < text.count && !stopped {
                let length = 1 + below(min(6, text.count - fed))
                let piece = Self.string(text[fed..<fed + length])
                fed += length
                let result = matcher.append(piece)
                emitted += result.emit.unicodeScalars
                stopped = result.stopped
                // Never beyond the cut, never a held-back tail, and nothing held needlessly.
                #expect(emitted.count == Self.safeLength(Array(text[..<fed]), stops), "\(text) \(stops)")
                if stopped { #expect(emitted.count == cut) }
            }
            if !stopped { emitted += matcher.flush().unicodeScalars }
            #expect(emitted == expected, "text \(Self.string(text).debugDescription) stops \(stops.map { Self.string($0) })")
            #expect(matcher.isStopped == (cut != nil))
        }
    }
}
