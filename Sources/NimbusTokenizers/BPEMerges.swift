/// The merge table of a byte-level BPE vocabulary, and the merge loop over one word.
///
/// Strings are interned as small integer "symbols" once, so that merging compares integers:
/// every vocabulary token, both halves of every merge and every merge result gets one. A pair
/// of adjacent symbols is looked up as one 64-bit key. The merge order is llama.cpp's: always the
/// lowest-ranked adjacent pair, the leftmost of equal ones.
struct BPEMerges: Sendable {
    /// The vocabulary token each symbol spells, or -1 (a merge result that is not a token).
    let symbolToken: [Int32]
    /// The byte-level text of each symbol, for the fallback when it is not a token.
    let symbolText: [String]
    /// `(left << 32 | right)` -> `(rank << 32 | merged symbol)`.
    private let pairs: [UInt64: UInt64]
    /// The symbol of each single byte.
    let byteSymbol: [Int32]

    /// - Parameters:
    ///   - tokens: Vocabulary token texts, in id order.
    ///   - merges: `"left right"` strings; the index is the rank.
    init(tokens: [String], merges: [String]) {
        var index: [String: Int32] = [:]
        index.reserveCapacity(tokens.count + merges.count / 4)
        var symbolToken: [Int32] = []
        var symbolText: [String] = []
        func intern(_ s: String) -> Int32 {
            if let id = index[s] { return id }
            let id = Int32(symbolText.count)
            index[s] = id
            symbolText.append(s)
            symbolToken.append(-1)
            return id
        }
        for (id, text) in tokens.enumerated() {
            let symbol = intern(text)
            // A duplicate text keeps its first id, as llama.cpp's token_to_id map (which throws).
            if symbolToken[Int(symbol)] < 0 { symbolToken[Int(symbol)] = Int32(id) }
        }
        byteSymbol = ByteLevel.scalarForByte.map { intern(String($0)) }

        var pairs: [UInt64: UInt64] = [:]
        pairs.reserveCapacity(merges.count)
        for (rank, merge) in merges.enumerated() {
            // llama.cpp splits at the first space after the first byte; a line without one
            // cannot match any pair and is skipped.
            let utf8 = merge.utf8
            guard let space = utf8.dropFirst().firstIndex(of: 0x20) else { continue }
            let first = String(merge[merge.startIndex..<space])
            let second = String(merge[merge.index(after: space)...])
            let key = UInt64(UInt32(intern(first))) << 32 | UInt64(UInt32(intern(second)))
            // The first rank of a repeated pair wins (llama.cpp's map emplace).
            guard pairs[key] == nil else { continue }
            let merged = intern(first + second)
            pairs[key] = UInt64(rank) << 32 | UInt64(UInt32(merged))
        }
        self.pairs = pairs
        self.symbolToken = symbolToken
        self.symbolText = symbolText
    }

    /// The symbols `bytes` merges into.
    func merge<C: Collection<UInt8>>(_ bytes: C) -> [Int32] {
        var symbols = bytes.map { byteSymbol[Int($0)] }
        let n = symbols.count
        guard n > 1 else { return symbols }

        var next = [Int32](unsafeUninitializedCapacity: n) { buffer, count in
            for i in 0..<n { buffer[i] = Int32(i + 1) }
            buffer[n - 1] = -1
            count = n
        }
        var prev = [Int32](unsafeUninitializedCapacity: n) { buffer, count in
            for i in 0..<n { buffer[i] = Int32(i - 1) }
            count = n
        }
        var alive = [Bool](repeating: true, count: n)
        var heap = PairHeap()
        heap.reserve(n)

        func push(_ left: Int32, _ right: Int32) {
            guard left >= 0, right >= 0 else { return }
            let l = symbols[Int(left)], r = symbols[Int(right)]
            guard let found = pairs[UInt64(UInt32(l)) << 32 | UInt64(UInt32(r))] else { return }
            heap.push(PairHeap.Entry(
                order: (found >> 32) << 32 | UInt64(UInt32(left)),
                right: right, leftSymbol: l, rightSymbol: r, merged: Int32(truncatingIfNeeded: found)))
        }

        for i in 0..<(n - 1) { push(Int32(i), Int32(i + 1)) }
        while let top = heap.pop() {
            let left = Int(top.order & 0xFFFF_FFFF), right = Int(top.right)
            // Skip pairs that an earlier merge changed: both sides must still be as pushed.
            guard alive[left], alive[right], symbols[left] == top.leftSymbol, symbols[right] == top.rightSymbol else {
                continue
            }
            symbols[left] = top.merged
            alive[right] = false
            let after = next[right]
            next[left] = after
            if after >= 0 { prev[Int(after)] = Int32(left) }
            push(prev[left], Int32(left))
            push(Int32(left), after)
        }

        var out: [Int32] = []
        var i: Int32 = 0
        while i >= 0 {
            out.append(symbols[Int(i)])
            i = next[Int(i)]
        }
        return out
    }
}

/// A binary min-heap of candidate merges, ordered by (rank, left position).
struct PairHeap {
    struct Entry {
        /// `rank << 32 | left position`: one comparison orders by rank, then leftmost.
        var order: UInt64
        var right: Int32
        var leftSymbol: Int32
        var rightSymbol: Int32
        var merged: Int32
    }

    private var items: [Entry] = []

    mutating func reserve(_ n: Int) { items.reserveCapacity(n) }

    mutating func push(_ e: Entry) {
        items.append(e)
        var i = items.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            guard items[i].order < items[parent].order else { break }
            items.swapAt(i, parent)
            i = parent
        }
    }

    mutating func pop() -> Entry? {
        guard let first = items.first else { return nil }
        let last = items.removeLast()
        guard !items.isEmpty else { return first }
        items[0] = last
        var i = 0
        let count = items.count
        while true {
            let l = 2 * i + 1, r = l + 1
            var smallest = i
            if l < count && items[l].order < items[smallest].order { smallest = l }
            if r < count && items[r].order < items[smallest].order { smallest = r }
            guard smallest != i else { break }
            items.swapAt(i, smallest)
            i = smallest
        }
        return first
    }
}
