import Testing
import NimbusTokenizers

/// The hand-written splitters against llama.cpp's regex lists applied with Python's `regex`
/// module (scripts/fixtures/gen_tokenizer_fixtures.py).
@Suite struct PreTokenizerTests {
    struct SplitsFixture: Decodable {
        struct Case: Decodable {
            let name: String
            let text: String
            let splits: [String: [String]]
        }
        let cases: [Case]
    }

    static let names = ["smollm", "gpt-2", "llama-bpe", "qwen2", "default"]

    @Test(arguments: names)
    func splitsMatchRegexReference(pre: String) throws {
        let fixture = try Fixtures.decode(SplitsFixture.self, from: "pretokenizer_splits")
        let splitter = try PreTokenizer(name: pre)
        var mismatches = 0
        for c in fixture.cases {
            let expected = try #require(c.splits[pre], "fixture lacks \(pre) for \(c.name)")
            let got = splitter.split(c.text)
            if got != expected {
                mismatches += 1
                if mismatches <= 5 {
                    Issue.record("""
                        \(pre) \(c.name): \(c.text.debugDescription)
                         expected \(expected.map(\.debugDescription))
                         got      \(got.map(\.debugDescription))
                        """)
                }
            }
        }
        #expect(mismatches == 0, "\(mismatches) of \(fixture.cases.count) cases differ for \(pre)")
        #expect(fixture.cases.count > 100)
    }

    @Test func unknownPreTokenizerThrows() {
        #expect(throws: TokenizerError.unknownPreTokenizer("no-such-pre")) { try PreTokenizer(name: "no-such-pre") }
    }

    /// The message for an unknown type lists what is supported: the names this file tests (one
    /// per llama.cpp group and more) are all listed.
    @Test func unknownPreTokenizerListsTheSupportedOnes() throws {
        let message = TokenizerError.unknownPreTokenizer("no-such-pre").description
        let prefix = "unknown pre-tokenizer type 'no-such-pre' (tokenizer.ggml.pre; supported: "
        try #require(message.hasPrefix(prefix) && message.hasSuffix(")"), "\(message)")
        #expect(!message.contains("\n"))
        let listed = message.dropFirst(prefix.count).dropLast().components(separatedBy: ", ")
        #expect(listed.count > 40)
        for name in Self.names + ["llama3", "dbrx", "starcoder", "mpt"] {
            #expect(listed.contains(name), "'\(name)' is accepted but not listed")
        }
    }

    @Test func piecesJoinToText() throws {
        let text = "Hello,  world!\n\n\t12345 \u{1F468}\u{200D}\u{1F469} caf\u{0065}\u{0301}  "
        for pre in Self.names {
            #expect(try PreTokenizer(name: pre).split(text).joined() == text)
        }
    }
}
