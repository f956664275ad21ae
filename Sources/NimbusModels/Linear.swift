import NimbusKernels

/// A weight matrix of the model with the two things a model does with one: multiply activations
/// by it, or read one row (embedding lookup).
struct Linear {
    let matrix: WeightMatrix
    /// Keeps the bytes of a requantized matrix alive (nil for views into the mapped file).
    var owner: OwnedWeightMatrix? = nil

    /// Writes `batch` output rows (`matrix.rows` wide) for `batch` input rows (`matrix.columns` wide).
    func multiply(_ input: UnsafePointer<Float>, batch: Int, into output: UnsafeMutablePointer<Float>,
                  with matmul: MatMul) throws(ModelError) {
        do {
            try matmul.multiply(matrix, input: input, inputStride: matrix.columns, batch: batch,
                                output: output, outputStride: matrix.rows)
        } catch {
            throw .kernel("\(error)")
        }
    }

    /// Multiplies activations already converted for this matrix's type (shared by Q/K/V and by
    /// gate/up, so the input is quantized once).
    func multiply(_ activations: ActivationBuffer, into output: UnsafeMutablePointer<Float>,
                  with matmul: MatMul) throws(ModelError) {
        do {
            try matmul.multiply(matrix, activations, output: output, outputStride: matrix.rows)
        } catch {
            throw .kernel("\(error)")
        }
    }

    /// Rows `start ..< start + count` (within the matrix) as a matrix of their own, sharing
    /// the storage; taken before any blocked-order copy is made.
    func rows(_ start: Int, _ count: Int) throws(ModelError) -> Linear {
        do {
            let view = try WeightMatrix(rows: count, columns: matrix.columns, type: matrix.type,
                                        base: matrix.base + start * matrix.rowStride, rowStride: matrix.rowStride)
            return Linear(matrix: view, owner: owner)
        } catch {
            throw .kernel("\(error)")
        }
    }

    /// Row `row` as floats.
    func dequantizeRow(_ row: Int, into output: UnsafeMutablePointer<Float>) throws(ModelError) {
        do {
            try Dequantize.row(row, of: matrix, into: output)
        } catch {
            throw .kernel("\(error)")
        }
    }
}

/// Several matrices applied to the same input, which is converted once when their types agree.
struct ProjectionGroup {
    let activations = ActivationBuffer()

    func multiply(_ input: UnsafePointer<Float>, batch: Int, columns: Int,
                  _ targets: [(Linear, UnsafeMutablePointer<Float>)], with matmul: MatMul) throws(ModelError) {
        guard let first = targets.first?.0.matrix.type else { return }
        // One quantization and one parallel region for all when the types agree (the usual case).
        let activationType = { (linear: Linear) in matmul.activationType(for: linear.matrix.type) }
        if targets.allSatisfy({ activationType($0.0) == matmul.activationType(for: first) }) {
            do {
                try matmul.quantize(input, inputStride: columns, batch: batch, columns: columns,
                                    for: first, into: activations)
                try matmul.multiply(targets.map { (weight: $0.0.matrix, output: $0.1) }, activations)
            } catch {
                throw .kernel("\(error)")
            }
            return
        }
        var preparedFor: QuantType?
        for (linear, output) in targets {
            let type = activationType(linear)
            if preparedFor != type {
                do {
                    try matmul.quantize(input, inputStride: columns, batch: batch, columns: columns,
                                        for: linear.matrix.type, into: activations)
                } catch {
                    throw .kernel("\(error)")
                }
                preparedFor = type
            }
            try linear.multiply(activations, into: output, with: matmul)
        }
    }
}
