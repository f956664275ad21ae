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
        var fragments: [Fragment] = [.text(0..<bytes.count)]
        var next: [Fragment] = []
        for candidate in candidates where parseSpecial || !candidate.onlyWhenParsingSpecial {
            let needle = candidate.bytes
            guard let first = needle.first else { continue }
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
                while i <= last {
                    if bytes[i] == first && Self.matches(bytes, at: i, needle) {
                        var leftEnd = i
                        if candidate.lstrip {
                            while leftEnd > start && Self.isSpace(bytes[leftEnd - 1]) { leftEnd -= 1 }
                        }
                        if leftEnd > start { next.append(.text(start..<leftEnd)) }
                        next.append(.token(candidate.id))
                        i += needle.count
                        if candidate.rstrip {
                            while i < range.upperBound && Self.isSpace(bytes[i]) { i += 1 }
                        }
                        start = i
                        changed = true
                    } else {
                        i += 1
                    }
                }
                if start < range.upperBound { next.append(.text(start..<range.upperBound)) }
            }
            if changed { swap(&fragments, &next) }
        }
        return fragments
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
