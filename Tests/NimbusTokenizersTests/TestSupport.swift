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

/// llama.cpp's tokenizations of a corpus with one vocabulary, as scripts/fixtures/gen_spm_fixtures.py
/// writes them: ids with special parsing on and off and with add_special, and llama_detokenize's
/// bytes (hex) of those ids with special tokens hidden and rendered.
struct LlamaCppTokens: Decodable {
    struct Case: Decodable {
        let name: String
        let text: String
        let ids_special: [Int]
        let ids_plain: [Int]
        let ids_add_special: [Int]
        let detok_plain_hex: String
        let detok_special_hex: String
        let detok_plain_of_plain_hex: String
    }
    let n_vocab: Int
    let bos: Int
    let eos: Int
    /// llama.cpp's EOT id, -1 for none. Where several tokens qualify it picks one in hash-map order.
    let eot: Int
    let add_bos: Bool
    let add_eos: Bool
    let eog_ids: [Int]
    let cases: [Case]

    /// Every case's encodings and decodings that differ from llama.cpp's, as messages.
    func differences(_ tokenizer: any Tokenizer) -> [String] {
        var out: [String] = []
        for c in cases {
            let encodings = [
                ("special", tokenizer.encode(c.text, addSpecial: false, parseSpecial: true), c.ids_special),
                ("plain", tokenizer.encode(c.text, addSpecial: false, parseSpecial: false), c.ids_plain),
                ("add_special", tokenizer.encode(c.text, addSpecial: true, parseSpecial: true), c.ids_add_special),
            ]
            for (kind, got, expected) in encodings where got != expected {
                out.append("\(c.name) [\(kind)] \(c.text.debugDescription)\n expected \(expected)\n got      \(got)")
            }
            let decodings: [(String, [UInt8], String)] = [
                ("decode plain", tokenizer.decodeBytes(c.ids_special), c.detok_plain_hex),
                ("decode special", tokenizer.decodeBytes(c.ids_special, renderSpecial: true), c.detok_special_hex),
                ("decode plain-of-plain", tokenizer.decodeBytes(c.ids_plain), c.detok_plain_of_plain_hex),
            ]
            for (kind, got, hex) in decodings where got != [UInt8](hex: hex) {
                out.append("\(c.name) [\(kind)] \(c.text.debugDescription)\n expected \(hex)\n got      \(got)")
            }
        }
        return out
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
