import NimbusKernels

/// The KV memory of every sequence: one pool of fixed-size blocks, each holding `layersPerBlock`
/// layers (one group of `LayerGroups`), addressed through each sequence's block table for that
/// group (which blocks it owns is decided elsewhere: the engine's scheduler hands out block ids).
/// Values are fp16, like llama.cpp's default cache (the rounding is part of the numerics the
/// fidelity tests compare); batched decode reads every sequence's cache (its window, in a
/// windowed layer) each step, so half the bytes of fp32 is half of attention's memory traffic.
///
/// Layout: `[block][layer in group][position in block][kvDimension]`, so one position's keys are
/// contiguous and a block is `blockSize` consecutive positions of each of its layers. The memory
/// is allocated untouched: pages are only faulted in when a block is first written, so a large
/// pool costs nothing until it is used. Only the engine's thread (and the pool workers it
/// drives) touch it.
public final class PagedKVCache: KVStorage, @unchecked Sendable {
    public let layersPerBlock: Int
    public let kvDimension: Int
    public let blockSize: Int
    public let blockCount: Int
    let keys: UnsafeMutablePointer<UInt16>
    let values: UnsafeMutablePointer<UInt16>

    public init(layersPerBlock: Int, kvDimension: Int, blockSize: Int, blockCount: Int) {
        self.layersPerBlock = layersPerBlock
        self.kvDimension = kvDimension
        self.blockSize = max(1, blockSize)
        self.blockCount = max(0, blockCount)
        let total = max(1, layersPerBlock * self.blockCount * self.blockSize * kvDimension)
        keys = .allocate(capacity: total)
        values = .allocate(capacity: total)
    }

    deinit {
        keys.deallocate()
        values.deallocate()
    }

    /// Bytes one position of one block takes (keys and values of its layers).
    public static func bytesPerPosition(layersPerBlock: Int, kvDimension: Int) -> Int {
        layersPerBlock * kvDimension * 2 * MemoryLayout<UInt16>.size
    }

    /// `slot`: the layer's place in its group's blocks.
    func blockStart(_ storage: UnsafeMutablePointer<UInt16>, slot: Int, block: Int) -> UnsafeMutablePointer<UInt16> {
        storage + (block * layersPerBlock + slot) * blockSize * kvDimension
    }

    /// Where position `position` of a sequence with `table` keeps its keys (or values) in the
    /// layer at `slot` of the table's group.
    func position(_ storage: UnsafeMutablePointer<UInt16>, slot: Int, table: [Int], position: Int) -> UnsafeMutablePointer<UInt16> {
        blockStart(storage, slot: slot, block: table[position / blockSize]) + (position % blockSize) * kvDimension
    }
}

/// Block tables in the form the attention kernels read: for each sequence of a batch, a run of
/// block base pointers for one layer's keys and one layer's values (nil for a block freed
/// behind a sliding window, which the layer never reads).
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

    /// Fills the tables of the layer at `slot` of its group for `tables` (each sequence's table
    /// for that group) back to back; returns each table's start index.
    func fill(slot: Int, tables: [[Int]], cache: PagedKVCache) -> [Int] {
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
                keys[index] = block < 0 ? nil : UnsafePointer(cache.blockStart(cache.keys, slot: slot, block: block))
                values[index] = block < 0 ? nil : UnsafePointer(cache.blockStart(cache.values, slot: slot, block: block))
                index += 1
            }
        }
        return starts
    }
}
