import Foundation

/// What to do with a `.partial` file given the server's answer to a (possibly ranged) GET.
/// A pure decision, so every branch is tested without a server.
enum ResumePlan: Equatable {
    /// Append the body to the partial file; `total` is the full size when known.
    case append(total: Int64?)
    /// The server ignored the range (or there was nothing to resume): start the file over.
    case restart(total: Int64?)
    /// 416 for a range starting at the file's end: the partial file is already whole.
    case complete
    /// Give up with this status.
    case fail(status: Int)

    /// - Parameters:
    ///   - existing: bytes already in the partial file (the range asked for started there).
    ///   - status: the response status.
    ///   - contentRange: the `Content-Range` header (`bytes 100-199/200`, or `bytes */200` on 416).
    ///   - contentLength: the `Content-Length` header.
    static func decide(existing: Int64, status: Int, contentRange: String?, contentLength: Int64?) -> ResumePlan {
        switch status {
        case 200:
            return .restart(total: contentLength)
        case 206:
            // Only a range that starts exactly where the file ends can be appended.
            guard existing > 0, let range = contentRange.flatMap(ContentRange.init), range.start == existing else {
                return .fail(status: status)
            }
            return .append(total: range.total)
        case 416:
            if existing > 0, let range = contentRange.flatMap(ContentRange.init), range.total == existing { return .complete }
            return .restart(total: nil)
        default:
            return .fail(status: status)
        }
    }
}

/// A parsed `Content-Range: bytes START-END/TOTAL` (or `bytes */TOTAL`); TOTAL may be `*`.
struct ContentRange: Equatable {
    var start: Int64?
    var total: Int64?

    init?(_ header: String) {
        let text = header.trimmingCharacters(in: .whitespaces)
        guard text.lowercased().hasPrefix("bytes ") else { return nil }
        let parts = text.dropFirst(6).split(separator: "/", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
        guard parts.count == 2 else { return nil }
        if parts[0] == "*" {
            start = nil
        } else {
            let bounds = parts[0].split(separator: "-", maxSplits: 1)
            guard bounds.count == 2, let first = Int64(bounds[0]), let last = Int64(bounds[1]), first <= last else { return nil }
            start = first
        }
        if parts[1] == "*" {
            total = nil
        } else {
            guard let value = Int64(parts[1]) else { return nil }
            total = value
        }
    }
}
