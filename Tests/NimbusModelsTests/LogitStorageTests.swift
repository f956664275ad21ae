import Foundation
import NimbusModels
import Testing

/// `LanguageModel.forward` writes logits into a `LogitStorage` the model made, and refuses
/// storage it cannot write: another model's (another vocabulary), fewer rows than the batch asks
/// for, or a negative row count. Nothing is computed then, so the KV cache is unchanged.
@Suite(.serialized) struct LogitStorageTests {
    static func tiny(_ file: String) throws -> LoadedModel {
        let url = try #require(Bundle.module.url(forResource: "Fixtures/tiny/\(file)", withExtension: "gguf"))
        return try ModelLoader.load(path: url.path, threads: 2)
    }

    static func sequence(_ tokens: [Int], slot: Int, layout: KVLayout, logitRows: Int) -> ForwardBatch.Sequence {
        ForwardBatch.Sequence(tokens: tokens, start: 0, blockTables: layout.tables(forSequence: slot, blocks: 2),
                              batchedOrderBelow: tokens.count, logitRows: logitRows)
    }

    @Test func refusesAnotherModelsStorageAndWrongRowCounts() throws {
        let qwen = try Self.tiny("qwen3.q4_k_m").model, phi = try Self.tiny("phi3.q4_k_m").model
        let layout = qwen.kvLayout(blockSize: 16)
        let cache = qwen.makePagedCache(blockSize: 16, blockCount: 4 * layout.reaches.count)
        let one = ForwardBatch(sequences: [Self.sequence([1, 2, 3], slot: 0, layout: layout, logitRows: 1)])
        #expect(throws: ModelError.kernel("a logit storage made by another model or backend")) {
            try qwen.forward(one, cache: cache, logits: phi.makeLogitStorage(rows: 4))
        }
        let two = ForwardBatch(sequences: [Self.sequence([1, 2, 3], slot: 0, layout: layout, logitRows: 1),
                                           Self.sequence([4, 5], slot: 1, layout: layout, logitRows: 1)])
        #expect(throws: ModelError.kernel("2 logit rows for a storage of 1")) {
            try qwen.forward(two, cache: cache, logits: qwen.makeLogitStorage(rows: 1))
        }
        let negative = ForwardBatch(sequences: [Self.sequence([1, 2, 3], slot: 0, layout: layout, logitRows: -1)])
        #expect(throws: ModelError.kernel("a negative count of logit rows")) {
            try qwen.forward(negative, cache: cache, logits: qwen.makeLogitStorage(rows: 4))
        }
    }

    /// Rows are counted as written: a sequence asking for more rows than it has tokens gets one
    /// per token, so a one-token sequence fits a one-row storage; each row is the one computed alone.
    @Test func writesOneRowPerWantedTokenInBatchOrder() throws {
        let lm = try Self.tiny("qwen3.q4_k_m").model
        let layout = lm.kvLayout(blockSize: 16)
        func run(_ sequences: [ForwardBatch.Sequence], rows: Int) throws -> [[Float]] {
            let cache = lm.makePagedCache(blockSize: 16, blockCount: 4 * layout.reaches.count)
            let logits = lm.makeLogitStorage(rows: rows)
            try lm.forward(ForwardBatch(sequences: sequences), cache: cache, logits: logits)
            return (0..<rows).map { Array(logits.hostRow($0)) }
        }
        let greedy = try run([Self.sequence([7], slot: 0, layout: layout, logitRows: 3)], rows: 1)
        #expect(greedy[0].count == lm.vocabularySize)
        #expect(greedy[0].contains { $0 != 0 })
        let a = try run([Self.sequence([1, 2, 3], slot: 0, layout: layout, logitRows: 2)], rows: 2)
        let b = try run([Self.sequence([9, 8], slot: 0, layout: layout, logitRows: 1)], rows: 1)
        let both = try run([Self.sequence([1, 2, 3], slot: 0, layout: layout, logitRows: 2),
                            Self.sequence([9, 8], slot: 1, layout: layout, logitRows: 1)], rows: 3)
        #expect(both == a + b)
        #expect(a[0] != a[1])
    }
}
