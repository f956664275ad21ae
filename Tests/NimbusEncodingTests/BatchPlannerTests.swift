import NimbusEncoding
import Testing

/// The batching policy on its own, without threads.
@Suite struct BatchPlannerTests {
    typealias Slice = BatchPlanner<Int>.Slice

    @Test func concurrentRequestsShareOneBatch() {
        var planner = BatchPlanner<Int>(maxTokens: 100, maxSequences: 10)
        planner.enqueue(1, lengths: [10, 10])
        planner.enqueue(2, lengths: [5])
        planner.enqueue(3, lengths: [7, 8, 9])
        #expect(planner.queuedSequences == 6)
        #expect(planner.nextBatch() == [Slice(request: 1, range: 0..<2), Slice(request: 2, range: 0..<1), Slice(request: 3, range: 0..<3)])
        #expect(planner.isEmpty && planner.nextBatch().isEmpty)
    }

    @Test func largeRequestsAreSplitInOrder() {
        var planner = BatchPlanner<Int>(maxTokens: 30, maxSequences: 3)
        planner.enqueue(1, lengths: [10, 10, 10, 10, 10])
        planner.enqueue(2, lengths: [10])
        #expect(planner.nextBatch() == [Slice(request: 1, range: 0..<3)])
        #expect(planner.nextBatch() == [Slice(request: 1, range: 3..<5), Slice(request: 2, range: 0..<1)])
        #expect(planner.nextBatch().isEmpty)
    }

    @Test func tokenBudgetSplitsBatches() {
        var planner = BatchPlanner<Int>(maxTokens: 25, maxSequences: 100)
        planner.enqueue(1, lengths: [10, 10, 10])
        #expect(planner.nextBatch() == [Slice(request: 1, range: 0..<2)])
        #expect(planner.nextBatch() == [Slice(request: 1, range: 2..<3)])
    }

    @Test func anOversizedSequenceRunsAlone() {
        var planner = BatchPlanner<Int>(maxTokens: 8, maxSequences: 4)
        planner.enqueue(1, lengths: [20, 3])
        #expect(planner.nextBatch() == [Slice(request: 1, range: 0..<1)])
        #expect(planner.nextBatch() == [Slice(request: 1, range: 1..<2)])
    }

    @Test func cancelledRequestsAreDropped() {
        var planner = BatchPlanner<Int>(maxTokens: 100, maxSequences: 100)
        planner.enqueue(1, lengths: [1])
        planner.enqueue(2, lengths: [2])
        planner.enqueue(3, lengths: [])
        planner.cancel(1)
        #expect(planner.queuedSequences == 1)
        #expect(planner.nextBatch() == [Slice(request: 2, range: 0..<1)])
    }
}
