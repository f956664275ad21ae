import NimbusKernels

/// A causal language model as the engine drives it: a batch of sequences in, next-token logits
/// out, keys and values kept in a paged cache.
///
/// Implementations are not reentrant; one thread (the engine's) calls `forward`.
public protocol LanguageModel: AnyObject, Sendable {
    var vocabularySize: Int { get }
    /// The context length the model was trained for.
    var contextLength: Int { get }
    /// Most rows (tokens over all sequences) one `forward` call takes.
    var maxBatch: Int { get }
    /// Bytes of KV cache per token.
    var kvBytesPerToken: Int { get }
    /// How its quantized matmuls round (fixed for the model's life, so batching never changes it).
    var summationOrder: SummationOrder { get }
    /// A KV pool of `blockCount` blocks of `blockSize` positions for this model's layers.
    func makePagedCache(blockSize: Int, blockCount: Int) -> PagedKVCache
    /// A cache for one sequence of up to `capacity` tokens (see `forward(tokens:cache:logits:)`).
    func makeCache(capacity: Int) -> KVCache
    /// Computes every sequence's tokens, writes their keys and values into `cache` through their
    /// block tables, and writes the logits of each sequence that wants them, in batch order,
    /// `vocabularySize` floats apart, at `logits`.
    /// - Throws: `ModelError`; nothing is written to any block position outside the batch's.
    func forward(_ batch: ForwardBatch, cache: PagedKVCache, logits: UnsafeMutablePointer<Float>) throws(ModelError)
}

extension LlamaModel: LanguageModel {
    public var vocabularySize: Int { configuration.vocabularySize }
    public var contextLength: Int { configuration.contextLength }
    public var kvBytesPerToken: Int {
        PagedKVCache.bytesPerToken(layers: configuration.blockCount, kvDimension: configuration.kvDimension)
    }
}
