package import HaulCore

/// Why one request failed, as the engine decides on it. Produced by the transport, the sinks and
/// ``PieceResponseCheck``; translated into a ``HaulError`` once, by ``haulError(url:)``, where an error leaves the
/// engine. Text an origin chose is kept escaped (``UntrustedText``).
package enum TransferFailure: Error, Sendable, Hashable {
    /// How the connection failed below HTTP.
    package enum Transport: Sendable, Hashable {
        /// No body bytes for the stall timeout.
        case stalled
        /// The body came slower than the minimum rate for the low-speed time (``StallRule``).
        case belowMinimumRate(bytesPerSecond: Int64, minimum: Int64)
        /// Connecting took longer than the connect timeout.
        case connectTimeout
        /// The origin closed the connection before the body ended.
        case closedEarly
        /// The response broke HTTP's syntax.
        case malformed(String)
        /// The origin could not be reached (DNS, refused, reset, TLS).
        case unreachable(String)
        /// Connecting failed with a system error (`ECONNREFUSED`, `EHOSTUNREACH`, …) or the name did not resolve
        /// (`errno` nil).
        case connectFailed(errno: Int32?)
        /// An established connection failed with a system error (`ECONNRESET`, `EPIPE`, …).
        case connectionLost(errno: Int32)
    }

    /// An HTTP status the request cannot use; `retryAfter` is the parsed, bounded `Retry-After`.
    case status(code: Int, retryAfter: Duration?)
    /// A 200 with the whole file to a range request.
    case rangeIgnored
    /// A 206 whose `Content-Range` is not the range asked for (escaped header value, or nil when absent).
    case contentRangeMismatch(asked: ClosedRange<Int64>, sent: String?)
    /// A `Content-Length` other than the bytes expected (escaped header value).
    case lengthMismatch(declared: String, expected: Int64)
    /// The body ended after `received` of `expected` bytes.
    case truncated(received: Int64, expected: Int64)
    /// The body went on past the bytes asked for (or past the blob).
    case extraBytes
    /// A chunk did not hash to the manifest's digest.
    case badChunk(index: Int, expected: SHA256Digest, actual: SHA256Digest)
    /// `If-Range` failed: the file on the origin changed since its validator was learned.
    case validatorChanged
    /// The origin's strong ETag changed between two answers.
    case etagChanged
    /// The connection failed.
    case transport(Transport)
    /// A small document was longer than its limit.
    case tooLarge(limit: Int)
    /// A small document did not arrive within the deadline.
    case deadlineExceeded(Duration)
    /// A redirect was refused (the reason is Haul's own words).
    case redirectRefused(String)
    /// The request ended without a response.
    case noResponse
    /// The caller cancelled.
    case cancelled

    /// Whether the same request may succeed later or from another mirror.
    package var isTransient: Bool {
        switch self {
        case .status(let code, _): return code == 408 || code == 429 || (500...599).contains(code)
        case .rangeIgnored, .contentRangeMismatch, .lengthMismatch, .truncated, .extraBytes, .badChunk,
            .validatorChanged, .etagChanged, .transport, .deadlineExceeded, .noResponse:
            return true
        case .tooLarge, .redirectRefused, .cancelled: return false
        }
    }

    /// Whether the origin sent wrong bytes or broke the protocol (a mirror doing so is demoted heavily).
    package var isMisbehaviour: Bool {
        switch self {
        case .badChunk, .contentRangeMismatch, .lengthMismatch, .extraBytes, .rangeIgnored, .redirectRefused,
            .tooLarge:
            return true
        default: return false
        }
    }
}
