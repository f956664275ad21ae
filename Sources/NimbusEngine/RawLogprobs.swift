/// The raw distribution's normaliser and top alternatives, taken before the logits change.
struct RawLogprobs {
    var logSumExp: Float
    var top: [SampledToken.Alternative]
}

extension Sampler {
    /// log-sum-exp of the raw logits (accumulated in Double) and their `top` best entries.
    mutating func rawLogprobs(_ logits: UnsafeBufferPointer<Float>, top: Int) -> RawLogprobs {
        let maxValue = LogitKernels.maximum(logits)
        var logSumExp = maxValue
        if maxValue.isFinite {
            let sum = LogitKernels.sumExp(logits, maxValue: maxValue)
            logSumExp = Float(Double(maxValue) + SamplingMath.log(sum))
        }
        guard top > 0 else { return RawLogprobs(logSumExp: logSumExp, top: []) }
        let alternatives = candidateIds.withUnsafeMutableBufferPointer { ids in
            candidateKeys.withUnsafeMutableBufferPointer { keys -> [SampledToken.Alternative] in
                guard let ids = ids.baseAddress, let keys = keys.baseAddress else { return [] }
                let count = TopSelection.select(top, from: logits, ids: ids, keys: keys)
                TopSelection.sortBestFirst(count: count, ids: ids, keys: keys)
                return (0..<count).map { SampledToken.Alternative(id: Int(ids[$0]), logprob: keys[$0] - logSumExp) }
            }
        }
        return RawLogprobs(logSumExp: logSumExp, top: alternatives)
    }
}
