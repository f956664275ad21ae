import Foundation
import NimbusModels
import Testing

/// How each architecture reads its hyperparameters, against llama.cpp's rules (src/models/*.cpp,
/// llama-hparams.cpp), on metadata written here rather than a file.
struct ArchitectureConfigurationTests {
    /// Metadata from literal values.
    struct Metadata: ModelMetadata {
        var values: [String: Any]
        func string(_ key: String) -> String? { values[key] as? String }
        func strings(_ key: String) -> [String]? { values[key] as? [String] }
        func int(_ key: String) -> Int? { values[key] as? Int }
        func ints(_ key: String) -> [Int]? { values[key] as? [Int] }
        func bool(_ key: String) -> Bool? { values[key] as? Bool }
        func bools(_ key: String) -> [Bool]? { values[key] as? [Bool] }
        func float(_ key: String) -> Double? { values[key] as? Double ?? (values[key] as? Int).map(Double.init) }
        func floats(_ key: String) -> [Float]? { values[key] as? [Float] }
    }

    static func metadata(_ arch: String, layers: Int = 12, _ extra: [String: Any] = [:]) -> Metadata {
        var values: [String: Any] = [
            "general.architecture": arch,
            "\(arch).embedding_length": 640, "\(arch).feed_forward_length": 2048, "\(arch).block_count": layers,
            "\(arch).attention.head_count": 4, "\(arch).attention.head_count_kv": 1,
            "\(arch).attention.key_length": 256, "\(arch).context_length": 32768,
            "\(arch).rope.freq_base": 1_000_000.0, "\(arch).vocab_size": 1000,
        ]
        values.merge(extra) { $1 }
        return Metadata(values: values)
    }

    static func configuration(_ m: Metadata) throws -> DecoderConfiguration {
        let name = try #require(m.string("general.architecture"))
        let arch = try #require(ArchitectureRegistry.architecture(named: name))
        return try arch.configuration(m, name: name)
    }

    @Test func gemma3SlidesFiveLayersOfSixWithTheirOwnRopeBase() throws {
        let c = try Self.configuration(Self.metadata("gemma3", ["gemma3.attention.sliding_window": 512]))
        // llama.cpp's set_swa_pattern(6): layer il is local when il % 6 < 5.
        let local = c.layers.indices.filter { c.layers[$0].window != nil }
        #expect(local == [0, 1, 2, 3, 4, 6, 7, 8, 9, 10])
        #expect(c.layers[0] == LayerPlan(window: 512, ropeBase: 10_000, ropeScale: 1))
        #expect(c.layers[5] == LayerPlan(window: nil, ropeBase: 1_000_000, ropeScale: 1))
        #expect(c.attention.queryScale == 1 / Float(256).squareRoot())
        #expect(c.attention.softmaxScale == 1)
        #expect(c.attention.headNorms && c.postAttentionNorm && c.postFeedForwardNorm)
        #expect(c.embeddingScale == Float(640).squareRoot())
        #expect(c.activation == .gelu && c.rope.layout == .neox)
        #expect(c.finalLogitSoftCap == nil)
    }

    @Test func gemma3WithoutAWindowIsGlobalAndAPerLayerPatternWins() throws {
        let global = try Self.configuration(Self.metadata("gemma3"))
        #expect(global.layers.allSatisfy { $0.window == nil })
        let flags = (0..<12).map { $0 % 3 == 0 }
        let c = try Self.configuration(Self.metadata("gemma3", ["gemma3.attention.sliding_window": 128,
                                                                "gemma3.attention.sliding_window_pattern": flags]))
        #expect(c.layers.map { $0.window != nil } == flags)
        #expect(throws: ModelError.self) {
            try Self.configuration(Self.metadata("gemma3", ["gemma3.attention.sliding_window": 128,
                                                            "gemma3.attention.sliding_window_pattern": [true, false]]))
        }
    }

    @Test func gemma2AlternatesWindowsAndCapsByDefault() throws {
        let c = try Self.configuration(Self.metadata("gemma2"))
        #expect(c.layers.map { $0.window } == (0..<12).map { $0 % 2 == 0 ? 4096 : nil })
        // Gemma 2's local layers keep the global RoPE base.
        #expect(c.layers.allSatisfy { $0.ropeBase == 1_000_000 })
        #expect(c.attention.logitSoftCap == 50 && c.finalLogitSoftCap == 30)
        #expect(!c.attention.headNorms)
    }

    @Test func qwenAndPhiAndLlamaCompose() throws {
        let qwen2 = try Self.configuration(Self.metadata("qwen2"))
        #expect(qwen2.rope.layout == .neox && !qwen2.attention.headNorms && qwen2.attention.queryScale == nil)
        #expect(qwen2.activation == .silu && qwen2.embeddingScale == nil)
        let qwen3 = try Self.configuration(Self.metadata("qwen3"))
        #expect(qwen3.attention.headNorms)
        let phi3 = try Self.configuration(Self.metadata("phi3"))
        #expect(phi3.attention.queryScale == 1 / Float(256).squareRoot() && phi3.attention.softmaxScale == 1)
        let llama = try Self.configuration(Self.metadata("llama", ["llama.rope.scaling.type": "linear", "llama.rope.scaling.factor": 4.0]))
        #expect(llama.rope.layout == .normal && llama.experts == nil)
        #expect(llama.layers.allSatisfy { $0.ropeScale == 0.25 && $0.window == nil })
    }

    /// llama.cpp's gemma graph scales the queries by 1/sqrt(head size) after RoPE and uses softmax scale 1.
    @Test func gemmaScalesQueriesBeforeAttention() throws {
        let c = try Self.configuration(Self.metadata("gemma"))
        #expect(c.attention.queryScale == 1 / Float(256).squareRoot() && c.attention.softmaxScale == 1)
        #expect(c.embeddingScale == Float(640).squareRoot() && c.activation == .gelu && c.rope.layout == .neox)
        #expect(!c.attention.headNorms && !c.postAttentionNorm && c.finalLogitSoftCap == nil)
    }

    /// qwen3moe: Qwen3's head norms, experts always renormalised (llama.cpp's qwen3moe graph passes
    /// norm_w = true), the expert width from `expert_feed_forward_length`, else the dense width
    /// divided among the used experts.
    @Test func qwen3MoEReadsItsExperts() throws {
        let keys: [String: Any] = ["qwen3moe.expert_count": 8, "qwen3moe.expert_used_count": 2,
                                   "qwen3moe.expert_feed_forward_length": 768]
        let c = try Self.configuration(Self.metadata("qwen3moe", keys))
        #expect(c.attention.headNorms && c.rope.layout == .neox && c.activation == .silu)
        let experts = try #require(c.experts)
        #expect(experts.count == 8 && experts.used == 2 && experts.feedForwardLength == 768 && experts.normalizeWeights)
        var m = Self.metadata("qwen3moe", keys)
        m.values["qwen3moe.expert_feed_forward_length"] = nil
        #expect(try Self.configuration(m).experts?.feedForwardLength == 1024)
        m.values["qwen3moe.expert_count"] = nil
        #expect(throws: ModelError.badHyperparameter(key: "qwen3moe.expert_count", reason: "missing or zero; a qwen3moe file needs experts")) {
            try Self.configuration(m)
        }
    }

    /// qwen2moe: experts not renormalised (norm_w = false in llama.cpp's qwen2moe graph), a shared
    /// expert `expert_shared_feed_forward_length` wide, else as wide as the dense feed-forward.
    @Test func qwen2MoEReadsItsSharedExpert() throws {
        var m = Self.metadata("qwen2moe", ["qwen2moe.expert_count": 60, "qwen2moe.expert_used_count": 4,
                                           "qwen2moe.expert_feed_forward_length": 1408,
                                           "qwen2moe.expert_shared_feed_forward_length": 5632])
        let experts = try #require(try Self.configuration(m).experts)
        #expect(experts.count == 60 && experts.used == 4 && experts.feedForwardLength == 1408 && !experts.normalizeWeights)
        #expect(experts.sharedFeedForwardLength == 5632)
        m.values["qwen2moe.expert_shared_feed_forward_length"] = nil
        #expect(try Self.configuration(m).experts?.sharedFeedForwardLength == 2048)
        #expect(try Self.configuration(Self.metadata("qwen3moe", ["qwen3moe.expert_count": 8, "qwen3moe.expert_used_count": 2]))
            .experts?.sharedFeedForwardLength == nil)
    }

    @Test func badHyperparametersNameTheKey() throws {
        var m = Self.metadata("qwen2")
        m.values["qwen2.attention.head_count_kv"] = 3
        #expect(throws: ModelError.badHyperparameter(key: "qwen2.attention.head_count_kv", reason: "3 does not divide head_count 4")) {
            try Self.configuration(m)
        }
        m = Self.metadata("llama")
        m.values["llama.block_count"] = nil
        #expect(throws: ModelError.badHyperparameter(key: "llama.block_count", reason: "missing")) { try Self.configuration(m) }
        m = Self.metadata("llama", ["llama.rope.scaling.type": "dynamic"])
        #expect(throws: ModelError.badHyperparameter(key: "llama.rope.scaling.type",
                                                     reason: "'dynamic' is not supported (supported: none, linear, yarn, longrope, and Llama 3's rope_freqs tensor)")) {
            try Self.configuration(m)
        }
        m = Self.metadata("llama", ["llama.rope.scaling.factor": -4.0])
        #expect(throws: ModelError.badHyperparameter(key: "llama.rope.scaling.factor", reason: "must be a finite number at least 0, got -4.0")) {
            try Self.configuration(m)
        }
        m = Self.metadata("llama", ["llama.rope.scaling.attn_factor": -1.0])
        #expect(throws: ModelError.badHyperparameter(key: "llama.rope.scaling.attn_factor", reason: "must be positive, got -1.0")) {
            try Self.configuration(m)
        }
        m = Self.metadata("llama", ["llama.expert_count": 8, "llama.expert_used_count": 9])
        #expect(throws: ModelError.badHyperparameter(key: "llama.expert_used_count", reason: "9 exceeds expert_count 8")) {
            try Self.configuration(m)
        }
    }

    @Test func unknownArchitecturesListWhatIsSupported() {
        #expect(ArchitectureRegistry.architecture(named: "mamba") == nil)
        let message = ModelError.unsupportedArchitecture("mamba").description
        for name in ["llama", "qwen2", "qwen2moe", "qwen3", "qwen3moe", "gemma", "gemma2", "gemma3", "phi3"] {
            #expect(message.contains(name))
        }
    }

    /// Files without a template get their family's: Gemma's is the very text whose renderings
    /// the template fixtures check against jinja2.
    @Test func gemmaFallbackTemplateIsTheFixturesOne() throws {
        let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../scripts/fixtures/templates/gemma-3-it.jinja")
        let text = try String(contentsOf: file, encoding: .utf8)
        let fallback = try #require(ArchitectureRegistry.architecture(named: "gemma3")?.defaultChatTemplate)
        #expect(fallback == text.trimmingCharacters(in: .newlines))
    }
}
