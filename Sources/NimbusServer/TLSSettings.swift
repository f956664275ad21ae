import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import NIOSSL

/// NIM_SSL_MODE: plain HTTP, HTTPS, or HTTPS that also requires a client certificate.
public enum SSLMode: String, Sendable, CaseIterable {
    case disabled = "DISABLED"
    case tls = "TLS"
    case mtls = "MTLS"
}

/// HTTPS settings (NIM_SSL_MODE, NIM_SSL_KEY_PATH, NIM_SSL_CERTS_PATH, NIM_SSL_CA_CERTS_PATH),
/// checked and loaded at start-up so that a wrong path or an unreadable PEM stops the server with
/// one line instead of failing every handshake later.
public struct TLSSettings: Sendable {
    public let mode: SSLMode
    /// The loaded swift-nio-ssl configuration (TLS 1.2 at least).
    public let configuration: TLSConfiguration

    /// - Returns: nil when NIM_SSL_MODE is unset or DISABLED.
    /// - Throws: `ConfigurationError` naming the variable whose value is missing or unusable.
    static func resolve(_ env: [String: String]) throws(ConfigurationError) -> TLSSettings? {
        func value(_ name: String) -> String? { ServerConfiguration.nonEmpty(env[name])?.trimmingCharacters(in: .whitespaces) }
        let mode: SSLMode
        if let raw = value("NIM_SSL_MODE") {
            guard let parsed = SSLMode(rawValue: raw.uppercased()) else {
                throw ConfigurationError(variable: "NIM_SSL_MODE", message: "must be DISABLED, TLS or MTLS, got '\(raw)'")
            }
            mode = parsed
        } else {
            mode = .disabled
        }
        guard mode != .disabled else {
            for name in ["NIM_SSL_KEY_PATH", "NIM_SSL_CERTS_PATH", "NIM_SSL_CA_CERTS_PATH"] where value(name) != nil {
                throw ConfigurationError(variable: name, message: "is set but NIM_SSL_MODE is DISABLED; set NIM_SSL_MODE=TLS (or MTLS) to serve HTTPS, or unset it")
            }
            return nil
        }
        func required(_ name: String) throws(ConfigurationError) -> String {
            guard let path = value(name) else {
                throw ConfigurationError(variable: name, message: "is required with NIM_SSL_MODE=\(mode.rawValue)")
            }
            guard FileManager.default.isReadableFile(atPath: path) else {
                throw ConfigurationError(variable: name, message: "'\(path)' is not a readable file")
            }
            return path
        }
        let keyPath = try required("NIM_SSL_KEY_PATH")
        let certsPath = try required("NIM_SSL_CERTS_PATH")
        let chain = try certificates(certsPath, variable: "NIM_SSL_CERTS_PATH")
        let key: NIOSSLPrivateKey
        do {
            key = try NIOSSLPrivateKey(file: keyPath, format: .pem)
        } catch {
            throw ConfigurationError(variable: "NIM_SSL_KEY_PATH", message: "'\(keyPath)' is not a PEM private key (\(error))")
        }
        var tls: TLSConfiguration
        switch mode {
        case .mtls:
            let caPath = try required("NIM_SSL_CA_CERTS_PATH")
            let roots = try certificates(caPath, variable: "NIM_SSL_CA_CERTS_PATH")
            // Verifies the client's chain against these roots; no hostname check (clients have none).
            tls = .makeServerConfigurationWithMTLS(certificateChain: chain.map { .certificate($0) },
                                                   privateKey: .privateKey(key), trustRoots: .certificates(roots))
        case .tls, .disabled:
            if value("NIM_SSL_CA_CERTS_PATH") != nil {
                throw ConfigurationError(variable: "NIM_SSL_CA_CERTS_PATH", message: "only applies with NIM_SSL_MODE=MTLS (client certificates); unset it or use MTLS")
            }
            tls = .makeServerConfiguration(certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        }
        tls.minimumTLSVersion = .tlsv12
        do {
            // Building the context checks what loading alone does not, e.g. a key that does not
            // belong to the certificate.
            _ = try NIOSSLContext(configuration: tls)
        } catch {
            throw ConfigurationError(variable: "NIM_SSL_KEY_PATH", message: "cannot be used with the certificate in '\(certsPath)' (\(error))")
        }
        return TLSSettings(mode: mode, configuration: tls)
    }

    private static func certificates(_ path: String, variable: String) throws(ConfigurationError) -> [NIOSSLCertificate] {
        let chain: [NIOSSLCertificate]
        do {
            chain = try NIOSSLCertificate.fromPEMFile(path)
        } catch {
            throw ConfigurationError(variable: variable, message: "'\(path)' is not a PEM certificate file (\(error))")
        }
        guard !chain.isEmpty else {
            throw ConfigurationError(variable: variable, message: "'\(path)' holds no PEM certificate")
        }
        return chain
    }
}

extension TLSSettings {
    /// The HTTP/1.1 server, behind TLS when `settings` is set. Built by hand rather than with
    /// `HTTPServerBuilder.tls`, which is marked `throws` although it only fails later, when the
    /// server starts; the TLS context here was already built once at start-up.
    static func serverBuilder(_ settings: TLSSettings?, readTimeout: Duration, logger: Logger) -> HTTPServerBuilder {
        let http1 = HTTPConnectionLimits.channelConfiguration(readTimeout: readTimeout, logger: logger)
        guard let settings else { return .http1(configuration: http1) }
        let tls = settings.configuration
        return HTTPServerBuilder { responder in
            try TLSChannel(HTTP1Channel(responder: responder, configuration: http1), tlsConfiguration: tls)
        }
    }
}
