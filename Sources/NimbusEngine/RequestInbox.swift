import Foundation
import NimbusKernels
import Synchronization

/// An accepted request and where its events go.
final class Job: Sendable {
    let request: GenerationRequest
    let continuation: AsyncThrowingStream<GenerationEvent, any Error>.Continuation
    private let cancelled = Atomic<Bool>(false)
    /// Set once the inbox counted it as unfinished, so only an accepted job's end is uncounted.
    private let accepted = Atomic<Bool>(false)

    init(request: GenerationRequest, continuation: AsyncThrowingStream<GenerationEvent, any Error>.Continuation) {
        self.request = request
        self.continuation = continuation
    }

    var isCancelled: Bool { cancelled.load(ordering: .relaxed) }
    func cancel() { cancelled.store(true, ordering: .relaxed) }
    var isAccepted: Bool { accepted.load(ordering: .acquiring) }
    func markAccepted() { accepted.store(true, ordering: .releasing) }
}

/// The hand-off between request handlers and the engine thread, and the bound on waiting work.
///
/// Handlers `push`; the engine thread `take`s everything new at the start of each step and
/// blocks (the thread, never a task) only while it has nothing at all to do. A request counts as
/// waiting from `push` until the engine first schedules it (`started`), and as unfinished from
/// `push` until its stream ends (`finished`). `push` refuses once `limit` requests are
/// unfinished: a burst as large as the sequence slots plus the queue is taken in full, whatever
/// the engine has started yet, and memory never grows without bound.
final class RequestInbox: Sendable {
    private struct State {
        var jobs: [Job] = []
        var waiting = 0
        var unfinished = 0
        var closed = false
    }
    private let state = Mutex(State())
    // Parks the engine thread; `state` changes that must wake it happen with it held.
    private let condition = NSCondition()
    /// Signalled by the engine thread as it exits.
    let stopped = StopLatch()
    let limit: Int

    init(limit: Int) { self.limit = max(1, limit) }

    /// Requests accepted and not yet started.
    var waiting: Int { state.withLock { $0.waiting } }

    func push(_ job: Job) throws(EngineError) {
        condition.lock()
        defer { condition.unlock() }
        let refusal: EngineError? = state.withLock { s in
            if s.closed { return .shuttingDown }
            if s.unfinished >= limit { return .queueFull(limit: limit) }
            job.markAccepted()
            s.jobs.append(job)
            s.waiting += 1
            s.unfinished += 1
            return nil
        }
        if let refusal { throw refusal }
        condition.signal()
    }

    /// A request left the waiting count: it started, or ended before starting.
    func started(count: Int = 1) {
        state.withLock { $0.waiting -= count }
    }

    /// A request's stream ended (finished, failed or dropped by its consumer).
    func finished() {
        state.withLock { $0.unfinished -= 1 }
    }

    /// Requests accepted and not yet ended.
    var unfinished: Int { state.withLock { $0.unfinished } }

    /// New jobs; when `idle`, blocks until there are some. Nil once closed with nothing left.
    func take(idle: Bool) -> [Job]? {
        condition.lock()
        defer { condition.unlock() }
        while true {
            let result: [Job]?? = state.withLock { s in
                if !s.jobs.isEmpty {
                    defer { s.jobs = [] }
                    return .some(s.jobs)
                }
                if !idle { return .some([]) }
                return s.closed ? .some(nil) : nil
            }
            if let result { return result }
            condition.wait()
        }
    }

    /// Wakes the engine thread if it is parked (a cancellation may need its attention).
    func wake() {
        condition.lock()
        condition.signal()
        condition.unlock()
    }

    func close() {
        condition.lock()
        state.withLock { $0.closed = true }
        condition.broadcast()
        condition.unlock()
    }
}
