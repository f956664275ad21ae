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
    /// The KV groups: every sequence keeps one block table per entry. nil: the group's layers
    /// read every earlier position. n: a row at position p reads nothing below p + 1 - n (a
    /// sliding window), so a block wholly below the sequence's next position + 1 - n is freed.
    public var groupReaches: [Int?]

    public init(maxRunningSequences: Int = 16, maxBatchedTokens: Int = 256, chunkedPrefill: Bool = true,
                policy: SchedulingPolicy = .fcfs, blockSize: Int = 16, blockCount: Int,
                prefixCaching: Bool = true, speculativeRowLimit: Int = 0, maxAdapters: Int = 0,
                groupReaches: [Int?] = [nil]) {
        self.groupReaches = groupReaches.isEmpty ? [nil] : groupReaches
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

    /// Blocks one sequence of `tokens` positions holds at most: every block in a full-attention
    /// group; in a windowed group, those its reach and a step's budget of new positions span.
    public func blocks(holding tokens: Int) -> Int { blocks(prompt: tokens, output: 0, choices: 1) }

    /// Blocks a request of `choices` sequences of `prompt + output` positions holds at most: in
    /// full-attention groups the choices share the prompt's shareable blocks; in windowed groups
    /// each choice holds its own window.
    public func blocks(prompt: Int, output: Int, choices: Int) -> Int {
        let total = (max(0, prompt + output) + blockSize - 1) / blockSize
        let shared = max(0, prompt - 1) / blockSize
        return groupReaches.reduce(0) { sum, reach in
            guard let reach else { return sum + shared + max(1, choices) * (total - shared) }
            // A step's rows (the budget) and the reach before the first of them, block-aligned.
            let window = (reach - 1 + maxBatchedTokens + blockSize - 1) / blockSize + 1
            return sum + max(1, choices) * min(total, window)
        }
    }

    /// The longest sequence the whole pool holds; nil when every group is windowed, so that
    /// sequences of any length fit.
    public var capacityTokens: Int? {
        // Past any pool a machine holds: a length that still fits here fits at every length.
        var low = 0, high = 1 << 40
        guard blocks(holding: high) > blockCount else { return nil }
        while low < high {
            let middle = (low + high + 1) / 2
            if blocks(holding: middle) <= blockCount { low = middle } else { high = middle - 1 }
        }
        return low
    }
}

/// One sequence's share of a step: compute `count` tokens starting at position `start`.
public struct ScheduledChunk: Sendable, Equatable {
    public let sequence: Int
    public let start: Int
    public let tokens: [Int]
    /// The sequence's block tables, one per KV group, each enough for `start + tokens.count`
    /// positions; -1 for a block a windowed group freed (no row of the chunk reads it).
    public let blockTables: [[Int]]
    /// Positions below this were the prompt when the sequence arrived (they keep the prompt's
    /// numerics when recomputed after a preemption).
    public let promptCount: Int
    /// The chunk reaches the end of the known tokens: the step yields this sequence's next-token
    /// logits and the engine samples (then calls `append` or `finish`).
    public let samples: Bool
    /// The last `draftCount` tokens are a draft proposed with `Scheduler.propose`, computed to be
    /// verified: the step yields logits for each of them and for the token before them.
    public let draftCount: Int

    public init(sequence: Int, start: Int, tokens: [Int], blockTables: [[Int]], promptCount: Int, samples: Bool,
                draftCount: Int = 0) {
        self.sequence = sequence
        self.start = start
        self.tokens = tokens
        self.blockTables = blockTables
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
