import NimbusScheduler

/// How the engine batches and how much KV memory it keeps (from NIM_* settings).
public struct EngineConfiguration: Sendable, Equatable {
    /// Most sequences computed together in one step (NIM_MAX_NUM_SEQS / NIM_MAX_BATCH_SIZE).
    public var maxSequences = 16
    /// Most tokens computed in one step, prompt chunks and decodes together (NIM_MAX_NUM_BATCHED_TOKENS).
    public var maxBatchedTokens = 256
    /// Split long prompts over steps so running streams never stall (NIM_ENABLE_CHUNKED_PREFILL).
    public var chunkedPrefill = true
    /// NIM_SCHEDULING_POLICY.
    public var policy: SchedulingPolicy = .fcfs
    /// Reuse the KV of full prompt blocks across requests (NIM_ENABLE_KV_CACHE_REUSE).
    public var prefixCaching = true
    /// Most requests waiting to start while every sequence slot is taken (NIM_MAX_QUEUE_SIZE):
    /// `submit` refuses once `maxSequences + maxQueuedRequests` requests are unfinished.
    public var maxQueuedRequests = 256
    /// Most events per choice of a request the consumer may leave unread (NIMBUS_STREAM_BACKLOG;
    /// the choices of an `n` > 1 request share one stream, so its buffer is `n` times this); past it
    /// the request ends with `EngineError.slowConsumer`, so a client that stops reading cannot
    /// hold KV blocks or grow memory while the others stream.
    public var streamBacklog = 512
    /// Tokens per KV block.
    public var blockSize = 16
    /// KV pool size in bytes (NIM_KV_CACHE_SIZE); when nil, `kvCacheMemoryFraction` of the
    /// memory available at start-up.
    public var kvCacheBytes: Int?
    /// NIM_KV_CACHE_FREE_MEM_FRACTION.
    public var kvCacheMemoryFraction = 0.1
    /// Speculative decoding (NIM_SPECDEC_ARGS).
    public var speculation = SpeculativeConfiguration()
    /// Most LoRA adapters whose sequences run at once (NIM_MAX_LORAS); requests for another
    /// adapter wait until one of those finishes.
    public var maxAdapters = 8

    public init() {}

    /// The scheduler's view, for a pool of `blockCount` blocks and the model's KV groups.
    func scheduler(blockCount: Int, groupReaches: [Int?] = [nil]) -> SchedulerConfiguration {
        SchedulerConfiguration(maxRunningSequences: maxSequences, maxBatchedTokens: maxBatchedTokens,
                               chunkedPrefill: chunkedPrefill, policy: policy, blockSize: blockSize,
                               blockCount: blockCount, prefixCaching: prefixCaching,
                               speculativeRowLimit: speculation.rowLimit, maxAdapters: maxAdapters,
                               groupReaches: groupReaches)
    }
}

/// What the engine is doing now, for metrics and the status page.
public struct EngineStatistics: Sendable, Equatable {
    /// Requests accepted but not yet started.
    public var waitingRequests = 0
    /// Sequences (choices) being computed.
    public var runningSequences = 0
    public var usedBlocks = 0
    public var totalBlocks = 0
    public var blockSize = 0
    /// Prompt tokens that came from the prefix cache (or a sibling choice) since start.
    public var prefixHitTokens = 0
    /// Prompt tokens computed since start.
    public var promptTokensComputed = 0
    /// Tokens generated since start.
    public var generatedTokens = 0
    public var preemptions = 0
    /// Requests cancelled since start because their consumer left `streamBacklog` events unread.
    public var slowConsumerCancels = 0
    /// Steps run since start, and tokens in the last one.
    public var steps = 0
    public var lastStepTokens = 0
    /// Speculative decoding since start: drafts verified, their tokens, and those accepted.
    public var drafts = 0
    public var draftTokens = 0
    public var acceptedDraftTokens = 0
    /// One more row's cost in a decoding step, as a fraction of a one-row step, as the draft
    /// length currently weighs it (measured, or configured); nil before the first timed step.
    public var rowCost: Double?

    /// Fraction of draft tokens accepted (0 before any draft).
    public var draftAcceptanceRate: Double { draftTokens == 0 ? 0 : Double(acceptedDraftTokens) / Double(draftTokens) }

    /// Fraction of KV blocks held by sequences.
    public var kvCacheUsage: Double { totalBlocks == 0 ? 0 : Double(usedBlocks) / Double(totalBlocks) }

    public init() {}
}
