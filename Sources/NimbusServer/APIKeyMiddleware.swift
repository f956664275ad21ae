import HTTPTypes
import Hummingbird
import NimbusAPI

/// The key clients must present as `Authorization: Bearer <key>` (NIM_API_KEY).
/// Not `Equatable` (a synthesized `==` stops at the first differing byte) and never printed.
public struct APIKey: Sendable, CustomStringConvertible, CustomReflectable {
    private let bytes: [UInt8]

    public var description: String { "APIKey(redacted)" }
    public var customMirror: Mirror { Mirror(self, children: [:]) }

    public init(_ key: String) {
        bytes = Array(key.utf8)
    }

    /// Whether an `Authorization` header value carries this key. The scheme is case-insensitive
    /// (RFC 9110); the comparison takes the same time wherever the first differing byte is.
    func accepts(authorization: String?) -> Bool {
        guard let token = Self.bearerToken(authorization) else { return false }
        return Self.constantTimeEquals(Array(token.utf8), bytes)
    }

    /// The token of `Bearer <token>`, or nil for a missing header or another scheme.
    static func bearerToken(_ header: String?) -> Substring? {
        guard let header else { return nil }
        let trimmed = header.drop(while: { $0 == " " })
        guard trimmed.count > 7, trimmed.prefix(7).lowercased() == "bearer " else { return nil }
        let token = trimmed.dropFirst(7).drop(while: { $0 == " " })
        return token.isEmpty ? nil : token
    }

    /// Compares every byte of `expected` whatever `given` holds, so the time taken depends only
    /// on the key's length, never on how much of it a guess got right.
    static func constantTimeEquals(_ given: [UInt8], _ expected: [UInt8]) -> Bool {
        var difference: UInt8 = given.count == expected.count ? 0 : 1
        for i in 0..<expected.count {
            let g = i < given.count ? given[i] : 0
            difference |= g ^ expected[i]
        }
        return difference == 0
    }
}

/// Routes a Kubernetes probe must reach without credentials: the kubelet sends none.
enum HealthProbes {
    static let paths: Set<String> = ["/v1/health/live", "/v1/health/ready"]
}

/// Refuses requests without the API key: 401 with OpenAI's error body (as OpenAI answers a
/// missing or wrong key) and `WWW-Authenticate: Bearer` (RFC 6750). Health probes are always
/// open; `/v1/metrics` is open too when NIM_METRICS_REQUIRE_AUTH=false, for a Prometheus that
/// scrapes without a bearer token.
struct APIKeyMiddleware<Context: RequestContext>: RouterMiddleware {
    let key: APIKey
    let metricsRequireKey: Bool

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let path = request.uri.path
        if HealthProbes.paths.contains(path) || (!metricsRequireKey && path == "/v1/metrics") {
            return try await next(request, context)
        }
        let header = request.headers[.authorization]
        guard key.accepts(authorization: header) else {
            let message = header == nil
                ? "You didn't provide an API key. Send it as 'Authorization: Bearer <key>' (the server's NIM_API_KEY)."
                : "Incorrect API key provided. Send the server's NIM_API_KEY as 'Authorization: Bearer <key>'."
            var response = APIError(status: 401, message: message, type: "invalid_request_error", code: "invalid_api_key").response
            response.headers[.wwwAuthenticate] = "Bearer"
            return response
        }
        return try await next(request, context)
    }
}
