import NimbusGGUF
import NimbusKernels
import NimbusTemplates
import NimbusTokenizers

/// One message of a conversation, as the chat template sees it.
public struct ChatTurn: Sendable, Equatable {
    public var role: String
    public var content: String
    /// An assistant turn's calls, as the template expects them (`[{"type": "function", "id",
    /// "function": {"name", "arguments": {...}}}]`, arguments as an object, as transformers passes).
    public var toolCalls: TemplateValue?
    /// A tool turn's answer to this call id.
    public var toolCallID: String?
    public var name: String?

    public init(role: String, content: String, toolCalls: TemplateValue? = nil, toolCallID: String? = nil, name: String? = nil) {
        self.role = role
        self.content = content
        self.toolCalls = toolCalls
        self.toolCallID = toolCallID
        self.name = name
    }

    var templateValue: TemplateValue {
        var fields: [(String, TemplateValue)] = [("role", .string(role)), ("content", .string(content))]
        if let toolCalls { fields.append(("tool_calls", toolCalls)) }
        if let toolCallID { fields.append(("tool_call_id", .string(toolCallID))) }
        if let name { fields.append(("name", .string(name))) }
        return .object(TemplateObject(fields))
    }
}

/// A model ready to serve: the network, its tokenizer and its chat template.
public struct LoadedModel: Sendable {
    public let path: String
    public let architecture: String
    /// What `/v1/models` and `list-models` say about the file.
    public let summary: ModelSummary
    public let model: any LanguageModel
    public let tokenizer: any Tokenizer
    public let chatTemplate: ChatTemplate
    /// The kernel implementation chosen for this CPU (for logs and the status page).
    public let kernelPath: String
    /// Things the load did that an operator should see in the log (requantization).
    public var loadNotes: [String] = []
    public var contextLength: Int { model.contextLength }

    /// Token ids of `turns` rendered with the chat template, ending with the assistant header.
    /// - Throws: `TemplateError` when the template rejects the conversation (`raise_exception`).
    public func chatPrompt(_ turns: [ChatTurn], tools: [TemplateValue]? = nil) throws -> [Int] {
        try tokens(ofChat: renderChat(turns, tools: tools))
    }

    /// The text of `turns` rendered with the chat template, ending with the assistant header;
    /// `tools` are passed as transformers passes them (OpenAI's `{"type": "function", ...}`).
    public func renderChat(_ turns: [ChatTurn], tools: [TemplateValue]? = nil) throws -> String {
        let bos = tokenizer.bosTokenID.map { tokenizer.decode([$0], renderSpecial: true) } ?? ""
        let eos = tokenizer.eosTokenID.map { tokenizer.decode([$0], renderSpecial: true) } ?? ""
        return try chatTemplate.render(ChatTemplate.context(
            messages: turns.map(\.templateValue), addGenerationPrompt: true, bosToken: bos, eosToken: eos, tools: tools))
    }

    /// Token ids of a rendered chat.
    public func tokens(ofChat text: String) -> [Int] {
        let bos = tokenizer.bosTokenID.map { tokenizer.decode([$0], renderSpecial: true) } ?? ""
        // Templates that write the BOS text themselves must not get a second BOS.
        let addSpecial = bos.isEmpty || !text.hasPrefix(bos)
        return tokenizer.encode(text, addSpecial: addSpecial, parseSpecial: true)
    }

    /// Token ids of a raw completion prompt (BOS added as the vocabulary asks; special-token text
    /// in the prompt is recognised, as llama.cpp's server does).
    public func completionPrompt(_ text: String) -> [Int] {
        tokenizer.encode(text, addSpecial: true, parseSpecial: true)
    }
}

extension GGUFFile: ModelMetadata {
    public func bools(_ key: String) -> [Bool]? {
        guard let items = metadata[key]?.arrayValue else { return nil }
        var out: [Bool] = []
        for item in items {
            guard let v = item.boolValue else { return nil }
            out.append(v)
        }
        return out
    }
}

/// Opens model files and builds what they describe.
public enum ModelLoader {
    /// ChatML, which llama.cpp also assumes for a model whose file carries no template.
    public static let fallbackTemplate = """
        {% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}
        """

    /// Loads a GGUF model of any architecture in `ArchitectureRegistry`.
    /// - Parameters:
    ///   - path: the GGUF file.
    ///   - threads: compute threads for the kernels.
    ///   - maxBatch: most tokens one forward step processes.
    ///   - quantization: convert F32/F16/BF16 weight matrices to this type at load.
    ///   - order: the matmul summation order (`SummationOrder`); the process default unless a
    ///     test pins one.
    ///   - contextLength: the most positions a sequence may reach (`NIM_MAX_MODEL_LEN`; the
    ///     model's own context caps it, as it caps the engine's); nil: the model's own. Phi-3's
    ///     LongRoPE takes its long factors above the original context.
    /// - Throws: `GGUFError`, `ModelError`, `TokenizerError` or `TemplateError`, each naming what is wrong.
    public static func load(path: String, threads: Int, maxBatch: Int = 512,
                            quantization: WeightQuantization? = nil,
                            order: SummationOrder = .detected, contextLength: Int? = nil) throws -> LoadedModel {
        try load(path: path, pool: ComputePool(threads: threads), maxBatch: maxBatch, quantization: quantization, order: order,
                 contextLength: contextLength)
    }

    /// Loads a draft model for speculative decoding: a smaller model that must share `target`'s
    /// vocabulary token for token (its proposals are token ids of the target), computed on the
    /// target's compute threads (the two never run at the same time, and a second pool would
    /// spin against the first on the same cores).
    /// `contextLength` is the target's, as in `load`: the draft decodes the same sequences.
    /// - Throws: what `load` throws, or `ModelError.tokenizer` naming both files when the
    ///   vocabularies differ.
    public static func loadDraft(path: String, for target: LoadedModel, maxBatch: Int = 512,
                                 contextLength: Int? = nil) throws -> LoadedModel {
        guard let decoder = target.model as? DecoderModel else {
            throw ModelError.kernel("the model at \(target.path) cannot run a draft model")
        }
        let draft = try load(path: path, pool: decoder.pool, maxBatch: maxBatch, quantization: nil, order: decoder.summationOrder,
                             contextLength: contextLength)
        let a = target.tokenizer, b = draft.tokenizer
        guard a.vocabularySize == b.vocabularySize else {
            throw ModelError.tokenizer("the draft model \(path) has \(b.vocabularySize) tokens, the model \(target.path) \(a.vocabularySize): they must share one vocabulary")
        }
        if let id = (0..<a.vocabularySize).first(where: { a.tokenBytes($0) != b.tokenBytes($0) }) {
            throw ModelError.tokenizer("the draft model \(path) and the model \(target.path) differ at token \(id) (\(String(decoding: b.tokenBytes(id), as: UTF8.self).debugDescription) vs \(String(decoding: a.tokenBytes(id), as: UTF8.self).debugDescription)): they must share one vocabulary")
        }
        return draft
    }

    /// Whether `path` is a Hugging Face decoder checkpoint folder (which `load` also reads).
    public static func isDecoderCheckpoint(_ path: String) -> Bool { HuggingFaceCheckpoint.isDecoder(directory: path) }

    private static func load(path: String, pool: ComputePool, maxBatch: Int, quantization: WeightQuantization?,
                             order: SummationOrder, contextLength: Int? = nil) throws -> LoadedModel {
        let source: any DecoderTensorSource
        let metadata: any ModelMetadata
        let name: String
        let architecture: any DecoderArchitecture.Type
        var configuration: DecoderConfiguration
        if HuggingFaceCheckpoint.isDecoder(directory: path) {
            let checkpoint = try HuggingFaceCheckpoint(directory: path)
            (source, metadata, name, architecture) = (checkpoint.tensors, checkpoint.metadata, checkpoint.architecture, checkpoint.type)
            configuration = try architecture.configuration(checkpoint.metadata, name: name)
            if checkpoint.layout.queryKeyRowsPermutedInGGUF { configuration.rope.layout = .neox }
        } else {
            let gguf = try GGUFFile(path: path)
            name = gguf.string("general.architecture") ?? "unknown"
            guard let found = ArchitectureRegistry.architecture(named: name) else {
                throw ModelError.unsupportedArchitecture(name)
            }
            (source, metadata, architecture) = (gguf, gguf, found)
            configuration = try architecture.configuration(gguf, name: name)
        }
        let tokenizer = try makeTokenizer(metadata: metadata)
        guard tokenizer.vocabularySize == configuration.vocabularySize else {
            throw ModelError.badHyperparameter(
                key: "tokenizer.ggml.tokens",
                reason: "\(tokenizer.vocabularySize) tokens, but the model's vocabulary has \(configuration.vocabularySize) rows")
        }
        let fileTemplate = metadata.string("tokenizer.chat_template")
        let templateSource = fileTemplate ?? architecture.defaultChatTemplate ?? fallbackTemplate
        let template: ChatTemplate
        do {
            template = try ChatTemplate(source: templateSource)
        } catch {
            throw ModelError.tokenizer("the chat template in \(path) cannot be used: \(error)")
        }
        let report = quantization.map { WeightQuantization.Report(target: $0) }
        let model = try WeightQuantization.$active.withValue(report) {
            try DecoderModel(source: source, configuration: configuration, pool: pool, maxBatch: maxBatch, order: order,
                             contextLength: contextLength)
        }
        var notes = report?.notes ?? []
        if fileTemplate == nil {
            notes.append("\(path) has no chat template: using \(architecture.defaultChatTemplate == nil ? "ChatML" : "the \(name) family's")")
        }
        return LoadedModel(path: path, architecture: name, summary: ModelSummary(source: source, configuration: configuration),
                           model: model, tokenizer: tokenizer, chatTemplate: template, kernelPath: model.kernelPath,
                           loadNotes: notes)
    }
}
