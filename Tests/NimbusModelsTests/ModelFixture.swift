import Foundation
import Testing

/// Where the real model for integration tests is, and whether its absence is a failure.
///
/// `make test` (and so CI) fetches the model and sets NIMBUS_REQUIRE_MODELS=1; a developer
/// without the model gets these tests skipped instead.
enum ModelFixture {
    static var path: String {
        ProcessInfo.processInfo.environment["NIMBUS_MODEL_PATH"]
            ?? (ProcessInfo.processInfo.environment["HOME"] ?? "") + "/.cache/nimbus/models/SmolLM2-135M-Instruct.Q4_1.gguf"
    }

    static var required: Bool { ProcessInfo.processInfo.environment["NIMBUS_REQUIRE_MODELS"] == "1" }

    /// Run when the model is there, or when it must be (then the test fails on its absence).
    static var shouldRun: Bool { required || FileManager.default.fileExists(atPath: path) }

    static func load<T: Decodable>(_ type: T.Type, fixture name: String) throws -> T {
        let url = try #require(Bundle.module.url(forResource: "Fixtures/\(name)", withExtension: "json"))
        return try JSONDecoder().decode(T.self, from: Data(contentsOf: url))
    }
}
