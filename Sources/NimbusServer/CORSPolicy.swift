import Foundation

/// Which cross-origin browser requests the server allows (NIM_CORS_ALLOW_ORIGINS, _METHODS,
/// _HEADERS), and the decisions that follow for a preflight or an actual request.
///
/// Pure values with no HTTP types, so the rules are tested without a server. Credentials
/// (cookies) are never allowed: the API authenticates with a bearer key, which a browser sends
/// as an ordinary header, so `*` stays a valid answer.
public struct CORSPolicy: Sendable, Equatable {
    /// `nil` means any (`*`).
    public var origins: Set<String>?
    /// Upper-cased method names; `nil` means any.
    public var methods: [String]?
    /// Lower-cased header names; `nil` means any.
    public var headers: [String]?

    /// Response headers a browser script may read besides the CORS-safelisted ones.
    static let exposedHeaders = "X-Request-Id"

    public init(origins: Set<String>?, methods: [String]?, headers: [String]?) {
        self.origins = origins
        self.methods = methods
        self.headers = headers
    }

    /// What to answer a preflight (`OPTIONS` with `Origin` and `Access-Control-Request-Method`).
    enum Preflight: Equatable {
        /// 204 with these headers (lower-cased name: value).
        case allowed([String: String])
        /// 403 with this reason: the browser will not send the actual request.
        case refused(String)
    }

    /// The `Access-Control-Allow-Origin` value for `origin`, or nil when it is not allowed.
    func allowOrigin(_ origin: String) -> String? {
        guard let origins else { return "*" }
        return origins.contains(origin) ? origin : nil
    }

    /// Whether responses vary by `Origin` (a list of origins echoes the request's own).
    var variesByOrigin: Bool { origins != nil }

    /// - Parameters:
    ///   - requestMethod: `Access-Control-Request-Method`.
    ///   - requestHeaders: `Access-Control-Request-Headers`, comma-separated, or nil.
    func preflight(origin: String, requestMethod: String, requestHeaders: String?) -> Preflight {
        guard let allowedOrigin = allowOrigin(origin) else {
            return .refused("origin '\(origin)' is not allowed (NIM_CORS_ALLOW_ORIGINS)")
        }
        let method = requestMethod.trimmingCharacters(in: .whitespaces).uppercased()
        if let methods, !methods.contains(method) {
            return .refused("method '\(method)' is not allowed (NIM_CORS_ALLOW_METHODS)")
        }
        let asked = Self.list(requestHeaders ?? "").map { $0.lowercased() }
        if let headers, let refused = asked.first(where: { !headers.contains($0) }) {
            return .refused("header '\(refused)' is not allowed (NIM_CORS_ALLOW_HEADERS)")
        }
        // `*` does not cover Authorization in browsers, so "any header" echoes what was asked.
        let allowHeaders = headers?.joined(separator: ", ") ?? asked.joined(separator: ", ")
        var fields = [
            "access-control-allow-origin": allowedOrigin,
            "access-control-allow-methods": methods?.joined(separator: ", ") ?? method,
            "access-control-max-age": "600",
        ]
        if !allowHeaders.isEmpty { fields["access-control-allow-headers"] = allowHeaders }
        if variesByOrigin { fields["vary"] = "Origin" }
        return .allowed(fields)
    }

    /// Parses the three variables; nil when NIM_CORS_ALLOW_ORIGINS is unset (CORS off: no
    /// `Access-Control-*` headers, so browsers keep to the same origin).
    /// - Throws: `ConfigurationError` for a malformed entry, or methods/headers set without origins.
    static func resolve(_ env: [String: String]) throws(ConfigurationError) -> CORSPolicy? {
        func value(_ name: String) -> String? { ServerConfiguration.nonEmpty(env[name]) }
        guard let rawOrigins = value("NIM_CORS_ALLOW_ORIGINS") else {
            for name in ["NIM_CORS_ALLOW_METHODS", "NIM_CORS_ALLOW_HEADERS"] where value(name) != nil {
                throw ConfigurationError(variable: name, message: "has no effect without NIM_CORS_ALLOW_ORIGINS (CORS is off); set the origins too or unset it")
            }
            return nil
        }
        var policy = CORSPolicy(origins: nil, methods: nil, headers: nil)
        let origins = list(rawOrigins)
        if !origins.contains("*") {
            for origin in origins where !isOrigin(origin) {
                throw ConfigurationError(variable: "NIM_CORS_ALLOW_ORIGINS", message: "must be * or comma-separated origins such as https://app.example.com (scheme, host, optional port, no path), got '\(origin)'")
            }
            policy.origins = Set(origins)
        }
        if let raw = value("NIM_CORS_ALLOW_METHODS"), !list(raw).contains("*") {
            let methods = list(raw).map { $0.uppercased() }
            if let bad = methods.first(where: { !isToken($0) }) {
                throw ConfigurationError(variable: "NIM_CORS_ALLOW_METHODS", message: "must be * or comma-separated HTTP methods, got '\(bad)'")
            }
            policy.methods = methods
        }
        if let raw = value("NIM_CORS_ALLOW_HEADERS"), !list(raw).contains("*") {
            let headers = list(raw).map { $0.lowercased() }
            if let bad = headers.first(where: { !isToken($0) }) {
                throw ConfigurationError(variable: "NIM_CORS_ALLOW_HEADERS", message: "must be * or comma-separated header names, got '\(bad)'")
            }
            policy.headers = headers
        }
        return policy
    }

    static func list(_ raw: String) -> [String] {
        raw.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    /// `scheme://host[:port]`, exactly as browsers send `Origin`.
    static func isOrigin(_ s: String) -> Bool {
        guard let range = s.range(of: "://") else { return false }
        let scheme = s[..<range.lowerBound], rest = s[range.upperBound...]
        return !scheme.isEmpty && scheme.allSatisfy { $0.isLetter || $0.isNumber || "+-.".contains($0) }
            && !rest.isEmpty && !rest.contains("/") && !rest.contains(where: { $0.isWhitespace })
    }

    /// An HTTP token (RFC 9110): what method and header names are made of.
    static func isToken(_ s: String) -> Bool {
        !s.isEmpty && s.unicodeScalars.allSatisfy { c in
            c.isASCII && (c.properties.isAlphabetic || ("0"..."9").contains(c) || "!#$%&'*+-.^_`|~".unicodeScalars.contains(c))
        }
    }
}
