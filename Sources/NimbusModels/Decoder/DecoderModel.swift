import NimbusGGUF
import NimbusKernels

/// A decoder-only transformer of any supported architecture (`DecoderConfiguration`, made by
/// the files in `Architectures/`), computed on the CPU.
///
/// Numerics follow llama.cpp's CPU backend step by step, because the fidelity tests compare
/// greedy tokens with it: RMSNorm sums squares in double and adds eps to the float mean, RoPE
/// angles are built by repeated multiplication in float and rotated with GCC's fmas, K/V and the
/// attention query/probabilities are rounded to fp16, attention and SwiGLU reproduce the AVX-512
/// build's reduction orders and vectorized exp (`AttentionKernels`, `ActivationKernels`), and
/// matmuls quantize activations exactly as ggml does (see NimbusKernels). The blocks other
/// architectures add (biases, head norms, NeoX RoPE, GeGLU, soft-capping, sandwich norms,
/// sliding windows, LayerNorm, a plain GELU MLP, parallel attention and feed-forward) follow
/// llama.cpp's graph for that architecture in the same way.
///
/// llama.cpp's result depends on how tokens are batched: a multi-token ubatch uses the batched
/// (tinyBLAS) attention order, a single token the decode (vec_dot) order, and the two differ in
/// the last bits, which the model can amplify. Here the order is chosen per position
/// (`ForwardBatch.Sequence.batchedOrderBelow`), so results never depend on the batch.
///
/// `forward` is not reentrant: the scratch buffers belong to the one thread that runs the model.
public final class DecoderModel: @unchecked Sendable {
    public let configuration: DecoderConfiguration
    /// The largest number of tokens one `forward` call processes; longer inputs are chunked.
    public let maxBatch: Int
    /// The kernel implementation chosen for this CPU.
    public var kernelPath: String { matmul.path.rawValue }
    /// How the quantized matmuls round (see `SummationOrder`).
    public var summationOrder: SummationOrder { matmul.order }
    /// Keeps the weight bytes alive.
    private let file: any DecoderTensorSource
    private let weights: DecoderWeights
    /// The compute threads; a draft model runs on its target's (`ModelLoader.loadDraft`).
    let pool: ComputePool
    private let matmul: MatMul
    private let projections = ProjectionGroup()
    private let scratch: DecoderScratch
    /// The mixture-of-experts block and its buffers, for files with experts.
    private let mixture: ExpertFeedForward?
    private let blockPointers = BlockPointerTables()
    /// Which layers share a KV block table (sliding-window layers apart from the others).
    let layerGroups: LayerGroups

    /// Builds the model over the tensors of `gguf`.
    /// With the blocked `order`, eligible matrices are interleaved once here (a copy in memory).
    public convenience init(gguf: GGUFFile, configuration: DecoderConfiguration, pool: ComputePool, maxBatch: Int = 512,
                            order: SummationOrder = .detected) throws(ModelError) {
        try self.init(source: gguf, configuration: configuration, pool: pool, maxBatch: maxBatch, order: order)
    }

    /// Builds the model over the tensors of `source` (kept alive as long as the model), for
    /// sequences of at most `contextLength` positions (nil: the model's own context length).
    init(source: any DecoderTensorSource, configuration: DecoderConfiguration, pool: ComputePool, maxBatch: Int = 512,
         order: SummationOrder = .detected, contextLength: Int? = nil) throws(ModelError) {
        self.configuration = configuration
        guard configuration.gatedFeedForward || configuration.activation == .gelu else {
            throw .kernel("an ungated feed-forward computes GELU only, not \(configuration.activation.rawValue)")
        }
        layerGroups = LayerGroups(layerWindows: configuration.layers.map(\.window))
        do {
            matmul = try MatMul(pool: pool, order: order)
        } catch {
            throw .kernel("\(error)")
        }
        weights = try DecoderWeights(source: source, configuration: configuration, interleave: order == .blocked,
                                     contextLength: contextLength)
        file = source
        self.pool = pool
        self.maxBatch = max(1, maxBatch)
        scratch = DecoderScratch(configuration: configuration, maxBatch: self.maxBatch)
        let rows = self.maxBatch
        mixture = configuration.experts.map {
            ExpertFeedForward(options: $0, activation: configuration.activation, width: configuration.embeddingLength,
                              maxRows: rows)
        }
    }

    public func makeCPUCache(blockSize: Int, blockCount: Int) -> PagedKVCache {
        PagedKVCache(layersPerBlock: layerGroups.size, kvDimension: configuration.kvDimension,
                     blockSize: blockSize, blockCount: blockCount)
    }

    /// Computes a batch of sequences in one pass: every weight is read once per step and applied
    /// to all rows (matrix-matrix), attention runs per row over its own sequence's blocks, and
    /// the output head runs only on the rows whose logits are wanted.
    func forward(_ batch: ForwardBatch, cache: PagedKVCache, logits: UnsafeMutablePointer<Float>) throws(ModelError) {
        let c = configuration
        let rows = try rowLayout(batch, cache: cache)
        guard !rows.isEmpty else { return }
        try runLayers(batch, rows: rows, cache: cache)
        // Only the wanted rows go through the head; llama.cpp also computes just those.
        let dim = c.embeddingLength
        var wanted = 0, end = 0
        for sequence in batch.sequences {
            end += sequence.tokens.count
            for row in (end - min(sequence.logitRows, sequence.tokens.count))..<end {
                normalize(scratch.x + row * dim, weights.outputNorm, into: scratch.normed + wanted * dim)
                wanted += 1
            }
        }
        guard wanted > 0 else { return }
        try weights.output.multiply(scratch.normed, batch: wanted, into: logits, with: matmul)
        if let bias = weights.outputBias { Operations.addBias(bias, to: logits, rows: wanted) }
        if let cap = c.finalLogitSoftCap { Operations.softCap(logits, count: wanted * c.vocabularySize, cap: cap) }
    }

    /// Checks the batch against the vocabulary, the row limit and the cache, and lists its rows.
    private func rowLayout(_ batch: ForwardBatch, cache: PagedKVCache) throws(ModelError) -> [AttentionRow] {
        let c = configuration
        guard cache.layersPerBlock == layerGroups.size, cache.kvDimension == c.kvDimension else {
            throw .kernel("KV cache of \(cache.layersPerBlock) layers x \(cache.kvDimension) does not fit this model")
        }
        guard batch.rowCount <= maxBatch else { throw .kernel("batch of \(batch.rowCount) rows exceeds \(maxBatch)") }
        var rows: [AttentionRow] = []
        rows.reserveCapacity(batch.rowCount)
        for (index, sequence) in batch.sequences.enumerated() {
            for t in sequence.tokens where t < 0 || t >= c.vocabularySize {
                throw .tokenOutOfRange(t, vocabularySize: c.vocabularySize)
            }
            let end = sequence.start + sequence.tokens.count
            guard sequence.blockTables.count == layerGroups.windows.count else {
                throw .kernel("\(sequence.blockTables.count) block tables for \(layerGroups.windows.count) KV groups")
            }
            let capacity = (sequence.blockTables.map(\.count).min() ?? 0) * cache.blockSize
            guard sequence.start >= 0, end <= capacity, end <= c.contextLength else {
                throw .contextFull(capacity: min(capacity, c.contextLength))
            }
            for (table, window) in zip(sequence.blockTables, layerGroups.windows) {
                // Blocks a window no longer reaches may be gone (-1); every other block is read.
                let unread = window.map { Attention.firstRead(position: sequence.start, window: $0, blockSize: cache.blockSize) } ?? 0
                for (i, block) in table.enumerated() where block >= cache.blockCount || (block < 0 && (i + 1) * cache.blockSize > unread) {
                    throw .kernel(block < 0 ? "no KV block \(i) where position \(sequence.start) reads"
                                            : "block \(block) outside the KV pool of \(cache.blockCount)")
                }
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
        if let factor = c.embeddingScale { Operations.scale(s.x, count: n * dim, by: factor) }
        let adapters = LoRARows(batch)
        // Per KV group, each sequence's table (every layer of the group reads the same one).
        let tablesOfGroup = layerGroups.windows.indices.map { g in batch.sequences.map { $0.blockTables[g] } }
        for (index, layer) in weights.layers.enumerated() {
            eachRow(n) { row in self.normalize(s.x + row * dim, layer.attentionNorm, into: s.normed + row * dim) }
            try projections.multiply(s.normed, batch: n, columns: dim,
                                     [(layer.query, s.q), (layer.key, s.k), (layer.value, s.v)], with: matmul)
            if adapters.any {
                adapt(adapters, layer: index, [(.query, s.normed, dim, s.q, c.queryDimension),
                                               (.key, s.normed, dim, s.k, c.kvDimension),
                                               (.value, s.normed, dim, s.v, c.kvDimension)])
            }
            let rope = weights.rope[index]
            let group = layerGroups.group[index], slot = layerGroups.slot[index]
            let tables = tablesOfGroup[group]
            eachRow(n) { row in
                let r = rows[row]
                let table = tables[r.sequence]
                let q = s.q + row * c.queryDimension, k = s.k + row * c.kvDimension, v = s.v + row * c.kvDimension
                if let bias = layer.queryBias { Operations.addBias(bias, to: q, rows: 1) }
                if let bias = layer.keyBias { Operations.addBias(bias, to: k, rows: 1) }
                if let bias = layer.valueBias { Operations.addBias(bias, to: v, rows: 1) }
                if let queryNorm = layer.queryNorm, let keyNorm = layer.keyNorm {
                    self.normalizeHeads(q, heads: c.headCount, weight: queryNorm)
                    self.normalizeHeads(k, heads: c.kvHeadCount, weight: keyNorm)
                }
                rope.apply(queries: q, heads: c.headCount, keys: k, heads: c.kvHeadCount, position: r.position)
                if let factor = c.attention.queryScale { Operations.scale(q, count: c.queryDimension, by: factor) }
                Operations.storeAsHalf(k, count: c.kvDimension,
                                       into: cache.position(cache.keys, slot: slot, table: table, position: r.position))
                Operations.storeAsHalf(v, count: c.kvDimension,
                                       into: cache.position(cache.values, slot: slot, table: table, position: r.position))
            }
            let starts = blockPointers.fill(slot: slot, tables: tables, cache: cache)
            Attention.run(Attention.Shape(c, layer: index), queries: s.q, rows: rows, tableStarts: starts,
                          pointers: blockPointers, blockSize: cache.blockSize, output: s.attention, pool: pool)
            try layer.attentionOutput.multiply(s.attention, batch: n, into: s.attended, with: matmul)
            if adapters.any { adapt(adapters, layer: index, [(.output, s.attention, c.queryDimension, s.attended, dim)]) }
            if let bias = layer.attentionOutputBias { Operations.addBias(bias, to: s.attended, rows: n) }
            // A parallel block's feed-forward reads the attention norm's output, still in `normed`.
            if let norm = layer.feedForwardNorm {
                addToResidual(s.attended, rows: n, postNorm: layer.postAttentionNorm)
                eachRow(n) { row in self.normalize(s.x + row * dim, norm, into: s.normed + row * dim) }
            }
            switch layer.feedForward {
            case .dense(let gate, let up, let down, let biases):
                let hidden = try denseFeedForward(gate: gate, up: up, biases: biases, adapters: adapters, layer: index, rows: n)
                try down.multiply(hidden, batch: n, into: s.normed, with: matmul)
                if adapters.any { adapt(adapters, layer: index, [(.down, hidden, c.feedForwardLength, s.normed, dim)]) }
                if let bias = biases.down { Operations.addBias(bias, to: s.normed, rows: n) }
            case .experts(let experts):
                guard let moe = mixture else { throw .kernel("expert weights without an expert configuration") }
                // In place: every input row is gathered before the first output row is written.
                try moe(s.normed, rows: n, experts: experts, matmul: matmul, into: s.normed)
            }
            // llama.cpp's phi2 graph: (attention + feed-forward) + residual.
            if layer.feedForwardNorm == nil { Operations.add(s.attended, into: s.normed, count: n * dim) }
            addToResidual(s.normed, rows: n, postNorm: layer.postFeedForwardNorm)
        }
    }

    /// The dense feed-forward up to its down projection, from the rows in `normed`: SwiGLU or
    /// GeGLU when gated, else `gelu_tanh(up x + b)`. Returns the buffer holding its output.
    private func denseFeedForward(gate: Linear?, up: Linear, biases: FeedForwardBiases, adapters: LoRARows, layer index: Int,
                                  rows n: Int) throws(ModelError) -> UnsafeMutablePointer<Float> {
        let c = configuration, s = scratch, dim = c.embeddingLength, ff = c.feedForwardLength
        guard let gate else {
            try up.multiply(s.normed, batch: n, into: s.up, with: matmul)
            if adapters.any { adapt(adapters, layer: index, [(.up, s.normed, dim, s.up, ff)]) }
            if let bias = biases.up { Operations.addBias(bias, to: s.up, rows: n) }
            eachRow(n) { row in ActivationKernels.gelu(s.up + row * ff, count: ff) }
            return s.up
        }
        try projections.multiply(s.normed, batch: n, columns: dim, [(gate, s.gate), (up, s.up)], with: matmul)
        if adapters.any { adapt(adapters, layer: index, [(.gate, s.normed, dim, s.gate, ff), (.up, s.normed, dim, s.up, ff)]) }
        if let bias = biases.gate { Operations.addBias(bias, to: s.gate, rows: n) }
        if let bias = biases.up { Operations.addBias(bias, to: s.up, rows: n) }
        // Row by row: ggml's 16-wide blocks restart at each row, which matters for widths that
        // are not a multiple of 16.
        eachRow(n) { row in
            let offset = row * ff
            switch c.activation {
            case .silu: Operations.swiGLU(gate: s.gate + offset, up: s.up + offset, count: ff)
            case .gelu: ActivationKernels.geGLU(gate: s.gate + offset, up: s.up + offset, count: ff)
            }
        }
        return s.gate
    }

    /// RMSNorm or LayerNorm of one row, as the configuration says.
    private func normalize(_ x: UnsafePointer<Float>, _ norm: NormWeights, into y: UnsafeMutablePointer<Float>) {
        let c = configuration
        switch c.norm {
        case .rms: Operations.rmsNorm(x, weight: norm.weight, count: c.embeddingLength, epsilon: c.normEpsilon, into: y)
        case .layer:
            Operations.layerNorm(x, weight: norm.weight, bias: norm.bias, count: c.embeddingLength, epsilon: c.normEpsilon, into: y)
        }
    }

    /// One projection's matmul output to adapt: its input rows and output rows, with strides.
    typealias AdaptedProjection = (projection: LoRAAdapter.Projection, input: UnsafeMutablePointer<Float>, inputStride: Int,
                                   output: UnsafeMutablePointer<Float>, outputStride: Int)

    /// Adds each adapted row's low-rank updates of `projections` (those that share an input,
    /// like Q, K and V) to their matmul outputs, in one parallel region. The base matmul ran
    /// once for every row; here the rows are gathered per adapter (Punica/S-LoRA's form), and
    /// each (adapter, projection, group of up to `loraGroupRows` of its rows) is one piece of
    /// work that reads the adapter's A and B once for the group. Every row is computed by the
    /// same kernels in the same order as alone, so its numbers never depend on the batch.
    private func adapt(_ rows: LoRARows, layer: Int, _ projections: [AdaptedProjection]) {
        var work: [(rows: ArraySlice<Int>, update: LoRAAdapter.Update, target: Int)] = []
        for (a, adapterRows) in rows.rowsByAdapter.enumerated() where !adapterRows.isEmpty {
            for (target, p) in projections.enumerated() {
                // An adapter fitted to another model must not read or write past these rows.
                guard let update = rows.adapters[a].update(layer: layer, p.projection),
                      update.inputs == p.inputStride, update.outputs == p.outputStride else { continue }
                for start in stride(from: 0, to: adapterRows.count, by: Self.loraGroupRows) {
                    work.append((adapterRows[start..<min(start + Self.loraGroupRows, adapterRows.count)], update, target))
                }
            }
        }
        guard !work.isEmpty else { return }
        let path = matmul.path
        func run(_ range: Range<Int>) {
            for item in work[range] {
                let p = projections[item.target]
                item.update.apply(rows: item.rows, p.input, xStride: p.inputStride, p.output, yStride: p.outputStride, path: path)
            }
        }
        // A few rows' updates take microseconds: waking the pool would cost more than the work.
        let multiplies = work.reduce(0) { $0 + $1.rows.count * $1.update.rank * ($1.update.inputs + $1.update.outputs) }
        if multiplies < Self.inlineLoRAMultiplies {
            run(0..<work.count)
        } else {
            pool.parallelFor(work.count, chunk: 1) { run($0) }
        }
    }

    /// Rows of one adapter that share one read of its A and B: enough to take most of the
    /// re-reading away, few enough that two workers still get balanced pieces.
    static let loraGroupRows = 4

    /// Below this many multiply-adds, a step's LoRA updates run on the step's thread.
    static let inlineLoRAMultiplies = 200_000

    /// RMSNorm of each `headDimension`-wide head in place (Qwen3's and Gemma 3's QK norm).
    private func normalizeHeads(_ x: UnsafeMutablePointer<Float>, heads: Int, weight: [Float]) {
        let hd = configuration.headDimension
        for h in 0..<heads {
            Operations.rmsNorm(x + h * hd, weight: weight, count: hd, epsilon: configuration.normEpsilon, into: x + h * hd)
        }
    }

    /// `x += output`, after normalising `output` first when the architecture has a post-norm.
    private func addToResidual(_ output: UnsafeMutablePointer<Float>, rows n: Int, postNorm: [Float]?) {
        let dim = configuration.embeddingLength
        guard let postNorm else {
            Operations.add(output, into: scratch.x, count: n * dim)
            return
        }
        let s = scratch, epsilon = configuration.normEpsilon
        eachRow(n) { row in
            let o = output + row * dim
            Operations.rmsNorm(o, weight: postNorm, count: dim, epsilon: epsilon, into: o)
            Operations.add(o, into: s.x + row * dim, count: dim)
        }
    }
}

extension DecoderModel {
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

/// The adapters of a batch's rows, and which rows use each.
struct LoRARows {
    let adapters: [LoRAAdapter]
    /// `rowsByAdapter[i]`: the rows (in order) that use `adapters[i]`.
    let rowsByAdapter: [[Int]]
    var any: Bool { !adapters.isEmpty }

    init(_ batch: ForwardBatch) {
        // The usual step has no adapter: nothing to build.
        guard batch.sequences.contains(where: { $0.adapter != nil }) else {
            (adapters, rowsByAdapter) = ([], [])
            return
        }
        var adapters: [LoRAAdapter] = []
        var byAdapter: [[Int]] = []
        var row = 0
        for sequence in batch.sequences {
            defer { row += sequence.tokens.count }
            guard let adapter = sequence.adapter else { continue }
            let index = adapters.firstIndex { $0 === adapter } ?? adapters.count
            if index == adapters.count {
                adapters.append(adapter)
                byAdapter.append([])
            }
            byAdapter[index].append(contentsOf: row..<row + sequence.tokens.count)
        }
        self.adapters = adapters
        rowsByAdapter = byAdapter
    }
}

/// Per-run buffers sized for `maxBatch` rows, owned by the model's one running thread.
final class DecoderScratch: @unchecked Sendable {
    /// `attended`: the attention block's output projection, before it joins the residual.
    let x, normed, q, k, v, attention, attended, gate, up: UnsafeMutablePointer<Float>

    init(configuration c: DecoderConfiguration, maxBatch: Int) {
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
        attended = buffer(c.embeddingLength)
        gate = buffer(c.feedForwardLength)
        up = buffer(c.feedForwardLength)
    }

    deinit {
        for p in [x, normed, q, k, v, attention, attended, gate, up] { p.deallocate() }
    }
}
