/// Iteration-level continuous batching, in the spirit of vLLM's scheduler: every `schedule()`
/// picks, under a token budget, which running sequences compute their next token(s) and which
/// waiting prompts are admitted (whole or a chunk); `complete(_:)` records what was computed;
/// `append`/`finish` apply what the engine sampled. KV memory is a pool of fixed-size blocks;
/// each sequence has a block table per KV group (`SchedulerConfiguration.groupReaches`), and a
/// sliding-window group's table gives up the blocks its window has passed. When the pool runs
/// out, a running sequence is preempted (its blocks freed, its tokens recomputed later) instead
/// of anything failing.
///
/// A pure state machine over integers: no model, no clock, no threads. The engine owns one and
/// calls it from its thread only.
public final class Scheduler {
    public let configuration: SchedulerConfiguration
    public private(set) var pool: BlockPool
    private var sequences: [Int: SequenceRecord] = [:]
    /// Admitted sequences in admission order (decodes are scheduled in this order).
    private var running: [Int] = []
    private var waiting: [Int] = []
    private var arrivals = 0
    private var prefixHitTokens = 0
    private var preemptions = 0

    public init(configuration: SchedulerConfiguration) {
        self.configuration = configuration
        pool = BlockPool(blockCount: configuration.blockCount)
    }

    // MARK: - Requests in and out

    /// Queues a sequence. A `sibling` (another choice of the same request, `n > 1`) waits until
    /// that sequence's prompt is computed and then shares its full prompt blocks. `adapter`
    /// (non-zero: a LoRA adapter's id) keys the prefix cache, since its KV differs for the same
    /// tokens, and counts against `maxAdapters`.
    public func add(id: Int, prompt: [Int], priority: Int = 0, sharingPromptWith sibling: Int? = nil, adapter: Int = 0) {
        precondition(sequences[id] == nil, "sequence \(id) added twice")
        precondition(!prompt.isEmpty, "empty prompt")
        arrivals += 1
        let record = SequenceRecord(id: id, tokens: prompt, priority: priority, arrival: arrivals, adapter: adapter,
                                    groups: configuration.groupReaches.count)
        if let sibling, let source = sequences[sibling], source.computed < source.promptCount {
            record.awaitedSibling = sibling
            source.siblings.append(id)
        }
        sequences[id] = record
        waiting.append(id)
    }

    /// The engine sampled `token` for `id` after a chunk with `samples == true`.
    public func append(id: Int, token: Int) { append(id: id, tokens: [token]) }

    /// The engine sampled `tokens`, in order, after a chunk with `samples == true`: one token, or
    /// after a chunk with a draft, the draft tokens it accepted and the one sampled after them.
    /// The KV of draft positions whose token was accepted is kept; the rest is rolled back (its
    /// blocks freed; prefix hashes cover prompt blocks only, so none changes).
    public func append(id: Int, tokens sampled: [Int]) {
        guard let r = sequences[id] else { return }
        let known = r.tokens.count
        r.tokens.append(contentsOf: sampled)
        if r.computed == known, !r.verifiedDraft.isEmpty {
            // The draft's KV is valid up to the first token that differs from what was sampled,
            // and never for the last sampled token (it has not been computed as an input yet).
            let kept = zip(r.verifiedDraft, sampled.dropLast()).prefix { $0 == $1 }.count
            r.computed += kept
        }
        r.verifiedDraft = []
        r.computed = min(r.computed, r.tokens.count - 1)
        let needed = (r.tokens.count + configuration.blockSize - 1) / configuration.blockSize
        for g in r.tables.indices {
            while r.tables[g].count > needed, let block = r.tables[g].popLast() {
                if block >= 0 { pool.release(block) }
            }
        }
    }

    /// Offers draft tokens to follow `id`'s known tokens (speculative decoding). The next
    /// `schedule()` computes as many of them as the row limit, budget and free blocks allow,
    /// after all other work; the draft is used once, then forgotten.
    public func propose(id: Int, draft: [Int]) {
        sequences[id]?.draft = draft
    }

    /// Removes a finished, failed or cancelled sequence and frees its blocks at once.
    public func finish(id: Int) {
        guard let record = sequences.removeValue(forKey: id) else { return }
        release(record)
        running.removeAll { $0 == id }
        waiting.removeAll { $0 == id }
        // Siblings still waiting for this prompt compute it themselves.
        for sibling in record.siblings { sequences[sibling]?.awaitedSibling = nil }
    }

    public func contains(_ id: Int) -> Bool { sequences[id] != nil }
    /// `id`'s block tables, one per KV group (-1: a block freed behind a window).
    public func blockTables(of id: Int) -> [[Int]]? { sequences[id]?.tables }
    /// Tokens known for `id` (prompt and sampled).
    public func tokenCount(of id: Int) -> Int? { sequences[id]?.tokens.count }
    /// `id` was admitted and holds its KV (it is not waiting or preempted).
    public func isRunning(_ id: Int) -> Bool { sequences[id]?.isRunning ?? false }
    public var waitingCount: Int { waiting.count }
    public var runningCount: Int { running.count }
    public var isIdle: Bool { sequences.isEmpty }

    public var statistics: SchedulerStatistics {
        SchedulerStatistics(waiting: waiting.count, running: running.count, usedBlocks: pool.usedCount,
                            totalBlocks: pool.blockCount, cachedBlocks: pool.cachedCount,
                            prefixHitTokens: prefixHitTokens, preemptions: preemptions)
    }

    // MARK: - One step

    /// Chooses the work of the next step. Running sequences come first (in admission order), so
    /// streams keep flowing; waiting prompts fill the rest of the budget, unless this step had to
    /// preempt (then memory is short and nothing new is admitted).
    public func schedule() -> SchedulerStep {
        var step = SchedulerStep()
        var budget = configuration.maxBatchedTokens
        var planned: [(id: Int, count: Int)] = []
        var index = 0
        while index < running.count, budget > 0 {
            let id = running[index]
            guard let record = sequences[id] else { index += 1; continue }
            let needed = record.tokens.count - record.computed
            let count = min(needed, budget)
            if needed == 0 || (!configuration.chunkedPrefill && count < needed) { index += 1; continue }
            var selfPreempted = false
            while !ensureBlocks(record, positions: record.computed + count) {
                if reclaimWaiting(except: id) { continue }
                guard let victim = preemptionVictim(), let position = running.firstIndex(of: victim) else { break }
                preempt(victim, in: &step)
                if position < index { index -= 1 }
                if let at = planned.firstIndex(where: { $0.id == victim }) {
                    budget += planned[at].count
                    planned.remove(at: at)
                }
                if victim == id { selfPreempted = true; break }
            }
            guard !selfPreempted else { continue }  // `running` shrank; same index is the next one
            planned.append((id, count))
            budget -= count
            index += 1
        }
        if step.preempted.isEmpty { admit(budget: &budget, planned: &planned) }
        let drafts = step.preempted.isEmpty ? scheduleDrafts(budget: budget, planned: planned) : [:]
        for (id, count) in planned {
            guard let r = sequences[id] else { continue }
            let end = r.computed + count
            let draft = drafts[id] ?? []
            step.chunks.append(ScheduledChunk(sequence: id, start: r.computed,
                                              tokens: Array(r.tokens[r.computed..<end]) + draft,
                                              blockTables: r.tables, promptCount: r.promptCount,
                                              samples: end == r.tokens.count, draftCount: draft.count))
        }
        for id in running { sequences[id]?.draft = [] }
        for id in waiting { sequences[id]?.draft = [] }
        return step
    }

    /// Drafts for sequences that sample in this step, in admission order, from what the budget
    /// and the row limit leave. A draft never preempts, waits for memory or evicts a cached
    /// prefix: it only takes free blocks that cache nothing, else it is dropped.
    private func scheduleDrafts(budget: Int, planned: [(id: Int, count: Int)]) -> [Int: [Int]] {
        let limit = configuration.speculativeRowLimit
        var rows = planned.reduce(0) { $0 + $1.count }
        var budget = budget
        var drafts: [Int: [Int]] = [:]
        for (id, count) in planned {
            let room = min(budget, limit - rows)
            guard room > 0 else { break }
            guard let r = sequences[id], !r.draft.isEmpty, r.computed + count == r.tokens.count else { continue }
            let draft = Array(r.draft.prefix(room))
            let size = configuration.blockSize
            let end = (r.tokens.count + draft.count + size - 1) / size
            let newBlocks = r.tables.reduce(0) { $0 + max(0, end - $1.count) }
            guard newBlocks <= pool.uncachedFreeCount, ensureBlocks(r, positions: r.tokens.count + draft.count) else { continue }
            drafts[id] = draft
            rows += draft.count
            budget -= draft.count
        }
        return drafts
    }

    /// Records that the step's chunks were computed: their KV is in the blocks. Full prompt
    /// blocks become reusable, and siblings waiting for a prompt now share it.
    public func complete(_ step: SchedulerStep) {
        for chunk in step.chunks {
            guard let r = sequences[chunk.sequence], r.computed == chunk.start else { continue }
            // Draft positions count as computed only once `append` says which were accepted.
            r.computed += chunk.count - chunk.draftCount
            r.verifiedDraft = Array(chunk.draft)
            registerFullPromptBlocks(r)
            if r.computed >= r.promptCount, !r.siblings.isEmpty {
                for sibling in r.siblings { sharePrompt(of: r, with: sibling) }
                r.siblings = []
            }
            freeBehindWindows(r)
        }
    }

    // MARK: - Internals

    /// Admits waiting sequences in policy order while the budget, the sequence limit and the pool allow.
    private func admit(budget: inout Int, planned: inout [(id: Int, count: Int)]) {
        var skipped = Set<Int>()
        // The first sequence held back by the adapter limit: adapter sequences that came after
        // it wait too, so the running adapters drain and it gets its turn (the base model's
        // sequences still pass).
        var heldBack: SequenceRecord?
        while budget > 0, running.count < configuration.maxRunningSequences,
              let id = nextWaiting(skipping: skipped) {
            guard let record = sequences[id] else { waiting.removeAll { $0 == id }; continue }
            if record.adapter != 0, configuration.maxAdapters > 0 {
                if let held = heldBack, precedes(held, record) {
                    skipped.insert(id)
                    continue
                }
                let active = Set(running.compactMap { sequences[$0]?.adapter }.filter { $0 != 0 })
                if !active.contains(record.adapter) && active.count >= configuration.maxAdapters {
                    skipped.insert(id)
                    heldBack = heldBack ?? record
                    continue
                }
            }
            if record.holdsNoBlocks, configuration.prefixCaching { reuseCachedPrefix(record) }
            let needed = record.tokens.count - record.computed
            let count = configuration.chunkedPrefill ? min(needed, budget) : needed
            if count > budget {
                // A whole prompt that does not fit waits for a step with room (first in line keeps its place).
                break
            }
            var fits = ensureBlocks(record, positions: record.computed + count)
            while !fits, reclaimWaiting(except: id) { fits = ensureBlocks(record, positions: record.computed + count) }
            guard fits else {
                // Not enough memory: give back what was taken and try again after others finish.
                releaseUncomputed(record)
                skipped.insert(id)
                break
            }
            waiting.removeAll { $0 == id }
            running.append(id)
            record.isRunning = true
            planned.append((id, count))
            budget -= count
        }
    }

    /// The best waiting sequence that may be admitted now.
    private func nextWaiting(skipping skipped: Set<Int>) -> Int? {
        var best: SequenceRecord?
        for id in waiting where !skipped.contains(id) {
            guard let r = sequences[id], r.awaitedSibling == nil else { continue }
            if let b = best, !precedes(r, b) { continue }
            best = r
        }
        return best?.id
    }

    private func precedes(_ a: SequenceRecord, _ b: SequenceRecord) -> Bool {
        if configuration.policy == .priority, a.priority != b.priority { return a.priority < b.priority }
        return a.arrival < b.arrival
    }

    /// The running sequence to give up first: the newest (fcfs), or the lowest priority then newest.
    private func preemptionVictim() -> Int? {
        var victim: SequenceRecord?
        for id in running {
            guard let r = sequences[id] else { continue }
            if let v = victim, precedes(r, v) { continue }
            victim = r
        }
        return victim?.id
    }

    private func preempt(_ id: Int, in step: inout SchedulerStep) {
        guard let r = sequences[id] else { return }
        release(r)
        r.computed = 0
        r.registeredBlocks = 0
        r.chain = r.chainStart
        r.isRunning = false
        r.draft = []
        r.verifiedDraft = []
        running.removeAll { $0 == id }
        waiting.append(id)
        step.preempted.append(id)
        preemptions += 1
    }

    /// Grows `r`'s block tables to hold `positions` tokens; false if the pool ran dry.
    private func ensureBlocks(_ r: SequenceRecord, positions: Int) -> Bool {
        let needed = (positions + configuration.blockSize - 1) / configuration.blockSize
        for g in r.tables.indices {
            while r.tables[g].count < needed {
                guard let block = pool.allocate() else { return false }
                r.tables[g].append(block)
            }
        }
        return true
    }

    /// Tail first (position by position across the groups), so that the head of a cached
    /// prefix (the part other prompts share) is the last of it to be evicted.
    private func release(_ r: SequenceRecord) {
        let longest = r.tables.map(\.count).max() ?? 0
        for index in stride(from: longest - 1, through: 0, by: -1) {
            for g in r.tables.indices where index < r.tables[g].count && r.tables[g][index] >= 0 {
                pool.release(r.tables[g][index])
            }
        }
        r.tables = r.tables.map { _ in [] }
        r.live = r.live.map { _ in 0 }
    }

    /// Frees the blocks of the newest waiting sequence that holds some: a sibling given its
    /// prompt's blocks, which in a windowed group may be the only holder of some once the
    /// source moves on. It computes them again when admitted (or finds them cached), so memory
    /// held by a sequence that cannot run never blocks one that can.
    /// - Returns: false when no waiting sequence but `except` holds blocks.
    private func reclaimWaiting(except: Int) -> Bool {
        for id in waiting.reversed() where id != except {
            guard let r = sequences[id], !r.isRunning, !r.holdsNoBlocks else { continue }
            releaseUncomputed(r)
            return true
        }
        return false
    }

    /// Drops the blocks of a sequence that never ran (prefix hits and fresh ones alike).
    private func releaseUncomputed(_ r: SequenceRecord) {
        guard !r.isRunning else { return }
        release(r)
        r.computed = 0
        r.registeredBlocks = 0
        r.chain = r.chainStart
    }

    /// How many leading blocks of `r` may come from or go to the prefix cache: full blocks of
    /// prompt positions only (generated positions are computed with decode numerics, which a
    /// prompt elsewhere would not reproduce), and never the block of the last prompt token, which
    /// the sequence computes itself to get its logits.
    private func shareableBlocks(_ r: SequenceRecord) -> Int { (r.promptCount - 1) / configuration.blockSize }

    private func reuseCachedPrefix(_ r: SequenceRecord) {
        let size = configuration.blockSize
        var keys: [BlockKey] = []
        var chain = r.chainStart
        // Keys are hashed as far as the search asks for them.
        func key(_ index: Int, group: Int) -> BlockKey {
            while keys.count <= index {
                let i = keys.count
                let key = BlockKey(prefix: chain, tokens: Array(r.tokens[i * size..<(i + 1) * size]))
                keys.append(key)
                chain = key.chained
            }
            return keys[index].inGroup(group)
        }
        let count = usablePrefix(shareableBlocks(r)) { pool.contains(key($1, group: $0)) }
        for g in r.tables.indices {
            let first = firstLiveBlock(group: g, position: count * size)
            r.tables[g] = (0..<count).map { index in
                guard index >= first else { return -1 }
                // `usablePrefix` found every one of these, and a lookup evicts nothing.
                guard let block = pool.lookup(key(index, group: g)) else { preconditionFailure("cached block vanished") }
                return block
            }
            r.live[g] = first
        }
        r.computed = count * size
        r.registeredBlocks = count
        r.chain = count == 0 ? r.chainStart : key(count - 1, group: 0).chained
        prefixHitTokens += r.computed
    }

    /// The most leading blocks, at most `limit`, that a sequence can take from elsewhere, when
    /// `available(group, index)` says which exist: all of them in full-attention groups, and
    /// in windowed groups those its window still reads from the first position after them.
    private func usablePrefix(_ limit: Int, available: (Int, Int) -> Bool) -> Int {
        var count = limit
        for g in configuration.groupReaches.indices where configuration.groupReaches[g] == nil {
            count = (0..<count).first { !available(g, $0) } ?? count
        }
        let windowed = configuration.groupReaches.indices.filter { configuration.groupReaches[$0] != nil }
        while count > 0, !windowed.allSatisfy({ g in
            (firstLiveBlock(group: g, position: count * configuration.blockSize)..<count).allSatisfy { available(g, $0) }
        }) {
            count -= 1
        }
        return count
    }

    /// The first block of `group` that rows from `position` on still read (0: full attention).
    private func firstLiveBlock(group: Int, position: Int) -> Int {
        guard let reach = configuration.groupReaches[group] else { return 0 }
        return max(0, position + 1 - reach) / configuration.blockSize
    }

    /// Frees the blocks of windowed groups that no row from `r.computed` on reads (a block
    /// the prefix cache registered stays cached until the pool reuses it). While siblings wait
    /// for the prompt, the blocks they will read from the end of its shareable part stay.
    private func freeBehindWindows(_ r: SequenceRecord) {
        let position = r.siblings.isEmpty ? r.computed : min(r.computed, shareableBlocks(r) * configuration.blockSize)
        for g in r.tables.indices {
            let end = min(firstLiveBlock(group: g, position: position), r.tables[g].count)
            while r.live[g] < end {
                let block = r.tables[g][r.live[g]]
                if block >= 0 { pool.release(block) }
                r.tables[g][r.live[g]] = -1
                r.live[g] += 1
            }
        }
    }

    private func registerFullPromptBlocks(_ r: SequenceRecord) {
        let size = configuration.blockSize
        let limit = min(shareableBlocks(r), r.computed / size, r.blockCount)
        while r.registeredBlocks < limit {
            let index = r.registeredBlocks
            let key = BlockKey(prefix: r.chain, tokens: Array(r.tokens[index * size..<(index + 1) * size]))
            if configuration.prefixCaching {
                for g in r.tables.indices where r.tables[g][index] >= 0 {
                    pool.register(key.inGroup(g), block: r.tables[g][index])
                }
            }
            r.chain = key.chained
            r.registeredBlocks += 1
        }
    }

    /// A sibling choice takes the prompt's shareable blocks by reference (in windowed groups,
    /// those its window still reads).
    private func sharePrompt(of source: SequenceRecord, with id: Int) {
        guard let sibling = sequences[id], sibling.holdsNoBlocks, !sibling.isRunning else { return }
        sibling.awaitedSibling = nil
        let size = configuration.blockSize
        let shared = usablePrefix(min(shareableBlocks(source), source.blockCount)) { source.tables[$0][$1] >= 0 }
        for g in sibling.tables.indices {
            let first = firstLiveBlock(group: g, position: shared * size)
            sibling.tables[g] = (0..<shared).map { i in
                guard i >= first else { return -1 }
                pool.retain(source.tables[g][i])
                return source.tables[g][i]
            }
            sibling.live[g] = first
        }
        sibling.computed = shared * size
        sibling.registeredBlocks = shared
        sibling.chain = (0..<shared).reduce(sibling.chainStart) { $0.appending(Array(sibling.tokens[$1 * size..<($1 + 1) * size])) }
        prefixHitTokens += sibling.computed
    }
}

/// The scheduler's view of one sequence.
final class SequenceRecord {
    let id: Int
    var tokens: [Int]
    let promptCount: Int
    let priority: Int
    let arrival: Int
    /// Positions whose KV is in the blocks.
    var computed = 0
    /// One block table per KV group, -1 for a block freed behind a window; and per group, the
    /// blocks before `live[g]` are freed.
    var tables: [[Int]]
    var live: [Int]
    /// Leading blocks already hashed (registered or looked up) and the chain hash after them.
    var registeredBlocks = 0
    /// The hash a prefix starts from: empty, or the adapter's.
    let chainStart: PrefixHash
    var chain: PrefixHash
    var isRunning = false
    /// Set while this sequence waits for a sibling's prompt to share.
    var awaitedSibling: Int?
    /// Siblings waiting for this sequence's prompt.
    var siblings: [Int] = []
    /// Draft tokens proposed for the next step, and those of the last step (computed, awaiting
    /// the engine's verdict in `append`).
    var draft: [Int] = []
    var verifiedDraft: [Int] = []

    /// The LoRA adapter (0: none).
    let adapter: Int

    init(id: Int, tokens: [Int], priority: Int, arrival: Int, adapter: Int, groups: Int) {
        self.adapter = adapter
        tables = Array(repeating: [], count: groups)
        live = Array(repeating: 0, count: groups)
        chainStart = adapter == 0 ? .empty : PrefixHash.empty.appending([-1, adapter])
        chain = chainStart
        self.id = id
        self.tokens = tokens
        promptCount = tokens.count
        self.priority = priority
        self.arrival = arrival
    }

    /// Blocks in each table (all tables grow and shrink together).
    var blockCount: Int { tables.map(\.count).min() ?? 0 }
    var holdsNoBlocks: Bool { tables.allSatisfy(\.isEmpty) }
}
