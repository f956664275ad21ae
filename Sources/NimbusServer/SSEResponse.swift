import Hummingbird
import NimbusAPI

/// A server-sent-event response: `data: {json}` events, an error event if generation fails
/// midway (the status line is long gone by then), and always `data: [DONE]` at the end.
///
/// When the client goes away, the next write throws, the loop ends, and the generation stream
/// is dropped, which cancels the request in the engine.
enum SSEResponse {
    typealias Send = (any Encodable & Sendable) async throws -> Void

    static func make(_ produce: @escaping @Sendable (Send) async throws -> Void) -> Response {
        let headers: HTTPFields = [.contentType: "text/event-stream", .cacheControl: "no-cache"]
        return Response(status: .ok, headers: headers, body: ResponseBody { writer in
            do {
                try await produce { value in
                    try await writer.write(ByteBuffer(bytes: try ServerSentEvents.eventBytes(value)))
                }
            } catch let error as APIError {
                try await writer.write(ByteBuffer(bytes: try ServerSentEvents.eventBytes(error)))
            } catch is CancellationError {
                return
            } catch {
                try await writer.write(ByteBuffer(bytes: try ServerSentEvents.eventBytes(APIError.serverError("\(error)"))))
            }
            try await writer.write(ByteBuffer(bytes: ServerSentEvents.doneBytes))
            try await writer.finish(nil)
        })
    }
}
