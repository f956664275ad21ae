import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// A minimal HTTP/1.1 client over SwiftNIO: one request per TCP connection, the response handed
/// over piece by piece as it arrives, so streamed tokens are timed when they land.
///
/// A fresh connection per request keeps requests independent (no head-of-line blocking, no
/// stale keep-alive state) at the cost of one loopback handshake, well under a millisecond.
/// Plain `http://` only.
struct HTTPClient: Sendable {
    /// A piece of the response, in the order it arrives.
    enum ResponsePart {
        case head(status: Int, contentType: String?)
        case body(ByteBuffer)
    }

    let address: ServerAddress
    let apiKey: String?
    var group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton

    /// Sends one request and passes each part of the response to `receive` until it ends.
    /// - Parameters:
    ///   - method: `GET` or `POST`.
    ///   - path: An API path such as `/v1/models`; the address's path prefix goes in front.
    ///   - body: A JSON body, or `nil` for none.
    ///   - timeout: The longest the whole exchange may take, connecting included.
    ///   - receive: Called for the head and each body piece, on the calling task.
    /// - Throws: `BenchError.connectionFailed`, `.timedOut`, `.incompleteResponse`, or what
    ///   `receive` throws (which closes the connection).
    func exchange(
        method: HTTPMethod, path: String, body: [UInt8]?, timeout: Duration,
        receive: (ResponsePart) throws -> Void
    ) async throws {
        let deadline = NIODeadline.now() + TimeAmount(timeout)
        let channel = try await connect(deadline: deadline)
        // Closing the channel at the deadline ends the read loop below, wherever it is waiting.
        let timer = channel.channel.eventLoop.scheduleTask(deadline: deadline) {
            channel.channel.close(promise: nil)
        }
        defer { timer.cancel() }
        let timedOut = { NIODeadline.now() >= deadline }
        do {
            try await channel.executeThenClose { inbound, outbound in
                // One write, one flush: a server may answer (and close) as soon as the head is
                // in, and a later separate write would then fail a request that succeeded.
                var request: [HTTPClientRequestPart] = [.head(requestHead(method: method, path: path, bodyLength: body?.count))]
                if let body { request.append(.body(.byteBuffer(ByteBuffer(bytes: body)))) }
                request.append(.end(nil))
                try await outbound.write(contentsOf: request)
                for try await part in inbound {
                    switch part {
                    case .head(let head):
                        try receive(.head(status: Int(head.status.code), contentType: head.headers.first(name: "content-type")))
                    case .body(let buffer):
                        try receive(.body(buffer))
                    case .end:
                        return
                    }
                }
                throw timedOut() ? BenchError.timedOut(seconds: timeout.seconds) : BenchError.incompleteResponse(nil)
            }
        } catch let error as BenchError {
            throw error
        } catch {
            // A read or write failed on a connection we closed at the deadline, or one the
            // server reset.
            throw timedOut() ? BenchError.timedOut(seconds: timeout.seconds) : BenchError.incompleteResponse("\(error)")
        }
    }

    private func requestHead(method: HTTPMethod, path: String, bodyLength: Int?) -> HTTPRequestHead {
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: address.hostHeader)
        headers.add(name: "User-Agent", value: "nimbus-bench")
        headers.add(name: "Accept", value: "application/json, text/event-stream")
        headers.add(name: "Connection", value: "close")
        if let apiKey { headers.add(name: "Authorization", value: "Bearer \(apiKey)") }
        if let bodyLength {
            headers.add(name: "Content-Type", value: "application/json")
            headers.add(name: "Content-Length", value: String(bodyLength))
        }
        return HTTPRequestHead(version: .http1_1, method: method, uri: address.target(path), headers: headers)
    }

    private func connect(deadline: NIODeadline) async throws -> NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart> {
        let remaining = deadline - NIODeadline.now()
        guard remaining > .zero else { throw BenchError.connectionFailed("\(address): no time left to connect") }
        do {
            return try await ClientBootstrap(group: group)
                .connectTimeout(remaining)
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .connect(host: address.host, port: address.port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHTTPClientHandlers()
                        return try NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>(
                            wrappingChannelSynchronously: channel)
                    }
                }
        } catch {
            throw BenchError.connectionFailed("\(address): \(Self.describe(connectError: error))")
        }
    }

    /// A short reason for a failed connect ("Connection refused"), not NIO's full error dump.
    static func describe(connectError error: any Error) -> String {
        if let failure = error as? NIOConnectionError {
            if let first = failure.connectionErrors.first { return describe(connectError: first.error) }
            if let dns = failure.dnsAError ?? failure.dnsAAAAError { return "cannot resolve host (\(dns))" }
        }
        if let io = error as? IOError { return String(cString: strerror(io.errnoCode)) }
        if case ChannelError.connectTimeout = error { return "connect timed out" }
        return String(describing: error)
    }
}

extension TimeAmount {
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        self = .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}

extension Duration {
    /// The duration in seconds, as reports print it.
    var seconds: Double {
        // Dividing (not multiplying by 1e-18) keeps round values round: 300 ms is 0.3 s.
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
