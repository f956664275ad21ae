#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import NIOCore

/// The listening address, checked before any model is loaded: a port another process holds is
/// one clear line and exit status 2 at once, not an error dump after a minute of loading.
enum ListenAddress {
    /// Binds and releases `host:port` the way the server will (SO_REUSEADDR, like NIO).
    /// - Throws: `ConfigurationError` for NIM_SERVER_PORT when the address cannot be bound.
    static func check(host: String, port: Int) throws(ConfigurationError) {
        var hints = addrinfo()
        hints.ai_flags = AI_PASSIVE
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &list) == 0, let first = list else {
            throw ConfigurationError(variable: "NIM_SERVER_PORT", message: "cannot listen on \(host):\(port): the host name does not resolve")
        }
        defer { freeaddrinfo(list) }
        let fd = socket(first.pointee.ai_family, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return }  // no socket to try with; the server's own bind reports it
        defer { close(fd) }
        var one: Int32 = 1
        _ = setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        if bind(fd, first.pointee.ai_addr, first.pointee.ai_addrlen) != 0 {
            throw failure(host: host, port: port, errno: errno)
        }
    }

    /// The error for a bind that failed with `errno` (also used when the server's own bind fails,
    /// should another process take the port between the check and the start).
    static func failure(host: String, port: Int, errno code: Int32) -> ConfigurationError {
        let why = switch code {
        case EADDRINUSE: "the address is already in use (another process listens on port \(port)); stop it or choose another NIM_SERVER_PORT"
        case EACCES: "permission denied (ports below 1024 need privileges); choose a port of 1024 or more"
        case EADDRNOTAVAIL: "the address is not one of this machine's"
        default: String(cString: strerror(code))
        }
        return ConfigurationError(variable: "NIM_SERVER_PORT", message: "cannot listen on \(host):\(port): \(why)")
    }

    /// The bind error inside `error`, if that is what stopped the server.
    static func bindFailure(_ error: any Error, host: String, port: Int) -> ConfigurationError? {
        guard let io = error as? IOError, io.errnoCode == EADDRINUSE || io.errnoCode == EACCES || io.errnoCode == EADDRNOTAVAIL else {
            return nil
        }
        return failure(host: host, port: port, errno: io.errnoCode)
    }
}
