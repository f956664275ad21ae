import Foundation
import NimbusKernels
import NimbusSafetensors

/// A Hugging Face decoder checkpoint folder (`config.json`, safetensors weights, `tokenizer.json`,
/// `tokenizer_config.json`, `generation_config.json`) seen as a GGUF file of the same model:
/// the JSON files become the metadata keys llama.cpp's converter writes (`metadata`), the
/// weights are found under GGUF names (`tensors`). Everything after that (configuration,
/// weights, tokenizer, template) is the GGUF path, unchanged.
struct HuggingFaceCheckpoint {
    /// The GGUF architecture name (`llama`, `qwen2`, ...).
    let architecture: String
    let type: any DecoderArchitecture.Type
    let layout: HuggingFaceLayout
    let metadata: MetadataTable
    let tensors: HuggingFaceTensors

    /// Whether `directory` holds a decoder checkpoint (`config.json` naming a `...ForCausalLM`
    /// class or a decoder `model_type`), as opposed to an encoder.
    static func isDecoder(directory: String) -> Bool {
        guard let config = try? JSONFile.object(directory + "/config.json") else { return false }
        if let classes = config["architectures"] as? [String], classes.contains(where: { $0.hasSuffix("ForCausalLM") }) {
            return true
        }
        return (config["model_type"] as? String).flatMap { ArchitectureRegistry.architecture(huggingFaceType: $0) } != nil
    }

    /// Reads the folder's JSON files and opens its weights (read once into owned memory, nothing else copied).
    /// - Throws: `ModelError` naming the file and key that is missing or unsupported, or
    ///   `SafetensorsError` for unreadable weights.
    init(directory: String) throws {
        guard let config = try JSONFile.object(directory + "/config.json") else {
            throw ModelError.badHyperparameter(key: directory + "/config.json", reason: "is missing")
        }
        let modelType = config["model_type"] as? String ?? ""
        guard let (name, type) = ArchitectureRegistry.architecture(huggingFaceType: modelType), let layout = type.huggingFace else {
            throw ModelError.unsupportedCheckpoint(modelType)
        }
        architecture = name
        self.type = type
        self.layout = layout
        var table = MetadataTable()
        table["general.architecture"] = .string(name)
        table["general.name"] = .string((directory as NSString).lastPathComponent)
        let rope = try Self.readHyperparameters(config, architecture: name, into: &table)
        try HuggingFaceTokenizerFiles.read(directory: directory, config: config, into: &table)
        metadata = table
        tensors = try HuggingFaceTensors(checkpoint: SafetensorsCheckpoint(directory: directory), layout: layout,
                                         ropeFactors: rope)
    }

    /// `config.json` under llama.cpp's keys; returns the RoPE factor tensors the converter would
    /// have computed (Llama 3's `rope_freqs`, LongRoPE's short and long factors).
    static func readHyperparameters(_ config: [String: Any], architecture a: String,
                                    into table: inout MetadataTable) throws(ModelError) -> [String: [Float]] {
        func int(_ key: String) -> Int? { (config[key] as? NSNumber).flatMap { Int(exactly: $0.doubleValue) } }
        func double(_ key: String) -> Double? { (config[key] as? NSNumber)?.doubleValue }
        let ints: [(String, String)] = [
            ("max_position_embeddings", "context_length"), ("hidden_size", "embedding_length"),
            ("num_hidden_layers", "block_count"), ("intermediate_size", "feed_forward_length"),
            ("num_attention_heads", "attention.head_count"), ("num_key_value_heads", "attention.head_count_kv"),
            ("head_dim", "attention.key_length"), ("head_dim", "attention.value_length"), ("vocab_size", "vocab_size"),
            ("sliding_window", "attention.sliding_window"), ("sliding_window_pattern", "attention.sliding_window_pattern"),
        ]
        for (from, to) in ints { if let v = int(from) { table["\(a).\(to)"] = .int(v) } }
        if let kinds = config["layer_types"] as? [String] {
            table["\(a).attention.sliding_window_pattern"] = .bools(kinds.map { $0 == "sliding_attention" })
        }
        let doubles: [(String, String)] = [
            ("rms_norm_eps", "attention.layer_norm_rms_epsilon"), ("attn_logit_softcapping", "attn_logit_softcapping"),
            ("final_logit_softcapping", "final_logit_softcapping"),
        ]
        for (from, to) in doubles { if let v = double(from) { table["\(a).\(to)"] = .float(v) } }
        let (scaling, slidingBase) = Self.ropeParameters(config)
        if let base = (scaling["rope_theta"] as? NSNumber)?.doubleValue { table["\(a).rope.freq_base"] = .float(base) }
        if let slidingBase { table["\(a).rope.freq_base_swa"] = .float(slidingBase) }
        let heads = int("num_attention_heads") ?? 1
        let headDimension = int("head_dim") ?? (int("hidden_size") ?? 0) / max(1, heads)
        if let partial = (scaling["partial_rotary_factor"] as? NSNumber)?.doubleValue {
            guard partial > 0, partial <= 1 else {
                throw .badHyperparameter(key: "config.json partial_rotary_factor", reason: "must be in (0, 1], got \(partial)")
            }
            table["\(a).rope.dimension_count"] = .int(Int(Double(headDimension) * partial))
        }
        let kind = scaling["rope_type"] as? String ?? "none"
        let factor = (scaling["factor"] as? NSNumber)?.doubleValue
        let original = (scaling["original_max_position_embeddings"] as? NSNumber).flatMap { Int(exactly: $0.doubleValue) }
        switch kind {
        case "default", "none":
            return [:]
        case "linear", "yarn":
            // The converter writes these only with a factor.
            guard let factor else { return [:] }
            table["\(a).rope.scaling.type"] = .string(kind)
            table["\(a).rope.scaling.factor"] = .float(factor)
            if kind == "yarn", let original { table["\(a).rope.scaling.original_context_length"] = .int(original) }
            return [:]
        case "llama3":
            return ["rope_freqs.weight": try llama3Factors(scaling, base: table.float("\(a).rope.freq_base") ?? 10_000,
                                                           dimension: headDimension)]
        case "longrope", "su":
            guard let short = scaling["short_factor"] as? [NSNumber] else {
                throw .badHyperparameter(key: "config.json rope_scaling.short_factor", reason: "missing for longrope")
            }
            table["\(a).rope.scaling.type"] = .string("longrope")
            // What llama.cpp's converter writes: the original context (the long factors apply
            // above it) and the magnitude correction sqrt(1 + ln(positions / original) / ln(original)).
            if let original, original > 1 {
                table["\(a).rope.scaling.original_context_length"] = .int(original)
                if let positions = double("max_position_embeddings"), positions > Double(original) {
                    let o = Double(original)
                    table["\(a).rope.scaling.attn_factor"] = .float((1 + log(positions / o) / log(o)).squareRoot())
                }
            }
            var factors = ["rope_factors_short.weight": short.map { $0.floatValue }]
            if let long = scaling["long_factor"] as? [NSNumber] { factors["rope_factors_long.weight"] = long.map { $0.floatValue } }
            return factors
        default:
            throw .badHyperparameter(key: "config.json rope_scaling", reason: "type '\(kind)' is not supported (supported: linear, yarn, llama3, longrope)")
        }
    }

    /// The RoPE settings as llama.cpp's converter gathers them (`ModelBase.__init__`,
    /// `set_gguf_parameters`): transformers 5's `rope_parameters`, else `rope_scaling`, with the
    /// top-level `rope_theta`, `rope_local_base_freq` (as `sliding_attention`), `partial_rotary_factor`
    /// and `original_max_position_embeddings` filled in where it lacks them, and `type` as
    /// `rope_type`; then the `full_attention` entry where there is one per layer type, and the
    /// sliding layers' base.
    static func ropeParameters(_ config: [String: Any]) -> (full: [String: Any], slidingBase: Double?) {
        var rope = config["rope_parameters"] as? [String: Any] ?? config["rope_scaling"] as? [String: Any] ?? [:]
        if rope["full_attention"] == nil, rope["sliding_attention"] == nil {
            if let local = config["rope_local_base_freq"] { rope["sliding_attention"] = ["rope_theta": local] }
            for key in ["rope_theta", "partial_rotary_factor", "original_max_position_embeddings"] where rope[key] == nil {
                rope[key] = config[key]
            }
            if rope["rope_type"] == nil { rope["rope_type"] = rope["type"] }
        }
        let sliding = (rope["sliding_attention"] as? [String: Any])?["rope_theta"] as? NSNumber
        return (rope["full_attention"] as? [String: Any] ?? rope, sliding?.doubleValue)
    }

    /// Llama 3.1's frequency-dependent RoPE scaling as per-frequency divisors (what llama.cpp's
    /// converter stores as `rope_freqs.weight`): high frequencies unchanged, low ones divided by
    /// `factor`, a smooth blend between the two wavelength bounds.
    static func llama3Factors(_ scaling: [String: Any], base: Double, dimension: Int) throws(ModelError) -> [Float] {
        func value(_ key: String) throws(ModelError) -> Float {
            guard let v = (scaling[key] as? NSNumber)?.floatValue else {
                throw .badHyperparameter(key: "config.json rope_scaling.\(key)", reason: "missing for llama3 scaling")
            }
            return v
        }
        let factor = try value("factor"), low = try value("low_freq_factor"), high = try value("high_freq_factor")
        let original = try value("original_max_position_embeddings")
        guard high > low, dimension > 0 else {
            throw .badHyperparameter(key: "config.json rope_scaling", reason: "high_freq_factor must exceed low_freq_factor")
        }
        let lowWavelength = original / low, highWavelength = original / high
        return stride(from: 0, to: dimension, by: 2).map { i in
            let frequency = 1 / Float(pow(base, Double(i) / Double(dimension)))
            let wavelength = 2 * Float.pi / frequency
            if wavelength < highWavelength { return 1 }
            if wavelength > lowWavelength { return factor }
            let smooth = (original / wavelength - low) / (high - low)
            return 1 / ((1 - smooth) / factor + smooth)
        }
    }
}

/// The weights of a checkpoint under llama.cpp's GGUF names and ggml's dimension order. Names
/// are mapped here once for every architecture (`blk.N.attn_q.weight` is
/// `model.layers.N.self_attn.q_proj.weight`, ...); what an architecture stores differently is
/// its `HuggingFaceLayout`.
final class HuggingFaceTensors: DecoderTensorSource, @unchecked Sendable {
    let checkpoint: SafetensorsCheckpoint
    /// GGUF name to checkpoint name.
    private let names: [String: String]
    private let normOffset: Float
    /// Tensors the converter computes (RoPE factors), owned here.
    private let computed: [String: UnsafeMutableBufferPointer<Float>]

    init(checkpoint: SafetensorsCheckpoint, layout: HuggingFaceLayout, ropeFactors: [String: [Float]]) {
        self.checkpoint = checkpoint
        let all = checkpoint.tensorNames
        // Gemma 2/3's four norms per layer: the one after attention is a sandwich norm there,
        // and the feed-forward's input norm has a name of its own.
        let sandwich = all.contains { $0.hasSuffix(".pre_feedforward_layernorm.weight") }
        var names: [String: String] = [:]
        for name in all {
            if let gguf = Self.ggufName(name, sandwich: sandwich) { names[gguf] = name }
        }
        self.names = names
        normOffset = layout.normWeightOffset
        var computed: [String: UnsafeMutableBufferPointer<Float>] = [:]
        for (name, values) in ropeFactors {
            let buffer = UnsafeMutableBufferPointer<Float>.allocate(capacity: values.count)
            _ = buffer.initialize(from: values)
            computed[name] = buffer
        }
        self.computed = computed
    }

    deinit {
        for buffer in computed.values { buffer.deallocate() }
    }

    /// Checkpoints also hold tensors no GGUF has (rotary buffers, vision towers); only mapped
    /// names are seen.
    var allTensorNames: [String]? { nil }

    /// The checkpoint name `ggufName` maps to, for messages.
    func checkpointName(_ ggufName: String) -> String? { names[ggufName] }

    func sourceTensor(named name: String) -> SourceTensor? {
        if let values = computed[name] {
            return SourceTensor(name: name, type: .f32, typeName: "F32", dimensions: [values.count],
                                bytes: UnsafeRawBufferPointer(values))
        }
        guard let stored = names[name], let (info, bytes) = checkpoint.data(named: stored) else { return nil }
        return SourceTensor(name: stored, type: QuantType(safetensors: info.dtype), typeName: info.dtype.rawValue, dimensions: info.shape.reversed(),
                            bytes: bytes, vectorOffset: name.hasSuffix("norm.weight") ? normOffset : 0)
    }

    var inventory: [(typeName: String, elements: Int)] {
        names.values.compactMap { checkpoint.tensor(named: $0) }.map { ($0.dtype.rawValue, $0.elementCount) }
    }

    /// llama.cpp's name for a checkpoint tensor, or nil for one the decoder does not read.
    static func ggufName(_ name: String, sandwich: Bool) -> String? {
        var rest = Substring(name)
        // Multimodal wrappers keep the text model under `language_model.`.
        for wrapper in ["language_model.", "model.language_model."] where rest.hasPrefix(wrapper) {
            rest = rest.dropFirst(wrapper.count)
            if !rest.hasPrefix("model.") && !rest.hasPrefix("lm_head.") { rest = "model." + rest }
        }
        switch rest {
        case "model.embed_tokens.weight": return "token_embd.weight"
        case "model.norm.weight": return "output_norm.weight"
        case "lm_head.weight": return "output.weight"
        case "lm_head.bias": return "output.bias"
        default: break
        }
        guard rest.hasPrefix("model.layers.") else { return nil }
        let parts = rest.dropFirst("model.layers.".count).split(separator: ".", maxSplits: 1)
        guard parts.count == 2, let layer = Int(parts[0]) else { return nil }
        let suffix = String(parts[1])
        let mapped: String? = switch suffix {
        case "input_layernorm.weight": "attn_norm.weight"
        case "post_attention_layernorm.weight": sandwich ? "post_attention_norm.weight" : "ffn_norm.weight"
        case "pre_feedforward_layernorm.weight": "ffn_norm.weight"
        case "post_feedforward_layernorm.weight": "post_ffw_norm.weight"
        case "self_attn.q_proj.weight": "attn_q.weight"
        case "self_attn.k_proj.weight": "attn_k.weight"
        case "self_attn.v_proj.weight": "attn_v.weight"
        case "self_attn.q_proj.bias": "attn_q.bias"
        case "self_attn.k_proj.bias": "attn_k.bias"
        case "self_attn.v_proj.bias": "attn_v.bias"
        case "self_attn.o_proj.weight": "attn_output.weight"
        case "self_attn.o_proj.bias": "attn_output.bias"
        case "self_attn.qkv_proj.weight": "attn_qkv.weight"
        case "self_attn.q_norm.weight": "attn_q_norm.weight"
        case "self_attn.k_norm.weight": "attn_k_norm.weight"
        case "mlp.gate_proj.weight": "ffn_gate.weight"
        case "mlp.up_proj.weight": "ffn_up.weight"
        case "mlp.down_proj.weight": "ffn_down.weight"
        case "mlp.gate_proj.bias": "ffn_gate.bias"
        case "mlp.up_proj.bias": "ffn_up.bias"
        case "mlp.down_proj.bias": "ffn_down.bias"
        case "mlp.gate_up_proj.weight": "ffn_up.weight"
        default: nil
        }
        return mapped.map { "blk.\(layer).\($0)" }
    }
}

extension QuantType {
    /// The kernel type of a safetensors element type: F32, F16 and BF16; nil for the others.
    init?(safetensors dtype: SafetensorsDType) {
        switch dtype {
        case .f32: self = .f32
        case .f16: self = .f16
        case .bf16: self = .bf16
        default: return nil
        }
    }
}
