import Foundation
import NimbusGGUF
import NimbusTokenizers
import NimbusTestSupport

extension GGUFFile: TokenizerMetadata {}

/// Fixture files copied into the test bundle.
enum Fixtures {
    static func data(_ name: String) throws -> Data {
        guard let url = Bundle.module.url(forResource: name, withExtension: "json", subdirectory: "Fixtures") else {
            throw FixtureError("fixture \(name).json is missing from the test bundle")
        }
        return try Data(contentsOf: url)
    }

    static func decode<T: Decodable>(_ type: T.Type, from name: String) throws -> T {
        try JSONDecoder().decode(type, from: data(name))
    }

    /// The path of any fixture file, e.g. ("ggml-vocab-phi-3", "gguf").
    static func path(_ name: String, _ ext: String) throws -> String {
        guard let url = Bundle.module.url(forResource: name, withExtension: ext, subdirectory: "Fixtures") else {
            throw FixtureError("fixture \(name).\(ext) is missing from the test bundle")
        }
        return url.path
    }
}

struct FixtureError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// The default model's tokenizer (the model is found by `TestModel`).
enum DefaultModel {
    static var path: String { TestModel.path }
    static var isPresent: Bool { TestModel.isPresent }
    static var shouldTest: Bool { TestModel.shouldRun }

    /// The tokenizer built from the model's metadata, loaded once per test process.
    static let tokenizer: Result<BPETokenizer, any Error> = Result {
        guard isPresent else {
            throw FixtureError("model file not found at \(path) (NIMBUS_REQUIRE_MODELS=1 requires it; "
                + "fetch it with scripts/fetch_model.py or set NIMBUS_MODEL_PATH)")
        }
        let file = try GGUFFile(path: path)
        guard let bpe = try makeTokenizer(metadata: file) as? BPETokenizer else {
            throw FixtureError("expected a BPETokenizer for \(path)")
        }
        return bpe
    }
}

extension Array where Element == UInt8 {
    init(hex: String) {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(hex.utf8.count / 2)
        var high: UInt8?
        for c in hex.utf8 {
            let v: UInt8 = c <= 0x39 ? c - 0x30 : (c | 0x20) - 0x61 + 10
            if let h = high {
                bytes.append(h << 4 | v)
                high = nil
            } else {
                high = v
            }
        }
        self = bytes
    }
}
