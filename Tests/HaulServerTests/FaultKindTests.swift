import Foundation
import HaulCore
import HaulServer
import HaulTestSupport
import Testing

/// Each fault kind the test origin offers, observed on a raw socket: the server really does it.
@Suite("test-origin fault kinds", .timeLimit(.minutes(1)))
struct FaultKindTests {
    /// A root with a 100 000-byte file `f` and a small `index.json`; runs `body` with the port.
    static func withFaults(
        _ faults: FaultPlan, configure: @escaping (inout RepositoryServer.Configuration) -> Void = { _ in },
        _ body: @escaping @Sendable (Int) async throws -> Void
    ) async throws {
        try await withTemporaryDirectory { dir in
            try FileSystem.createDirectory("\(dir)/root")
            try FileSystem.writeAtomically(Data(Fixtures.randomBytes(100_000, seed: 3)), to: "\(dir)/root/f")
            try FileSystem.writeAtomically(Data("{}".utf8), to: "\(dir)/root/index.json")
            try await withTestOrigin(root: "\(dir)/root", faults: faults, configure: configure) { _, url in
                try await body(url.port ?? 0)
            }
        }
    }

    /// Requests `path`, waits (bounded) for the head and a first body byte, then reads for about a second more.
    /// Returns the status line, the body bytes received and the seconds since the request went out: a body paced at
    /// `rate` bytes per second can never have sent more than `rate × seconds` plus one slice.
    static func pacedBody(port: Int, path: String) async throws -> (status: String, count: Int, seconds: Double) {
        let connection = try RawConnection(port: port)
        let started = ContinuousClock.now
        try connection.send(get(path))
        let first = try await connection.receive(within: .seconds(20)) { bytes in
            RawConnection.headEnd(bytes).map { bytes.count > $0 } ?? false
        }
        let end = try #require(RawConnection.headEnd(first.bytes), "no head within 20 s")
        let more = try await connection.receive(within: .seconds(1))
        let elapsed = (ContinuousClock.now - started).components
        let seconds = Double(elapsed.seconds) + Double(elapsed.attoseconds) * 1e-18
        let status = first.text.components(separatedBy: "\r\n").first ?? ""
        return (status, first.bytes.count - end + more.bytes.count, seconds)
    }

    static func get(_ path: String, _ extra: String = "") -> String {
        "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n\(extra)\r\n"
    }

    @Test("endless body: the answer keeps streaming far past any bounded document", arguments: [200, 304, 404, 500])
    func endless(_ status: Int) async throws {
        try await Self.withFaults(FaultPlan([.init(.endlessBody(status: status))])) { port in
            let connection = try RawConnection(port: port)
            try connection.send(Self.get("/index.json"))
            let got = try await connection.receive(limit: 512 << 10, within: .seconds(20))
            #expect(got.text.hasPrefix("HTTP/1.1 \(status)"))
            #expect(got.bytes.count == 512 << 10 && !got.closed, "got \(got.bytes.count) bytes, closed \(got.closed)")
        }
    }

    @Test("endless body at a rate: bytes keep coming, slowly")
    func endlessPaced() async throws {
        try await Self.withFaults(FaultPlan([.init(.endlessBody(status: 500, bytesPerSecond: 2048))])) { port in
            let (status, count, seconds) = try await Self.pacedBody(port: port, path: "/index.json")
            #expect(status == "HTTP/1.1 500 Internal Server Error")
            #expect(count >= 1 && Double(count) <= 2048 * seconds + 1024, "\(count) bytes in \(seconds) s at 2 KiB/s")
        }
    }

    @Test("extra bytes: more body than Content-Length, for the whole file and for a range")
    func extraBytes() async throws {
        try await Self.withFaults(FaultPlan([.init(pathContains: "/f", .extraBytes(100))])) { port in
            for (range, length) in [("", 100_000), ("Range: bytes=10-19\r\n", 10)] {
                let connection = try RawConnection(port: port)
                try connection.send(Self.get("/f", range))
                let got = try await connection.receive(within: .seconds(20)) { bytes in
                    RawConnection.headEnd(bytes).map { bytes.count - $0 >= length + 100 } ?? false
                }
                let end = try #require(RawConnection.headEnd(got.bytes))
                #expect(RawConnection.contentLength(got.text) == length)
                #expect(got.bytes.count - end == length + 100)
            }
        }
    }

    @Test("redirect loop: every hop points to a new URL on the same path")
    func redirectLoop() async throws {
        try await Self.withFaults(FaultPlan([.init(pathContains: "/index.json", .redirectLoop)])) { port in
            let connection = try RawConnection(port: port)
            var path = "/index.json"
            var seen: Set<String> = []
            for _ in 0..<5 {
                let answer = try await connection.exchange(Self.get(path))
                #expect(answer.status == 302)
                let location = try #require(
                    answer.head.split(separator: "\r\n").first { $0.lowercased().hasPrefix("location:") })
                path = location.dropFirst(9).trimmingCharacters(in: .whitespaces)
                #expect(path.hasPrefix("/index.json?hop=") && seen.insert(path).inserted)
            }
        }
    }

    @Test("stall before the first byte: nothing at all arrives, then the answer does")
    func stallBeforeFirstByte() async throws {
        try await Self.withFaults(FaultPlan([.init(.stallBeforeFirstByte(seconds: 5), times: 1)])) { port in
            let stalled = try RawConnection(port: port)
            try stalled.send(Self.get("/index.json"))
            let got = try await stalled.receive(within: .milliseconds(500))
            #expect(got.bytes.isEmpty && !got.closed)
            // The rule fired once: the next request is answered.
            #expect(try await RawConnection(port: port).exchange(Self.get("/index.json")).status == 200)
        }
    }

    @Test("drip: the head arrives, then the body one byte at a time")
    func drip() async throws {
        try await Self.withFaults(FaultPlan([.init(pathContains: "/f", .drip(bytesPerSecond: 20))])) { port in
            let (status, count, seconds) = try await Self.pacedBody(port: port, path: "/f")
            #expect(status == "HTTP/1.1 200 OK")
            #expect(count >= 1 && Double(count) <= 20 * seconds + 1, "\(count) body bytes in \(seconds) s at 20 B/s")
        }
    }

    @Test("the server's own throttle paces every body")
    func throttle() async throws {
        try await Self.withFaults(FaultPlan(), configure: { $0.throttle = 10_000 }) { port in
            let (status, count, seconds) = try await Self.pacedBody(port: port, path: "/f")
            #expect(status == "HTTP/1.1 200 OK")
            // Slices of 16 KiB, each sent when due.
            #expect(Double(count) <= 10_000 * seconds + 16_384, "\(count) bytes in \(seconds) s at 10 000 B/s")
        }
    }
}
