import Testing
import NimbusKernels

/// Fixtures come from gguf-py and from llama.cpp's own ggml-cpu library
/// (scripts/fixtures/gen_kernel_fixtures.py); every comparison is exact.
@Suite struct FixtureTests {
    @Test func dequantizationEqualsGGUF() throws {
        let cases = try Fixtures.manifest().cases.filter { $0.kind == "dequant" }
        #expect(cases.count >= 5)
        for c in cases {
            let type = try #require(QuantType(name: c.type ?? ""))
            let raw = try Fixtures.bytes(try #require(c.raw))
            let expected = try Fixtures.floats(try #require(c.expected))
            let rows = try #require(c.rows)
            var out = [Float](repeating: .nan, count: rows * c.cols)
            try raw.withUnsafeBytes { rb in
                let base = try #require(rb.baseAddress)
                let w = try WeightMatrix(rows: rows, columns: c.cols, type: type, base: base)
                try out.withUnsafeMutableBufferPointer { o in
                    for r in 0..<rows { try Dequantize.row(r, of: w, into: o.baseAddress! + r * c.cols) }
                }
            }
            #expect(out.map(\.bitPattern) == expected.map(\.bitPattern), "dequant \(c.raw ?? "")")
        }
    }

    @Test func activationQuantizationEqualsGGMLCPU() throws {
        let c = try #require(try Fixtures.manifest().cases.first { $0.kind == "quantize" })
        let x = try Fixtures.floats(try #require(c.input))
        var q0 = [UInt8](repeating: 0, count: c.cols / 32 * 34)
        var q1 = [UInt8](repeating: 0, count: c.cols / 32 * 36)
        try x.withUnsafeBufferPointer { xp in
            try q0.withUnsafeMutableBytes { try ActivationQuantizer.quantizeQ8_0(xp.baseAddress!, count: c.cols, into: $0.baseAddress!) }
            try q1.withUnsafeMutableBytes { try ActivationQuantizer.quantizeQ8_1(xp.baseAddress!, count: c.cols, into: $0.baseAddress!) }
        }
        #expect(q0 == (try Fixtures.bytes(try #require(c.ggml_q8_0))))
        #expect(q1 == (try Fixtures.bytes(try #require(c.ggml_q8_1))))

        // gguf-py's reference rounds half away from zero and scales by 1/d: it may differ by
        // one quant, and only where x * 127/amax sits within float noise of k + 0.5.
        let ref = try Fixtures.bytes(try #require(c.gguf_q8_0))
        var differences = 0
        for b in 0..<c.cols / 32 {
            #expect(ref[34 * b] == q0[34 * b] && ref[34 * b + 1] == q0[34 * b + 1], "fp16 d of block \(b)")
            let amax = (0..<32).map { abs(x[32 * b + $0]) }.max() ?? 0
            for j in 0..<32 {
                let mine = Int(Int8(bitPattern: q0[34 * b + 2 + j])), theirs = Int(Int8(bitPattern: ref[34 * b + 2 + j]))
                if mine != theirs {
                    differences += 1
                    let scaled = x[32 * b + j] * 127 / amax
                    #expect(abs(mine - theirs) == 1)
                    #expect(abs(abs(scaled - scaled.rounded(.down)) - 0.5) < 1e-4, "non-tie difference at \(b),\(j)")
                }
            }
        }
        #expect(differences < c.cols / 20)
    }

    @Test(arguments: KernelPath.supported)
    func matmulEqualsGGMLVecDot(path: KernelPath) throws {
        let cases = try Fixtures.manifest().cases.filter { $0.kind == "matmul" }
        #expect(cases.count >= 4)
        for c in cases {
            let type = try #require(QuantType(name: c.type?.replacingOccurrences(of: "model_", with: "") ?? ""))
            let rows = try #require(c.rows), batch = try #require(c.batch)
            let y = try runMatMul(type, weights: try Fixtures.bytes(try #require(c.raw)), rows: rows, cols: c.cols,
                                  input: try Fixtures.floats(try #require(c.input)), batch: batch, path: path, pool: sharedPool)
            let expected = try Fixtures.floats(try #require(c.expected))
            #expect(y.map(\.bitPattern) == expected.map(\.bitPattern), "\(c.type ?? "") on \(path)")
        }
    }
}
