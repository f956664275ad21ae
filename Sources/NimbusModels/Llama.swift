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
/// llama.cpp's result depends on how tokens are batched: a multi-token ubatch uses the batched
/// (tinyBLAS) attention order, a single token the decode (vec_dot) order, and the two differ in
/// the last bits, which the model can amplify. Here the order is chosen per position
/// (`ForwardBatch.Sequence.batchedOrderBelow`), so results never depend on the batch.
///
/// `forward` is not reentrant: the scratch buffers belong to the one thread that runs the model.
public final class LlamaModel: @unchecked Sendable {
    public let configuration: LlamaConfiguration
    /// The largest number of tokens one `forward` call processes; longer inputs are chunked.
    public let maxBatch: Int
    /// The kernel implementation chosen for this CPU.
    public var kernelPath: String { matmul.path.rawValue }
    /// How the quantized matmuls round (see `SummationOrder`).
    public var summationOrder: SummationOrder { matmul.order }
    /// Keeps the memory-mapped weights alive.
    private let file: GGUFFile
    private let weights: LlamaWeights
    private let pool: ComputePool
    private let matmul: MatMul
    private let projections = ProjectionGroup()
    private let scratch: LlamaScratch
    private let blockPointers = BlockPointerTables()

    /// Builds the model over the tensors of `gguf`, which must stay alive as long as the model.
    /// With the blocked `order`, eligible matrices are interleaved once here (a copy in memory).
    public init(gguf: GGUFFile, pool: ComputePool, maxBatch: Int = 512,
                order: SummationOrder = .detected) throws(ModelError) {
        let arch = gguf.string("general.architecture") ?? "llama"
        configuration = try LlamaConfiguration(gguf: gguf, architecture: arch)
        do {
            matmul = try MatMul(pool: pool, order: order)
        } catch {
            throw .kernel("\(error)")
        }
        weights = try LlamaWeights(gguf: gguf, configuration: configuration, interleave: order == .blocked)
        file = gguf
        self.pool = pool
        self.maxBatch = max(1, maxBatch)
        scratch = LlamaScratch(configuration: configuration, maxBatch: self.maxBatch)
    }

    /// A cache for one sequence of up to `capacity` tokens.
    public func makeCache(capacity: Int) -> KVCache {
        KVCache(layers: configuration.blockCount, kvDimension: configuration.kvDimension,
                capacity: min(capacity, configuration.contextLength))
    }

    public func makePagedCache(blockSize: Int, blockCount: Int) -> PagedKVCache {
        PagedKVCache(layers: configuration.blockCount, kvDimension: configuration.kvDimension,
                     blockSize: blockSize, blockCount: blockCount)
    }

    /// Computes a batch of sequences in one pass: every weight is read once per step and applied
    /// to all rows (matrix-matrix), attention runs per row over its own sequence's blocks, and
    /// the output head runs only on the rows whose logits are wanted.
    public func forward(_ batch: ForwardBatch, cache: PagedKVCache, logits: UnsafeMutablePointer<Float>) throws(ModelError) {
        let c = configuration
        let rows = try rowLayout(batch, cache: cache)
        guard !rows.isEmpty else { return }
        try runLayers(batch, rows: rows, cache: cache)
        // Only the wanted rows go through the head; llama.cpp also computes just those.
        let dim = c.embeddingLength
        var wanted = 0, end = 0
        for sequence in batch.sequences {
            end += sequence.tokens.count
            guard sequence.wantsLogits else { continue }
            Operations.rmsNorm(scratch.x + (end - 1) * dim, weight: weights.outputNorm, count: dim,
                               epsilon: c.rmsNormEpsilon, into: scratch.normed + wanted * dim)
            wanted += 1
        }
        if wanted > 0 { try weights.output.multiply(scratch.normed, batch: wanted, into: logits, with: matmul) }
    }

    /// Checks the batch against the vocabulary, the row limit and the cache, and lists its rows.
    private func rowLayout(_ batch: ForwardBatch, cache: PagedKVCache) throws(ModelError) -> [AttentionRow] {
        let c = configuration
        guard cache.layers == c.blockCount, cache.kvDimension == c.kvDimension else {
            throw .kernel("KV cache of \(cache.layers) layers x \(cache.kvDimension) does not fit this model")
        }
        guard batch.rowCount <= maxBatch else { throw .kernel("batch of \(batch.rowCount) rows exceeds \(maxBatch)") }
        var rows: [AttentionRow] = []
        rows.reserveCapacity(batch.rowCount)
        for (index, sequence) in batch.sequences.enumerated() {
            for t in sequence.tokens where t < 0 || t >= c.vocabularySize {
                throw .tokenOutOfRange(t, vocabularySize: c.vocabularySize)
            }
            let end = sequence.start + sequence.tokens.count
            let capacity = sequence.blockTable.count * cache.blockSize
            guard sequence.start >= 0, end <= capacity, end <= c.contextLength else {
                throw .contextFull(capacity: min(capacity, c.contextLength))
            }
            for block in sequence.blockTable where block < 0 || block >= cache.blockCount {
                throw .kernel("block \(block) outside the KV pool of \(cache.blockCount)")
            }
            for position in sequence.start..<end {
                rows.append(AttentionRow(sequence: index, position: position,
                                         batchedOrder: position < sequence.batchedOrderBelow))
            }
        }
        return rows
    }

    /// Every layer over all rows of the batch.
    private func runLayers(_ batch: ForwardBatch, rows: [AttentionRow], cache: PagedKVCache) throws(ModelError) {
        let c = configuration
        let n = rows.count
        let s = scratch
        let dim = c.embeddingLength
        var row = 0
        for sequence in batch.sequences {
            for token in sequence.tokens {
                try weights.tokenEmbedding.dequantizeRow(token, into: s.x + row * dim)
                row += 1
            }
        }
        let tables = batch.sequences.map(\.blockTable)
        for (index, layer) in weights.layers.enumerated() {
            eachRow(n) { row in
                Operations.rmsNorm(s.x + row * dim, weight: layer.attentionNorm, count: dim,
                                   epsilon: c.rmsNormEpsilon, into: s.normed + row * dim)
            }
            try projections.multiply(s.normed, batch: n, columns: dim,
                                     [(layer.query, s.q), (layer.key, s.k), (layer.value, s.v)], with: matmul)
            eachRow(n) { row in
                let r = rows[row]
                let table = tables[r.sequence]
                weights.rope.apply(s.q + row * c.queryDimension, heads: c.headCount, position: r.position)
                weights.rope.apply(s.k + row * c.kvDimension, heads: c.kvHeadCount, position: r.position)
                Operations.storeAsHalf(s.k + row * c.kvDimension, count: c.kvDimension,
                                       into: cache.slot(cache.keys, layer: index, table: table, position: r.position))
                Operations.storeAsHalf(s.v + row * c.kvDimension, count: c.kvDimension,
                                       into: cache.slot(cache.values, layer: index, table: table, position: r.position))
            }
            let starts = blockPointers.fill(layer: index, tables: tables, cache: cache)
            Attention.run(configuration: c, queries: s.q, rows: rows, tableStarts: starts, pointers: blockPointers,
                          blockSize: cache.blockSize, output: s.attention, pool: pool)
            try layer.attentionOutput.multiply(s.attention, batch: n, into: s.normed, with: matmul)
            Operations.add(s.normed, into: s.x, count: n * dim)

            eachRow(n) { row in
                Operations.rmsNorm(s.x + row * dim, weight: layer.feedForwardNorm, count: dim,
                                   epsilon: c.rmsNormEpsilon, into: s.normed + row * dim)
            }
            try projections.multiply(s.normed, batch: n, columns: dim,
                                     [(layer.gate, s.gate), (layer.up, s.up)], with: matmul)
            // Row by row: ggml's 16-wide blocks restart at each row, which matters for widths
            // that are not a multiple of 16.
            eachRow(n) { row in
                let offset = row * c.feedForwardLength
                Operations.swiGLU(gate: s.gate + offset, up: s.up + offset, count: c.feedForwardLength)
            }
            try layer.down.multiply(s.gate, batch: n, into: s.normed, with: matmul)
            Operations.add(s.normed, into: s.x, count: n * dim)
        }
    }
}

extension LlamaModel {
    /// Runs `body` for rows `0..<n` on the compute pool: the per-row steps between matmuls
    /// (norms, RoPE, KV stores, SwiGLU) would otherwise run on the step thread alone while the
    /// other workers spin. Rows are independent and each is computed whole by one worker, so
    /// the split never changes a result.
    func eachRow(_ n: Int, _ body: (Int) -> Void) {
        pool.parallelFor(n, chunk: Swift.max(4, (n + 2 * pool.threadCount - 1) / (2 * pool.threadCount))) { range in
            for row in range { body(row) }
        }
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
