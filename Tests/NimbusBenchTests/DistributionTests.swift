import Testing
@testable import NimbusBench

/// Expected values were worked out by hand with numpy's linear method (rank = p/100 × (n − 1),
/// interpolated between the neighbouring sorted samples) and checked with `numpy.percentile`.
@Suite("Distribution")
struct DistributionTests {
    @Test func oddCountMatchesNumpy() throws {
        let d = try #require(Distribution([40, 15, 50, 35, 20]))
        #expect(d.mean == 32)
        #expect(d.p50 == 35)  // rank 2
        #expect(abs(d.p90 - 46) < 1e-9)  // rank 3.6: 40 + 0.6 × 10
        #expect(abs(d.p99 - 49.6) < 1e-9)  // rank 3.96: 40 + 0.96 × 10
    }

    @Test func evenCountInterpolatesTheMedian() throws {
        let d = try #require(Distribution([3, 1, 2, 10]))
        #expect(d.mean == 4)
        #expect(d.p50 == 2.5)  // rank 1.5
        #expect(abs(d.p90 - 7.9) < 1e-9)  // rank 2.7: 3 + 0.7 × 7
        #expect(abs(d.p99 - 9.79) < 1e-9)  // rank 2.97: 3 + 0.97 × 7
    }

    @Test func oneSampleIsEveryPercentile() {
        #expect(Distribution([7]) == Distribution(mean: 7, p50: 7, p90: 7, p99: 7))
    }

    @Test func noSamplesIsNoDistribution() {
        #expect(Distribution([]) == nil)
    }

    @Test func extremesAreMinimumAndMaximum() {
        let sorted: [Double] = [1, 4, 9]
        #expect(Distribution.percentile(sorted, 0) == 1)
        #expect(Distribution.percentile(sorted, 100) == 9)
    }

    @Test func scalingConvertsEveryField() throws {
        let seconds = try #require(Distribution([0.5, 1.5]))
        let ms = seconds.scaled(by: 1000)
        // p90: rank 0.9 → 0.5 + 0.9 × 1.0 = 1.4 s; p99: 1.49 s.
        for (actual, expected) in [(ms.mean, 1000.0), (ms.p50, 1000), (ms.p90, 1400), (ms.p99, 1490)] {
            #expect(abs(actual - expected) < 1e-6)
        }
    }
}
