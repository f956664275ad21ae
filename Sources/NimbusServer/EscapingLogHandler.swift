import Logging

/// The plain-text log handler behind one that escapes control characters, so that a client's
/// text (a model name, a path, an error quoting its input) can never end a log line early or
/// forge another record: a newline in a model name is written `\n`, an escape `\u{1B}`.
/// (JSON logging escapes through its string encoder already.)
struct EscapingLogHandler<Inner: LogHandler>: LogHandler {
    var inner: Inner

    var logLevel: Logger.Level {
        get { inner.logLevel }
        set { inner.logLevel = newValue }
    }

    var metadata: Logger.Metadata {
        get { inner.metadata }
        set { inner.metadata = newValue }
    }

    var metadataProvider: Logger.MetadataProvider? {
        get { inner.metadataProvider }
        set { inner.metadataProvider = newValue }
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { inner[metadataKey: key] }
        set { inner[metadataKey: key] = newValue }
    }

    func log(event: LogEvent) {
        var event = event
        event.message = "\(LogText.escaped(event.message.description))"
        if var metadata = event.metadata {
            for (key, value) in metadata { metadata[key] = LogText.escaped(value) }
            event.metadata = metadata
        }
        if let error = event.error {
            event.metadata = (event.metadata ?? [:]).merging(["error": .string(LogText.escaped("\(error)"))]) { _, new in new }
            event.error = nil
        }
        inner.log(event: event)
    }
}

enum LogText {
    /// `text` with every control character (C0, DEL, C1, and the Unicode line and paragraph
    /// separators) written as an escape; unchanged, without copying, when it has none.
    static func escaped(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: isControl) else { return text }
        var out = ""
        out.reserveCapacity(text.utf8.count + 8)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where isControl(scalar): out += "\\u{\(String(scalar.value, radix: 16, uppercase: true))}"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    static func escaped(_ value: Logger.Metadata.Value) -> Logger.Metadata.Value {
        switch value {
        case .string(let s): .string(escaped(s))
        case .stringConvertible(let c): .string(escaped(c.description))
        case .array(let values): .array(values.map { escaped($0) })
        case .dictionary(let entries): .dictionary(entries.mapValues { escaped($0) })
        }
    }

    private static func isControl(_ s: Unicode.Scalar) -> Bool {
        s.value < 0x20 || (0x7F...0x9F).contains(s.value) || s.value == 0x2028 || s.value == 0x2029
    }
}
