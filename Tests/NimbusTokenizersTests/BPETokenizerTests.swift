import NimbusTokenizers
import Testing

/// Tiny vocabularies built in code: errors, merge order, special tokens, end of generation.
@Suite struct BPETokenizerTests {
    /// Every byte is a token (ids 0...255 in byte order), then `extra`.
    static func make(
        extra: [String] = [], types: [Int]? = nil, merges: [String] = [], pre: String? = "gpt-2",
        special: SpecialTokenIDs = SpecialTokenIDs(), addBOS: Bool? = nil
    ) throws -> BPETokenizer {
        // One token per byte, spelled through GPT-2's table, so a byte's id is its value.
        var all = (0...255).map { spellByte(UInt8($0)) }
        all += extra
        let allTypes = types.map { Array(repeating: 1, count: 256) + $0 }
        return try BPETokenizer(
            tokens: all, tokenTypes: allTypes, merges: merges, preTokenizer: pre, specialTokens: special, addBOS: addBOS)
    }

    /// GPT-2's byte-level spelling of one byte, written out again so the test does not trust
    /// the module's table.
    static func spellByte(_ b: UInt8) -> String {
        var n: UInt32 = 256
        for x in 0..<Int(b) {
            let printable = (0x21...0x7E).contains(x) || (0xA1...0xAC).contains(x) || (0xAE...0xFF).contains(x)
            if !printable { n += 1 }
        }
        let printable = (0x21...0x7E).contains(b) || (0xA1...0xAC).contains(b) || (0xAE...0xFF).contains(b)
        return String(Unicode.Scalar(printable ? UInt32(b) : n) ?? "?")
    }

    @Test func unsupportedModelsSayWhy() {
        #expect(throws: TokenizerError.unsupportedModel("t5 (Unigram)")) {
            try makeTokenizer(model: "t5", tokens: ["a"], tokenTypes: nil, merges: nil, preTokenizer: nil,
                              specialTokens: SpecialTokenIDs())
        }
        #expect(throws: TokenizerError.missingMetadata("tokenizer.ggml.scores")) {
            try makeTokenizer(model: "llama", tokens: ["a"], tokenTypes: nil, merges: nil, preTokenizer: nil,
                              specialTokens: SpecialTokenIDs())
        }
        #expect(throws: TokenizerError.missingMetadata("tokenizer.ggml.merges")) {
            try makeTokenizer(model: "gpt2", tokens: ["a"], tokenTypes: nil, merges: nil, preTokenizer: nil,
                              specialTokens: SpecialTokenIDs())
        }
        #expect(throws: TokenizerError.unknownPreTokenizer("gpt2")) { try Self.make(pre: "gpt2") }
    }

    @Test func inconsistentArraysThrow() {
        #expect(throws: TokenizerError.self) { try Self.make(extra: ["x"], types: []) }  // types too short
        #expect(throws: TokenizerError.self) { try Self.make(extra: ["a"]) }  // duplicate of byte "a"
        #expect(throws: TokenizerError.self) { try Self.make(special: SpecialTokenIDs(eos: 999)) }
        #expect(throws: TokenizerError.self) { try Self.make(addBOS: true) }  // no BOS id
    }

    @Test func mergesApplyByRankLeftmostFirst() throws {
        let t = try Self.make(extra: ["ab", "bc", "abc", "aa"], merges: ["b c", "a b", "a bc", "a a"])
        // "b c" outranks "a b", so "abc" is a + bc, then "a bc" -> abc.
        #expect(t.encode("abc", addSpecial: false, parseSpecial: false) == [t.tokenID(for: "abc")])
        // Equal pairs merge leftmost first: "aaa" -> aa + a.
        #expect(t.encode("aaa", addSpecial: false, parseSpecial: false) == [t.tokenID(for: "aa"), 97].compactMap { $0 })
        #expect(t.decode(t.encode("aaa abc", addSpecial: false, parseSpecial: false)) == "aaa abc")
    }

    @Test func llama3IgnoresMergesForWholeTokensAndAddsBOS() throws {
        let t = try Self.make(extra: ["hello", "<|begin_of_text|>"], types: [1, 3], pre: "llama-bpe",
                              special: SpecialTokenIDs(bos: 257))
        #expect(t.addBOS)
        // No merges at all, yet "hello" is one token because it is in the vocabulary.
        #expect(t.encode("hello", addSpecial: true, parseSpecial: false) == [257, 256])
        let gpt2 = try Self.make(extra: ["hello"], pre: "gpt-2")
        #expect(gpt2.encode("hello", addSpecial: true, parseSpecial: false).count == 5)
        #expect(!gpt2.addBOS)
    }

    @Test func specialTokensLongestFirstAndControlOnlyWhenParsing() throws {
        let t = try Self.make(extra: ["<|x|>", "<|x|>y", "<u>"], types: [3, 3, 4])
        let x = 256, xy = 257, u = 258
        #expect(t.encode("a<|x|>yb", addSpecial: false, parseSpecial: true) == [97, xy, 98])
        #expect(t.encode("<|x|><|x|>", addSpecial: false, parseSpecial: true) == [x, x])
        // Control tokens are text without special parsing; user-defined ones never are.
        #expect(!t.encode("<|x|>", addSpecial: false, parseSpecial: false).contains(x))
        #expect(t.encode("a<u>b", addSpecial: false, parseSpecial: false) == [97, u, 98])
        // Control tokens render as nothing unless asked for.
        #expect(t.decode([97, x, 98]) == "ab")
        #expect(t.decode([97, x, 98], renderSpecial: true) == "a<|x|>b")
        #expect(t.decode([97, u, 98]) == "a<u>b")
    }

    @Test func endOfGenerationFollowsLlamaCpp() throws {
        // eot and the FIM repo token are found by text; an EOG-looking normal token becomes control.
        let t = try Self.make(
            extra: ["<|endoftext|>", "<|eot_id|>", "<|fim_pad|>", "<|fim_prefix|>", "<|eom_id|>", "<|start|>"],
            types: [3, 1, 3, 3, 3, 3], special: SpecialTokenIDs(bos: 256, eos: 256))
        #expect(t.endOfGenerationTokenIDs == [256, 257, 258, 260])
        #expect(t.specialTokens.eot == 256)  // lowest id among the EOT texts
        #expect(t.specialTokens.eom == 260)
        #expect(t.specialTokens.fimPad == 258 && t.specialTokens.fimPrefix == 259)
        #expect(t.decode([257]) == "")  // made control, so hidden
        #expect(t.encode("<|eot_id|>", addSpecial: false, parseSpecial: true) == [257])
        #expect(t.decode([261]) == "<|start|>")  // gpt-oss: always rendered
    }

    @Test func harmonyEndIsNotEndOfGeneration() throws {
        let t = try Self.make(extra: ["<|return|>", "<|call|>", "<|end|>"], types: [3, 3, 3])
        #expect(t.endOfGenerationTokenIDs == [256, 257])
        #expect(t.decode([258]) == "<|end|>")
    }

    @Test func streamingHoldsBackSplitCharacters() throws {
        let t = try Self.make()
        let emoji = Array("\u{1F600}".utf8).map(Int.init)  // byte tokens have the byte as id
        var stream = StreamingDetokenizer(tokenizer: t)
        #expect(stream.append(104) == "h")
        #expect(stream.append(emoji[0]) == "")
        #expect(stream.append(emoji[1]) == "")
        #expect(stream.append(emoji[2]) == "")
        #expect(stream.append(emoji[3]) == "\u{1F600}")
        #expect(!stream.hasPendingBytes)
        // A byte that can never be valid is not held back.
        #expect(stream.append(0xFF) == "\u{FFFD}")
        // A character cut short at the end becomes U+FFFD on flush.
        #expect(stream.append(0xE2) == "")
        #expect(stream.append(0x82) == "")
        #expect(stream.flush() == "\u{FFFD}")
        #expect(stream.flush() == "")
        // A lead byte followed by a byte that cannot continue it: both out at once.
        #expect(stream.append(0xE2) == "")
        #expect(stream.append(0x41) == "\u{FFFD}A")
        // E0 needs A0...BF next: E0 80 is not a prefix of anything valid.
        #expect(stream.append(0xE0) == "")
        #expect(stream.append(0x80).unicodeScalars.allSatisfy { $0 == "\u{FFFD}" })
    }
}
