/// Pure, bounded parsing of HTTP header values a client acts on.
package enum HeaderValue {
    /// `Content-Length`: `1*DIGIT`, at most 18 digits (so any value fits an `Int64`); nil otherwise (signs, spaces
    /// inside, lists, exponents).
    package static func contentLength(_ value: String) -> Int64? {
        let text = value.trimmingSpaces
        guard !text.isEmpty, text.utf8.count <= 18, text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
            return nil
        }
        return text.utf8.reduce(Int64(0)) { $0 * 10 + Int64($1 - 0x30) }
    }

    /// An entity tag (RFC 9110 §8.8.3): `"opaque"` or `W/"opaque"`; nil when malformed. Only a strong tag can guard
    /// a range request (`If-Range`).
    package static func entityTag(_ value: String) -> (weak: Bool, opaque: Substring)? {
        var text = value.trimmingSpaces
        let weak = text.hasPrefix("W/")
        if weak { text = text.dropFirst(2) }
        guard text.count >= 2, text.first == "\"", text.last == "\"" else { return nil }
        let opaque = text.dropFirst().dropLast()
        // etagc = %x21 / %x23-7E / obs-text
        guard opaque.utf8.allSatisfy({ $0 == 0x21 || (0x23...0x7E).contains($0) || $0 >= 0x80 }) else { return nil }
        return (weak, opaque)
    }
}
