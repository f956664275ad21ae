/// Why a model could not be loaded or run.
public enum ModelError: Error, CustomStringConvertible, Equatable {
    /// The file declares an architecture that Nimbus has no implementation of.
    case unsupportedArchitecture(String)
    /// A checkpoint folder's `config.json` names an encoder architecture Nimbus cannot run.
    case unsupportedEncoder(String)
    /// A Hugging Face checkpoint's `config.json` names a `model_type` Nimbus cannot load.
    case unsupportedCheckpoint(String)
    /// A tensor uses a ggml type the kernels cannot compute with yet.
    case unsupportedTensorType(tensor: String, type: String)
    /// A tensor the architecture needs is absent.
    case missingTensor(String)
    /// The file holds a tensor the architecture never reads (llama.cpp refuses such files too):
    /// computing without it would give wrong results without a word.
    case unusedTensor(String, architecture: String)
    /// A tensor has a shape other than the hyperparameters imply.
    case badTensorShape(tensor: String, expected: [Int], actual: [Int])
    /// A hyperparameter is absent or out of range.
    case badHyperparameter(key: String, reason: String)
    /// The tokenizer or chat template in the file could not be built.
    case tokenizer(String)
    /// A prompt holds a token id outside the vocabulary.
    case tokenOutOfRange(Int, vocabularySize: Int)
    /// The sequence would grow past the KV cache's capacity.
    case contextFull(capacity: Int)
    /// A kernel refused its arguments (a bug: shapes are checked at load).
    case kernel(String)

    public var description: String {
        switch self {
        case .unsupportedArchitecture(let a): "unsupported model architecture '\(a)' (supported: \(ArchitectureRegistry.supportedNames.joined(separator: ", ")))"
        case .unsupportedEncoder(let a):
            "unsupported checkpoint architecture '\(a)' (supported: BertModel, BertForSequenceClassification)"
        case .unsupportedCheckpoint(let type):
            "unsupported Hugging Face model_type '\(type)' (supported: \(ArchitectureRegistry.supportedHuggingFaceTypes.joined(separator: ", ")); other architectures load as GGUF files)"
        case .unsupportedTensorType(let t, let type):
            "tensor \(t) has type \(type), which Nimbus cannot compute with yet (supported: F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K)"
        case .missingTensor(let t): "model file has no tensor \(t)"
        case .unusedTensor(let t, let a): "model file has tensor \(t), which Nimbus's \(a) architecture does not read (a different variant of the architecture?)"
        case .badTensorShape(let t, let e, let a): "tensor \(t) has shape \(a), expected \(e)"
        case .badHyperparameter(let k, let why): "model metadata \(k): \(why)"
        case .tokenizer(let why): "tokenizer: \(why)"
        case .tokenOutOfRange(let id, let n): "token id \(id) is outside the vocabulary (0..<\(n))"
        case .contextFull(let c): "sequence exceeds the KV cache capacity of \(c) tokens"
        case .kernel(let why): "kernel error: \(why)"
        }
    }
}
