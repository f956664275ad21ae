/// SentencePiece's greedy merge of one stretch of escaped text, as llama.cpp's
/// `llm_tokenizer_spm_session::tokenize`.
///
/// The text starts as one symbol per UTF-8 character. Every pair of neighbours whose joined text
/// is a token is a candidate; the candidate whose token has the highest score merges first, ties
/// going to the leftmost pair. After a merge the new symbol's pairs with its neighbours become
/// candidates; candidates made stale by an earlier merge are recognised by their length and
/// dropped. Symbols left at the end are tokens, or are spelled with byte tokens.
struct SPMMerger {
    private struct Symbol {
        var start: Int32
        var count: Int32
        var prev: Int32
        var next: Int32
    }

    private struct Bigram {
        let left: Int32
        let right: Int32
        let score: Float
        let size: Int32

        /// Pops before `other`: higher score, then the pair further left (llama.cpp's comparator).
        @inline(__always)
        func precedes(_ other: Bigram) -> Bool {
            score > other.score || (score == other.score && left < other.left)
        }
    }

    let index: TokenTextIndex
    let scores: [Float]
    /// The token for each byte value (`<0xAB>`, else the one-byte text), -1 where none.
    let byteTokens: [Int32]

    private var symbols: [Symbol] = []
    private var heap: [Bigram] = []

    init(index: TokenTextIndex, scores: [Float], byteTokens: [Int32]) {
        self.index = index
        self.scores = scores
        self.byteTokens = byteTokens
    }

    /// Appends the tokens of `text` (already escaped: spaces as U+2581) to `out`.
    mutating func encode(_ text: UnsafeBufferPointer<UInt8>, into out: inout [Int]) {
        guard !text.isEmpty else { return }
        symbols.removeAll(keepingCapacity: true)
        heap.removeAll(keepingCapacity: true)

        // One symbol per character; llama.cpp takes the length from the lead byte alone.
        var offset = 0
        while offset < text.count {
            let n = min(Self.utf8Length(lead: text[offset]), text.count - offset)
            let index = Int32(symbols.count)
            offset += n
            symbols.append(Symbol(
                start: Int32(offset - n), count: Int32(n), prev: index - 1,
                next: offset == text.count ? -1 : index + 1))
        }
        for right in symbols.indices.dropFirst() { addBigram(text, Int32(right - 1), Int32(right)) }

        while let bigram = pop() {
            let left = Int(bigram.left), right = Int(bigram.right)
            // Stale: one side already merged away, or grew since this pair was queued.
            if symbols[left].count == 0 || symbols[right].count == 0
                || symbols[left].count + symbols[right].count != bigram.size {
                continue
            }
            symbols[left].count += symbols[right].count
            symbols[right].count = 0
            symbols[left].next = symbols[right].next
            if symbols[right].next >= 0 { symbols[Int(symbols[right].next)].prev = bigram.left }
            addBigram(text, symbols[left].prev, bigram.left)
            addBigram(text, bigram.left, symbols[left].next)
        }

        // A symbol that grew by merging is a token by construction; a lone character may not be
        // and is spelled byte by byte (llama.cpp's `resegment`, whose reverse-merge branch can
        // therefore never run).
        var i = 0
        while i != -1 {
            let symbol = symbols[i]
            let range = Int(symbol.start)..<Int(symbol.start + symbol.count)
            let id = index.id(of: UnsafeBufferPointer(rebasing: text[range]))
            if id >= 0 {
                out.append(id)
            } else {
                for b in text[range] {
                    let token = byteTokens[Int(b)]
                    // The tokenizer checks at build time that every byte valid UTF-8 can hold
                    // has a token, and the text is valid UTF-8.
                    if token >= 0 { out.append(Int(token)) }
                }
            }
            i = Int(symbol.next)
        }
    }

    private mutating func addBigram(_ text: UnsafeBufferPointer<UInt8>, _ left: Int32, _ right: Int32) {
        guard left >= 0, right >= 0 else { return }
        let start = Int(symbols[Int(left)].start)
        let size = Int(symbols[Int(left)].count + symbols[Int(right)].count)
        let id = index.id(of: UnsafeBufferPointer(rebasing: text[start..<start + size]))
        guard id >= 0 else { return }
        push(Bigram(left: left, right: right, score: scores[id], size: Int32(size)))
    }

    // A binary heap on `precedes`; std::priority_queue in llama.cpp. Among equal-priority
    // entries the order does not matter: at most one of them is still valid when popped.

    private mutating func push(_ bigram: Bigram) {
        heap.append(bigram)
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard heap[child].precedes(heap[parent]) else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    private mutating func pop() -> Bigram? {
        guard let top = heap.first else { return nil }
        let last = heap.removeLast()
        guard !heap.isEmpty else { return top }
        heap[0] = last
        var parent = 0
        while true {
            let left = 2 * parent + 1
            guard left < heap.count else { break }
            var best = left
            if left + 1 < heap.count && heap[left + 1].precedes(heap[left]) { best = left + 1 }
            guard heap[best].precedes(heap[parent]) else { break }
            heap.swapAt(best, parent)
            parent = best
        }
        return top
    }

    /// The length of a UTF-8 sequence from its lead byte, as llama.cpp's `unicode_len_utf8`
    /// (a stray continuation byte counts as one).
    @inline(__always)
    private static func utf8Length(lead: UInt8) -> Int {
        switch lead >> 4 {
        case 0xC, 0xD: 2
        case 0xE: 3
        case 0xF: 4
        default: 1
        }
    }
}
