import Foundation
import NimbusTokenizers
import Testing

/// WordPiece rules on a hand-made vocabulary; the real vocabulary is checked against the
/// reference tokenizer's ids in NimbusModelsTests (MiniLMFidelityTests).
@Suite struct WordPieceTokenizerTests {
    static let vocabulary = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "un", "##aff", "##able", "aff", "!", "hello",
                             "world", "cafe", "中", "文", "a", "##a", ",", "straße"]

    static func json(maxChars: Int = 100, normalizer: String = #"{"type":"BertNormalizer","clean_text":true,"handle_chinese_chars":true,"strip_accents":null,"lowercase":true}"#) -> Data {
        let vocab = vocabulary.enumerated().map { "\"\($0.element)\":\($0.offset)" }.joined(separator: ",")
        return Data("""
        {"added_tokens":[{"id":4,"content":"[MASK]","special":true}],
         "normalizer":\(normalizer),
         "pre_tokenizer":{"type":"BertPreTokenizer"},
         "post_processor":{"type":"TemplateProcessing",
           "single":[{"SpecialToken":{"id":"[CLS]","type_id":0}},{"Sequence":{"id":"A","type_id":0}},{"SpecialToken":{"id":"[SEP]","type_id":0}}],
           "pair":[{"SpecialToken":{"id":"[CLS]","type_id":0}},{"Sequence":{"id":"A","type_id":0}},{"SpecialToken":{"id":"[SEP]","type_id":0}},{"Sequence":{"id":"B","type_id":1}},{"SpecialToken":{"id":"[SEP]","type_id":1}}],
           "special_tokens":{"[CLS]":{"id":"[CLS]","ids":[2],"tokens":["[CLS]"]},"[SEP]":{"id":"[SEP]","ids":[3],"tokens":["[SEP]"]}}},
         "model":{"type":"WordPiece","unk_token":"[UNK]","continuing_subword_prefix":"##","max_input_chars_per_word":\(maxChars),"vocab":{\(vocab)}}}
        """.utf8)
    }

    let tokenizer = try? WordPieceTokenizer(json: json())

    @Test(arguments: [
        ("unaffable", [5, 6, 7]),                 // greedy longest match with ## continuations
        ("Hello, World!", [10, 17, 11, 9]),       // lowercase, punctuation split off
        ("Café", [12]),                           // accent stripped
        ("中文", [13, 14]),                         // each CJK ideograph its own word
        ("aaa", [15, 16, 16]),
        ("unknown", [1]),                         // any unmatched part makes the whole word [UNK]
        ("hel\u{0}lo\u{7} world\u{200B}", [10, 11]),  // control and format characters dropped, not spaces
        ("hello\tworld\u{00A0}!", [10, 11, 9]),   // tab and no-break space are whitespace
        ("hello [MASK] world", [10, 4, 11]),      // added tokens matched in the raw text
        ("hello[MASK]", [10, 4]),
        ("STRASSE", [1]),                         // no full case folding: ß is not ss
        ("Straße", [18]),
        ("", []),
        ("   ", []),
    ])
    func encodes(text: String, ids: [Int]) throws {
        let tokenizer = try #require(tokenizer)
        #expect(tokenizer.encode(text) == ids, "\(text)")
    }

    @Test func longWordsBecomeUnknown() throws {
        let tokenizer = try WordPieceTokenizer(json: Self.json(maxChars: 4))
        #expect(tokenizer.encode("aaaa aaaaa") == [15, 16, 16, 16, 1])
    }

    @Test func templateAddsSpecialTokensAndTypes() throws {
        let tokenizer = try #require(tokenizer)
        #expect(tokenizer.template.addedCount(pair: false) == 2 && tokenizer.template.addedCount(pair: true) == 3)
        let single = tokenizer.template.apply([10])
        #expect(single.ids == [2, 10, 3] && single.typeIDs == [0, 0, 0])
        let pair = tokenizer.template.apply([10], [11, 9])
        #expect(pair.ids == [2, 10, 3, 11, 9, 3] && pair.typeIDs == [0, 0, 0, 1, 1, 1])
    }

    @Test func withoutLowercasingAccentsStay() throws {
        let tokenizer = try WordPieceTokenizer(json: Self.json(normalizer: #"{"type":"BertNormalizer","lowercase":false}"#))
        #expect(tokenizer.encode("Hello cafe") == [1, 12])
        #expect(tokenizer.encode("café") == [1])
    }

    @Test func unsupportedFilesAreRefused() {
        #expect(throws: TokenizerError.self) { try WordPieceTokenizer(json: Data("{}".utf8)) }
        #expect(throws: TokenizerError.self) { try WordPieceTokenizer(json: Data(#"{"model":{"type":"BPE","vocab":{"a":0}}}"#.utf8)) }
        #expect(throws: TokenizerError.self) { try WordPieceTokenizer(json: Self.json(normalizer: #"{"type":"NFKC"}"#)) }
        #expect(throws: TokenizerError.self) { try WordPieceTokenizer(tokenizerJSON: "/nonexistent/tokenizer.json") }
    }
}
