import Foundation
import NimbusGGUF
import NimbusTokenizers
import Testing

/// llama.cpp's own tokenizer tests for two byte-level BPE vocabularies, llama-bpe (Llama 3) and
/// qwen2: the inputs (`.inp`) and llama.cpp's ids (`.out`) from llama.cpp's `models/` folder, as
/// `tests/test-tokenizer-0` checks them (no BOS, special tokens not parsed; see `VocabTestCase`).
///
/// llama.cpp's vocabulary GGUFs for them (7.8 and 5.9 MB) are not committed. The tiny models of
/// NimbusModelsTests carry the same tokens, token types (llama-bpe), merges, pre-tokenizer and BOS
/// id, and llama.cpp gives the `.out` ids for every input from either file (Fixtures/README.md
/// lists what differs and how that was checked), so the tokenizer is loaded from those.
@Suite struct BPEVocabFixtureTests {
    struct Vocabulary: Sendable, CustomTestStringConvertible {
        /// The fixture's name in Fixtures/: `NAME.gguf.inp` and `NAME.gguf.out`.
        let fixture: String
        /// The tiny model (Tests/NimbusModelsTests/Fixtures/tiny) that carries the vocabulary.
        let model: String
        /// What llama.cpp puts before the ids with add_special on (llama-cpp-python's
        /// `tokenize(add_bos=True)` on the tiny model): Llama 3 starts with <|begin_of_text|>;
        /// Qwen2 adds nothing (its file says add_bos_token false).
        let addedWithSpecial: [Int]
        var testDescription: String { fixture }
    }

    static let vocabularies = [
        Vocabulary(fixture: "ggml-vocab-llama-bpe", model: "llama3.q4_k_m", addedWithSpecial: [128000]),
        Vocabulary(fixture: "ggml-vocab-qwen2", model: "qwen3.q4_k_m", addedWithSpecial: []),
    ]

    /// The tiny model's path from this file's: the GGUFs belong to another test target's bundle.
    static func modelPath(_ vocabulary: Vocabulary) -> String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("NimbusModelsTests/Fixtures/tiny/\(vocabulary.model).gguf").path
    }

    static func tokenizer(_ vocabulary: Vocabulary) throws -> BPETokenizer {
        let path = modelPath(vocabulary)
        try #require(FileManager.default.fileExists(atPath: path), "the tiny model \(path) is missing")
        let file = try GGUFFile(headersOf: path)
        return try #require(try makeTokenizer(metadata: file) as? BPETokenizer, "expected a BPETokenizer for \(path)")
    }

    @Test(arguments: vocabularies)
    func idsMatchLlamaCpp(_ vocabulary: Vocabulary) throws {
        let tokenizer = try Self.tokenizer(vocabulary)
        let cases = try VocabTestCase.load(vocabulary.fixture)
        #expect(cases.count > 30)
        let failures = VocabTestCase.recordMismatches(cases, fixture: vocabulary.fixture) {
            tokenizer.encode($0, addSpecial: false, parseSpecial: false)
        }
        #expect(failures == 0, "\(failures) of \(cases.count) encodings differ from llama.cpp")
    }

    /// Byte-level pieces join back to the text, as llama.cpp's `llama_token_to_piece` pieces of
    /// these ids do for every input (checked with llama-cpp-python; its `llama_detokenize` also
    /// applies clean_up_tokenization_spaces for llama-bpe, which Nimbus's decode does not).
    @Test(arguments: vocabularies)
    func addSpecialAndDecodeRoundTrip(_ vocabulary: Vocabulary) throws {
        let tokenizer = try Self.tokenizer(vocabulary)
        for c in try VocabTestCase.load(vocabulary.fixture) {
            #expect(tokenizer.decode(c.ids) == c.text, "\(c.text.debugDescription)")
            let withSpecial = tokenizer.encode(c.text, addSpecial: true, parseSpecial: false)
            #expect(withSpecial == vocabulary.addedWithSpecial + c.ids, "\(c.text.debugDescription)")
            // A BOS renders as nothing unless special tokens are rendered.
            #expect(tokenizer.decode(withSpecial) == c.text, "\(c.text.debugDescription)")
        }
    }
}
