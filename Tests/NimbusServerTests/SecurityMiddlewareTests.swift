import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Testing
@testable import NimbusServer

/// The API key, CORS and shutdown middleware on a small router with the server's own middleware
/// order and error mapping (no model needed).
@Suite struct SecurityMiddlewareTests {
    func withRouter(key: String? = "sk-test", metricsRequireKey: Bool = true, cors: CORSPolicy? = nil,
                    shutdown: ShutdownCoordinator = ShutdownCoordinator(), maxBodyBytes: Int = 1024,
                    _ body: @escaping @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        let router = Router(context: NimbusRequestContext.self)
        if let cors { router.add(middleware: CrossOriginMiddleware(policy: cors)) }
        router.add(middleware: APIErrorMiddleware(logger: Logger(label: "test")))
        if let key { router.add(middleware: APIKeyMiddleware(key: APIKey(key), metricsRequireKey: metricsRequireKey)) }
        router.add(middleware: ShutdownGateMiddleware(coordinator: shutdown, maxBodyBytes: maxBodyBytes))
        for path in ["/v1/health/live", "/v1/health/ready", "/v1/metrics", "/v1/models"] {
            router.get(RouterPath(path)) { _, _ in "ok" }
        }
        // What the handlers' body reader will use as its limit (the 413 itself is tested with
        // the real routes in ApplicationTests and tests/e2e/test_security.py).
        router.get("/limit") { _, context in "\(context.maxBodyBytes)" }
        router.post("/v1/echo") { _, _ in "ok" }
        try await Application(router: router).test(.router, body)
    }

    func error(_ response: TestResponse) throws -> [String: Any] {
        let object = try JSONSerialization.jsonObject(with: Data(response.body.readableBytesView)) as? [String: Any]
        let error = try #require(object?["error"] as? [String: Any])
        #expect(Set(error.keys) == ["message", "type", "param", "code"])
        return error
    }

    @Test func keyIsRequiredExceptOnHealthProbes() async throws {
        try await withRouter { client in
            for auth in [nil, "Bearer wrong", "Basic sk-test"] as [String?] {
                var headers = HTTPFields()
                if let auth { headers[.authorization] = auth }
                try await client.execute(uri: "/v1/models", method: .get, headers: headers) { response in
                    #expect(response.status == .unauthorized)
                    #expect(response.headers[.wwwAuthenticate] == "Bearer")
                    let body = try error(response)
                    #expect(body["code"] as? String == "invalid_api_key")
                }
            }
            try await client.execute(uri: "/v1/models", method: .get, headers: [.authorization: "Bearer sk-test"]) {
                #expect($0.status == .ok)
            }
            for probe in ["/v1/health/live", "/v1/health/ready"] {
                try await client.execute(uri: probe, method: .get) { #expect($0.status == .ok) }
            }
            try await client.execute(uri: "/v1/metrics", method: .get) { #expect($0.status == .unauthorized) }
        }
        try await withRouter(metricsRequireKey: false) { client in
            try await client.execute(uri: "/v1/metrics", method: .get) { #expect($0.status == .ok) }
            try await client.execute(uri: "/v1/models", method: .get) { #expect($0.status == .unauthorized) }
        }
    }

    @Test func preflightNeedsNoKeyAndErrorsCarryCORSHeaders() async throws {
        let cors = CORSPolicy(origins: ["https://app.example.com"], methods: nil, headers: nil)
        try await withRouter(cors: cors) { client in
            let preflight: HTTPFields = [.origin: "https://app.example.com", .accessControlRequestMethod: "POST",
                                         .accessControlRequestHeaders: "authorization,content-type"]
            try await client.execute(uri: "/v1/echo", method: .options, headers: preflight) { response in
                #expect(response.status == .noContent)
                #expect(response.headers[.accessControlAllowOrigin] == "https://app.example.com")
                #expect(response.headers[.accessControlAllowHeaders] == "authorization, content-type")
            }
            var refused = preflight
            refused[.origin] = "https://evil.example"
            try await client.execute(uri: "/v1/echo", method: .options, headers: refused) { response in
                #expect(response.status == .forbidden)
                #expect(response.headers[.accessControlAllowOrigin] == nil)
            }
            // The browser can read the 401 body: the answer names the allowed origin.
            try await client.execute(uri: "/v1/models", method: .get, headers: [.origin: "https://app.example.com"]) { response in
                #expect(response.status == .unauthorized)
                #expect(response.headers[.accessControlAllowOrigin] == "https://app.example.com")
            }
        }
    }

    @Test func bodyLimitReachesTheHandlers() async throws {
        try await withRouter(key: nil, maxBodyBytes: 4096) { client in
            try await client.execute(uri: "/limit", method: .get) { response in
                #expect(String(buffer: response.body) == "4096")
            }
        }
    }

    @Test func drainingRefusesNewRequestsButNotProbes() async throws {
        let shutdown = ShutdownCoordinator()
        try await withRouter(key: nil, shutdown: shutdown) { client in
            try await client.execute(uri: "/v1/models", method: .get) { #expect($0.status == .ok) }
            shutdown.beginDraining()
            try await client.execute(uri: "/v1/models", method: .get) { response in
                #expect(response.status == .serviceUnavailable)
                let body = try error(response)
                #expect(body["code"] as? String == "service_unavailable")
            }
            try await client.execute(uri: "/v1/health/live", method: .get) { #expect($0.status == .ok) }
        }
    }
}
