/// Turns generated tokens into text as they arrive, never emitting a broken UTF-8 sequence.
///
/// A token's bytes may end inside a multi-byte character (byte-level BPE splits emoji and CJK
/// characters across tokens); those bytes are held back until the character is complete. Bytes
/// that can never become valid UTF-8 are emitted at once as U+FFFD. A value type: each request
/// owns one.
public struct StreamingDetokenizer: Sendable {
    private let tokenizer: any Tokenizer
    private let renderSpecial: Bool
    private var pending: [UInt8] = []

    /// - Parameters:
    ///   - tokenizer: The tokenizer whose pieces to join.
    ///   - renderSpecial: Render control tokens (EOS, `<|im_end|>`...) as their text; the server
    ///     wants false, which renders them as nothing, as llama.cpp's default.
    public init(tokenizer: any Tokenizer, renderSpecial: Bool = false) {
        self.tokenizer = tokenizer
        self.renderSpecial = renderSpecial
    }

    /// Adds one token.
    /// - Returns: The text that became complete; empty while a character is incomplete.
    public mutating func append(_ id: Int) -> String {
        pending.append(contentsOf: tokenizer.pieceBytes(id, renderSpecial: renderSpecial))
        let keep = UTF8Tail.incompleteSuffixLength(pending)
        guard keep < pending.count else { return "" }
        let text = String(decoding: pending[..<(pending.count - keep)], as: UTF8.self)
        pending.removeFirst(pending.count - keep)
        return text
    }

    /// Ends the stream.
    /// - Returns: Whatever was held back, an incomplete character becoming U+FFFD.
    public mutating func flush() -> String {
        defer { pending.removeAll() }
        return String(decoding: pending, as: UTF8.self)
    }

    /// Whether bytes of an unfinished character are held back.
    public var hasPendingBytes: Bool { !pending.isEmpty }
}

/// Finds a UTF-8 sequence that is cut short at the end of a buffer.
enum UTF8Tail {
    /// The number of bytes at the end of `bytes` that begin a valid character but do not finish
    /// it (0...3). Bytes that can never complete a valid character are not counted: holding them
    /// would only delay their U+FFFD.
    static func incompleteSuffixLength(_ bytes: [UInt8]) -> Int {
        let n = bytes.count
        guard n > 0 else { return 0 }
        // The lead byte of a cut-short character lies within the last three bytes.
        for back in 1...min(3, n) {
            let lead = bytes[n - back]
            if lead & 0xC0 == 0x80 { continue }  // continuation: keep looking for the lead
            let need: Int
            switch lead {
            case 0xC2...0xDF: need = 2
            case 0xE0...0xEF: need = 3
            case 0xF0...0xF4: need = 4
            default: return 0  // ASCII or a byte that never leads
            }
            guard back < need else { return 0 }  // complete (or over-long: not ours to hold)
            // The continuation bytes so far must fit, the second one by the lead's own range.
            for k in 1..<back {
                let b = bytes[n - back + k]
                let range: ClosedRange<UInt8>
                switch (k, lead) {
                case (1, 0xE0): range = 0xA0...0xBF
                case (1, 0xED): range = 0x80...0x9F
                case (1, 0xF0): range = 0x90...0xBF
                case (1, 0xF4): range = 0x80...0x8F
                default: range = 0x80...0xBF
                }
                guard range.contains(b) else { return 0 }
            }
            return back
        }
        return 0
    }
}
