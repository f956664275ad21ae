import NimbusScheduler
import Testing

@Suite struct BlockPoolTests {
    @Test func allocatesEveryBlockOnceThenRunsDry() {
        var pool = BlockPool(blockCount: 3)
        let blocks = (0..<3).compactMap { _ in pool.allocate() }
        #expect(Set(blocks).count == 3)
        #expect(pool.allocate() == nil)
        #expect(pool.usedCount == 3)
        pool.release(blocks[1])
        #expect(pool.allocate() == blocks[1])
    }

    @Test func sharedBlockIsFreeOnlyAfterTheLastRelease() {
        var pool = BlockPool(blockCount: 2)
        guard let b = pool.allocate() else { Issue.record("no block"); return }
        pool.retain(b)
        pool.release(b)
        #expect(pool.usedCount == 1)
        pool.release(b)
        #expect(pool.usedCount == 0)
    }

    @Test func cachedBlocksAreEvictedLastAndRevivedByLookup() {
        var pool = BlockPool(blockCount: 3)
        let key = BlockKey(prefix: .empty, tokens: [1, 2, 3, 4])
        guard let cached = pool.allocate(), let plain = pool.allocate() else { Issue.record("no block"); return }
        pool.register(key, block: cached)
        pool.release(cached)
        pool.release(plain)
        // The anonymous block and the never-used one go first.
        let a = pool.allocate(), b = pool.allocate()
        #expect(a != cached && b != cached)
        #expect(pool.lookup(key) == cached)
        #expect(pool.referenceCount(cached) == 1)
        pool.release(cached)
        pool.release(a ?? -1)
        pool.release(b ?? -1)
        // Now the cached block is the only candidate left after the two others.
        _ = pool.allocate(); _ = pool.allocate()
        #expect(pool.allocate() == cached)
        #expect(pool.lookup(key) == nil)  // reusing it dropped the cache entry
    }

    @Test func keysDependOnThePrefix() {
        let a = BlockKey(prefix: PrefixHash.empty.appending([1, 2]), tokens: [3])
        let b = BlockKey(prefix: PrefixHash.empty.appending([2, 1]), tokens: [3])
        #expect(a != b)
        #expect(PrefixHash.empty.appending([1, 2]) == PrefixHash.empty.appending([1]).appending([2]))
    }
}
