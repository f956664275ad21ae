import Testing
@testable import NimbusEngine

@Suite struct SamplerGreedyTests {
    @Test func greedyPicksArgmax() {
        var logits: [Float] = [0.1, -2, 3.5, 3.4, 0]
        var sampler = Sampler(parameters: .greedy, vocabularySize: logits.count)
        #expect(sampler.sample(logits: &logits).id == 2)
    }

    @Test func greedyTiesGoToLowestId() {
        var logits: [Float] = [1, 5, 3, 5, 5]
        var sampler = Sampler(parameters: .greedy, vocabularySize: logits.count)
        #expect(sampler.sample(logits: &logits).id == 1)
    }

    @Test func greedyIgnoresNaN() {
        var logits: [Float] = [.nan, 1, .nan, 2, .nan]
        var sampler = Sampler(parameters: .greedy, vocabularySize: logits.count)
        #expect(sampler.sample(logits: &logits).id == 3)
    }

    @Test func negativeBiasBansToken() {
        let logits: [Float] = [0.3, 2.0, -1.0, 1.5, 0.0]
        var banned = SamplingParameters.greedy
        banned.logitBias = [1: -100]
        var greedy = Sampler(parameters: banned, vocabularySize: logits.count)
        var copy = logits
        #expect(greedy.sample(logits: &copy).id == 3)

        banned.temperature = 1
        banned.seed = 7
        #expect(histogram(logits, parameters: banned, draws: 2_000)[1] == 0)
    }

    @Test func positiveBiasForcesToken() {
        let logits: [Float] = [0.3, 2.0, -1.0, 1.5, 0.0]
        let forced = SamplingParameters(temperature: 1, logitBias: [2: 100], seed: 3)
        let counts = histogram(logits, parameters: forced, draws: 2_000)
        #expect(counts[2] == 2_000)
    }

    @Test func biasOutsideVocabularyIsIgnored() {
        var logits: [Float] = [0, 1]
        var sampler = Sampler(parameters: SamplingParameters(temperature: 0, logitBias: [-1: 100, 7: 100]), vocabularySize: 2)
        #expect(sampler.sample(logits: &logits).id == 1)
    }
}

@Suite struct SamplerPenaltyTests {
    /// The documented formula, applied by hand.
    static func expected(
        _ raw: [Float], bias: [Int: Float], prompt: [Int], generated: [Int],
        repetition: Double, presence: Double, frequency: Double
    ) -> [Double] {
        var seen = Set(prompt)
        var counts: [Int: Int] = [:]
        for t in generated { counts[t, default: 0] += 1; seen.insert(t) }
        return raw.indices.map { i in
            var v = Double(raw[i]) + Double(bias[i] ?? 0)
            if seen.contains(i) { v = v > 0 ? v / repetition : v * repetition }
            let c = counts[i] ?? 0
            v -= Double(c) * frequency + (c > 0 ? presence : 0)
            return v
        }
    }

    @Test func penaltiesFollowFormula() {
        let raw: [Float] = [2.0, -1.0, 0.5, 3.0, -2.0, 0.0, 1.25]
        let prompt = [0, 1, 6]
        let generated = [1, 2, 2, 4, 2]
        let bias: [Int: Float] = [3: -0.5, 2: 0.25]
        let parameters = SamplingParameters(
            temperature: 0, presencePenalty: 0.4, frequencyPenalty: 0.25, repetitionPenalty: 1.3, logitBias: bias
        )
        var history = TokenHistory(prompt: prompt)
        history.append(contentsOf: generated)
        var logits = raw
        var sampler = Sampler(parameters: parameters, vocabularySize: raw.count)
        _ = sampler.sample(logits: &logits, history: history)

        let want = Self.expected(raw, bias: bias, prompt: prompt, generated: generated, repetition: 1.3, presence: 0.4, frequency: 0.25)
        for i in raw.indices {
            #expect(abs(Double(logits[i]) - want[i]) < 1e-5, "token \(i): \(logits[i]) vs \(want[i])")
        }
        // Two values by hand as a check on the oracle: token 2 has bias, repetition, count 3.
        #expect(abs(Double(logits[2]) - ((0.5 + 0.25) / 1.3 - (3 * 0.25 + 0.4))) < 1e-5)
        // Token 1 is negative: multiplied, then one occurrence.
        #expect(abs(Double(logits[1]) - (-1.0 * 1.3 - (0.25 + 0.4))) < 1e-5)
    }

    @Test func promptTokensGetOnlyRepetitionPenalty() {
        var logits: [Float] = [3, 3]
        var history = TokenHistory(prompt: [0])
        history.append(1)
        let parameters = SamplingParameters(temperature: 0, presencePenalty: 1, frequencyPenalty: 1, repetitionPenalty: 1.5)
        var sampler = Sampler(parameters: parameters, vocabularySize: 2)
        #expect(sampler.sample(logits: &logits, history: history).id == 0)
        #expect(logits == [2, 0])
    }

    @Test func tokenHistoryCounts() {
        var history = TokenHistory(prompt: [5, 5, 6])
        history.append(contentsOf: [7, 7, 5])
        #expect(history.count(of: 7) == 2)
        #expect(history.count(of: 5) == 1)
        #expect(history.count(of: 6) == 0)
        #expect(history.seen == [5, 6, 7])
        #expect(history.generatedCount == 3)
    }
}
