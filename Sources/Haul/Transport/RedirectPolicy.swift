public import Foundation

/// Haul's own redirect rule: at most N hops, http(s) only, never from https down to http, no control characters.
public enum RedirectPolicy {
    /// The URL to follow for a `Location` header, resolved against `current`.
    /// - Throws: ``HaulError`` `.badResponse` for a refused redirect.
    public static func target(from current: URL, location: String?, hop: Int, maximum: Int) throws -> URL {
        func refuse(_ why: String) -> HaulError {
            HaulError(
                .badResponse, "Refused a redirect from \(current.absoluteString): \(why).",
                context: ["url": current.absoluteString])
        }
        guard hop <= maximum else { throw refuse("more than \(maximum) redirects") }
        guard let location, !location.isEmpty else { throw refuse("no Location header") }
        guard !location.unicodeScalars.contains(where: { $0.value < 0x21 || $0.value == 0x7F || $0.value > 0x7E })
        else {
            throw refuse("the Location has control, space or non-ASCII characters")
        }
        guard let url = URL(string: location, relativeTo: current)?.absoluteURL, let scheme = url.scheme?.lowercased(),
            ["http", "https"].contains(scheme), url.host != nil
        else { throw refuse("the Location is not an http(s) URL") }
        if current.scheme?.lowercased() == "https", scheme == "http" { throw refuse("it downgrades https to http") }
        return url
    }
}
