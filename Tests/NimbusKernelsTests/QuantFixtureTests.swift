import Foundation
import NimbusKernels
import Testing

/// Q5_0/Q5_1, K-quant and requantization fixtures from gguf-py and llama.cpp's ggml
/// (scripts/fixtures/gen_quant_fixtures.py), including rows of Gemma 3 270M Q4_K_M. Exact.
@Suite struct QuantFixtureTests {
    struct Manifest: Decodable { let cases: [Case] }

    struct Case: Decodable {
        let kind: String
        let type: String?
        let source: String?
        let rows: Int?
        let cols: Int
        let batch: Int?
        let raw: String?
        let input: String?
        let expected: String
    }

    static func cases(_ kind: String) throws -> [Case] {
        let url = try #require(Fixtures.directory).appendingPathComponent("quant/quant.json")
        return try JSONDecoder().decode(Manifest.self, from: Data(contentsOf: url)).cases.filter { $0.kind == kind }
    }

    static func bytes(_ name: String?) throws -> [UInt8] { try Fixtures.bytes("quant/" + (try #require(name))) }
    static func floats(_ name: String?) throws -> [Float] { try Fixtures.floats("quant/" + (try #require(name))) }

    @Test func dequantizationEqualsGGUF() throws {
        let cases = try Self.cases("dequant")
        let types = Set(cases.compactMap(\.type))
        #expect(types.isSuperset(of: ["q5_0", "q5_1", "q2_K", "q3_K", "q4_K", "q5_K", "q6_K", "q8_K"]))
        #expect(cases.contains { $0.raw?.hasPrefix("dq_gemma") == true && $0.type == "q4_K" })
        for c in cases {
            let type = try #require(QuantType(name: c.type ?? ""))
            let raw = try Self.bytes(c.raw), expected = try Self.floats(c.expected)
            let rows = try #require(c.rows)
            var out = [Float](repeating: .nan, count: rows * c.cols)
            try raw.withUnsafeBytes { rb in
                let w = try WeightMatrix(rows: rows, columns: c.cols, type: type, base: try #require(rb.baseAddress))
                try out.withUnsafeMutableBufferPointer { o in
                    for r in 0..<rows { try Dequantize.row(r, of: w, into: o.baseAddress! + r * c.cols) }
                }
            }
            #expect(out.map(\.bitPattern) == expected.map(\.bitPattern), "dequant \(c.raw ?? "")")
        }
    }

    @Test(arguments: KernelPath.supported)
    func q8KQuantizationEqualsGGMLCPU(path: KernelPath) throws {
        let c = try #require(try Self.cases("quantize_q8_K").first)
        let x = try Self.floats(c.input)
        var q = [UInt8](repeating: 0xAA, count: c.cols / 256 * 292)
        try x.withUnsafeBufferPointer { xp in
            let base = try #require(xp.baseAddress)
            try q.withUnsafeMutableBytes { try ActivationQuantizer.quantizeQ8_K(base, count: c.cols, into: #require($0.baseAddress), path: path) }
        }
        #expect(q == (try Self.bytes(c.expected)), "\(path)")
    }

    @Test(arguments: KernelPath.supported)
    func matmulEqualsGGMLVecDot(path: KernelPath) throws {
        let cases = try Self.cases("matmul")
        #expect(Set(cases.compactMap(\.type)).isSuperset(of: ["q5_0", "q5_1", "q2_K", "q3_K", "q4_K", "q5_K", "q6_K"]))
        for c in cases {
            let type = try #require(QuantType(name: c.type ?? ""))
            let y = try runMatMul(type, weights: try Self.bytes(c.raw), rows: try #require(c.rows), cols: c.cols,
                                  input: try Self.floats(c.input), batch: try #require(c.batch), path: path, pool: sharedPool)
            let expected = try Self.floats(c.expected)
            #expect(y.map(\.bitPattern) == expected.map(\.bitPattern), "\(c.raw ?? "") on \(path)")
        }
    }

    @Test func requantizationEqualsGGUFQuantize() throws {
        let cases = try Self.cases("requantize")
        #expect(cases.count == 4)
        for c in cases {
            let source: QuantType = c.source == "f16" ? .f16 : .f32
            let target = try #require(QuantType(name: c.type ?? ""))
            let raw = try Self.bytes(c.raw), rows = try #require(c.rows)
            let converted = try raw.withUnsafeBytes { rb in
                let w = try WeightMatrix(rows: rows, columns: c.cols, type: source, base: try #require(rb.baseAddress))
                return try Requantizer.convert(w, to: target)
            }
            let m = converted.matrix
            let bytes = [UInt8](UnsafeRawBufferPointer(start: m.base, count: m.rows * m.rowBytes))
            #expect(m.type == target && m.rows == rows && m.columns == c.cols)
            #expect(bytes == (try Self.bytes(c.expected)), "\(c.source ?? "") -> \(c.type ?? "")")
        }
    }

    @Test func requantizationRejectsOtherTargetsAndShapes() throws {
        let floats = [Float](repeating: 1, count: 48)
        try floats.withUnsafeBytes { rb in
            let base = try #require(rb.baseAddress)
            let w = try WeightMatrix(rows: 1, columns: 48, type: .f32, base: base)
            #expect(throws: KernelError.self) { try Requantizer.convert(w, to: .q8_0) }  // 48 is not a multiple of 32
            let v = try WeightMatrix(rows: 1, columns: 32, type: .f32, base: base)
            #expect(throws: KernelError.self) { try Requantizer.convert(v, to: .q4_K) }
        }
    }
}
