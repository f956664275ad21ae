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
    /// Room for `rows` rows of next-token logits, where this model's `forward` writes them.
    func makeLogitStorage(rows: Int) -> any LogitStorage
    /// Computes every sequence's tokens, writes their keys and values into `cache` through their
    /// block tables (one per `kvLayout` group), and writes the logits of each sequence's last
    /// `logitRows` tokens (at most its token count), in batch order, into `logits` from row 0.
    /// A row's logits do not depend on the batch around it (speculative verification relies on
    /// it).
    /// - Throws: `ModelError`, also for a cache or logit storage this model cannot write (another
    ///   backend's, or rows of another width) or too few logit rows; nothing is written to any
    ///   block position outside the batch's.
    func forward(_ batch: ForwardBatch, cache: any KVStorage, logits: any LogitStorage) throws(ModelError)
}

/// KV memory made by a model's `makePagedCache`, opaque to everything but that model.
public protocol KVStorage: AnyObject, Sendable {
    var blockSize: Int { get }
    var blockCount: Int { get }
}

/// Logit rows made by a model's `makeLogitStorage`. The model writes them where it computes; the
/// engine reads them on the host, where it samples, so a device backend keeps its own memory
/// here and hands rows out through `hostRow`.
public protocol LogitStorage: AnyObject, Sendable {
    /// Rows it holds, `vocabularySize` floats each.
    var rowCapacity: Int { get }
    var vocabularySize: Int { get }
    /// Row `row` (`0 ..< rowCapacity`) as the last `forward` left it, in host memory, valid until
    /// the next `forward`. The caller may change it in place (sampling masks and biases it).
    func hostRow(_ row: Int) -> UnsafeMutableBufferPointer<Float>
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

    public func forward(_ batch: ForwardBatch, cache: any KVStorage, logits: any LogitStorage) throws(ModelError) {
        guard let cache = cache as? PagedKVCache else { throw .kernel("a KV cache made by another model's backend") }
        guard let logits = logits as? HostLogits, logits.vocabularySize == vocabularySize else {
            throw .kernel("a logit storage made by another model or backend")
        }
        guard batch.sequences.allSatisfy({ $0.logitRows >= 0 }) else { throw .kernel("a negative count of logit rows") }
        let rows = batch.sequences.reduce(0) { $0 + min($1.logitRows, $1.tokens.count) }
        guard rows <= logits.rowCapacity else {
            throw .kernel("\(rows) logit rows for a storage of \(logits.rowCapacity)")
        }
        try forward(batch, cache: cache, logits: logits.base)
    }

    public func makeLogitStorage(rows: Int) -> any LogitStorage {
        HostLogits(rows: rows, vocabularySize: vocabularySize)
    }

    public func makePagedCache(blockSize: Int, blockCount: Int) -> any KVStorage {
        makeCPUCache(blockSize: blockSize, blockCount: blockCount)
    }
}

/// Logit rows in host memory: the CPU backend's `LogitStorage`, written by its matmuls in place.
final class HostLogits: LogitStorage, @unchecked Sendable {
    let rowCapacity: Int
    let vocabularySize: Int
    let base: UnsafeMutablePointer<Float>

    init(rows: Int, vocabularySize: Int) {
        rowCapacity = max(rows, 1)
        self.vocabularySize = vocabularySize
        base = .allocate(capacity: rowCapacity * vocabularySize)
        base.initialize(repeating: 0, count: rowCapacity * vocabularySize)
    }

    deinit { base.deallocate() }

    func hostRow(_ row: Int) -> UnsafeMutableBufferPointer<Float> {
        precondition(row >= 0 && row < rowCapacity, "logit row \(row) of \(rowCapacity)")
        return UnsafeMutableBufferPointer(start: base + row * vocabularySize, count: vocabularySize)
    }
}
