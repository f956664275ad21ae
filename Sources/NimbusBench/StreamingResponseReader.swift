import Foundation

/// Turns the parts of one streamed HTTP response into a `RequestRecord`: a state machine fed
/// by the HTTP client, with arrival times passed in, so it is tested without a network.
struct StreamingResponseReader {
    /// Most error-body bytes kept: enough for any error message, bounded for a broken server.
    private static let errorBodyLimit = 16 * 1024

    private var status: Int?
    private var parser = ServerSentEventParser()
    private var errorBody: [UInt8] = []
    private var sawDone = false
    private let decoder = JSONDecoder()
    private(set) var record = RequestRecord(contentArrivals: [], latency: 0)

    /// The response's status line and headers arrived.
    /// - Throws: `BenchError.malformedResponse` for a 200 that is not an event stream (a server
    ///   that ignored `stream: true`).
    mutating func receiveHead(status: Int, contentType: String?) throws {
        self.status = status
        if status == 200, let contentType, !contentType.lowercased().hasPrefix("text/event-stream") {
            throw BenchError.malformedResponse("expected text/event-stream, got \(contentType)")
        }
    }

    /// The next piece of the body arrived `time` seconds after the request was sent.
    /// - Throws: `BenchError.streamError` for an error event, `.malformedResponse` for an
    ///   event that is not JSON.
    mutating func receiveBody(_ bytes: some Collection<UInt8>, at time: Double) throws {
        guard status == 200 else {
            errorBody.append(contentsOf: bytes.prefix(Self.errorBodyLimit - errorBody.count))
            return
        }
        for event in parser.consume(bytes) { try handle(event, at: time) }
    }

    /// The response ended `time` seconds after the request was sent.
    /// - Returns: The finished record.
    /// - Throws: `BenchError.httpStatus` for a status other than 200, and the errors of
    ///   `receiveBody` for a last event without its closing blank line.
    mutating func finish(at time: Double) throws -> RequestRecord {
        record.latency = time
        guard let status else { throw BenchError.incompleteResponse(nil) }
        guard status == 200 else {
            throw BenchError.httpStatus(code: status, message: ErrorBody.message(in: errorBody))
        }
        if let event = parser.finish() { try handle(event, at: time) }
        return record
    }

    private mutating func handle(_ event: ServerSentEvent, at time: Double) throws {
        if event.data == "[DONE]" {
            sawDone = true
            return
        }
        guard !sawDone else { return }  // nothing after [DONE] is part of the response
        let chunk: StreamChunk
        do {
            chunk = try decoder.decode(StreamChunk.self, from: Data(event.data.utf8))
        } catch {
            throw BenchError.malformedResponse("an event is not a JSON chunk: \(event.data.prefix(200))")
        }
        if let error = chunk.error {
            throw BenchError.streamError(error.message ?? event.data)
        }
        if !chunk.content.isEmpty { record.contentArrivals.append(time) }
        if let usage = chunk.usage {
            record.promptTokens = usage.promptTokens ?? record.promptTokens
            record.completionTokens = usage.completionTokens ?? record.completionTokens
        }
    }
}
