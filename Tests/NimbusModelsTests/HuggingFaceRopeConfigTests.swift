import Foundation
import NimbusGGUF
@testable import NimbusModels
import Testing

/// RoPE settings in `config.json` as llama.cpp's converter reads them: the older `rope_theta` and
/// `rope_scaling`, and transformers 5's `rope_parameters` (base inside, per layer type for models
/// with sliding layers).
struct HuggingFaceRopeConfigTests {
    static func json(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    static func tinyGGUF(_ name: String) throws -> GGUFFile {
        let url = try #require(Bundle.module.url(forResource: "Fixtures/tiny/\(name)", withExtension: "gguf"))
        return try GGUFFile(path: url.path)
    }

    /// The F32 values of a tensor of a GGUF.
    static func floats(_ file: GGUFFile, _ name: String) throws -> [Float] {
        let info = try #require(file.tensor(named: name))
        return Array(file.tensorData(info).bindMemory(to: Float.self).prefix(info.elementCount))
    }

    /// The rope parts of the transformers 5 configs behind the tiny `llama_yarn` and
    /// `phi3_longrope` models (scripts/fixtures/gen_tiny_models.py), against the GGUFs llama.cpp's
    /// converter made from them.
    @Test func yarnAndLongRopeMapAsTheConverterWrites() throws {
        var table = MetadataTable()
        let yarn = try Self.json("""
            {"hidden_size": 64, "num_attention_heads": 2, "max_position_embeddings": 4096,
             "rope_parameters": {"factor": 4.0, "original_max_position_embeddings": 1024, "rope_theta": 10000.0, "rope_type": "yarn"}}
            """)
        #expect(try HuggingFaceCheckpoint.readHyperparameters(yarn, architecture: "llama", into: &table).isEmpty)
        let yarnGGUF = try Self.tinyGGUF("llama_yarn.q4_k_m")
        for key in ["llama.rope.scaling.type"] { #expect(table.string(key) == yarnGGUF.string(key), "\(key)") }
        for key in ["llama.rope.scaling.factor", "llama.rope.freq_base"] { #expect(table.float(key) == yarnGGUF.float(key), "\(key)") }
        #expect(table.int("llama.rope.scaling.original_context_length") == yarnGGUF.int("llama.rope.scaling.original_context_length"))

        table = MetadataTable()
        // As the generator wrote them: round(1 + 0.05 i, 4) and round(1.3^i, 4).
        let short = "[1.0, 1.05, 1.1, 1.15, 1.2, 1.25, 1.3, 1.35, 1.4, 1.45, 1.5, 1.55, 1.6, 1.65, 1.7, 1.75]"
        let long = "[1.0, 1.3, 1.69, 2.197, 2.8561, 3.7129, 4.8268, 6.2749, 8.1573, 10.6045, 13.7858, 17.9216, 23.2981, 30.2875, 39.3738, 51.1859]"
        let longrope = try Self.json("""
            {"hidden_size": 64, "num_attention_heads": 2, "max_position_embeddings": 16384, "original_max_position_embeddings": 4096,
             "rope_parameters": {"long_factor": \(long), "short_factor": \(short), "original_max_position_embeddings": 4096,
                                 "partial_rotary_factor": 1.0, "rope_theta": 10000.0, "rope_type": "longrope"}}
            """)
        let factors = try HuggingFaceCheckpoint.readHyperparameters(longrope, architecture: "phi3", into: &table)
        let phiGGUF = try Self.tinyGGUF("phi3_longrope.q4_k_m")
        #expect(table.float("phi3.rope.scaling.attn_factor").map(Float.init) == phiGGUF.float("phi3.rope.scaling.attn_factor").map(Float.init))
        #expect(table.int("phi3.rope.scaling.original_context_length") == phiGGUF.int("phi3.rope.scaling.original_context_length"))
        #expect(table.float("phi3.rope.freq_base") == phiGGUF.float("phi3.rope.freq_base"))
        #expect(factors["rope_factors_short.weight"] == (try Self.floats(phiGGUF, "rope_factors_short.weight")))
        #expect(factors["rope_factors_long.weight"] == (try Self.floats(phiGGUF, "rope_factors_long.weight")))
    }

    /// Gemma 3's settings written both ways (transformers 4: top-level `rope_theta`,
    /// `rope_local_base_freq` and `rope_scaling`; transformers 5: `rope_parameters` per layer type,
    /// `rope_scaling` null) come out as the same keys: the full-attention layers' base and linear
    /// factor, and the sliding layers' base.
    @Test func bothConfigFormsGiveTheSameKeys() throws {
        let older = try Self.json("""
            {"hidden_size": 640, "num_attention_heads": 4, "head_dim": 256, "rope_theta": 1000000.0,
             "rope_local_base_freq": 10000.0, "rope_scaling": {"rope_type": "linear", "factor": 8.0}}
            """)
        let newer = try Self.json("""
            {"hidden_size": 640, "num_attention_heads": 4, "head_dim": 256, "rope_scaling": null,
             "rope_parameters": {"full_attention": {"rope_type": "linear", "factor": 8.0, "rope_theta": 1000000.0},
                                 "sliding_attention": {"rope_type": "default", "rope_theta": 10000.0}}}
            """)
        for config in [older, newer] {
            var table = MetadataTable()
            _ = try HuggingFaceCheckpoint.readHyperparameters(config, architecture: "gemma3", into: &table)
            #expect(table.float("gemma3.rope.freq_base") == 1_000_000)
            #expect(table.float("gemma3.rope.freq_base_swa") == 10_000)
            #expect(table.string("gemma3.rope.scaling.type") == "linear")
            #expect(table.float("gemma3.rope.scaling.factor") == 8)
        }
    }

    /// The committed Qwen2 checkpoint (RoPE base 1e6, older `rope_theta` form) with its config
    /// rewritten as transformers 5 writes it computes the same logits, bit for bit; with the base
    /// dropped (10,000 by default) it does not, so the base is read from `rope_parameters`.
    @Test func transformers5RopeParametersGiveTheSameModel() throws {
        let root = try HuggingFaceCheckpointTests.root()
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("nimbus-rope-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        func rewritten(_ name: String, _ edit: (inout [String: Any]) -> Void) throws -> String {
            let folder = scratch + "/" + name
            try FileManager.default.copyItem(atPath: root + "/qwen2", toPath: folder)
            let url = URL(fileURLWithPath: folder + "/config.json")
            var config = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
            edit(&config)
            try JSONSerialization.data(withJSONObject: config).write(to: url)
            return folder
        }
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        let modern = try rewritten("modern") { config in
            config["rope_parameters"] = ["rope_theta": config["rope_theta"] ?? 0, "rope_type": "default"]
            config["rope_theta"] = nil
            config["rope_scaling"] = nil
        }
        let baseless = try rewritten("baseless") { config in config["rope_theta"] = nil }
        func logits(_ path: String) throws -> [Float] {
            let loaded = try ModelLoader.load(path: path, threads: 2)
            return try BatchProbe.logits(loaded.model, prompts: [[5, 17, 42, 99, 3, 250]], then: 3)[0]
        }
        let original = try logits(root + "/qwen2")
        #expect(try logits(modern) == original)
        #expect(try logits(baseless) != original)
    }
}
