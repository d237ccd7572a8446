import Foundation
import HaulCore

/// What the server will send for one GET or HEAD of a file: a pure decision over the request's conditional and
/// range headers and the file's size and validator, tested without a socket.
public struct ResponsePlan: Hashable, Sendable {
    /// The status to send.
    public var status: Int
    /// The bytes of the file to send (nil: no body).
    public var range: ClosedRange<Int64>?
    /// The `Content-Range` header, if any.
    public var contentRange: String?

    /// Decides the answer (RFC 9110 §13 and §14).
    /// - Parameters:
    ///   - size: the file's size.
    ///   - etag: the file's strong validator, quoted (e.g. `"abc"`).
    ///   - rangeHeader: the `Range` header.
    ///   - ifRange: the `If-Range` header; a range is honoured only when it equals `etag` (strong comparison).
    ///   - ifNoneMatch: the `If-None-Match` header; a match gives 304.
    ///   - ifModifiedSince: the `If-Modified-Since` header, evaluated only without `If-None-Match` (RFC 9110
    ///     §13.2.2); a file not modified after that date gives 304; a malformed date is ignored.
    ///   - modified: the file's modification time (seconds since 1970), as its `Last-Modified` header says.
    public static func decide(
        size: Int64, etag: String, rangeHeader: String?, ifRange: String?, ifNoneMatch: String?,
        ifModifiedSince: String? = nil, modified: Int64 = 0
    ) -> ResponsePlan {
        if let ifNoneMatch {
            if matches(ifNoneMatch, etag: etag) { return ResponsePlan(status: 304, range: nil, contentRange: nil) }
        } else if let ifModifiedSince, ifModifiedSince.utf8.count <= 64,
            let since = HTTPDate.parse(Array(ifModifiedSince.utf8)), modified <= since
        {
            return ResponsePlan(status: 304, range: nil, contentRange: nil)
        }
        let whole: ClosedRange<Int64>? = size > 0 ? 0...(size - 1) : nil
        var header = rangeHeader
        if let ifRange, ifRange.trimmingCharacters(in: .whitespaces) != etag || etag.hasPrefix("W/") { header = nil }
        switch ByteRange.decide(header: header, size: size) {
        case .full:
            return ResponsePlan(status: 200, range: whole, contentRange: nil)
        case .partial(let range):
            return ResponsePlan(status: 206, range: range, contentRange: ByteRange.contentRange(range, size: size))
        case .unsatisfiable:
            return ResponsePlan(status: 416, range: nil, contentRange: "bytes */\(size)")
        }
    }

    package static func matches(_ header: String, etag: String) -> Bool {
        let candidates = header.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        // Weak comparison, as If-None-Match requires.
        let bare = etag.hasPrefix("W/") ? String(etag.dropFirst(2)) : etag
        return candidates.contains { $0 == "*" || $0 == bare || $0 == "W/\(bare)" }
    }
}
