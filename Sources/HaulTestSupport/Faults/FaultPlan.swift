/// Faults a test origin injects on purpose, so that tests exercise real network failure on a real socket.
///
/// Each rule matches request paths containing ``Rule/pathContains`` and fires for its first ``Rule/times``
/// matching requests (nil: every one). Every rule that fires applies; faults that answer instead of the file
/// (``Fault/status(_:retryAfter:)``, ``Fault/redirect(to:)``, ``Fault/redirectLoop``, ``Fault/endlessBody(status:bytesPerSecond:)``)
/// take the first that fired. Faults apply only to requests for files the server would serve (a missing file stays
/// 404).
package struct FaultPlan: Sendable {
    /// One fault.
    package enum Fault: Sendable, Hashable {
        /// Answer with this status and no body (e.g. 404, 503); `retryAfter` sets `Retry-After` in seconds.
        case status(Int, retryAfter: Int? = nil)
        /// Flip the byte at this absolute file offset in whatever part of the body covers it.
        case corruptByte(at: Int64)
        /// Send only this many body bytes, then drop the connection (a reset or truncation mid-body).
        case dropConnection(afterBytes: Int64)
        /// Answer every request with 200 and the whole file, ignoring `Range` (as some origins do).
        case ignoreRange
        /// Send a `Content-Range` that starts `shift` bytes later than the bytes actually sent.
        case wrongContentRange(shift: Int64)
        /// Send this many bytes, then stop sending (keeping the connection open) for `seconds`.
        case stall(afterBytes: Int64, seconds: Double)
        /// Send this response's body at most this many bytes per second.
        case throttle(bytesPerSecond: Int64)
        /// Report a different validator (as if the file changed on the origin): `If-Range` and `If-None-Match` are
        /// judged against it too.
        case changeETag(String)
        /// Answer `302 Found` with this `Location` (absolute or relative), as CDNs redirect to storage.
        case redirect(to: String)
        /// Answer `302 Found` to the same path with a `hop` query one higher, forever: every URL in the chain is new,
        /// so only a hop limit stops a client.
        case redirectLoop
        /// Answer with `status` (any: 200, 304, 404, 500…) and a body without a length that never ends, sent at
        /// `bytesPerSecond` (nil: as fast as the client reads) until the client goes away. For a 304 or a 204 the bytes
        /// go out anyway, raw after the head, as a hostile origin would send them.
        case endlessBody(status: Int, bytesPerSecond: Int64? = nil)
        /// After the body the headers promised (`Content-Length`, the range), send this many more bytes on the same
        /// connection.
        case extraBytes(Int)
        /// Wait `seconds` before sending anything at all (no status line, no headers), then answer normally.
        case stallBeforeFirstByte(seconds: Double)
        /// Send the body one byte at a time at `bytesPerSecond` (a very slow body that never quite stalls).
        case drip(bytesPerSecond: Int64)
    }

    /// A fault with the requests it applies to.
    package struct Rule: Sendable {
        /// The request path must contain this text (empty: every request).
        package var pathContains: String
        /// The fault.
        package var fault: Fault
        /// How many matching requests fire it; nil: all of them.
        package var times: Int?

        /// Creates a rule.
        package init(pathContains: String = "", _ fault: Fault, times: Int? = nil) {
            self.pathContains = pathContains
            self.fault = fault
            self.times = times
        }
    }

    /// The rules, in order.
    package var rules: [Rule]

    /// A plan with these rules.
    package init(_ rules: [Rule] = []) { self.rules = rules }
}
