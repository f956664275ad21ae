import NimbusModels
import NimbusScheduler

/// Drafts with a smaller model of the same vocabulary (NIM_DRAFT_MODEL_PATH), run by the engine
/// thread on the target's compute threads, with a paged KV cache of its own.
///
/// Each step it first catches every drafting sequence up on the tokens the target has committed
/// since its last draft (the whole prompt the first time; after a partly rejected draft, from
/// the first position whose token changed: the draft's KV before it stays valid), then decodes
/// greedily, all sequences batched, one token per forward pass, as many as each asked for.
/// Greedy drafts are one token per position, which is what makes the target's verification
/// (sample, compare, stop at the first difference) exact rejection sampling.
final class DraftModel {
    let model: LoadedModel
    private let cache: any KVStorage
    private var pool: BlockPool
    private let blockSize: Int
    /// Block tables per sequence (the draft model's KV groups; nothing is freed behind a window).
    private let groups: Int
    /// Sequences drafted together in one forward pass (and logit rows).
    private let width: Int
    private let logits: any LogitStorage
    /// Per sequence: the tokens whose KV is in the draft cache (positions 0..<fed.count), and its
    /// block tables.
    private var states: [Int: (fed: [Int], tables: [[Int]])] = [:]

    struct Wanted {
        let id: Int
        /// The sequence's known tokens (prompt and sampled).
        let tokens: [Int]
        /// Positions below this are computed in the prompt's numerics, as the target does.
        let promptCount: Int
        let length: Int
    }

    /// A draft cache of `positions` positions in every one of the draft model's KV groups.
    init(model: LoadedModel, blockSize: Int, positions: Int, maxSequences: Int) {
        self.model = model
        self.blockSize = blockSize
        groups = model.model.kvLayout(blockSize: blockSize).reaches.count
        let blockCount = groups * ((positions + blockSize - 1) / blockSize)
        cache = model.model.makePagedCache(blockSize: blockSize, blockCount: blockCount)
        pool = BlockPool(blockCount: blockCount)
        width = max(1, min(maxSequences, model.model.maxBatch))
        logits = model.model.makeLogitStorage(rows: width)
    }

    /// The sequence ended: its draft KV is freed.
    func forget(_ id: Int) {
        guard let state = states.removeValue(forKey: id) else { return }
        for table in state.tables { for block in table.reversed() { pool.release(block) } }
    }

    /// A greedy draft of up to `length` tokens for each wanted sequence; sequences the draft
    /// cache cannot hold (or past the draft model's context) get none.
    func drafts(for wanted: [Wanted]) -> [Int: [Int]] {
        var pending: [(id: Int, tokens: ArraySlice<Int>, promptCount: Int)] = []
        var lengths: [Int: Int] = [:]
        for w in wanted.prefix(width) where w.length > 0 && !w.tokens.isEmpty {
            guard w.tokens.count + w.length - 1 <= model.contextLength,
                  let keep = prepare(w.id, tokens: w.tokens, positions: w.tokens.count + w.length - 1) else { continue }
            pending.append((w.id, w.tokens[keep...], w.promptCount))
            lengths[w.id] = w.length
        }
        var drafts: [Int: [Int]] = [:]
        do {
            // Catch up, in forward passes of at most `maxBatch` rows; a sequence's last chunk
            // yields its first draft token.
            while !pending.isEmpty {
                var batch = ForwardBatch()
                var finishing: [Int] = []
                var rest: [(id: Int, tokens: ArraySlice<Int>, promptCount: Int)] = []
                var rows = 0
                for item in pending {
                    let take = min(model.model.maxBatch - rows, item.tokens.count)
                    guard take > 0 else { rest.append(item); continue }
                    let chunk = Array(item.tokens.prefix(take))
                    let done = take == item.tokens.count
                    batch.sequences.append(feed(item.id, chunk, promptCount: item.promptCount, logit: done))
                    rows += take
                    if done { finishing.append(item.id) } else { rest.append((item.id, item.tokens.dropFirst(take), item.promptCount)) }
                }
                try model.model.forward(batch, cache: cache, logits: logits)
                for (row, id) in finishing.enumerated() { drafts[id] = [argmax(row)] }
                pending = rest
            }
            // Then one token per pass for every sequence that wants more.
            while true {
                let growing = drafts.keys.sorted().filter { drafts[$0, default: []].count < lengths[$0, default: 0] }
                guard !growing.isEmpty else { break }
                var batch = ForwardBatch()
                for id in growing {
                    guard let last = drafts[id]?.last else { continue }
                    batch.sequences.append(feed(id, [last], promptCount: 0, logit: true))
                }
                try model.model.forward(batch, cache: cache, logits: logits)
                for (row, id) in growing.enumerated() { drafts[id]?.append(argmax(row)) }
            }
        } catch {
            // A draft is only a proposal: drop them all, and the KV they may have half written.
            for id in lengths.keys { forget(id) }
            return [:]
        }
        return drafts
    }

    /// Rolls `id`'s draft KV back to the longest prefix that still matches `tokens` (leaving at
    /// least the last token to feed) and gives it blocks for `positions`.
    /// - Returns: how many of `tokens` are already fed; nil when the pool is out of blocks.
    private func prepare(_ id: Int, tokens: [Int], positions: Int) -> Int? {
        var state = states[id] ?? (fed: [], tables: Array(repeating: [], count: groups))
        let limit = min(state.fed.count, tokens.count - 1)
        var keep = 0
        while keep < limit, state.fed[keep] == tokens[keep] { keep += 1 }
        state.fed.removeLast(state.fed.count - keep)
        let needed = (positions + blockSize - 1) / blockSize
        for g in state.tables.indices {
            while state.tables[g].count > needed, let block = state.tables[g].popLast() { pool.release(block) }
            while state.tables[g].count < needed {
                guard let block = pool.allocate() else {
                    states[id] = state
                    return nil
                }
                state.tables[g].append(block)
            }
        }
        states[id] = state
        return keep
    }

    /// Records that `tokens` go into `id`'s draft KV after what it holds, as one batch entry.
    private func feed(_ id: Int, _ tokens: [Int], promptCount: Int, logit: Bool) -> ForwardBatch.Sequence {
        let state = states[id] ?? (fed: [], tables: Array(repeating: [], count: groups))
        states[id]?.fed.append(contentsOf: tokens)
        return ForwardBatch.Sequence(tokens: tokens, start: state.fed.count, blockTables: state.tables,
                                     batchedOrderBelow: promptCount, logitRows: logit ? 1 : 0)
    }

    /// The most likely token of logit row `row` (ties to the lowest id, as greedy sampling).
    private func argmax(_ row: Int) -> Int {
        let values = logits.hostRow(row)
        var best = 0
        for i in 1..<values.count where values[i] > values[best] { best = i }
        return best
    }
}
