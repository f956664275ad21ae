import Hummingbird
import NIOCore

/// The request context of every route: Hummingbird's core context plus the connection, so a
/// handler can notice a client that went away while its answer was still being generated.
public struct NimbusRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The client's connection; closed once the client has gone (see `ClientDisconnectHandler`).
    public let channel: (any Channel)?
    /// This request's id and token counts, set by `RequestObservabilityMiddleware`.
    var record: RequestRecord?
    /// Largest request body accepted (NIM_MAX_REQUEST_SIZE), set by `ShutdownGateMiddleware`.
    var maxBodyBytes = NimbusServer.maxBodyBytes

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }
}

/// Closes a connection as soon as the client closes its side of it.
///
/// Hummingbird allows half-closed connections, so a client that hangs up while its request is
/// still generating would otherwise go unnoticed until the answer is written. HTTP/1.1 clients
/// do not half-close while they wait for a response; a closed input means the client is gone,
/// and closing the channel tells the handler (through `closeFuture`) to cancel the generation.
final class ClientDisconnectHandler: ChannelInboundHandler, RemovableChannelHandler, Sendable {
    typealias InboundIn = NIOAny

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, event == .inputClosed {
            context.close(promise: nil)
        }
        context.fireUserInboundEventTriggered(event)
    }
}

enum ClientConnection {
    /// Runs `work` in a task that is cancelled if `channel` closes first (the client went away);
    /// cancelling it ends the generation stream it iterates, which cancels the request.
    static func cancellingOnClose<T: Sendable>(_ channel: (any Channel)?,
                                               _ work: @escaping @Sendable () async throws -> T) async throws -> T {
        let task = Task { try await work() }
        channel?.closeFuture.whenComplete { _ in task.cancel() }
        return try await withTaskCancellationHandler {
            try await task.value
        } onCancel: {
            task.cancel()
        }
    }
}
