package import Foundation

/// The one rule for a URL Haul connects to: a repository, a mirror, a configured remote or a redirect's `Location`.
///
/// Foundation's `URL` keeps whatever port digits it is given (`:99999`, `:4294967297`, and for twenty digits no port
/// at all, so the request would silently go to port 80), and the HTTP client turns that number into a socket
/// address, where a value above 65535 traps or wraps around. So the authority is read here from the URL's own text,
/// byte by byte, and must agree with what Foundation parsed:
///
/// - at most ``maximumLength`` bytes, printable ASCII only (no controls, spaces or other characters);
/// - scheme `http` or `https`, followed by `//` and an authority;
/// - no user name or password (they would be logged and stored in receipts);
/// - a host: letters, digits, `-`, `.`, `_` (no percent-encoding), or an IPv6 address in brackets;
/// - a port, when present, of 1 to 5 digits with a value from 1 through 65535.
package enum OriginURL {
    /// The longest URL accepted, in bytes (a redirect target or a configured URL). Default of most servers' request
    /// line limits.
    package static let maximumLength = 8192

    /// Why a URL was refused, in Haul's own words (no text the URL's author chose, except a bounded, escaped port).
    package enum Refusal: Error, Hashable, Sendable, CustomStringConvertible {
        /// The text is empty.
        case empty
        /// The text is longer than ``OriginURL/maximumLength`` bytes.
        case tooLong(bytes: Int)
        /// Control characters, spaces or non-ASCII characters.
        case invalidCharacters
        /// Not an absolute `http://` or `https://` URL.
        case notHTTP
        /// No host, or an empty one.
        case noHost
        /// A host with characters no host name or IP address has.
        case invalidHost
        /// A user name or password before the host.
        case userInfo
        /// A port that is empty, not digits, or outside 1–65535 (escaped, at most 24 characters).
        case invalidPort(String)

        /// The reason as a phrase, e.g. "the port 99999 is outside 1–65535".
        package var description: String {
            switch self {
            case .empty: return "the URL is empty"
            case .tooLong(let bytes): return "the URL is too long (\(bytes) bytes; at most \(OriginURL.maximumLength))"
            case .invalidCharacters: return "the URL has control, space or non-ASCII characters"
            case .notHTTP: return "it is not an http(s) URL"
            case .noHost: return "the URL has no host"
            case .invalidHost: return "the URL's host is not a host name or an IP address"
            case .userInfo: return "the URL carries a user name or password"
            case .invalidPort(let port): return "the port \"\(port)\" is not a number from 1 through 65535"
            }
        }
    }

    /// Parses `text` as an absolute URL and checks it with ``check(_:)``.
    /// - Throws: ``Refusal``.
    package static func parse(_ text: String) throws(Refusal) -> URL {
        guard !text.isEmpty else { throw .empty }
        try checkText(text)
        guard let url = URL(string: text) else { throw .notHTTP }
        try check(url)
        return url
    }

    /// Checks an absolute URL (its `absoluteString`) against the rule above.
    /// - Throws: ``Refusal``; a path, query or fragment of any (printable) shape is not an error.
    package static func check(_ url: URL) throws(Refusal) {
        let text = url.absoluteString
        try checkText(text)
        let bytes = Array(text.utf8)
        guard let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https",
            bytes.count > scheme.utf8.count + 3,
            bytes[scheme.utf8.count] == UInt8(ascii: ":"), bytes[scheme.utf8.count + 1] == UInt8(ascii: "/"),
            bytes[scheme.utf8.count + 2] == UInt8(ascii: "/")
        else { throw .notHTTP }
        let rest = bytes[(scheme.utf8.count + 3)...]
        let authority = rest.prefix { $0 != UInt8(ascii: "/") && $0 != UInt8(ascii: "?") && $0 != UInt8(ascii: "#") }
        guard !authority.contains(UInt8(ascii: "@")) else { throw .userInfo }
        let (host, port) = try split(Array(authority))
        guard !host.isEmpty, let parsedHost = url.host, !parsedHost.isEmpty else { throw .noHost }
        guard isHost(host) else { throw .invalidHost }
        guard url.port == port else { throw .invalidPort(printable(port.map(String.init) ?? "")) }
    }

    private static func checkText(_ text: String) throws(Refusal) {
        let length = text.utf8.count
        guard length > 0 else { throw .empty }
        guard length <= maximumLength else { throw .tooLong(bytes: length) }
        guard text.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else { throw .invalidCharacters }
    }

    /// Splits an authority (without user info) into host bytes (brackets kept for IPv6) and port.
    private static func split(_ authority: [UInt8]) throws(Refusal) -> (host: [UInt8], port: Int?) {
        var host = authority[...]
        var portText: ArraySlice<UInt8>?
        if authority.first == UInt8(ascii: "[") {
            guard let close = authority.firstIndex(of: UInt8(ascii: "]")) else { throw .invalidHost }
            host = authority[...close]
            let after = authority[(close + 1)...]
            if let colon = after.first {
                guard colon == UInt8(ascii: ":") else { throw .invalidHost }
                portText = after.dropFirst()
            }
        } else if let colon = authority.lastIndex(of: UInt8(ascii: ":")) {
            host = authority[..<colon]
            portText = authority[(colon + 1)...]
        }
        guard let portText else { return (Array(host), nil) }
        let shown = printable(String(decoding: portText, as: UTF8.self))
        guard (1...5).contains(portText.count), portText.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
            throw .invalidPort(shown)
        }
        let value = portText.reduce(0) { $0 * 10 + Int($1 - 0x30) }
        guard (1...65_535).contains(value) else { throw .invalidPort(shown) }
        return (Array(host), value)
    }

    /// A host name (letters, digits, `-`, `.`, `_`) or a bracketed IPv6 address (hex digits, `:` and `.`).
    private static func isHost(_ host: [UInt8]) -> Bool {
        func isAlphanumeric(_ b: UInt8) -> Bool {
            (0x30...0x39).contains(b) || (0x41...0x5A).contains(b) || (0x61...0x7A).contains(b)
        }
        if host.first == UInt8(ascii: "[") {
            let inner = host.dropFirst().dropLast()
            return host.last == UInt8(ascii: "]") && inner.contains(UInt8(ascii: ":"))
                && inner.allSatisfy { isAlphanumeric($0) || $0 == UInt8(ascii: ":") || $0 == UInt8(ascii: ".") }
                && inner.allSatisfy { !((0x67...0x7A).contains($0) || (0x47...0x5A).contains($0)) }
        }
        return host.allSatisfy {
            isAlphanumeric($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "_")
        }
    }

    private static func printable(_ text: String) -> String {
        UntrustedText.escaped(String(text.prefix(24)), limit: 24)
    }
}
