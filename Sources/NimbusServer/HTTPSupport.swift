import Foundation
import Hummingbird
import Logging
import NimbusAPI

/// A JSON response encoded with the API's shared encoder.
func JSONResponse(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws(APIError) -> Response {
    let data = try APIJSON.encode(value)
    return Response(status: status, headers: [.contentType: "application/json"],
                    body: .init(byteBuffer: ByteBuffer(bytes: data)))
}

enum RequestBody {
    /// The whole body, or a 413 in OpenAI's error shape when it is larger than the limit.
    /// Logged at DEBUG only: bodies hold prompts, which never reach the INFO log.
    static func read(_ request: Request, context: some RequestContext) async throws -> Data {
        var request = request
        let limit = (context as? NimbusRequestContext)?.maxBodyBytes ?? NimbusServer.maxBodyBytes
        do {
            let buffer = try await request.collectBody(upTo: limit)
            let body = Data(buffer.readableBytesView)
            (context as? NimbusRequestContext)?.record?.logger.debug("request body", metadata: [
                "body": "\(String(decoding: body, as: UTF8.self))",
            ])
            return body
        } catch let error as any HTTPResponseError where error.status == .contentTooLarge {
            // NIO reports an oversized body as NIOTooManyBytesError, which Hummingbird maps to 413.
            throw APIError(status: 413, message: "request body is larger than \(limit) bytes (NIM_MAX_REQUEST_SIZE)",
                           type: "invalid_request_error", code: "request_too_large")
        }
    }
}

extension APIError {
    /// The error as an HTTP response with OpenAI's body.
    var response: Response {
        var headers: HTTPFields = [.contentType: "application/json"]
        if status == 429 { headers[.retryAfter] = "1" }
        return Response(status: .init(code: status), headers: headers,
                        body: .init(byteBuffer: ByteBuffer(bytes: jsonBody)))
    }
}

/// Turns every error into OpenAI's error body: an `APIError` as it is, Hummingbird's own HTTP
/// errors (404 for unknown routes, 405...) with their status, anything else as a logged 500.
struct APIErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    let logger: Logger

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            return error.response
        } catch let error as HTTPError {
            let message = error.body ?? "\(request.method) \(request.uri.path): \(error.status.reasonPhrase)"
            let type = error.status.code == 404 ? "not_found_error" : "invalid_request_error"
            return APIError(status: Int(error.status.code), message: message, type: type).response
        } catch {
            logger.error("unhandled error", metadata: ["path": "\(request.uri.path)", "error": "\(error)"])
            return APIError.serverError().response
        }
    }
}
