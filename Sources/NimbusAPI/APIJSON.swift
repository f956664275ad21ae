#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The shared JSON configuration for everything NimbusAPI writes and reads.
///
/// One encoder keeps every response byte-compatible across endpoints: compact output (SSE
/// frames must be a single line) and no `\/` escaping (URLs and stop strings stay readable).
/// JSONEncoder and JSONDecoder are thread-safe once configured, so they are shared.
public enum APIJSON {
    /// Compact, slash-preserving encoder used for every response body and SSE frame. Keys are
    /// sorted so identical values always produce identical bytes (stable logs, diffs, tests).
    public static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes, .sortedKeys]
        return encoder
    }()

    /// Decoder for request bodies. Defaults are kept: keys are matched by explicit
    /// CodingKeys, and unknown fields are ignored (OpenAI clients send many we do not use).
    public static let decoder = JSONDecoder()

    /// Encodes a value with the shared encoder, reporting failures as a 500 `APIError`.
    public static func encode(_ value: some Encodable) throws(APIError) -> Data {
        do {
            return try encoder.encode(value)
        } catch {
            throw APIError.serverError("Failed to encode the response: \(error)")
        }
    }

    /// Decodes a request body, turning every failure into a 400 `APIError` that names the
    /// field path (`'messages[0].content': expected a string…`).
    public static func decodeRequest<T: Decodable>(_ type: T.Type, from data: Data) throws(APIError) -> T {
        do {
            return try decoder.decode(T.self, from: data)
        } catch let error as APIError {
            throw error
        } catch let error as DecodingError {
            throw APIError(decodingError: error)
        } catch {
            throw APIError.invalidRequest("We could not parse the JSON body of your request: \(error)")
        }
    }
}
