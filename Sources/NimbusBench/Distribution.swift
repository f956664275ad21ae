/// Mean and percentiles of a set of samples, as benchmark reports give them.
public struct Distribution: Sendable, Equatable, Codable {
    public var mean: Double
    public var p50: Double
    public var p90: Double
    public var p99: Double

    /// - Returns: `nil` for no samples: a report says "no data" rather than a made-up zero.
    public init?(_ samples: [Double]) {
        guard !samples.isEmpty else { return nil }
        let sorted = samples.sorted()
        mean = sorted.reduce(0, +) / Double(sorted.count)
        p50 = Self.percentile(sorted, 50)
        p90 = Self.percentile(sorted, 90)
        p99 = Self.percentile(sorted, 99)
    }

    public init(mean: Double, p50: Double, p90: Double, p99: Double) {
        self.mean = mean
        self.p50 = p50
        self.p90 = p90
        self.p99 = p99
    }

    /// The `percent`-th percentile of ascending, non-empty `sorted`, interpolating linearly
    /// between the two nearest ranks: numpy's default (`method="linear"`), which vLLM's and
    /// genai-perf's reports use too, so numbers compare across tools.
    public static func percentile(_ sorted: [Double], _ percent: Double) -> Double {
        precondition(!sorted.isEmpty && (0...100).contains(percent), "percentile of no samples or outside 0...100")
        let rank = percent / 100 * Double(sorted.count - 1)
        let lower = Int(rank.rounded(.down))
        let upper = min(lower + 1, sorted.count - 1)
        let fraction = rank - Double(lower)
        return sorted[lower] + (sorted[upper] - sorted[lower]) * fraction
    }

    /// The same distribution in other units (seconds to milliseconds, say).
    func scaled(by factor: Double) -> Distribution {
        Distribution(mean: mean * factor, p50: p50 * factor, p90: p90 * factor, p99: p99 * factor)
    }
}
