import Foundation
import NimbusKernels
@testable import NimbusModels
import NimbusTokenizers
import Testing

/// Hugging Face checkpoints and LoRA adapters against independent references: tiny random
/// models made by `transformers` (Fixtures/hf, scripts/fixtures/gen_hf_fixtures.py), their
/// greedy decoding by transformers + PEFT in float32 and by llama.cpp with the same adapters
/// converted to GGUF, and the `tokenizers` library's tokenizations.
@Suite(.serialized) struct HuggingFaceCheckpointTests {
    struct Reference: Decodable {
        struct Run: Decodable {
            let tokens: [Int]
            let gaps: [Double]
            let top_logits: [[Double]]?
        }
        struct Case: Decodable {
            let name: String
            let text: String
            let prompt_ids: [Int]
            let adapter: String?
            let transformers: Run
            let llama_cpp: Run?
        }
        struct Model: Decodable { let cases: [Case] }
        struct Tokenization: Decodable {
            let text: String
            let ids: [Int]
            let ids_with_special: [Int]?
        }
        let models: [String: Model]
        let tokenizers: [String: [Tokenization]]
    }

    static func root() throws -> String {
        try #require(Bundle.module.url(forResource: "Fixtures/hf", withExtension: nil)).path
    }

    static func reference() throws -> Reference { try ModelFixture.load(Reference.self, fixture: "hf/reference") }

    /// Greedy decoding through the batched forward (one sequence, paged KV), with `adapter`.
    static func greedy(_ lm: any LanguageModel, prompt: [Int], steps: Int, adapter: LoRAAdapter?,
                       tokenByToken: Bool = false) throws -> (tokens: [Int], firstLogits: [Float]) {
        let blockSize = 16, blocks = (prompt.count + steps) / blockSize + 1
        let layout = lm.kvLayout(blockSize: blockSize)
        let cache = lm.makePagedCache(blockSize: blockSize, blockCount: blocks * layout.reaches.count)
        let storage = lm.makeLogitStorage(rows: 1)
        var logits: [Float] = []
        func run(_ tokens: [Int], at start: Int) throws {
            let sequence = ForwardBatch.Sequence(tokens: tokens, start: start, blockTables: layout.tables(forSequence: 0, blocks: blocks),
                                                 batchedOrderBelow: tokenByToken ? 0 : prompt.count, logitRows: 1, adapter: adapter)
            try lm.forward(ForwardBatch(sequences: [sequence]), cache: cache, logits: storage)
            logits = Array(storage.hostRow(0))
        }
        if tokenByToken {
            for (i, t) in prompt.enumerated() { try run([t], at: i) }
        } else {
            try run(prompt, at: 0)
        }
        let first = logits
        var generated: [Int] = []
        for step in 0..<steps {
            let best = logits.indices.max { logits[$0] < logits[$1] } ?? 0
            generated.append(best)
            if step + 1 < steps { try run([best], at: prompt.count + step) }
        }
        return (generated, first)
    }

    /// Tokens must agree up to the reference's first near-tie (top-2 gap below `nearTie`).
    static func expectAgreement(_ ours: [Int], _ reference: Reference.Run, nearTie: Double, _ label: String) {
        let decisive = reference.gaps.firstIndex { $0 < nearTie } ?? reference.tokens.count
        let first = zip(ours, reference.tokens).enumerated().first { $0.element.0 != $0.element.1 }?.offset
        #expect(Array(ours.prefix(decisive)) == Array(reference.tokens.prefix(decisive)),
                "\(label): first difference at step \(first ?? -1), reference gap there \(first.map { reference.gaps[$0] } ?? 0); decisive steps \(decisive)")
    }

    static func adapter(_ path: String, _ model: LoadedModel, maxRank: Int = 64) throws -> LoRAAdapter {
        try LoRALoader.load(folder: path, name: (path as NSString).lastPathComponent, for: model, maxRank: maxRank)
    }

    // MARK: - Tokenizers from tokenizer.json

    @Test(arguments: ["llama", "qwen2", "spm-tokenizer"])
    func tokenizerJSONMatchesTheTokenizersLibrary(_ name: String) throws {
        var table = MetadataTable()
        try HuggingFaceTokenizerFiles.read(directory: try Self.root() + "/" + name, config: [:], into: &table)
        let tokenizer = try makeTokenizer(metadata: table)
        let cases = try #require(try Self.reference().tokenizers[name])
        #expect(cases.count >= 20)
        for c in cases {
            #expect(tokenizer.encode(c.text, addSpecial: false, parseSpecial: true) == c.ids, "\(name) \(c.text.debugDescription)")
            if let withSpecial = c.ids_with_special {
                #expect(tokenizer.encode(c.text, addSpecial: true, parseSpecial: true) == withSpecial, "\(name) with BOS \(c.text.debugDescription)")
            }
            // Special tokens decode to nothing; the NFC normalizer composes characters.
            let plain = !c.text.contains("<|") && !c.text.contains("<s>") && !c.text.contains("</s>")
            if plain && !(name == "spm-tokenizer" && c.text.hasPrefix(" ")) {
                let expected = name == "qwen2" ? c.text.precomposedStringWithCanonicalMapping : c.text
                #expect(tokenizer.decode(c.ids) == expected, "\(name) decodes \(c.text.debugDescription)")
            }
        }
    }

    @Test func preTokenizersAreRecognisedFromTheirRegexes() throws {
        func split(_ regex: String) -> [String: Any] {
            ["type": "Sequence", "pretokenizers": [["type": "Split", "pattern": ["Regex": regex]], ["type": "ByteLevel", "use_regex": false]]]
        }
        let llama3 = #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#
        let qwen2 = #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#
        #expect(try HuggingFaceTokenizerFiles.preTokenizer(split(llama3)) == "llama-bpe")
        #expect(try HuggingFaceTokenizerFiles.preTokenizer(split(qwen2)) == "qwen2")
        #expect(try HuggingFaceTokenizerFiles.preTokenizer(["type": "ByteLevel", "use_regex": true]) == "gpt-2")
        let smol: [String: Any] = ["type": "Sequence", "pretokenizers": [["type": "Digits", "individual_digits": true],
                                                                          ["type": "ByteLevel", "use_regex": true]]]
        #expect(try HuggingFaceTokenizerFiles.preTokenizer(smol) == "smollm")
        #expect(throws: ModelError.self) { try HuggingFaceTokenizerFiles.preTokenizer(split(#"\w+|\s+"#)) }
    }

    // MARK: - Checkpoints

    @Test func llamaCheckpointLoadsLikeItsGGUF() throws {
        let root = try Self.root()
        let hf = try ModelLoader.load(path: root + "/llama", threads: 2)
        let gguf = try ModelLoader.load(path: root + "/llama.f16.gguf", threads: 2)
        #expect(hf.architecture == "llama")
        #expect(hf.summary.weightTypes["BF16"] != nil)
        #expect(hf.tokenizer.vocabularySize == gguf.tokenizer.vocabularySize)
        #expect(hf.tokenizer.eosTokenID == gguf.tokenizer.eosTokenID)
        #expect(try hf.renderChat([ChatTurn(role: "user", content: "Hi")]) == (try gguf.renderChat([ChatTurn(role: "user", content: "Hi")])))
        #expect(hf.summary.contextLength == gguf.summary.contextLength)
        #expect(ModelLoader.isDecoderCheckpoint(root + "/llama"))
    }

    /// The near-tie bound against transformers: the issue's 0.05 where float weights take fp32
    /// activations (the blocked order), 0.1 where they are rounded to F16/BF16 (ggml's).
    static let floatNearTie = SummationOrder.detected == .blocked ? 0.05 : 0.1

    /// BF16 (llama, sharded) and F32 (qwen2, biases, untied head; gemma3, (1 + w) norms, QK-norm,
    /// sliding-window layers; llama_bias, biases on o_proj and the MLP too) checkpoints computed
    /// as stored, with and without their PEFT adapters, against transformers + PEFT in float32.
    @Test(arguments: ["llama", "qwen2", "gemma3", "llama_bias"])
    func checkpointsWithPEFTAdaptersMatchTransformers(_ name: String) throws {
        let root = try Self.root()
        let model = try ModelLoader.load(path: root + "/" + name, threads: 2)
        let reference = try #require(try Self.reference().models[name])
        var largest: Float = 0
        for c in reference.cases {
            let adapter = try c.adapter.map { try Self.adapter("\(root)/\(name)-adapters/peft/\($0)", model) }
            // transformers' `encode` adds the tokenizer's special tokens (gemma3's spm-tokenizer a BOS).
            #expect(model.tokenizer.encode(c.text, addSpecial: true, parseSpecial: true) == c.prompt_ids || c.name == "chat",
                    "\(name) \(c.name) prompt")
            let (tokens, logits) = try Self.greedy(model.model, prompt: c.prompt_ids, steps: c.transformers.tokens.count, adapter: adapter)
            // A token may differ only where the reference's top-2 gap is below 0.05. Where the
            // default order is ggml's (no AVX-512 VNNI), BF16 weights meet BF16-rounded
            // activations, as in llama.cpp, and one step of 192 flips at a gap of 0.071.
            Self.expectAgreement(tokens, c.transformers, nearTie: Self.floatNearTie, "\(name) \(c.name) adapter \(c.adapter ?? "none")")
            for pair in c.transformers.top_logits ?? [] where pair.count == 2 {
                largest = max(largest, abs(logits[Int(pair[0])] - Float(pair[1])))
            }
        }
        // Keys and values are kept in fp16 (as llama.cpp does) whatever the weights; seen in the
        // blocked order: 0.023 (llama, BF16) and 0.052 (qwen2, F32); 0.168 for BF16 in ggml's.
        let bound: Float = SummationOrder.detected == .blocked || name != "llama" ? 0.1 : 0.25
        #expect(largest < bound, "\(name): largest logit difference after the prompt \(largest)")
        print("\(name): largest logit difference after the prompt vs transformers: \(largest)")
    }

    /// Gemma stores its RMSNorm gains as w for a scale of 1 + w, and llama.cpp's converter writes
    /// 1 + w: the checkpoint folder and its float32 conversion compute the same logits bit for
    /// bit (so the offset is added once, to every norm, QK-norms included), and both decode as
    /// llama.cpp does on the GGUF.
    @Test func gemma3CheckpointComputesAsItsGGUF() throws {
        let root = try Self.root()
        let hf = try ModelLoader.load(path: root + "/gemma3", threads: 2, order: .ggml)
        let gguf = try ModelLoader.load(path: root + "/gemma3.f32.gguf", threads: 2, order: .ggml)
        #expect(hf.architecture == "gemma3" && gguf.architecture == "gemma3")
        let reference = try #require(try Self.reference().models["gemma3"])
        for c in reference.cases {
            let run = try #require(c.llama_cpp)
            let a = try Self.greedy(hf.model, prompt: c.prompt_ids, steps: run.tokens.count, adapter: nil, tokenByToken: true)
            let b = try Self.greedy(gguf.model, prompt: c.prompt_ids, steps: run.tokens.count, adapter: nil, tokenByToken: true)
            #expect(a.firstLogits == b.firstLogits, "\(c.name): logits after the prompt differ")
            #expect(a.tokens == b.tokens, "\(c.name)")
            Self.expectAgreement(b.tokens, run, nearTie: 0.1, "gemma3.f32.gguf \(c.name)")
        }
    }

    /// The GGUF conversion of the same model with llama.cpp's GGUF LoRA files, in ggml's order,
    /// against llama.cpp with `lora_path` (prompt fed token by token, as the reference was).
    @Test func ggufBaseWithGGUFAdaptersMatchesLlamaCpp() throws {
        let root = try Self.root()
        let model = try ModelLoader.load(path: root + "/llama.f16.gguf", threads: 2, order: .ggml)
        let reference = try #require(try Self.reference().models["llama"])
        for c in reference.cases {
            let run = try #require(c.llama_cpp)
            let adapter = try c.adapter.map { try Self.adapter("\(root)/llama-adapters/gguf/\($0)", model) }
            let (tokens, _) = try Self.greedy(model.model, prompt: c.prompt_ids, steps: run.tokens.count, adapter: adapter, tokenByToken: true)
            Self.expectAgreement(tokens, run, nearTie: 0.02, "gguf \(c.name) adapter \(c.adapter ?? "none")")
        }
    }

    /// A PEFT adapter on the GGUF base (whose Q/K rows llama.cpp permuted) and a GGUF adapter on
    /// the Hugging Face base: both follow transformers, so the rows of B are reordered right.
    @Test func adaptersCrossFormats() throws {
        let root = try Self.root()
        let gguf = try ModelLoader.load(path: root + "/llama.f16.gguf", threads: 2)
        let hf = try ModelLoader.load(path: root + "/llama", threads: 2)
        let reference = try #require(try Self.reference().models["llama"])
        for c in reference.cases where c.adapter == "alpha" {
            let peftOnGGUF = try Self.adapter(root + "/llama-adapters/peft/alpha", gguf)
            let ggufOnHF = try Self.adapter(root + "/llama-adapters/gguf/alpha", hf)
            let a = try Self.greedy(gguf.model, prompt: c.prompt_ids, steps: 32, adapter: peftOnGGUF).tokens
            let b = try Self.greedy(hf.model, prompt: c.prompt_ids, steps: 32, adapter: ggufOnHF).tokens
            Self.expectAgreement(a, c.transformers, nearTie: Self.floatNearTie, "PEFT alpha on the GGUF base, \(c.name)")
            Self.expectAgreement(b, c.transformers, nearTie: Self.floatNearTie, "GGUF alpha on the HF base, \(c.name)")
        }
    }

    /// Rows of one step may use different adapters: each sequence's logits are the same alone or
    /// batched with sequences of the base model and of another adapter.
    @Test func adaptersKeepBatchInvariance() throws {
        let root = try Self.root()
        let model = try ModelLoader.load(path: root + "/llama", threads: 2)
        let alpha = try Self.adapter(root + "/llama-adapters/peft/alpha", model)
        let beta = try Self.adapter(root + "/llama-adapters/peft/beta", model)
        let cases = try Self.reference().models["llama"]?.cases ?? []
        // Sequences 0 and 3 share alpha; sequence 0's length is not a multiple of 4, so batched,
        // alpha's rows fall into other 4-row groups than alone.
        var prompts = cases.prefix(4).map(\.prompt_ids)
        try #require(prompts.count == 4)
        if prompts[0].count % 4 == 0 { prompts[0].removeLast() }
        let adapters: [LoRAAdapter?] = [alpha, nil, beta, alpha]
        let lm = model.model
        func logits(_ indices: [Int]) throws -> [[Float]] {
            let blocks = 8, blockSize = 16
            let layout = lm.kvLayout(blockSize: blockSize)
            let cache = lm.makePagedCache(blockSize: blockSize, blockCount: blocks * indices.count * layout.reaches.count)
            let batch = ForwardBatch(sequences: indices.enumerated().map { slot, i in
                ForwardBatch.Sequence(tokens: prompts[i], start: 0, blockTables: layout.tables(forSequence: slot, blocks: blocks),
                                      batchedOrderBelow: prompts[i].count, logitRows: 1, adapter: adapters[i])
            })
            let out = lm.makeLogitStorage(rows: indices.count)
            try lm.forward(batch, cache: cache, logits: out)
            return indices.indices.map { Array(out.hostRow($0)) }
        }
        let together = try logits([0, 1, 2, 3])
        for i in 0..<4 { #expect(try logits([i])[0] == together[i], "sequence \(i)") }
        #expect(together[0] != (try logits([1])[0]))
    }

    // MARK: - Adapters that cannot be used

    @Test func unusableAdaptersAreRefusedWithTheReason() throws {
        let root = try Self.root()
        let model = try ModelLoader.load(path: root + "/llama", threads: 2)
        func reason(_ folder: String, maxRank: Int = 64) -> String {
            do {
                _ = try LoRALoader.load(folder: folder, name: "x", for: model, maxRank: maxRank)
                return "loaded"
            } catch {
                return error.description
            }
        }
        #expect(reason(root + "/llama-adapters/peft/alpha", maxRank: 4).contains("rank 8 exceeds NIM_MAX_LORA_RANK=4"))
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("nimbus-lora-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        // q_proj's A for 16 inputs where the model has 32.
        try FileManager.default.createDirectory(atPath: scratch + "/misfit", withIntermediateDirectories: true)
        try Data(#"{"peft_type": "LORA", "r": 4, "lora_alpha": 8, "target_modules": ["q_proj"]}"#.utf8)
            .write(to: URL(fileURLWithPath: scratch + "/misfit/adapter_config.json"))
        let prefix = "base_model.model.model.layers.0.self_attn.q_proj."
        try Self.safetensors([(prefix + "lora_A.weight", [4, 16]), (prefix + "lora_B.weight", [32, 4])])
            .write(to: URL(fileURLWithPath: scratch + "/misfit/adapter_model.safetensors"))
        #expect(reason(scratch + "/misfit").contains("the model's is 32 x 32"))
        try FileManager.default.createDirectory(atPath: scratch + "/empty", withIntermediateDirectories: true)
        #expect(reason(scratch + "/empty").contains("neither adapter_config.json"))
        // A truncated weights file and an unknown target module.
        let alpha = root + "/llama-adapters/peft/alpha"
        for name in ["truncated", "unknown"] {
            try FileManager.default.createDirectory(atPath: scratch + "/" + name, withIntermediateDirectories: true)
        }
        let weights = try Data(contentsOf: URL(fileURLWithPath: alpha + "/adapter_model.safetensors"))
        try weights.prefix(weights.count / 2).write(to: URL(fileURLWithPath: scratch + "/truncated/adapter_model.safetensors"))
        try FileManager.default.copyItem(atPath: alpha + "/adapter_config.json", toPath: scratch + "/truncated/adapter_config.json")
        #expect(reason(scratch + "/truncated").contains("adapter_model.safetensors"))
        var config = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: alpha + "/adapter_config.json"))) as? [String: Any])
        config["target_modules"] = ["q_proj", "embed_tokens"]
        try JSONSerialization.data(withJSONObject: config).write(to: URL(fileURLWithPath: scratch + "/unknown/adapter_config.json"))
        try FileManager.default.copyItem(atPath: alpha + "/adapter_model.safetensors", toPath: scratch + "/unknown/adapter_model.safetensors")
        #expect(reason(scratch + "/unknown").contains("embed_tokens"))
    }

    /// A safetensors file of F32 tensors of `shape`s filled with 0.01.
    static func safetensors(_ tensors: [(String, [Int])]) throws -> Data {
        var header: [String: Any] = [:], offset = 0
        for (name, shape) in tensors {
            let bytes = shape.reduce(1, *) * 4
            header[name] = ["dtype": "F32", "shape": shape, "data_offsets": [offset, offset + bytes]]
            offset += bytes
        }
        var json = try JSONSerialization.data(withJSONObject: header)
        while json.count % 8 != 0 { json.append(UInt8(ascii: " ")) }
        var data = Data()
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { data.append(contentsOf: $0) }
        data.append(json)
        for _ in 0..<(offset / 4) { withUnsafeBytes(of: Float(0.01).bitPattern.littleEndian) { data.append(contentsOf: $0) } }
        return data
    }

    @Test func unsupportedCheckpointTypeIsNamed() throws {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("nimbus-hf-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        try Data(#"{"model_type": "mixtral", "architectures": ["MixtralForCausalLM"]}"#.utf8).write(to: URL(fileURLWithPath: scratch + "/config.json"))
        #expect(ModelLoader.isDecoderCheckpoint(scratch))
        #expect(throws: ModelError.unsupportedCheckpoint("mixtral")) { try ModelLoader.load(path: scratch, threads: 1) }
    }

    /// The gathered forms (several rows of one adapter per call) give every row the bits the
    /// one-row kernels give it alone, in tiles of 4 rows and the rest.
    @Test(arguments: KernelPath.allCases.filter { $0 <= .detected })
    func loraRowKernelsGiveEachRowItsOneRowBits(_ path: KernelPath) {
        var random = SystemRandomNumberGenerator()
        func values(_ n: Int) -> [Float] { (0..<n).map { _ in Float.random(in: -1...1, using: &random) } }
        for (rows, n, rank) in [(1, 64, 16), (3, 577, 8), (4, 576, 16), (7, 17, 4), (9, 1536, 16)] {
            let a = values(n).map { Float16($0).bitPattern }, bt = values(rank * n).map { Float16($0).bitPattern }
            let x = values(rows * n), t = values(rows * rank)
            var alone = x, together = x, dots = [Float](repeating: 0, count: rows)
            a.withUnsafeBufferPointer { a in
                bt.withUnsafeBufferPointer { bt in
                    x.withUnsafeBufferPointer { x in
                        t.withUnsafeBufferPointer { t in
                            alone.withUnsafeMutableBufferPointer { alone in
                                together.withUnsafeMutableBufferPointer { together in
                                    let (a, bt, x, t) = (a.baseAddress!, bt.baseAddress!, x.baseAddress!, t.baseAddress!)
                                    let inputs: [UnsafePointer<Float>?] = (0..<rows).map { x + $0 * n }
                                    let ts: [UnsafePointer<Float>?] = (0..<rows).map { t + $0 * rank }
                                    let ys: [UnsafeMutablePointer<Float>?] = (0..<rows).map { together.baseAddress! + $0 * n }
                                    LoRAKernels.dot(a, rows: inputs, count: rows, length: n, into: &dots, path: path)
                                    LoRAKernels.expand(ts, rows: rows, rank: rank, bt, outputs: n, into: ys, path: path)
                                    for r in 0..<rows {
                                        let one = LoRAKernels.dot(a, x + r * n, count: n, path: path)
                                        #expect(dots[r].bitPattern == one.bitPattern, "dot row \(r) of \(rows), n \(n), \(path)")
                                        LoRAKernels.expand(t + r * rank, rank: rank, bt, outputs: n, into: alone.baseAddress! + r * n, path: path)
                                    }
                                }
                            }
                        }
                    }
                }
            }
            #expect(together.map(\.bitPattern) == alone.map(\.bitPattern), "expand of \(rows) rows, n \(n), rank \(rank), \(path)")
        }
    }

    @Test(arguments: KernelPath.allCases.filter { $0 <= .detected })
    func loraKernelsMatchTheirScalarTwins(_ path: KernelPath) {
        var generator = SystemRandomNumberGenerator()
        func halves(_ n: Int) -> [UInt16] { (0..<n).map { _ in Float16(Float.random(in: -1...1, using: &generator)).bitPattern } }
        for count in [1, 7, 8, 9, 16, 31, 64, 65, 577] {
            let a = halves(count)
            let x = (0..<count).map { _ in Float.random(in: -1...1, using: &generator) }
            a.withUnsafeBufferPointer { a in
                x.withUnsafeBufferPointer { x in
                    let fast = LoRAKernels.dot(a.baseAddress!, x.baseAddress!, count: count, path: path)
                    let slow = LoRAKernels.dotScalar(a.baseAddress!, x.baseAddress!, count: count)
                    #expect(abs(Double(fast) - slow) <= 1e-5 * Double(count), "dot of \(count) on \(path)")
                }
            }
            for rank in [1, 4, 16] {
                let t = (0..<rank).map { _ in Float.random(in: -1...1, using: &generator) }
                let bt = halves(rank * count)
                var y = x
                t.withUnsafeBufferPointer { t in
                    bt.withUnsafeBufferPointer { b in
                        y.withUnsafeMutableBufferPointer { out in
                            LoRAKernels.expand(t.baseAddress!, rank: rank, b.baseAddress!, outputs: count, into: out.baseAddress!, path: path)
                        }
                        for o in 0..<count {
                            let expected = LoRAKernels.expandScalar(t.baseAddress!, rank: rank, b.baseAddress!, outputs: count, at: o, y: x[o])
                            #expect(abs(Double(y[o]) - expected) <= 1e-5 * Double(rank + 1), "expand \(count) rank \(rank) at \(o) on \(path)")
                        }
                    }
                }
            }
        }
    }
}
