/// How a server should answer a `Range` header for a resource of a known size (RFC 9110 §14).
package enum RangeDecision: Hashable, Sendable {
    /// Send the whole resource with 200 (no `Range`, an unparsable one, another unit, or several ranges).
    case full
    /// Send these bytes with 206 and `Content-Range: bytes first-last/size`.
    case partial(ClosedRange<Int64>)
    /// Answer 416 with `Content-Range: bytes */size`.
    case unsatisfiable
}

/// Pure parsing of HTTP byte ranges, shared by the server (`Range`) and the client (`Content-Range`).
package enum ByteRange {
    /// Decides how to answer `header` (the `Range` value, nil when absent) for a resource of `size` bytes.
    ///
    /// Only single ranges are served partially; a multi-range request is answered in full, which RFC 9110 allows.
    /// Positions are `1*DIGIT` of any length (RFC 9110 §14.1.1): a value beyond `Int64` is as large as any, so a
    /// first position past the end is unsatisfiable (416), a last position past the end means the end, and a suffix
    /// longer than the resource means all of it.
    package static func decide(header: String?, size: Int64) -> RangeDecision {
        guard let header else { return .full }
        let trimmed = header.trimmingSpaces
        guard let equals = trimmed.firstIndex(of: "="), trimmed[..<equals].trimmingSpaces.lowercased() == "bytes" else {
            return .full
        }
        let spec = trimmed[trimmed.index(after: equals)...].trimmingSpaces
        guard !spec.contains(","), let dash = spec.firstIndex(of: "-") else { return .full }
        let first = spec[..<dash].trimmingSpaces
        let last = spec[spec.index(after: dash)...].trimmingSpaces
        if first.isEmpty {
            guard let suffix = position(last) else { return .full }
            guard suffix > 0, size > 0 else { return .unsatisfiable }
            return .partial(max(0, size - suffix)...(size - 1))
        }
        guard let start = position(first) else { return .full }
        let end: Int64
        if last.isEmpty {
            end = size - 1
        } else {
            guard let value = position(last), value >= start else { return .full }
            end = min(value, size - 1)
        }
        guard start < size else { return .unsatisfiable }
        return .partial(start...end)
    }

    /// The `Range` header value requesting `range`.
    package static func header(for range: ClosedRange<Int64>) -> String {
        "bytes=\(range.lowerBound)-\(range.upperBound)"
    }

    /// The `Content-Range` header value for a 206 answer.
    package static func contentRange(_ range: ClosedRange<Int64>, size: Int64) -> String {
        "bytes \(range.lowerBound)-\(range.upperBound)/\(size)"
    }

    /// A parsed `Content-Range` value.
    package struct ContentRange: Hashable, Sendable {
        /// The bytes sent, or nil for `bytes */size` (the 416 form).
        package var range: ClosedRange<Int64>?
        /// The complete size, or nil when the server wrote `*`.
        package var size: Int64?

        /// Creates a value.
        package init(range: ClosedRange<Int64>?, size: Int64?) {
            self.range = range
            self.size = size
        }
    }

    /// Parses `bytes first-last/size`, `bytes first-last/*` or `bytes */size`; nil when malformed.
    package static func parseContentRange(_ value: String) -> ContentRange? {
        let text = value.trimmingSpaces
        guard text.lowercased().hasPrefix("bytes ") else { return nil }
        let rest = text.dropFirst(6).trimmingSpaces
        guard let slash = rest.firstIndex(of: "/") else { return nil }
        let rangePart = rest[..<slash]
        let sizePart = rest[rest.index(after: slash)...]
        let size: Int64?
        if sizePart == "*" {
            size = nil
        } else {
            guard let parsed = digits(Substring(sizePart)) else { return nil }
            size = parsed
        }
        if rangePart == "*" {
            return size == nil ? nil : ContentRange(range: nil, size: size)
        }
        guard let dash = rangePart.firstIndex(of: "-"),
            let first = digits(rangePart[..<dash]), let last = digits(rangePart[rangePart.index(after: dash)...]),
            first <= last, size.map({ last < $0 }) ?? true
        else { return nil }
        return ContentRange(range: first...last, size: size)
    }

    /// A range position: ASCII digits, any number of them (leading zeros allowed), saturating at `Int64.max`; nil
    /// when empty or not digits.
    private static func position(_ text: Substring) -> Int64? {
        guard !text.isEmpty, text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        var value: Int64 = 0
        for byte in text.utf8 {
            let (times, overflowTen) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflowDigit) = times.addingReportingOverflow(Int64(byte - 0x30))
            if overflowTen || overflowDigit { return .max }
            value = sum
        }
        return value
    }

    private static func digits(_ text: Substring) -> Int64? {
        guard !text.isEmpty, text.count <= 18, text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        return Int64(text)
    }
}

extension StringProtocol {
    var trimmingSpaces: Substring {
        let s = self[...]
        guard let start = s.firstIndex(where: { $0 != " " && $0 != "\t" }) else { return Substring() }
        let end = s.lastIndex(where: { $0 != " " && $0 != "\t" })!
        return Substring(s[start...end])
    }
}
