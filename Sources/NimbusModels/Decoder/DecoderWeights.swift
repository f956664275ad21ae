import NimbusKernels

/// The tensors of one decoder block. Optional ones are there when the configuration (or, for
/// biases, the file) asks for them.
struct DecoderLayerWeights {
    let attentionNorm: NormWeights
    let query, key, value: Linear
    /// Qwen2's and Phi-2's projection biases, added after the matmul.
    let queryBias, keyBias, valueBias: [Float]?
    /// Per-head RMSNorm weights (Qwen3, Gemma 3).
    let queryNorm, keyNorm: [Float]?
    let attentionOutput: Linear
    let attentionOutputBias: [Float]?
    let postAttentionNorm: [Float]?
    /// Nil in a parallel block (`DecoderConfiguration.parallelBlocks`).
    let feedForwardNorm: NormWeights?
    let feedForward: FeedForwardWeights
    let postFeedForwardNorm: [Float]?
}

/// A norm's gain, and its bias for LayerNorm.
struct NormWeights {
    let weight: [Float]
    let bias: [Float]?
}

/// A dense feed-forward (gated, or a plain MLP without `gate`) with its optional biases, or
/// experts chosen per row by a router.
enum FeedForwardWeights {
    case dense(gate: Linear?, up: Linear, down: Linear, biases: FeedForwardBiases)
    case experts(ExpertWeights)
}

/// `ffn_gate.bias`, `ffn_up.bias` and `ffn_down.bias`, each added right after its matmul.
struct FeedForwardBiases {
    var gate, up, down: [Float]?
}

/// Every tensor of a decoder, found by llama.cpp's GGUF names (in any format, through a
/// `DecoderTensorSource`), as views into the file's bytes (read once at load) (norms and biases are copied to Float arrays because they are tiny and read on every
/// token). Fused projections (`attn_qkv`, a double-height `ffn_up`) are split into row views
/// of the one matrix, so each output is computed exactly as from separate matrices.
struct DecoderWeights {
    let tokenEmbedding: Linear
    let outputNorm: NormWeights
    /// The output head: `output.weight`, or the token embedding when the model ties them.
    let output: Linear
    let outputBias: [Float]?
    /// One RoPE per distinct (base, scale) of the layers, indexed by layer.
    let rope: [RotaryEmbedding]
    let layers: [DecoderLayerWeights]

    /// - Parameters:
    ///   - interleave: also lay out every eligible matrix for the blocked-order kernels.
    ///   - contextLength: the most positions a sequence may reach (LongRoPE's choice of factors);
    ///     nil: the model's `context_length`.
    init(source: any DecoderTensorSource, configuration c: DecoderConfiguration, interleave: Bool = false,
         contextLength: Int? = nil) throws(ModelError) {
        let loader = TensorLoader(source: source, interleave: interleave)
        let dim = c.embeddingLength
        tokenEmbedding = try loader.linear("token_embd.weight", rows: c.vocabularySize, columns: dim)
        outputNorm = try loader.norm("output_norm", count: dim, kind: c.norm)
        output = loader.has("output.weight")
            ? try loader.linear("output.weight", rows: c.vocabularySize, columns: dim)
            : tokenEmbedding
        outputBias = try loader.optionalVector("output.bias", count: c.vocabularySize)
        // The engine serves at most the model's own context, whatever was asked for.
        rope = try Self.rotaryEmbeddings(loader, configuration: c, contextLength: min(contextLength ?? c.contextLength, c.contextLength))
        var layers: [DecoderLayerWeights] = []
        for i in 0..<c.blockCount {
            layers.append(try Self.layer(i, loader, configuration: c))
        }
        self.layers = layers
        // Known tensors left unread: LongRoPE files carry both factor sets and one is used;
        // Qwen3-Reranker's classifier rows serve llama.cpp's rank pooling only (the language
        // model's head is `output.weight` or the tied embedding, as llama.cpp also reads it).
        loader.markRead(["rope_factors_long.weight", "rope_factors_short.weight", "cls.output.weight"])
        if let stray = loader.unread().first { throw .unusedTensor(stray, architecture: c.architecture) }
    }

    private static func layer(_ i: Int, _ loader: TensorLoader, configuration c: DecoderConfiguration) throws(ModelError) -> DecoderLayerWeights {
        let p = "blk.\(i)."
        let dim = c.embeddingLength, ff = c.feedForwardLength, hd = c.headDimension
        let q, k, v: Linear
        let qd = c.queryDimension, kvd = c.kvDimension
        var qkvBias: (q: [Float]?, k: [Float]?, v: [Float]?) = (nil, nil, nil)
        if loader.has(p + "attn_qkv.weight") {
            let parts = try loader.linear(p + "attn_qkv.weight", splitInto: [qd, kvd, kvd], columns: dim)
            (q, k, v) = (parts[0], parts[1], parts[2])
            // Phi-2 converted from its `Wqkv` also fuses the bias; adding it after the split
            // adds the same value to the same output.
            if let b = try loader.optionalVector(p + "attn_qkv.bias", count: qd + 2 * kvd) {
                qkvBias = (Array(b[0..<qd]), Array(b[qd..<qd + kvd]), Array(b[(qd + kvd)...]))
            }
        } else {
            q = try loader.linear(p + "attn_q.weight", rows: qd, columns: dim)
            k = try loader.linear(p + "attn_k.weight", rows: kvd, columns: dim)
            v = try loader.linear(p + "attn_v.weight", rows: kvd, columns: dim)
            qkvBias = (try loader.optionalVector(p + "attn_q.bias", count: qd), try loader.optionalVector(p + "attn_k.bias", count: kvd),
                       try loader.optionalVector(p + "attn_v.bias", count: kvd))
        }
        let feedForward: FeedForwardWeights
        if let experts = c.experts {
            let w = experts.feedForwardLength, n = experts.count
            var shared: SharedExpertWeights?
            if let sw = experts.sharedFeedForwardLength {
                shared = SharedExpertWeights(
                    // One row of weights, stored as a vector.
                    gateInput: try loader.linear(p + "ffn_gate_inp_shexp.weight", splitInto: [1], columns: dim, shape: [dim])[0],
                    gate: try loader.linear(p + "ffn_gate_shexp.weight", rows: sw, columns: dim),
                    up: try loader.linear(p + "ffn_up_shexp.weight", rows: sw, columns: dim),
                    down: try loader.linear(p + "ffn_down_shexp.weight", rows: dim, columns: sw))
            }
            feedForward = .experts(ExpertWeights(
                router: try loader.linear(p + "ffn_gate_inp.weight", rows: n, columns: dim),
                gate: try loader.stacked(p + "ffn_gate_exps.weight", count: n, rows: w, columns: dim),
                up: try loader.stacked(p + "ffn_up_exps.weight", count: n, rows: w, columns: dim),
                down: try loader.stacked(p + "ffn_down_exps.weight", count: n, rows: dim, columns: w),
                shared: shared))
        } else {
            let down = try loader.linear(p + "ffn_down.weight", rows: dim, columns: ff)
            let biases = FeedForwardBiases(gate: try loader.optionalVector(p + "ffn_gate.bias", count: ff),
                                           up: try loader.optionalVector(p + "ffn_up.bias", count: ff),
                                           down: try loader.optionalVector(p + "ffn_down.bias", count: dim))
            if !c.gatedFeedForward {
                feedForward = .dense(gate: nil, up: try loader.linear(p + "ffn_up.weight", rows: ff, columns: dim),
                                     down: down, biases: biases)
            } else if loader.has(p + "ffn_gate.weight") {
                feedForward = .dense(gate: try loader.linear(p + "ffn_gate.weight", rows: ff, columns: dim),
                                     up: try loader.linear(p + "ffn_up.weight", rows: ff, columns: dim), down: down, biases: biases)
            } else {
                // Phi-3 stores [gate; up] as one `ffn_up` of twice the height.
                let parts = try loader.linear(p + "ffn_up.weight", splitInto: [ff, ff], columns: dim)
                feedForward = .dense(gate: parts[0], up: parts[1], down: down, biases: biases)
            }
        }
        func norm(_ name: String, _ count: Int, when wanted: Bool) throws(ModelError) -> [Float]? {
            wanted ? try loader.vector(p + name, count: count) : nil
        }
        return DecoderLayerWeights(
            attentionNorm: try loader.norm(p + "attn_norm", count: dim, kind: c.norm),
            query: q, key: k, value: v,
            queryBias: qkvBias.q, keyBias: qkvBias.k, valueBias: qkvBias.v,
            queryNorm: try norm("attn_q_norm.weight", hd, when: c.attention.headNorms),
            keyNorm: try norm("attn_k_norm.weight", hd, when: c.attention.headNorms),
            attentionOutput: try loader.linear(p + "attn_output.weight", rows: dim, columns: c.queryDimension),
            attentionOutputBias: try loader.optionalVector(p + "attn_output.bias", count: dim),
            postAttentionNorm: try norm("post_attention_norm.weight", dim, when: c.postAttentionNorm),
            feedForwardNorm: c.parallelBlocks ? nil : try loader.norm(p + "ffn_norm", count: dim, kind: c.norm),
            feedForward: feedForward,
            postFeedForwardNorm: try norm("post_ffw_norm.weight", dim, when: c.postFeedForwardNorm)
        )
    }

    /// Llama 3.1+ stores its RoPE scaling as per-frequency divisors in `rope_freqs.weight`;
    /// Phi-3's LongRoPE as `rope_factors_short`/`_long`. Like llama.cpp (`get_rope_factors`),
    /// the long ones serve every position when a sequence may grow past the original context,
    /// the short ones otherwise: the choice follows the context served, not the position.
    private static func rotaryEmbeddings(_ loader: TensorLoader, configuration c: DecoderConfiguration,
                                         contextLength: Int) throws(ModelError) -> [RotaryEmbedding] {
        let pairs = c.rope.dimensionCount / 2
        let name = loader.has("rope_freqs.weight") ? "rope_freqs.weight"
            : contextLength > c.rope.originalContextLength ? "rope_factors_long.weight" : "rope_factors_short.weight"
        let factors = try loader.optionalVector(name, count: pairs)
        var built: [LayerPlan: RotaryEmbedding] = [:]
        return c.layers.map { plan in
            if let rope = built[plan] { return rope }
            let rope = RotaryEmbedding(options: c.rope, headDimension: c.headDimension, plan: plan, frequencyFactors: factors)
            built[plan] = rope
            return rope
        }
    }
}

/// Finds tensors by name and checks their shape and type against what the architecture needs;
/// remembers which it read, so that a tensor no block reads can be refused.
struct TensorLoader {
    let source: any DecoderTensorSource
    /// Whether `linear` adds the blocked-order layout (`WeightMatrix.interleavedForBlockedOrder`).
    var interleave = false
    private let read = NameSet()

    init(source: any DecoderTensorSource, interleave: Bool = false) {
        self.source = source
        self.interleave = interleave
    }

    /// The names read so far (a class, so that the loader stays a value passed around freely).
    private final class NameSet { var names: Set<String> = [] }

    func has(_ name: String) -> Bool { source.sourceTensor(named: name) != nil }

    func markRead(_ names: [String]) { read.names.formUnion(names) }

    /// The source's tensors that nothing has read, in file order (empty when the source does not
    /// list its tensors).
    func unread() -> [String] { (source.allTensorNames ?? []).filter { !read.names.contains($0) } }

    func info(_ name: String, shape: [Int]) throws(ModelError) -> SourceTensor {
        guard let info = source.sourceTensor(named: name) else { throw .missingTensor(name) }
        read.names.insert(name)
        var actual = info.dimensions
        while actual.count > shape.count, actual.last == 1 { actual.removeLast() }
        guard actual == shape else { throw .badTensorShape(tensor: name, expected: shape, actual: info.dimensions) }
        return info
    }

    /// A matrix of `rows` outputs by `columns` inputs (ggml shape `[columns, rows]`).
    func linear(_ name: String, rows: Int, columns: Int) throws(ModelError) -> Linear {
        try linear(name, splitInto: [rows], columns: columns)[0]
    }

    /// `count` matrices of `rows` x `columns` stacked in one tensor (ggml shape
    /// `[columns, rows, count]`, as llama.cpp stores experts), each its own matrix.
    func stacked(_ name: String, count: Int, rows: Int, columns: Int) throws(ModelError) -> [Linear] {
        try linear(name, splitInto: Array(repeating: rows, count: count), columns: columns, shape: [columns, rows, count])
    }

    /// A fused matrix (ggml shape `[columns, sum(heights)]`, or `shape`) as consecutive row
    /// ranges of `heights` rows, each its own matrix (and its own blocked-order copy).
    func linear(_ name: String, splitInto heights: [Int], columns: Int, shape: [Int]? = nil) throws(ModelError) -> [Linear] {
        let rows = heights.reduce(0, +)
        let info = try info(name, shape: shape ?? [columns, rows])
        let whole = try requantized(try matrix(info, rows: rows, columns: columns), name: name)
        var parts: [Linear] = []
        var start = 0
        for height in heights {
            let part = heights.count == 1 ? whole : try whole.rows(start, height)
            start += height
            if interleave, let owned = part.matrix.interleavedForBlockedOrder(keeping: part.owner) {
                parts.append(Linear(matrix: owned.matrix, owner: owned))
            } else {
                parts.append(part)
            }
        }
        return parts
    }

    /// A vector of F32 (or F16/BF16, widened) values.
    func vector(_ name: String, count: Int) throws(ModelError) -> [Float] {
        let info = try info(name, shape: [count])
        let row = try matrix(info, rows: 1, columns: count)
        var values = [Float](repeating: 0, count: count)
        try values.withUnsafeMutableBufferPointer { buffer throws(ModelError) in
            if let out = buffer.baseAddress { try row.dequantizeRow(0, into: out) }
        }
        if info.vectorOffset != 0 {
            for i in values.indices { values[i] += info.vectorOffset }
        }
        return values
    }

    /// `<name>.weight`, and for LayerNorm `<name>.bias` when the file has it.
    func norm(_ name: String, count: Int, kind: NormKind) throws(ModelError) -> NormWeights {
        NormWeights(weight: try vector(name + ".weight", count: count),
                    bias: kind == .layer ? try optionalVector(name + ".bias", count: count) : nil)
    }

    /// `vector(name:count:)` when the file has the tensor, else nil.
    func optionalVector(_ name: String, count: Int) throws(ModelError) -> [Float]? {
        has(name) ? try vector(name, count: count) : nil
    }

    private func matrix(_ info: SourceTensor, rows: Int, columns: Int) throws(ModelError) -> Linear {
        guard let type = info.type else {
            throw .unsupportedTensorType(tensor: info.name, type: info.typeName)
        }
        let data = info.bytes
        guard let base = data.baseAddress else { throw .missingTensor(info.name) }
        do {
            return Linear(matrix: try WeightMatrix(rows: rows, columns: columns, type: type, base: base,
                                                   rowStride: data.count / rows))
        } catch {
            throw .badTensorShape(tensor: info.name, expected: [columns, rows], actual: info.dimensions)
        }
    }
}
