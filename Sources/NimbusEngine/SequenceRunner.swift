import NimbusModels
import NimbusTokenizers

/// Runs one job on the engine thread: prefill the prompt once, then decode each choice.
///
/// Owns the logits buffer; like the model, it is only ever used by the engine thread.
final class SequenceRunner {
    let model: LoadedModel
    let contextLength: Int
    private var logits: [Float]

    init(model: LoadedModel, contextLength: Int) {
        self.model = model
        self.contextLength = contextLength
        logits = [Float](repeating: 0, count: model.model.vocabularySize)
    }

    /// Runs the job's choices, yielding their events; the caller finishes the stream.
    /// - Returns: the error that ended the job early, if any.
    func run(_ job: Job) -> EngineError? {
        let request = job.request
        guard !job.isCancelled else { return nil }
        let capacity = min(request.prompt.count + request.maxTokens, contextLength)
        let prefill = model.model.makeCache(capacity: capacity)
        do {
            try logits.withUnsafeMutableBufferPointer { buffer throws(ModelError) in
                try model.model.forward(tokens: request.prompt, cache: prefill, logits: buffer)
            }
        } catch {
            return .model(error)
        }
        let promptLogits = logits
        // Choices share the prompt's prefill; each gets its own copy of the cache.
        for choice in 0..<request.choices {
            guard !job.isCancelled else { break }
            let cache = choice == request.choices - 1 ? prefill : prefill.copy()
            logits = promptLogits
            do {
                try decode(job, choice: choice, cache: cache)
            } catch {
                return .model(error)
            }
        }
        return nil
    }

    private func decode(_ job: Job, choice: Int, cache: KVCache) throws(ModelError) {
        let request = job.request
        var sampling = request.sampling
        // Choices of a seeded request must differ from one another yet stay reproducible.
        if let seed = sampling.seed { sampling.seed = seed &+ UInt64(choice) }
        var sampler = Sampler(parameters: sampling, vocabularySize: model.model.vocabularySize)
        var history = TokenHistory(prompt: request.prompt)
        var detokenizer = StreamingDetokenizer(tokenizer: model.tokenizer)
        var stops = StopSequenceMatcher(stops: request.stop)
        let endOfGeneration = model.tokenizer.endOfGenerationTokenIDs
        let wantsLogprobs = sampling.logprobs != nil
        var generated = 0

        func finish(_ reason: StopReason) {
            let rest = stops.append(detokenizer.flush()).emit + stops.flush()
            if !rest.isEmpty { job.continuation.yield(.text(choice: choice, text: rest)) }
            job.continuation.yield(.finished(choice: choice, reason: reason, completionTokens: generated))
        }

        while !job.isCancelled {
            let sampled = logits.withUnsafeMutableBufferPointer { sampler.sample(logits: $0, history: history) }
            generated += 1
            history.append(sampled.id)
            let isEnd = endOfGeneration.contains(sampled.id) && !request.ignoreEOS
            let piece = isEnd ? "" : detokenizer.append(sampled.id)
            let (emit, stopped) = stops.append(piece)
            job.continuation.yield(.token(choice: choice, text: emit, token: describe(sampled, withText: wantsLogprobs)))
            if isEnd || stopped { return finish(.stop) }
            if generated >= request.maxTokens || cache.count >= cache.capacity { return finish(.length) }
            try logits.withUnsafeMutableBufferPointer { buffer throws(ModelError) in
                try model.model.forward(tokens: [sampled.id], cache: cache, logits: buffer)
            }
        }
    }

    /// The token as the API reports it; its text and bytes are only looked up when the request
    /// asked for logprobs (the per-token path stays lean otherwise).
    private func describe(_ sampled: SampledToken, withText: Bool) -> GeneratedToken {
        guard withText else {
            return GeneratedToken(id: sampled.id, text: "", bytes: [], logprob: sampled.logprob, topLogprobs: [])
        }
        let tokenizer = model.tokenizer
        func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }
        let bytes = tokenizer.tokenBytes(sampled.id)
        return GeneratedToken(
            id: sampled.id, text: text(bytes), bytes: bytes, logprob: sampled.logprob,
            topLogprobs: sampled.topLogprobs.map { alt in
                let b = tokenizer.tokenBytes(alt.id)
                return .init(id: alt.id, text: text(b), bytes: b, logprob: alt.logprob)
            })
    }
}
