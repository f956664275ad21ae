import NimbusGGUF
import NimbusKernels

/// The Llama architecture (Llama 2/3, SmolLM, TinyLlama, Mistral-style GQA models in GGUF).
///
/// Numerics follow llama.cpp's CPU backend step by step, because the fidelity tests compare
/// greedy tokens with it: RMSNorm sums squares in double and adds eps to the float mean, RoPE
/// angles are built by repeated multiplication in float and rotated with GCC's fmas, K/V and the
/// attention query/probabilities are rounded to fp16, attention and SwiGLU reproduce the AVX-512
/// build's reduction orders and vectorized exp (`AttentionKernels`, `ActivationKernels`), and
/// matmuls quantize activations exactly as ggml does (see NimbusKernels).
///
/// Like llama.cpp, the result depends on how tokens are batched: a multi-token `forward` uses
/// the batched (tinyBLAS) attention order, a single-token call the decode (vec_dot) order, and
/// the two differ in the last bits, which the model can amplify.
///
/// `forward` is not reentrant: the scratch buffers belong to the one thread that runs the model.
public final class LlamaModel: @unchecked Sendable {
    public let configuration: LlamaConfiguration
    /// The largest number of tokens one `forward` call processes; longer inputs are chunked.
    public let maxBatch: Int
    /// The kernel implementation chosen for this CPU.
    public var kernelPath: String { matmul.path.rawValue }
    /// Keeps the memory-mapped weights alive.
    private let file: GGUFFile
    private let weights: LlamaWeights
    private let pool: ComputePool
    private let matmul: MatMul
    private let projections = ProjectionGroup()
    private let scratch: LlamaScratch

    /// Builds the model over the tensors of `gguf`, which must stay alive as long as the model.
    public init(gguf: GGUFFile, pool: ComputePool, maxBatch: Int = 512) throws(ModelError) {
        let arch = gguf.string("general.architecture") ?? "llama"
        configuration = try LlamaConfiguration(gguf: gguf, architecture: arch)
        weights = try LlamaWeights(gguf: gguf, configuration: configuration)
        file = gguf
        self.pool = pool
        do {
            matmul = try MatMul(pool: pool)
        } catch {
            throw .kernel("\(error)")
        }
        self.maxBatch = max(1, maxBatch)
        scratch = LlamaScratch(configuration: configuration, maxBatch: self.maxBatch)
    }

    /// A cache for one sequence of up to `capacity` tokens.
    public func makeCache(capacity: Int) -> KVCache {
        KVCache(layers: configuration.blockCount, kvDimension: configuration.kvDimension,
                capacity: min(capacity, configuration.contextLength))
    }

    /// Runs `tokens` at the positions after those already in `cache`, appends their keys and
    /// values to it, and writes the last token's logits (vocabulary-sized) to `logits`.
    /// - Throws: `ModelError.tokenOutOfRange` or `.contextFull`; the cache is unchanged then.
    public func forward(tokens: [Int], cache: KVCache, logits: UnsafeMutableBufferPointer<Float>) throws(ModelError) {
        let c = configuration
        for t in tokens where t < 0 || t >= c.vocabularySize {
            throw .tokenOutOfRange(t, vocabularySize: c.vocabularySize)
        }
        guard cache.count + tokens.count <= cache.capacity else { throw .contextFull(capacity: cache.capacity) }
        guard !tokens.isEmpty, let output = logits.baseAddress, logits.count >= c.vocabularySize else {
            throw .kernel("logits buffer of \(logits.count) floats for a vocabulary of \(c.vocabularySize)")
        }
        var start = 0
        while start < tokens.count {
            let end = min(start + maxBatch, tokens.count)
            try runChunk(tokens[start..<end], cache: cache)
            start = end
        }
        // Only the last position's logits are needed; llama.cpp also computes just that row.
        let last = scratch.x + ((tokens.count - 1) % maxBatch) * c.embeddingLength
        Operations.rmsNorm(last, weight: weights.outputNorm, count: c.embeddingLength,
                           epsilon: c.rmsNormEpsilon, into: scratch.normed)
        try weights.output.multiply(scratch.normed, batch: 1, into: output, with: matmul)
    }

    /// One chunk of at most `maxBatch` tokens through every layer.
    private func runChunk(_ tokens: ArraySlice<Int>, cache: KVCache) throws(ModelError) {
        let c = configuration
        let n = tokens.count
        let s = scratch
        let dim = c.embeddingLength
        for (row, token) in tokens.enumerated() {
            try weights.tokenEmbedding.dequantizeRow(token, into: s.x + row * dim)
        }
        let firstPosition = cache.count
        for (index, layer) in weights.layers.enumerated() {
            for row in 0..<n {
                Operations.rmsNorm(s.x + row * dim, weight: layer.attentionNorm, count: dim,
                                   epsilon: c.rmsNormEpsilon, into: s.normed + row * dim)
            }
            try projections.multiply(s.normed, batch: n, columns: dim,
                                     [(layer.query, s.q), (layer.key, s.k), (layer.value, s.v)], with: matmul)
            for row in 0..<n {
                let position = firstPosition + row
                weights.rope.apply(s.q + row * c.queryDimension, heads: c.headCount, position: position)
                weights.rope.apply(s.k + row * c.kvDimension, heads: c.kvHeadCount, position: position)
                Operations.roundToHalf(s.k + row * c.kvDimension, count: c.kvDimension,
                                       into: cache.keys(layer: index, position: position))
                Operations.roundToHalf(s.v + row * c.kvDimension, count: c.kvDimension,
                                       into: cache.values(layer: index, position: position))
            }
            Attention.run(configuration: c, queries: s.q, rows: n, firstPosition: firstPosition,
                          cache: cache, layer: index, output: s.attention, pool: pool)
            try layer.attentionOutput.multiply(s.attention, batch: n, into: s.normed, with: matmul)
            Operations.add(s.normed, into: s.x, count: n * dim)

            for row in 0..<n {
                Operations.rmsNorm(s.x + row * dim, weight: layer.feedForwardNorm, count: dim,
                                   epsilon: c.rmsNormEpsilon, into: s.normed + row * dim)
            }
            try projections.multiply(s.normed, batch: n, columns: dim,
                                     [(layer.gate, s.gate), (layer.up, s.up)], with: matmul)
            // Row by row: ggml's 16-wide blocks restart at each row, which matters for widths
            // that are not a multiple of 16.
            for row in 0..<n {
                let offset = row * c.feedForwardLength
                Operations.swiGLU(gate: s.gate + offset, up: s.up + offset, count: c.feedForwardLength)
            }
            try layer.down.multiply(s.gate, batch: n, into: s.normed, with: matmul)
            Operations.add(s.normed, into: s.x, count: n * dim)
        }
        cache.advance(by: n)
    }
}

/// Per-run buffers sized for `maxBatch` rows, owned by the model's one running thread.
final class LlamaScratch: @unchecked Sendable {
    let x, normed, q, k, v, attention, gate, up: UnsafeMutablePointer<Float>

    init(configuration c: LlamaConfiguration, maxBatch: Int) {
        func buffer(_ width: Int) -> UnsafeMutablePointer<Float> {
            let p = UnsafeMutablePointer<Float>.allocate(capacity: maxBatch * width)
            p.initialize(repeating: 0, count: maxBatch * width)
            return p
        }
        x = buffer(c.embeddingLength)
        normed = buffer(max(c.embeddingLength, c.queryDimension))
        q = buffer(c.queryDimension)
        k = buffer(c.kvDimension)
        v = buffer(c.kvDimension)
        attention = buffer(c.queryDimension)
        gate = buffer(c.feedForwardLength)
        up = buffer(c.feedForwardLength)
    }

    deinit {
        for p in [x, normed, q, k, v, attention, gate, up] { p.deallocate() }
    }
}
