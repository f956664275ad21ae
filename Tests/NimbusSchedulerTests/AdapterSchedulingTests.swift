import NimbusScheduler
import Testing

/// LoRA adapters as the scheduler sees them: plain integers that key the prefix cache and count
/// against `maxAdapters`.
@Suite struct AdapterSchedulingTests {
    @Test func prefixBlocksAreSharedOnlyWithinOneAdapter() {
        var d = Driver(config(budget: 100, blocks: 32))
        d.scheduler.add(id: 1, prompt: Array(0..<12), adapter: 5)
        d.outputs[1] = 1
        d.step()
        // The same tokens with another adapter, then without one: no reuse.
        for (id, adapter) in [(2, 6), (3, 0)] {
            d.scheduler.add(id: id, prompt: Array(0..<12), adapter: adapter)
            d.outputs[id] = 1
            #expect(d.step().chunks.first?.start == 0, "adapter \(adapter)")
        }
        #expect(d.scheduler.statistics.prefixHitTokens == 0)
        // The first adapter again: its two full blocks are reused.
        d.scheduler.add(id: 4, prompt: Array(0..<12), adapter: 5)
        d.outputs[4] = 1
        #expect(d.step().chunks.first?.start == 8)
        #expect(d.scheduler.statistics.prefixHitTokens == 8)
    }

    @Test func atMostMaxAdaptersRunAtOnce() {
        var configuration = config(seqs: 8, budget: 100, blocks: 64)
        configuration.maxAdapters = 2
        var d = Driver(configuration)
        // Adapters 1 and 2 run; 3 waits although room is left, and so does 5 (adapter 1, but it
        // came after 3); the base model passes.
        for (id, adapter) in [(1, 1), (2, 2), (3, 3), (4, 0), (5, 1)] {
            d.scheduler.add(id: id, prompt: Array(0..<4).map { $0 + 10 * id }, adapter: adapter)
            d.outputs[id] = id == 1 || id == 5 ? 2 : 6
        }
        let first = d.step()
        #expect(Set(first.chunks.map(\.sequence)) == [1, 2, 4])
        #expect(d.scheduler.waitingCount == 2)
        // Sequence 1 (adapter 1) finishes after two tokens; then adapter 3 may run.
        d.step()
        let third = d.step()
        #expect(third.chunks.contains { $0.sequence == 3 })
        #expect(d.runToEnd() < 20)
        #expect(Set(d.finished) == [1, 2, 3, 4, 5])
    }

    /// A request for a new adapter is not starved by later requests for a running one.
    @Test func laterRequestsOfRunningAdaptersDoNotPassAHeldBackOne() {
        var configuration = config(seqs: 8, budget: 100, blocks: 64)
        configuration.maxAdapters = 1
        var d = Driver(configuration)
        for (id, adapter, output) in [(1, 1, 3), (2, 2, 1), (3, 1, 1), (4, 0, 1)] {
            d.scheduler.add(id: id, prompt: Array(0..<4).map { $0 + 10 * id }, adapter: adapter)
            d.outputs[id] = output
        }
        var firstStep: [Int: Int] = [:]
        for step in 0..<12 where !d.scheduler.isIdle {
            for chunk in d.step().chunks where firstStep[chunk.sequence] == nil { firstStep[chunk.sequence] = step }
        }
        #expect(firstStep[4] == 0, "the base model is not held back")
        #expect((firstStep[2] ?? 99) < (firstStep[3] ?? -1), "\(firstStep)")
        #expect(Set(d.finished) == [1, 2, 3, 4])
    }
}
