import Testing
@testable import NimbusServer

struct ToolJSONScannerTests {
    /// Feeds the text; returns the status and how many bytes were fed until it was decided.
    func scan(_ text: String) -> (ToolJSONScanner.Status, fed: Int, events: [ToolJSONScanner.Event]) {
        var scanner = ToolJSONScanner()
        var events: [ToolJSONScanner.Event] = []
        var fed = 0
        for b in text.utf8 where scanner.status == .incomplete {
            scanner.consume(b) { events.append($0) }
            fed += 1
        }
        return (scanner.status, fed, events)
    }

    static let valid = [
        "{}", "[]", " { } ", "[1, -0, 0.5, -12.5e+3, 1E-2, 0e0, true, false, null]",
        #"{"a": {"b": [{"c": "d"}]}, "e": []}"#,
        #"{"s": "quote \" backslash \\ slash \/ controls \b\f\n\r\t unicode \u00e9\uD83D\uDE00"}"#,
        #"{"braces": "}{][", "nested": "<tool_call>"}"#,
        "{\"raw\": \"é 日本 🎉\"}",
        "[[[[[[[[[[]]]]]]]]]]",
    ]

    @Test(arguments: valid)
    func validValuesCompleteExactlyAtTheirEnd(_ text: String) {
        let trimmedCount = text.utf8.count - text.utf8.reversed().prefix(while: { $0 == 0x20 }).count
        let (status, fed, _) = scan(text)
        #expect(status == .complete)
        #expect(fed == trimmedCount)
        let bytes = Array(text.utf8)
        for n in 0..<trimmedCount {
            var scanner = ToolJSONScanner()
            for b in bytes[..<n] { scanner.consume(b) { _ in } }
            #expect(scanner.status == .incomplete, "prefix \(n) of \(text)")
        }
    }

    /// Each invalid text with the length of its longest prefix that could still become valid.
    static let invalid: [(String, Int)] = [
        ("x", 0), ("\"top\"", 0), ("12", 0), ("{\"a\" 1}", 5), ("{\"a\": 01}", 7), ("{\"a\": 1.}", 8),
        ("{\"a\": -}", 7), ("{\"a\": tru}", 9), ("{\"a\": nul1}", 9), ("[1,]", 3), ("{\"a\": 1,}", 8),
        ("{,}", 1), ("[1 2]", 3), ("{\"a\": \"\\x\"}", 8), ("{\"a\": \"\\u12G4\"}", 11), ("{\"a\": \"line\nbreak\"}", 11),
        ("[}", 1), ("{]", 1), ("{'a': 1}", 1), ("[NaN]", 1), ("{\"é\": é}", 7),
    ]

    @Test(arguments: invalid)
    func invalidTextIsRejectedOnTheFirstBadByte(_ text: String, _ goodPrefix: Int) {
        let (status, fed, _) = scan(text)
        #expect(status == .invalid)
        #expect(fed == goodPrefix + 1)
    }

    @Test func eventsGiveDepthsKeysAndValueExtents() {
        let text = #"{"name": "f", "arguments": {"x": [1, 22]}}"#
        let (status, _, events) = scan(text)
        #expect(status == .complete)
        #expect(events == [
            .valueStart(depth: 0, at: 0, byte: UInt8(ascii: "{")),
            .keyEnd(depth: 1, start: 1, end: 7),
            .valueStart(depth: 1, at: 9, byte: UInt8(ascii: "\"")),
            .valueEnd(depth: 1, end: 12),
            .keyEnd(depth: 1, start: 14, end: 25),
            .valueStart(depth: 1, at: 27, byte: UInt8(ascii: "{")),
            .keyEnd(depth: 2, start: 28, end: 31),
            .valueStart(depth: 2, at: 33, byte: UInt8(ascii: "[")),
            .valueStart(depth: 3, at: 34, byte: UInt8(ascii: "1")),
            .valueEnd(depth: 3, end: 35),
            .valueStart(depth: 3, at: 37, byte: UInt8(ascii: "2")),
            .valueEnd(depth: 3, end: 39),
            .valueEnd(depth: 2, end: 40),
            .valueEnd(depth: 1, end: 41),
            .valueEnd(depth: 0, end: 42),
        ])
    }

    @Test func stringsDecode() {
        func decode(_ literal: String) -> String { ToolJSONScanner.decodeString(Array(literal.utf8)[...]) }
        #expect(decode(#""get_weather""#) == "get_weather")
        #expect(decode(#""a\"b\\c\/d\n\t""#) == "a\"b\\c/d\n\t")
        #expect(decode(#""\u00e9\uD83D\uDE00 ü""#) == "é😀 ü")
        #expect(decode(#""\uD83D alone""#) == "\u{FFFD} alone")
        #expect(decode(#""""#) == "")
    }
}
