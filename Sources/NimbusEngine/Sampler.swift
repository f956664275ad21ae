/// Picks the next token from a logit vector; one per sequence, owning its random generator
/// (as llama2.c's sampler does) so that a seeded run is reproducible on any machine.
///
/// Order of operations in `sample(logits:history:)`:
/// 1. logprobs (if requested) are taken from the *raw* logits, i.e. the log-softmax of the
///    model's output before anything below (vLLM's default `raw_logprobs`); the top
///    alternatives come from the same raw distribution.
/// 2. `logitBias` is added.
/// 3. Penalties: first the repetition penalty over prompt + generated tokens (a positive logit
///    is divided by it, a negative one multiplied), then presence/frequency over generated
///    tokens: `logit -= count * frequency + (count > 0 ? presence : 0)`.
/// 4. Greedy (`temperature <= 0`): argmax, ties to the lowest id; no random draw is consumed.
/// 5. Otherwise: top-k on the logits → temperature → softmax → top-p → min-p → one draw from
///    the generator (exactly one 64-bit output per sampled token).
///
/// On return `logits` holds the biased and penalised logits (temperature is not applied in
/// place), so callers must not reuse them as raw model output.
///
/// Cost per call: O(vocabulary) passes with no allocation (scratch buffers live here and grow
/// only if a larger vocabulary appears), O(history) for penalties, and sorting only the
/// tokens that can still be in the nucleus.
public struct Sampler: Sendable {
    public let parameters: SamplingParameters
    private var rng: Xoshiro256StarStar
    /// Logit bias sorted by id, without ids that can never be valid.
    private let bias: [IdValue]
    /// Candidate ids and their logits or unnormalised probabilities: top-k heap, survivors.
    var candidateIds: [Int32]
    var candidateKeys: [Float]
    /// Unnormalised probabilities when drawing over the whole vocabulary.
    private var weights: [Float]
    /// Raw logits overwritten by bias or penalties, kept only when logprobs are requested.
    private var overwritten: [IdValue]

    struct IdValue: Sendable {
        var id: Int
        var value: Float
    }

    /// - Parameters:
    ///   - parameters: the request's sampling parameters.
    ///   - vocabularySize: the logit count expected; scratch buffers are sized for it.
    public init(parameters: SamplingParameters, vocabularySize: Int) {
        self.parameters = parameters
        rng = parameters.seed.map { Xoshiro256StarStar(seed: $0) } ?? Xoshiro256StarStar()
        bias = parameters.logitBias
            .filter { $0.key >= 0 && $0.key <= Int(Int32.max) }
            .map { IdValue(id: $0.key, value: $0.value) }
            .sorted { $0.id < $1.id }
        let capacity = max(vocabularySize, 1)
        candidateIds = Array(repeating: 0, count: capacity)
        candidateKeys = Array(repeating: 0, count: capacity)
        weights = Array(repeating: 0, count: capacity)
        overwritten = []
        overwritten.reserveCapacity(64)
    }

    /// Chooses one token.
    /// - Parameters:
    ///   - logits: the model's logits for the next position; modified in place (see above).
    ///   - history: prompt and generated tokens so far, for the penalties.
    /// - Returns: the token, with logprobs when `parameters.logprobs` is set.
    public mutating func sample(logits: UnsafeMutableBufferPointer<Float>, history: TokenHistory = TokenHistory()) -> SampledToken {
        precondition(!logits.isEmpty, "Sampler.sample needs at least one logit")
        let n = logits.count
        if candidateIds.count < n {
            candidateIds = Array(repeating: 0, count: n)
            candidateKeys = Array(repeating: 0, count: n)
            weights = Array(repeating: 0, count: n)
        }

        var raw: RawLogprobs?
        if let wanted = parameters.logprobs {
            raw = rawLogprobs(UnsafeBufferPointer(logits), top: max(0, wanted))
            overwritten.removeAll(keepingCapacity: true)
        }
        let record = raw != nil
        applyBias(logits, record: record)
        applyPenalties(logits, history: history, record: record)

        let id: Int
        if parameters.isGreedy {
            id = Self.argmax(UnsafeBufferPointer(logits))
        } else {
            id = draw(UnsafeBufferPointer(logits))
        }

        guard let raw else { return SampledToken(id: id) }
        // The first record of an id holds its value before any change.
        let rawLogit = overwritten.first(where: { $0.id == id })?.value ?? logits[id]
        return SampledToken(id: id, logprob: rawLogit - raw.logSumExp, topLogprobs: raw.top)
    }

    /// Convenience for arrays; same semantics as the buffer version.
    public mutating func sample(logits: inout [Float], history: TokenHistory = TokenHistory()) -> SampledToken {
        logits.withUnsafeMutableBufferPointer { sample(logits: $0, history: history) }
    }

    // MARK: - Bias and penalties

    private mutating func applyBias(_ logits: UnsafeMutableBufferPointer<Float>, record: Bool) {
        for entry in bias where entry.id < logits.count {
            if record { overwritten.append(IdValue(id: entry.id, value: logits[entry.id])) }
            logits[entry.id] += entry.value
        }
    }

    private mutating func applyPenalties(_ logits: UnsafeMutableBufferPointer<Float>, history: TokenHistory, record: Bool) {
        let repetition = parameters.repetitionPenalty
        if repetition != 1 && repetition > 0 {
            for id in history.seen where id >= 0 && id < logits.count {
                if record { overwritten.append(IdValue(id: id, value: logits[id])) }
                let v = logits[id]
                logits[id] = v > 0 ? v / repetition : v * repetition
            }
        }
        let presence = parameters.presencePenalty
        let frequency = parameters.frequencyPenalty
        if presence != 0 || frequency != 0 {
            for (id, count) in history.generatedCounts where count > 0 && id >= 0 && id < logits.count {
                if record { overwritten.append(IdValue(id: id, value: logits[id])) }
                logits[id] -= Float(count) * frequency + presence
            }
        }
    }

    // MARK: - Selection

    /// Index of the largest logit, ties to the lowest index; NaN never wins (all NaN: 0).
    static func argmax(_ logits: UnsafeBufferPointer<Float>) -> Int {
        LogitKernels.firstIndex(of: LogitKernels.maximum(logits), in: logits) ?? 0
    }

    /// Top-k, then the temperature/softmax/top-p/min-p draw over what is left.
    private mutating func draw(_ logits: UnsafeBufferPointer<Float>) -> Int {
        // Draw first so every non-greedy call consumes exactly one output, whatever the path.
        let u = rng.nextUnitDouble()
        let n = logits.count
        let k = parameters.topK
        let limitK = k > 0 && k < n
        let settings = DrawSettings(parameters)
        return candidateIds.withUnsafeMutableBufferPointer { ids in
            candidateKeys.withUnsafeMutableBufferPointer { keys in
                weights.withUnsafeMutableBufferPointer { weights in
                    guard let ids = ids.baseAddress, let keys = keys.baseAddress, let weights = weights.baseAddress else {
                        return 0
                    }
                    if limitK {
                        let count = TopSelection.select(k, from: logits, ids: ids, keys: keys)
                        // Survivors are compacted in place: survivor s is written only after candidate s was read.
                        let values = UnsafeBufferPointer(start: UnsafePointer(keys), count: count)
                        return Self.drawFrom(
                            values, ids: UnsafePointer(ids), settings: settings, u: u,
                            survivorIds: ids, survivorKeys: keys, weights: weights
                        )
                    }
                    return Self.drawFrom(
                        logits, ids: nil, settings: settings, u: u,
                        survivorIds: ids, survivorKeys: keys, weights: weights
                    )
                }
            }
        }
    }
}
