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
