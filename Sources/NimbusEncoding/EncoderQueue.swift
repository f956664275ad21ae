import Foundation
import NimbusKernels
import Synchronization

/// The encoder thread's work queue: a `BatchPlanner` behind a lock, a condition that parks the
/// thread while nothing is queued, and the shutdown handshake.
final class EncoderQueue: Sendable {
    private struct State {
        var planner: BatchPlanner<ObjectIdentifier>
        var requests: [ObjectIdentifier: EncoderRequest] = [:]
        var closed = false
    }
    // The state lives in a Mutex so the compiler checks its Sendable use; the condition only
    // parks the encoder thread, and is held around changes that must wake it.
    private let state: Mutex<State>
    private let condition = NSCondition()
    /// Signalled by the encoder thread as it exits.
    let stopped = StopLatch()

    init(planner: BatchPlanner<ObjectIdentifier>) {
        state = Mutex(State(planner: planner))
    }

    var queuedSequences: Int { state.withLock { $0.planner.queuedSequences } }

    /// Queues `request`.
    /// - Throws: `EncoderEngineError.shuttingDown` once closed, `.queueFull` past `limit` sequences.
    func push(_ request: EncoderRequest, limit: Int) throws(EncoderEngineError) {
        condition.lock()
        defer { condition.unlock() }
        let error: EncoderEngineError? = state.withLock { s in
            if s.closed { return .shuttingDown }
            let queued = s.planner.queuedSequences
            if queued + request.sequences.count > limit { return .queueFull(queued: queued, limit: limit) }
            let id = ObjectIdentifier(request)
            s.requests[id] = request
            s.planner.enqueue(id, lengths: request.sequences.map(\.ids.count))
            return nil
        }
        if let error { throw error }
        condition.signal()
    }

    /// Drops what has not run of `request` and resumes it with `CancellationError`.
    func cancel(_ request: EncoderRequest) {
        state.withLock { s in
            let id = ObjectIdentifier(request)
            s.planner.cancel(id)
            s.requests[id] = nil
        }
        request.finish(.failure(CancellationError()))
    }

    /// The next batch as request slices, blocking while none is queued; nil once closed and drained.
    func nextBatch() -> [(request: EncoderRequest, range: Range<Int>)]? {
        condition.lock()
        defer { condition.unlock() }
        while true {
            let next: [(request: EncoderRequest, range: Range<Int>)]?? = state.withLock { s in
                let slices = s.planner.nextBatch()
                if slices.isEmpty { return s.closed ? .some(nil) : nil }
                var batch: [(request: EncoderRequest, range: Range<Int>)] = []
                for slice in slices {
                    guard let request = s.requests[slice.request] else { continue }
                    batch.append((request, slice.range))
                    if slice.range.upperBound == request.sequences.count { s.requests[slice.request] = nil }
                }
                return .some(batch)
            }
            if let next { return next }
            condition.wait()
        }
    }

    func close() {
        condition.lock()
        state.withLock { $0.closed = true }
        condition.broadcast()
        condition.unlock()
    }
}
