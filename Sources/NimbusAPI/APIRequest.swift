#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A request body the server decodes and validates before handing it to the engine.
///
/// Both steps throw `APIError` so the HTTP layer has a single catch that answers with
/// `error.status` and `error.jsonBody`.
public protocol APIRequest: Decodable, Sendable {
    /// Checks every parameter range OpenAI documents; throws a 400 naming the first bad one.
    func validate() throws(APIError)
}

extension APIRequest {
    /// Decodes a JSON body; malformed JSON and wrong field types become 400 errors that
    /// name the field path. Does not check ranges: call `validate()` or use `parse(_:)`.
    public static func decode(from body: Data) throws(APIError) -> Self {
        try APIJSON.decodeRequest(Self.self, from: body)
    }

    /// Decodes a JSON body from raw bytes (e.g. the contents of a NIO ByteBuffer).
    public static func decode(from body: [UInt8]) throws(APIError) -> Self {
        try decode(from: Data(body))
    }

    /// Decodes and validates: the one call an HTTP handler needs.
    public static func parse(_ body: Data) throws(APIError) -> Self {
        let request = try decode(from: body)
        try request.validate()
        return request
    }

    /// Decodes and validates raw bytes.
    public static func parse(_ body: [UInt8]) throws(APIError) -> Self {
        try parse(Data(body))
    }
}
