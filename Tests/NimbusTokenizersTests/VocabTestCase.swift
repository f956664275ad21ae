import Foundation
import Testing

/// One input of llama.cpp's own tokenizer tests and llama.cpp's ids for it: the files
/// `models/ggml-vocab-NAME.gguf.inp` and `.out` that `tests/test-tokenizer-0` checks (no BOS,
/// special tokens not parsed). Fixtures/README.md says where the copies here come from.
struct VocabTestCase {
    let text: String
    let ids: [Int]

    /// Reads `name.gguf.inp` and `name.gguf.out` as test-tokenizer-0 does: inputs separated by
    /// lines `__ggml_vocab_test__`, one line of space-separated ids per input.
    static func load(_ name: String) throws -> [VocabTestCase] {
        let input = try String(contentsOfFile: Fixtures.path(name, "gguf.inp"), encoding: .utf8)
        let output = try String(contentsOfFile: Fixtures.path(name, "gguf.out"), encoding: .utf8)
        var texts = input.components(separatedBy: "\n__ggml_vocab_test__\n")
        if texts.last == "" { texts.removeLast() }  // the file ends with a separator
        var lines = output.components(separatedBy: "\n")
        if lines.last == "" { lines.removeLast() }
        guard texts.count == lines.count else {
            throw FixtureError("\(name): \(texts.count) inputs but \(lines.count) outputs")
        }
        return try zip(texts, lines).map { text, line in
            let ids = try line.split(separator: " ").map { field in
                guard let id = Int(field) else { throw FixtureError("\(name): bad id '\(field)'") }
                return id
            }
            return VocabTestCase(text: text, ids: ids)
        }
    }

    /// Records an issue for every case whose `encode` differs from llama.cpp's ids (no BOS,
    /// special tokens not parsed, as test-tokenizer-0) and returns how many did.
    static func recordMismatches(_ cases: [VocabTestCase], fixture: String, encode: (String) -> [Int]) -> Int {
        var failures = 0
        for c in cases {
            let got = encode(c.text)
            if got != c.ids {
                failures += 1
                Issue.record("\(fixture) \(c.text.debugDescription)\n expected \(c.ids)\n got      \(got)")
            }
        }
        return failures
    }
}
