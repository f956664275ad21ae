import Logging
import Testing
@testable import NimbusServer

/// The pure rules behind the security middleware and graceful shutdown: key comparison, bearer
/// parsing, CORS decisions and the drain state machine.
@Suite struct AccessRulesTests {
    @Test func constantTimeComparisonIsExact() {
        let key = Array("sk-secret".utf8)
        #expect(APIKey.constantTimeEquals(key, key))
        #expect(!APIKey.constantTimeEquals(Array("sk-secreT".utf8), key))
        #expect(!APIKey.constantTimeEquals(Array("sk-secret2".utf8), key), "a longer guess with the key as prefix")
        #expect(!APIKey.constantTimeEquals(Array("sk-secre".utf8), key), "a prefix of the key")
        #expect(!APIKey.constantTimeEquals([], key))
        // A guess padded with the zero bytes the loop substitutes must still fail on length.
        #expect(!APIKey.constantTimeEquals(Array("sk-secret".utf8) + [0], key))
    }

    @Test func bearerTokensAreParsed() {
        let key = APIKey("abc")
        #expect(key.accepts(authorization: "Bearer abc"))
        #expect(key.accepts(authorization: "bearer abc"))
        #expect(key.accepts(authorization: "BEARER   abc"))
        #expect(!key.accepts(authorization: nil))
        #expect(!key.accepts(authorization: "Basic abc"))
        #expect(!key.accepts(authorization: "abc"))
        #expect(!key.accepts(authorization: "Bearer "))
        #expect(!key.accepts(authorization: "Bearer abcd"))
    }

    @Test func corsPreflightFollowsThePolicy() throws {
        let policy = try #require(try CORSPolicy.resolve([
            "NIM_CORS_ALLOW_ORIGINS": "https://app.example.com, http://localhost:3000",
            "NIM_CORS_ALLOW_METHODS": "get,post", "NIM_CORS_ALLOW_HEADERS": "Authorization, Content-Type",
        ]))
        #expect(policy.origins == ["https://app.example.com", "http://localhost:3000"])
        #expect(policy.methods == ["GET", "POST"] && policy.headers == ["authorization", "content-type"])
        guard case .allowed(let fields) = policy.preflight(origin: "http://localhost:3000", requestMethod: "POST",
                                                           requestHeaders: "content-type,Authorization") else {
            Issue.record("an allowed preflight was refused")
            return
        }
        #expect(fields["access-control-allow-origin"] == "http://localhost:3000")
        #expect(fields["access-control-allow-methods"] == "GET, POST")
        #expect(fields["access-control-allow-headers"] == "authorization, content-type")
        #expect(fields["vary"] == "Origin")
        #expect(policy.preflight(origin: "https://evil.example", requestMethod: "POST", requestHeaders: nil)
            == .refused("origin 'https://evil.example' is not allowed (NIM_CORS_ALLOW_ORIGINS)"))
        #expect(policy.preflight(origin: "https://app.example.com", requestMethod: "DELETE", requestHeaders: nil)
            == .refused("method 'DELETE' is not allowed (NIM_CORS_ALLOW_METHODS)"))
        #expect(policy.preflight(origin: "https://app.example.com", requestMethod: "POST", requestHeaders: "x-custom")
            == .refused("header 'x-custom' is not allowed (NIM_CORS_ALLOW_HEADERS)"))
        #expect(policy.allowOrigin("https://app.example.com") == "https://app.example.com")
        #expect(policy.allowOrigin("https://app.example.com.evil") == nil)
    }

    @Test func wildcardPolicyEchoesWhatWasAsked() throws {
        let policy = try #require(try CORSPolicy.resolve(["NIM_CORS_ALLOW_ORIGINS": "*"]))
        guard case .allowed(let fields) = policy.preflight(origin: "https://any.example", requestMethod: "post",
                                                           requestHeaders: "Authorization, X-Request-Id") else {
            Issue.record("a wildcard policy refused a preflight")
            return
        }
        #expect(fields["access-control-allow-origin"] == "*")
        #expect(fields["access-control-allow-methods"] == "POST")
        // Browsers do not let `*` cover Authorization, so the asked headers are named.
        #expect(fields["access-control-allow-headers"] == "authorization, x-request-id")
        #expect(fields["vary"] == nil)
        #expect(try CORSPolicy.resolve([:]) == nil)
    }

    @Test func drainStateAdmitsUntilDraining() {
        var state = DrainState<Int>()
        let a = state.admit(1), b = state.admit(2), c = state.admit(nil)
        #expect(a != nil && b != nil && c != nil && Set([a, b, c]).count == 3)
        #expect(state.inFlight.count == 3)
        let first = state.beginDraining(), second = state.beginDraining()
        #expect(first)
        #expect(!second, "a second signal does not start a second drain")
        let late = state.admit(4)
        #expect(late == nil)
        if let a { state.finish(a); state.finish(a) }
        #expect(state.inFlight.count == 2)
        // Connection 2 closed: its request can never finish, so it no longer holds the drain up;
        // a request with no connection to watch (nil) is kept.
        let remaining = state.prune { $0 != 2 }
        #expect(remaining == 1)
    }

    @Test func drainWaitsForInFlightRequestsThenCutsTheRest() async throws {
        let logger = Logger(label: "test")
        let coordinator = ShutdownCoordinator()
        let quick = try #require(coordinator.admit(nil))
        coordinator.beginDraining()
        #expect(coordinator.isDraining && coordinator.admit(nil) == nil)
        let finisher = Task {
            try await Task.sleep(for: .milliseconds(100))
            coordinator.finish(quick)
        }
        let start = ContinuousClock.now
        // A long grace, so that "ended early" stays clear even when other tests keep the
        // cooperative threads busy for seconds (the model tests run alongside on two cores).
        #expect(await coordinator.drain(grace: .seconds(120), logger: logger) == 0)
        #expect(ContinuousClock.now - start < .seconds(60), "the drain ends when the last request does")
        try await finisher.value

        let stuck = ShutdownCoordinator()
        _ = stuck.admit(nil)
        stuck.beginDraining()
        let cutStart = ContinuousClock.now
        #expect(await stuck.drain(grace: .milliseconds(200), logger: logger) == 1)
        #expect(ContinuousClock.now - cutStart >= .milliseconds(200))
    }
}
