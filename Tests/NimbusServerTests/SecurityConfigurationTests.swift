import Foundation
import Testing
@testable import NimbusServer

/// NIM_API_KEY, NIM_CORS_*, NIM_SSL_*, NIM_MAX_REQUEST_SIZE and NIM_SHUTDOWN_GRACE_SECONDS as
/// `ServerConfiguration.resolve` reads them.
@Suite struct SecurityConfigurationTests {
    func resolve(_ env: [String: String]) throws(ConfigurationError) -> SecurityConfiguration {
        try SecurityConfiguration.resolve(env)
    }

    func expectError(_ env: [String: String], variable: String, containing text: String) {
        do {
            _ = try resolve(env)
            Issue.record("\(env) was accepted")
        } catch {
            #expect(error.variable == variable, "\(error)")
            #expect(error.description.contains(text), "\(error)")
            #expect(!error.description.contains("\n"))
        }
    }

    @Test func defaultsAreOpenPlainHTTP() throws {
        let s = try resolve([:])
        #expect(s.apiKey == nil && s.cors == nil && s.tls == nil)
        #expect(s.metricsRequireKey)
        #expect(s.maxRequestBytes == 8 << 20)
        #expect(s.shutdownGrace == .seconds(30))
    }

    @Test func valuesAreRead() throws {
        let s = try resolve(["NIM_API_KEY": "k-123", "NIM_METRICS_REQUIRE_AUTH": "false", "NIM_MAX_REQUEST_SIZE": "64KiB",
                             "NIM_SHUTDOWN_GRACE_SECONDS": "2.5", "NIM_CORS_ALLOW_ORIGINS": "*"])
        #expect(s.apiKey?.accepts(authorization: "Bearer k-123") == true)
        #expect(s.apiKey?.accepts(authorization: "Bearer k-124") == false)
        // The key never reaches a log line or a test failure message.
        #expect(!"\(s)".contains("k-123") && !String(reflecting: s.apiKey).contains("k-123"))
        #expect(!s.metricsRequireKey)
        #expect(s.maxRequestBytes == 65_536)
        #expect(s.shutdownGrace == .milliseconds(2500))
        #expect(s.cors == CORSPolicy(origins: nil, methods: nil, headers: nil))
    }

    @Test(arguments: [
        ("NIM_API_KEY", "has space", "printable ASCII without spaces"),
        ("NIM_API_KEY", "", "set but empty"),
        ("NIM_API_KEY", "  ", "set but empty"),
        ("NIM_MAX_REQUEST_SIZE", "12", "between 1KiB and 1GiB"),
        ("NIM_MAX_REQUEST_SIZE", "lots", "got 'lots'"),
        ("NIM_SHUTDOWN_GRACE_SECONDS", "-1", "between 0 and 86400"),
        ("NIM_METRICS_REQUIRE_AUTH", "maybe", "must be true or false"),
        ("NIM_SSL_MODE", "SSL", "must be DISABLED, TLS or MTLS, got 'SSL'"),
        ("NIM_CORS_ALLOW_ORIGINS", "app.example.com", "got 'app.example.com'"),
        ("NIM_CORS_ALLOW_ORIGINS", "https://app.example.com/path", "no path"),
    ])
    func invalidValuesNameTheVariable(variable: String, value: String, message: String) {
        expectError([variable: value], variable: variable, containing: message)
    }

    @Test func corsSettingsWithoutOriginsAreRefused() {
        expectError(["NIM_CORS_ALLOW_METHODS": "GET"], variable: "NIM_CORS_ALLOW_METHODS", containing: "without NIM_CORS_ALLOW_ORIGINS")
        expectError(["NIM_CORS_ALLOW_ORIGINS": "*", "NIM_CORS_ALLOW_HEADERS": "x y"], variable: "NIM_CORS_ALLOW_HEADERS",
                    containing: "got 'x y'")
    }

    @Test func sslModeIsCaseInsensitiveAndDisabledNeedsNoFiles() throws {
        #expect(try resolve(["NIM_SSL_MODE": "disabled"]).tls == nil)
        expectError(["NIM_SSL_CERTS_PATH": "/tmp/cert.pem"], variable: "NIM_SSL_CERTS_PATH", containing: "NIM_SSL_MODE is DISABLED")
    }

    @Test func tlsNeedsReadablePEMFiles() throws {
        expectError(["NIM_SSL_MODE": "tls"], variable: "NIM_SSL_KEY_PATH", containing: "is required with NIM_SSL_MODE=TLS")
        expectError(["NIM_SSL_MODE": "TLS", "NIM_SSL_KEY_PATH": "/no/such/key.pem", "NIM_SSL_CERTS_PATH": "/no/such/cert.pem"],
                    variable: "NIM_SSL_KEY_PATH", containing: "'/no/such/key.pem' is not a readable file")
        let garbage = FileManager.default.temporaryDirectory.appendingPathComponent("nimbus-garbage-\(UUID().uuidString).pem").path
        try Data("not a certificate\n".utf8).write(to: URL(fileURLWithPath: garbage))
        defer { try? FileManager.default.removeItem(atPath: garbage) }
        expectError(["NIM_SSL_MODE": "TLS", "NIM_SSL_KEY_PATH": garbage, "NIM_SSL_CERTS_PATH": garbage],
                    variable: "NIM_SSL_CERTS_PATH", containing: "PEM certificate")
        expectError(["NIM_SSL_MODE": "MTLS", "NIM_SSL_KEY_PATH": garbage], variable: "NIM_SSL_CERTS_PATH", containing: "is required with NIM_SSL_MODE=MTLS")
    }

    @Test func everyVariableIsDocumented() {
        let names = Set(ServerConfiguration.variables.map(\.name))
        for name in ["NIM_API_KEY", "NIM_METRICS_REQUIRE_AUTH", "NIM_CORS_ALLOW_ORIGINS", "NIM_CORS_ALLOW_METHODS",
                     "NIM_CORS_ALLOW_HEADERS", "NIM_SSL_MODE", "NIM_SSL_KEY_PATH", "NIM_SSL_CERTS_PATH",
                     "NIM_SSL_CA_CERTS_PATH", "NIM_MAX_REQUEST_SIZE", "NIM_SHUTDOWN_GRACE_SECONDS"] {
            #expect(names.contains(name), "\(name) is missing from ServerConfiguration.variables")
        }
    }
}
