import Hummingbird
import HummingbirdCore
import Logging
import NIOCore

/// What one HTTP/1.1 connection may cost the server: how long it may stall and how large its
/// request head may be. A client that dribbles its head or body, idles on a kept-alive
/// connection, or stops reading a streamed answer loses its connection after the read timeout,
/// so it cannot hold a task, a file descriptor or (through the engine's stream backlog) KV blocks.
enum HTTPConnectionLimits {
    /// Most header fields, and most bytes in all of them (names and values), in one request head.
    /// Far above what OpenAI clients send (a dozen fields, a bearer key); a larger head fails
    /// the HTTP decoder, which Hummingbird answers with 400 and a closed connection.
    static let maxHeaderCount = 100
    static let maxHeaderBytes = 32 << 10

    static func channelConfiguration(readTimeout: Duration, logger: Logger) -> HTTP1Channel.Configuration {
        let timeout = TimeAmount.nanoseconds(Int64(readTimeout.components.seconds) * 1_000_000_000
                                             + readTimeout.components.attoseconds / 1_000_000_000)
        let decoder = HTTP1Channel.Configuration.DecoderConfiguration(
            maxHeaderFieldSize: maxHeaderBytes, maxHeaderListSize: maxHeaderBytes, maxHeaderFieldCount: maxHeaderCount)
        // Hummingbird's idle timeout restarts on every request part read and after every answer:
        // it is the read timeout for heads, body chunks and kept-alive gaps alike.
        return HTTP1Channel.Configuration(
            additionalChannelHandlers: [ClientDisconnectHandler(), WriteStallHandler(timeout: timeout, logger: logger)],
            idleTimeout: timeout, httpDecoderConfiguration: decoder)
    }
}

/// Closes a connection whose client has left the server's output unread for the read timeout.
///
/// The response writer suspends while the channel is unwritable (its outbound buffer is over the
/// high-water mark), so a client that stops reading a stream would park its handler forever.
/// The engine already dropped the request once its backlog filled (NIMBUS_STREAM_BACKLOG); this
/// frees the connection and the handler's task. The clock restarts whenever the channel drains
/// back below the low-water mark, so a slow but steady reader is never cut.
final class WriteStallHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny

    private let timeout: TimeAmount
    private let logger: Logger
    private var timer: Scheduled<Void>?

    init(timeout: TimeAmount, logger: Logger) {
        self.timeout = timeout
        self.logger = logger
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable {
            timer?.cancel()
            timer = nil
        } else if timer == nil {
            let channel = context.channel, seconds = Double(timeout.nanoseconds) / 1e9, logger = self.logger
            timer = context.eventLoop.scheduleTask(in: timeout) {
                logger.warning("closing a connection whose client left its answer unread", metadata: [
                    "peer": "\(channel.remoteAddress.map { "\($0)" } ?? "unknown")", "stalled_seconds": "\(seconds)",
                ])
                channel.close(promise: nil)
            }
        }
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        context.fireChannelInactive()
    }
}
