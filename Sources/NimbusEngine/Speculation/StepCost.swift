/// What one more row costs in a decoding step, as a fraction of a one-row step, measured on
/// this host and model: the price `DraftLength` weighs against a sequence's acceptance rate.
///
/// It differs several-fold between hosts and models (a step of 8 rows cost 1.0-1.4x a one-row
/// step on the host the old constant came from, 2.1x on a 2-core AMD EPYC with SmolLM2, whose
/// 49k-row output head is computed for every verified row), so a constant drafts too long on
/// one host and too short on another. Only steps that prefill nothing are measured: one-row
/// steps give the baseline, each step of more rows one estimate of the per-row slope. Both are
/// weighted towards recent steps, so the estimate follows the host through the day.
struct StepCost {
    /// The current estimate (the configured value, when one is configured).
    private(set) var rowCost: Double
    private let measured: Bool
    private var oneRowSeconds: Double?
    private var oneRowSteps = 0
    /// Weight of the newest measurement in the running averages.
    static let weight = 0.1
    /// One-row steps measured before a slope is estimated from them.
    static let baselineSteps = 4
    /// Estimates outside this range are clamped (a step slowed by the OS says little).
    static let range = 0.01...4.0

    /// `configured`: a fixed row cost; nil measures it, starting from `initial`.
    init(configured: Double?, initial: Double = SpeculativeConfiguration.initialRowCost) {
        rowCost = configured ?? initial
        measured = configured == nil
    }

    /// A step of `rows` rows (none of them prompt) took `seconds`, sampling included.
    mutating func record(rows: Int, seconds: Double) {
        guard measured, rows >= 1, seconds > 0, seconds.isFinite else { return }
        if rows == 1 {
            oneRowSeconds = oneRowSeconds.map { $0 + Self.weight * (seconds - $0) } ?? seconds
            oneRowSteps += 1
            return
        }
        guard let oneRow = oneRowSeconds, oneRowSteps >= Self.baselineSteps else { return }
        let slope = min(max((seconds / oneRow - 1) / Double(rows - 1), Self.range.lowerBound), Self.range.upperBound)
        rowCost += Self.weight * (slope - rowCost)
    }
}
