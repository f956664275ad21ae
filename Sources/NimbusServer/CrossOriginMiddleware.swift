import HTTPTypes
import Hummingbird
import NimbusAPI

/// Applies a `CORSPolicy`: answers preflights itself (before the API key is checked: browsers
/// never send credentials on a preflight) and marks every answer to an allowed origin, errors
/// included, so a browser script can read a 401 or 429 body.
///
/// Hummingbird's own `CORSMiddleware` takes a fixed origin list only as variadic arguments and
/// never refuses a preflight; this one follows the three NIM_CORS_* variables.
struct CrossOriginMiddleware<Context: RequestContext>: RouterMiddleware {
    let policy: CORSPolicy

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let origin = request.headers[.origin] else { return try await next(request, context) }
        if request.method == .options, let asked = request.headers[.accessControlRequestMethod] {
            switch policy.preflight(origin: origin, requestMethod: asked, requestHeaders: request.headers[.accessControlRequestHeaders]) {
            case .allowed(let fields):
                // The answer echoes what was asked, so a shared cache must key it on the asking too.
                var headers: HTTPFields = [.vary: "Origin, Access-Control-Request-Method, Access-Control-Request-Headers"]
                for (name, value) in fields.sorted(by: { $0.key < $1.key }) {
                    if let field = HTTPField.Name(name) { headers[field] = value }
                }
                return Response(status: .noContent, headers: headers)
            case .refused(let reason):
                return APIError(status: 403, message: "CORS preflight refused: \(reason)", type: "invalid_request_error",
                                code: "cors_not_allowed").response
            }
        }
        var response = try await next(request, context)
        if let allowed = policy.allowOrigin(origin) {
            response.headers[.accessControlAllowOrigin] = allowed
            response.headers[.accessControlExposeHeaders] = CORSPolicy.exposedHeaders
        }
        if policy.variesByOrigin { response.headers[values: .vary].append("Origin") }
        return response
    }
}
