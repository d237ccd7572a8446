import Foundation

/// HTTP-dates (RFC 9110 §5.6.7), parsed from untrusted headers without trapping and formatted without a formatter
/// object per request.
package enum HTTPDate {
    /// Seconds since 1970 of an HTTP-date in any of the three forms (RFC 9110 §5.6.7), or nil when malformed.
    package static func parse(_ bytes: [UInt8]) -> Int64? {
        let text = String(decoding: bytes, as: UTF8.self)
        let words = text.split(separator: " ", omittingEmptySubsequences: true)
        let day: Int64?, month: Int64?, year: Int64?, time: Substring
        if words.count == 6, words[0].hasSuffix(","), words[5] == "GMT" {
            // IMF-fixdate: Sun, 06 Nov 1994 08:49:37 GMT
            guard words[1].count == 2, words[3].count == 4, weekday(words[0].dropLast(), long: false) else {
                return nil
            }
            (day, month, year, time) = (number(words[1]), monthNumber(words[2]), number(words[3]), words[4])
        } else if words.count == 4, words[0].hasSuffix(","), words[3] == "GMT" {
            // RFC 850: Sunday, 06-Nov-94 08:49:37 GMT (two-digit years: RFC 9110 says pick the most recent past
            // century match; 70–99 are 19xx, the rest 20xx, which is right for any date a server sends today).
            let parts = words[1].split(separator: "-", omittingEmptySubsequences: false)
            guard weekday(words[0].dropLast(), long: true), parts.count == 3, parts[0].count == 2, parts[2].count == 2,
                let short = number(parts[2])
            else { return nil }
            (day, month, year, time) = (
                number(parts[0]), monthNumber(parts[1]), short + (short >= 70 ? 1900 : 2000),
                words[2]
            )
        } else if words.count == 5, weekday(words[0], long: false) {
            // asctime: Sun Nov  6 08:49:37 1994
            guard words[2].count <= 2, words[4].count == 4 else { return nil }
            (day, month, year, time) = (number(words[2]), monthNumber(words[1]), number(words[4]), words[3])
        } else {
            return nil
        }
        let clock = time.split(separator: ":", omittingEmptySubsequences: false)
        guard let day, let month, let year, clock.count == 3, clock.allSatisfy({ $0.count == 2 }),
            let hour = number(clock[0]), let minute = number(clock[1]), let second = number(clock[2]),
            (1...31).contains(day), hour < 24, minute < 60, second <= 60, year >= 1900, year <= 9999
        else { return nil }
        return daysFromCivil(year: year, month: month, day: day) * 86_400 + hour * 3600 + minute * 60 + second
    }

    /// `secondsSince1970` as `Sun, 06 Nov 1994 08:49:37 GMT` (clamped to years 1970…9999).
    package static func format(secondsSince1970 seconds: Int64) -> String {
        var time = time_t(min(max(seconds, 0), 253_402_300_799))
        var parts = tm()
        guard gmtime_r(&time, &parts) != nil else { return "Thu, 01 Jan 1970 00:00:00 GMT" }
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        let day = sundayFirst[Int(parts.tm_wday) % 7], month = months[Int(parts.tm_mon) % 12]
        return "\(day), \(two(parts.tm_mday)) \(month) \(parts.tm_year + 1900) "
            + "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)) GMT"
    }

    private static func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }

    private static func number(_ text: Substring) -> Int64? {
        guard !text.isEmpty, text.count <= 4, text.utf8.allSatisfy(isDigit) else { return nil }
        return text.utf8.reduce(Int64(0)) { $0 * 10 + Int64($1 - 0x30) }
    }

    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    private static let days = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
    private static let sundayFirst = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    private static let longDays = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]

    private static func monthNumber(_ text: Substring) -> Int64? {
        months.firstIndex(of: String(text)).map { Int64($0) + 1 }
    }

    private static func weekday(_ text: Substring, long: Bool) -> Bool {
        (long ? longDays : days).contains(String(text))
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
    private static func daysFromCivil(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }
}
