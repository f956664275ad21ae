import Foundation
import Testing
@testable import NimbusAPI

/// Shared helpers: JSON in and out, and fixture files.
enum TestSupport {
    /// Decodes a request from a JSON literal; returns the APIError on failure.
    static func decode<R: APIRequest>(_ type: R.Type, _ json: String) -> Result<R, APIError> {
        do throws(APIError) {
            return .success(try R.decode(from: Data(json.utf8)))
        } catch {
            return .failure(error)
        }
    }

    /// Decodes and validates; returns the APIError on failure.
    static func parse<R: APIRequest>(_ type: R.Type, _ json: String) -> Result<R, APIError> {
        do throws(APIError) {
            return .success(try R.parse(Data(json.utf8)))
        } catch {
            return .failure(error)
        }
    }

    /// The error a body produces, or nil when it parses and validates.
    static func error<R: APIRequest>(_ type: R.Type, _ json: String) -> APIError? {
        if case .failure(let error) = parse(type, json) { return error }
        return nil
    }

    /// Encodes with the shared encoder and parses back with JSONSerialization, so tests see
    /// exactly the keys (and explicit nulls) a client would.
    static func object(_ value: some Encodable) throws -> [String: Any] {
        let data = try APIJSON.encoder.encode(value)
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    static func string(_ value: some Encodable) throws -> String {
        String(decoding: try APIJSON.encoder.encode(value), as: UTF8.self)
    }

    /// The folder with the committed fixtures (copied into the test bundle).
    static func fixturesURL() throws -> URL {
        try #require(Bundle.module.url(forResource: "Fixtures", withExtension: nil))
    }

    static func fixture(_ relativePath: String) throws -> Data {
        try Data(contentsOf: fixturesURL().appendingPathComponent(relativePath))
    }

    static func fixtureNames(in folder: String) throws -> [String] {
        let url = try fixturesURL().appendingPathComponent(folder)
        return try FileManager.default.contentsOfDirectory(atPath: url.path).filter { $0.hasSuffix(".json") }.sorted()
    }
}

/// A minimal valid chat body with `extra` spliced in (`"temperature": 2.5`).
func chatBody(_ extra: String = "") -> String {
    let tail = extra.isEmpty ? "" : ", \(extra)"
    return #"{"model": "m", "messages": [{"role": "user", "content": "hi"}]"# + tail + "}"
}

/// A minimal valid completions body with `extra` spliced in.
func completionBody(_ extra: String = "") -> String {
    let tail = extra.isEmpty ? "" : ", \(extra)"
    return #"{"model": "m", "prompt": "hi""# + tail + "}"
}
