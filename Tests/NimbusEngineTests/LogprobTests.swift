import Testing
@testable import NimbusEngine

@Suite struct LogprobTests {
    static func logits(count: Int, seed: UInt64) -> [Float] {
        var rng = Xoshiro256StarStar(seed: seed)
        var values = (0..<count).map { _ in Float(rng.nextUnitDouble() * 10 - 5) }
        // Ties among the best, to pin down the id order of equal logprobs.
        values[17] = 7
        values[3] = 7
        values[900] = 6.5
        return values
    }

    @Test(arguments: [0, 0.8] as [Float])
    func logprobIsRawLogSoftmax(temperature: Float) {
        let raw = Self.logits(count: 1_000, seed: 5)
        let reference = referenceLogSoftmax(raw)
        var history = TokenHistory(prompt: [3, 17, 40])
        history.append(contentsOf: [900, 900, 12])
        let parameters = SamplingParameters(
            temperature: temperature, topP: 0.95, topK: 50, presencePenalty: 0.5, frequencyPenalty: 0.3,
            repetitionPenalty: 1.2, logitBias: [12: 3, 3: -1], seed: 9, logprobs: 5
        )
        var sampler = Sampler(parameters: parameters, vocabularySize: raw.count)
        for _ in 0..<50 {
            var copy = raw
            let token = sampler.sample(logits: &copy, history: history)
            let logprob = try? #require(token.logprob)
            #expect(abs(Double(logprob ?? 0) - reference[token.id]) < 1e-4)

            let want = raw.indices.sorted { reference[$0] > reference[$1] || (reference[$0] == reference[$1] && $0 < $1) }.prefix(5)
            #expect(token.topLogprobs.map(\.id) == Array(want))
            #expect(Array(want.prefix(2)) == [3, 17])
            for alternative in token.topLogprobs {
                #expect(abs(Double(alternative.logprob) - reference[alternative.id]) < 1e-4)
            }
            for (a, b) in zip(token.topLogprobs, token.topLogprobs.dropFirst()) {
                #expect(a.logprob > b.logprob || (a.logprob == b.logprob && a.id < b.id))
            }
        }
    }

    @Test func forcedTokenReportsItsRawLogprob() {
        let raw: [Float] = [2, 1, 0, -1]
        var logits = raw
        let parameters = SamplingParameters(temperature: 0, repetitionPenalty: 2, logitBias: [3: 100], logprobs: 2)
        var history = TokenHistory()
        history.append(3)
        var sampler = Sampler(parameters: parameters, vocabularySize: 4)
        let token = sampler.sample(logits: &logits, history: history)
        #expect(token.id == 3)
        #expect(abs(Double(token.logprob ?? 0) - referenceLogSoftmax(raw)[3]) < 1e-5)
        #expect(token.topLogprobs.map(\.id) == [0, 1])
    }

    @Test func noLogprobsUnlessAsked() {
        var logits: [Float] = [0, 1, 2]
        var sampler = Sampler(parameters: .greedy, vocabularySize: 3)
        let token = sampler.sample(logits: &logits)
        #expect(token.logprob == nil)
        #expect(token.topLogprobs.isEmpty)
    }

    @Test func zeroAlternativesStillReportsLogprob() {
        var logits: [Float] = [0, 1, 2]
        var sampler = Sampler(parameters: SamplingParameters(temperature: 0, logprobs: 0), vocabularySize: 3)
        let token = sampler.sample(logits: &logits)
        #expect(token.logprob != nil)
        #expect(token.topLogprobs.isEmpty)
    }

    @Test func moreAlternativesThanVocabulary() {
        var logits: [Float] = [0, 1, 2]
        var sampler = Sampler(parameters: SamplingParameters(temperature: 0, logprobs: 10), vocabularySize: 3)
        #expect(sampler.sample(logits: &logits).topLogprobs.map(\.id) == [2, 1, 0])
    }
}
