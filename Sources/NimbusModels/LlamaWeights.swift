import NimbusGGUF
import NimbusKernels

/// The tensors of one Llama block.
struct LlamaLayer {
    let attentionNorm: [Float]
    let query, key, value, attentionOutput: Linear
    let feedForwardNorm: [Float]
    let gate, up, down: Linear
}

/// Every tensor of a Llama model, as views into the memory-mapped GGUF file (norms are copied to
/// Float arrays because they are tiny and read on every token).
struct LlamaWeights {
    let tokenEmbedding: Linear
    let outputNorm: [Float]
    /// The output head: `output.weight`, or the token embedding when the model ties them.
    let output: Linear
    let rope: RotaryEmbedding
    let layers: [LlamaLayer]

    /// - Parameter interleave: also lay out every eligible matrix for the blocked-order kernels.
    init(gguf: GGUFFile, configuration c: LlamaConfiguration, interleave: Bool = false) throws(ModelError) {
        let loader = TensorLoader(gguf: gguf, interleave: interleave)
        let dim = c.embeddingLength
        tokenEmbedding = try loader.linear("token_embd.weight", rows: c.vocabularySize, columns: dim)
        outputNorm = try loader.vector("output_norm.weight", count: dim)
        output = gguf.tensor(named: "output.weight") == nil
            ? tokenEmbedding
            : try loader.linear("output.weight", rows: c.vocabularySize, columns: dim)
        // Llama 3.1+ stores its rope scaling as per-frequency divisors in `rope_freqs.weight`.
        let factors: [Float]? = gguf.tensor(named: "rope_freqs.weight") == nil
            ? nil : try loader.vector("rope_freqs.weight", count: c.ropeDimensionCount / 2)
        rope = RotaryEmbedding(configuration: c, frequencyFactors: factors)
        var layers: [LlamaLayer] = []
        for i in 0..<c.blockCount {
            let p = "blk.\(i)."
            layers.append(LlamaLayer(
                attentionNorm: try loader.vector(p + "attn_norm.weight", count: dim),
                query: try loader.linear(p + "attn_q.weight", rows: c.queryDimension, columns: dim),
                key: try loader.linear(p + "attn_k.weight", rows: c.kvDimension, columns: dim),
                value: try loader.linear(p + "attn_v.weight", rows: c.kvDimension, columns: dim),
                attentionOutput: try loader.linear(p + "attn_output.weight", rows: dim, columns: c.queryDimension),
                feedForwardNorm: try loader.vector(p + "ffn_norm.weight", count: dim),
                gate: try loader.linear(p + "ffn_gate.weight", rows: c.feedForwardLength, columns: dim),
                up: try loader.linear(p + "ffn_up.weight", rows: c.feedForwardLength, columns: dim),
                down: try loader.linear(p + "ffn_down.weight", rows: dim, columns: c.feedForwardLength)
            ))
        }
        self.layers = layers
    }
}

/// Finds tensors by name and checks their shape and type against what the architecture needs.
struct TensorLoader {
    let gguf: GGUFFile
    /// Whether `linear` adds the blocked-order layout (`WeightMatrix.interleavedForBlockedOrder`).
    var interleave = false

    func info(_ name: String, shape: [Int]) throws(ModelError) -> GGUFTensorInfo {
        guard let info = gguf.tensor(named: name) else { throw .missingTensor(name) }
        var actual = info.dimensions
        while actual.count > shape.count, actual.last == 1 { actual.removeLast() }
        guard actual == shape else { throw .badTensorShape(tensor: name, expected: shape, actual: info.dimensions) }
        return info
    }

    /// A matrix of `rows` outputs by `columns` inputs (ggml shape `[columns, rows]`).
    func linear(_ name: String, rows: Int, columns: Int) throws(ModelError) -> Linear {
        let info = try info(name, shape: [columns, rows])
        let linear = try requantized(try matrix(info, rows: rows, columns: columns), name: name)
        guard interleave, let owned = linear.matrix.interleavedForBlockedOrder(keeping: linear.owner) else { return linear }
        return Linear(matrix: owned.matrix, owner: owned)
    }

    /// A vector of F32 (or F16/BF16, widened) values.
    func vector(_ name: String, count: Int) throws(ModelError) -> [Float] {
        let info = try info(name, shape: [count])
        let row = try matrix(info, rows: 1, columns: count)
        var values = [Float](repeating: 0, count: count)
        try values.withUnsafeMutableBufferPointer { buffer throws(ModelError) in
            if let out = buffer.baseAddress { try row.dequantizeRow(0, into: out) }
        }
        return values
    }

    private func matrix(_ info: GGUFTensorInfo, rows: Int, columns: Int) throws(ModelError) -> Linear {
        guard let type = QuantType(ggmlID: info.type.rawValue) else {
            throw .unsupportedTensorType(tensor: info.name, type: info.type.name)
        }
        let data = gguf.tensorData(info)
        guard let base = data.baseAddress else { throw .missingTensor(info.name) }
        do {
            return Linear(matrix: try WeightMatrix(rows: rows, columns: columns, type: type, base: base,
                                                   rowStride: data.count / rows))
        } catch {
            throw .badTensorShape(tensor: info.name, expected: [columns, rows], actual: info.dimensions)
        }
    }
}
