/// Fixed-size KV cache blocks handed out by id, with reference counts and a prefix cache.
///
/// A block is *free* when no sequence holds it. Free blocks wait in an eviction queue: blocks
/// whose contents are registered in the prefix cache go to the back (least recently released is
/// reused first), anonymous ones to the front, so a cached prefix survives as long as there is
/// anything else to hand out. `lookup` revives a free cached block without copying anything.
///
/// Only integers live here: the engine maps block ids to memory.
public struct BlockPool: Sendable {
    public let blockCount: Int
    private var references: [Int]
    // The eviction queue as a doubly linked list over block ids (-1 ends it), so a cached block
    // can leave it from the middle in O(1) when a lookup revives it.
    private var previous: [Int]
    private var next: [Int]
    private var head = -1
    private var tail = -1
    private var queued: [Bool]
    private var keyOfBlock: [BlockKey?]
    private var blockOfKey: [BlockKey: Int] = [:]
    /// Blocks no sequence holds (cached or not).
    public private(set) var freeCount: Int
    /// Free blocks whose contents are registered in the prefix cache.
    private var cachedFreeCount = 0

    public init(blockCount: Int) {
        precondition(blockCount >= 0, "negative block count")
        self.blockCount = blockCount
        references = Array(repeating: 0, count: blockCount)
        previous = Array(repeating: -1, count: blockCount)
        next = Array(repeating: -1, count: blockCount)
        queued = Array(repeating: false, count: blockCount)
        keyOfBlock = Array(repeating: nil, count: blockCount)
        freeCount = 0
        for block in 0..<blockCount { enqueue(block, atFront: false) }
    }

    /// Blocks held by at least one sequence.
    public var usedCount: Int { blockCount - freeCount }
    /// Blocks whose contents are registered for prefix reuse (held or free).
    public var cachedCount: Int { blockOfKey.count }
    /// Free blocks that cache nothing: taking up to this many evicts no prefix.
    public var uncachedFreeCount: Int { freeCount - cachedFreeCount }

    public func referenceCount(_ block: Int) -> Int { references[block] }

    /// Takes the next free block (dropping whatever prefix it cached); nil when none is free.
    public mutating func allocate() -> Int? {
        guard head >= 0 else { return nil }
        let block = head
        dequeue(block)
        if let key = keyOfBlock[block] {
            blockOfKey[key] = nil
            keyOfBlock[block] = nil
        }
        references[block] = 1
        return block
    }

    /// One more holder of `block`.
    public mutating func retain(_ block: Int) {
        if references[block] == 0 { dequeue(block) }
        references[block] += 1
    }

    /// One holder fewer; the last one returns the block to the eviction queue.
    public mutating func release(_ block: Int) {
        precondition(references[block] > 0, "block \(block) released more often than held")
        references[block] -= 1
        if references[block] == 0 { enqueue(block, atFront: keyOfBlock[block] == nil) }
    }

    /// Whether a block is cached under `key` (nothing retained).
    public func contains(_ key: BlockKey) -> Bool { blockOfKey[key] != nil }

    /// The block cached under `key`, retained for the caller; nil on a miss.
    public mutating func lookup(_ key: BlockKey) -> Int? {
        guard let block = blockOfKey[key] else { return nil }
        retain(block)
        return block
    }

    /// Records that `block` holds the KV of `key`. A key already cached keeps its first block
    /// (two sequences may compute the same prefix in the same step).
    public mutating func register(_ key: BlockKey, block: Int) {
        guard blockOfKey[key] == nil, keyOfBlock[block] == nil else { return }
        blockOfKey[key] = block
        keyOfBlock[block] = key
        if queued[block] { cachedFreeCount += 1 }
    }

    private mutating func enqueue(_ block: Int, atFront: Bool) {
        queued[block] = true
        freeCount += 1
        if keyOfBlock[block] != nil { cachedFreeCount += 1 }
        if head < 0 {
            head = block
            tail = block
            previous[block] = -1
            next[block] = -1
        } else if atFront {
            previous[block] = -1
            next[block] = head
            previous[head] = block
            head = block
        } else {
            next[block] = -1
            previous[block] = tail
            next[tail] = block
            tail = block
        }
    }

    private mutating func dequeue(_ block: Int) {
        guard queued[block] else { return }
        queued[block] = false
        freeCount -= 1
        if keyOfBlock[block] != nil { cachedFreeCount -= 1 }
        let p = previous[block], n = next[block]
        if p >= 0 { next[p] = n } else { head = n }
        if n >= 0 { previous[n] = p } else { tail = p }
        previous[block] = -1
        next[block] = -1
    }
}

/// What a full block of KV depends on: every token before it (through a 128-bit chained hash),
/// its own tokens (compared in full, so only a collision of the chain hash could alias) and the
/// KV group whose layers it holds.
public struct BlockKey: Hashable, Sendable {
    public let prefix: PrefixHash
    public let tokens: [Int]
    public let group: Int

    public init(prefix: PrefixHash, tokens: [Int], group: Int = 0) {
        self.prefix = prefix
        self.tokens = tokens
        self.group = group
    }

    /// The same positions' KV in another group's layers.
    public func inGroup(_ group: Int) -> BlockKey { BlockKey(prefix: prefix, tokens: tokens, group: group) }

    /// The chain hash that the next block's key starts from.
    public var chained: PrefixHash { prefix.appending(tokens) }
}

/// A 128-bit running hash of a token prefix: two independent 64-bit FNV-1a style chains mixed
/// with splitmix64 finalisers.
public struct PrefixHash: Hashable, Sendable {
    public let a: UInt64
    public let b: UInt64

    public static let empty = PrefixHash(a: 0x9E37_79B9_7F4A_7C15, b: 0xC2B2_AE3D_27D4_EB4F)

    public func appending(_ tokens: [Int]) -> PrefixHash {
        var a = self.a, b = self.b
        for t in tokens {
            let v = UInt64(bitPattern: Int64(t))
            a = Self.mix((a ^ v) &* 0x100_0000_01B3)
            b = Self.mix((b &+ v) &* 0xFF51_AFD7_ED55_8CCD)
        }
        return PrefixHash(a: a, b: b)
    }

    private static func mix(_ x: UInt64) -> UInt64 {
        var z = x &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
