/// Token ids by the UTF-8 bytes of their text, looked up without building a `String`.
///
/// SentencePiece merging asks "is this byte range a token?" for every pair of neighbouring
/// symbols, again after every merge; a `[String: Int]` would allocate a String per question.
/// Instead every token's text lies end to end in one byte array and an open-addressing table
/// (linear probing, at most half full) maps a hash of the bytes to candidate ids. Building it for
/// a 262,144-token vocabulary takes milliseconds and touches each token's bytes once.
struct TokenTextIndex: Sendable {
    /// Every token's text, end to end, in id order.
    let store: [UInt8]
    /// Where each token's text ends in `store`; token `id` starts at `ends[id - 1]` (or 0).
    let ends: [Int]
    /// The length in bytes of the longest token: longer ranges need no lookup.
    let maxLength: Int
    /// Token id + 1 per slot; 0 is an empty slot.
    private let slots: [Int32]
    private let mask: Int

    /// - Parameter texts: Token texts in id order; they must be distinct and non-empty.
    /// - Throws: `TokenizerError.inconsistentVocabulary` for a duplicate text or a vocabulary
    ///   too large for 32-bit ids.
    init(texts: [String]) throws(TokenizerError) {
        guard texts.count < Int(Int32.max) else {
            throw .inconsistentVocabulary("\(texts.count) tokens are too many")
        }
        var store: [UInt8] = []
        var ends: [Int] = []
        ends.reserveCapacity(texts.count)
        var maxLength = 0
        for text in texts {
            let start = store.count
            store.append(contentsOf: text.utf8)
            ends.append(store.count)
            maxLength = max(maxLength, store.count - start)
        }
        var capacity = 16
        while capacity < texts.count * 2 { capacity <<= 1 }
        var slots = [Int32](repeating: 0, count: capacity)
        let mask = capacity - 1
        let duplicate: (Int, Int)? = store.withUnsafeBufferPointer { bytes in
            for id in 0..<ends.count {
                let start = id == 0 ? 0 : ends[id - 1]
                let text = UnsafeBufferPointer(rebasing: bytes[start..<ends[id]])
                var slot = Self.hash(text) & mask
                while slots[slot] != 0 {
                    let other = Int(slots[slot]) - 1
                    let otherStart = other == 0 ? 0 : ends[other - 1]
                    if Self.equal(text, UnsafeBufferPointer(rebasing: bytes[otherStart..<ends[other]])) {
                        return (other, id)
                    }
                    slot = (slot + 1) & mask
                }
                slots[slot] = Int32(id + 1)
            }
            return nil
        }
        if let (first, second) = duplicate {
            throw .inconsistentVocabulary("duplicate token '\(texts[second])' has ids \(first) and \(second)")
        }
        self.store = store
        self.ends = ends
        self.maxLength = maxLength
        self.slots = slots
        self.mask = mask
    }

    /// The id of the token whose text is exactly `text`'s bytes, or -1.
    func id(of text: UnsafeBufferPointer<UInt8>) -> Int {
        guard text.count <= maxLength, text.count > 0 else { return -1 }
        return store.withUnsafeBufferPointer { bytes in
            var slot = Self.hash(text) & mask
            while true {
                let entry = Int(slots[slot])
                if entry == 0 { return -1 }
                let id = entry - 1
                let start = id == 0 ? 0 : ends[id - 1]
                if ends[id] - start == text.count
                    && Self.equal(text, UnsafeBufferPointer(rebasing: bytes[start..<ends[id]])) {
                    return id
                }
                slot = (slot + 1) & mask
            }
        }
    }

    /// The id of the token whose text is `text`, if any.
    func id(for text: String) -> Int? {
        let bytes = Array(text.utf8)
        let id = bytes.withUnsafeBufferPointer { self.id(of: $0) }
        return id >= 0 ? id : nil
    }

    /// The bytes of token `id`'s text (`id` must be in range).
    func text(of id: Int) -> ArraySlice<UInt8> {
        store[(id == 0 ? 0 : ends[id - 1])..<ends[id]]
    }

    /// FNV-1a, mixed at the end so that the low bits used for the slot depend on every byte.
    @inline(__always)
    private static func hash(_ bytes: UnsafeBufferPointer<UInt8>) -> Int {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in bytes { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01b3 }
        h ^= h >> 29
        h = h &* 0xbf58_476d_1ce4_e5b9
        h ^= h >> 32
        return Int(truncatingIfNeeded: h)
    }

    @inline(__always)
    private static func equal(_ a: UnsafeBufferPointer<UInt8>, _ b: UnsafeBufferPointer<UInt8>) -> Bool {
        guard a.count == b.count else { return false }
        for i in 0..<a.count where a[i] != b[i] { return false }
        return true
    }
}
