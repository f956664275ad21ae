import NimbusTokenizers

/// Key-value metadata of a model file, as the architectures read their hyperparameters (GGUF's
/// `general.*`, `<arch>.*` and `tokenizer.*` keys; other formats map their settings onto these).
public protocol ModelMetadata: TokenizerMetadata {
    func float(_ key: String) -> Double?
    /// An array of booleans (for example one flag per layer).
    func bools(_ key: String) -> [Bool]?
}

/// One decoder architecture: how its hyperparameters map onto a `DecoderConfiguration` and
/// which shared blocks its layers compose. Adding an architecture is one file conforming to
/// this plus one line in `ArchitectureRegistry.all`.
public protocol DecoderArchitecture: Sendable {
    /// The `general.architecture` values it reads.
    static var names: [String] { get }
    /// The configuration for a file of architecture `name` (one of `names`).
    /// - Throws: `ModelError.badHyperparameter` naming the key that is missing or out of range.
    static func configuration(_ metadata: some ModelMetadata, name: String) throws(ModelError) -> DecoderConfiguration
    /// The chat template for files of this family that carry none (nil: ChatML, as llama.cpp).
    static var defaultChatTemplate: String? { get }
    /// How the family's Hugging Face checkpoints differ from its GGUF files; nil when Nimbus
    /// loads only its GGUF files.
    static var huggingFace: HuggingFaceLayout? { get }
}

extension DecoderArchitecture {
    public static var defaultChatTemplate: String? { nil }
    public static var huggingFace: HuggingFaceLayout? { nil }
}

/// What an architecture's Hugging Face checkpoints store differently from llama.cpp's
/// conversion of them; tensor names themselves are mapped once for all (`HuggingFaceTensors`).
public struct HuggingFaceLayout: Sendable {
    /// `config.json` `model_type` values of the family.
    public var modelTypes: [String]
    /// llama.cpp's converter reorders the rows of Q and K so that RoPE rotates adjacent pairs;
    /// a checkpoint keeps Hugging Face's halves, so it is run with NeoX pairing instead (the
    /// same rotation of the same numbers).
    public var queryKeyRowsPermutedInGGUF = false
    /// Gemma stores RMSNorm weights as `w` for a scale of `1 + w`; GGUF stores `1 + w`.
    public var normWeightOffset: Float = 0

    public init(modelTypes: [String], queryKeyRowsPermutedInGGUF: Bool = false, normWeightOffset: Float = 0) {
        self.modelTypes = modelTypes
        self.queryKeyRowsPermutedInGGUF = queryKeyRowsPermutedInGGUF
        self.normWeightOffset = normWeightOffset
    }
}

/// Every architecture Nimbus runs, looked up by `general.architecture`.
public enum ArchitectureRegistry {
    static let all: [any DecoderArchitecture.Type] = [
        Llama.self,
        Qwen2.self,
        Qwen2MoE.self,
        Qwen3.self,
        Qwen3MoE.self,
        Gemma.self,
        Gemma2.self,
        Gemma3.self,
        Phi2.self,
        Phi3.self,
        StarCoder2.self,
    ]

    /// The architecture that reads files named `name`, or nil.
    public static func architecture(named name: String) -> (any DecoderArchitecture.Type)? {
        all.first { $0.names.contains(name) }
    }

    /// The architecture of Hugging Face checkpoints whose `config.json` says `modelType`, with
    /// its GGUF name, or nil.
    public static func architecture(huggingFaceType modelType: String) -> (name: String, type: any DecoderArchitecture.Type)? {
        for a in all {
            if let layout = a.huggingFace, layout.modelTypes.contains(modelType), let name = a.names.first { return (name, a) }
        }
        return nil
    }

    /// Every `model_type` whose checkpoints Nimbus loads, sorted.
    public static var supportedHuggingFaceTypes: [String] { all.flatMap { $0.huggingFace?.modelTypes ?? [] }.sorted() }

    /// Every supported `general.architecture` value, sorted (for error messages and docs).
    public static var supportedNames: [String] { all.flatMap { $0.names }.sorted() }
}
