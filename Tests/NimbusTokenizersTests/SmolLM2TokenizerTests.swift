import NimbusTestSupport
import Foundation
import NimbusGGUF
import NimbusTokenizers
import Testing

/// The default model's tokenizer against llama.cpp's own ids and pieces
/// (Fixtures/smollm2_tokens.json, from llama-cpp-python).
@Suite(.enabled(if: DefaultModel.shouldTest, "\(TestModel.fileName) not found (NIMBUS_MODEL_PATH; NIMBUS_REQUIRE_MODELS=1 fails instead)"))
struct SmolLM2TokenizerTests {
    static let fixture = Result { try Fixtures.decode(LlamaCppTokens.self, from: "smollm2_tokens") }

    @Test func vocabularyFacts() throws {
        let tokenizer = try DefaultModel.tokenizer.get()
        let fixture = try Self.fixture.get()
        #expect(tokenizer.vocabularySize == fixture.n_vocab)
        #expect(tokenizer.bosTokenID == fixture.bos)
        #expect(tokenizer.eosTokenID == fixture.eos)
        #expect(tokenizer.addBOS == fixture.add_bos)
        #expect(tokenizer.addEOS == fixture.add_eos)
        #expect(tokenizer.endOfGenerationTokenIDs == Set(fixture.eog_ids))
        // llama.cpp picks the EOT among several candidates in hash-map order; here it agrees.
        #expect(tokenizer.specialTokens.eot == fixture.eot)
        #expect(tokenizer.preTokenizer.name == "smollm")
        #expect(tokenizer.tokenID(for: "<|im_end|>") == 2)
        #expect(tokenizer.tokenID(for: "<|im_start|>") == 1)
        #expect(tokenizer.tokenID(for: "no such token") == nil)
        #expect(tokenizer.tokenBytes(2) == Array("<|im_end|>".utf8))
        #expect(tokenizer.pieceBytes(2, renderSpecial: false) == [])
        #expect(tokenizer.tokenBytes(-1) == [] && tokenizer.tokenBytes(fixture.n_vocab) == [])
    }

    @Test func idsMatchLlamaCpp() throws {
        let tokenizer = try DefaultModel.tokenizer.get()
        let fixture = try Self.fixture.get()
        var failures = 0
        for c in fixture.cases {
            let special = tokenizer.encode(c.text, addSpecial: false, parseSpecial: true)
            let plain = tokenizer.encode(c.text, addSpecial: false, parseSpecial: false)
            let added = tokenizer.encode(c.text, addSpecial: true, parseSpecial: true)
            for (kind, got, expected) in [("special", special, c.ids_special), ("plain", plain, c.ids_plain),
                                          ("add_special", added, c.ids_add_special)] where got != expected {
                failures += 1
                if failures <= 8 {
                    Issue.record("\(c.name) [\(kind)] \(c.text.debugDescription)\n expected \(expected)\n got      \(got)")
                }
            }
        }
        #expect(failures == 0, "\(failures) encodings differ from llama.cpp over \(fixture.cases.count) cases")
    }

    @Test func decodeMatchesLlamaCpp() throws {
        let tokenizer = try DefaultModel.tokenizer.get()
        let fixture = try Self.fixture.get()
        var failures = 0
        for c in fixture.cases {
            let checks: [(String, [UInt8], String)] = [
                ("plain", tokenizer.decodeBytes(c.ids_special), c.detok_plain_hex),
                ("special", tokenizer.decodeBytes(c.ids_special, renderSpecial: true), c.detok_special_hex),
                ("plain-of-plain", tokenizer.decodeBytes(c.ids_plain), c.detok_plain_of_plain_hex),
            ]
            for (kind, got, hex) in checks where got != [UInt8](hex: hex) {
                failures += 1
                if failures <= 8 { Issue.record("\(c.name) [\(kind)] decode differs") }
            }
            // Rendering every token gives the text back; without special parsing even plainly.
            #expect(tokenizer.decode(c.ids_special, renderSpecial: true) == c.text, "\(c.name)")
            #expect(tokenizer.decode(c.ids_plain) == c.text, "\(c.name)")
        }
        #expect(failures == 0)
    }

    @Test func concurrentEncodesAgree() async throws {
        let tokenizer = try DefaultModel.tokenizer.get()
        let cases = try Self.fixture.get().cases
        // Several tasks share the word cache; each must still get llama.cpp's ids.
        let failures = await withTaskGroup(of: Int.self) { group in
            for shard in 0..<4 {
                group.addTask {
                    var bad = 0
                    for (i, c) in cases.enumerated() where i % 4 == shard || i % 3 == 0 {
                        if tokenizer.encode(c.text, addSpecial: false, parseSpecial: true) != c.ids_special { bad += 1 }
                    }
                    return bad
                }
            }
            return await group.reduce(0, +)
        }
        #expect(failures == 0)
    }

    @Test func streamingNeverEmitsBrokenText() throws {
        let tokenizer = try DefaultModel.tokenizer.get()
        let texts = [
            "👨‍👩‍👧‍👦 family, 🇫🇷 flag, 🍕😀👍🏽!",
            "你好，世界！今天天气很好。 こんにちは",
            "<|im_start|>assistant\nनमस्ते 🎉<|im_end|>",
        ]
        var heldBack = 0
        for text in texts {
            let ids = tokenizer.encode(text, addSpecial: false, parseSpecial: true)
            var stream = StreamingDetokenizer(tokenizer: tokenizer)
            var joined = ""
            for id in ids {
                let piece = stream.append(id)
                #expect(!piece.unicodeScalars.contains("\u{FFFD}"), "broken UTF-8 emitted for token \(id)")
                if piece.isEmpty && stream.hasPendingBytes { heldBack += 1 }
                joined += piece
            }
            joined += stream.flush()
            #expect(joined == tokenizer.decode(ids))
            let visible = text.replacingOccurrences(of: "<|im_start|>", with: "")
                .replacingOccurrences(of: "<|im_end|>", with: "")
            #expect(joined == visible)
        }
        // The texts are chosen so that tokens do split characters; otherwise nothing was tested.
        #expect(heldBack > 0)
    }

    @Test func encodeSpeed() throws {
        _ = try DefaultModel.tokenizer.get()  // the clear "model not found" error, if it is
        let fixture = try Self.fixture.get()
        let long = try #require(fixture.cases.first { $0.name == "long" })
        let clock = ContinuousClock()
        func ms(_ d: Duration) -> Double {
            Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15
        }
        // A tokenizer of its own, so that its word cache starts empty.
        var built: (any Tokenizer)?
        let buildTime = try clock.measure { built = try makeTokenizer(metadata: GGUFFile(path: DefaultModel.path)) }
        let tokenizer = try #require(built)
        var count = 0
        let cold = clock.measure { count = tokenizer.encode(long.text, addSpecial: false, parseSpecial: true).count }
        let rounds = 5
        let warm = clock.measure {
            for _ in 0..<rounds { count = tokenizer.encode(long.text, addSpecial: false, parseSpecial: true).count }
        }
        let warmMS = ms(warm) / Double(rounds)
        // Text that repeats little: the generated cases joined, merged by a fresh tokenizer.
        let varied = fixture.cases.filter { $0.name != "long" }.map(\.text).joined(separator: "\n")
        let fresh = try makeTokenizer(metadata: GGUFFile(path: DefaultModel.path))
        var variedCount = 0
        let variedTime = clock.measure { variedCount = fresh.encode(varied, addSpecial: false, parseSpecial: true).count }
        func rate(_ n: Int, _ t: Double) -> Int { Int(Double(n) / t * 1000) }
        print("tokenizer: load+build \(ms(buildTime)) ms; encode \(count) tokens (\(long.text.utf8.count) bytes): "
            + "cold \(ms(cold)) ms (\(rate(count, ms(cold))) tokens/s), warm \(warmMS) ms (\(rate(count, warmMS)) tokens/s); "
            + "varied \(variedCount) tokens cold \(ms(variedTime)) ms (\(rate(variedCount, ms(variedTime))) tokens/s)")
        #expect(count == long.ids_special.count)
    }
}
