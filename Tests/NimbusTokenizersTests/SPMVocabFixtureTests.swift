import Foundation
import NimbusGGUF
import NimbusTokenizers
import Testing

/// llama.cpp's own tokenizer tests for SentencePiece vocabularies: the vocabulary-only GGUFs
/// from llama.cpp's `models/` folder with their inputs (`.inp`) and expected ids (`.out`), as
/// `tests/test-tokenizer-0` checks them (no BOS, special tokens not parsed; see `VocabTestCase`).
@Suite struct SPMVocabFixtureTests {
    static func tokenizer(_ name: String) throws -> SPMTokenizer {
        let file = try GGUFFile(path: Fixtures.path(name, "gguf"))
        guard let spm = try makeTokenizer(metadata: file) as? SPMTokenizer else {
            throw FixtureError("expected an SPMTokenizer for \(name)")
        }
        return spm
    }

    @Test(arguments: ["ggml-vocab-llama-spm", "ggml-vocab-phi-3"])
    func idsMatchLlamaCpp(_ name: String) throws {
        let tokenizer = try Self.tokenizer(name)
        let cases = try VocabTestCase.load(name)
        #expect(cases.count > 30)
        let failures = VocabTestCase.recordMismatches(cases, fixture: name) {
            tokenizer.encode($0, addSpecial: false, parseSpecial: false)
        }
        #expect(failures == 0, "\(failures) of \(cases.count) encodings differ from llama.cpp")
    }

    @Test(arguments: ["ggml-vocab-llama-spm", "ggml-vocab-phi-3"])
    func decodeRoundTrips(_ name: String) throws {
        let tokenizer = try Self.tokenizer(name)
        for c in try VocabTestCase.load(name) {
            // The space prefix that encoding adds is dropped again from the first piece.
            #expect(tokenizer.decode(c.ids) == c.text, "\(c.text.debugDescription)")
            // With BOS first, llama.cpp's detokenize keeps the prefixed space.
            let withBOS = tokenizer.encode(c.text, addSpecial: true, parseSpecial: false)
            #expect(withBOS == [1] + c.ids)
            #expect(tokenizer.decode(withBOS) == (c.text.isEmpty ? "" : " " + c.text), "\(c.text.debugDescription)")
        }
    }

    /// llama.cpp's results for a corpus with chat markup (Fixtures/spm_vocab_tokens.json, from
    /// scripts/fixtures/gen_spm_fixtures.py): special parsing, Phi-3's rstrip, BOS, detokenize.
    static let corpus = Result { try Fixtures.decode([String: LlamaCppTokens].self, from: "spm_vocab_tokens") }

    @Test(arguments: ["ggml-vocab-llama-spm", "ggml-vocab-phi-3"])
    func corpusMatchesLlamaCpp(_ name: String) throws {
        let tokenizer = try Self.tokenizer(name)
        let fixture = try #require(try Self.corpus.get()[name])
        #expect(fixture.cases.count >= 40)
        #expect(tokenizer.vocabularySize == fixture.n_vocab)
        #expect(tokenizer.bosTokenID == fixture.bos && tokenizer.eosTokenID == fixture.eos)
        #expect(tokenizer.addBOS == fixture.add_bos && tokenizer.addEOS == fixture.add_eos)
        #expect(tokenizer.endOfGenerationTokenIDs == Set(fixture.eog_ids))
        let differences = fixture.differences(tokenizer)
        for d in differences.prefix(8) { Issue.record(Comment(rawValue: d)) }
        #expect(differences.count == 0, "\(differences.count) results differ from llama.cpp over \(fixture.cases.count) cases")
    }

    @Test func llamaVocabularyFacts() throws {
        let t = try Self.tokenizer("ggml-vocab-llama-spm")
        #expect(t.vocabularySize == 32000)
        #expect(t.bosTokenID == 1 && t.eosTokenID == 2 && t.specialTokens.unknown == 0)
        #expect(t.addBOS && !t.addEOS && t.addSpacePrefix)
        #expect(t.endOfGenerationTokenIDs == [2])
        #expect(t.tokenID(for: "<0x0A>") == 13)
        #expect(t.pieceBytes(13, renderSpecial: false) == [0x0A])
        #expect(t.tokenBytes(1) == Array("<s>".utf8) && t.pieceBytes(1, renderSpecial: false) == [])
        #expect(t.tokenBytes(0) == Array("<unk>".utf8) && t.pieceBytes(0, renderSpecial: false) == [])
        let hello = try #require(t.tokenID(for: "▁Hello"))
        #expect(t.pieceBytes(hello, renderSpecial: false) == Array(" Hello".utf8))
        // Control tokens are plain text unless special parsing is on.
        #expect(t.encode("</s>", addSpecial: false, parseSpecial: true) == [2])
        #expect(t.encode("</s>", addSpecial: false, parseSpecial: false) != [2])
        #expect(t.decode(t.encode("a</s>b", addSpecial: true, parseSpecial: true), renderSpecial: true) == "<s> a</s> b")
    }

    @Test func phi3VocabularyFacts() throws {
        let t = try Self.tokenizer("ggml-vocab-phi-3")
        #expect(t.vocabularySize == 32064)
        #expect(t.bosTokenID == 1 && t.eosTokenID == 32000)
        let end = try #require(t.tokenID(for: "<|end|>"))
        let user = try #require(t.tokenID(for: "<|user|>"))
        let assistant = try #require(t.tokenID(for: "<|assistant|>"))
        #expect(t.endOfGenerationTokenIDs.isSuperset(of: [32000, end]))
        #expect(!t.endOfGenerationTokenIDs.contains(user))
        // llama.cpp gives Phi-3's special tokens rstrip (by general.name): the newline after
        // <|user|> goes, and the space prefix comes back since the text follows a special token.
        let chat = t.encode("<|user|>\nHi<|end|>\n<|assistant|>", addSpecial: true, parseSpecial: true)
        let hi = t.encode("Hi", addSpecial: false, parseSpecial: false)
        #expect(chat == [1, user] + hi + [end, assistant])
        // <|endoftext|> keeps the whitespace after it.
        let eot = t.encode("<|endoftext|>\n", addSpecial: false, parseSpecial: true)
        #expect(eot.first == 32000 && eot.count > 1)
    }
}
