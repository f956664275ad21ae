/// Which waiting sequence is admitted first, and which running one is preempted first.
public enum SchedulingPolicy: String, Sendable, CaseIterable {
    /// First come, first served; the newest running sequence is preempted.
    case fcfs
    /// Lowest `priority` value first (ties by arrival), as vLLM's request field; the running
    /// sequence with the highest value (then the newest) is preempted.
    case priority
}

/// The limits of one engine step and of the KV block pool.
public struct SchedulerConfiguration: Sendable, Equatable {
    /// Most sequences computed in one step (running, not waiting).
    public var maxRunningSequences: Int
    /// Most tokens (prompt chunks plus one per decoding sequence) computed in one step.
    public var maxBatchedTokens: Int
    /// Split a prompt over several steps when it does not fit the remaining budget, so a long
    /// prompt never stalls running streams. Without it a prompt is computed whole.
    public var chunkedPrefill: Bool
    public var policy: SchedulingPolicy
    /// Tokens per KV block.
    public var blockSize: Int
    /// Blocks in the pool.
    public var blockCount: Int
    /// Share full prompt blocks between requests with the same prefix.
    public var prefixCaching: Bool
    /// Draft tokens (speculative decoding) are added to a step only while it holds at most this
    /// many rows, drafts included, and only from the budget that scheduled work left over: a
    /// full batch gets no drafts. 0 schedules no drafts.
    public var speculativeRowLimit: Int
    /// Most distinct adapters (the non-zero `adapter` of `Scheduler.add`) among running
    /// sequences; a waiting sequence of another adapter is not admitted until one finishes.
    /// 0: no limit.
    public var maxAdapters: Int

    public init(maxRunningSequences: Int = 16, maxBatchedTokens: Int = 256, chunkedPrefill: Bool = true,
                policy: SchedulingPolicy = .fcfs, blockSize: Int = 16, blockCount: Int,
                prefixCaching: Bool = true, speculativeRowLimit: Int = 0, maxAdapters: Int = 0) {
        self.speculativeRowLimit = speculativeRowLimit
        self.maxAdapters = maxAdapters
        self.maxRunningSequences = maxRunningSequences
        self.maxBatchedTokens = maxBatchedTokens
        self.chunkedPrefill = chunkedPrefill
        self.policy = policy
        self.blockSize = blockSize
        self.blockCount = blockCount
        self.prefixCaching = prefixCaching
    }

    /// Tokens the whole pool holds.
    public var capacityTokens: Int { blockCount * blockSize }
}

/// One sequence's share of a step: compute `count` tokens starting at position `start`.
public struct ScheduledChunk: Sendable, Equatable {
    public let sequence: Int
    public let start: Int
    public let tokens: [Int]
    /// The sequence's blocks, enough for `start + tokens.count` positions.
    public let blockTable: [Int]
    /// Positions below this were the prompt when the sequence arrived (they keep the prompt's
    /// numerics when recomputed after a preemption).
    public let promptCount: Int
    /// The chunk reaches the end of the known tokens: the step yields this sequence's next-token
    /// logits and the engine samples (then calls `append` or `finish`).
    public let samples: Bool
    /// The last `draftCount` tokens are a draft proposed with `Scheduler.propose`, computed to be
    /// verified: the step yields logits for each of them and for the token before them.
    public let draftCount: Int

    public init(sequence: Int, start: Int, tokens: [Int], blockTable: [Int], promptCount: Int, samples: Bool,
                draftCount: Int = 0) {
        self.sequence = sequence
        self.start = start
        self.tokens = tokens
        self.blockTable = blockTable
        self.promptCount = promptCount
        self.samples = samples
        self.draftCount = draftCount
    }

    public var count: Int { tokens.count }
    /// The draft tokens at the end of `tokens`.
    public var draft: ArraySlice<Int> { tokens.suffix(draftCount) }
    /// Rows whose logits the engine samples: the draft's and the one before it, when sampling.
    public var logitRows: Int { samples ? draftCount + 1 : 0 }
}

/// What one `schedule()` call decided.
public struct SchedulerStep: Sendable, Equatable {
    public var chunks: [ScheduledChunk] = []
    /// Sequences preempted in this step (their blocks are free; they will be recomputed).
    public var preempted: [Int] = []

    public var tokenCount: Int { chunks.reduce(0) { $0 + $1.count } }
    public var draftTokenCount: Int { chunks.reduce(0) { $0 + $1.draftCount } }
    public var isEmpty: Bool { chunks.isEmpty }
}

/// Counters for metrics and the status page.
public struct SchedulerStatistics: Sendable, Equatable {
    public var waiting = 0
    public var running = 0
    public var usedBlocks = 0
    public var totalBlocks = 0
    public var cachedBlocks = 0
    /// Prompt tokens served from the prefix cache (or shared with a sibling choice) since start.
    public var prefixHitTokens = 0
    public var preemptions = 0

    public var cacheUsage: Double { totalBlocks == 0 ? 0 : Double(usedBlocks) / Double(totalBlocks) }
}
