/// The work of one engine step for a model: for each sequence, a run of consecutive tokens to
/// compute after the positions already in its KV blocks.
///
/// Every row is computed on its own (matmul outputs, norms and attention never mix rows), so a
/// sequence's results do not depend on what else is in the batch. The one choice llama.cpp makes
/// by batch size, the attention reduction order, is made here per position instead: see
/// `batchedOrderBelow`.
public struct ForwardBatch: Sendable {
    public struct Sequence: Sendable {
        /// Tokens at positions `start ..< start + tokens.count`.
        public var tokens: [Int]
        public var start: Int
        /// The sequence's KV blocks, one table per group of `LanguageModel.kvLayout`, each
        /// covering at least `start + tokens.count` positions. A sliding-window group's table
        /// may hold -1 for blocks its window no longer reaches from `start`.
        public var blockTables: [[Int]]
        /// Positions below this attend in llama.cpp's multi-token (tinyBLAS) order, the others in
        /// its single-token (vec_dot) order. The engine passes the prompt length, so prompt
        /// tokens keep prompt numerics and generated ones decode numerics however they are
        /// batched or recomputed.
        public var batchedOrderBelow: Int
        /// Write the logits of this many of the sequence's last tokens (0: none; 1: the next-token
        /// logits; more: also those that verify draft tokens in speculative decoding).
        public var logitRows: Int
        /// The LoRA adapter whose updates apply to this sequence's rows (nil: the base model).
        public var adapter: LoRAAdapter?

        public init(tokens: [Int], start: Int, blockTables: [[Int]], batchedOrderBelow: Int, logitRows: Int,
                    adapter: LoRAAdapter? = nil) {
            self.adapter = adapter
            self.tokens = tokens
            self.start = start
            self.blockTables = blockTables
            self.batchedOrderBelow = batchedOrderBelow
            self.logitRows = logitRows
        }
    }

    public var sequences: [Sequence]

    public init(sequences: [Sequence] = []) { self.sequences = sequences }

    public var rowCount: Int { sequences.reduce(0) { $0 + $1.tokens.count } }
    public var logitCount: Int { sequences.reduce(0) { $0 + $1.logitRows } }
}
