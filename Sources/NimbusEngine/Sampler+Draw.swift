/// The temperature → softmax → top-p → min-p → draw stage of `Sampler`.
extension Sampler {
    /// Parameters of the draw, clamped once per call.
    struct DrawSettings {
        var inverseTemperature: Float
        var topP: Float
        var minP: Float

        init(_ parameters: SamplingParameters) {
            inverseTemperature = 1 / parameters.temperature
            topP = parameters.topP
            // min-p is relative to the most likely token, so anything above 1 keeps just that one.
            minP = min(parameters.minP, 1)
        }
    }

    /// Draws one candidate given uniform `u` in [0, 1).
    ///
    /// Works on unnormalised probabilities `e = exp((logit - max) / T)`, so the most likely
    /// candidate has exactly `e = 1` and min-p is simply `e >= minP`. Top-p needs the
    /// candidates sorted, but only those that can be in the nucleus are: a token with
    /// probability below `(1 - topP) / (c - 1)` cannot be (all such tokens together hold less
    /// than `1 - topP`, so the others already reach `topP`) — the llama2.c bound. Because the
    /// nucleus and the min-p set are both prefixes of the sorted order, applying top-p and then
    /// min-p is the shorter of the two prefixes.
    ///
    /// - Parameters:
    ///   - values: candidate logits; `ids` gives their token ids, or nil when index = id.
    ///   - survivorIds, survivorKeys: scratch for the survivors of the cut, may alias `ids`/`values`
    ///     (survivor `s` is written only after candidate `s` was read).
    ///   - weights: scratch of at least `values.count` floats.
    /// - Returns: the chosen token id.
    static func drawFrom(
        _ values: UnsafeBufferPointer<Float>,
        ids: UnsafePointer<Int32>?,
        settings: DrawSettings,
        u: Double,
        survivorIds: UnsafeMutablePointer<Int32>,
        survivorKeys: UnsafeMutablePointer<Float>,
        weights: UnsafeMutablePointer<Float>
    ) -> Int {
        let c = values.count
        @inline(__always) func id(_ j: Int) -> Int { ids.map { Int($0[j]) } ?? j }

        let maxValue = LogitKernels.maximum(values)
        if maxValue == .infinity || maxValue == -.infinity {
            // +inf: a forced token (exp would give NaN); -inf: everything banned or NaN.
            // Either way the answer is the argmax, ties to the lowest id.
            return bestCandidate(values, ids: ids)
        }
        let invT = settings.inverseTemperature
        let useTopP = settings.topP < 1 && c > 1
        let useMinP = settings.minP > 0

        if !useTopP && !useMinP {
            let total = LogitKernels.exponentiate(values, maxValue: maxValue, scale: invT, into: weights)
            return id(LogitKernels.pick(u * total, weights: weights, count: c))
        }

        // (1 - topP) / (c - 1) as a fraction of the total; topP <= 0 keeps only the top token.
        let cutFraction = useTopP ? (1 - settings.topP) / Float(c - 1) : 0
        // The total is at least 1 (the top token's e), so this lower bound never cuts a survivor.
        let provisional = min(max(settings.minP, cutFraction), 1)
        let (total, survivors) = LogitKernels.exponentiate(
            values, ids: ids, maxValue: maxValue, scale: invT, keepingAtLeast: provisional,
            survivorIds: survivorIds, survivorKeys: survivorKeys
        )
        let threshold = min(max(settings.minP, cutFraction * Float(total)), 1)
        var kept = 0
        for s in 0..<survivors where survivorKeys[s] >= threshold {
            survivorIds[kept] = survivorIds[s]
            survivorKeys[kept] = survivorKeys[s]
            kept += 1
        }
        TopSelection.sortBestFirst(count: kept, ids: survivorIds, keys: survivorKeys)

        var length = kept
        if useTopP {
            let target = Double(settings.topP) * total
            var cumulative = 0.0
            for s in 0..<kept {
                cumulative += Double(survivorKeys[s])
                if cumulative >= target {
                    length = s + 1
                    break
                }
            }
        }
        // Summed as `pick` will walk it.
        var mass = 0.0
        var s = 0
        while s + 8 <= length {
            mass += Double(LogitKernels.fold(LogitKernels.load(survivorKeys, s)))
            s += 8
        }
        while s < length {
            mass += Double(survivorKeys[s])
            s += 1
        }
        let chosen = LogitKernels.pick(u * mass, weights: survivorKeys, count: length)
        return Int(survivorIds[chosen])
    }

    /// Argmax over candidates, ties to the lowest token id.
    private static func bestCandidate(_ values: UnsafeBufferPointer<Float>, ids: UnsafePointer<Int32>?) -> Int {
        guard let ids else { return argmax(values) }
        var best = 0
        for j in 1..<values.count {
            let a = TopSelection.key(values[j])
            let b = TopSelection.key(values[best])
            if a > b || (a == b && ids[j] < ids[best]) { best = j }
        }
        return Int(ids[best])
    }
}
