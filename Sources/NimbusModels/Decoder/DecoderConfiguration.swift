import Foundation

/// How a decoder-only transformer is put together: its sizes, read from the file's metadata, and
/// the choices among the shared blocks that its architecture makes (`Architectures/`).
/// `DecoderModel` runs any value of it, so an architecture is a function from metadata to this.
public struct DecoderConfiguration: Sendable, Equatable {
    /// `general.architecture`, the key prefix of its hyperparameters.
    public var architecture: String
    public var vocabularySize: Int
    public var embeddingLength: Int
    public var feedForwardLength: Int
    public var blockCount: Int
    public var headCount: Int
    public var kvHeadCount: Int
    public var headDimension: Int
    public var contextLength: Int
    public var normEpsilon: Float
    /// RMSNorm, or LayerNorm with a bias (Phi-2), for every norm of the model.
    public var norm: NormKind = .rms

    /// Token embeddings are multiplied by this (Gemma: the square root of the width).
    public var embeddingScale: Float? = nil
    public var attention = AttentionOptions()
    public var rope: RopeOptions
    public var activation: FeedForwardActivation = .silu
    /// Whether the dense feed-forward is gated (`act(gate) * up`, then down) or a plain GELU
    /// MLP (`gelu_tanh(up)`, then down: Phi-2's, with `ffn_up`/`ffn_down` biases).
    public var gatedFeedForward = true
    /// Phi-2's (GPT-J's) parallel block: attention and feed-forward both read the attention
    /// norm's output, and their sum joins the residual stream (there is no `ffn_norm`).
    public var parallelBlocks = false
    /// Mixture of experts in place of the dense feed-forward, when the file has expert tensors.
    public var experts: ExpertOptions? = nil
    /// Gemma 2/3's "sandwich": the attention and feed-forward outputs are normalised again before
    /// they join the residual stream.
    public var postAttentionNorm = false
    public var postFeedForwardNorm = false
    /// Logits become `cap * tanh(logits / cap)` (Gemma 2).
    public var finalLogitSoftCap: Float? = nil
    /// One entry per layer: what differs between layers (attention window, RoPE frequencies).
    public var layers: [LayerPlan]

    public var kvDimension: Int { kvHeadCount * headDimension }
    public var queryDimension: Int { headCount * headDimension }
}

public struct AttentionOptions: Sendable, Equatable {
    /// RMS-normalise each query and key head before RoPE (`attn_q_norm`/`attn_k_norm`).
    public var headNorms = false
    /// Queries are multiplied by this after RoPE, and the softmax scale is then 1 (Gemma 3),
    /// as llama.cpp does: where the scaling happens changes the rounding.
    public var queryScale: Float? = nil
    /// The factor on Q·K inside the softmax; nil is 1/sqrt(head dimension).
    public var softmaxScale: Float? = nil
    /// Scores become `cap * tanh(score / cap)` before the softmax (Gemma 2).
    public var logitSoftCap: Float? = nil
}

/// Which dimensions RoPE rotates together.
public enum RopeLayout: String, Sendable {
    /// Adjacent pairs (2i, 2i+1): Llama (whose GGUF conversion permutes Q/K for it).
    case normal
    /// Pairs (i, i + d/2): GPT-NeoX, Qwen, Gemma, Phi-3.
    case neox
}

public struct RopeOptions: Sendable, Equatable {
    public var layout: RopeLayout
    /// Rotated dimensions per head (`rope.dimension_count`); usually the whole head.
    public var dimensionCount: Int
    /// `rope.scaling.type`. The frequency scale itself is per layer (`LayerPlan.ropeScale`).
    public var scaling: RopeScaling = .linear
    /// `rope.scaling.original_context_length`, else `context_length`: where YaRN's blend between
    /// interpolated and extrapolated angles lies, and the context above which LongRoPE takes its
    /// long factors.
    public var originalContextLength: Int
    /// What cos and sin are multiplied by: `rope.scaling.attn_factor` (Phi-3 LongRoPE's
    /// magnitude correction), after llama.cpp's YaRN adjustment of it. YaRN's own correction,
    /// which depends on each layer's frequency scale, is `RotaryEmbedding`'s.
    public var magnitude: Float = 1
}

/// How RoPE stretches positions past the trained context, as llama.cpp names the kinds.
public enum RopeScaling: String, Sendable, CaseIterable {
    /// No scaling, whatever `rope.scaling.factor` says.
    case none
    /// Angles times 1 / factor.
    case linear
    /// Linear scaling blended with the unscaled angles across the pairs, and a magnitude correction.
    case yarn
    /// Per-pair divisors (`rope_factors_short`/`_long`) and `attn_factor` (Phi-3).
    case longrope
}

public enum FeedForwardActivation: String, Sendable {
    /// `silu(gate) * up` (SwiGLU).
    case silu
    /// `gelu_tanh(gate) * up` (GeGLU), or `gelu_tanh(up)` ungated, with ggml's fp16 lookup table.
    case gelu
}

public enum NormKind: String, Sendable {
    /// `x / sqrt(mean(x²) + eps) * w`.
    case rms
    /// `(x - mean) / sqrt(var + eps) * w + b` (ggml_norm, then the weight and the bias).
    case layer
}

public struct ExpertOptions: Sendable, Equatable {
    public var count: Int
    /// Experts each token is routed to.
    public var used: Int
    /// Width of one expert's feed-forward.
    public var feedForwardLength: Int
    /// Renormalise the chosen experts' weights to sum to one (Mixtral, Qwen3-MoE).
    public var normalizeWeights: Bool
    /// Width of the shared expert that every row also goes through, scaled by a sigmoid gate
    /// (Qwen2-MoE); nil when there is none.
    public var sharedFeedForwardLength: Int? = nil
}

/// What one layer does differently from the others.
public struct LayerPlan: Sendable, Hashable {
    /// A sliding-window layer attends to the last `window` positions only; nil is global.
    public var window: Int?
    public var ropeBase: Float
    /// Positions are multiplied by this (linear RoPE scaling: 1 / factor).
    public var ropeScale: Float

    public init(window: Int?, ropeBase: Float, ropeScale: Float) {
        self.window = window
        self.ropeBase = ropeBase
        self.ropeScale = ropeScale
    }
}

extension DecoderConfiguration {
    /// The hyperparameters every architecture stores under its prefix, with llama.cpp's defaults,
    /// checked for consistency; the architecture then sets what is its own.
    public init(standard metadata: some ModelMetadata, architecture arch: String, rope layout: RopeLayout) throws(ModelError) {
        let keys = MetadataKeys(metadata: metadata, prefix: arch)
        architecture = arch
        embeddingLength = try keys.positive("embedding_length")
        feedForwardLength = try keys.positive("feed_forward_length")
        // llama.cpp's LLAMA_MAX_LAYERS: per-layer plans are allocated before any tensor is
        // read, so a damaged count must be refused here, not discovered as missing tensors.
        blockCount = try keys.positive("block_count", atMost: 512)
        headCount = try keys.positive("attention.head_count", atMost: 1 << 16)
        kvHeadCount = metadata.int("\(arch).attention.head_count_kv") ?? headCount
        contextLength = try keys.positive("context_length")
        guard kvHeadCount > 0, headCount % kvHeadCount == 0 else {
            throw .badHyperparameter(key: "\(arch).attention.head_count_kv",
                                     reason: "\(kvHeadCount) does not divide head_count \(headCount)")
        }
        let keyLength = metadata.int("\(arch).attention.key_length")
        if let keyLength, !(1...(1 << 16)).contains(keyLength) {
            throw .badHyperparameter(key: "\(arch).attention.key_length", reason: "\(keyLength) is out of range")
        }
        if keyLength == nil, embeddingLength % headCount != 0 {
            throw .badHyperparameter(key: "\(arch).embedding_length",
                                     reason: "\(embeddingLength) is not a multiple of head_count \(headCount)")
        }
        headDimension = keyLength ?? embeddingLength / headCount
        guard headDimension > 0, headDimension % 2 == 0 else {
            throw .badHyperparameter(key: "\(arch).attention.key_length", reason: "head size \(headDimension) must be even")
        }
        if let valueLength = metadata.int("\(arch).attention.value_length"), valueLength != headDimension {
            throw .badHyperparameter(key: "\(arch).attention.value_length",
                                     reason: "\(valueLength) differs from the key length \(headDimension), which Nimbus does not support")
        }
        normEpsilon = Float(metadata.float("\(arch).attention.layer_norm_rms_epsilon") ?? 1e-5)
        let rotated = metadata.int("\(arch).rope.dimension_count") ?? headDimension
        guard rotated > 0, rotated <= headDimension, rotated % 2 == 0 else {
            throw .badHyperparameter(key: "\(arch).rope.dimension_count",
                                     reason: "\(rotated) must be even and at most the head size \(headDimension)")
        }
        let scalingName = metadata.string("\(arch).rope.scaling.type") ?? "linear"
        guard let scaling = RopeScaling(rawValue: scalingName) else {
            throw .badHyperparameter(key: "\(arch).rope.scaling.type",
                                     reason: "'\(scalingName)' is not supported (supported: \(RopeScaling.allCases.map(\.rawValue).joined(separator: ", ")), and Llama 3's rope_freqs tensor)")
        }
        let original = metadata.int("\(arch).rope.scaling.original_context_length") ?? contextLength
        guard original > 0 else {
            throw .badHyperparameter(key: "\(arch).rope.scaling.original_context_length", reason: "must be positive, got \(original)")
        }
        // llama.cpp reads `rope.scaling.factor` (or the older `rope.scale_linear`) whatever the
        // scaling type, as a float; its frequency scale is the float 1 / factor.
        let factor = Float(metadata.float("\(arch).rope.scaling.factor") ?? metadata.float("\(arch).rope.scale_linear") ?? 0)
        guard factor.isFinite, factor >= 0 else {
            throw .badHyperparameter(key: "\(arch).rope.scaling.factor", reason: "must be a finite number at least 0, got \(factor)")
        }
        let frequencyScale: Float = scaling == .none || factor == 0 ? 1 : 1 / factor
        let attentionFactor = Float(metadata.float("\(arch).rope.scaling.attn_factor") ?? 1)
        guard attentionFactor.isFinite, attentionFactor > 0 else {
            throw .badHyperparameter(key: "\(arch).rope.scaling.attn_factor", reason: "must be positive, got \(attentionFactor)")
        }
        rope = RopeOptions(layout: layout, dimensionCount: rotated, scaling: scaling, originalContextLength: original,
                           magnitude: Self.ropeMagnitude(scaling, frequencyScale: frequencyScale, attentionFactor: attentionFactor))
        let global = LayerPlan(window: nil, ropeBase: Float(metadata.float("\(arch).rope.freq_base") ?? 10_000),
                               ropeScale: frequencyScale)
        layers = Array(repeating: global, count: blockCount)
        // Older conversions omit vocab_size; the token list is authoritative then.
        vocabularySize = metadata.int("\(arch).vocab_size") ?? metadata.strings("tokenizer.ggml.tokens")?.count ?? 0
        guard vocabularySize > 0 else { throw .badHyperparameter(key: "\(arch).vocab_size", reason: "missing") }
    }

    /// llama.cpp's `yarn_attn_factor` (llama-context.cpp), in its float steps: for YaRN the
    /// magnitude 0.1 ln(factor) + 1 times its own inverse (the rotation then applies the
    /// magnitude once per layer), then `attn_factor`. libllama is built without FMA, so the
    /// multiply and the add round separately here (unlike ggml-cpu's rotation, which fuses them).
    static func ropeMagnitude(_ scaling: RopeScaling, frequencyScale: Float, attentionFactor: Float) -> Float {
        guard scaling == .yarn else { return attentionFactor }
        let factor = 1 / frequencyScale
        let scaledLog: Float = 0.1 * logf(factor)
        let corrected = scaledLog + 1
        return (factor <= 1 ? 1 : corrected) * (1 / corrected) * attentionFactor
    }

    /// LayerNorm with biases for every norm, with its own epsilon key
    /// (`attention.layer_norm_epsilon`), which llama.cpp requires of these families.
    mutating func useLayerNorm(_ metadata: some ModelMetadata) throws(ModelError) {
        let key = "\(architecture).attention.layer_norm_epsilon"
        guard let epsilon = metadata.float(key) else { throw .badHyperparameter(key: key, reason: "missing") }
        guard epsilon.isFinite, epsilon >= 0 else { throw .badHyperparameter(key: key, reason: "must be at least 0, got \(epsilon)") }
        norm = .layer
        normEpsilon = Float(epsilon)
    }

    /// Makes the local layers attend to a window of `window` positions with their own RoPE
    /// base and scale. Which layers are local: `attention.sliding_window_pattern` as one flag
    /// per layer, or as a period n (layer i is local unless i % n == n - 1; 0 makes every layer
    /// local), `period` when the file has neither, as llama.cpp's `set_swa_pattern`.
    mutating func slideWindow(_ window: Int, period: Int, ropeBase: Float, ropeScale: Float,
                              metadata: some ModelMetadata) throws(ModelError) {
        let key = "\(architecture).attention.sliding_window_pattern"
        guard window > 0 else { throw .badHyperparameter(key: "\(architecture).attention.sliding_window", reason: "must be positive, got \(window)") }
        let flags = metadata.bools(key)
        if let flags, flags.count != blockCount {
            throw .badHyperparameter(key: key, reason: "\(flags.count) flags for \(blockCount) layers")
        }
        let n = metadata.int(key) ?? period
        for i in layers.indices where flags?[i] ?? (n == 0 || i % n < n - 1) {
            layers[i].window = window
            layers[i].ropeBase = ropeBase
            layers[i].ropeScale = ropeScale
        }
    }
}

/// Reads `prefix.key` hyperparameters with checks that name the key.
struct MetadataKeys<Metadata: ModelMetadata> {
    let metadata: Metadata
    let prefix: String

    /// A count or width above `atMost` (default 2^24, far past any real model) is damage, and
    /// refused before anything is sized by it.
    func positive(_ key: String, atMost limit: Int = 1 << 24) throws(ModelError) -> Int {
        guard let v = metadata.int("\(prefix).\(key)") else {
            throw .badHyperparameter(key: "\(prefix).\(key)", reason: "missing")
        }
        guard v > 0 else { throw .badHyperparameter(key: "\(prefix).\(key)", reason: "must be positive, got \(v)") }
        guard v <= limit else { throw .badHyperparameter(key: "\(prefix).\(key)", reason: "\(v) is larger than \(limit)") }
        return v
    }

    func float(_ key: String) -> Float? { metadata.float("\(prefix).\(key)").map { Float($0) } }
    func int(_ key: String) -> Int? { metadata.int("\(prefix).\(key)") }
}

extension ExpertOptions {
    /// The experts of a mixture-of-experts file (`expert_count`, `expert_used_count`,
    /// `expert_feed_forward_length`), or nil when the file has none.
    init?(metadata: some ModelMetadata, prefix: String, normalizeWeights: Bool) throws(ModelError) {
        let keys = MetadataKeys(metadata: metadata, prefix: prefix)
        guard let count = keys.int("expert_count"), count > 0 else { return nil }
        guard count <= 1 << 12 else { throw .badHyperparameter(key: "\(prefix).expert_count", reason: "\(count) is larger than 4096") }
        let used = try keys.positive("expert_used_count")
        guard used <= count else {
            throw .badHyperparameter(key: "\(prefix).expert_used_count", reason: "\(used) exceeds expert_count \(count)")
        }
        let width = try keys.positive(keys.int("expert_feed_forward_length") == nil ? "feed_forward_length" : "expert_feed_forward_length")
        self.init(count: count, used: used, feedForwardLength: width, normalizeWeights: normalizeWeights)
    }

    /// The experts of an architecture that always has them (qwen2moe, qwen3moe), as llama.cpp
    /// reads them there: without `expert_feed_forward_length`, the dense `feed_forward_length`
    /// (`denseWidth`) divided among the used experts.
    init(requiredBy metadata: some ModelMetadata, prefix: String, denseWidth: Int, normalizeWeights: Bool) throws(ModelError) {
        guard var experts = try ExpertOptions(metadata: metadata, prefix: prefix, normalizeWeights: normalizeWeights) else {
            throw .badHyperparameter(key: "\(prefix).expert_count", reason: "missing or zero; a \(prefix) file needs experts")
        }
        if metadata.int("\(prefix).expert_feed_forward_length") == nil {
            experts.feedForwardLength = denseWidth / experts.used
            guard experts.feedForwardLength > 0 else {
                throw .badHyperparameter(key: "\(prefix).expert_feed_forward_length",
                                         reason: "missing, and feed_forward_length \(denseWidth) is less than expert_used_count \(experts.used)")
            }
        }
        self = experts
    }
}
