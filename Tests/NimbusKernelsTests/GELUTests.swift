import Foundation
import NimbusKernels
import Testing

/// GELU against the exact erf form with libm's `erff` (the oracle), and every SIMD path against
/// the scalar twin, bit for bit.
@Suite struct GELUTests {
    static let inputs: [Float] = stride(from: Float(-9), to: 9, by: 0.00731).map { $0 } + [0, -0, 1e-30, -1e-30, 40, -40]

    func run(_ path: KernelPath) -> [Float] {
        var x = Self.inputs
        let pool = ComputePool(threads: 2, spinMicroseconds: 5)
        x.withUnsafeMutableBufferPointer { GELU.apply($0.baseAddress.unsafelyUnwrapped, count: $0.count, path: path, pool: pool) }
        return x
    }

    @Test func matchesTheErfFormula() {
        let got = run(.scalar)
        var worst: Float = 0
        for (v, g) in zip(Self.inputs, got) {
            let exact = Float(0.5 * Double(v) * (1 + erf(Double(v) / 2.0.squareRoot())))
            worst = max(worst, abs(g - exact) / max(1, abs(exact)))
        }
        #expect(worst < 1e-6, "worst error \(worst)")
    }

    @Test func simdPathsMatchScalarTwin() {
        let scalar = run(.scalar)
        for path in KernelPath.supported where path != .scalar {
            #expect(run(path) == scalar, "\(path)")
        }
    }
}
