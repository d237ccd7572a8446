import Foundation
import HaulCore
import HaulServer
import HaulTestSupport
import NIOCore
import Testing

/// Slow, idle and surplus connections against a real server on 127.0.0.1.
@Suite("haul serve drops slow and idle clients and caps connections", .timeLimit(.minutes(1)))
struct ConnectionLimitTests {
    static let get = "GET /index.json HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"

    static func withRepository(
        configure: @escaping (inout RepositoryServer.Configuration) -> Void,
        _ body: @escaping @Sendable (Int) async throws -> Void
    ) async throws {
        try await withTemporaryDirectory { dir in
            try Fixtures.publish(repo: "\(dir)/repo", source: "\(dir)/src", name: "m", version: "1", files: [("f", 10)])
            try await withTestOrigin(root: "\(dir)/repo", configure: configure) { _, url in
                try await body(url.port ?? 0)
            }
        }
    }

    @Test("a client that sends half a request line and waits is disconnected by the header timeout")
    func halfRequest() async throws {
        try await Self.withRepository(configure: { $0.requestHeaderTimeout = .milliseconds(300) }) { port in
            let connection = try RawConnection(port: port)
            try connection.send("GET /index.json HT")
            let got = try await connection.receive(within: .seconds(20))
            #expect(got.closed, "still open after 10 s")
            #expect(got.bytes.isEmpty, "answered a half request: \(got.text)")
        }
    }

    @Test("a client trickling its header one byte at a time is still cut off by the header timeout")
    func trickle() async throws {
        try await Self.withRepository(configure: { $0.requestHeaderTimeout = .milliseconds(500) }) { port in
            let connection = try RawConnection(port: port)
            var closed = false
            // 200 bytes at one per 50 ms would take 10 s; the timeout must close the connection long before.
            for byte in String(repeating: "X-Slow: a\r\n", count: 20).prefix(200) {
                guard (try? connection.send(String(byte))) != nil else {
                    closed = true
                    break
                }
                if try await connection.receive(within: .milliseconds(50)).closed {
                    closed = true
                    break
                }
            }
            #expect(closed)
        }
    }

    @Test("a kept-alive connection is closed after the idle timeout, and served normally before")
    func idle() async throws {
        try await Self.withRepository(configure: { $0.idleTimeout = .milliseconds(500) }) { port in
            let connection = try RawConnection(port: port)
            let answer = try await connection.exchange(Self.get, within: .seconds(20))
            #expect(answer.status == 200)
            let after = try await connection.receive(within: .seconds(20))
            #expect(after.closed && after.bytes.isEmpty)
        }
    }

    @Test("connections beyond the cap get 503 and are closed, and a request succeeds once a slot is free")
    func cap() async throws {
        try await Self.withRepository(configure: { $0.maximumConnections = 4 }) { port in
            var held: [RawConnection] = []
            for _ in 0..<4 {
                let connection = try RawConnection(port: port)
                #expect(try await connection.exchange(Self.get).status == 200)
                held.append(connection)
            }
            for _ in 0..<3 {
                let surplus = try RawConnection(port: port)
                let got = try await surplus.receive(within: .seconds(20))
                #expect(got.closed && got.text.hasPrefix("HTTP/1.1 503"), "\(got.text)")
            }
            held.removeLast()
            var status = 0
            for _ in 0..<100 where status != 200 {
                let connection = try RawConnection(port: port)
                status = (try? await connection.exchange(Self.get))?.status ?? 0
                if status != 200 { try await Task.sleep(for: .milliseconds(50)) }
            }
            #expect(status == 200)
            // The held connections were never disturbed.
            #expect(try await held[0].exchange(Self.get).status == 200)
        }
    }

    @Test(
        "connection timer decisions",
        arguments: [
            // (events: "r TEXT" read or "w" write, at ms), decide at ms, expected
            ([], 0, "wait 100"),
            ([], 100, "close header"),
            ([("r GET / HTTP/1.1\r\n\r\n", 50)], 2000, "wait 3000"),
            ([("r GET / HTTP/1.1\r\n\r\n", 50), ("w", 60)], 120, "wait 1060"),
            ([("r GET / HTTP/1.1\r\n\r\n", 50), ("w", 60)], 1060, "close idle"),
            ([("r GET / HTTP/1.1\r\nHost: x\r\n", 50)], 100, "close header"),
            ([("r GET / HTTP/1.1\n\n", 50), ("w", 50)], 120, "wait 1050"),
            ([("r GET / HTTP/1.1\r\n\r\n", 10), ("w", 20), ("r GET /", 500)], 550, "wait 600"),
            ([("r GET / HTTP/1.1\r\n\r\n", 10), ("w", 20), ("r GET /", 500)], 600, "close header"),
            ([("r GET / HTTP/1.1\r\n\r\nGET", 10)], 110, "close header"),
            ([("r GET / HTTP/1.1\r\n", 10), ("r \r\n", 90), ("w", 95)], 150, "wait 1095"),
            ([("r GET / HTTP/1.1\r\n\r\n", 10), ("w", 20), ("w", 900)], 1500, "wait 1900"),
        ] as [([(String, Int64)], Int64, String)])
    func timer(_ events: [(String, Int64)], _ now: Int64, _ expected: String) {
        func at(_ ms: Int64) -> NIODeadline { .uptimeNanoseconds(UInt64(1_000_000_000 + ms * 1_000_000)) }
        var timer = ConnectionTimer(connectedAt: at(0), headerTimeout: .milliseconds(100), idleTimeout: .seconds(1))
        for (event, ms) in events {
            if event == "w" { timer.sent(at: at(ms)) } else { Array(event.dropFirst(2).utf8).withUnsafeBytes { timer.received($0, at: at(ms)) } }
        }
        let decision: String =
            switch timer.decide(at: at(now)) {
            case .close(.headerTimeout): "close header"
            case .close(.idleTimeout): "close idle"
            case .wait(let until): "wait \((Int64(until.uptimeNanoseconds) - 1_000_000_000) / 1_000_000)"
            }
        #expect(decision == expected)
    }
}
