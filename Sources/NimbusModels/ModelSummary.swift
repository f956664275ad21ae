import NimbusGGUF

/// What a served model is, as `/v1/models` and `nimbus list-models` report it.
public struct ModelSummary: Sendable, Equatable {
    /// `general.architecture`.
    public var architecture: String
    /// Elements of every tensor in the file (the embedding counted once when the head is tied).
    public var parameterCount: Int
    public var contextLength: Int
    /// How many tensors of each ggml type the file holds (`Q4_K`: 169, ...).
    public var weightTypes: [String: Int]

    public init(architecture: String, parameterCount: Int, contextLength: Int, weightTypes: [String: Int]) {
        self.architecture = architecture
        self.parameterCount = parameterCount
        self.contextLength = contextLength
        self.weightTypes = weightTypes
    }

    init(source: any DecoderTensorSource, configuration: DecoderConfiguration) {
        var types: [String: Int] = [:]
        let inventory = source.inventory
        for tensor in inventory { types[tensor.typeName, default: 0] += 1 }
        self.init(architecture: configuration.architecture,
                  parameterCount: inventory.reduce(0) { $0 + $1.elements },
                  contextLength: configuration.contextLength, weightTypes: types)
    }

    /// The summary of the GGUF file (or Hugging Face checkpoint folder) at `path`, from its
    /// headers alone (no weights are read).
    /// - Throws: `GGUFError` for an unreadable file, `ModelError` for an unsupported architecture
    ///   or bad hyperparameters.
    public static func read(path: String) throws -> ModelSummary {
        if HuggingFaceCheckpoint.isDecoder(directory: path) {
            let checkpoint = try HuggingFaceCheckpoint(directory: path)
            return ModelSummary(source: checkpoint.tensors,
                                configuration: try checkpoint.type.configuration(checkpoint.metadata, name: checkpoint.architecture))
        }
        let gguf = try GGUFFile(headersOf: path)
        let name = gguf.string("general.architecture") ?? "unknown"
        guard let architecture = ArchitectureRegistry.architecture(named: name) else {
            throw ModelError.unsupportedArchitecture(name)
        }
        return ModelSummary(source: gguf, configuration: try architecture.configuration(gguf, name: name))
    }

    /// The weight types, most frequent first: `Q4_K:169,F32:141,Q6_K:29`.
    public var weightTypeList: String {
        weightTypes.sorted { ($0.value, $1.key) > ($1.value, $0.key) }.map { "\($0.key):\($0.value)" }.joined(separator: ",")
    }

    /// `"1.5B"`, `"268M"`: the size as model names write it.
    public var sizeLabel: String {
        let n = Double(parameterCount)
        if n >= 1e9 { return "\((n / 1e8).rounded() / 10)B" }
        if n >= 1e6 { return "\(Int((n / 1e6).rounded()))M" }
        return "\(Int((n / 1e3).rounded()))K"
    }
}
