import NimbusScheduler
import Testing

/// Drafts (speculative decoding) as the scheduler sees them: extra rows after a sampling chunk,
/// taken only from what scheduled work leaves, and rolled back to what the engine accepted.
@Suite struct DraftSchedulingTests {
    func draftConfig(seqs: Int = 8, budget: Int = 64, blocks: Int = 64, limit: Int = 8) -> SchedulerConfiguration {
        SchedulerConfiguration(maxRunningSequences: seqs, maxBatchedTokens: budget, blockSize: 4, blockCount: blocks,
                               prefixCaching: false, speculativeRowLimit: limit)
    }

    /// Prefills a 5-token prompt per id and appends one sampled token: the sequences then decode.
    func decoding(_ s: Scheduler, ids: [Int] = [1]) {
        for id in ids { s.add(id: id, prompt: Array((id * 100)..<(id * 100 + 5))) }
        let step = s.schedule()
        s.complete(step)
        for id in ids { s.append(id: id, token: 50) }
    }

    @Test func aDraftFollowsTheSampledTokenAndAsksForLogitsOfEveryRow() {
        let s = Scheduler(configuration: draftConfig())
        decoding(s)
        s.propose(id: 1, draft: [60, 61, 62])
        let step = s.schedule()
        #expect(step.chunks.count == 1)
        let chunk = step.chunks[0]
        #expect(chunk.start == 5)
        #expect(chunk.tokens == [50, 60, 61, 62])
        #expect(chunk.draftCount == 3)
        #expect(Array(chunk.draft) == [60, 61, 62])
        #expect(chunk.samples)
        #expect(chunk.logitRows == 4)
        #expect(chunk.blockTables.map(\.count) == [3])  // positions 0...8 in blocks of 4
        #expect(step.draftTokenCount == 3)
    }

    @Test func aDraftIsUsedOnce() {
        let s = Scheduler(configuration: draftConfig())
        decoding(s)
        s.propose(id: 1, draft: [60, 61])
        let step = s.schedule()
        s.complete(step)
        s.append(id: 1, tokens: [70])
        #expect(s.schedule().chunks[0].draftCount == 0)
    }

    @Test func acceptedDraftTokensKeepTheirKVAndTheRestIsRolledBack() {
        let s = Scheduler(configuration: draftConfig())
        decoding(s)
        s.propose(id: 1, draft: [60, 61, 62, 63])
        let step = s.schedule()
        #expect(s.pool.usedCount == 3)  // positions up to 9
        s.complete(step)
        // The engine accepted 60 and 61, then sampled 99 where the draft said 62.
        s.append(id: 1, tokens: [60, 61, 99])
        let next = s.schedule()
        // Positions 5 (50), 6 (60), 7 (61) are valid; 99 at position 8 is computed next.
        #expect(next.chunks[0].start == 8)
        #expect(next.chunks[0].tokens == [99])
        #expect(s.pool.usedCount == 3)
    }

    @Test func rejectedDraftBlocksAreFreed() {
        let s = Scheduler(configuration: draftConfig(limit: 16))
        decoding(s)
        s.propose(id: 1, draft: Array(60..<70))
        let step = s.schedule()
        #expect(step.chunks[0].draftCount == 10)
        #expect(s.pool.usedCount == 4)  // positions 0...15
        s.complete(step)
        s.append(id: 1, tokens: [98])  // the first draft token was wrong
        #expect(s.pool.usedCount == 2)  // 7 tokens known
        let next = s.schedule()
        #expect(next.chunks[0].start == 6)
        #expect(next.chunks[0].tokens == [98])
    }

    @Test func aFullyAcceptedDraftLeavesOnlyTheNewTokenToCompute() {
        let s = Scheduler(configuration: draftConfig())
        decoding(s)
        s.propose(id: 1, draft: [60, 61])
        let step = s.schedule()
        s.complete(step)
        s.append(id: 1, tokens: [60, 61, 62])
        let next = s.schedule()
        #expect(next.chunks[0].start == 8)
        #expect(next.chunks[0].tokens == [62])
    }

    @Test func acceptanceIsCheckedAgainstTheDraftNotTrusted() {
        let s = Scheduler(configuration: draftConfig())
        decoding(s)
        s.propose(id: 1, draft: [60, 61])
        let step = s.schedule()
        s.complete(step)
        // Two tokens appended, but the first differs from the draft: no draft KV is kept.
        s.append(id: 1, tokens: [77, 61])
        #expect(s.schedule().chunks[0].start == 6)
    }

    @Test func theRowLimitCountsEveryRowOfTheStep() {
        let s = Scheduler(configuration: draftConfig(limit: 5))
        decoding(s, ids: [1, 2, 3])
        for id in 1...3 { s.propose(id: id, draft: [1, 2, 3]) }
        let step = s.schedule()
        // 3 decode rows leave room for 2 draft rows, given in admission order.
        #expect(step.chunks.map(\.draftCount) == [2, 0, 0])
        #expect(step.tokenCount == 5)
    }

    @Test func aFullBatchGetsNoDrafts() {
        let s = Scheduler(configuration: draftConfig(limit: 3))
        decoding(s, ids: [1, 2, 3])
        for id in 1...3 { s.propose(id: id, draft: [1, 2, 3]) }
        #expect(s.schedule().draftTokenCount == 0)
    }

    @Test func waitingPromptsComeBeforeDrafts() {
        let s = Scheduler(configuration: draftConfig(budget: 8, limit: 64))
        decoding(s)
        s.propose(id: 1, draft: [60, 61, 62, 63])
        s.add(id: 2, prompt: Array(300..<306))
        let step = s.schedule()
        // 1 decode + 6 prompt tokens leave one token of budget for the draft.
        #expect(step.chunks.map(\.sequence) == [1, 2])
        #expect(step.chunks[0].draftCount == 1)
        #expect(step.tokenCount == 8)
    }

    @Test func draftsNeverPreemptOrWaitForMemory() {
        // 3 blocks: the decoding sequence holds 2 (positions 0...5), one is free.
        let s = Scheduler(configuration: draftConfig(blocks: 3))
        decoding(s)
        s.propose(id: 1, draft: Array(60..<70))
        let step = s.schedule()
        #expect(step.preempted.isEmpty)
        // Not enough blocks for the whole draft of 10: no draft at all this step.
        #expect(step.chunks[0].draftCount == 0)
        s.complete(step)
        s.append(id: 1, token: 51)
        #expect(s.pool.usedCount == 2)
    }

    @Test func draftsNeverEvictACachedPrefix() {
        let s = Scheduler(configuration: SchedulerConfiguration(maxRunningSequences: 8, maxBatchedTokens: 64, blockSize: 4,
                                                                blockCount: 6, prefixCaching: true, speculativeRowLimit: 32))
        // A 9-token prompt leaves its two full prompt blocks cached when it finishes.
        s.add(id: 1, prompt: Array(500..<509))
        s.complete(s.schedule())
        s.finish(id: 1)
        #expect(s.pool.cachedCount == 2 && s.pool.uncachedFreeCount == 4)
        decoding(s)  // 2 blocks for 6 tokens (its first prompt block cached too); 2 uncached free blocks remain
        let cached = s.pool.cachedCount
        #expect(s.pool.uncachedFreeCount == 2 && s.pool.freeCount == 4)
        s.propose(id: 1, draft: Array(60..<71))  // 11 tokens would need 3 more blocks
        let step = s.schedule()
        #expect(step.chunks[0].draftCount == 0)
        #expect(s.pool.cachedCount == cached)
        s.complete(step)
        s.append(id: 1, token: 51)
        s.propose(id: 1, draft: Array(60..<69))  // 9 tokens: positions up to 15, 2 more blocks
        #expect(s.schedule().chunks[0].draftCount == 9)
        #expect(s.pool.cachedCount == cached && s.pool.uncachedFreeCount == 0)
    }

    @Test func noDraftWithoutTheRowLimit() {
        let s = Scheduler(configuration: draftConfig(limit: 0))
        decoding(s)
        s.propose(id: 1, draft: [60])
        #expect(s.schedule().chunks[0].draftCount == 0)
    }

    @Test func aChunkThatDoesNotSampleGetsNoDraft() {
        let s = Scheduler(configuration: draftConfig(budget: 4, limit: 64))
        s.add(id: 1, prompt: Array(0..<10))
        s.propose(id: 1, draft: [60])
        let step = s.schedule()
        #expect(step.chunks[0].samples == false)
        #expect(step.chunks[0].draftCount == 0)
    }

    @Test func finishingAfterADraftReturnsEveryBlock() {
        let s = Scheduler(configuration: draftConfig())
        decoding(s)
        s.propose(id: 1, draft: Array(60..<66))
        s.complete(s.schedule())
        s.finish(id: 1)
        #expect(s.pool.usedCount == 0)
    }
}
