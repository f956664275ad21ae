/// Elementary functions written out in plain IEEE arithmetic.
///
/// libm's `expf` is not correctly rounded and differs between platforms in the last bit;
/// a probability that differs in the last bit can flip a seeded draw. These versions use
/// only +, -, *, / and exact power-of-two scaling (Swift never contracts them into FMAs),
/// so a seeded run picks the same token on every machine. They also need no libc import.
public enum SamplingMath {
    /// e^x in Float, relative error about 2e-7 (Cephes `expf` polynomial).
    ///
    /// Returns exactly 1 for 0, 0 at or below -86.5 (and for NaN and -inf, which is what a
    /// banned logit should become), +inf from 88 up. The narrowed range keeps every result a
    /// normal float, so 2^k can be applied by adding k to the exponent field. Bit-identical
    /// to the SIMD version.
    @inline(__always)
    public static func exp(_ x: Float) -> Float {
        // `!(x > lower)` also catches NaN.
        guard x > lowerLimit else { return 0 }
        guard x < upperLimit else { return .infinity }
        // Round to nearest by adding and removing 1.5 * 2^23: exact for |t| < 2^22, and unlike
        // `rounded()` it needs no libm symbol (`rintf`), which a libc-free module cannot link.
        let shifted = x * log2e + roundingMagic
        let n = shifted - roundingMagic
        let k = Int32(bitPattern: shifted.bitPattern) &- roundingMagicBits
        // Cody-Waite: ln 2 split in a part exact in Float and a small remainder.
        let r = (x - n * ln2High) + n * ln2Low
        let z = r * r
        var p: Float = c0
        p = p * r + c1
        p = p * r + c2
        p = p * r + c3
        p = p * r + c4
        p = p * r + c5
        let y = p * z + r + 1
        // y is in [0.7, 1.5] and k in [-125, 127]: adding k to the exponent field is exact.
        let bits = Int32(bitPattern: y.bitPattern) &+ (k &<< 23)
        return Float(bitPattern: UInt32(bitPattern: bits))
    }

    /// Eight lanes of `exp(_:)`, with exactly the same operations per lane.
    @inline(__always)
    public static func exp(_ x: SIMD8<Float>) -> SIMD8<Float> {
        let shifted = x * log2e + roundingMagic
        let n = shifted - roundingMagic
        let k = unsafeBitCast(shifted, to: SIMD8<Int32>.self) &- roundingMagicBits
        let r = (x - n * ln2High) + n * ln2Low
        let z = r * r
        var p = SIMD8<Float>(repeating: c0)
        p = p * r + c1
        p = p * r + c2
        p = p * r + c3
        p = p * r + c4
        p = p * r + c5
        let y = p * z + r + 1
        // Exponent-field add; a two-step multiply by 2^k here makes LLVM deinterleave the
        // lanes (three times slower on x86-64).
        let bits = unsafeBitCast(y, to: SIMD8<Int32>.self) &+ (k &<< 23)
        var result = unsafeBitCast(bits, to: SIMD8<Float>.self)
        result.replace(with: .infinity, where: x .>= upperLimit)
        result.replace(with: 0, where: .!(x .> lowerLimit))
        return result
    }

    private static let lowerLimit: Float = -86.5
    private static let upperLimit: Float = 88
    private static let log2e: Float = 1.442_695_04
    private static let roundingMagic: Float = 12_582_912
    private static let roundingMagicBits = Int32(bitPattern: Float(12_582_912).bitPattern)
    private static let ln2High: Float = 0.693_359_375
    private static let ln2Low: Float = 2.121_944_4e-4
    private static let c0: Float = 1.987_569_15e-4
    private static let c1: Float = 1.398_199_95e-3
    private static let c2: Float = 8.333_451_9e-3
    private static let c3: Float = 4.166_579_59e-2
    private static let c4: Float = 1.666_666_55e-1
    private static let c5: Float = 5.000_000_12e-1

    /// Natural logarithm in Double for positive finite x, via the atanh series on the
    /// significand; used once per token for reported logprobs.
    public static func log(_ x: Double) -> Double {
        guard x > 0 else { return x == 0 ? -.infinity : .nan }
        guard x.isFinite else { return x }
        let m = x.significand  // in [1, 2)
        let e = Double(x.exponent)
        // ln m = 2 atanh(t), t = (m - 1) / (m + 1) <= 1/3, so 20 odd terms reach 1e-19.
        let t = (m - 1) / (m + 1)
        let t2 = t * t
        var term = t
        var sum = 0.0
        var k = 1.0
        while k < 41 {
            sum += term / k
            term *= t2
            k += 2
        }
        return e * 0.693_147_180_559_945_3 + 2 * sum
    }
}
