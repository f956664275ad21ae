import Testing
@testable import NimbusBench

@Suite("ServerSentEventParser")
struct ServerSentEventParserTests {
    /// Feeds `stream` in pieces cut at `cuts` and returns every event, the final flush included.
    private func parse(_ stream: String, cuts: [Int] = []) -> [ServerSentEvent] {
        let bytes = Array(stream.utf8)
        var parser = ServerSentEventParser()
        var events: [ServerSentEvent] = []
        var start = 0
        for cut in cuts + [bytes.count] {
            events += parser.consume(bytes[start..<cut])
            start = cut
        }
        if let last = parser.finish() { events.append(last) }
        return events
    }

    @Test func openAIStreamGivesOneEventPerDataLine() {
        let stream = "data: {\"a\":1}\n\ndata: {\"a\":2}\n\ndata: [DONE]\n\n"
        #expect(parse(stream).map(\.data) == ["{\"a\":1}", "{\"a\":2}", "[DONE]"])
    }

    @Test func everySplitPointGivesTheSameEvents() {
        let stream = "data: {\"text\":\"héllo\"}\r\n\r\n: ping\r\ndata: second\r\n\r\ndata: [DONE]\r\n\r\n"
        let whole = parse(stream)
        #expect(whole.map(\.data) == ["{\"text\":\"héllo\"}", "second", "[DONE]"])
        // Every single cut, including inside CRLF and inside the two bytes of "é".
        for cut in 1..<stream.utf8.count {
            #expect(parse(stream, cuts: [cut]) == whole, "cut at byte \(cut)")
        }
        // One byte at a time.
        #expect(parse(stream, cuts: Array(1..<stream.utf8.count)) == whole)
    }

    @Test func multiLineDataIsJoinedWithNewlines() {
        #expect(parse("data: first\ndata: second\ndata:third\n\n").map(\.data) == ["first\nsecond\nthird"])
    }

    @Test func commentsAndUnknownFieldsAreIgnored() {
        let stream = ": ping - 2024-01-01\n\nid: 7\nretry: 100\nfoo: bar\ndata: x\n\n"
        #expect(parse(stream) == [ServerSentEvent(data: "x")])
    }

    @Test func eventTypeIsKeptAndReset() {
        let events = parse("event: error\ndata: {\"error\":{}}\n\ndata: plain\n\n")
        #expect(events == [ServerSentEvent(event: "error", data: "{\"error\":{}}"), ServerSentEvent(data: "plain")])
    }

    @Test func lineEndingsMayBeCarriageReturnsAlone() {
        #expect(parse("data: a\r\rdata: b\r\r").map(\.data) == ["a", "b"])
    }

    @Test func onlyOneSpaceAfterTheColonIsDropped() {
        #expect(parse("data:  two spaces\n\ndata:none\n\n").map(\.data) == [" two spaces", "none"])
    }

    @Test func blankLinesWithoutDataDispatchNothing() {
        #expect(parse("\n\n\r\n: comment\n\n").isEmpty)
    }

    @Test func emptyDataLineIsAnEmptyEvent() {
        #expect(parse("data:\n\n").map(\.data) == [""])
    }

    @Test func eventWithoutClosingBlankLineComesOutAtFinish() {
        var parser = ServerSentEventParser()
        #expect(parser.consume(Array("data: {\"usage\":1}".utf8)).isEmpty)
        #expect(parser.finish()?.data == "{\"usage\":1}")
        #expect(parser.finish() == nil)
    }
}
