/// Splits a reasoning model's output into its reasoning (`<think>…</think>`) and its content.
///
/// Rules (whitespace is space, tab, LF, CR; newlines are LF and CR):
/// - Only a leading think block counts: the output may start with whitespace, then `<think>`. The
///   whitespace and the tag are dropped. Without it (and with `startsInside` false) the whole
///   output is content, untouched, and `<think>`/`</think>` anywhere later are plain content.
/// - With `startsInside` (templates that end the prompt inside `<think>`: DeepSeek-R1, QwQ,
///   R1 distills) the output is reasoning from its first byte; a leading `<think>` the model
///   writes anyway is still dropped as above.
/// - Reasoning runs to the first `</think>`, which is dropped; everything after it is content.
///   With no `</think>` (cut off by max_tokens) everything is reasoning.
/// - The newlines right after `<think>` (or at the start of the output, with `startsInside`) and
///   right after `</think>` are dropped; reasoning and content are otherwise kept as written,
///   including the newline(s) a model writes before `</think>`. (vLLM's `deepseek_r1` parser
///   keeps them all: it partitions on the tags and strips nothing. R1 writes
///   `<think>\n…\n</think>\n\n…`, so dropping them keeps `\n` and `\n\n` off the fronts.)
///
/// Streaming holds back only what could still be part of a tag, the whitespace before a possible
/// leading `<think>`, and newlines that may be dropped. For any output and any cutting into `feed`
/// chunks, the concatenated reasoning and content equal `split`'s (with "" for nil).
struct ReasoningSplitter {
    static let open = Array("<think>".utf8)
    static let close = Array("</think>".utf8)

    private enum State { case start, afterOpen, reasoning, afterClose, content }

    private let startsInside: Bool
    private var state = State.start
    private var buffer: [UInt8] = []
    private var reasoning: [UInt8] = []
    private var content: [UInt8] = []

    init(startsInside: Bool) {
        self.startsInside = startsInside
    }

    mutating func feed(_ text: String) -> (reasoning: String, content: String) {
        buffer.append(contentsOf: text.utf8)
        run(final: false)
        return take()
    }

    mutating func finish() -> (reasoning: String, content: String) {
        run(final: true)
        return take()
    }

    static func split(_ text: String, startsInside: Bool) -> (reasoning: String?, content: String?) {
        let bytes = Array(text.utf8)
        let j = ToolCallText.skipSpace(bytes, from: 0)
        var i: Int
        if ToolCallText.match(open, in: bytes, at: j) == .full {
            i = j + open.count
        } else if startsInside {
            i = 0
        } else {
            return (nil, text.isEmpty ? nil : text)
        }
        i = skipNewlines(bytes, from: i)
        let reasoning: ArraySlice<UInt8>
        var content: ArraySlice<UInt8> = []
        if let k = ToolCallText.find(close, in: bytes, from: i) {
            reasoning = bytes[i..<k]
            content = bytes[skipNewlines(bytes, from: k + close.count)...]
        } else {
            reasoning = bytes[i...]
        }
        return (reasoning.isEmpty ? nil : ToolCallText.string(reasoning), content.isEmpty ? nil : ToolCallText.string(content))
    }

    private static func skipNewlines(_ bytes: [UInt8], from: Int) -> Int {
        var i = from
        while i < bytes.count, bytes[i] == 0x0A || bytes[i] == 0x0D { i += 1 }
        return i
    }

    private mutating func take() -> (reasoning: String, content: String) {
        defer {
            reasoning.removeAll(keepingCapacity: true)
            content.removeAll(keepingCapacity: true)
        }
        return (ToolCallText.string(reasoning[...]), ToolCallText.string(content[...]))
    }

    private mutating func run(final: Bool) {
        var pos = 0
        loop: while true {
            switch state {
            case .start:
                let j = ToolCallText.skipSpace(buffer, from: 0)
                switch ToolCallText.match(Self.open, in: buffer, at: j) {
                case .full:
                    pos = j + Self.open.count
                    state = .afterOpen
                case .partial where !final:
                    break loop
                case .partial, .mismatch:
                    state = startsInside ? .afterOpen : .content
                }
            case .afterOpen, .afterClose:
                pos = Self.skipNewlines(buffer, from: pos)
                guard pos < buffer.count else { break loop }
                state = state == .afterOpen ? .reasoning : .content
            case .reasoning:
                var i = pos
                while i < buffer.count {
                    if buffer[i] == Self.close[0] {
                        let m = ToolCallText.match(Self.close, in: buffer, at: i)
                        if m == .full {
                            reasoning += buffer[pos..<i]
                            pos = i + Self.close.count
                            state = .afterClose
                            continue loop
                        }
                        if m == .partial && !final {
                            reasoning += buffer[pos..<i]
                            pos = i
                            break loop
                        }
                    }
                    i += 1
                }
                reasoning += buffer[pos...]
                pos = buffer.count
                break loop
            case .content:
                content += buffer[pos...]
                pos = buffer.count
                break loop
            }
        }
        buffer.removeFirst(pos)
    }
}
