/// Pure parsing of `Retry-After` (RFC 9110 §10.2.3): delay-seconds or an HTTP-date, bounded, never trapping.
package enum RetryAfter {
    /// The delay `value` asks for, relative to `now` (seconds since 1970), at most `ceiling`; nil when malformed.
    ///
    /// delay-seconds is `1*DIGIT` (no sign, no fraction, no exponent); any count of digits is read without overflow
    /// and capped at `ceiling`. An HTTP-date is IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`) or one of the two
    /// obsolete forms (RFC 850 `Sunday, 06-Nov-94 08:49:37 GMT`, asctime `Sun Nov  6 08:49:37 1994`); a date in the
    /// past means no delay.
    package static func delay(_ value: String, now: Int64, ceiling: Duration) -> Duration? {
        let text = value.utf8.drop { $0 == 0x20 || $0 == 0x09 }.reversed().drop { $0 == 0x20 || $0 == 0x09 }
        let bytes = Array(text.reversed())
        guard !bytes.isEmpty, bytes.count <= 64 else {
            return bytes.count > 64 && bytes.allSatisfy(isDigit) ? ceiling : nil
        }
        let cap = max(0, ceiling.components.seconds)
        if bytes.allSatisfy(isDigit) {
            var seconds: Int64 = 0
            for byte in bytes {
                seconds = seconds * 10 + Int64(byte - 0x30)
                if seconds > cap { return ceiling }
            }
            return .seconds(seconds)
        }
        guard let date = HTTPDate.parse(bytes) else { return nil }
        let wait = date > now ? date - now : 0
        return wait > cap ? ceiling : .seconds(wait)
    }

    private static func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }
}
