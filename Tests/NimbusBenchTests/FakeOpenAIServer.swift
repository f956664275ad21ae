import NIOCore
import NIOHTTP1
import NIOPosix

/// A tiny OpenAI-compatible server on loopback, so the HTTP client and load generator are
/// tested over real sockets without a model.
enum FakeOpenAIServer {
    /// How the fake answers completion requests (`GET /v1/models` always lists `fake-model`).
    enum Behavior: Sendable {
        /// A chat stream: a role chunk, `chunks` one-token content chunks `gap` apart, then
        /// usage (if `usage`) and `[DONE]`.
        case stream(chunks: Int, gap: Duration, usage: Bool)
        /// A plain response with this status and JSON body.
        case status(Int, body: String)
        /// Reads the request and never answers.
        case stall
    }

    struct ReceivedRequest: Sendable {
        var method: String
        var uri: String
        var authorization: String?
        var body: String
    }

    /// What the fake saw, and how many completion requests it was serving at most at once.
    actor Log {
        private(set) var requests: [ReceivedRequest] = []
        private(set) var mostInFlight = 0
        private var inFlight = 0

        func received(_ request: ReceivedRequest) { requests.append(request) }
        func started() {
            inFlight += 1
            mostInFlight = max(mostInFlight, inFlight)
        }
        func ended() { inFlight -= 1 }
    }

    /// Runs `body` with the port of a fake server that behaves as told; the server stops after.
    static func with<T: Sendable>(
        _ behavior: Behavior, _ body: @Sendable (_ port: Int, _ log: Log) async throws -> T
    ) async throws -> T {
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .bind(host: "127.0.0.1", port: 0) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    return try NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>(
                        wrappingChannelSynchronously: channel)
                }
            }
        let port = server.channel.localAddress?.port ?? 0
        let log = Log()
        return try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask {
                try await server.executeThenClose { connections in
                    try await withThrowingDiscardingTaskGroup { handlers in
                        for try await connection in connections {
                            handlers.addTask { try? await serve(connection, behavior, log) }
                        }
                    }
                }
                return nil
            }
            let result = try await body(port, log)
            group.cancelAll()
            return result
        }
    }

    private static func serve(
        _ connection: NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>, _ behavior: Behavior, _ log: Log
    ) async throws {
        try await connection.executeThenClose { inbound, outbound in
            var head: HTTPRequestHead?
            var body = ByteBuffer()
            for try await part in inbound {
                switch part {
                case .head(let received): head = received
                case .body(var piece): body.writeBuffer(&piece)
                case .end:
                    guard let head else { return }
                    await log.received(ReceivedRequest(
                        method: head.method.rawValue, uri: head.uri,
                        authorization: head.headers.first(name: "authorization"), body: String(buffer: body)))
                    if head.uri.hasSuffix("/v1/models") {
                        try await respond(outbound, status: .ok, body: #"{"object":"list","data":[{"id":"fake-model","object":"model"}]}"#)
                        return
                    }
                    await log.started()
                    try await answer(outbound, behavior, log)
                    return
                }
            }
        }
    }

    /// Answers a completion request; the log hears it ended before the client can see the end,
    /// so the client's next request never overlaps this one in `mostInFlight`.
    private static func answer(
        _ outbound: NIOAsyncChannelOutboundWriter<HTTPServerResponsePart>, _ behavior: Behavior, _ log: Log
    ) async throws {
        switch behavior {
        case .status(let code, let body):
            await log.ended()
            try await respond(outbound, status: HTTPResponseStatus(statusCode: code), body: body)
        case .stall:
            try await Task.sleep(for: .seconds(60))
        case .stream(let chunks, let gap, let usage):
            var headers = HTTPHeaders()
            headers.add(name: "Content-Type", value: "text/event-stream")
            try await outbound.write(.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers)))
            try await send(outbound, #"{"choices":[{"index":0,"delta":{"role":"assistant"}}]}"#)
            for index in 0..<chunks {
                try await Task.sleep(for: gap)
                try await send(outbound, #"{"choices":[{"index":0,"delta":{"content":" w\#(index)"}}]}"#)
            }
            if usage {
                try await send(outbound, #"{"choices":[],"usage":{"prompt_tokens":21,"completion_tokens":\#(chunks),"total_tokens":\#(21 + chunks)}}"#)
            }
            await log.ended()
            try await send(outbound, "[DONE]")
            try await outbound.write(.end(nil))
        }
    }

    private static func send(_ outbound: NIOAsyncChannelOutboundWriter<HTTPServerResponsePart>, _ data: String) async throws {
        try await outbound.write(.body(.byteBuffer(ByteBuffer(string: "data: \(data)\n\n"))))
    }

    private static func respond(
        _ outbound: NIOAsyncChannelOutboundWriter<HTTPServerResponsePart>, status: HTTPResponseStatus, body: String
    ) async throws {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/json")
        headers.add(name: "Content-Length", value: String(body.utf8.count))
        try await outbound.write(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers)))
        try await outbound.write(.body(.byteBuffer(ByteBuffer(string: body))))
        try await outbound.write(.end(nil))
    }
}
