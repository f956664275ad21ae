/// Cuts special tokens out of input text before BPE, as llama.cpp's `tokenizer_st_partition`.
///
/// llama.cpp takes the special tokens (control, user-defined, unknown) longest first and, for
/// each, splits every text fragment left so far at its occurrences. A longer token therefore wins
/// over a shorter one wherever they overlap. Control and unknown tokens are only matched when
/// special parsing is on; user-defined ones always are (as Hugging Face tokenizers do). A token
/// with the `lstrip`/`rstrip` attribute also takes the whitespace (C `isspace`) before/after it.
struct SpecialTokenMatcher: Sendable {
    enum Fragment: Equatable {
        case token(Int)
        case text(Range<Int>)
    }

    private struct Candidate: Sendable {
        let id: Int
        let bytes: [UInt8]
        let onlyWhenParsingSpecial: Bool
        let lstrip: Bool
        let rstrip: Bool
    }

    private let candidates: [Candidate]

    init(texts: [String], attributes: [TokenAttributes]) {
        var candidates: [Candidate] = []
        for id in texts.indices where !attributes[id].isDisjoint(with: [.control, .userDefined, .unknown]) {
            candidates.append(Candidate(
                id: id, bytes: Array(texts[id].utf8),
                onlyWhenParsingSpecial: !attributes[id].isDisjoint(with: [.control, .unknown]),
                lstrip: attributes[id].contains(.lstrip), rstrip: attributes[id].contains(.rstrip)))
        }
        // Longest first; equal lengths by id (llama.cpp's sort leaves their order unspecified).
        candidates.sort { $0.bytes.count != $1.bytes.count ? $0.bytes.count > $1.bytes.count : $0.id < $1.id }
        self.candidates = candidates
    }

    /// `bytes` as special tokens and the text stretches between them, in order.
    func partition(_ bytes: [UInt8], parseSpecial: Bool) -> [Fragment] {
        guard !bytes.isEmpty else { return [] }
        // Vocabularies such as Gemma's have thousands of special tokens; scanning the whole text
        // for each would cost tokens x bytes. Instead the text's positions are sorted by byte
        // value once, and each token is only tried where its first byte occurs.
        var firstOffsets = [Int](repeating: 0, count: 257)
        for b in bytes { firstOffsets[Int(b) + 1] += 1 }
        for k in 1...256 { firstOffsets[k] += firstOffsets[k - 1] }
        var positions = [Int](repeating: 0, count: bytes.count)
        var fill = firstOffsets
        for (i, b) in bytes.enumerated() {
            positions[fill[Int(b)]] = i
            fill[Int(b)] += 1
        }

        var fragments: [Fragment] = [.text(0..<bytes.count)]
        var next: [Fragment] = []
        for candidate in candidates where parseSpecial || !candidate.onlyWhenParsingSpecial {
            let needle = candidate.bytes
            guard let first = needle.first else { continue }
            // Where `first` occurs in the text, ascending.
            let occurrences = positions[firstOffsets[Int(first)]..<firstOffsets[Int(first) + 1]]
            // Most special tokens occur nowhere in the text: then no fragment needs rebuilding.
            guard occurrences.contains(where: { $0 + needle.count <= bytes.count && Self.matches(bytes, at: $0, needle) })
            else { continue }
            var changed = false
            next.removeAll(keepingCapacity: true)
            for fragment in fragments {
                guard case .text(let range) = fragment else {
                    next.append(fragment)
                    continue
                }
                var start = range.lowerBound
                var i = range.lowerBound
                let last = range.upperBound - needle.count
                // Leftmost non-overlapping matches, trying only where the first byte is.
                var k = Self.firstIndex(in: occurrences, notBelow: i)
                while k < occurrences.endIndex && occurrences[k] <= last {
                    let p = occurrences[k]
                    k += 1
                    guard p >= i, Self.matches(bytes, at: p, needle) else { continue }
                    var leftEnd = p
                    if candidate.lstrip {
                        while leftEnd > start && Self.isSpace(bytes[leftEnd - 1]) { leftEnd -= 1 }
                    }
                    if leftEnd > start { next.append(.text(start..<leftEnd)) }
                    next.append(.token(candidate.id))
                    i = p + needle.count
                    if candidate.rstrip {
                        while i < range.upperBound && Self.isSpace(bytes[i]) { i += 1 }
                    }
                    start = i
                    changed = true
                }
                if start < range.upperBound { next.append(.text(start..<range.upperBound)) }
            }
            if changed { swap(&fragments, &next) }
        }
        return fragments
    }

    /// The index of the first element of `sorted` that is at least `value` (binary search).
    @inline(__always)
    private static func firstIndex(in sorted: ArraySlice<Int>, notBelow value: Int) -> Int {
        var low = sorted.startIndex, high = sorted.endIndex
        while low < high {
            let mid = (low + high) / 2
            if sorted[mid] < value { low = mid + 1 } else { high = mid }
        }
        return low
    }

    /// C's `isspace` in the "C" locale, which llama.cpp uses for lstrip/rstrip.
    @inline(__always)
    private static func isSpace(_ b: UInt8) -> Bool {
        b == 0x20 || (0x09...0x0D).contains(b)
    }

    @inline(__always)
    private static func matches(_ bytes: [UInt8], at i: Int, _ needle: [UInt8]) -> Bool {
        for k in 1..<needle.count where bytes[i + k] != needle[k] { return false }
        return true
    }
}
