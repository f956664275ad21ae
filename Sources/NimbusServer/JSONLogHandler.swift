#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Logging
import Synchronization

/// NIM_JSONL_LOGGING=1: every log line is one JSON object, for log shippers.
///
/// `{"timestamp":"2025-01-31T12:00:00.123Z","level":"INFO","logger":"nimbus","message":"...", ...}`
/// with the line's metadata (`request_id`, `model`, `status`...) as further top-level keys. A
/// metadata key that would shadow one of the four fixed keys gets a `meta.` prefix.
public struct JSONLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    public var logLevel: Logger.Level = .info
    private let label: String
    private let output: JSONLogOutput

    /// A handler writing to standard error.
    public static func standardError(label: String, metadataProvider: Logger.MetadataProvider? = nil) -> JSONLogHandler {
        JSONLogHandler(label: label, output: .standardError, metadataProvider: metadataProvider)
    }

    init(label: String, output: JSONLogOutput, metadataProvider: Logger.MetadataProvider? = nil) {
        self.label = label
        self.output = output
        self.metadataProvider = metadataProvider
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = self.metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { _, new in new } }
        if let explicit = event.metadata { merged.merge(explicit) { _, new in new } }
        if let error = event.error { merged["error"] = "\(error)" }
        output.write(Self.line(timestamp: WallTime.now(), level: event.level, label: label,
                               message: event.message.description, metadata: merged))
    }

    /// The JSON text of one record, newline-terminated.
    static func line(timestamp: String, level: Logger.Level, label: String, message: String,
                     metadata: Logger.Metadata) -> String {
        var out = #"{"timestamp":"# + JSONText.string(timestamp)
        out += #","level":"# + JSONText.string(level.nimName)
        out += #","logger":"# + JSONText.string(label)
        out += #","message":"# + JSONText.string(message)
        for key in metadata.keys.sorted() {
            guard let value = metadata[key] else { continue }
            let name = ["timestamp", "level", "logger", "message"].contains(key) ? "meta." + key : key
            out += "," + JSONText.string(name) + ":" + JSONText.value(value)
        }
        return out + "}\n"
    }
}

/// Where JSON lines go; one `write` per line under a lock, so concurrent lines never interleave.
final class JSONLogOutput: Sendable {
    private let descriptor: Int32
    private let lock = Mutex(())

    static let standardError = JSONLogOutput(descriptor: 2)

    init(descriptor: Int32) { self.descriptor = descriptor }

    func write(_ line: String) {
        var line = line
        lock.withLock { _ in
            line.withUTF8 { bytes in
                var offset = 0
                while offset < bytes.count {
                    let n = systemWrite(descriptor, bytes.baseAddress.map { $0 + offset }, bytes.count - offset)
                    if n <= 0 { return }
                    offset += n
                }
            }
        }
    }
}

#if canImport(Glibc)
private let systemWrite = Glibc.write
#else
private let systemWrite = Darwin.write
#endif

extension Logger.Level {
    /// NIM_LOG_LEVEL's spelling.
    var nimName: String {
        switch self {
        case .trace: "TRACE"
        case .debug: "DEBUG"
        case .info: "INFO"
        case .notice: "NOTICE"
        case .warning: "WARNING"
        case .error: "ERROR"
        case .critical: "CRITICAL"
        }
    }
}

/// Minimal JSON writing for log lines: strings with RFC 8259 escapes, and metadata values.
enum JSONText {
    static func string(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            // C0, DEL, C1 and the Unicode line separators: legal in JSON strings, but a terminal
            // or a line-based reader could take them for a line break or an escape sequence.
            case let c where c.value < 0x20 || (0x7F...0x9F).contains(c.value) || c.value == 0x2028 || c.value == 0x2029:
                let hex = String(c.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    static func value(_ value: Logger.MetadataValue) -> String {
        switch value {
        case .string(let s): string(s)
        case .stringConvertible(let c): string(c.description)
        case .array(let items): "[" + items.map(Self.value).joined(separator: ",") + "]"
        case .dictionary(let d):
            "{" + d.keys.sorted().compactMap { k in d[k].map { string(k) + ":" + Self.value($0) } }.joined(separator: ",") + "}"
        }
    }
}

/// UTC wall time as ISO 8601 with milliseconds, without Foundation's formatter (not Sendable, slow).
enum WallTime {
    static func now() -> String {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        var seconds = ts.tv_sec
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func pad(_ v: Int32, _ width: Int) -> String {
            let s = String(v)
            return String(repeating: "0", count: max(0, width - s.count)) + s
        }
        return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))T"
            + "\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2)).\(pad(Int32(ts.tv_nsec / 1_000_000), 3))Z"
    }
}
