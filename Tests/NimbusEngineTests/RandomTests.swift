import Testing
@testable import NimbusEngine

@Suite struct RandomTests {
    /// Published splitmix64 outputs for seed 1234567.
    @Test func splitMixReferenceValues() {
        var sm = SplitMix64(state: 1_234_567)
        let values = (0..<5).map { _ in sm.next() }
        #expect(values == [6_457_827_717_110_365_317, 3_203_168_211_198_807_973, 9_817_491_932_198_370_423, 4_593_380_528_125_082_431, 16_408_922_859_458_223_821])
    }

    @Test func unitDoublesStayInRange() {
        var rng = Xoshiro256StarStar(seed: 0)
        var sum = 0.0
        for _ in 0..<10_000 {
            let u = rng.nextUnitDouble()
            #expect(u >= 0 && u < 1)
            sum += u
        }
        #expect(abs(sum / 10_000 - 0.5) < 0.02)
    }

    @Test func unseededGeneratorsDiffer() {
        var a = Xoshiro256StarStar()
        var b = Xoshiro256StarStar()
        #expect(a.next() != b.next())
    }

    @Test func expIsAccurate() {
        #expect(SamplingMath.exp(0) == 1)
        #expect(SamplingMath.exp(-.infinity) == 0)
        #expect(SamplingMath.exp(.nan) == 0)
        #expect(SamplingMath.exp(100) == .infinity)
        var x: Float = -86.4
        while x < 88 {
            let want = _exp(Double(x))
            let got = Double(SamplingMath.exp(x))
            #expect(abs(got - want) / want < 5e-7, "exp(\(x))")
            x += 0.173
        }
        #expect(SamplingMath.exp(-86.5) == 0)
    }

    /// The SIMD and scalar paths must agree bit for bit, or a seeded draw would depend on
    /// where the vocabulary's 8-lane chunks end.
    @Test func simdExpMatchesScalarBitwise() {
        var rng = Xoshiro256StarStar(seed: 12)
        let specials: [Float] = [0, -0, -86.5, -86.49, 87.99, 88, -.infinity, .infinity, .nan, -1e-30, -200]
        for round in 0..<2_000 {
            var lanes = SIMD8<Float>()
            for lane in 0..<8 {
                lanes[lane] = round == 0 && lane < specials.count ? specials[lane] : Float(rng.nextUnitDouble() * 190 - 100)
            }
            let vector = SamplingMath.exp(lanes)
            for lane in 0..<8 {
                let scalar = SamplingMath.exp(lanes[lane])
                #expect(vector[lane].bitPattern == scalar.bitPattern || (vector[lane].isNaN && scalar.isNaN), "x = \(lanes[lane])")
            }
        }
        var tail = SIMD8<Float>()
        for lane in 0..<3 { tail[lane] = specials[8 + lane] }
        let vector = SamplingMath.exp(tail)
        for lane in 0..<3 { #expect(vector[lane].bitPattern == SamplingMath.exp(tail[lane]).bitPattern) }
    }

    @Test func logIsAccurate() {
        for x in [1e-30, 0.001, 0.5, 1, 2, 3.7, 1234.5, 5e20] {
            #expect(abs(SamplingMath.log(x) - _log(x)) < 1e-12 * max(1, abs(_log(x))), "log(\(x))")
        }
        #expect(SamplingMath.log(1) == 0)
    }
}
