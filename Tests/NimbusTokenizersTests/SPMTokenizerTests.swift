import Foundation
import NimbusTokenizers
import Testing

/// Tiny SentencePiece vocabularies built in code: merge order, byte fallback, the space prefix,
/// pieces, errors and metadata defaults.
@Suite struct SPMTokenizerTests {
    /// `<unk>`, `<s>`, `</s>`, the 256 byte tokens (id 3 + byte), then `extra` with its scores.
    static func vocabulary(_ extra: [(String, Float)], types extraTypes: [Int]? = nil) -> (tokens: [String], scores: [Float], types: [Int]) {
        let hex = Array("0123456789ABCDEF")
        var tokens = ["<unk>", "<s>", "</s>"] + (0...255).map { "<0x\(hex[$0 >> 4])\(hex[$0 & 15])>" }
        var types = [2, 3, 3] + Array(repeating: 6, count: 256)
        tokens += extra.map(\.0)
        types += extraTypes ?? Array(repeating: 1, count: extra.count)
        return (tokens, Array(repeating: 0, count: 259) + extra.map(\.1), types)
    }

    static func make(
        _ extra: [(String, Float)], types: [Int]? = nil, addSpacePrefix: Bool = true, addBOS: Bool? = nil
    ) throws -> SPMTokenizer {
        let v = vocabulary(extra, types: types)
        return try SPMTokenizer(
            tokens: v.tokens, scores: v.scores, tokenTypes: v.types,
            specialTokens: SpecialTokenIDs(bos: 1, eos: 2, unknown: 0), addBOS: addBOS, addSpacePrefix: addSpacePrefix)
    }

    static func byte(_ b: UInt8) -> Int { 3 + Int(b) }

    @Test func higherScoreMergesFirst() throws {
        let bcFirst = try Self.make([("a", -1), ("b", -1), ("c", -1), ("ab", -2), ("bc", -1.5)], addSpacePrefix: false)
        #expect(bcFirst.encode("abc", addSpecial: false, parseSpecial: false) == [259, 263])
        let abFirst = try Self.make([("a", -1), ("b", -1), ("c", -1), ("ab", -1.5), ("bc", -2)], addSpacePrefix: false)
        #expect(abFirst.encode("abc", addSpecial: false, parseSpecial: false) == [262, 261])
        // Once merged, the new symbol pairs with its neighbours: a + bc -> abc.
        let whole = try Self.make([("a", -1), ("b", -1), ("c", -1), ("ab", -2), ("bc", -1.5), ("abc", -9)], addSpacePrefix: false)
        #expect(whole.encode("abc", addSpecial: false, parseSpecial: false) == [264])
    }

    @Test func equalScoresMergeLeftmostFirst() throws {
        let t = try Self.make([("a", -1), ("aa", -1)], addSpacePrefix: false)
        #expect(t.encode("aaa", addSpecial: false, parseSpecial: false) == [260, 259])
        #expect(t.encode("aaaaa", addSpecial: false, parseSpecial: false) == [260, 260, 259])
    }

    @Test func spacesBecomeLowerBlocksAndPrefixFollowsSpecialTokens() throws {
        let t = try Self.make([("▁", -1), ("a", -1), ("▁a", -0.5), ("▁▁", -3)])
        let a = 261, space = 259, spaces = 262
        #expect(t.encode("a", addSpecial: false, parseSpecial: false) == [a])
        #expect(t.encode("a a", addSpecial: false, parseSpecial: false) == [a, a])
        #expect(t.encode("  a", addSpecial: false, parseSpecial: false) == [spaces, a])
        #expect(t.encode("a", addSpecial: true, parseSpecial: false) == [1, a])
        #expect(t.encode("", addSpecial: true, parseSpecial: false) == [1])
        #expect(t.encode("", addSpecial: false, parseSpecial: false) == [])
        // After a special token the space comes again; text parsed as text gets none inside.
        #expect(t.encode("a</s>a", addSpecial: false, parseSpecial: true) == [a, 2, a])
        #expect(t.encode("</s>", addSpecial: false, parseSpecial: true) == [2])
        #expect(t.encode(" ", addSpecial: false, parseSpecial: false) == [spaces])
        let noPrefix = try Self.make([("▁", -1), ("a", -1), ("▁a", -0.5), ("▁▁", -3)], addSpacePrefix: false)
        #expect(noPrefix.encode("a</s> a", addSpecial: false, parseSpecial: true) == [260, 2, a])
        #expect(noPrefix.encode(" ", addSpecial: false, parseSpecial: false) == [space])
    }

    @Test func missingCharactersFallBackToBytes() throws {
        let t = try Self.make([("▁", -1), ("x", -1)], addSpacePrefix: false)
        // é is C3 A9, 😀 F0 9F 98 80: neither is a token.
        #expect(t.encode("xé", addSpecial: false, parseSpecial: false) == [260, Self.byte(0xC3), Self.byte(0xA9)])
        let ids = t.encode("😀 x", addSpecial: false, parseSpecial: false)
        #expect(ids == [0xF0, 0x9F, 0x98, 0x80].map(Self.byte) + [259, 260])
        #expect(t.decode(ids) == "😀 x")
        // Streaming holds the bytes back until the character is complete.
        var stream = StreamingDetokenizer(tokenizer: t)
        let pieces = ids.map { stream.append($0) }
        #expect(pieces == ["", "", "", "😀", " ", "x"])
        #expect(!stream.hasPendingBytes && stream.flush() == "")
        // A lone continuation byte renders as U+FFFD at once rather than being held.
        var broken = StreamingDetokenizer(tokenizer: t)
        #expect(broken.append(Self.byte(0x98)) == "\u{FFFD}")
    }

    @Test func piecesAndDecode() throws {
        let t = try Self.make([("▁", -1), ("a", -1), ("▁a", -0.5), ("<tool>", 0), ("<ctl>", 0)], types: [1, 1, 1, 4, 3])
        #expect(t.pieceBytes(261, renderSpecial: false) == Array(" a".utf8))
        #expect(t.pieceBytes(Self.byte(0x0A), renderSpecial: false) == [0x0A])
        #expect(t.pieceBytes(262, renderSpecial: false) == Array("<tool>".utf8))  // user-defined: always
        #expect(t.pieceBytes(263, renderSpecial: false) == [])  // control: only rendered on request
        #expect(t.pieceBytes(263, renderSpecial: true) == Array("<ctl>".utf8))
        #expect(t.pieceBytes(0, renderSpecial: false) == [] && t.tokenBytes(0) == Array("<unk>".utf8))
        #expect(t.pieceBytes(-1, renderSpecial: true) == [] && t.pieceBytes(t.vocabularySize, renderSpecial: true) == [])
        // llama.cpp's detokenize drops the prefixed space from the first piece only, and not
        // when BOS comes first.
        #expect(t.decode([261, 261]) == "a a")
        #expect(t.decode([1, 261]) == " a")
        #expect(t.decode([1, 261], renderSpecial: true) == "<s> a")
        #expect(t.decode(t.encode("a<tool>a", addSpecial: false, parseSpecial: false)) == "a<tool> a")
        #expect(t.tokenID(for: "▁a") == 261 && t.tokenID(for: "<0x41>") == Self.byte(0x41) && t.tokenID(for: "zz") == nil)
    }

    @Test func endOfGenerationByText() throws {
        let t = try Self.make([("<end_of_turn>", 0), ("<|end|>", 0), ("<|endoftext|>", 0), ("<start_of_turn>", 0)], types: [3, 3, 3, 3])
        #expect(t.endOfGenerationTokenIDs == [2, 259, 260, 261])
        #expect(t.specialTokens.eot == 259)
        #expect(!t.isEndOfGeneration(262))
    }

    @Test func inconsistentVocabulariesThrow() throws {
        let v = Self.vocabulary([("a", -1)])
        let special = SpecialTokenIDs(bos: 1, eos: 2)
        #expect(throws: TokenizerError.inconsistentVocabulary("260 tokens but 259 scores")) {
            try SPMTokenizer(tokens: v.tokens, scores: Array(v.scores.dropLast()), tokenTypes: v.types, specialTokens: special)
        }
        #expect(throws: TokenizerError.self) {
            try SPMTokenizer(tokens: v.tokens, scores: v.scores, tokenTypes: [1], specialTokens: special)
        }
        #expect(throws: TokenizerError.self) {
            try SPMTokenizer(tokens: v.tokens + ["a"], scores: v.scores + [0], tokenTypes: nil, specialTokens: special)
        }
        #expect(throws: TokenizerError.self) {
            try SPMTokenizer(tokens: v.tokens, scores: v.scores, tokenTypes: v.types, specialTokens: SpecialTokenIDs(eos: 9999))
        }
        #expect(throws: TokenizerError.inconsistentVocabulary("add_bos_token is true but there is no BOS token id")) {
            try SPMTokenizer(tokens: v.tokens, scores: v.scores, tokenTypes: v.types, specialTokens: SpecialTokenIDs())
        }
        // No byte tokens: text with an unknown character could not be encoded. ("a" stands in
        // for <0x61>, as llama.cpp falls back to the one-byte text; 0xC0, 0xC1, 0xF5...0xFF are
        // never needed.)
        let bare = ["<unk>", "<s>", "</s>", "a"]
        #expect(throws: TokenizerError.inconsistentVocabulary(
            "SentencePiece byte fallback needs a token <0x00> (242 of the 256 byte tokens are missing)")) {
            try SPMTokenizer(tokens: bare, scores: [0, 0, 0, 0], tokenTypes: nil, specialTokens: special)
        }
        // Only bytes that UTF-8 can hold are required.
        var partial = v
        let unusedBytes = [0xC0, 0xC1] + Array(0xF5...0xFF)
        partial.tokens.removeAll { t in unusedBytes.contains { t == String(format: "<0x%02X>", $0) } }
        let valid = try SPMTokenizer(
            tokens: partial.tokens, scores: Array(partial.scores.prefix(partial.tokens.count)),
            tokenTypes: nil, specialTokens: special)
        // "▁a😀": three bytes for the prefixed space, "a", four bytes.
        #expect(valid.encode("a😀", addSpecial: false, parseSpecial: false).count == 8)
    }

    /// Dictionary-backed metadata, as a GGUF file would answer.
    struct Metadata: TokenizerMetadata {
        var strings: [String: String] = [:]
        var stringArrays: [String: [String]] = [:]
        var intValues: [String: Int] = [:]
        var intArrays: [String: [Int]] = [:]
        var floatArrays: [String: [Float]] = [:]
        var bools: [String: Bool] = [:]

        func string(_ key: String) -> String? { strings[key] }
        func strings(_ key: String) -> [String]? { stringArrays[key] }
        func int(_ key: String) -> Int? { intValues[key] }
        func ints(_ key: String) -> [Int]? { intArrays[key] }
        func floats(_ key: String) -> [Float]? { floatArrays[key] }
        func bool(_ key: String) -> Bool? { bools[key] }
    }

    @Test func metadataDefaultsAndErrors() throws {
        let v = Self.vocabulary([("▁", -1), ("a", -1), ("▁a", -0.5)])
        var m = Metadata()
        m.strings["tokenizer.ggml.model"] = "llama"
        m.stringArrays["tokenizer.ggml.tokens"] = v.tokens
        m.intArrays["tokenizer.ggml.token_type"] = v.types
        #expect(throws: TokenizerError.missingMetadata("tokenizer.ggml.scores")) { try makeTokenizer(metadata: m) }
        m.floatArrays["tokenizer.ggml.scores"] = Array(v.scores.prefix(100))
        #expect(throws: TokenizerError.self) { try makeTokenizer(metadata: m) }
        m.floatArrays["tokenizer.ggml.scores"] = v.scores

        // llama.cpp's SentencePiece defaults: BOS 1, EOS 2, UNK 0, add BOS, prefix a space.
        let t = try #require(try makeTokenizer(metadata: m) as? SPMTokenizer)
        #expect(t.bosTokenID == 1 && t.eosTokenID == 2 && t.specialTokens.unknown == 0)
        #expect(t.addBOS && !t.addEOS && t.addSpacePrefix)
        #expect(t.encode("a", addSpecial: true, parseSpecial: true) == [1, 261])

        m.bools["tokenizer.ggml.add_space_prefix"] = false
        m.bools["tokenizer.ggml.add_bos_token"] = false
        m.intValues["tokenizer.ggml.bos_token_id"] = 2
        m.intValues["tokenizer.ggml.eos_token_id"] = 99999  // out of range: the default stays
        let gemmaLike = try #require(try makeTokenizer(metadata: m) as? SPMTokenizer)
        #expect(gemmaLike.bosTokenID == 2 && gemmaLike.eosTokenID == 2)
        #expect(!gemmaLike.addBOS && !gemmaLike.addSpacePrefix)
        #expect(gemmaLike.encode("a", addSpecial: true, parseSpecial: true) == [260])
    }
}
