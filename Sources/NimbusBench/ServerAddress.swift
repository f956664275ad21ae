/// Where the server under test listens: an `http://` base URL split into what a socket and a
/// request line need.
public struct ServerAddress: Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var port: Int
    /// Path before `/v1/...`, without a trailing slash (empty for a server at the root).
    public var pathPrefix: String

    /// Parses `http://HOST[:PORT][/PREFIX]`. A trailing `/v1` is accepted and dropped, so both
    /// the server root and the OpenAI-style base URL (`http://host:8000/v1`) work.
    /// - Throws: `BenchError.invalidOption` for anything else (https included: not supported yet).
    public init(parsing url: String) throws {
        let scheme = "http://"
        guard url.lowercased().hasPrefix(scheme) else {
            let hint = url.lowercased().hasPrefix("https://") ? " (https is not supported yet)" : ""
            throw BenchError.invalidOption("--url must start with http://, got '\(url)'\(hint)")
        }
        let rest = url.dropFirst(scheme.count)
        let authority = rest.prefix { $0 != "/" }
        var path = String(rest.dropFirst(authority.count))
        while path.hasSuffix("/") { path.removeLast() }
        if path.hasSuffix("/v1") { path.removeLast(3) }

        if authority.hasPrefix("[") {
            // An IPv6 literal: [::1] or [::1]:8000.
            guard let close = authority.firstIndex(of: "]") else {
                throw BenchError.invalidOption("--url has an unterminated IPv6 address: '\(url)'")
            }
            host = String(authority[authority.index(after: authority.startIndex)..<close])
            port = try Self.port(authority[authority.index(after: close)...], url: url)
        } else {
            let hostPart = authority.prefix { $0 != ":" }
            host = String(hostPart)
            port = try Self.port(authority.dropFirst(hostPart.count), url: url)
        }
        guard !host.isEmpty else { throw BenchError.invalidOption("--url has no host: '\(url)'") }
        pathPrefix = path
    }

    /// `:PORT` or nothing (port 80, as for any http URL).
    private static func port(_ text: Substring, url: String) throws -> Int {
        if text.isEmpty { return 80 }
        guard text.first == ":", let port = Int(text.dropFirst()), (1...65535).contains(port) else {
            throw BenchError.invalidOption("--url has an invalid port: '\(url)'")
        }
        return port
    }

    /// The value of the Host header.
    var hostHeader: String {
        let name = host.contains(":") ? "[\(host)]" : host
        return port == 80 ? name : "\(name):\(port)"
    }

    /// The request target for an API path such as `/v1/models`.
    func target(_ apiPath: String) -> String { pathPrefix + apiPath }

    public var description: String { "http://\(hostHeader)\(pathPrefix)" }
}
