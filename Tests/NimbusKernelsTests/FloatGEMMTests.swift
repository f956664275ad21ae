import NimbusKernels
import Testing
import NimbusTestSupport

/// The fp32 panel GEMM: every SIMD path gives the scalar twin's bits (same fma chain per
/// output), and the twin agrees with a double-precision sum within float rounding.
@Suite struct FloatGEMMTests {
    struct Case: Sendable, CustomStringConvertible {
        let rows: Int, columns: Int, batch: Int, bias: Bool
        var description: String { "\(rows)x\(columns) batch \(batch) bias \(bias)" }
    }

    static let cases = [
        Case(rows: 1, columns: 1, batch: 1, bias: false),
        Case(rows: 16, columns: 32, batch: 8, bias: true),
        Case(rows: 17, columns: 5, batch: 3, bias: true),     // a partial panel, odd k
        Case(rows: 47, columns: 33, batch: 13, bias: false),  // odd panel count, partial tiles
        Case(rows: 384, columns: 384, batch: 70, bias: true), // MiniLM shapes, several row blocks
        Case(rows: 1536, columns: 384, batch: 9, bias: true),
    ]

    func run(_ c: Case, path: KernelPath, weights: [Float], bias: [Float]?, input: [Float], stride: Int) throws -> [Float] {
        let packed = try PackedMatrix(rows: c.rows, columns: c.columns, bias: bias) { r, k in weights[r * c.columns + k] }
        let gemm = try FloatGEMM(pool: ComputePool(threads: 2, spinMicroseconds: 5), path: path)
        // Output rows wider than the matrix: columns past `rows` must stay untouched.
        let outStride = c.rows + 3
        var output = [Float](repeating: -7, count: c.batch * outStride)
        input.withUnsafeBufferPointer { x in
            output.withUnsafeMutableBufferPointer { y in
                gemm.multiply(packed, input: x.baseAddress.unsafelyUnwrapped, inputStride: stride, count: c.batch,
                              output: y.baseAddress.unsafelyUnwrapped, outputStride: outStride)
            }
        }
        for b in 0..<c.batch { #expect(output[b * outStride + c.rows..<(b + 1) * outStride].allSatisfy { $0 == -7 }) }
        return output
    }

    @Test(arguments: cases)
    func simdPathsMatchScalarTwin(c: Case) throws {
        var random = SplitMix64(seed: UInt64(c.rows * 1000 + c.columns))
        let weights = (0..<c.rows * c.columns).map { _ in random.normal() }
        let bias: [Float]? = c.bias ? (0..<c.rows).map { _ in random.normal() } : nil
        let stride = c.columns + 2
        let input = (0..<c.batch * stride).map { _ in random.normal() }
        let scalar = try run(c, path: .scalar, weights: weights, bias: bias, input: input, stride: stride)
        for b in 0..<c.batch {
            for r in 0..<c.rows {
                var sum = Double(bias?[r] ?? 0)
                for k in 0..<c.columns { sum += Double(weights[r * c.columns + k]) * Double(input[b * stride + k]) }
                let got = Double(scalar[b * (c.rows + 3) + r])
                #expect(abs(got - sum) <= 1e-5 * Double(c.columns) * max(1, abs(sum)), "\(c) [\(b)][\(r)]")
            }
        }
        for path in KernelPath.supported where path != .scalar {
            #expect(try run(c, path: path, weights: weights, bias: bias, input: input, stride: stride) == scalar, "\(c) \(path)")
        }
    }

    @Test func badShapesAreRefused() {
        #expect(throws: KernelError.self) { try PackedMatrix(rows: 0, columns: 4, bias: nil) { _, _ in 0 } }
        #expect(throws: KernelError.self) { try PackedMatrix(rows: 2, columns: 4, bias: [1]) { _, _ in 0 } }
    }
}
