import Testing
@testable import NimbusBench

@Suite("StreamingResponseReader")
struct StreamingResponseReaderTests {
    private func event(_ json: String) -> [UInt8] { Array("data: \(json)\n\n".utf8) }

    @Test func chatStreamTimesContentChunksOnlyAndTakesUsage() throws {
        var reader = StreamingResponseReader()
        try reader.receiveHead(status: 200, contentType: "text/event-stream; charset=utf-8")
        try reader.receiveBody(event(#"{"choices":[{"index":0,"delta":{"role":"assistant"}}],"usage":null}"#), at: 0.1)
        try reader.receiveBody(event(#"{"choices":[{"index":0,"delta":{"content":"Hel"}}],"usage":null}"#), at: 0.25)
        try reader.receiveBody(event(#"{"choices":[{"index":0,"delta":{"content":""}}]}"#), at: 0.3)
        try reader.receiveBody(event(#"{"choices":[{"index":0,"delta":{"content":"lo"},"finish_reason":"length"}]}"#), at: 0.4)
        try reader.receiveBody(event(#"{"choices":[],"usage":{"prompt_tokens":12,"completion_tokens":2,"total_tokens":14}}"#) + Array("data: [DONE]\n\n".utf8), at: 0.45)
        let record = try reader.finish(at: 0.5)
        #expect(record.contentArrivals == [0.25, 0.4])
        #expect(record.promptTokens == 12)
        #expect(record.completionTokens == 2)
        #expect(record.latency == 0.5)
        #expect(record.failure == nil)
    }

    @Test func completionsStreamWithoutUsageCountsChunks() throws {
        var reader = StreamingResponseReader()
        try reader.receiveHead(status: 200, contentType: "text/event-stream")
        // One body piece ending in the middle of an event: its time is when it completes.
        let stream = event(#"{"choices":[{"text":" a"}]}"#) + event(#"{"choices":[{"text":" b"}]}"#)
        try reader.receiveBody(stream.prefix(20), at: 1.0)
        try reader.receiveBody(stream.dropFirst(20), at: 2.0)
        let record = try reader.finish(at: 2.5)
        #expect(record.contentArrivals == [2.0, 2.0])
        #expect(record.promptTokens == nil)
        #expect(record.outputTokens == 2)
    }

    @Test func errorStatusCarriesTheServersMessage() throws {
        var reader = StreamingResponseReader()
        try reader.receiveHead(status: 404, contentType: "application/json")
        try reader.receiveBody(Array(#"{"error":{"message":"The model 'x' does not exist.","type":"not_found_error"}}"#.utf8), at: 0.01)
        #expect(throws: BenchError.httpStatus(code: 404, message: "The model 'x' does not exist.")) {
            _ = try reader.finish(at: 0.02)
        }
    }

    @Test func fastAPIValidationDetailIsReadable() {
        let body = #"{"detail":[{"loc":["body","max_tokens"],"msg":"Input should be a valid integer","type":"int_parsing"}]}"#
        #expect(ErrorBody.message(in: Array(body.utf8)) == "Input should be a valid integer")
        #expect(ErrorBody.message(in: Array(#"{"detail":"Not Found"}"#.utf8)) == "Not Found")
        #expect(ErrorBody.message(in: Array("Bad Gateway\n".utf8)) == "Bad Gateway")
        #expect(ErrorBody.message(in: []) == "(empty body)")
    }

    @Test func jsonInsteadOfAStreamIsRefused() {
        var reader = StreamingResponseReader()
        #expect(throws: BenchError.malformedResponse("expected text/event-stream, got application/json")) {
            try reader.receiveHead(status: 200, contentType: "application/json")
        }
    }

    @Test func errorEventMidStreamFailsTheRequest() throws {
        var reader = StreamingResponseReader()
        try reader.receiveHead(status: 200, contentType: "text/event-stream")
        try reader.receiveBody(event(#"{"choices":[{"delta":{"content":"a"}}]}"#), at: 0.1)
        #expect(throws: BenchError.streamError("out of memory")) {
            try reader.receiveBody(event(#"{"error":{"message":"out of memory","type":"server_error"}}"#), at: 0.2)
        }
        #expect(reader.record.contentArrivals == [0.1])
    }

    @Test func eventThatIsNotJSONIsMalformed() throws {
        var reader = StreamingResponseReader()
        try reader.receiveHead(status: 200, contentType: "text/event-stream")
        #expect(throws: BenchError.self) { try reader.receiveBody(event("not json"), at: 0.1) }
    }

    @Test func eventsAfterDoneAreIgnored() throws {
        var reader = StreamingResponseReader()
        try reader.receiveHead(status: 200, contentType: "text/event-stream")
        try reader.receiveBody(Array("data: [DONE]\n\n".utf8) + event(#"{"choices":[{"text":"late"}]}"#), at: 0.1)
        #expect(try reader.finish(at: 0.2).contentArrivals.isEmpty)
    }

    @Test func responseWithoutHeadIsIncomplete() {
        var reader = StreamingResponseReader()
        #expect(throws: BenchError.incompleteResponse(nil)) { _ = try reader.finish(at: 1) }
    }
}
