import Foundation
public import HaulCore
import NIOCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Why the server could not start listening, for people.
public enum ListenFailure {
    /// The error to show when binding `host`:`port` failed with `error`; nil when `error` is not a bind failure.
    /// - Returns: a ``HaulError`` `.invalidArgument` (the address given cannot be used) that says what to pass.
    public static func describe(_ error: any Error, host: String, port: Int) -> HaulError? {
        if error is SocketAddressError || error is SocketAddressError.UnknownHost {
            return HaulError(
                .invalidArgument,
                "Cannot listen on \(host): it is not an address of this machine. Pass --host 127.0.0.1 (this machine only) or 0.0.0.0 (every interface).",
                underlying: error)
        }
        guard let io = error as? IOError, let message = message(errno: io.errnoCode, host: host, port: port) else {
            return nil
        }
        return HaulError(.invalidArgument, message, context: ["host": host, "port": "\(port)"], underlying: error)
    }

    /// The message for a bind that failed with `errno` (pure; nil for codes without one).
    static func message(errno: Int32, host: String, port: Int) -> String? {
        switch errno {
        case EADDRINUSE:
            return "Port \(port) is in use on \(host); pass --port N for another one, or --port 0 for a free one."
        case EACCES: return "Port \(port) needs privileges on this system; pass --port N (1024 or above), or 0."
        case EADDRNOTAVAIL:
            return
                "Cannot listen on \(host): it is not an address of this machine. Pass --host 127.0.0.1 or another local address."
        default: return nil
        }
    }
}
