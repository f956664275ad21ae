import Foundation
import Logging
import NimbusModels
import ServiceLifecycle
import Synchronization

/// Why an encoder request could not run.
public enum EncoderEngineError: Error, Equatable, CustomStringConvertible {
    /// The engine is stopping and takes no new work.
    case shuttingDown
    /// More sequences are queued than the engine accepts; retry later.
    case queueFull(queued: Int, limit: Int)
    /// The forward pass failed (a bug or a corrupt model: inputs are checked before).
    case model(String)

    public var description: String {
        switch self {
        case .shuttingDown: "the encoder is shutting down"
        case .queueFull(let queued, let limit): "the encoder queue holds \(queued) sequences, its limit is \(limit)"
        case .model(let why): "encoder forward pass failed: \(why)"
        }
    }
}

/// Runs an encoder model on its own thread (`nimbus-encoder`), batching concurrent requests
/// into shared forward passes: whatever is queued when the thread becomes free goes into the
/// next pass, up to `BatchPlanner`'s budgets.
///
/// The thread is also worker 0 of the model's compute pool; no matmul runs on the cooperative
/// pool or an event loop. As a `Service`, it runs until graceful shutdown and finishes the queue.
public final class EncoderEngine: Service, Sendable {
    public let encoder: LoadedEncoder
    /// Most sequences waiting at once before requests are refused.
    public let maxQueuedSequences: Int
    private let logger: Logger
    private let queue: EncoderQueue
    private let passes = Atomic<Int>(0)

    /// Forward passes run so far (each may serve several requests).
    public var forwardPasses: Int { passes.load(ordering: .relaxed) }
    /// Sequences waiting for a forward pass.
    public var queuedSequences: Int { queue.queuedSequences }

    public init(encoder: LoadedEncoder, maxBatchTokens: Int = 8192, maxBatchSequences: Int = 256,
                maxQueuedSequences: Int = 65536, logger: Logger) {
        self.encoder = encoder
        self.maxQueuedSequences = maxQueuedSequences
        self.logger = logger
        queue = EncoderQueue(planner: BatchPlanner(maxTokens: maxBatchTokens, maxSequences: maxBatchSequences))
    }

    /// The model's output for each sequence: a pooled embedding, or a cross-encoder's logits.
    /// Cancelling the calling task drops its sequences that have not run yet.
    /// - Throws: `EncoderEngineError`, or `CancellationError` when cancelled.
    public func run(_ sequences: [EncoderSequence]) async throws -> [[Float]] {
        guard !sequences.isEmpty else { return [] }
        let request = EncoderRequest(sequences: sequences)
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                request.attach(continuation)
                do {
                    try queue.push(request, limit: maxQueuedSequences)
                } catch {
                    request.finish(.failure(error))
                }
            }
        } onCancel: { [queue] in
            queue.cancel(request)
        }
    }

    /// Starts the engine thread and keeps it until graceful shutdown; queued work is finished first.
    public func run() async throws {
        let thread = Thread { [self] in threadMain() }
        thread.name = "nimbus-encoder"
        thread.stackSize = 8 << 20
        thread.start()
        logger.info("encoder started", metadata: ["model": "\(encoder.path)", "kind": "\(encoder.kind.rawValue)"])
        await withTaskCancellationHandler {
            await withGracefulShutdownHandler {
                await queue.stopped.wait()
            } onGracefulShutdown: { [queue] in
                queue.close()
            }
        } onCancel: { [queue] in
            queue.close()
        }
    }

    private func threadMain() {
        while let batch = queue.nextBatch() {
            let sequences = batch.flatMap { slice in slice.request.sequences[slice.range] }
            let result: Result<[[Float]], EncoderEngineError>
            do {
                switch encoder.kind {
                case .embedding:
                    result = .success(try encoder.model.embed(sequences, pooling: encoder.settings.pooling,
                                                              normalize: encoder.settings.normalize))
                case .crossEncoder:
                    result = .success(try encoder.model.classify(sequences))
                }
            } catch {
                result = .failure(.model("\(error)"))
            }
            passes.add(1, ordering: .relaxed)
            var offset = 0
            for slice in batch {
                switch result {
                case .success(let outputs):
                    slice.request.deliver(Array(outputs[offset..<offset + slice.range.count]), at: slice.range)
                case .failure(let error):
                    slice.request.finish(.failure(error))
                    queue.cancel(slice.request)  // drops its other sequences; the caller has its error
                }
                offset += slice.range.count
            }
        }
        queue.stopped.signal()
    }
}

/// One caller's sequences, the outputs filled in as batches finish, and its continuation.
final class EncoderRequest: Sendable {
    let sequences: [EncoderSequence]
    private struct State {
        var outputs: [[Float]]
        var remaining: Int
        var continuation: CheckedContinuation<[[Float]], any Error>?
        /// Set once; kept until a continuation is attached when it comes first (a task cancelled
        /// before it queued its request).
        var result: Result<[[Float]], any Error>?
    }
    private let state: Mutex<State>

    init(sequences: [EncoderSequence]) {
        self.sequences = sequences
        state = Mutex(State(outputs: Array(repeating: [], count: sequences.count), remaining: sequences.count))
    }

    func attach(_ continuation: CheckedContinuation<[[Float]], any Error>) {
        let early: Result<[[Float]], any Error>? = state.withLock { s in
            if s.result == nil { s.continuation = continuation }
            return s.result
        }
        if let early { continuation.resume(with: early) }
    }

    /// Stores outputs for `range`; resumes the caller once every sequence has one.
    func deliver(_ outputs: [[Float]], at range: Range<Int>) {
        let done: [[Float]]? = state.withLock { s in
            for (i, o) in zip(range, outputs) { s.outputs[i] = o }
            s.remaining -= range.count
            return s.remaining == 0 ? s.outputs : nil
        }
        if let done { finish(.success(done)) }
    }

    /// Resumes the caller once (later calls are ignored).
    func finish(_ result: Result<[[Float]], any Error>) {
        let continuation: CheckedContinuation<[[Float]], any Error>? = state.withLock { s in
            guard s.result == nil else { return nil }
            s.result = result
            defer { s.continuation = nil }
            return s.continuation
        }
        continuation?.resume(with: result)
    }
}
