import Foundation
import HaulCore

/// A file the server opened for one request, with the headers that describe it.
struct ServedFile: Sendable {
    /// The open file; bytes are read from it, never by path.
    var file: OpenedFile
    /// The URL path's components, as served.
    var components: [String]
    var size: Int64 { file.size }
    var etag: String
    var cacheControl: String
    var contentType: String
    var lastModified: String

    /// Describes `file`, opened at `components`: content-addressed blobs and manifests
    /// (`blobs|manifests/sha256/<digest>`) get their digest as strong ETag and immutable caching; everything else a
    /// size-and-mtime validator and `no-cache`.
    init(_ file: OpenedFile, components: [String]) {
        self.file = file
        self.components = components
        let name = components.last ?? ""
        let digestName = name.hasSuffix(".json") ? String(name.dropLast(5)) : name
        let immutable =
            components.count == 3 && ["blobs", "manifests"].contains(components[0])
            && SHA256Digest(hex: digestName) != nil
        let (micros, overflow) = file.modifiedSeconds.multipliedReportingOverflow(by: 1_000_000)
        let stamp = overflow ? file.modifiedSeconds : micros &+ file.modifiedNanoseconds / 1000
        etag =
            immutable
            ? "\"\(digestName)\""
            : "\"\(String(file.size, radix: 16))-\(String(stamp, radix: 16))\""
        cacheControl = immutable ? "public, max-age=31536000, immutable" : "no-cache"
        contentType = name.hasSuffix(".json") ? "application/json" : "application/octet-stream"
        lastModified = HTTPDate.format(secondsSince1970: file.modifiedSeconds)
    }
}

/// RFC 9110 IMF-fixdate, without a formatter object per request.
package enum HTTPDate {
    static let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// `secondsSince1970` as `Sun, 06 Nov 1994 08:49:37 GMT` (clamped to years 1970…9999).
    package static func format(secondsSince1970 seconds: Int64) -> String {
        var time = time_t(min(max(seconds, 0), 253_402_300_799))
        var parts = tm()
        guard gmtime_r(&time, &parts) != nil else { return "Thu, 01 Jan 1970 00:00:00 GMT" }
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        let day = days[Int(parts.tm_wday) % 7], month = months[Int(parts.tm_mon) % 12]
        return "\(day), \(two(parts.tm_mday)) \(month) \(parts.tm_year + 1900) "
            + "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)) GMT"
    }
}
