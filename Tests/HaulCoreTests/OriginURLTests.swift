import Foundation
import HaulCore
import Testing

/// The one rule for every URL Haul connects to (repositories, mirrors, configured remotes, redirect targets).
@Suite("Origin URL validation")
struct OriginURLTests {
    @Test(
        "URLs Haul may connect to",
        arguments: [
            "http://127.0.0.1:8080/repo", "https://models.example.com/repo", "http://localhost/x",
            "http://[::1]:65535/",
            "http://h:1/", "https://a.example/x?hop=2#f", "HTTP://Models.Example.com/repo", "http://a_b.example-c.d./",
            "http://[2001:db8::1]/r", "http://h:0080/x", "http://192.168.1.10:443",
        ])
    func accepted(_ text: String) throws {
        let url = try OriginURL.parse(text)
        #expect(url.absoluteString == text)
    }

    @Test(
        "URLs Haul refuses, each with its reason",
        arguments: [
            ("", OriginURL.Refusal.empty),
            ("http://127.0.0.1:99999/x", .invalidPort("99999")),
            ("http://127.0.0.1:65536", .invalidPort("65536")),
            ("http://[::1]:99999", .invalidPort("99999")),
            ("http://127.0.0.1:4294967297", .invalidPort("4294967297")),
            ("http://127.0.0.1:18446744073709551617/ok", .invalidPort("18446744073709551617")),
            ("http://localhost:99999", .invalidPort("99999")),
            ("http://127.0.0.1:0/x", .invalidPort("0")),
            ("http://h:/x", .invalidPort("")),
            ("http://h:00000080/x", .invalidPort("00000080")),
            ("http://:80/x", .noHost),
            ("http:///x", .noHost),
            ("http://user:secret@h/x", .userInfo),
            ("http://user@h/x", .userInfo),
            ("ftp://h/x", .notHTTP),
            ("file:///etc/passwd", .notHTTP),
            ("http:h/x", .notHTTP),
            ("h/x", .notHTTP),
            ("http://h%00/x", .invalidHost),
            ("http://[::1/x", .notHTTP),
            ("http://[vv::1]/x", .invalidHost),
            ("http://[::1]x/", .notHTTP),
            ("http://h x/", .invalidCharacters),
            ("http://h/\u{1B}[2J", .invalidCharacters),
            ("http://h/\u{202E}", .invalidCharacters),
            ("http://h/" + String(repeating: "a", count: 70_000), .tooLong(bytes: 70_009)),
        ] as [(String, OriginURL.Refusal)])
    func refused(_ text: String, _ expected: OriginURL.Refusal) {
        #expect(throws: expected) { try OriginURL.parse(text) }
    }

    @Test("a resolved redirect target is checked as an absolute URL")
    func relativeTargets() throws {
        let base = try OriginURL.parse("http://127.0.0.1:8080/a/b")
        for (location, expected) in [
            ("//127.0.0.1:99999/x", OriginURL.Refusal.invalidPort("99999")), ("//u@h/x", .userInfo),
        ] {
            let url = try #require(URL(string: location, relativeTo: base)?.absoluteURL)
            #expect(throws: expected) { try OriginURL.check(url) }
        }
        try OriginURL.check(try #require(URL(string: "/c?d=1", relativeTo: base)?.absoluteURL))
    }

    @Test("20,000 seeded random authorities: whatever is accepted has a host and a port the client can connect to")
    func randomAuthorities() throws {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next(_ bound: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((state >> 33) % UInt64(bound))
        }
        let pieces = [
            "a", "Z", "9", "0", ".", "-", "_", ":", "[", "]", "@", "%", "%00", "::1", "65535", "65536", "99999", "0",
            "18446744073709551617", "/", "?", "#", "localhost", "127.0.0.1", "//", "http:", "user:pw",
        ]
        var accepted = 0
        for _ in 0..<20_000 {
            let authority = (0..<(1 + next(6))).map { _ in pieces[next(pieces.count)] }.joined()
            let text = (next(2) == 0 ? "http://" : "https://") + authority + (next(2) == 0 ? "/r" : "")
            guard let url = try? OriginURL.parse(text) else { continue }
            accepted += 1
            #expect(!(url.host ?? "").isEmpty, "\(text)")
            #expect(url.port.map { (1...65_535).contains($0) } ?? true, "\(text)")
            #expect(url.user == nil && url.password == nil, "\(text)")
        }
        #expect(accepted > 1000, "the generator must reach accepted URLs too (\(accepted))")
    }

    @Test("every refusal reads as a reason")
    func reasons() {
        #expect(
            "\(OriginURL.Refusal.invalidPort("99999"))" == "the port \"99999\" is not a number from 1 through 65535")
        #expect("\(OriginURL.Refusal.tooLong(bytes: 70_000))".contains("too long"))
    }
}
