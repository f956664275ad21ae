import NimbusGrammar
import NimbusModels
import NimbusScheduler
import NimbusTokenizers

/// The engine thread's state: the scheduler, the KV pool, and every active request. One `step`
/// is one iteration of continuous batching: schedule, one batched forward pass, sample every
/// sequence that reached a new position, stream the results, free what finished.
final class GenerationLoop {
    let model: LoadedModel
    let scheduler: Scheduler
    let cache: any KVStorage
    let contextLength: Int
    private let vocabularySize: Int
    private let logits: any LogitStorage
    private var requests: [ObjectIdentifier: ActiveRequest] = [:]
    private var owners: [Int: (request: ActiveRequest, choice: Int)] = [:]
    private var nextSequence = 0
    private(set) var statistics = EngineStatistics()
    /// Request ids of the requests ended for a full backlog since the last `takeSlowConsumers`.
    private var slowConsumers: [String?] = []

    private let speculation: SpeculativeConfiguration
    /// One more row's cost in a step, measured from the steps that prefill nothing.
    private var stepCost: StepCost
    /// Events a consumer may leave unread (the streams' buffer size), for the error it gets.
    private let streamBacklog: Int
    private let draftModel: DraftModel?
    private let constraints: ConstraintIndexes

    init(model: LoadedModel, scheduler: SchedulerConfiguration, contextLength: Int,
         speculation: SpeculativeConfiguration = .off, draft: LoadedModel? = nil, streamBacklog: Int = 512) {
        self.model = model
        self.streamBacklog = streamBacklog
        self.scheduler = Scheduler(configuration: scheduler)
        cache = model.model.makePagedCache(blockSize: scheduler.blockSize, blockCount: scheduler.blockCount)
        self.contextLength = contextLength
        self.speculation = speculation
        stepCost = StepCost(configured: speculation.rowCost)
        vocabularySize = model.model.vocabularySize
        constraints = ConstraintIndexes(tokenizer: model.tokenizer, vocabularySize: vocabularySize)
        // One logit row per sampling sequence, plus one per draft token (within the row limit
        // and the step's token budget).
        let draftRows = min(scheduler.speculativeRowLimit, scheduler.maxBatchedTokens)
        let logitRows = max(1, scheduler.maxRunningSequences) + draftRows
        logits = model.model.makeLogitStorage(rows: logitRows)
        draftModel = speculation.method == .draftModel && speculation.isOn ? draft.map {
            // As many positions as the target's pool holds with every block kept.
            DraftModel(model: $0, blockSize: scheduler.blockSize,
                       positions: scheduler.blockCount / scheduler.groupReaches.count * scheduler.blockSize,
                       maxSequences: scheduler.maxRunningSequences)
        } : nil
        statistics.totalBlocks = scheduler.blockCount
        statistics.blockSize = scheduler.blockSize
    }

    var isIdle: Bool { requests.isEmpty }

    /// Registers a request: one sequence per choice; choices after the first share its prompt.
    /// - Returns: false when the request was refused (and its stream ended with the error).
    @discardableResult
    func admit(_ job: Job) -> Bool {
        var matcher: GrammarMatcher?
        if let constraint = job.request.constraint {
            do {
                matcher = try constraints.matcher(for: constraint)
            } catch {
                job.continuation.finish(throwing: EngineError.constraint("\(error)"))
                return false
            }
        }
        let request = ActiveRequest(job: job, tokenizer: model.tokenizer, vocabularySize: vocabularySize,
                                    speculation: speculation, matcher: matcher)
        requests[ObjectIdentifier(request)] = request
        var first: Int?
        for choice in 0..<job.request.choices {
            let id = nextSequence
            nextSequence += 1
            scheduler.add(id: id, prompt: job.request.prompt, priority: job.request.priority, sharingPromptWith: first,
                          adapter: job.request.adapter?.serial ?? 0)
            first = first ?? id
            request.sequences.append(id)
            owners[id] = (request, choice)
        }
        return true
    }

    /// Ends requests whose client went away; their blocks are free before the next step.
    /// - Returns: how many of them had not started (they leave the waiting count).
    func dropCancelled() -> Int {
        var unstarted = 0
        for request in requests.values where request.job.isCancelled {
            if !request.started { unstarted += 1 }
            end(request, error: nil)
        }
        return unstarted
    }

    /// One iteration. - Returns: requests that started in it (they leave the waiting count).
    func step() -> Int {
        proposeDrafts()
        let plan = scheduler.schedule()
        guard !plan.isEmpty else { return 0 }
        var started = 0
        // The step's start stands for "scheduled" for every request it starts (read once per step).
        var stepStart: ContinuousClock.Instant?
        var batch = ForwardBatch()
        batch.sequences.reserveCapacity(plan.chunks.count)
        for chunk in plan.chunks {
            // A one-token prompt is what llama.cpp decodes as a single token.
            let promptOrder = chunk.promptCount > 1 ? chunk.promptCount : 0
            // Draft positions lie past the prompt: they get decode numerics, so a verified token
            // is computed exactly as if it had been decoded alone.
            batch.sequences.append(ForwardBatch.Sequence(tokens: chunk.tokens, start: chunk.start, blockTables: chunk.blockTables,
                                                         batchedOrderBelow: promptOrder, logitRows: chunk.logitRows,
                                                         adapter: owners[chunk.sequence]?.request.job.request.adapter))
            if let owner = owners[chunk.sequence], !owner.request.started {
                owner.request.started = true
                started += 1
                if let timeline = owner.request.job.request.timeline {
                    let now = stepStart ?? .now
                    stepStart = now
                    timeline.markScheduled(at: now)
                }
            }
            if chunk.start < chunk.promptCount {
                statistics.promptTokensComputed += min(chunk.promptCount, chunk.start + chunk.count) - chunk.start
            }
        }
        // A step that prefills nothing is timed (forward pass and sampling) for `stepCost`.
        let decodesOnly = plan.chunks.allSatisfy { $0.start >= $0.promptCount }
        let forwardStart = ContinuousClock.now
        do {
            try model.model.forward(batch, cache: cache, logits: logits)
        } catch {
            // Shapes are validated before a request is accepted, so this is a bug; fail the
            // requests of this step and keep serving the others.
            for chunk in plan.chunks { if let owner = owners[chunk.sequence] { end(owner.request, error: .model(error)) } }
            return started
        }
        scheduler.complete(plan)
        var row = 0
        for chunk in plan.chunks where chunk.samples {
            defer { row += chunk.logitRows }
            guard let owner = owners[chunk.sequence] else { continue }
            sample(chunk, rows: row, request: owner.request, choice: owner.choice)
        }
        if decodesOnly {
            stepCost.record(rows: plan.tokenCount, seconds: (ContinuousClock.now - forwardStart).seconds)
            statistics.rowCost = stepCost.rowCost
        }
        for request in requests.values.filter(\.backlogged) { end(request, error: nil) }
        statistics.steps += 1
        statistics.lastStepTokens = plan.tokenCount
        return started
    }

    /// Samples a chunk's logit rows in order: the token after the known ones, then, while the
    /// sampled token equals the draft token in that place, the token after it. Sampling is what
    /// it would be without the draft (same sampler, same random stream, same history), so
    /// verification changes speed only: greedy output is identical, sampled output has the same
    /// distribution (for a draft that proposes one token, rejection sampling is exactly this).
    private func sample(_ chunk: ScheduledChunk, rows first: Int, request: ActiveRequest, choice: Int) {
        let draft = Array(chunk.draft)
        var sampled: [Int] = []
        var finished = false
        // Draft tokens compared with what was sampled in their place, and those that matched
        // (a choice that ends inside the draft leaves the rest unchecked).
        var checked = 0, accepted = 0
        for index in 0..<chunk.logitRows {
            let buffer = logits.hostRow(first + index)
            // The position the sampled token will occupy.
            let position = chunk.start + chunk.count - chunk.draftCount + index
            let outcome = request.choices[choice].accept(logits: buffer, atContextEnd: position + 1 >= contextLength,
                                                         tokenizer: model.tokenizer) {
                // A full buffer means the consumer stopped reading: the request ends after this step.
                if case .dropped = request.job.continuation.yield($0) { request.backlogged = true }
            }
            statistics.generatedTokens += 1
            let token = request.choices[choice].lastToken
            let matches = index < draft.count && token == draft[index]
            if index < draft.count {
                checked += 1
                if matches { accepted += 1 }
            }
            guard case .next = outcome else { finished = true; break }
            sampled.append(token)
            if !matches { break }
        }
        if checked > 0 {
            request.choices[choice].recordDraft(proposed: checked, accepted: accepted)
            statistics.drafts += 1
            statistics.draftTokens += checked
            statistics.acceptedDraftTokens += accepted
        }
        if finished {
            scheduler.finish(id: chunk.sequence)
            draftModel?.forget(chunk.sequence)
            owners[chunk.sequence] = nil
            request.unfinished -= 1
            if request.unfinished == 0 { end(request, error: nil) }
        } else {
            scheduler.append(id: chunk.sequence, tokens: sampled)
        }
    }

    /// Offers each running sequence's draft to the scheduler, unless the running sequences alone
    /// fill the rows drafts may use (then nothing would be scheduled).
    private func proposeDrafts() {
        guard scheduler.configuration.speculativeRowLimit > scheduler.runningCount else { return }
        var wanted: [DraftModel.Wanted] = []
        for (id, owner) in owners where scheduler.isRunning(id) {
            guard let known = scheduler.tokenCount(of: id) else { continue }
            let limit = contextLength - known - 1
            let choice = owner.choice
            if draftModel != nil {
                guard let (tokens, length) = owner.request.choices[choice].modelDraftRequest(limit: limit, rowCost: stepCost.rowCost) else { continue }
                let prompt = owner.request.choices[choice].promptCount
                wanted.append(.init(id: id, tokens: tokens, promptCount: prompt > 1 ? prompt : 0, length: length))
            } else {
                let draft = owner.request.choices[choice].draft(limit: limit, tokenizer: model.tokenizer, rowCost: stepCost.rowCost)
                if !draft.isEmpty { scheduler.propose(id: id, draft: draft) }
            }
        }
        guard let draftModel, !wanted.isEmpty else { return }
        for (id, draft) in draftModel.drafts(for: wanted.sorted { $0.id < $1.id }) { scheduler.propose(id: id, draft: draft) }
    }

    /// The requests ended for a full backlog since the last call (their ids, for the log).
    func takeSlowConsumers() -> [String?] {
        defer { slowConsumers = [] }
        return slowConsumers
    }

    func refreshStatistics(waitingRequests: Int) {
        let s = scheduler.statistics
        statistics.waitingRequests = waitingRequests
        statistics.runningSequences = s.running
        statistics.usedBlocks = s.usedBlocks
        statistics.prefixHitTokens = s.prefixHitTokens
        statistics.preemptions = s.preemptions
    }

    /// Frees every sequence of `request` and closes its stream.
    private func end(_ request: ActiveRequest, error: EngineError?) {
        for id in request.sequences {
            scheduler.finish(id: id)
            draftModel?.forget(id)
            owners[id] = nil
        }
        requests[ObjectIdentifier(request)] = nil
        if request.backlogged {
            statistics.slowConsumerCancels += 1
            slowConsumers.append(request.job.request.requestID)
        }
        // An event was lost to a full buffer: even a finished answer is incomplete.
        request.job.continuation.finish(throwing: request.backlogged ? .slowConsumer(backlog: request.job.request.streamBacklog(perChoice: streamBacklog)) : error)
    }
}

/// A request the loop is working on.
final class ActiveRequest {
    let job: Job
    var choices: [ChoiceState]
    var sequences: [Int] = []
    var unfinished: Int
    /// Some sequence of it has been scheduled.
    var started = false
    /// Its consumer left the stream's whole buffer unread and an event was dropped.
    var backlogged = false

    init(job: Job, tokenizer: any Tokenizer, vocabularySize: Int, speculation: SpeculativeConfiguration,
         matcher: GrammarMatcher?) {
        self.job = job
        choices = (0..<job.request.choices).map {
            ChoiceState(index: $0, request: job.request, tokenizer: tokenizer, vocabularySize: vocabularySize,
                        speculation: speculation, matcher: matcher)
        }
        unfinished = job.request.choices
    }
}
