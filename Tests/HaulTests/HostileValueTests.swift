import Foundation
import HaulCore
import Testing

@testable import Haul

/// Parsers of network and command-line values: every input gives a value or nil, never a trap, and text an origin
/// chose is escaped before a person sees it.
@Suite("Hostile values")
struct HostileValueTests {
    /// 2026-12-03 12:00:00 UTC.
    static let now: Int64 = 1_796_299_200

    @Test(
        "Retry-After: delay-seconds or an HTTP-date, bounded, never trapping",
        arguments: [
            ("3", Duration?.some(.seconds(3))),
            ("  0 ", .seconds(0)),
            ("120", .seconds(120)),
            ("86401", .seconds(86_400)),
            ("99999999999999999999999999999999999999", .seconds(86_400)),
            (String(repeating: "9", count: 500), .seconds(86_400)),
            ("1e300", nil), ("inf", nil), ("nan", nil), ("-5", nil), ("+5", nil), ("2.5", nil), ("0x10", nil),
            ("", nil), ("   ", nil), ("5 5", nil), ("٣", nil),
            ("Thu, 03 Dec 2026 12:00:30 GMT", .seconds(30)),
            ("Thu, 03 Dec 2026 11:00:00 GMT", .seconds(0)),
            ("Fri, 04 Dec 2026 12:00:00 GMT", .seconds(86_400)),
            ("Fri, 01 Jan 9999 00:00:00 GMT", .seconds(86_400)),
            ("Thursday, 03-Dec-26 12:01:00 GMT", .seconds(60)),
            ("Thu Dec  3 12:00:05 2026", .seconds(5)),
            ("Thu, 03 Dec 2026 12:00:30 PST", nil),
            ("Thu, 32 Dec 2026 12:00:30 GMT", nil),
            ("Thu, 03 Foo 2026 12:00:30 GMT", nil),
            ("Thu, 03 Dec 2026 25:00:30 GMT", nil),
            ("Thu, 03 Dec 99999 12:00:30 GMT", nil),
        ] as [(String, Duration?)])
    func retryAfter(_ value: String, _ expected: Duration?) {
        #expect(RetryAfter.delay(value, now: Self.now, ceiling: .seconds(86_400)) == expected)
    }

    @Test(
        "Content-Length: digits only, at most 18 of them",
        arguments: [
            ("0", Int64?.some(0)), ("1000", 1000), (" 42 ", 42), ("999999999999999999", 999_999_999_999_999_999),
            ("9999999999999999999", nil), ("-1", nil), ("+1", nil), ("1e3", nil), ("1,2", nil), ("", nil),
            ("inf", nil), ("0x1", nil),
        ] as [(String, Int64?)])
    func contentLength(_ value: String, _ expected: Int64?) {
        #expect(HeaderValue.contentLength(value) == expected)
    }

    @Test(
        "ETag: strong, weak, or refused",
        arguments: [
            ("\"abc\"", "strong"), ("W/\"abc\"", "weak"), ("abc", "bad"), ("\"a\u{1B}b\"", "bad"), ("\"", "bad"),
            ("\"a\"b\"", "bad"), ("\"\"", "strong"),
        ])
    func entityTag(_ value: String, _ kind: String) {
        let parsed = HeaderValue.entityTag(value)
        #expect((parsed == nil ? "bad" : parsed!.weak ? "weak" : "strong") == kind)
    }

    @Test(
        "--limit-rate: a positive number with K, M or G, at most 1 TiB/s; never a trap",
        arguments: [
            ("1048576", Int64?.some(1_048_576)), ("500K", 512_000), ("20m", 20 << 20), ("1G", 1 << 30),
            ("1.5K", 1536), ("0.001K", 1), ("1024G", 1 << 40),
            ("1025G", nil), ("infK", nil), ("nanM", nil), ("1e400", nil), ("1e3K", nil), ("0", nil), ("0K", nil),
            ("-5M", nil), ("", nil), ("K", nil), (".5K", nil), ("5.K", nil), ("1.0001K", nil),
            ("99999999999999999999", nil), ("9223372036854775807", nil), ("1T", nil),
        ] as [(String, Int64?)])
    func rate(_ text: String, _ expected: Int64?) {
        #expect(CommandLineValue.rate(text) == expected)
    }

    @Test(
        "counts and seconds: digits within their range",
        arguments: [
            ("30", Int64?.some(30)), ("1", 1), ("86400", 86_400), ("0", nil), ("86401", nil), ("nan", nil),
            ("-1", nil), ("1.5", nil), ("99999999999999999999999", nil), ("", nil),
        ] as [(String, Int64?)])
    func integer(_ text: String, _ expected: Int64?) {
        #expect(CommandLineValue.integer(text, in: 1...86_400) == expected)
        #expect(CommandLineValue.seconds(text, in: 1...86_400) == expected.map { .seconds($0) })
    }

    @Test(
        "untrusted text: controls, bidi and invisible characters become visible escapes",
        arguments: [
            ("plain https://a.example/x", "plain https://a.example/x"),
            ("a\u{1B}[31mred", "a\\u{1B}[31mred"),
            ("\u{9B}31m", "\\u{9B}31m"),
            ("evil\u{202E}txt.exe", "evil\\u{202E}txt.exe"),
            ("\u{2066}x\u{2069}", "\\u{2066}x\\u{2069}"),
            ("zero\u{200B}width\u{FEFF}", "zero\\u{200B}width\\u{FEFF}"),
            ("line\nbreak\r\t", "line\\u{0A}break\\u{0D}\\u{09}"),
            ("del\u{7F}", "del\\u{7F}"),
            ("ünïcödé 模型", "ünïcödé 模型"),
            ("back\\slash", "back\\slash"),
        ])
    func escaping(_ text: String, _ expected: String) {
        #expect(UntrustedText.escaped(text) == expected)
        #expect(UntrustedText.escaped(expected) == expected, "escaping twice changes nothing")
    }

    @Test("untrusted bytes: invalid UTF-8 is shown as \\xNN; long text is cut")
    func escapingBytes() {
        #expect(
            UntrustedText.escaped(bytes: [0x61, 0xFF, 0x62, 0xC0, 0xAF, 0xED, 0xA0, 0x80])
                == "a\\xFFb\\xC0\\xAF\\xED\\xA0\\x80")
        #expect(UntrustedText.escaped(bytes: Array("é\u{202E}".utf8)) == "é\\u{202E}")
        #expect(UntrustedText.escaped(bytes: [0xE2, 0x82]) == "\\xE2\\x82")
        let long = UntrustedText.escaped(String(repeating: "\u{1B}", count: 10_000), limit: 100)
        #expect(long.count < 130 && long.hasSuffix("more)"))
        #expect(!long.unicodeScalars.contains { UntrustedText.needsEscape($0) })
        let huge = UntrustedText.escaped(bytes: [UInt8](repeating: 0x41, count: 100_000), limit: 50)
        #expect(huge.hasSuffix("more bytes)") && huge.count < 120)
    }

    @Test("Duration.nanoseconds saturates instead of trapping")
    func nanoseconds() {
        #expect(Duration.seconds(Int64.max).nanoseconds == .max)
        #expect(Duration.seconds(Int64.min).nanoseconds == .min)
        #expect(Duration.milliseconds(1500).nanoseconds == 1_500_000_000)
    }
}
