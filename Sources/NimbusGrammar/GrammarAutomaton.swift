/// The pushdown automaton of one grammar, built lazily as text is matched.
///
/// A parse is a set of stacks; a stack is interned as a node (position, parent node), so stacks
/// share their tails and a set of stacks is a short sorted list of integers. Sets are interned
/// too, as states, and each state keeps a 256-entry transition row filled on demand: once the
/// text seen so far has been explored, matching a byte is one array read. Not thread-safe: the
/// engine thread alone uses it (it is shared by every request with the same constraint).
public final class GrammarAutomaton {
    /// The state id of "no parse": a byte that cannot follow.
    public static let dead: Int32 = -1
    private static let unknown: Int32 = -2
    /// Parses one state may hold (see `computeNext`).
    static let maxStacks = 4096

    private let grammar: FlatGrammar

    // Stack nodes: `position` is the element the stack waits on; `parent` is -1 at the bottom.
    private var nodePosition: [Int32] = []
    private var nodeParent: [Int32] = []
    private var nodeIDs: [Int64: Int32] = [:]
    /// A node expanded until every stack waits on bytes: those stacks, and whether the node
    /// could also finish the whole input.
    private var expansions: [Int32: (stacks: [Int32], accepts: Bool)] = [:]

    private struct StateKey: Hashable {
        var stacks: [Int32]
        var accepts: Bool
    }

    private var stateKeys: [StateKey] = []
    private var stateIDs: [StateKey: Int32] = [:]
    private var transitions: [[Int32]] = []

    /// The state before any byte.
    public private(set) var initial: Int32 = 0

    public init(_ grammar: Grammar) throws {
        self.grammar = try FlatGrammar(grammar)
        var stacks: [Int32] = []
        var accepts = false
        for start in self.grammar.starts[Int(self.grammar.root)] {
            let (s, a) = expand(node(start, parent: -1))
            stacks += s
            accepts = accepts || a
        }
        initial = intern(StateKey(stacks: Array(Set(stacks)).sorted(), accepts: accepts))
    }

    /// Number of states discovered so far.
    public var stateCount: Int { stateKeys.count }

    /// The whole input may end in `state`.
    public func accepts(_ state: Int32) -> Bool { stateKeys[Int(state)].accepts }

    /// No byte can follow in `state` (the input is complete, or cannot be).
    public func isFinal(_ state: Int32) -> Bool { stateKeys[Int(state)].stacks.isEmpty }

    /// The bytes the grammar forces after `state`: while exactly one byte may follow and the
    /// input may not end there, that byte (a JSON object's next key and its quotes, a literal's
    /// rest). At most `limit`; empty when the next byte is a choice. Constrained choices draft
    /// these for speculative decoding ("jump-forward").
    public func forcedBytes(after state: Int32, limit: Int) -> [UInt8] {
        var bytes: [UInt8] = []
        var s = state
        while bytes.count < limit, s != Self.dead, !accepts(s), let byte = onlyByte(s) {
            bytes.append(byte)
            s = next(s, byte)
        }
        return bytes
    }

    /// The byte that follows `state` unless whitespace comes first: every parse that does not
    /// wait on whitespace alone waits on this one byte (after a JSON key, the colon). A draft's
    /// guess, not a certainty: nil when the parses disagree or the input may end.
    public func likelyByte(after state: Int32) -> UInt8? {
        guard state != Self.dead, !accepts(state) else { return nil }
        return onlyByte(state, ignoringWhitespace: true)
    }

    /// The one byte every parse of `state` waits on, if they all wait on the same single byte
    /// (parses that wait on whitespace only left out when `ignoringWhitespace`).
    private func onlyByte(_ state: Int32, ignoringWhitespace: Bool = false) -> UInt8? {
        var only: UInt8?
        for stack in stateKeys[Int(state)].stacks {
            guard case .bytes(let set) = grammar.elements[Int(nodePosition[Int(stack)])] else { return nil }
            if ignoringWhitespace, set.isWhitespaceOnly { continue }
            guard let byte = set.onlyElement, only == nil || only == byte else { return nil }
            only = byte
        }
        return only
    }

    /// The state after `byte`, or `dead`.
    @inline(__always)
    public func next(_ state: Int32, _ byte: UInt8) -> Int32 {
        let known = transitions[Int(state)][Int(byte)]
        return known != Self.unknown ? known : computeNext(state, byte)
    }

    /// The state after `bytes`, or `dead`.
    public func next(_ state: Int32, bytes: some Sequence<UInt8>) -> Int32 {
        var s = state
        for byte in bytes {
            s = next(s, byte)
            if s == Self.dead { return s }
        }
        return s
    }

    private func computeNext(_ state: Int32, _ byte: UInt8) -> Int32 {
        var stacks: [Int32] = []
        var accepts = false
        for stack in stateKeys[Int(state)].stacks {
            let position = Int(nodePosition[Int(stack)])
            guard case .bytes(let set) = grammar.elements[position], set.contains(byte) else { continue }
            let (s, a) = expand(node(Int32(position + 1), parent: nodeParent[Int(stack)]))
            stacks += s
            accepts = accepts || a
        }
        let result: Int32
        // An ambiguous grammar can multiply parses with every byte; past the cap the byte is
        // refused rather than letting one request exhaust the engine thread.
        if stacks.count > Self.maxStacks {
            result = Self.dead
        } else if stacks.isEmpty && !accepts {
            result = Self.dead
        } else {
            if stacks.count > 1 { stacks = Array(Set(stacks)).sorted() }
            result = intern(StateKey(stacks: stacks, accepts: accepts))
        }
        transitions[Int(state)][Int(byte)] = result
        return result
    }

    private func intern(_ key: StateKey) -> Int32 {
        if let id = stateIDs[key] { return id }
        let id = Int32(stateKeys.count)
        stateKeys.append(key)
        stateIDs[key] = id
        transitions.append([Int32](repeating: Self.unknown, count: 256))
        return id
    }

    private func node(_ position: Int32, parent: Int32) -> Int32 {
        let key = Int64(position) << 32 | Int64(UInt32(bitPattern: parent))
        if let id = nodeIDs[key] { return id }
        let id = Int32(nodePosition.count)
        nodePosition.append(position)
        nodeParent.append(parent)
        nodeIDs[key] = id
        return id
    }

    /// The stacks reachable from `node` without reading a byte: rule references are entered,
    /// finished alternatives return to their parent. Left recursion was refused at compile time,
    /// so this terminates; `visiting` guards nullable cycles that revisit a node.
    private func expand(_ start: Int32) -> (stacks: [Int32], accepts: Bool) {
        if let known = expansions[start] { return known }
        var stacks: [Int32] = []
        var accepts = false
        var visiting: Set<Int32> = []
        var pending: [Int32] = [start]
        while let current = pending.popLast() {
            guard visiting.insert(current).inserted else { continue }
            let position = nodePosition[Int(current)]
            let parent = nodeParent[Int(current)]
            switch grammar.elements[Int(position)] {
            case .bytes:
                stacks.append(current)
            case .rule(let rule):
                // A reference that ends its alternative returns straight to the parent: right
                // recursion (`star ::= x star`, string bodies) then keeps the stack flat, so
                // repetition is finite-state rather than one more level per character.
                let back: Int32
                if case .end = grammar.elements[Int(position) + 1] { back = parent } else { back = node(position + 1, parent: parent) }
                for alternative in grammar.starts[Int(rule)] { pending.append(node(alternative, parent: back)) }
            case .end:
                if parent < 0 {
                    accepts = true
                } else {
                    pending.append(parent)
                }
            }
        }
        let result = (Array(Set(stacks)).sorted(), accepts)
        expansions[start] = result
        return result
    }
}
