/// A small seeded generator (Steele, Lea and Flood's SplitMix64), so a failing randomized test
/// reproduces from its seed. The engine's sampler has its own (`NimbusEngine.SplitMix64`, which
/// seeds xoshiro256**); tests use this one.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    public var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A value in `0..<n` (0 when `n` <= 1); modulo bias is irrelevant for test inputs.
    public mutating func next(below n: Int) -> Int { n <= 1 ? 0 : Int(next() % UInt64(n)) }
}
