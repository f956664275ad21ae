import Foundation
import Logging
import NimbusModels
import NimbusScheduler
import ServiceLifecycle
import Synchronization

/// Runs generation requests with continuous batching on a dedicated thread and streams their
/// tokens back.
///
/// `submit` hands a request to the engine thread (or refuses it when the waiting queue is full);
/// every iteration of that thread schedules the running and waiting sequences under the token
/// budget, computes them in one batched forward pass and streams each sampled token. The thread
/// is also the first worker of the model's compute pool: matmuls never run on Swift's
/// cooperative pool or an event loop. A consumer that stops iterating its stream cancels the
/// request, and its KV blocks are free before the next step. As a `Service`, the engine runs
/// until graceful shutdown, then finishes what it accepted.
public final class Engine: Service, Sendable {
    public let model: LoadedModel
    /// Longest sequence (prompt plus completion) a request may use.
    public let contextLength: Int
    public let configuration: EngineConfiguration
    /// KV blocks in the pool (each `configuration.blockSize` positions of one KV group).
    public let kvBlocks: Int
    /// The scheduler's limits, the pool and the model's KV groups.
    public let scheduling: SchedulerConfiguration
    /// The longest sequence the pool holds (sliding-window layers hold only their window); nil
    /// when the pool bounds no sequence (every layer is windowed).
    public let capacityTokens: Int?
    private let logger: Logger
    private let inbox: RequestInbox
    private let published: Mutex<EngineStatistics>

    /// - Throws: `EngineError.exceedsKVCache` when the KV pool cannot hold one full-length sequence.
    /// The draft model of speculative decoding (`SpeculativeConfiguration.Method.draftModel`),
    /// loaded with `ModelLoader.loadDraft` for `model`.
    public let draft: LoadedModel?

    public init(model: LoadedModel, contextLength: Int? = nil, configuration: EngineConfiguration = EngineConfiguration(),
                draft: LoadedModel? = nil, logger: Logger) throws(EngineError) {
        self.model = model
        self.draft = draft
        self.contextLength = min(contextLength ?? model.contextLength, model.contextLength)
        var configuration = configuration
        // Without chunking a whole prompt is one step's work; a step never holds more rows than
        // the model's scratch buffers.
        let wanted = configuration.chunkedPrefill ? configuration.maxBatchedTokens
            : max(configuration.maxBatchedTokens, min(contextLength ?? model.contextLength, model.contextLength))
        configuration.maxBatchedTokens = max(1, min(wanted, model.model.maxBatch))
        self.configuration = configuration
        self.logger = logger
        let bytes = configuration.kvCacheBytes
            ?? Int(Double(SystemMemory.availableBytes()) * configuration.kvCacheMemoryFraction)
        let layout = model.model.kvLayout(blockSize: configuration.blockSize)
        kvBlocks = max(0, bytes / max(1, layout.bytesPerPosition * configuration.blockSize))
        scheduling = configuration.scheduler(blockCount: kvBlocks, groupReaches: layout.reaches)
        capacityTokens = scheduling.capacityTokens
        if let capacityTokens, capacityTokens < self.contextLength {
            throw .exceedsKVCache(tokens: self.contextLength, capacity: capacityTokens)
        }
        inbox = RequestInbox(limit: configuration.maxSequences + configuration.maxQueuedRequests)
        var initial = EngineStatistics()
        initial.totalBlocks = kvBlocks
        initial.blockSize = configuration.blockSize
        published = Mutex(initial)
    }

    /// Queues `request` and returns its event stream; cancelling (dropping) the stream cancels it.
    /// - Throws: `EngineError` when the request can never run (empty prompt, too long), when
    ///   `maxSequences + maxQueuedRequests` requests are already unfinished, or during shutdown.
    public func submit(_ request: GenerationRequest) throws(EngineError) -> AsyncThrowingStream<GenerationEvent, any Error> {
        guard !request.prompt.isEmpty else { throw .emptyPrompt }
        guard request.prompt.count + request.maxTokens <= contextLength else {
            throw .contextExceeded(promptTokens: request.prompt.count, maxTokens: request.maxTokens,
                                   contextLength: contextLength)
        }
        if !configuration.chunkedPrefill, request.prompt.count > configuration.maxBatchedTokens {
            throw .promptExceedsStep(promptTokens: request.prompt.count, limit: configuration.maxBatchedTokens)
        }
        let needed = request.prompt.count + request.choices * request.maxTokens
        guard scheduling.blocks(prompt: request.prompt.count, output: request.maxTokens, choices: request.choices) <= kvBlocks else {
            throw .exceedsKVCache(tokens: needed, capacity: capacityTokens)
        }
        // Bounded: the engine thread never waits for a consumer; one that falls this far behind
        // loses its request (`GenerationLoop` sees the dropped event).
        let (stream, continuation) = AsyncThrowingStream<GenerationEvent, any Error>.makeStream(
            bufferingPolicy: .bufferingOldest(request.streamBacklog(perChoice: configuration.streamBacklog)))
        let job = Job(request: request, continuation: continuation)
        continuation.onTermination = { [inbox] _ in
            job.cancel()
            // A refused job's stream ends too (dropped by `submit`), but it was never counted.
            if job.isAccepted { inbox.finished() }
            inbox.wake()
        }
        try inbox.push(job)
        return stream
    }

    /// Requests accepted and not yet started.
    public var waitingRequests: Int { inbox.waiting }

    /// A snapshot taken after the latest step.
    public var statistics: EngineStatistics {
        var s = published.withLock { $0 }
        s.waitingRequests = inbox.waiting
        return s
    }

    /// Starts the engine thread and keeps it until graceful shutdown; accepted work is finished first.
    public func run() async throws {
        let thread = Thread { [self] in threadMain() }
        thread.name = "nimbus-engine"
        thread.stackSize = 8 << 20
        thread.start()
        logger.info("engine started", metadata: [
            "model": "\(model.path)", "context": "\(contextLength)",
            "kv_cache_tokens": "\(capacityTokens.map(String.init) ?? "unbounded")", "kv_groups": "\(scheduling.groupReaches.count)",
            "max_sequences": "\(configuration.maxSequences)", "max_batched_tokens": "\(configuration.maxBatchedTokens)",
            "policy": "\(configuration.policy.rawValue)", "prefix_caching": "\(configuration.prefixCaching)",
        ])
        await withTaskCancellationHandler {
            await withGracefulShutdownHandler {
                await inbox.stopped.wait()
            } onGracefulShutdown: { [inbox] in
                inbox.close()
            }
        } onCancel: { [inbox] in
            inbox.close()
        }
    }

    private func threadMain() {
        let loop = GenerationLoop(model: model, scheduler: scheduling,
                                  contextLength: contextLength, speculation: configuration.speculation, draft: draft,
                                  streamBacklog: max(1, configuration.streamBacklog))
        while let jobs = inbox.take(idle: loop.isIdle) {
            // A job refused at admission (its constraint did not compile) leaves the waiting count.
            let refused = jobs.reduce(0) { $0 + (loop.admit($1) ? 0 : 1) }
            if refused > 0 { inbox.started(count: refused) }
            let unstarted = loop.dropCancelled()
            if unstarted > 0 { inbox.started(count: unstarted) }
            let started = loop.step()
            if started > 0 { inbox.started(count: started) }
            loop.refreshStatistics(waitingRequests: inbox.waiting)
            let snapshot = loop.statistics
            for id in loop.takeSlowConsumers() {
                logger.warning("cancelled a request whose client left its stream unread", metadata: [
                    "request_id": "\(id ?? "none")", "backlog_events_per_choice": "\(configuration.streamBacklog)"])
            }
            published.withLock { $0 = snapshot }
        }
        inbox.stopped.signal()
    }
}

/// Memory the kernel says is available to a new process (MemAvailable), for sizing the KV pool.
enum SystemMemory {
    static func availableBytes() -> Int {
        if let text = try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8) {
            for line in text.split(separator: "\n") where line.hasPrefix("MemAvailable:") {
                let fields = line.split(separator: " ")
                if fields.count >= 2, let kib = Int(fields[1]) { return kib * 1024 }
            }
        }
        return Int(ProcessInfo.processInfo.physicalMemory / 2)
    }
}
