import Foundation

/// Who may call the server and how: API key, CORS, HTTPS, the largest request body, and how long
/// in-flight requests may run on after SIGTERM.
public struct SecurityConfiguration: Sendable {
    /// NIM_API_KEY: when set, every route but the health probes needs `Authorization: Bearer <key>`.
    public var apiKey: APIKey?
    /// NIM_METRICS_REQUIRE_AUTH: whether /v1/metrics needs the key too (when one is set).
    public var metricsRequireKey = true
    /// NIM_CORS_ALLOW_*: nil means CORS is off.
    public var cors: CORSPolicy?
    /// NIM_SSL_*: nil means plain HTTP.
    public var tls: TLSSettings?
    /// NIM_MAX_REQUEST_SIZE: larger request bodies get 413.
    public var maxRequestBytes = NimbusServer.maxBodyBytes
    /// NIM_SHUTDOWN_GRACE_SECONDS: how long in-flight requests may finish after SIGTERM/SIGINT.
    public var shutdownGrace: Duration = .seconds(30)
    /// NIM_HTTP_READ_TIMEOUT: how long a client may keep the server waiting, for the next part of
    /// its request (head, body chunk, or the next request on a kept-alive connection) or to read
    /// a streamed answer, before the connection is closed.
    public var readTimeout: Duration = .seconds(60)

    public init() {}

    static let variables: [(name: String, defaultValue: String, help: String)] = [
        ("NIM_API_KEY", "unset (no key)", "require `Authorization: Bearer <key>` on every route but /v1/health/*; 401 otherwise"),
        ("NIM_METRICS_REQUIRE_AUTH", "true", "with NIM_API_KEY set, whether /v1/metrics needs the key too"),
        ("NIM_CORS_ALLOW_ORIGINS", "unset (CORS off)", "* or comma-separated origins (https://app.example.com) browsers may call from"),
        ("NIM_CORS_ALLOW_METHODS", "*", "* or comma-separated methods allowed cross-origin"),
        ("NIM_CORS_ALLOW_HEADERS", "*", "* or comma-separated request headers allowed cross-origin"),
        ("NIM_SSL_MODE", "DISABLED", "DISABLED (HTTP), TLS (HTTPS) or MTLS (HTTPS requiring a client certificate)"),
        ("NIM_SSL_KEY_PATH", "unset", "PEM private key of the server certificate (TLS, MTLS)"),
        ("NIM_SSL_CERTS_PATH", "unset", "PEM server certificate chain (TLS, MTLS)"),
        ("NIM_SSL_CA_CERTS_PATH", "unset", "PEM CA certificates that client certificates must chain to (MTLS)"),
        ("NIM_MAX_REQUEST_SIZE", "8MiB", "largest request body (bytes, or 512KiB, 16MiB...); larger ones get 413"),
        ("NIM_SHUTDOWN_GRACE_SECONDS", "30", "after SIGTERM/SIGINT, how long in-flight requests may finish before they are cut"),
        ("NIM_HTTP_READ_TIMEOUT", "60", "seconds a client may stall (sending its request, idling between requests, or not reading a stream) before its connection is closed"),
    ]

    /// - Throws: `ConfigurationError` naming the first invalid variable.
    static func resolve(_ env: [String: String]) throws(ConfigurationError) -> SecurityConfiguration {
        var s = SecurityConfiguration()
        if let key = env["NIM_API_KEY"] {
            // Set but empty (a Secret with an empty value, `--api-key ""`) must not quietly mean
            // "no authentication": only an unset variable does.
            guard !key.trimmingCharacters(in: .whitespaces).isEmpty else {
                throw ConfigurationError(variable: "NIM_API_KEY", message: "is set but empty; unset it to serve without a key")
            }
            guard key.trimmingCharacters(in: .whitespaces) == key, key.unicodeScalars.allSatisfy({ $0.isASCII && $0.value > 0x20 && $0.value < 0x7f }) else {
                // A key with spaces or control characters could never be sent in a header intact.
                throw ConfigurationError(variable: "NIM_API_KEY", message: "must be printable ASCII without spaces")
            }
            s.apiKey = APIKey(key)
        }
        s.metricsRequireKey = try ServerConfiguration.boolean(env, "NIM_METRICS_REQUIRE_AUTH") ?? s.metricsRequireKey
        s.cors = try CORSPolicy.resolve(env)
        s.tls = try TLSSettings.resolve(env)
        if let raw = env["NIM_MAX_REQUEST_SIZE"], !raw.trimmingCharacters(in: .whitespaces).isEmpty {
            guard let bytes = ServerConfiguration.byteCount(raw), bytes >= 1024, bytes <= 1 << 30 else {
                throw ConfigurationError(variable: "NIM_MAX_REQUEST_SIZE", message: "must be a size between 1KiB and 1GiB such as 8MiB or 65536, got '\(raw)'")
            }
            s.maxRequestBytes = bytes
        }
        if let raw = env["NIM_SHUTDOWN_GRACE_SECONDS"], !raw.trimmingCharacters(in: .whitespaces).isEmpty {
            guard let seconds = Double(raw.trimmingCharacters(in: .whitespaces)), seconds >= 0, seconds <= 86_400 else {
                throw ConfigurationError(variable: "NIM_SHUTDOWN_GRACE_SECONDS", message: "must be a number of seconds between 0 and 86400, got '\(raw)'")
            }
            s.shutdownGrace = .milliseconds(Int((seconds * 1000).rounded()))
        }
        if let raw = env["NIM_HTTP_READ_TIMEOUT"], !raw.trimmingCharacters(in: .whitespaces).isEmpty {
            guard let seconds = Double(raw.trimmingCharacters(in: .whitespaces)), seconds >= 0.1, seconds <= 86_400 else {
                throw ConfigurationError(variable: "NIM_HTTP_READ_TIMEOUT", message: "must be a number of seconds between 0.1 and 86400, got '\(raw)'")
            }
            s.readTimeout = .milliseconds(Int((seconds * 1000).rounded()))
        }
        return s
    }
}
