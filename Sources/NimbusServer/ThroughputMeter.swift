import Synchronization

/// Tokens per second over the last few seconds, from a cumulative token count sampled whenever
/// someone asks (a scrape, the status page), so nothing runs in the background or per token.
///
/// The rate is measured from the newest sample at least `window` old (or the oldest one kept)
/// to now; with a single sample there is no rate yet and it reads 0.
final class ThroughputMeter: Sendable {
    private struct Sample {
        var time: ContinuousClock.Instant
        var tokens: Int
    }
    private let samples = Mutex<[Sample]>([])
    let window: Duration

    init(window: Duration = .seconds(5)) { self.window = window }

    /// Records `tokens` (a running total) at `now` and returns tokens per second.
    func rate(total tokens: Int, now: ContinuousClock.Instant = .now) -> Double {
        samples.withLock { samples in
            samples.append(Sample(time: now, tokens: tokens))
            // Keep one sample older than the window as the base; drop those before it.
            if let base = samples.lastIndex(where: { now - $0.time >= window }), base > 0 {
                samples.removeFirst(base)
            }
            // Bound memory when asked very often.
            if samples.count > 256 { samples.removeSubrange(1..<(samples.count - 128)) }
            guard let first = samples.first, now > first.time else { return 0 }
            return Double(max(0, tokens - first.tokens)) / (now - first.time).seconds
        }
    }
}
