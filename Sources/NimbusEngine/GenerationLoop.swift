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
    private var logits: UnsafeMutablePointer<Float>
    private var requests: [ObjectIdentifier: ActiveRequest] = [:]
    private var owners: [Int: (request: ActiveRequest, choice: Int)] = [:]
    private var nextSequence = 0
    private(set) var statistics = EngineStatistics()

    init(model: LoadedModel, scheduler: SchedulerConfiguration, contextLength: Int) {
        self.model = model
        self.scheduler = Scheduler(configuration: scheduler)
        cache = model.model.makePagedCache(blockSize: scheduler.blockSize, blockCount: scheduler.blockCount)
        self.contextLength = contextLength
        vocabularySize = model.model.vocabularySize
        logits = .allocate(capacity: max(1, scheduler.maxRunningSequences) * vocabularySize)
        statistics.totalBlocks = scheduler.blockCount
        statistics.blockSize = scheduler.blockSize
    }

    deinit { logits.deallocate() }

    var isIdle: Bool { requests.isEmpty }

    /// Registers a request: one sequence per choice; choices after the first share its prompt.
    func admit(_ job: Job) {
        let request = ActiveRequest(job: job, tokenizer: model.tokenizer, vocabularySize: vocabularySize)
        requests[ObjectIdentifier(request)] = request
        var first: Int?
        for choice in 0..<job.request.choices {
            let id = nextSequence
            nextSequence += 1
            scheduler.add(id: id, prompt: job.request.prompt, priority: job.request.priority, sharingPromptWith: first)
            first = first ?? id
            request.sequences.append(id)
            owners[id] = (request, choice)
        }
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
            batch.sequences.append(ForwardBatch.Sequence(tokens: chunk.tokens, start: chunk.start, blockTable: chunk.blockTable,
                                                         batchedOrderBelow: promptOrder, wantsLogits: chunk.samples))
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
            defer { row += 1 }
            guard let owner = owners[chunk.sequence] else { continue }
            let buffer = UnsafeMutableBufferPointer(start: logits + row * vocabularySize, count: vocabularySize)
            let atEnd = chunk.start + chunk.count >= contextLength
            let request = owner.request
            let outcome = request.choices[owner.choice].accept(logits: buffer, atContextEnd: atEnd, tokenizer: model.tokenizer) {
                request.job.continuation.yield($0)
            }
            statistics.generatedTokens += 1
            switch outcome {
            case .next(let token):
                scheduler.append(id: chunk.sequence, token: token)
            case .finished:
                scheduler.finish(id: chunk.sequence)
                owners[chunk.sequence] = nil
                request.unfinished -= 1
                if request.unfinished == 0 { end(request, error: nil) }
            }
        }
        statistics.steps += 1
        statistics.lastStepTokens = plan.tokenCount
        return started
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
            owners[id] = nil
        }
        requests[ObjectIdentifier(request)] = nil
        request.job.continuation.finish(throwing: error)
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

    init(job: Job, tokenizer: any Tokenizer, vocabularySize: Int) {
        self.job = job
        choices = (0..<job.request.choices).map {
            ChoiceState(index: $0, request: job.request, tokenizer: tokenizer, vocabularySize: vocabularySize)
        }
        unfinished = job.request.choices
    }
}
