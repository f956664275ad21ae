import NimbusKernels

/// The KV memory of every sequence: one pool of fixed-size blocks per layer, addressed through
/// each sequence's block table (which blocks it owns is decided elsewhere: the engine's
/// scheduler hands out block ids). Values are fp16, like llama.cpp's default cache (the rounding
/// is part of the numerics the fidelity tests compare); batched decode reads the whole cache of
/// every sequence each step, so half the bytes of fp32 is half of attention's memory traffic.
///
/// Layout: `[layer][block][slot][kvDimension]`, so one position's keys are contiguous and a
/// block is `blockSize` consecutive positions. The memory is allocated untouched: pages are only
/// faulted in when a block is first written, so a large pool costs nothing until it is used.
/// Only the engine's thread (and the pool workers it drives) touch it.
public final class PagedKVCache: KVStorage, @unchecked Sendable {
    public let layers: Int
    public let kvDimension: Int
    public let blockSize: Int
    public let blockCount: Int
    let keys: UnsafeMutablePointer<UInt16>
    let values: UnsafeMutablePointer<UInt16>

    public init(layers: Int, kvDimension: Int, blockSize: Int, blockCount: Int) {
        self.layers = layers
        self.kvDimension = kvDimension
        self.blockSize = max(1, blockSize)
        self.blockCount = max(0, blockCount)
        let total = max(1, layers * self.blockCount * self.blockSize * kvDimension)
        keys = .allocate(capacity: total)
        values = .allocate(capacity: total)
    }

    deinit {
        keys.deallocate()
        values.deallocate()
    }

    /// Bytes one cached token takes over all layers (keys and values).
    public static func bytesPerToken(layers: Int, kvDimension: Int) -> Int {
        layers * kvDimension * 2 * MemoryLayout<UInt16>.size
    }

    /// Tokens the pool holds.
    public var capacity: Int { blockCount * blockSize }

    func blockStart(_ storage: UnsafeMutablePointer<UInt16>, layer: Int, block: Int) -> UnsafeMutablePointer<UInt16> {
        storage + (layer * blockCount + block) * blockSize * kvDimension
    }

    /// Where position `position` of a sequence with `table` keeps its keys (or values) in `layer`.
    func slot(_ storage: UnsafeMutablePointer<UInt16>, layer: Int, table: [Int], position: Int) -> UnsafeMutablePointer<UInt16> {
        blockStart(storage, layer: layer, block: table[position / blockSize]) + (position % blockSize) * kvDimension
    }
}

/// Block tables in the form the attention kernels read: for each sequence of a batch, a run of
/// block base pointers for one layer's keys and one layer's values.
final class BlockPointerTables {
    private(set) var keys: UnsafeMutablePointer<UnsafePointer<UInt16>?>
    private(set) var values: UnsafeMutablePointer<UnsafePointer<UInt16>?>
    private var capacity = 0

    init() {
        keys = .allocate(capacity: 1)
        values = .allocate(capacity: 1)
    }

    deinit {
        keys.deallocate()
        values.deallocate()
    }

    /// Fills the tables of `layer` for `tables` back to back; returns each table's start index.
    func fill(layer: Int, tables: [[Int]], cache: PagedKVCache) -> [Int] {
        let total = tables.reduce(0) { $0 + $1.count }
        if total > capacity {
            keys.deallocate()
            values.deallocate()
            capacity = max(total, 2 * capacity)
            keys = .allocate(capacity: capacity)
            values = .allocate(capacity: capacity)
        }
        var starts: [Int] = []
        starts.reserveCapacity(tables.count)
        var index = 0
        for table in tables {
            starts.append(index)
            for block in table {
                keys[index] = UnsafePointer(cache.blockStart(cache.keys, layer: layer, block: block))
                values[index] = UnsafePointer(cache.blockStart(cache.values, layer: layer, block: block))
                index += 1
            }
        }
        return starts
    }
}
