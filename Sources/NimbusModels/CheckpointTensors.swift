import NimbusKernels
import NimbusSafetensors

/// Reads named tensors of a safetensors checkpoint as fp32, checking their shapes; F16 and BF16
/// are widened at load, so the encoder computes in fp32 whatever the checkpoint stores.
struct CheckpointTensors {
    let checkpoint: SafetensorsCheckpoint
    /// Prepended to every name (`bert.` in a BertForSequenceClassification checkpoint).
    let prefix: String

    /// The values of `name` (with the prefix), which must have exactly `shape`.
    func floats(_ name: String, shape: [Int], prefixed: Bool = true) throws(ModelError) -> [Float] {
        let full = prefixed ? prefix + name : name
        guard let (info, bytes) = checkpoint.data(named: full) else { throw .missingTensor(full) }
        guard info.shape == shape else { throw .badTensorShape(tensor: full, expected: shape, actual: info.shape) }
        let n = info.elementCount
        var out = [Float](repeating: 0, count: n)
        switch info.dtype {
        case .f32:
            for i in 0..<n { out[i] = Float(bitPattern: UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self))) }
        case .f16:
            for i in 0..<n { out[i] = Float(Float16(bitPattern: UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)))) }
        case .bf16:
            for i in 0..<n {
                out[i] = Float(bitPattern: UInt32(UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))) << 16)
            }
        default:
            throw .unsupportedTensorType(tensor: full, type: info.dtype.rawValue)
        }
        return out
    }

    /// The first of `names` that exists (old BERT checkpoints call LayerNorm parameters gamma/beta).
    func floats(anyOf names: [String], shape: [Int]) throws(ModelError) -> [Float] {
        for name in names.dropLast() where checkpoint.tensor(named: prefix + name) != nil {
            return try floats(name, shape: shape)
        }
        return try floats(names.last ?? "", shape: shape)
    }

    /// A Linear layer `name`.weight (`rows` x `columns`) with `name`.bias, packed for `FloatGEMM`.
    func linear(_ name: String, rows: Int, columns: Int, prefixed: Bool = true) throws(ModelError) -> PackedMatrix {
        let w = try floats(name + ".weight", shape: [rows, columns], prefixed: prefixed)
        let b = try floats(name + ".bias", shape: [rows], prefixed: prefixed)
        return try pack(rows: rows, columns: columns, bias: b) { r, c in w[r * columns + c] }
    }

    /// Several Linear layers over the same input as one matrix (Q, K and V), outputs stacked.
    func stacked(_ names: [String], rows: Int, columns: Int) throws(ModelError) -> PackedMatrix {
        var weights: [[Float]] = [], bias: [Float] = []
        for name in names {
            weights.append(try floats(name + ".weight", shape: [rows, columns]))
            bias += try floats(name + ".bias", shape: [rows])
        }
        return try pack(rows: rows * names.count, columns: columns, bias: bias) { r, c in
            weights[r / rows][(r % rows) * columns + c]
        }
    }

    private func pack(rows: Int, columns: Int, bias: [Float], _ weight: (Int, Int) -> Float) throws(ModelError) -> PackedMatrix {
        do {
            return try PackedMatrix(rows: rows, columns: columns, bias: bias, weight: weight)
        } catch {
            throw .kernel("\(error)")
        }
    }
}
