import NimbusTestSupport
@testable import NimbusServer

/// Helpers for the tool-call tests: streaming a text in given chunks and folding the events.
enum ToolTestSupport {
    /// A stream's events folded: content concatenated, each index's name and arguments, and the
    /// whole sequence with neighbouring content events (and neighbouring arguments events of one
    /// call) joined, which is what must not depend on how the text was cut.
    struct StreamResult: Equatable, CustomStringConvertible {
        var sequence: [ToolStreamEvent] = []
        var content = ""
        var names: [Int: String] = [:]
        var arguments: [Int: String] = [:]
        var aborted: [Int] = []
        var problems: [String] = []

        /// The calls in index order, the aborted ones left out.
        var calls: [ParsedToolCall] {
            names.keys.sorted().filter { !aborted.contains($0) }.map {
                ParsedToolCall(name: names[$0]!, arguments: arguments[$0] ?? "")
            }
        }

        var description: String {
            "content: \(content.debugDescription), calls: \(names.keys.sorted().map { "\($0): \(names[$0]!) \((arguments[$0] ?? "").debugDescription)" }), aborted: \(aborted), problems: \(problems)"
        }
    }

    static func fold(_ events: [ToolStreamEvent], into r: inout StreamResult) {
        for event in events {
            switch (r.sequence.last, event) {
            case (.content(let a)?, .content(let b)):
                r.sequence[r.sequence.count - 1] = .content(a + b)
            case (.arguments(let i, let a)?, .arguments(let j, let b)) where i == j:
                r.sequence[r.sequence.count - 1] = .arguments(index: i, fragment: a + b)
            default:
                r.sequence.append(event)
            }
            switch event {
            case .content(let s):
                if s.isEmpty { r.problems.append("empty content event") }
                r.content += s
            case .callStarted(let index, let name):
                if r.names[index] != nil { r.problems.append("call \(index) started twice") }
                if index != r.names.count { r.problems.append("call \(index) started out of order") }
                r.names[index] = name
            case .arguments(let index, let fragment):
                if r.names[index] == nil { r.problems.append("arguments for \(index) before its start") }
                if fragment.isEmpty { r.problems.append("empty arguments event") }
                r.arguments[index, default: ""] += fragment
            }
        }
    }

    static func stream(_ chunks: [String], format: ToolCallFormat) -> StreamResult {
        var parser = ToolCallStreamParser(format: format)
        var r = StreamResult()
        for chunk in chunks { fold(parser.feed(chunk), into: &r) }
        fold(parser.finish(), into: &r)
        r.aborted = parser.abortedCallIndices
        return r
    }

    /// The text cut at the given unicode-scalar offsets.
    static func cut(_ text: String, at offsets: [Int]) -> [String] {
        let scalars = Array(text.unicodeScalars)
        var chunks: [String] = []
        var last = 0
        for o in offsets.sorted() + [scalars.count] where o >= last {
            var s = String.UnicodeScalarView()
            s.append(contentsOf: scalars[last..<o])
            chunks.append(String(s))
            last = o
        }
        return chunks
    }

    /// Every way of cutting `text` that the invariance tests try: whole, one scalar per chunk,
    /// every single cut point (texts up to `exhaustiveLimit` scalars), every pair of cut points
    /// (texts up to `pairLimit` scalars), and seeded random cuttings.
    static func cuttings(_ text: String, exhaustiveLimit: Int = 400, pairLimit: Int = 60, randomCount: Int = 60, seed: UInt64 = 1) -> [[String]] {
        let n = text.unicodeScalars.count
        var result: [[String]] = [[text], cut(text, at: Array(0..<n))]
        if n <= exhaustiveLimit {
            for k in 0...n { result.append(cut(text, at: [k])) }
        }
        if n <= pairLimit {
            for a in 0...n { for b in a...n { result.append(cut(text, at: [a, b])) } }
        }
        var rng = SplitMix(seed: seed &+ UInt64(n))
        for _ in 0..<randomCount {
            let maxChunk = Int(rng.next() % 12) + 1
            var offsets: [Int] = []
            var o = 0
            while o < n {
                o += Int(rng.next() % UInt64(maxChunk)) + 1
                if o < n { offsets.append(o) }
            }
            result.append(cut(text, at: offsets))
        }
        return result
    }

    /// A small deterministic generator.
    typealias SplitMix = SplitMix64
}
