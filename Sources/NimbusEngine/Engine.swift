import Foundation
import Logging
import NimbusModels
import ServiceLifecycle
import Synchronization

/// Runs generation requests on a dedicated thread and streams their tokens back.
///
/// Requests wait in a FIFO queue and run one at a time on the engine thread, which is also the
/// first worker of the model's compute pool; matmuls never run on Swift's cooperative pool or an
/// event loop. A consumer that stops iterating its stream cancels the request before the next
/// token. As a `Service`, the engine runs until graceful shutdown, then finishes the queue.
public final class Engine: Service, Sendable {
    public let model: LoadedModel
    /// Longest sequence (prompt plus completion) a request may use.
    public let contextLength: Int
    private let logger: Logger
    private let queue = JobQueue()

    public init(model: LoadedModel, contextLength: Int? = nil, logger: Logger) {
        self.model = model
        self.contextLength = min(contextLength ?? model.contextLength, model.contextLength)
        self.logger = logger
    }

    /// Queues `request` and returns its event stream; cancelling (dropping) the stream cancels it.
    /// - Throws: `EngineError` when the request can never run (empty prompt, too long).
    public func submit(_ request: GenerationRequest) throws(EngineError) -> AsyncThrowingStream<GenerationEvent, any Error> {
        guard !request.prompt.isEmpty else { throw .emptyPrompt }
        guard request.prompt.count + request.maxTokens <= contextLength else {
            throw .contextExceeded(promptTokens: request.prompt.count, maxTokens: request.maxTokens,
                                   contextLength: contextLength)
        }
        let (stream, continuation) = AsyncThrowingStream<GenerationEvent, any Error>.makeStream()
        let job = Job(request: request, continuation: continuation)
        continuation.onTermination = { _ in job.cancel() }
        guard queue.push(job) else { throw .shuttingDown }
        return stream
    }

    /// Number of requests waiting or running.
    public var pendingRequests: Int { queue.count }

    /// Starts the engine thread and keeps it until graceful shutdown; queued work is finished first.
    public func run() async throws {
        let thread = Thread { [self] in threadMain() }
        thread.name = "nimbus-engine"
        thread.stackSize = 8 << 20
        thread.start()
        logger.info("engine started", metadata: ["model": "\(model.path)", "context": "\(contextLength)"])
        await withTaskCancellationHandler {
            await withGracefulShutdownHandler {
                await queue.waitUntilClosed()
            } onGracefulShutdown: { [queue] in
                queue.close()
            }
        } onCancel: { [queue] in
            queue.close()
        }
    }

    private func threadMain() {
        let runner = SequenceRunner(model: model, contextLength: contextLength)
        while let job = queue.pop() {
            let error = runner.run(job)
            // Counted as done before the stream ends, so a client that sees the end sees the count drop.
            queue.complete()
            job.continuation.finish(throwing: error)
        }
        queue.markStopped()
    }
}

/// A queued request and where its events go.
final class Job: Sendable {
    let request: GenerationRequest
    let continuation: AsyncThrowingStream<GenerationEvent, any Error>.Continuation
    private let cancelled = Atomic<Bool>(false)

    init(request: GenerationRequest, continuation: AsyncThrowingStream<GenerationEvent, any Error>.Continuation) {
        self.request = request
        self.continuation = continuation
    }

    var isCancelled: Bool { cancelled.load(ordering: .relaxed) }
    func cancel() { cancelled.store(true, ordering: .relaxed) }
}

/// The FIFO between request handlers and the engine thread. `pop` blocks the engine thread (never
/// a task) while the queue is empty.
final class JobQueue: Sendable {
    private struct State {
        var jobs: [Job] = []
        var running = 0
        var closed = false
        var stopped = false
        var stopWaiters: [CheckedContinuation<Void, Never>] = []
    }
    // The state lives in a Mutex so the compiler checks its Sendable use; the condition only
    // parks the engine thread, and is held around state changes that must wake it.
    private let state = Mutex(State())
    private let condition = NSCondition()

    var count: Int { state.withLock { $0.jobs.count + $0.running } }

    /// Adds a job; false once the queue is closed.
    func push(_ job: Job) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        let accepted = state.withLock { s in
            guard !s.closed else { return false }
            s.jobs.append(job)
            return true
        }
        condition.signal()
        return accepted
    }

    /// The next job, blocking while there is none; nil when closed and drained.
    func pop() -> Job? {
        condition.lock()
        defer { condition.unlock() }
        while true {
            let next: Job?? = state.withLock { s in
                if !s.jobs.isEmpty {
                    s.running = 1
                    return .some(s.jobs.removeFirst())
                }
                return s.closed ? .some(nil) : nil
            }
            if let next { return next }
            condition.wait()
        }
    }

    /// The running job is done.
    func complete() {
        state.withLock { $0.running = 0 }
    }

    func close() {
        condition.lock()
        state.withLock { $0.closed = true }
        condition.broadcast()
        condition.unlock()
    }

    func markStopped() {
        let waiters = state.withLock { s in
            s.stopped = true
            defer { s.stopWaiters = [] }
            return s.stopWaiters
        }
        for w in waiters { w.resume() }
    }

    func waitUntilClosed() async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let resumeNow = state.withLock { s in
                if s.stopped { return true }
                s.stopWaiters.append(c)
                return false
            }
            if resumeNow { c.resume() }
        }
    }
}
