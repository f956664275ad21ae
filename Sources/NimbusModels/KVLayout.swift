/// How a model's KV cache is split into block tables, as the engine's scheduler sees it.
///
/// Each sequence keeps one block table per group of layers. A group of full-attention layers
/// keeps every block; a group of sliding-window layers only needs the blocks its window can
/// still see, so the scheduler frees the others as the sequence advances (Gemma 2 windows every
/// other layer to 4096 positions, Gemma 3 five of every six to 512). All groups' blocks are the
/// same size, so they come from one pool.
public struct KVLayout: Sendable, Equatable {
    /// One entry per group (block table): nil when the group's layers read every earlier
    /// position; n when a row at position p reads no position below p + 1 - n.
    public var reaches: [Int?]
    /// Bytes one position of one block takes (keys and values of the group's layers).
    public var bytesPerPosition: Int

    /// Bytes one position takes over all groups while nothing is freed behind a window.
    public var bytesPerToken: Int { bytesPerPosition * reaches.count }

    /// Fixed tables for sequence `index` of a pool shared out evenly: `blocks` consecutive blocks
    /// per group, all its own (a pool of `(index + 1) * blocks * reaches.count` blocks holds them).
    /// For running sequences outside the engine's scheduler (tests, benchmarks).
    public func tables(forSequence index: Int, blocks: Int) -> [[Int]] {
        reaches.indices.map { g in
            let first = (index * reaches.count + g) * blocks
            return Array(first..<first + blocks)
        }
    }

    public init(reaches: [Int?], bytesPerPosition: Int) {
        self.reaches = reaches
        self.bytesPerPosition = bytesPerPosition
    }
}

/// Layers that share a block table: layers with the same attention window, taken in layer
/// order, `size` at a time. `size` divides every window class's layer count (their greatest
/// common divisor), so all groups, hence all blocks, hold the same number of layers.
struct LayerGroups: Sendable, Equatable {
    /// Layers per group.
    let size: Int
    /// Per layer: its group and its place within the group's blocks.
    let group: [Int]
    let slot: [Int]
    /// Per group: the window of its layers (nil: full attention).
    let windows: [Int?]

    init(layerWindows: [Int?]) {
        var classes: [(window: Int?, layers: [Int])] = []
        for (layer, window) in layerWindows.enumerated() {
            if let i = classes.firstIndex(where: { $0.window == window }) {
                classes[i].layers.append(layer)
            } else {
                classes.append((window, [layer]))
            }
        }
        func gcd(_ a: Int, _ b: Int) -> Int { b == 0 ? a : gcd(b, a % b) }
        let size = max(1, classes.reduce(0) { gcd($0, $1.layers.count) })
        var group = Array(repeating: 0, count: layerWindows.count)
        var slot = group
        var windows: [Int?] = []
        for c in classes {
            for (i, layer) in c.layers.enumerated() {
                if i % size == 0 { windows.append(c.window) }
                group[layer] = windows.count - 1
                slot[layer] = i % size
            }
        }
        self.size = size
        self.group = group
        self.slot = slot
        self.windows = windows.isEmpty ? [nil] : windows
    }
}
