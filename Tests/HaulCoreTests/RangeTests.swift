import HaulCore
import Testing

@Suite("HTTP byte ranges")
struct RangeTests {
    @Test(
        "Range header decisions for a 1000-byte resource",
        arguments: [
            (nil, RangeDecision.full),
            ("bytes=0-499", .partial(0...499)),
            ("bytes=500-", .partial(500...999)),
            ("bytes=-200", .partial(800...999)),
            ("bytes=-2000", .partial(0...999)),
            ("bytes=990-2000", .partial(990...999)),
            ("bytes=999-999", .partial(999...999)),
            ("BYTES=0-0", .partial(0...0)),
            ("bytes = 1-2", .partial(1...2)),
            ("bytes=1000-", .unsatisfiable),
            ("bytes=5000-6000", .unsatisfiable),
            ("bytes=-0", .unsatisfiable),
            ("bytes=5-1", .full),
            ("bytes=0-1,5-6", .full),
            ("items=0-1", .full),
            ("bytes=abc", .full),
            ("bytes=-", .full),
            ("bytes=1-x", .full),
            ("bytes=+1-2", .full),
            // Positions of any length (RFC 9110 §14.1.1): beyond Int64 they are simply larger than the resource.
            ("bytes=9223372036854775807-", .unsatisfiable),
            ("bytes=9223372036854775808-", .unsatisfiable),
            ("bytes=99999999999999999999999999999999-", .unsatisfiable),
            ("bytes=9223372036854775807-9223372036854775807", .unsatisfiable),
            ("bytes=0-99999999999999999999999999", .partial(0...999)),
            ("bytes=000000000000000000000000005-9", .partial(5...9)),
            ("bytes=-99999999999999999999999999", .partial(0...999)),
            ("bytes=1000000000000000000-", .unsatisfiable),
            ("bytes=999999999999999999999-5", .full),
        ] as [(String?, RangeDecision)])
    func decide(_ header: String?, expected: RangeDecision) {
        #expect(ByteRange.decide(header: header, size: 1000) == expected)
    }

    @Test("an empty resource has no satisfiable range")
    func empty() {
        #expect(ByteRange.decide(header: "bytes=0-", size: 0) == .unsatisfiable)
        #expect(ByteRange.decide(header: "bytes=-5", size: 0) == .unsatisfiable)
    }

    @Test(
        "Content-Range parsing",
        arguments: [
            ("bytes 0-499/1000", ByteRange.ContentRange(range: 0...499, size: 1000)),
            ("bytes 0-499/*", ByteRange.ContentRange(range: 0...499, size: nil)),
            ("bytes */1000", ByteRange.ContentRange(range: nil, size: 1000)),
            ("bytes 500-499/1000", nil),
            ("bytes 0-1000/1000", nil),
            ("bytes */*", nil),
            ("0-499/1000", nil),
            ("bytes 0-a/1000", nil),
        ] as [(String, ByteRange.ContentRange?)])
    func contentRange(_ text: String, expected: ByteRange.ContentRange?) {
        #expect(ByteRange.parseContentRange(text) == expected)
    }
}
