#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Framing for streamed responses: OpenAI streams `data: {json}\n\n` events and ends with
/// `data: [DONE]\n\n`.
///
/// The JSON comes from the shared compact encoder, so it never contains a newline that
/// would split the event.
public enum ServerSentEvents {
    private static let prefix = Data("data: ".utf8)
    private static let suffix = Data("\n\n".utf8)

    /// The stream terminator `data: [DONE]\n\n`.
    public static let done = Data("data: [DONE]\n\n".utf8)

    /// The stream terminator as bytes.
    public static let doneBytes: [UInt8] = Array("data: [DONE]\n\n".utf8)

    /// `data: {json}\n\n` for one chunk (or for an `APIError`, which OpenAI streams the same
    /// way when a request fails after the stream has started).
    public static func event(_ value: some Encodable) throws(APIError) -> Data {
        let json = try APIJSON.encode(value)
        var event = Data()
        event.reserveCapacity(prefix.count + json.count + suffix.count)
        event.append(prefix)
        event.append(json)
        event.append(suffix)
        return event
    }

    /// `event(_:)` as bytes, for byte-buffer based HTTP stacks.
    public static func eventBytes(_ value: some Encodable) throws(APIError) -> [UInt8] {
        Array(try event(value))
    }
}
