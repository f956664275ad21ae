import Foundation
import NimbusGGUF
import NimbusTestSupport
import NimbusTokenizers
import Testing

/// Gemma 3's SentencePiece vocabulary (262,144 tokens, no space prefix) against llama.cpp's ids
/// and detokenized bytes (Fixtures/gemma3_spm_tokens.json, from scripts/fixtures/gen_spm_fixtures.py).
@Suite(.enabled(if: CachedTestModel.gemma3.shouldRun,
                "\(CachedTestModel.gemma3.fileName) not found (`make family-models`; NIMBUS_REQUIRE_MODELS=1 fails instead)"))
struct GemmaTokenizerTests {
    static let fixture = Result { try Fixtures.decode(LlamaCppTokens.self, from: "gemma3_spm_tokens") }

    /// The tokenizer built from the model's metadata, once per test process.
    static let tokenizer: Result<SPMTokenizer, any Error> = Result {
        let model = CachedTestModel.gemma3
        guard model.isPresent else {
            throw FixtureError("model file not found at \(model.path) (NIMBUS_REQUIRE_MODELS=1 requires it; `make family-models` fetches it)")
        }
        let file = try GGUFFile(path: model.path)
        guard let spm = try makeTokenizer(metadata: file) as? SPMTokenizer else {
            throw FixtureError("expected an SPMTokenizer for \(model.path)")
        }
        return spm
    }

    @Test func vocabularyFacts() throws {
        let t = try Self.tokenizer.get()
        let fixture = try Self.fixture.get()
        #expect(t.vocabularySize == fixture.n_vocab)
        #expect(t.bosTokenID == fixture.bos)
        #expect(t.eosTokenID == fixture.eos)
        #expect(t.specialTokens.eot == fixture.eot)
        #expect(t.addBOS == fixture.add_bos)
        #expect(t.addEOS == fixture.add_eos)
        #expect(!t.addSpacePrefix)
        #expect(t.endOfGenerationTokenIDs == Set(fixture.eog_ids))
        let endOfTurn = try #require(t.tokenID(for: "<end_of_turn>"))
        #expect(t.isEndOfGeneration(endOfTurn))
        #expect(t.tokenBytes(endOfTurn) == Array("<end_of_turn>".utf8))
        #expect(t.pieceBytes(endOfTurn, renderSpecial: false) == [])
    }

    @Test func idsAndDecodingMatchLlamaCpp() throws {
        let t = try Self.tokenizer.get()
        let fixture = try Self.fixture.get()
        #expect(fixture.cases.count >= 40)
        let differences = fixture.differences(t)
        for d in differences.prefix(8) { Issue.record(Comment(rawValue: d)) }
        #expect(differences.count == 0, "\(differences.count) results differ from llama.cpp over \(fixture.cases.count) cases")
        for c in fixture.cases {
            // Every token rendered gives the text back; without special parsing even plainly.
            #expect(t.decode(c.ids_special, renderSpecial: true) == c.text, "\(c.name)")
            #expect(t.decode(c.ids_plain) == c.text, "\(c.name)")
        }
    }

    @Test func streamingJoinsByteFallbackTokens() throws {
        let t = try Self.tokenizer.get()
        let fixture = try Self.fixture.get()
        var heldBack = 0
        for c in fixture.cases {
            var stream = StreamingDetokenizer(tokenizer: t)
            var joined = ""
            for id in c.ids_special {
                let piece = stream.append(id)
                #expect(!piece.unicodeScalars.contains("\u{FFFD}"), "\(c.name): broken UTF-8 emitted for token \(id)")
                if piece.isEmpty && stream.hasPendingBytes { heldBack += 1 }
                joined += piece
            }
            joined += stream.flush()
            #expect(Array(joined.utf8) == [UInt8](hex: c.detok_plain_hex), "\(c.name)")
        }
        // The byte-fallback case spells characters as several <0xAB> tokens.
        #expect(heldBack > 0)
    }

    @Test func buildAndEncodeSpeed() throws {
        _ = try Self.tokenizer.get()  // the clear "model not found" error, if it is
        let fixture = try Self.fixture.get()
        let long = try #require(fixture.cases.first { $0.name == "long" })
        let clock = ContinuousClock()
        func ms(_ d: Duration) -> Double {
            Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15
        }
        var file: GGUFFile?
        let loadTime = try clock.measure { file = try GGUFFile(path: CachedTestModel.gemma3.path) }
        let gguf = try #require(file)
        var built: (any Tokenizer)?
        let buildTime = try clock.measure { built = try makeTokenizer(metadata: gguf) }
        let t = try #require(built)
        var count = 0
        let encodeTime = clock.measure { count = t.encode(long.text, addSpecial: false, parseSpecial: true).count }
        print("gemma tokenizer: GGUF parse \(ms(loadTime)) ms, tokenizer build \(ms(buildTime)) ms; "
            + "encode \(count) tokens (\(long.text.utf8.count) bytes) in \(ms(encodeTime)) ms")
        // Times are printed for the log, never asserted (the machines are shared and noisy).
        #expect(count == long.ids_special.count)
    }
}
