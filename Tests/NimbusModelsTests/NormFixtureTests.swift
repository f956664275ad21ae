import Foundation
@testable import NimbusModels
import Testing

/// LayerNorm (Phi-2) and RMSNorm rows against llama.cpp's own ggml-cpu (ggml_norm or
/// ggml_rms_norm, then the gain and the bias as build_norm applies them), bit for bit
/// (scripts/fixtures/gen_norm_fixtures.py). Quantized models hide these last bits (the next
/// matmul rounds its input to 8 bits), so this is where the reduction orders are checked.
struct NormFixtureTests {
    struct Fixture: Decodable {
        /// Rows of one length, normalized with one gain (and bias).
        struct Group: Decodable {
            struct Row: Decodable { let x, y: Floats }
            let kind: String
            let weight: Floats
            let bias: Floats?
            let rows: [Row]
        }
        let epsilon: Float
        let groups: [Group]
    }

    /// float32 values stored as little-endian bytes in base64.
    struct Floats: Decodable {
        let values: [Float]
        init(from decoder: any Decoder) throws {
            let text = try decoder.singleValueContainer().decode(String.self)
            guard let data = Data(base64Encoded: text), data.count % 4 == 0 else {
                throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not base64 float32s"))
            }
            values = stride(from: 0, to: data.count, by: 4).map { i in
                Float(bitPattern: data[data.startIndex + i ..< data.startIndex + i + 4].reversed().reduce(0) { $0 << 8 | UInt32($1) })
            }
        }
    }

    @Test func normsMatchGgmlBitForBit() throws {
        let fixture = try ModelFixture.load(Fixture.self, fixture: "norms")
        #expect(Set(fixture.groups.map(\.kind)) == ["layer", "rms"])
        for group in fixture.groups {
            var differingRows = 0
            let weight = group.weight.values, bias = group.bias?.values
            for row in group.rows {
                let n = row.x.values.count
                var y = [Float](repeating: .nan, count: n)
                row.x.values.withUnsafeBufferPointer { x in
                    y.withUnsafeMutableBufferPointer { out in
                        guard let x = x.baseAddress, let out = out.baseAddress else { return }
                        if group.kind == "layer" {
                            Operations.layerNorm(x, weight: weight, bias: bias, count: n,
                                                 epsilon: fixture.epsilon, into: out)
                        } else {
                            Operations.rmsNorm(x, weight: weight, count: n, epsilon: fixture.epsilon, into: out)
                        }
                    }
                }
                if y != row.y.values { differingRows += 1 }
            }
            #expect(differingRows == 0,
                    "\(group.kind) norm of \(weight.count) values: \(differingRows) of \(group.rows.count) rows differ from ggml's")
        }
    }
}
