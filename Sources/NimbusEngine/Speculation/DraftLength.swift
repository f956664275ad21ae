import Foundation

/// How many draft tokens a sequence should propose next, from its own record of acceptance.
///
/// A step of 1 + k rows costs about `1 + rowCost * k` single-token steps, and with a per-token
/// acceptance rate `a` it yields `(1 - a^(k+1)) / (1 - a)` tokens on average (the accepted
/// prefix plus the token sampled after it). The length chosen maximises tokens per cost; when
/// no length beats plain decoding, the sequence stops drafting and only probes with one token
/// now and then, so a stream whose drafts keep failing decodes as fast as without speculation.
struct DraftLength {
    let maximum: Int
    /// Accepted draft tokens and tokens tried, decayed so that recent drafts weigh most.
    private var accepted = 1.0
    private var tried = 2.0
    private var stepsWithoutDraft = 0
    /// After this many steps without a draft, one single-token draft is tried.
    static let probeInterval = 16
    static let decay = 0.8

    init(maximum: Int) {
        self.maximum = max(0, maximum)
    }

    /// The per-token acceptance rate, estimated.
    var acceptanceRate: Double { accepted / tried }

    /// The length whose expected tokens per unit of cost is highest (0: plain decoding wins),
    /// when one more row costs `rowCost` of a one-row step (the engine's `StepCost`).
    func best(rowCost: Double) -> Int {
        let a = min(acceptanceRate, 0.999)
        var bestLength = 0
        var bestValue = 1.0
        var expected = 1.0, power = 1.0
        for k in stride(from: 1, through: maximum, by: 1) {
            power *= a
            expected += power
            let value = expected / (1 + max(0, rowCost) * Double(k))
            if value > bestValue {
                bestValue = value
                bestLength = k
            }
        }
        return bestLength
    }

    /// The length to propose in the coming step; counts the steps that propose nothing.
    mutating func next(rowCost: Double) -> Int {
        let length = best(rowCost: rowCost)
        if length > 0 { return length }
        stepsWithoutDraft += 1
        guard stepsWithoutDraft >= Self.probeInterval, maximum > 0 else { return 0 }
        stepsWithoutDraft = 0
        return 1
    }

    /// A draft of `proposed` tokens was verified and its first `accepted` tokens matched.
    mutating func record(proposed: Int, accepted matched: Int) {
        guard proposed > 0 else { return }
        let trials = matched < proposed ? matched + 1 : matched
        let keep = pow(Self.decay, Double(trials))
        accepted = accepted * keep + Double(matched)
        tried = tried * keep + Double(trials)
    }
}
