/// Every token's bytes in one prefix tree, laid out in depth-first order so a whole subtree is a
/// contiguous range: computing a token mask walks the tree once, skipping every subtree whose
/// prefix the grammar refuses. Built once per vocabulary; immutable.
public struct VocabularyTrie: Sendable {
    public let vocabularySize: Int
    // Node 0 is the root (no byte); node i > 0 has byte[i] at depth[i] (1-based).
    let byte: [UInt8]
    let depth: [Int32]
    /// One past the last node of node i's subtree.
    let subtreeEnd: [Int32]
    /// The tokens whose bytes end at node i: tokens[tokenStart[i]..<tokenStart[i+1]].
    let tokenStart: [Int32]
    let tokens: [Int32]
    let maxDepth: Int

    /// - Parameter tokenBytes: each token id's bytes; an empty array means the token never
    ///   matches a grammar (control tokens, which render to nothing).
    public init(tokenBytes: [[UInt8]]) {
        vocabularySize = tokenBytes.count
        let order = tokenBytes.indices.filter { !tokenBytes[$0].isEmpty }
            .sorted { tokenBytes[$0].lexicographicallyPrecedes(tokenBytes[$1]) }
        var byte: [UInt8] = [0], depth: [Int32] = [0], ends: [[Int32]] = [[]]
        // The nodes of the current path, by depth.
        var path: [Int32] = [0]
        var previous: [UInt8] = []
        for id in order {
            let bytes = tokenBytes[id]
            var shared = 0
            while shared < min(bytes.count, previous.count), bytes[shared] == previous[shared] { shared += 1 }
            path.removeLast(path.count - 1 - shared)
            for d in shared..<bytes.count {
                byte.append(bytes[d])
                depth.append(Int32(d + 1))
                ends.append([])
                path.append(Int32(byte.count - 1))
            }
            ends[Int(path[bytes.count])].append(Int32(id))
            previous = bytes
        }
        // Subtree ends: a node's subtree stops at the next node no deeper than it.
        var subtreeEnd = [Int32](repeating: Int32(byte.count), count: byte.count)
        var open: [Int32] = []
        for i in 0..<byte.count {
            while let last = open.last, depth[Int(last)] >= depth[i] {
                subtreeEnd[Int(last)] = Int32(i)
                open.removeLast()
            }
            open.append(Int32(i))
        }
        var tokenStart: [Int32] = [0]
        var tokens: [Int32] = []
        for list in ends {
            tokens += list
            tokenStart.append(Int32(tokens.count))
        }
        self.byte = byte
        self.depth = depth
        self.subtreeEnd = subtreeEnd
        self.tokenStart = tokenStart
        self.tokens = tokens
        maxDepth = Int(depth.max() ?? 0)
    }

    var nodeCount: Int { byte.count }
}

/// Which tokens may come next: one bit per token id.
public struct TokenMask: Sendable, Equatable {
    public private(set) var words: [UInt64]

    public init(vocabularySize: Int) {
        words = [UInt64](repeating: 0, count: (vocabularySize + 63) / 64)
    }

    public func contains(_ token: Int) -> Bool {
        token >= 0 && token / 64 < words.count && words[token / 64] & (1 << UInt64(token % 64)) != 0
    }

    public mutating func insert(_ token: Int) {
        guard token >= 0, token / 64 < words.count else { return }
        words[token / 64] |= 1 << UInt64(token % 64)
    }

    public var count: Int { words.reduce(0) { $0 + $1.nonzeroBitCount } }

    /// Sets every logit whose token is not in the mask to -infinity.
    public func apply(to logits: UnsafeMutableBufferPointer<Float>) {
        words.withUnsafeBufferPointer { w in
            for index in w.indices {
                let word = w[index]
                if word == .max { continue }
                let base = index * 64
                let end = min(base + 64, logits.count)
                guard base < end else { break }
                for token in base..<end where word & (1 << UInt64(token - base)) == 0 {
                    logits[token] = -.infinity
                }
            }
        }
    }
}
