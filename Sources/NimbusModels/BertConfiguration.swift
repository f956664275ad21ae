import Foundation

/// Hyperparameters of a BERT encoder, mapped from the checkpoint's `config.json` key names.
public struct BertConfiguration: Sendable, Equatable, Decodable {
    /// Feed-forward activations BERT checkpoints name in `hidden_act`.
    public enum Activation: String, Sendable, Decodable {
        /// `0.5 x (1 + erf(x / sqrt 2))`, PyTorch's default GELU.
        case gelu
        /// The tanh approximation.
        case geluNew = "gelu_new"
        case geluPyTorchTanh = "gelu_pytorch_tanh"
        case relu
    }

    public var architectures: [String]?
    public var modelType: String?
    public var vocabularySize: Int
    public var hiddenSize: Int
    public var layerCount: Int
    public var headCount: Int
    public var intermediateSize: Int
    public var maxPositions: Int
    public var typeVocabularySize: Int
    public var layerNormEpsilon: Float
    public var activation: Activation
    public var positionEmbeddingType: String?
    /// Outputs of a sequence-classification head (`id2label`'s size, or `num_labels`).
    public var labelCount: Int?

    public var headDimension: Int { hiddenSize / headCount }

    enum CodingKeys: String, CodingKey {
        case architectures
        case modelType = "model_type"
        case vocabularySize = "vocab_size"
        case hiddenSize = "hidden_size"
        case layerCount = "num_hidden_layers"
        case headCount = "num_attention_heads"
        case intermediateSize = "intermediate_size"
        case maxPositions = "max_position_embeddings"
        case typeVocabularySize = "type_vocab_size"
        case layerNormEpsilon = "layer_norm_eps"
        case activation = "hidden_act"
        case positionEmbeddingType = "position_embedding_type"
        case id2label
        case numLabels = "num_labels"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        architectures = try c.decodeIfPresent([String].self, forKey: .architectures)
        modelType = try c.decodeIfPresent(String.self, forKey: .modelType)
        vocabularySize = try c.decode(Int.self, forKey: .vocabularySize)
        hiddenSize = try c.decode(Int.self, forKey: .hiddenSize)
        layerCount = try c.decode(Int.self, forKey: .layerCount)
        headCount = try c.decode(Int.self, forKey: .headCount)
        intermediateSize = try c.decode(Int.self, forKey: .intermediateSize)
        maxPositions = try c.decodeIfPresent(Int.self, forKey: .maxPositions) ?? 512
        typeVocabularySize = try c.decodeIfPresent(Int.self, forKey: .typeVocabularySize) ?? 2
        layerNormEpsilon = try c.decodeIfPresent(Float.self, forKey: .layerNormEpsilon) ?? 1e-12
        activation = try c.decodeIfPresent(Activation.self, forKey: .activation) ?? .gelu
        positionEmbeddingType = try c.decodeIfPresent(String.self, forKey: .positionEmbeddingType)
        if let labels = try c.decodeIfPresent([String: String].self, forKey: .id2label) {
            labelCount = labels.count
        } else {
            labelCount = try c.decodeIfPresent(Int.self, forKey: .numLabels)
        }
    }

    /// Checks the values a forward pass relies on.
    func validate() throws(ModelError) {
        for (key, value) in [("vocab_size", vocabularySize), ("hidden_size", hiddenSize), ("num_hidden_layers", layerCount),
                             ("num_attention_heads", headCount), ("intermediate_size", intermediateSize),
                             ("max_position_embeddings", maxPositions), ("type_vocab_size", typeVocabularySize)] {
            guard value > 0, value <= 1 << 24 else { throw .badHyperparameter(key: key, reason: "must be in 1...\(1 << 24), got \(value)") }
        }
        guard hiddenSize % headCount == 0 else {
            throw .badHyperparameter(key: "hidden_size", reason: "\(hiddenSize) is not a multiple of num_attention_heads \(headCount)")
        }
        if let type = positionEmbeddingType, type != "absolute" {
            throw .badHyperparameter(key: "position_embedding_type", reason: "'\(type)' is not supported (only absolute)")
        }
        guard layerNormEpsilon.isFinite, layerNormEpsilon > 0 else {
            throw .badHyperparameter(key: "layer_norm_eps", reason: "must be positive, got \(layerNormEpsilon)")
        }
    }
}
