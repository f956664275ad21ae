import NimbusGGUF

/// Hyperparameters of a Llama-family model, read from GGUF metadata (`llama.*` keys).
public struct LlamaConfiguration: Sendable, Equatable {
    public var vocabularySize: Int
    public var embeddingLength: Int
    public var feedForwardLength: Int
    public var blockCount: Int
    public var headCount: Int
    public var kvHeadCount: Int
    public var headDimension: Int
    public var contextLength: Int
    public var rmsNormEpsilon: Float
    public var ropeFrequencyBase: Float
    /// Rotated dimensions per head (`rope.dimension_count`); usually the whole head.
    public var ropeDimensionCount: Int
    /// Linear position scaling (`rope.scaling.factor` with type linear): positions are multiplied by this.
    public var ropeFrequencyScale: Float

    public var kvDimension: Int { kvHeadCount * headDimension }
    public var queryDimension: Int { headCount * headDimension }

    /// Reads the hyperparameters under the architecture prefix `arch` (for example `llama`).
    public init(gguf: GGUFFile, architecture arch: String) throws(ModelError) {
        func required(_ key: String) throws(ModelError) -> Int {
            guard let v = gguf.int("\(arch).\(key)") else {
                throw .badHyperparameter(key: "\(arch).\(key)", reason: "missing")
            }
            guard v > 0 else { throw .badHyperparameter(key: "\(arch).\(key)", reason: "must be positive, got \(v)") }
            return v
        }
        embeddingLength = try required("embedding_length")
        feedForwardLength = try required("feed_forward_length")
        blockCount = try required("block_count")
        headCount = try required("attention.head_count")
        kvHeadCount = gguf.int("\(arch).attention.head_count_kv") ?? headCount
        contextLength = try required("context_length")
        guard kvHeadCount > 0, headCount % kvHeadCount == 0 else {
            throw .badHyperparameter(key: "\(arch).attention.head_count_kv",
                                     reason: "\(kvHeadCount) does not divide head_count \(headCount)")
        }
        guard embeddingLength % headCount == 0 else {
            throw .badHyperparameter(key: "\(arch).embedding_length",
                                     reason: "\(embeddingLength) is not a multiple of head_count \(headCount)")
        }
        headDimension = gguf.int("\(arch).attention.key_length") ?? embeddingLength / headCount
        guard headDimension % 2 == 0 else {
            throw .badHyperparameter(key: "\(arch).attention.key_length", reason: "head size \(headDimension) must be even")
        }
        rmsNormEpsilon = Float(gguf.float("\(arch).attention.layer_norm_rms_epsilon") ?? 1e-5)
        ropeFrequencyBase = Float(gguf.float("\(arch).rope.freq_base") ?? 10_000)
        ropeDimensionCount = gguf.int("\(arch).rope.dimension_count") ?? headDimension
        guard ropeDimensionCount > 0, ropeDimensionCount <= headDimension, ropeDimensionCount % 2 == 0 else {
            throw .badHyperparameter(key: "\(arch).rope.dimension_count", reason: "\(ropeDimensionCount) must be even and at most the head size \(headDimension)")
        }
        ropeFrequencyScale = 1
        if gguf.string("\(arch).rope.scaling.type") == "linear", let factor = gguf.float("\(arch).rope.scaling.factor"), factor > 0 {
            ropeFrequencyScale = Float(1 / factor)
        }
        // Older conversions omit vocab_size; the token list is authoritative then.
        vocabularySize = gguf.int("\(arch).vocab_size") ?? gguf.metadata["tokenizer.ggml.tokens"]?.arrayValue?.count ?? 0
        guard vocabularySize > 0 else { throw .badHyperparameter(key: "\(arch).vocab_size", reason: "missing") }
    }
}
