/// Decides which queued sequences share the next forward pass: a value-type state machine with
/// no threads, so its policy is tested on its own.
///
/// Requests are served in arrival order. A batch takes whole requests while they fit the token
/// and sequence budgets and splits a large request across batches, so one request of 2,048
/// inputs neither waits behind nor starves the requests after it for more than one batch.
public struct BatchPlanner<ID: Hashable & Sendable>: Sendable {
    /// One request's contiguous share of a batch.
    public struct Slice: Equatable, Sendable {
        public let request: ID
        public let range: Range<Int>

        public init(request: ID, range: Range<Int>) {
            self.request = request
            self.range = range
        }
    }

    private struct Pending {
        let id: ID
        let lengths: [Int]
        var next = 0
    }

    /// Most tokens in one forward pass (bounds the activation memory).
    public let maxTokens: Int
    /// Most sequences in one forward pass.
    public let maxSequences: Int
    private var pending: [Pending] = []

    public init(maxTokens: Int, maxSequences: Int) {
        self.maxTokens = max(1, maxTokens)
        self.maxSequences = max(1, maxSequences)
    }

    /// Sequences queued and not yet handed out.
    public var queuedSequences: Int { pending.reduce(0) { $0 + $1.lengths.count - $1.next } }

    public var isEmpty: Bool { pending.isEmpty }

    /// Queues a request of sequences with these token counts.
    public mutating func enqueue(_ id: ID, lengths: [Int]) {
        guard !lengths.isEmpty else { return }
        pending.append(Pending(id: id, lengths: lengths))
    }

    /// Drops what is left of a request (its client went away).
    public mutating func cancel(_ id: ID) {
        pending.removeAll { $0.id == id }
    }

    /// The next batch; empty when nothing is queued. A sequence longer than the token budget
    /// still goes, alone, so nothing waits forever.
    public mutating func nextBatch() -> [Slice] {
        var slices: [Slice] = []
        var tokens = 0, sequences = 0
        while var first = pending.first {
            let start = first.next
            var end = start
            while end < first.lengths.count, sequences < maxSequences,
                  tokens + first.lengths[end] <= maxTokens || sequences == 0 {
                tokens += first.lengths[end]
                sequences += 1
                end += 1
            }
            guard end > start else { break }
            slices.append(Slice(request: first.id, range: start..<end))
            first.next = end
            if end == first.lengths.count {
                pending.removeFirst()
            } else {
                pending[0] = first
                break
            }
        }
        return slices
    }
}
