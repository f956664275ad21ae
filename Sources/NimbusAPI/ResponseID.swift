#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Identifiers and timestamps for response objects.
///
/// OpenAI ids are a type prefix plus a random suffix (`chatcmpl-…`, `cmpl-…`); clients use
/// them only as opaque keys, but log tooling greps for the prefix.
public enum ResponseID {
    private static let alphabet = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")

    /// A fresh id with the given prefix and 24 random alphanumerics.
    public static func make(prefix: String) -> String {
        var generator = SystemRandomNumberGenerator()
        var id = prefix
        for _ in 0..<24 {
            id.append(alphabet[Int(generator.next(upperBound: UInt(alphabet.count)))])
        }
        return id
    }

    /// `chatcmpl-…` for chat completions and their chunks (all chunks share one id).
    public static func chatCompletion() -> String { make(prefix: "chatcmpl-") }

    /// `cmpl-…` for text completions and their chunks.
    public static func completion() -> String { make(prefix: "cmpl-") }

    /// Seconds since 1970, the unit of every `created` field.
    public static func now() -> Int {
        Int(Date().timeIntervalSince1970)
    }
}
