@testable import NimbusEngine
import Testing

/// The bound on waiting work: free sequence slots plus the queue, counted as requests move from
/// waiting to running to ended.
@Suite struct RequestInboxTests {
    func job() -> Job {
        let (_, continuation) = AsyncThrowingStream<GenerationEvent, any Error>.makeStream()
        return Job(request: GenerationRequest(prompt: [1], maxTokens: 1), continuation: continuation)
    }

    @Test func anIdleEngineTakesABurstOfSlotsPlusQueue() throws {
        let inbox = RequestInbox(limit: 2, slots: 3)
        for _ in 0..<5 { try inbox.push(job()) }
        #expect(throws: EngineError.queueFull(limit: 2)) { try inbox.push(job()) }
        #expect(inbox.waiting == 5)
    }

    @Test func runningRequestsHoldTheirSlotsUntilTheyEnd() throws {
        let inbox = RequestInbox(limit: 2, slots: 3)
        for _ in 0..<5 { try inbox.push(job()) }
        inbox.started(count: 3)
        // 2 wait, 3 run: the slots are taken and the queue is full.
        #expect(throws: EngineError.queueFull(limit: 2)) { try inbox.push(job()) }
        inbox.finished(count: 1)
        try inbox.push(job())
        #expect(throws: EngineError.queueFull(limit: 2)) { try inbox.push(job()) }
        inbox.dropped(count: 1)  // a waiting request was cancelled before it started
        try inbox.push(job())
        #expect(inbox.waiting == 3)
    }

    @Test func withoutSlotsOnlyTheQueueCounts() throws {
        let inbox = RequestInbox(limit: 1, slots: 1)
        try inbox.push(job())
        inbox.started()
        try inbox.push(job())
        #expect(throws: EngineError.queueFull(limit: 1)) { try inbox.push(job()) }
    }
}
