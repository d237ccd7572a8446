package import Foundation
import HaulCore

/// Haul's own redirect rule: at most N hops, http(s) only, never from https down to http, no control characters.
package enum RedirectPolicy {
    /// Why a redirect was refused, in Haul's own words (no origin-chosen text).
    package struct Refusal: Error, Hashable {
        /// The reason, e.g. "more than 5 redirects".
        package var reason: String
    }

    /// The URL to follow for a `Location` header, resolved against `current`. The target must pass
    /// ``OriginURL/check(_:)`` (http(s), a valid host, a port from 1 through 65535, no user info, at most
    /// ``OriginURL/maximumLength`` bytes), like every URL Haul connects to.
    /// - Throws: ``Refusal`` for a refused redirect.
    package static func target(from current: URL, location: String?, hop: Int, maximum: Int) throws(Refusal) -> URL {
        guard hop <= maximum else { throw Refusal(reason: "more than \(maximum) redirects") }
        guard let location, !location.isEmpty else { throw Refusal(reason: "no Location header") }
        guard location.utf8.count <= OriginURL.maximumLength else {
            throw Refusal(
                reason: "the Location is too long (\(location.utf8.count) bytes; at most \(OriginURL.maximumLength))")
        }
        guard !location.unicodeScalars.contains(where: { $0.value < 0x21 || $0.value == 0x7F || $0.value > 0x7E })
        else {
            throw Refusal(reason: "the Location has control, space or non-ASCII characters")
        }
        guard let url = URL(string: location, relativeTo: current)?.absoluteURL else {
            throw Refusal(reason: "the Location is not an http(s) URL")
        }
        do { try OriginURL.check(url) } catch { throw Refusal(reason: "the Location is refused: \(error)") }
        if current.scheme?.lowercased() == "https", url.scheme?.lowercased() == "http" {
            throw Refusal(reason: "it downgrades https to http")
        }
        return url
    }
}
