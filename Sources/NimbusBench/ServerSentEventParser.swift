/// One server-sent event: what its `data:` lines said, joined with newlines.
public struct ServerSentEvent: Sendable, Equatable {
    public var event: String?
    public var data: String

    public init(event: String? = nil, data: String) {
        self.event = event
        self.data = data
    }
}

/// Incremental parser for `text/event-stream` (the WHATWG algorithm, minus reconnection):
/// bytes go in as they arrive, in pieces of any size, and complete events come out.
///
/// Lines end in LF, CRLF or CR (a CR at the end of one piece and an LF at the start of the next
/// are one line break). A line starting with `:` is a comment (servers send them as keep-alive
/// pings). `data:` lines accumulate; a blank line dispatches the event. Lines are decoded as
/// UTF-8 only once complete, so a character split across pieces is never broken.
public struct ServerSentEventParser: Sendable {
    private var line: [UInt8] = []
    private var dataLines: [String] = []
    private var eventType: String?
    /// The last piece ended in CR: an LF starting the next piece belongs to that line break.
    private var skipLeadingLineFeed = false

    public init() {}

    /// Feeds the next bytes of the stream.
    /// - Returns: The events completed by these bytes, in order.
    public mutating func consume(_ bytes: some Sequence<UInt8>) -> [ServerSentEvent] {
        var events: [ServerSentEvent] = []
        for byte in bytes {
            if skipLeadingLineFeed {
                skipLeadingLineFeed = false
                if byte == Self.lineFeed { continue }
            }
            switch byte {
            case Self.lineFeed:
                if let event = endLine() { events.append(event) }
            case Self.carriageReturn:
                skipLeadingLineFeed = true
                if let event = endLine() { events.append(event) }
            default:
                line.append(byte)
            }
        }
        return events
    }

    /// Ends the stream.
    /// - Returns: An event whose closing blank line never came. The standard drops it; a
    ///   benchmark would rather see a server's last usage chunk than silently lose it.
    public mutating func finish() -> ServerSentEvent? {
        if !line.isEmpty, let event = endLine() { return event }
        return dispatch()
    }

    private mutating func endLine() -> ServerSentEvent? {
        defer { line.removeAll(keepingCapacity: true) }
        if line.isEmpty { return dispatch() }
        if line.first == Self.colon { return nil }  // comment
        let text = String(decoding: line, as: UTF8.self)
        let field: Substring, value: Substring
        if let colon = text.firstIndex(of: ":") {
            field = text[..<colon]
            let afterColon = text[text.index(after: colon)...]
            value = afterColon.first == " " ? afterColon.dropFirst() : afterColon
        } else {
            field = text[...]
            value = ""
        }
        switch field {
        case "data": dataLines.append(String(value))
        case "event": eventType = String(value)
        default: break  // `id` and `retry` matter only for reconnecting, which a benchmark never does
        }
        return nil
    }

    private mutating func dispatch() -> ServerSentEvent? {
        defer {
            dataLines.removeAll()
            eventType = nil
        }
        guard !dataLines.isEmpty else { return nil }
        return ServerSentEvent(event: eventType, data: dataLines.joined(separator: "\n"))
    }

    private static let lineFeed = UInt8(ascii: "\n")
    private static let carriageReturn = UInt8(ascii: "\r")
    private static let colon = UInt8(ascii: ":")
}
