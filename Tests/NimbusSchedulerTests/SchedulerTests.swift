import NimbusScheduler
import Testing

/// Drives a scheduler like the engine does, with a fake model: every sampled token is 7, and a
/// sequence finishes after `outputs[id]` tokens.
struct Driver {
    let scheduler: Scheduler
    var outputs: [Int: Int] = [:]
    var generated: [Int: Int] = [:]
    var finished: [Int] = []

    init(_ configuration: SchedulerConfiguration) { scheduler = Scheduler(configuration: configuration) }

    mutating func add(_ id: Int, prompt: Int, output: Int, priority: Int = 0, start: Int = 0, sibling: Int? = nil) {
        scheduler.add(id: id, prompt: Array(start..<(start + prompt)), priority: priority, sharingPromptWith: sibling)
        outputs[id] = output
    }

    /// One step: schedule, "compute", sample.
    @discardableResult
    mutating func step() -> SchedulerStep {
        let step = scheduler.schedule()
        scheduler.complete(step)
        for chunk in step.chunks where chunk.samples {
            generated[chunk.sequence, default: 0] += 1
            if generated[chunk.sequence] == outputs[chunk.sequence] {
                scheduler.finish(id: chunk.sequence)
                finished.append(chunk.sequence)
            } else {
                scheduler.append(id: chunk.sequence, token: 7)
            }
        }
        return step
    }

    mutating func runToEnd(limit: Int = 10_000) -> Int {
        var steps = 0
        while !scheduler.isIdle, steps < limit {
            step()
            steps += 1
        }
        return steps
    }
}

func config(seqs: Int = 8, budget: Int = 64, blocks: Int = 64, blockSize: Int = 4, chunked: Bool = true,
            policy: SchedulingPolicy = .fcfs, prefix: Bool = true) -> SchedulerConfiguration {
    SchedulerConfiguration(maxRunningSequences: seqs, maxBatchedTokens: budget, chunkedPrefill: chunked, policy: policy,
                           blockSize: blockSize, blockCount: blocks, prefixCaching: prefix)
}

@Suite struct SchedulerBudgetTests {
    @Test func decodesFirstThenPromptsUnderTheBudget() {
        var d = Driver(config(budget: 10))
        d.add(1, prompt: 6, output: 5)
        let first = d.step()
        #expect(first.chunks.map(\.count) == [6])
        #expect(first.chunks[0].samples)
        d.add(2, prompt: 20, output: 5, start: 100)
        // Sequence 1 decodes one token; sequence 2 gets the 9 tokens left, as a chunk.
        let second = d.step()
        #expect(second.chunks.map(\.sequence) == [1, 2])
        #expect(second.chunks.map(\.count) == [1, 9])
        #expect(second.chunks[1].samples == false)
        #expect(second.tokenCount == 10)
        let third = d.step()
        #expect(third.chunks.map(\.count) == [1, 9])
        #expect(third.chunks[1].start == 9)
        let fourth = d.step()
        #expect(fourth.chunks.map(\.count) == [1, 2])
        #expect(fourth.chunks[1].samples)
        #expect(fourth.chunks[1].tokens == [118, 119])
    }

    @Test func sequenceLimitHoldsPromptsBack() {
        var d = Driver(config(seqs: 2, budget: 100))
        for id in 1...3 { d.add(id, prompt: 4, output: 3, start: id * 10) }
        let first = d.step()
        #expect(first.chunks.map(\.sequence) == [1, 2])
        #expect(d.scheduler.waitingCount == 1)
        d.step(); d.step()  // 1 and 2 finish after their third token
        let next = d.step()
        #expect(next.chunks.map(\.sequence) == [3])
    }

    @Test func withoutChunkingAPromptWaitsForRoom() {
        var d = Driver(config(budget: 10, chunked: false))
        d.add(1, prompt: 4, output: 10)
        d.step()
        d.add(2, prompt: 10, output: 2, start: 50)
        // 1 decode + 10 prompt tokens > 10: the prompt waits whole instead of being split.
        let step = d.step()
        #expect(step.chunks.map(\.sequence) == [1])
        #expect(d.scheduler.waitingCount == 1)
    }

    @Test func everyRequestFinishesAndAllBlocksReturn() {
        var d = Driver(config(seqs: 4, budget: 16, blocks: 40))
        for id in 0..<20 { d.add(id, prompt: 3 + (id * 7) % 23, output: 1 + (id * 5) % 17, start: id * 1000) }
        let steps = d.runToEnd()
        #expect(steps < 10_000)
        #expect(Set(d.finished) == Set(0..<20))
        #expect(d.scheduler.pool.usedCount == 0)
        for id in 0..<20 { #expect(d.generated[id] == 1 + (id * 5) % 17) }
    }
}

@Suite struct SchedulerPolicyTests {
    @Test func priorityAdmitsLowestValueFirst() {
        var d = Driver(config(seqs: 1, budget: 100, policy: .priority))
        d.add(1, prompt: 4, output: 1, priority: 5)
        d.add(2, prompt: 4, output: 1, priority: -1, start: 10)
        d.add(3, prompt: 4, output: 1, priority: 5, start: 20)
        #expect(d.step().chunks.map(\.sequence) == [2])
        #expect(d.step().chunks.map(\.sequence) == [1])
        #expect(d.step().chunks.map(\.sequence) == [3])
    }

    @Test func fcfsIgnoresPriority() {
        var d = Driver(config(seqs: 1, budget: 100, policy: .fcfs))
        d.add(1, prompt: 4, output: 1, priority: 5)
        d.add(2, prompt: 4, output: 1, priority: -1, start: 10)
        #expect(d.step().chunks.map(\.sequence) == [1])
        #expect(d.step().chunks.map(\.sequence) == [2])
    }
}

@Suite struct SchedulerMemoryTests {
    @Test func fullPoolPreemptsTheNewestAndResumesIt() {
        // 6 blocks of 4 tokens. Two sequences of 8-token prompts take 2 blocks each (plus growth).
        var d = Driver(config(budget: 100, blocks: 6, prefix: false))
        d.add(1, prompt: 8, output: 12)
        d.add(2, prompt: 8, output: 12, start: 100)
        d.step()
        #expect(d.scheduler.pool.usedCount == 4)
        var preempted: [Int] = []
        var sawRecompute = false
        while !d.scheduler.isIdle {
            let step = d.step()
            preempted += step.preempted
            // After preemption, sequence 2 comes back as one chunk with its prompt and its tokens so far.
            if let c = step.chunks.first(where: { $0.sequence == 2 }), c.start == 0, c.count > 8 {
                sawRecompute = true
                #expect(c.promptCount == 8)
                #expect(Array(c.tokens.prefix(8)) == Array(100..<108))
                #expect(c.tokens.dropFirst(8).allSatisfy { $0 == 7 })
            }
        }
        #expect(preempted == [2])
        #expect(sawRecompute)
        #expect(d.generated[1] == 12 && d.generated[2] == 12)
        #expect(d.scheduler.statistics.preemptions == 1)
        #expect(d.scheduler.pool.usedCount == 0)
    }

    @Test func cancellingFreesBlocksBeforeTheNextStep() {
        var d = Driver(config(budget: 100, blocks: 10, prefix: false))
        d.add(1, prompt: 9, output: 100)
        d.add(2, prompt: 5, output: 100, start: 50)
        d.step()
        #expect(d.scheduler.pool.usedCount == 5)  // 3 + 2 blocks
        d.scheduler.finish(id: 1)
        #expect(d.scheduler.pool.usedCount == 2)
        #expect(!d.scheduler.contains(1))
        let step = d.step()
        #expect(step.chunks.map(\.sequence) == [2])
        d.scheduler.finish(id: 2)
        #expect(d.scheduler.pool.usedCount == 0)
        #expect(d.scheduler.isIdle)
    }

    @Test func cancellingAWaitingRequestRemovesIt() {
        var d = Driver(config(seqs: 1, budget: 100))
        d.add(1, prompt: 4, output: 50)
        d.add(2, prompt: 4, output: 50, start: 10)
        d.step()
        #expect(d.scheduler.waitingCount == 1)
        d.scheduler.finish(id: 2)
        #expect(d.scheduler.waitingCount == 0)
    }
}

@Suite struct SchedulerPrefixTests {
    @Test func sharedPrefixIsComputedOnce() {
        var d = Driver(config(budget: 100, blocks: 32))
        // 10 shared tokens then a different tail: blocks 0 and 1 (tokens 0..<8) are shareable.
        d.scheduler.add(id: 1, prompt: Array(0..<10) + [500, 501])
        d.outputs[1] = 1
        d.step()
        d.scheduler.add(id: 2, prompt: Array(0..<10) + [600, 601, 602])
        d.outputs[2] = 1
        let step = d.step()
        #expect(step.chunks.count == 1)
        #expect(step.chunks[0].start == 8)
        #expect(step.chunks[0].tokens == [8, 9, 600, 601, 602])
        #expect(d.scheduler.statistics.prefixHitTokens == 8)
    }

    @Test func lastPromptBlockIsAlwaysComputed() {
        var d = Driver(config(budget: 100, blocks: 32))
        d.add(1, prompt: 8, output: 1)
        d.step()
        d.add(2, prompt: 8, output: 1)
        // Identical 8-token prompt: only block 0 may come from the cache; block 1 holds the last token.
        let step = d.step()
        #expect(step.chunks[0].start == 4)
        #expect(step.chunks[0].count == 4)
    }

    @Test func disabledReuseComputesEverything() {
        var d = Driver(config(budget: 100, blocks: 32, prefix: false))
        d.add(1, prompt: 12, output: 1)
        d.step()
        d.add(2, prompt: 12, output: 1)
        #expect(d.step().chunks[0].start == 0)
        #expect(d.scheduler.statistics.prefixHitTokens == 0)
    }

    @Test func cachedBlocksSurviveUntilMemoryIsNeeded() {
        var d = Driver(config(seqs: 1, budget: 100, blocks: 6))
        d.add(1, prompt: 9, output: 1)   // blocks 0,1 cached after it finishes
        d.step()
        #expect(d.scheduler.pool.usedCount == 0)
        #expect(d.scheduler.pool.cachedCount == 2)
        d.add(2, prompt: 20, output: 1, start: 100)  // needs 5 of 6 blocks: evicts one cached block
        d.step()
        // Its own 4 shareable blocks are cached now, plus the head of the first prompt: blocks
        // are released tail first, so the first prompt's second block was evicted, not its first.
        #expect(d.scheduler.pool.cachedCount == 5)
        d.add(3, prompt: 9, output: 1)
        let step = d.step()
        #expect(step.chunks[0].start == 4)
    }

    @Test func siblingsShareThePromptBlocks() {
        var d = Driver(config(budget: 100, blocks: 32, prefix: false))
        d.add(1, prompt: 10, output: 3)
        d.add(2, prompt: 10, output: 3, sibling: 1)
        d.add(3, prompt: 10, output: 3, sibling: 1)
        let first = d.step()
        #expect(first.chunks.map(\.sequence) == [1])  // siblings wait for the prompt
        let second = d.step()
        // Siblings compute only the block of the last prompt token (positions 8, 9).
        #expect(second.chunks.filter { $0.sequence != 1 }.map(\.start) == [8, 8])
        #expect(second.chunks.filter { $0.sequence != 1 }.allSatisfy { $0.samples })
        let table1 = d.scheduler.blockTables(of: 1)?.first ?? []
        let table2 = d.scheduler.blockTables(of: 2)?.first ?? []
        #expect(Array(table1.prefix(2)) == Array(table2.prefix(2)))
        #expect(table1[2] != table2[2])
        #expect(d.scheduler.pool.referenceCount(table1[0]) == 3)
        _ = d.runToEnd()
        #expect(d.scheduler.pool.usedCount == 0)
    }

    @Test func siblingOfACancelledSequenceComputesItsOwnPrompt() {
        var d = Driver(config(budget: 100, blocks: 32, prefix: false))
        d.add(1, prompt: 10, output: 3)
        d.add(2, prompt: 10, output: 3, sibling: 1)
        d.scheduler.finish(id: 1)
        let step = d.step()
        #expect(step.chunks.map(\.sequence) == [2])
        #expect(step.chunks[0].start == 0)
    }
}
