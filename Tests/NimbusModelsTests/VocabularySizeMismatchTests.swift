import Foundation
import NimbusModels
import Testing

/// A file whose token list does not fit its embedding matrix stops loading with one line naming
/// the key or tensor at fault, instead of loading a model that a valid token id would read past.
/// The files are committed tiny models (Fixtures/tiny) with a few header bytes changed.
@Suite struct VocabularySizeMismatchTests {
    static func le64(_ value: UInt64) -> [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) } }

    /// The tensor table entry of a 2-D tensor up to its dimensions: name, rank 2, ne[0], ne[1].
    static func tensorShape(_ name: String, _ columns: UInt64, _ rows: UInt64) -> [UInt8] {
        le64(UInt64(name.utf8.count)) + Array(name.utf8) + [2, 0, 0, 0] + le64(columns) + le64(rows)
    }

    /// llama3.q4_k_m: 128256 tokens, `llama.vocab_size` 128256, token_embd.weight [32, 128256].
    /// With the vocabulary size and the embedding rows both 128255 the file is consistent except
    /// for the token list, which is one longer.
    @Test func tokenListLongerThanTheEmbeddingNamesTheKey() throws {
        let key = Array("llama.vocab_size".utf8)
        let path = try TinyModelPatch.patched("llama3.q4_k_m", [
            // GGUF type 4 is UInt32.
            (key + [4, 0, 0, 0] + [0x00, 0xF5, 0x01, 0x00], key + [4, 0, 0, 0] + [0xFF, 0xF4, 0x01, 0x00]),
            (Self.tensorShape("token_embd.weight", 32, 128256), Self.tensorShape("token_embd.weight", 32, 128255)),
        ])
        let error = try #require(TinyModelPatch.loadError(path), "the file loaded")
        #expect(error == "model metadata tokenizer.ggml.tokens: 128256 tokens, but the model's vocabulary has 128255 rows")
        #expect(!error.contains("\n"))
    }

    /// qwen3.q4_k_m has no `qwen3.vocab_size`, so its vocabulary size is the token count
    /// (151936); an embedding of 151935 rows is then the tensor at fault.
    @Test func embeddingShorterThanTheTokenListNamesTheTensor() throws {
        let path = try TinyModelPatch.patched("qwen3.q4_k_m", [
            (Self.tensorShape("token_embd.weight", 32, 151936), Self.tensorShape("token_embd.weight", 32, 151935)),
        ])
        let error = try #require(TinyModelPatch.loadError(path), "the file loaded")
        #expect(error == "tensor token_embd.weight has shape [32, 151935], expected [32, 151936]")
        #expect(!error.contains("\n"))
    }
}
