import NimbusKernels
import NimbusSafetensors

/// A LayerNorm's scale and shift.
struct LayerNormWeights {
    let weight: [Float]
    let bias: [Float]

    init(_ tensors: CheckpointTensors, _ name: String, size: Int) throws(ModelError) {
        weight = try tensors.floats(anyOf: [name + ".gamma", name + ".weight"], shape: [size])
        bias = try tensors.floats(anyOf: [name + ".beta", name + ".bias"], shape: [size])
    }
}

/// The tensors of one BERT block (post-LayerNorm).
struct BertLayer {
    /// Q, K and V stacked: 3 x hidden outputs.
    let queryKeyValue: PackedMatrix
    let attentionOutput: PackedMatrix
    let attentionNorm: LayerNormWeights
    let intermediate: PackedMatrix
    let output: PackedMatrix
    let outputNorm: LayerNormWeights
}

/// The classification head of BertForSequenceClassification: pooler (dense + tanh on [CLS])
/// then a linear layer to the labels.
struct BertClassifier {
    let pooler: PackedMatrix
    let classifier: PackedMatrix
}

/// Every tensor of a BERT checkpoint: embeddings as fp32 tables, linear layers packed.
struct BertWeights {
    let wordEmbeddings: [Float]
    let positionEmbeddings: [Float]
    let tokenTypeEmbeddings: [Float]
    let embeddingNorm: LayerNormWeights
    let layers: [BertLayer]
    let classifier: BertClassifier?

    /// - Parameter classifier: load the sequence-classification head (labels outputs).
    init(checkpoint: SafetensorsCheckpoint, configuration c: BertConfiguration, classifierLabels: Int?) throws(ModelError) {
        // BertModel checkpoints name tensors `embeddings...`; task heads wrap the encoder as `bert.`.
        let anchor = "embeddings.word_embeddings.weight"
        guard let found = checkpoint.tensorNames.first(where: { $0.hasSuffix(anchor) }) else { throw .missingTensor(anchor) }
        let t = CheckpointTensors(checkpoint: checkpoint, prefix: String(found.dropLast(anchor.count)))
        let h = c.hiddenSize
        wordEmbeddings = try t.floats("embeddings.word_embeddings.weight", shape: [c.vocabularySize, h])
        positionEmbeddings = try t.floats("embeddings.position_embeddings.weight", shape: [c.maxPositions, h])
        tokenTypeEmbeddings = try t.floats("embeddings.token_type_embeddings.weight", shape: [c.typeVocabularySize, h])
        embeddingNorm = try LayerNormWeights(t, "embeddings.LayerNorm", size: h)
        var layers: [BertLayer] = []
        for i in 0..<c.layerCount {
            let p = "encoder.layer.\(i)."
            layers.append(BertLayer(
                queryKeyValue: try t.stacked([p + "attention.self.query", p + "attention.self.key", p + "attention.self.value"],
                                             rows: h, columns: h),
                attentionOutput: try t.linear(p + "attention.output.dense", rows: h, columns: h),
                attentionNorm: try LayerNormWeights(t, p + "attention.output.LayerNorm", size: h),
                intermediate: try t.linear(p + "intermediate.dense", rows: c.intermediateSize, columns: h),
                output: try t.linear(p + "output.dense", rows: h, columns: c.intermediateSize),
                outputNorm: try LayerNormWeights(t, p + "output.LayerNorm", size: h)))
        }
        self.layers = layers
        if let labels = classifierLabels {
            classifier = BertClassifier(
                pooler: try t.linear("pooler.dense", rows: h, columns: h),
                // The head sits beside the encoder, outside its prefix.
                classifier: try t.linear("classifier", rows: labels, columns: h, prefixed: false))
        } else {
            classifier = nil
        }
    }
}
