import NimbusEngine
import NimbusModels

extension BenchEngine {
    /// Total decode tokens/s of N independent sequences stepping together, for each N in
    /// `sequenceCounts`: one `forward` per step over N one-token rows, each row with its own KV
    /// blocks and attention, the output head on every row, as the engine's decode steps run.
    /// Each sequence first prefills its own 8-token prompt (not timed); then `steps` steps of
    /// greedy decode are timed. Returns min/median/max over `runs` runs after one warm-up.
    func batchedDecode(_ lm: any LanguageModel, prompt: [Int], sequenceCounts: [Int]) throws -> [(rows: Int, stats: Stats)] {
        let promptLength = 8, steps = 32, blockSize = 16
        let blocksPerSequence = (promptLength + steps + blockSize) / blockSize
        return try sequenceCounts.filter { $0 <= lm.maxBatch }.map { n in
            let layout = lm.kvLayout(blockSize: blockSize)
            let cache = lm.makePagedCache(blockSize: blockSize, blockCount: n * layout.reaches.count * blocksPerSequence)
            let logits = lm.makeLogitStorage(rows: n)
            var rates: [Double] = []
            for run in 0...runs {
                // Sequence s owns its own run of blocks per KV group and starts from a different
                // slice of the prompt, so no two sequences compute the same thing.
                var sequences = (0..<n).map { s in
                    ForwardBatch.Sequence(tokens: (0..<promptLength).map { prompt[(s * 7 + $0) % prompt.count] }, start: 0,
                                          blockTables: layout.tables(forSequence: s, blocks: blocksPerSequence),
                                          batchedOrderBelow: promptLength, logitRows: 1)
                }
                try step(lm, &sequences, cache: cache, logits: logits)
                let t0 = ContinuousClock.now
                for _ in 0..<steps { try step(lm, &sequences, cache: cache, logits: logits) }
                if run > 0 { rates.append(Double(n * steps) / (ContinuousClock.now - t0).seconds) }
            }
            return (n, Stats(rates))
        }
    }

    /// One forward over `sequences`, then each sequence's next row is its greedy token.
    private func step(_ lm: any LanguageModel, _ sequences: inout [ForwardBatch.Sequence], cache: any KVStorage,
                      logits: any LogitStorage) throws {
        try lm.forward(ForwardBatch(sequences: sequences), cache: cache, logits: logits)
        for s in sequences.indices {
            sequences[s].start += sequences[s].tokens.count
            sequences[s].tokens = [argmax(UnsafeBufferPointer(logits.hostRow(s)))]
        }
    }
}
