import Foundation
import NimbusKernels
import NimbusSafetensors

/// One tokenized input of an encoder: token ids with their token types (0 for a single text;
/// 0 then 1 for a query-passage pair).
public struct EncoderSequence: Sendable, Equatable {
    public var ids: [Int]
    public var typeIDs: [Int]

    public init(ids: [Int], typeIDs: [Int]? = nil) {
        self.ids = ids
        self.typeIDs = typeIDs ?? Array(repeating: 0, count: ids.count)
    }
}

/// BERT (`BertModel`, optionally with `BertForSequenceClassification`'s head): word + position +
/// token-type embeddings, LayerNorm, then post-LayerNorm blocks of bidirectional attention and
/// a GELU feed-forward network.
///
/// A batch is *packed*: the sequences' tokens are concatenated, so every linear layer is one
/// matrix product over all tokens with no padding, and attention keeps each token inside its own
/// sequence. Not reentrant: one thread (an encoder engine's) calls `embed`/`classify`.
public final class BertModel: @unchecked Sendable {
    public let configuration: BertConfiguration
    let weights: BertWeights
    let gemm: FloatGEMM
    private let hidden = FloatBuffer(), qkv = FloatBuffer(), context = FloatBuffer()
    private let projected = FloatBuffer(), intermediate = FloatBuffer()

    public var kernelPath: String { gemm.path.rawValue }
    /// Outputs of the classification head, or nil for a plain encoder.
    public var labelCount: Int? { weights.classifier?.classifier.rows }

    /// - Parameter classifierLabels: load `BertForSequenceClassification`'s head with this many outputs.
    public init(checkpoint: SafetensorsCheckpoint, configuration: BertConfiguration, classifierLabels: Int?,
                pool: ComputePool) throws(ModelError) {
        try configuration.validate()
        self.configuration = configuration
        weights = try BertWeights(checkpoint: checkpoint, configuration: configuration, classifierLabels: classifierLabels)
        do {
            gemm = try FloatGEMM(pool: pool)
        } catch {
            throw .kernel("\(error)")
        }
    }

    /// Pooled sentence vectors, one per sequence (unit length when `normalize`).
    public func embed(_ batch: [EncoderSequence], pooling: Pooling, normalize: Bool) throws(ModelError) -> [[Float]] {
        let spans = try encode(batch)
        let h = configuration.hiddenSize
        return spans.map { span in
            var v = Self.pool(hidden.pointer + span.start * h, count: span.length, width: h, pooling)
            if normalize {
                // sentence-transformers' Normalize: x / max(|x|, 1e-12).
                var norm: Float = 0
                for x in v { norm += x * x }
                let scale = 1 / Swift.max(norm.squareRoot(), 1e-12)
                for i in v.indices { v[i] *= scale }
            }
            return v
        }
    }

    /// The classification head's logits, one array of `labelCount` per sequence.
    public func classify(_ batch: [EncoderSequence]) throws(ModelError) -> [[Float]] {
        guard let head = weights.classifier else { throw .kernel("the model has no classification head") }
        let spans = try encode(batch)
        let h = configuration.hiddenSize
        // [CLS] of every sequence, one row each.
        let cls = FloatBuffer(), pooled = FloatBuffer(), logits = FloatBuffer()
        cls.reserve(spans.count * h)
        for (i, span) in spans.enumerated() { (cls.pointer + i * h).update(from: hidden.pointer + span.start * h, count: h) }
        pooled.reserve(spans.count * h)
        gemm.multiply(head.pooler, input: cls.pointer, inputStride: h, count: spans.count, output: pooled.pointer, outputStride: h)
        for i in 0..<spans.count * h { pooled.pointer[i] = tanhf(pooled.pointer[i]) }
        let labels = head.classifier.rows
        logits.reserve(spans.count * labels)
        gemm.multiply(head.classifier, input: pooled.pointer, inputStride: h, count: spans.count,
                      output: logits.pointer, outputStride: labels)
        return (0..<spans.count).map { Array(UnsafeBufferPointer(start: logits.pointer + $0 * labels, count: labels)) }
    }

    /// Runs the encoder over the packed batch; the last layer's states are left in `hidden`.
    /// - Returns: each sequence's rows in `hidden`.
    private func encode(_ batch: [EncoderSequence]) throws(ModelError) -> [(start: Int, length: Int)] {
        let c = configuration, h = c.hiddenSize
        var spans: [(start: Int, length: Int)] = []
        var total = 0
        for s in batch {
            guard !s.ids.isEmpty, s.ids.count <= c.maxPositions, s.typeIDs.count == s.ids.count else {
                throw .kernel("sequence of \(s.ids.count) tokens (\(s.typeIDs.count) types) outside 1...\(c.maxPositions)")
            }
            if let bad = s.ids.first(where: { $0 < 0 || $0 >= c.vocabularySize }) {
                throw .tokenOutOfRange(bad, vocabularySize: c.vocabularySize)
            }
            if let bad = s.typeIDs.first(where: { $0 < 0 || $0 >= c.typeVocabularySize }) {
                throw .badHyperparameter(key: "token type", reason: "\(bad) is outside 0..<\(c.typeVocabularySize)")
            }
            spans.append((total, s.ids.count))
            total += s.ids.count
        }
        guard total > 0 else { return spans }
        hidden.reserve(total * h)
        qkv.reserve(total * 3 * h)
        context.reserve(total * h)
        projected.reserve(total * h)
        intermediate.reserve(total * c.intermediateSize)
        let pool = gemm.pool

        var row = 0
        for s in batch {
            for (position, (id, type)) in zip(s.ids, s.typeIDs).enumerated() {
                let out = hidden.pointer + row * h
                for i in 0..<h {
                    out[i] = weights.wordEmbeddings[id * h + i] + weights.tokenTypeEmbeddings[type * h + i]
                        + weights.positionEmbeddings[position * h + i]
                }
                row += 1
            }
        }
        EncoderOperations.layerNorm(hidden.pointer, adding: nil, rows: total, width: h, weights.embeddingNorm,
                                    epsilon: c.layerNormEpsilon, pool: pool)
        for layer in weights.layers {
            gemm.multiply(layer.queryKeyValue, input: hidden.pointer, inputStride: h, count: total,
                          output: qkv.pointer, outputStride: 3 * h)
            EncoderOperations.attention(qkv: qkv.pointer, sequences: spans, heads: c.headCount, dim: c.headDimension,
                                        output: context.pointer, pool: pool)
            gemm.multiply(layer.attentionOutput, input: context.pointer, inputStride: h, count: total,
                          output: projected.pointer, outputStride: h)
            EncoderOperations.layerNorm(hidden.pointer, adding: projected.pointer, rows: total, width: h,
                                        layer.attentionNorm, epsilon: c.layerNormEpsilon, pool: pool)
            gemm.multiply(layer.intermediate, input: hidden.pointer, inputStride: h, count: total,
                          output: intermediate.pointer, outputStride: c.intermediateSize)
            EncoderOperations.activate(intermediate.pointer, count: total * c.intermediateSize, c.activation,
                                       path: gemm.path, pool: pool)
            gemm.multiply(layer.output, input: intermediate.pointer, inputStride: c.intermediateSize, count: total,
                          output: projected.pointer, outputStride: h)
            EncoderOperations.layerNorm(hidden.pointer, adding: projected.pointer, rows: total, width: h,
                                        layer.outputNorm, epsilon: c.layerNormEpsilon, pool: pool)
        }
        return spans
    }

    /// One sentence vector from `count` token rows of `width` floats.
    static func pool(_ rows: UnsafePointer<Float>, count: Int, width: Int, _ pooling: Pooling) -> [Float] {
        var v = [Float](repeating: 0, count: width)
        switch pooling {
        case .cls:
            for i in 0..<width { v[i] = rows[i] }
        case .lastToken:
            for i in 0..<width { v[i] = rows[(count - 1) * width + i] }
        case .max:
            for i in 0..<width { v[i] = rows[i] }
            for r in 1..<Swift.max(1, count) { for i in 0..<width { v[i] = Swift.max(v[i], rows[r * width + i]) } }
        case .mean, .meanSqrtLength:
            for r in 0..<count { for i in 0..<width { v[i] += rows[r * width + i] } }
            let divisor = pooling == .mean ? Float(count) : Float(count).squareRoot()
            for i in 0..<width { v[i] /= divisor }
        }
        return v
    }
}

/// A growable scratch buffer owned by one thread.
final class FloatBuffer {
    private(set) var pointer: UnsafeMutablePointer<Float>
    private var capacity: Int

    init() {
        capacity = 16
        pointer = .allocate(capacity: capacity)
    }

    deinit { pointer.deallocate() }

    /// Makes room for `count` floats; old contents are lost when it grows.
    func reserve(_ count: Int) {
        guard count > capacity else { return }
        pointer.deallocate()
        capacity = Swift.max(count, capacity * 3 / 2)
        pointer = .allocate(capacity: capacity)
    }
}
