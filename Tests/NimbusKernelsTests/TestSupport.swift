import Foundation
import NimbusKernels
import NimbusTestSupport

extension SplitMix64 {
    mutating func normal() -> Float {
        let u1 = Float.random(in: Float.ulpOfOne..<1, using: &self), u2 = Float.random(in: 0..<1, using: &self)
        return (-2 * Foundation.log(u1)).squareRoot() * Foundation.cos(2 * .pi * u2)
    }

    /// Random bytes of a weight matrix of `type`: valid fp16 scales, random quants.
    mutating func weights(_ type: QuantType, rows: Int, cols: Int) -> [UInt8] {
        let bytes = rows * (cols / type.blockSize) * type.blockBytes
        var out = [UInt8](repeating: 0, count: bytes)
        func half(_ x: Float) -> (UInt8, UInt8) {
            let b = Float16(x).bitPattern
            return (UInt8(b & 0xFF), UInt8(b >> 8))
        }
        var i = 0
        while i < bytes {
            switch type {
            case .q4_0, .q4_1, .q8_0:
                let (d0, d1) = half(Float.random(in: 0.001...0.05, using: &self) * (Bool.random(using: &self) ? 1 : -1))
                out[i] = d0; out[i + 1] = d1
                var off = 2
                if type == .q4_1 {
                    let (m0, m1) = half(Float.random(in: -0.2...0.2, using: &self))
                    out[i + 2] = m0; out[i + 3] = m1
                    off = 4
                }
                for j in off..<type.blockBytes {
                    // Q8_0 weights include -128, which gguf never writes but a file may hold.
                    out[i + j] = type == .q8_0 ? UInt8.random(in: 0...255, using: &self) : UInt8.random(in: 0...255, using: &self)
                }
                i += type.blockBytes
            case .f16:
                let (a, b) = half(normal() * 0.1)
                out[i] = a; out[i + 1] = b
                i += 2
            case .bf16:
                var v = normal() * 0.1, bits: UInt16 = 0
                ActivationQuantizer.convertToBF16(&v, count: 1, into: &bits)
                out[i] = UInt8(bits & 0xFF); out[i + 1] = UInt8(bits >> 8)
                i += 2
            default:
                let v = (normal() * 0.1).bitPattern
                for k in 0..<4 { out[i + k] = UInt8((v >> (8 * UInt32(k))) & 0xFF) }
                i += 4
            }
        }
        return out
    }

    mutating func activations(_ n: Int, scale: Float = 2) -> [Float] {
        (0..<n).map { _ in normal() * scale }
    }
}

enum Fixtures {
    struct Manifest: Decodable {
        let cases: [Case]
    }

    struct Case: Decodable {
        let kind: String
        let type: String?
        let rows: Int?
        let cols: Int
        let batch: Int?
        let raw: String?
        let input: String?
        let expected: String?
        let ggml_q8_0: String?
        let ggml_q8_1: String?
        let gguf_q8_0: String?
    }

    static var directory: URL? { Bundle.module.url(forResource: "Fixtures", withExtension: nil) }

    static func manifest() throws -> Manifest {
        guard let dir = directory else { throw CocoaError(.fileNoSuchFile) }
        return try JSONDecoder().decode(Manifest.self, from: Data(contentsOf: dir.appendingPathComponent("manifest.json")))
    }

    static func bytes(_ name: String) throws -> [UInt8] {
        guard let dir = directory else { throw CocoaError(.fileNoSuchFile) }
        return [UInt8](try Data(contentsOf: dir.appendingPathComponent(name)))
    }

    static func floats(_ name: String) throws -> [Float] {
        let b = try bytes(name)
        return b.withUnsafeBytes { raw in (0..<b.count / 4).map { raw.loadUnaligned(fromByteOffset: 4 * $0, as: Float.self) } }
    }
}

extension QuantType {
    init?(name: String) {
        guard let t = QuantType.allCases.first(where: { $0.description == name }) else { return nil }
        self = t
    }
}

/// Runs one matmul on `path` and returns y as [batch][rows] flattened. Quantized weights here
/// carry no interleaved copy, so they run ggml's order whatever `order` says; float weights run
/// `order` (ggml's by default, which every path has).
func runMatMul(_ type: QuantType, weights: [UInt8], rows: Int, cols: Int, input: [Float], batch: Int,
               path: KernelPath, pool: ComputePool, order: SummationOrder = .ggml) throws -> [Float] {
    var y = [Float](repeating: .nan, count: rows * batch)
    try weights.withUnsafeBytes { wb in
        guard let base = wb.baseAddress else { return }
        let w = try WeightMatrix(rows: rows, columns: cols, type: type, base: base)
        let mm = try MatMul(pool: pool, path: path, order: order)
        try input.withUnsafeBufferPointer { x in
            try y.withUnsafeMutableBufferPointer { out in
                guard let xp = x.baseAddress, let op = out.baseAddress else { return }
                try mm.multiply(w, input: xp, inputStride: cols, batch: batch, output: op, outputStride: rows)
            }
        }
    }
    return y
}

let sharedPool = ComputePool(threads: 2)
