/// A single sequence's KV cache: a paged cache of its own whose block tables (one per group of
/// the model's `kvLayout`) are consecutive runs of its blocks; nothing is freed behind a window.
/// For running one sequence outside the engine (tests, `bench-engine`); it also holds the model's
/// one logit row that sequence's `forward` writes.
public final class KVCache: @unchecked Sendable {
    public let storage: any KVStorage
    let logits: any LogitStorage
    public let capacity: Int
    /// Positions filled so far.
    public private(set) var count = 0
    let tables: [[Int]]

    /// A cache of `capacity` positions in `model`'s own KV storage.
    public init(model: any LanguageModel, capacity: Int, blockSize: Int = 16) {
        let blocks = (max(capacity, 1) + blockSize - 1) / blockSize
        let layout = model.kvLayout(blockSize: blockSize)
        storage = model.makePagedCache(blockSize: blockSize, blockCount: blocks * layout.reaches.count)
        logits = model.makeLogitStorage(rows: 1)
        self.capacity = capacity
        tables = layout.tables(forSequence: 0, blocks: blocks)
    }

    func advance(by n: Int) { count += n }
}

extension LanguageModel {
    /// A cache for one sequence of up to `capacity` tokens (at most the context length).
    public func makeCache(capacity: Int) -> KVCache {
        KVCache(model: self, capacity: min(capacity, contextLength))
    }

    /// Runs `tokens` after the positions already in `cache` and copies the last token's logits
    /// into `logits`, as llama.cpp does with one sequence: a call with several tokens uses the
    /// multi-token attention order, a call with one token the single-token order. Longer inputs
    /// than `maxBatch` are split into chunks (all in the multi-token order).
    /// - Throws: `ModelError.tokenOutOfRange` or `.contextFull`; the cache is unchanged then.
    public func forward(tokens: [Int], cache: KVCache, logits: UnsafeMutableBufferPointer<Float>) throws(ModelError) {
        guard cache.count + tokens.count <= cache.capacity else { throw .contextFull(capacity: cache.capacity) }
        guard !tokens.isEmpty, logits.count >= vocabularySize else {
            throw .kernel("logits buffer of \(logits.count) floats for a vocabulary of \(vocabularySize)")
        }
        let batchedBelow = tokens.count > 1 ? cache.count + tokens.count : 0
        var start = 0
        while start < tokens.count {
            let end = min(start + maxBatch, tokens.count)
            let sequence = ForwardBatch.Sequence(tokens: Array(tokens[start..<end]), start: cache.count, blockTables: cache.tables,
                                                 batchedOrderBelow: batchedBelow, logitRows: end == tokens.count ? 1 : 0)
            try forward(ForwardBatch(sequences: [sequence]), cache: cache.storage, logits: cache.logits)
            cache.advance(by: end - start)
            start = end
        }
        _ = logits.update(fromContentsOf: cache.logits.hostRow(0))
    }
}
