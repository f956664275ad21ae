import NimbusScheduler
import Testing

/// Two KV groups, blocks of 4 positions: group 0 full attention, group 1 a window whose rows at
/// position p read nothing below p + 1 - 6. Expected tables are worked out by hand from that rule.
@Suite struct WindowedGroupTests {
    func windowed(budget: Int = 8, blocks: Int = 64) -> SchedulerConfiguration {
        SchedulerConfiguration(maxRunningSequences: 8, maxBatchedTokens: budget, blockSize: 4, blockCount: blocks,
                               groupReaches: [nil, 6])
    }

    @Test func blocksBehindTheWindowAreFreed() {
        var d = Driver(windowed())
        d.add(1, prompt: 20, output: 10)
        d.step()  // positions 0..<8: the next row (8) reads from 3, in block 0
        #expect(d.scheduler.blockTables(of: 1)?.map(\.count) == [2, 2])
        #expect(d.scheduler.blockTables(of: 1)?[1].allSatisfy { $0 >= 0 } == true)
        let second = d.step()  // 8..<16: the next row (16) reads from 11, in block 2
        #expect(second.chunks[0].blockTables[1].allSatisfy { $0 >= 0 })  // row 8 still read block 0
        let tables = d.scheduler.blockTables(of: 1)
        #expect(tables?[0].count == 4 && tables?[0].allSatisfy { $0 >= 0 } == true)
        #expect(tables?[1].prefix(2) == [-1, -1])
        #expect(tables?[1].suffix(2).allSatisfy { $0 >= 0 } == true)
        #expect(d.scheduler.pool.usedCount == 4 + 2)
        let third = d.step()  // 16..<20, then row 20 reads from 15, in block 3
        #expect(third.chunks[0].start == 16)
        #expect(third.chunks[0].blockTables[1].prefix(2) == [-1, -1])
        #expect(d.scheduler.blockTables(of: 1)?[1].prefix(3) == [-1, -1, -1])
        // Decoding on: the windowed table never holds more than the blocks rows from `computed` read.
        while !d.scheduler.isIdle {
            let step = d.step()
            for chunk in step.chunks {
                let firstRead = max(0, chunk.start + 1 - 6)
                for (i, block) in chunk.blockTables[1].enumerated() {
                    #expect((block >= 0) == ((i + 1) * 4 > firstRead), "block \(i) at start \(chunk.start)")
                }
                #expect(chunk.blockTables[0].allSatisfy { $0 >= 0 })
            }
        }
        #expect(d.scheduler.pool.usedCount == 0)
    }

    @Test func aCachedPrefixIsReusedWithTheBlocksItsWindowReads() {
        var d = Driver(windowed())
        d.add(1, prompt: 20, output: 1)
        _ = d.runToEnd()
        // Prompt blocks 0...3 were registered in both groups before group 1 let 0 and 1 go.
        d.add(2, prompt: 20, output: 1)
        let step = d.step()
        #expect(step.chunks.map(\.start) == [16])
        let tables = step.chunks[0].blockTables
        #expect(tables[0].count == 5 && tables[0].allSatisfy { $0 >= 0 })
        // Row 16 reads from 11: blocks 2 and 3 come from the cache, 0 and 1 are not needed.
        #expect(tables[1].prefix(2) == [-1, -1])
        #expect(tables[1].suffix(3).allSatisfy { $0 >= 0 })
        #expect(d.scheduler.statistics.prefixHitTokens == 16)
    }

    @Test(arguments: [false, true])
    func aSourceKeepsTheBlocksItsSiblingWillRead(prefixCaching: Bool) {
        // Chunks of 3: the source's last prompt step starts at 18, where it alone would have let
        // blocks 0...2 of group 1 go (row 18 reads from 13). The sibling starts at 16 and reads
        // from 11, in block 2: while it waits, the source keeps what rows from 16 read, so the
        // sibling shares 16 positions, prefix cache or not.
        var c = windowed(budget: 3)
        c.prefixCaching = prefixCaching
        var d = Driver(c)
        d.add(1, prompt: 20, output: 2)
        d.add(2, prompt: 20, output: 2, sibling: 1)
        var starts: [Int] = []
        while !d.scheduler.isIdle, starts.isEmpty {
            starts = d.step().chunks.filter { $0.sequence == 2 }.map(\.start)
        }
        #expect(starts.first == 16)
        #expect(d.scheduler.statistics.prefixHitTokens == 16)
    }

    @Test func aWaitingSiblingGivesBackBlocksARunningSequenceNeeds() {
        // One sequence at a time and a pool of 12 blocks. The sibling waits with the prompt's
        // shared blocks while the source decodes; the source's window moves on, leaving the
        // sibling the only holder of two window blocks. When the source needs blocks the pool
        // no longer has, the waiting sibling gives its blocks back (it computes them again
        // when it runs) instead of the source preempting itself forever.
        var d = Driver(SchedulerConfiguration(maxRunningSequences: 1, maxBatchedTokens: 8, blockSize: 4, blockCount: 12,
                                              prefixCaching: false, groupReaches: [nil, 6]))
        d.add(1, prompt: 20, output: 16)
        d.add(2, prompt: 20, output: 2, sibling: 1)
        let steps = d.runToEnd(limit: 500)
        #expect(d.finished.sorted() == [1, 2])
        #expect(steps < 500)
        #expect(d.scheduler.statistics.preemptions == 0)
        #expect(d.scheduler.pool.usedCount == 0)
    }

    @Test func aSiblingSharesThePromptBlocksItsWindowReads() throws {
        var d = Driver(windowed())
        d.add(1, prompt: 20, output: 5)
        d.add(2, prompt: 20, output: 2, sibling: 1)
        for _ in 0..<3 { d.step() }  // the source's prompt: 0..<8, 8..<16, 16..<20
        // Row 16 reads from 11: the sibling takes blocks 2 and 3 of group 1. The source, at
        // 20, reads from 15 and has let block 2 go, so the sibling is its only holder.
        let source = try #require(d.scheduler.blockTables(of: 1))
        let sibling = try #require(d.scheduler.blockTables(of: 2))
        #expect(sibling[0] == Array(source[0].prefix(4)))
        #expect(sibling[1].prefix(2) == [-1, -1])
        #expect(source[1].prefix(3) == [-1, -1, -1])
        #expect(sibling[1][3] == source[1][3])
        #expect(d.scheduler.pool.referenceCount(sibling[1][2]) == 1)
        #expect(d.scheduler.pool.referenceCount(sibling[1][3]) == 2)
        let next = d.step().chunks.filter { $0.sequence == 2 }
        #expect(next.map(\.start) == [16])
        #expect(d.scheduler.statistics.prefixHitTokens == 16)
    }

    @Test func capacityCountsAWindowOnce() {
        let c = windowed(blocks: 64)
        // 100 positions: 25 blocks in full attention; a step's rows (8 at most) and the 5
        // positions before them span 13 positions, 5 blocks at worst.
        #expect(c.blocks(holding: 100) == 25 + 5)
        #expect(c.blocks(holding: 8) == 2 + 2)
        // 64 blocks: 5 for the window, 59 (236 positions) for full attention.
        #expect(c.capacityTokens == 236)
        let full = SchedulerConfiguration(blockSize: 4, blockCount: 64)
        #expect(full.blocks(holding: 100) == 25)
        #expect(full.capacityTokens == 256)
        // Every group windowed: a sequence of any length holds 5 blocks per group.
        let allWindowed = SchedulerConfiguration(maxRunningSequences: 8, maxBatchedTokens: 8, blockSize: 4, blockCount: 10,
                                                 groupReaches: [6, 6])
        #expect(allWindowed.blocks(holding: 1_000_000) == 10)
        #expect(allWindowed.capacityTokens == nil)
        let tooSmall = SchedulerConfiguration(maxRunningSequences: 8, maxBatchedTokens: 8, blockSize: 4, blockCount: 9,
                                              groupReaches: [6, 6])
        #expect(tooSmall.capacityTokens == 16)  // 2 groups x 4 blocks of 4 positions, before the window fills
    }
}
