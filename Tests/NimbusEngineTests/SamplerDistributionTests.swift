import Testing
@testable import NimbusEngine

@Suite struct SamplerDistributionTests {
    static let randomLogits: [Float] = {
        var rng = Xoshiro256StarStar(seed: 99)
        return (0..<50).map { _ in Float(rng.nextUnitDouble() * 8 - 4) }
    }()

    static func sequence(seed: UInt64, draws: Int, parameters: SamplingParameters = SamplingParameters()) -> [Int] {
        var p = parameters
        p.seed = seed
        var sampler = Sampler(parameters: p, vocabularySize: randomLogits.count)
        return (0..<draws).map { _ in
            var copy = randomLogits
            return sampler.sample(logits: &copy).id
        }
    }

    @Test func sameSeedSameSequence() {
        let a = Self.sequence(seed: 1234, draws: 1_000)
        let b = Self.sequence(seed: 1234, draws: 1_000)
        #expect(a == b)
        let filtered = SamplingParameters(temperature: 0.7, topP: 0.9, topK: 20, minP: 0.01)
        #expect(Self.sequence(seed: 5, draws: 1_000, parameters: filtered) == Self.sequence(seed: 5, draws: 1_000, parameters: filtered))
    }

    @Test func differentSeedsDiffer() {
        let a = Self.sequence(seed: 1, draws: 1_000)
        let b = Self.sequence(seed: 2, draws: 1_000)
        #expect(a != b)
        // Not just shifted by a few: most positions differ for a 50-token spread.
        #expect(zip(a, b).filter { $0 != $1 }.count > 500)
    }

    /// 20,000 draws: each count is binomial with sd sqrt(n p (1 - p)) <= 71, so 5 sd on every
    /// token is a bound a correct sampler misses with probability below 1e-5 per seed (and the
    /// seed is fixed, so the test is deterministic); a wrong temperature or an off-by-one in the
    /// CDF walk moves some count by far more.
    static func expectMatchesSoftmax(_ logits: [Float], temperature: Float) {
        let n = 20_000
        let counts = histogram(logits, parameters: SamplingParameters(temperature: temperature, seed: 2024), draws: n)
        let expected = referenceSoftmax(logits, temperature: Double(temperature))
        for (i, p) in expected.enumerated() {
            let sd = (Double(n) * p * (1 - p)).squareRoot()
            #expect(abs(Double(counts[i]) - Double(n) * p) <= 5 * sd + 1, "token \(i): \(counts[i]) vs \(Double(n) * p)")
        }
    }

    @Test func temperatureOneMatchesSoftmax() {
        Self.expectMatchesSoftmax([1.0, 0.5, 0.0, -0.5, 2.0], temperature: 1)
    }

    @Test func temperatureScalesLogits() {
        Self.expectMatchesSoftmax([1.0, 0.5, 0.0, -0.5, 2.0], temperature: 0.5)
        Self.expectMatchesSoftmax([1.0, 0.5, 0.0, -0.5, 2.0], temperature: 2)
    }

    @Test func topKNeverLeavesTopK() {
        let logits = Self.randomLogits
        let ranked = logits.indices.sorted { logits[$0] > logits[$1] }
        let allowed = Set(ranked.prefix(2))
        let counts = histogram(logits, parameters: SamplingParameters(temperature: 1.5, topK: 2, seed: 11), draws: 3_000)
        for i in logits.indices where !allowed.contains(i) { #expect(counts[i] == 0) }
        for i in allowed { #expect(counts[i] > 0) }
    }

    @Test func topKOneIsGreedy() {
        let counts = histogram(Self.randomLogits, parameters: SamplingParameters(temperature: 5, topK: 1, seed: 1), draws: 200)
        let best = Self.randomLogits.indices.max { Self.randomLogits[$0] < Self.randomLogits[$1] } ?? -1
        #expect(counts[best] == 200)
    }

    @Test func topPKeepsSmallestSetReachingP() {
        // Probabilities 0.1, 0.4, 0.2, 0.3: the smallest set reaching 0.5 is {1, 3} (0.4 + 0.3).
        let probs = [0.1, 0.4, 0.2, 0.3]
        let logits = probs.map { Float(_log($0)) }
        let n = 10_000
        let counts = histogram(logits, parameters: SamplingParameters(topP: 0.5, seed: 8), draws: n)
        #expect(counts[0] == 0)
        #expect(counts[2] == 0)
        // Renormalised inside the nucleus: 4/7 and 3/7, sd about 50 draws.
        #expect(abs(Double(counts[1]) - Double(n) * 4 / 7) < 250)
        #expect(abs(Double(counts[3]) - Double(n) * 3 / 7) < 250)
    }

    @Test func topPSingleTokenWhenItAloneReachesP() {
        let logits = [0.6, 0.25, 0.15].map { Float(_log($0)) }
        let counts = histogram(logits, parameters: SamplingParameters(topP: 0.55, seed: 4), draws: 500)
        #expect(counts == [500, 0, 0])
    }

    @Test func minPDropsTokensBelowFractionOfMax() {
        // Threshold 0.2 * 0.5 = 0.1: token 3 (0.05) goes, token 2 (0.15) stays.
        let logits = [0.5, 0.3, 0.15, 0.05].map { Float(_log($0)) }
        let n = 10_000
        let counts = histogram(logits, parameters: SamplingParameters(minP: 0.2, seed: 21), draws: n)
        #expect(counts[3] == 0)
        let kept = [0.5, 0.3, 0.15].map { $0 / 0.95 }
        for i in 0..<3 {
            let sd = (Double(n) * kept[i] * (1 - kept[i])).squareRoot()
            #expect(abs(Double(counts[i]) - Double(n) * kept[i]) <= 5 * sd)
        }
    }

    @Test func topPThenMinP() {
        // Nucleus for 0.9 is {0, 1, 2}; min-p 0.5 (threshold 0.25) then leaves {0, 1}.
        let logits = [0.5, 0.3, 0.15, 0.05].map { Float(_log($0)) }
        let counts = histogram(logits, parameters: SamplingParameters(topP: 0.9, minP: 0.5, seed: 2), draws: 4_000)
        #expect(counts[2] == 0 && counts[3] == 0)
        #expect(counts[0] > 0 && counts[1] > 0)
    }

    @Test func largeVocabularyTopPStaysInNucleus() {
        // 4,096 tokens, a few strong ones over a flat floor: the sampled ids must lie in the
        // nucleus computed here by a full sort in Double.
        var rng = Xoshiro256StarStar(seed: 77)
        var logits = (0..<4_096).map { _ in Float(rng.nextUnitDouble() * 2) }
        for i in stride(from: 100, to: 4_096, by: 517) { logits[i] = 9 + Float(i % 7) * 0.1 }
        let temperature = 0.7
        let probs = referenceSoftmax(logits, temperature: temperature)
        let order = probs.indices.sorted { probs[$0] > probs[$1] || (probs[$0] == probs[$1] && $0 < $1) }
        var nucleus = Set<Int>()
        var mass = 0.0
        for i in order where mass < 0.9 { nucleus.insert(i); mass += probs[i] }
        let counts = histogram(logits, parameters: SamplingParameters(temperature: Float(temperature), topP: 0.9, seed: 3), draws: 2_000)
        for i in logits.indices where counts[i] > 0 { #expect(nucleus.contains(i), "token \(i) outside the nucleus") }
    }

    @Test func allBannedFallsBackToLowestId() {
        var logits: [Float] = [1, 2]
        var sampler = Sampler(parameters: SamplingParameters(logitBias: [0: -.infinity, 1: -.infinity], seed: 1), vocabularySize: 2)
        #expect(sampler.sample(logits: &logits).id == 0)
    }

    @Test func growsForLargerVocabulary() {
        var sampler = Sampler(parameters: SamplingParameters(topK: 3, seed: 1), vocabularySize: 2)
        var logits: [Float] = [0, 0, 0, 0, 50, 0, 0, 0]
        #expect(sampler.sample(logits: &logits).id == 4)
    }
}
