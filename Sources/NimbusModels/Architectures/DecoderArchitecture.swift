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
}

extension DecoderArchitecture {
    public static var defaultChatTemplate: String? { nil }
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
        Phi3.self,
    ]

    /// The architecture that reads files named `name`, or nil.
    public static func architecture(named name: String) -> (any DecoderArchitecture.Type)? {
        all.first { $0.names.contains(name) }
    }

    /// Every supported `general.architecture` value, sorted (for error messages and docs).
    public static var supportedNames: [String] { all.flatMap { $0.names }.sorted() }
}
