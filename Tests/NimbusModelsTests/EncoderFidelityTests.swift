import Foundation
import NimbusModels
import NimbusTestSupport
import Testing

/// all-MiniLM-L6-v2 against sentence-transformers: token ids equal to the Hugging Face fast
/// tokenizer's and embeddings within cosine 0.9999 of the reference's, for a varied sentence set.
@Suite(.serialized, .enabled(if: TestEmbeddingModel.shouldRun))
struct MiniLMFidelityTests {
    static let fixture = try? EncoderFixtures.load(EncoderFixtures.MiniLM.self, "minilm_embeddings")
    static let encoder = try? EncoderLoader.load(directory: TestEmbeddingModel.path, threads: 2)

    @Test func loadsWithSentenceTransformersSettings() throws {
        let encoder = try EncoderLoader.load(directory: TestEmbeddingModel.path, threads: 2)
        #expect(encoder.kind == .embedding)
        #expect(encoder.dimensions == 384)
        #expect(encoder.settings.pooling == .mean && encoder.settings.normalize)
        #expect(encoder.maxLength == 256)
    }

    @Test func tokenIDsMatchTheReferenceTokenizer() throws {
        let fixture = try #require(Self.fixture)
        let encoder = try #require(Self.encoder)
        #expect(fixture.cases.count >= 25)
        for c in fixture.cases {
            let (ids, _) = encoder.tokenizer.template.apply(encoder.tokens(c.text))
            #expect(ids == c.ids, "\(c.text.prefix(60))")
        }
    }

    /// One batch of every sentence (the long one truncated at the end, as sentence-transformers does).
    @Test func embeddingsMatchSentenceTransformers() throws {
        let fixture = try #require(Self.fixture)
        let encoder = try #require(Self.encoder)
        let batch = try fixture.cases.map { try encoder.sequence(encoder.tokens($0.text), truncation: .end) }
        let vectors = try encoder.model.embed(batch, pooling: encoder.settings.pooling, normalize: encoder.settings.normalize)
        var worst = 1.0
        for (c, v) in zip(fixture.cases, vectors) {
            let cos = EncoderFixtures.cosine(v, c.embedding)
            worst = min(worst, cos)
            #expect(cos >= 0.9999, "\(c.text.prefix(60)): cosine \(cos)")
        }
        print("MiniLM minimum cosine against sentence-transformers: \(worst)")
    }

    /// Packing must not change results: a sentence alone gives the same bits as inside a batch.
    @Test func batchingDoesNotChangeEmbeddings() throws {
        let fixture = try #require(Self.fixture)
        let encoder = try #require(Self.encoder)
        let batch = try fixture.cases.prefix(6).map { try encoder.sequence(encoder.tokens($0.text), truncation: .end) }
        let together = try encoder.model.embed(batch, pooling: .mean, normalize: true)
        for (i, s) in batch.enumerated() {
            #expect(try encoder.model.embed([s], pooling: .mean, normalize: true)[0] == together[i])
        }
    }

    @Test func tooLongInputIsRefusedOrTruncated() throws {
        let encoder = try #require(Self.encoder)
        let content = Array(repeating: 1000, count: 300)
        #expect(throws: InputTooLong(tokens: 302, maxLength: 256)) { try encoder.sequence(content, truncation: .none) }
        let start = try encoder.sequence(Array(0..<300), truncation: .start)
        #expect(start.ids.count == 256 && start.ids[1] == 46 && start.ids[254] == 299)
        let end = try encoder.sequence(Array(0..<300), truncation: .end)
        #expect(end.ids.count == 256 && end.ids[1] == 0 && end.ids[254] == 253)
    }
}

/// The cross-encoder head on a tiny random BertForSequenceClassification (two safetensors shards
/// in F16, BF16 and F32) against Transformers' logits.
@Suite struct CrossEncoderFidelityTests {
    static let fixture = try? EncoderFixtures.load(EncoderFixtures.CrossEncoder.self, "tiny_cross_encoder_logits")

    @Test func logitsMatchTransformers() throws {
        let fixture = try #require(Self.fixture)
        let encoder = try EncoderLoader.load(directory: TestFixtures.tinyCrossEncoderPath, threads: 2)
        #expect(encoder.kind == .crossEncoder && encoder.maxLength == fixture.max_length)
        var batch: [EncoderSequence] = []
        for c in fixture.cases {
            let pair = try encoder.pair(query: encoder.tokens(c.query), passage: encoder.tokens(c.passage), truncation: .end)
            #expect(pair.ids == c.ids, "\(c.query) / \(c.passage.prefix(40))")
            #expect(pair.typeIDs == c.type_ids, "\(c.query) / \(c.passage.prefix(40))")
            batch.append(pair)
        }
        let logits = try encoder.model.classify(batch)
        for (c, l) in zip(fixture.cases, logits) {
            #expect(abs(l[0] - c.logit) <= 1e-4, "\(c.query): \(l[0]) vs \(c.logit)")
        }
    }

    @Test func tooLongPairWithoutTruncationIsRefused() throws {
        let encoder = try EncoderLoader.load(directory: TestFixtures.tinyCrossEncoderPath, threads: 1)
        #expect(throws: InputTooLong(tokens: 83, maxLength: 64)) {
            try encoder.pair(query: Array(repeating: 10, count: 40), passage: Array(repeating: 11, count: 40), truncation: .none)
        }
    }
}
