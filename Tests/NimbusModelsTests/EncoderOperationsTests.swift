import Foundation
import Testing
@testable import NimbusModels

/// The vectorized erf behind GELU against libm's `erff` (the oracle), over and past [-4, 4].
@Suite struct EncoderOperationsTests {
    @Test func fastErfIsWithinHalfAMillionth() {
        var worst: Float = 0
        var x: Float = -6
        while x < 6 {
            let lanes = SIMD16<Float>((0..<16).map { x + Float($0) * 0.00037 })
            let got = EncoderOperations.erf16(lanes)
            for i in 0..<16 { worst = max(worst, abs(got[i] - erff(lanes[i]))) }
            x += 0.0061
        }
        #expect(worst < 5e-7, "max |erf16 - erff| = \(worst)")
    }
}
