import Hummingbird
import NimbusAPI

/// Counts each request as in flight until its last byte is written (a stream's too), and once
/// the server is draining answers new ones 503 with OpenAI's error body. Health probes pass
/// untouched: liveness stays 200 and readiness answers 503 on its own.
///
/// It also hands the request body limit (NIM_MAX_REQUEST_SIZE) to the handlers through the
/// context, since every request passes here.
struct ShutdownGateMiddleware: RouterMiddleware {
    typealias Context = NimbusRequestContext
    let coordinator: ShutdownCoordinator
    let maxBodyBytes: Int

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        context.maxBodyBytes = maxBodyBytes
        if HealthProbes.paths.contains(request.uri.path) { return try await next(request, context) }
        guard let id = coordinator.admit(context.channel) else {
            // Closing the connection sends a keep-alive client (or a proxy's pooled connection)
            // to another replica instead of back to this draining one.
            var refusal = APIError.serviceUnavailable("The server is shutting down and takes no new requests; retry on another replica.").response
            refusal.headers[.connection] = "close"
            refusal.headers[.retryAfter] = "1"
            return refusal
        }
        let response: Response
        do {
            response = try await next(request, context)
        } catch {
            coordinator.finish(id)
            throw error
        }
        var counted = response
        let body = response.body
        counted.body = ResponseBody(contentLength: body.contentLength) { writer in
            defer { coordinator.finish(id) }
            try await body.write(writer)
        }
        return counted
    }
}
