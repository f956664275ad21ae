import Foundation
import NimbusKernels
import NimbusModels
import Testing

/// The tiny random-weight models of the architectures that have no small real file (Fixtures/tiny,
/// made by scripts/fixtures/gen_tiny_models.py with transformers and converted by llama.cpp's
/// convert_hf_to_gguf.py), token for token against llama.cpp's greedy decoding of the same GGUF.
/// The files are committed, so these always run.
@Suite(.serialized) struct TinyModelTests {
    struct Model: Sendable, CustomTestStringConvertible {
        let file: String
        let architecture: String
        /// K-quant files: llama.cpp was fed the prompt one token per step (see gen_fidelity_fixtures.py).
        let tokenByToken: Bool
        /// The fixture, when not the file's own (`tiny/<file>.json`): another context size.
        var fixture: String? = nil
        /// Its fixture holds llama.cpp's top logits after each prompt (`top_logits`).
        var hasTopLogits = false
        var testDescription: String { fixture ?? file }
    }

    static let models = [
        Model(file: "qwen3.q4_k_m", architecture: "qwen3", tokenByToken: true),
        Model(file: "gemma2.q4_k_m", architecture: "gemma2", tokenByToken: true),
        Model(file: "phi3.q4_k_m", architecture: "phi3", tokenByToken: true),
        Model(file: "mixtral.q8_0", architecture: "llama", tokenByToken: false),
        Model(file: "mixtral.q4_k_m", architecture: "llama", tokenByToken: true),
        Model(file: "llama_spm.q4_k_m", architecture: "llama", tokenByToken: true),
        // Llama 3 RoPE scaling (`rope_freqs.weight`) with the llama-bpe vocabulary.
        Model(file: "llama3.q4_k_m", architecture: "llama", tokenByToken: true),
        // Head size 128: llama.cpp scales Gemma's queries by 1/sqrt(128) before attention, which
        // rounds differently from scaling the scores.
        Model(file: "gemma.q4_k_m", architecture: "gemma", tokenByToken: true),
        Model(file: "qwen3moe.q4_k_m", architecture: "qwen3moe", tokenByToken: true),
        // Qwen2-MoE: routed experts plus a shared expert behind a sigmoid gate.
        Model(file: "qwen2moe.q4_k_m", architecture: "qwen2moe", tokenByToken: true),
        // A Mistral checkpoint, which llama.cpp converts to `llama`: 4 query heads per KV head, RoPE base 1e6.
        Model(file: "mistral.q4_k_m", architecture: "llama", tokenByToken: true),
        // RoPE scaling: linear (factor 4), and YaRN (factor 4 over an original 1,024 positions).
        Model(file: "llama_linear.q4_k_m", architecture: "llama", tokenByToken: true),
        Model(file: "llama_yarn.q4_k_m", architecture: "llama", tokenByToken: true),
        // Phi-3 LongRoPE with attn_factor: its short factors in a 512-position context, its long
        // ones in an 8,192-position context (past the original 4,096), as llama.cpp chooses them.
        Model(file: "phi3_longrope.q4_k_m", architecture: "phi3", tokenByToken: true),
        Model(file: "phi3_longrope.q4_k_m", architecture: "phi3", tokenByToken: true, fixture: "phi3_longrope.q4_k_m.ctx8192"),
        // Phi-2: LayerNorm with biases, parallel attention and GELU MLP, partial NeoX RoPE.
        Model(file: "phi2.q4_k_m", architecture: "phi2", tokenByToken: true, hasTopLogits: true),
        // The same Phi-2 as converted from its original fused `Wqkv`: attn_qkv weight and bias.
        Model(file: "phi2_fused.q4_k_m", architecture: "phi2", tokenByToken: true, hasTopLogits: true),
        // StarCoder2: LayerNorm, grouped-query attention and a GELU MLP, all with biases.
        Model(file: "starcoder2.q4_k_m", architecture: "starcoder2", tokenByToken: true, hasTopLogits: true),
    ]

    /// The model for the context its fixture was recorded in (llama.cpp's `n_ctx`; 512 where the
    /// fixture predates the field).
    static func load(_ model: Model, order: SummationOrder) throws -> (LoadedModel, FidelityTests.Fixture) {
        let fixture = try ModelFixture.load(FidelityTests.Fixture.self, fixture: "tiny/\(model.fixture ?? model.file)")
        let url = try #require(Bundle.module.url(forResource: "Fixtures/tiny/\(model.file)", withExtension: "gguf"))
        return (try ModelLoader.load(path: url.path, threads: 2, order: order, contextLength: fixture.n_ctx ?? 512), fixture)
    }

    @Test(arguments: models)
    func greedyMatchesLlamaCppInGgmlOrder(_ model: Model) throws {
        let (loaded, fixture) = try Self.load(model, order: .ggml)
        #expect(loaded.architecture == model.architecture)
        for c in fixture.cases {
            #expect(loaded.tokenizer.encode(c.text, addSpecial: false, parseSpecial: c.special) == c.prompt, "\(c.name) prompt")
            let generated = try QuantizedModelTests.greedy(loaded.model, prompt: c.prompt, steps: fixture.steps,
                                                           tokenByToken: model.tokenByToken)
            let first = zip(generated, c.generated).enumerated().first { $0.element.0 != $0.element.1 }?.offset
            #expect(generated == c.generated,
                    "\(model.file) \(c.name): first difference at step \(first ?? -1), llama.cpp's top-2 gap there \(first.map { c.top2_gap[$0] } ?? 0)")
        }
    }

    /// Below the tokens: in ggml's order the logits after each prompt are llama.cpp's floats, bit
    /// for bit (rounding steps that never flip a greedy token, such as LayerNorm's reduction
    /// order, show here).
    @Test(arguments: models.filter(\.hasTopLogits))
    func logitsAfterThePromptAreLlamaCppsBits(_ model: Model) throws {
        let (loaded, fixture) = try Self.load(model, order: .ggml)
        var compared = 0
        for c in fixture.cases {
            let top = try #require(c.top_logits, "\(c.name) has no top_logits")
            let logits = try HuggingFaceCheckpointTests.greedy(loaded.model, prompt: c.prompt, steps: 1, adapter: nil,
                                                               tokenByToken: model.tokenByToken).firstLogits
            for pair in top {
                let id = Int(pair[0])
                #expect(logits[id] == Float(pair[1]), "\(model.file) \(c.name) token \(id): \(logits[id]) against llama.cpp's \(pair[1])")
                compared += 1
            }
        }
        #expect(compared > 0)
    }

    @Test(arguments: models)
    func blockedOrderFollowsLlamaCppUntilANearTie(_ model: Model) throws {
        let nearTie = 0.25
        let (loaded, fixture) = try Self.load(model, order: .detected)
        for c in fixture.cases {
            let generated = try QuantizedModelTests.greedy(loaded.model, prompt: c.prompt, steps: fixture.steps,
                                                           tokenByToken: model.tokenByToken)
            let decisive = c.top2_gap.firstIndex { $0 < nearTie } ?? fixture.steps
            #expect(Array(generated.prefix(decisive)) == Array(c.generated.prefix(decisive)), "\(model.file) \(c.name)")
        }
    }

    /// Prompts of 141-459 tokens, far past the tiny Gemma 2's 16-position window (every other
    /// layer): the windowed layers read only from a 16-aligned start near the window and keep
    /// their own block table (scripts/fixtures/gen_window_fixtures.py, llama.cpp's greedy tokens).
    @Test func slidingWindowLayersMatchLlamaCppFarPastTheWindow() throws {
        let model = Model(file: "gemma2.q4_k_m", architecture: "gemma2", tokenByToken: true)
        let (loaded, _) = try Self.load(model, order: .ggml)
        let fixture = try ModelFixture.load(FidelityTests.Fixture.self, fixture: "tiny/gemma2.q4_k_m.long")
        // Layers 0 and 2 are windowed, 1 and 3 not: two groups of two; a row reads at most the
        // 16 window positions plus 15 before them (the start rounded down to a multiple of 16).
        #expect(loaded.model.kvLayout(blockSize: 16).reaches == [16 + 15, nil])
        #expect(fixture.cases.allSatisfy { $0.prompt.count > 128 })
        for c in fixture.cases {
            let generated = try QuantizedModelTests.greedy(loaded.model, prompt: c.prompt, steps: fixture.steps,
                                                           tokenByToken: true)
            let first = zip(generated, c.generated).enumerated().first { $0.element.0 != $0.element.1 }?.offset
            #expect(generated == c.generated, "\(c.name): first difference at step \(first ?? -1)")
        }
    }

    /// Expert routing included: a sequence's logits are the same alone or batched with another.
    @Test(arguments: models)
    func batchInvariance(_ model: Model) throws {
        let (loaded, fixture) = try Self.load(model, order: .detected)
        let prompts = [fixture.cases[0].prompt, fixture.cases[1].prompt]
        let alone = try prompts.map { try BatchProbe.logits(loaded.model, prompts: [$0], then: 3)[0] }
        #expect(alone == (try BatchProbe.logits(loaded.model, prompts: prompts, then: 3)))
    }

    /// Phi-2 needs LayerNorm's own epsilon (as llama.cpp does) and its output head's bias has
    /// one value per token: a file without the one or with a bias of the wrong size stops loading
    /// with one line naming the key or tensor.
    @Test func phi2WithoutItsEpsilonOrWithAMisshapenBiasNamesIt() throws {
        let key = "phi2.attention.layer_norm_epsilon"
        let renamed = try TinyModelPatch.patched("phi2.q4_k_m", [(Array(key.utf8), Array("phi2.attention.layer_norm_epsilox".utf8))])
        #expect(TinyModelPatch.loadError(renamed) == "model metadata \(key): missing")
        // blk.0.ffn_up.bias's first dimension (256, a little-endian UInt64 after its dimension count 1) to 255.
        let name = Array("blk.0.ffn_up.bias".utf8)
        let shape: [UInt8] = [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0]
        let smaller: [UInt8] = [1, 0, 0, 0, 255, 0, 0, 0, 0, 0, 0, 0]
        let patched = try TinyModelPatch.patched("phi2.q4_k_m", [(name + shape, name + smaller)])
        #expect(TinyModelPatch.loadError(patched) == "tensor blk.0.ffn_up.bias has shape [255], expected [256]")
    }

    /// A tensor no block reads stops loading, as in llama.cpp, rather than being left out of the
    /// computation: here Phi-2's attention output bias under a name nothing asks for.
    @Test func aTensorNothingReadsIsRefused() throws {
        let name = "blk.1.attn_output.bias"
        let renamed = try TinyModelPatch.patched("phi2.q4_k_m", [(Array(name.utf8), Array("blk.1.attn_outpux.bias".utf8))])
        #expect(TinyModelPatch.loadError(renamed)
                == "model file has tensor blk.1.attn_outpux.bias, which Nimbus's phi2 architecture does not read (a different variant of the architecture?)")
    }

    /// A file whose expert tensors do not fit its metadata, or that lacks one, stops loading with
    /// an error naming the tensor (one line, as the server prints it).
    @Test func misshapenOrMissingExpertTensorsNameTheTensor() throws {
        // qwen3moe.expert_count (a UInt32, GGUF type 4) from 8 to 4: the router has 8 rows.
        let key = Array("qwen3moe.expert_count".utf8)
        let fewer = try TinyModelPatch.patched("qwen3moe.q4_k_m", [(key + [4, 0, 0, 0, 8, 0, 0, 0], key + [4, 0, 0, 0, 4, 0, 0, 0])])
        #expect(TinyModelPatch.loadError(fewer) == "tensor blk.0.ffn_gate_inp.weight has shape [32, 8], expected [32, 4]")
        let name = "blk.1.ffn_up_shexp.weight"
        let missing = try TinyModelPatch.patched("qwen2moe.q4_k_m", [(Array(name.utf8), Array("blk.1.ffn_up_shexq.weight".utf8))])
        #expect(TinyModelPatch.loadError(missing) == "model file has no tensor \(name)")
    }
}
