import NimbusKernels

/// A causal language model as the engine drives it: a batch of sequences in, next-token logits
/// out, keys and values kept in a paged cache that the model itself allocates. Nothing here
/// names an architecture or a compute backend: `DecoderModel` runs every architecture on the
/// CPU, and another backend would implement the same protocol with a cache of its own.
///
/// Implementations are not reentrant; one thread (the engine's) calls `forward`.
public protocol LanguageModel: AnyObject, Sendable {
    var vocabularySize: Int { get }
    /// The context length the model was trained for.
    var contextLength: Int { get }
    /// Most rows (tokens over all sequences) one `forward` call takes.
    var maxBatch: Int { get }
    /// How the KV cache splits into block tables for blocks of `blockSize` positions.
    func kvLayout(blockSize: Int) -> KVLayout
    /// Where and how it computes, for logs and the status page.
    var backend: BackendDescription { get }
    /// A KV pool of `blockCount` blocks of `blockSize` positions (any block serves any group of
    /// `kvLayout`).
    func makePagedCache(blockSize: Int, blockCount: Int) -> any KVStorage
    /// Computes every sequence's tokens, writes their keys and values into `cache` through their
    /// block tables (one per `kvLayout` group), and writes the logits of each sequence's last
    /// `logitRows` tokens, in batch order, `vocabularySize` floats apart, at `logits` (host
    /// memory). A row's logits do not depend on the batch around it (speculative verification
    /// relies on it).
    /// - Throws: `ModelError`; nothing is written to any block position outside the batch's.
    func forward(_ batch: ForwardBatch, cache: any KVStorage, logits: UnsafeMutablePointer<Float>) throws(ModelError)
}

/// KV memory made by a model's `makePagedCache`, opaque to everything but that model.
public protocol KVStorage: AnyObject, Sendable {
    var blockSize: Int { get }
    var blockCount: Int { get }
}

/// What runs a model: the backend, its kernel implementation and its one numeric choice.
public struct BackendDescription: Sendable, Equatable {
    /// `cpu` (a GPU backend would name itself here).
    public var name: String
    /// The kernel implementation chosen for this machine (`avx512vnni`, `avx2`, `scalar`).
    public var kernels: String
    /// How quantized matmuls round (`SummationOrder`), fixed for the model's life.
    public var matmulOrder: String
}

extension DecoderModel: LanguageModel {
    public var vocabularySize: Int { configuration.vocabularySize }
    public var contextLength: Int { configuration.contextLength }
    public func kvLayout(blockSize: Int) -> KVLayout {
        KVLayout(reaches: layerGroups.windows.map { $0.map { Attention.reach(window: $0, blockSize: blockSize) } },
                 bytesPerPosition: PagedKVCache.bytesPerPosition(layersPerBlock: layerGroups.size,
                                                                 kvDimension: configuration.kvDimension))
    }
    public var backend: BackendDescription {
        BackendDescription(name: "cpu", kernels: kernelPath, matmulOrder: summationOrder.rawValue)
    }

    public func forward(_ batch: ForwardBatch, cache: any KVStorage, logits: UnsafeMutablePointer<Float>) throws(ModelError) {
        guard let cache = cache as? PagedKVCache else { throw .kernel("a KV cache made by another model's backend") }
        try forward(batch, cache: cache, logits: logits)
    }

    public func makePagedCache(blockSize: Int, blockCount: Int) -> any KVStorage {
        makeCPUCache(blockSize: blockSize, blockCount: blockCount)
    }
}
