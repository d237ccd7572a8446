package import Foundation

/// A repository as trust state knows it: its primary base URL, normalized so that every spelling of one location
/// is one identity (and so one rollback floor, one pinned name, one set of rotated keys).
///
/// Normalization (``normalize(_:)``): scheme and host lowercased, the host in its canonical spelling
/// (``HostAddress``: `127.1`, `0x7f000001` and `2130706433` are `127.0.0.1`; IPv6 in RFC 5952 form; a name's
/// trailing root dot dropped); the scheme's default port dropped; user info,
/// query and fragment dropped (they never reach the files Haul fetches); percent-escapes of unreserved characters
/// decoded and other escapes upper-cased; `.` and `..` segments resolved; empty segments (`//`) and the trailing
/// slash removed. `HTTP://Example.com:80/a/./b//` and `http://example.com/a/b` are one identity.
///
/// The signed repository name is *not* part of the key: the name is what the index claims, known only after
/// fetching, and two unrelated repositories may share a name. Instead the state keyed by this identity pins the name
/// (``RepositoryState/name``).
package struct RepositoryIdentity: Hashable, Sendable, CustomStringConvertible {
    /// The normalized URL, e.g. `https://models.example.com/repo`.
    package let string: String

    /// The identity of the repository whose primary base URL is `url`.
    package init(_ url: URL) {
        string = Self.normalize(url.absoluteString) ?? url.absoluteString
    }

    /// The file name (without extension) of this identity's state: hex SHA-256 of ``string``.
    package var stateKey: String { SHA256Digest.of(Data(string.utf8)).hex }

    package var description: String { string }

    /// The normalized form of an http(s) URL, or nil when `text` is not one.
    package static func normalize(_ text: String) -> String? {
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased(),
            scheme == "http" || scheme == "https", let host = components.percentEncodedHost, !host.isEmpty
        else { return nil }
        var authority = HostAddress.canonical(host)
        if let port = components.port, port != (scheme == "https" ? 443 : 80) { authority += ":\(port)" }
        let path = normalizePath(components.percentEncodedPath)
        return "\(scheme)://\(authority)\(path)"
    }

    /// `path` with escapes normalized, dot segments resolved, empty segments and the trailing slash removed;
    /// "" for the root, else it starts with "/".
    static func normalizePath(_ path: String) -> String {
        var segments: [String] = []
        for raw in path.split(separator: "/", omittingEmptySubsequences: true) {
            let segment = normalizeEscapes(String(raw))
            switch segment {
            case ".": continue
            case "..": _ = segments.popLast()
            default: segments.append(segment)
            }
        }
        return segments.map { "/\($0)" }.joined()
    }

    /// Decodes `%XX` of unreserved characters (RFC 3986 §2.3) and upper-cases the hex of the others.
    static func normalizeEscapes(_ segment: String) -> String {
        let bytes = Array(segment.utf8)
        var out: [UInt8] = []
        var i = 0
        while i < bytes.count {
            if bytes[i] == UInt8(ascii: "%"), i + 2 < bytes.count, let high = hexValue(bytes[i + 1]),
                let low = hexValue(bytes[i + 2])
            {
                let value = high << 4 | low
                if isUnreserved(value) {
                    out.append(value)
                } else {
                    let digits = Array("0123456789ABCDEF".utf8)
                    out.append(contentsOf: [UInt8(ascii: "%"), digits[Int(value >> 4)], digits[Int(value & 0xF)]])
                }
                i += 3
            } else {
                out.append(bytes[i])
                i += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }

    private static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
            UInt8(ascii: "~"):
            return true
        default: return false
        }
    }
}
