/// A context-free grammar over bytes: the one form every constraint compiles to (JSON Schema,
/// regular expressions, choice lists, GBNF), so one matcher and one token index serve them all.
///
/// A rule is a list of alternatives; an alternative is a sequence of symbols; a symbol is a set
/// of bytes or a reference to a rule. Characters beyond ASCII are UTF-8 byte sequences
/// (`GrammarBuilder.characters`), so tokens that split a character match naturally.
public struct Grammar: Sendable, Hashable {
    public enum Symbol: Sendable, Hashable {
        case bytes(ByteSet)
        case rule(Int)
    }

    public struct Rule: Sendable, Hashable {
        public var name: String
        public var alternatives: [[Symbol]]
    }

    public var rules: [Rule]
    public var root: Int

    public init(rules: [Rule], root: Int) {
        self.rules = rules
        self.root = root
    }
}

/// A set of bytes, 256 bits.
public struct ByteSet: Sendable, Hashable {
    private var words: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)

    public init() {}

    public init(_ byte: UInt8) { insert(byte) }

    public init(_ range: ClosedRange<UInt8>) {
        for byte in range { insert(byte) }
    }

    public static let all: ByteSet = { var s = ByteSet(); for b in 0...255 { s.insert(UInt8(b)) }; return s }()

    public func contains(_ byte: UInt8) -> Bool {
        let bit = UInt64(1) << UInt64(byte & 63)
        switch byte >> 6 {
        case 0: return words.0 & bit != 0
        case 1: return words.1 & bit != 0
        case 2: return words.2 & bit != 0
        default: return words.3 & bit != 0
        }
    }

    public mutating func insert(_ byte: UInt8) {
        let bit = UInt64(1) << UInt64(byte & 63)
        switch byte >> 6 {
        case 0: words.0 |= bit
        case 1: words.1 |= bit
        case 2: words.2 |= bit
        default: words.3 |= bit
        }
    }

    public mutating func formUnion(_ other: ByteSet) {
        words.0 |= other.words.0; words.1 |= other.words.1
        words.2 |= other.words.2; words.3 |= other.words.3
    }

    public var isEmpty: Bool { words.0 | words.1 | words.2 | words.3 == 0 }

    /// Every byte of the set is JSON whitespace (space, tab, newline, carriage return).
    public var isWhitespaceOnly: Bool {
        !isEmpty && (0...255).allSatisfy { byte in !contains(UInt8(byte)) || [9, 10, 13, 32].contains(byte) }
    }

    /// The set's one byte, when it holds exactly one.
    public var onlyElement: UInt8? {
        let counts = [words.0, words.1, words.2, words.3].map(\.nonzeroBitCount)
        guard counts.reduce(0, +) == 1, let word = counts.firstIndex(of: 1) else { return nil }
        let bits = [words.0, words.1, words.2, words.3][word]
        return UInt8(word * 64 + bits.trailingZeroBitCount)
    }

    /// The set without `byte`.
    public func removing(_ byte: UInt8) -> ByteSet {
        var copy = ByteSet()
        for b in 0...255 where UInt8(b) != byte && contains(UInt8(b)) { copy.insert(UInt8(b)) }
        return copy
    }

    public static func == (a: ByteSet, b: ByteSet) -> Bool {
        a.words.0 == b.words.0 && a.words.1 == b.words.1 && a.words.2 == b.words.2 && a.words.3 == b.words.3
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(words.0); hasher.combine(words.1); hasher.combine(words.2); hasher.combine(words.3)
    }
}

/// Why a constraint could not be compiled; the message names the problem for a 400.
public struct GrammarError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
