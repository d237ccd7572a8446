import AsyncHTTPClient
import Foundation
import HaulCore
import HaulServer
import HaulTestSupport
import NIOCore
import NIOHTTP1
import Testing

/// Requests against a real `haul serve` on 127.0.0.1.
@Suite("haul serve range semantics", .timeLimit(.minutes(1)))
struct ServerRangeTests {
    struct Answer {
        var status: Int
        var headers: HTTPHeaders
        var body: [UInt8]
    }

    static func request(_ url: URL, _ path: String, method: HTTPMethod = .GET, headers: [(String, String)] = [])
        async throws -> Answer
    {
        let base = url.absoluteString.hasSuffix("/") ? String(url.absoluteString.dropLast()) : url.absoluteString
        var request = HTTPClientRequest(url: base + (path.hasPrefix("/") ? path : "/" + path))
        request.method = method
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        let body = try await response.body.collect(upTo: 64 << 20)
        return Answer(status: Int(response.status.code), headers: response.headers, body: Array(body.readableBytesView))
    }

    /// A repository with one 100 000-byte blob; returns its URL path and bytes.
    static func withRepository(_ body: @escaping @Sendable (URL, String, [UInt8]) async throws -> Void) async throws {
        try await withTemporaryDirectory { dir in
            let report = try Fixtures.publish(
                repo: "\(dir)/repo", source: "\(dir)/src", name: "m", version: "1", files: [("f", 100_000)])
            let bytes = Fixtures.randomBytes(100_000, seed: 1)
            let path = RepositoryLayout.blobPath(report.manifest.files[0].sha256)
            try await withTestOrigin(root: "\(dir)/repo") { _, url in try await body(url, path, bytes) }
        }
    }

    @Test("serves ranges, suffixes, 416, HEAD, ETag, 304 and If-Range exactly")
    func ranges() async throws {
        try await Self.withRepository { url, path, bytes in
            let full = try await Self.request(url, path)
            #expect(full.status == 200 && full.body == bytes)
            #expect(full.headers.first(name: "Accept-Ranges") == "bytes")
            #expect(full.headers.first(name: "Cache-Control") == "public, max-age=31536000, immutable")
            let etag = try #require(full.headers.first(name: "ETag"))
            #expect(etag == "\"\(path.split(separator: "/").last!)\"")

            let part = try await Self.request(url, path, headers: [("Range", "bytes=10-19")])
            #expect(part.status == 206 && part.body == Array(bytes[10...19]))
            #expect(part.headers.first(name: "Content-Range") == "bytes 10-19/100000")

            let suffix = try await Self.request(url, path, headers: [("Range", "bytes=-5")])
            #expect(suffix.status == 206 && suffix.body == Array(bytes[99_995...]))
            #expect(suffix.headers.first(name: "Content-Range") == "bytes 99995-99999/100000")

            let open = try await Self.request(url, path, headers: [("Range", "bytes=99990-")])
            #expect(open.status == 206 && open.body == Array(bytes[99_990...]))

            let beyond = try await Self.request(url, path, headers: [("Range", "bytes=100000-")])
            #expect(
                beyond.status == 416 && beyond.headers.first(name: "Content-Range") == "bytes */100000"
                    && beyond.body.isEmpty)

            // A first position beyond Int64 (or at its maximum) is past the end, not a malformed header: 416.
            for huge in ["bytes=9223372036854775807-", "bytes=99999999999999999999999-"] {
                let answer = try await Self.request(url, path, headers: [("Range", huge)])
                #expect(answer.status == 416, "\(huge)")
                #expect(answer.headers.first(name: "Content-Range") == "bytes */100000", "\(huge)")
            }
            let multi = try await Self.request(url, path, headers: [("Range", "bytes=0-1,5-6")])
            #expect(multi.status == 200 && multi.body.count == 100_000)

            let head = try await Self.request(url, path, method: .HEAD)
            #expect(head.status == 200 && head.body.isEmpty && head.headers.first(name: "Content-Length") == "100000")

            let cached = try await Self.request(url, path, headers: [("If-None-Match", etag)])
            #expect(cached.status == 304 && cached.body.isEmpty)

            let guarded = try await Self.request(url, path, headers: [("Range", "bytes=0-9"), ("If-Range", etag)])
            #expect(guarded.status == 206 && guarded.body == Array(bytes[0...9]))
            let stale = try await Self.request(url, path, headers: [("Range", "bytes=0-9"), ("If-Range", "\"other\"")])
            #expect(stale.status == 200 && stale.body == bytes)
        }
    }

    @Test(
        "never serves anything outside the repository, hidden files or symlinks",
        arguments: [
            "/../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd", "/blobs/..%2f..%2fetc/passwd", "/.staging/x", "/blobs",
            "/blobs/sha256/%00", "/link", "/nothing", "/blobs\\sha256",
        ])
    func traversal(_ path: String) async throws {
        try await withTemporaryDirectory { dir in
            try Fixtures.publish(repo: "\(dir)/repo", source: "\(dir)/src", name: "m", version: "1", files: [("f", 10)])
            try FileManager.default.createSymbolicLink(atPath: "\(dir)/repo/link", withDestinationPath: "/etc/passwd")
            try FileSystem.createDirectory("\(dir)/repo/.staging")
            try FileSystem.writeAtomically(Data("x".utf8), to: "\(dir)/repo/.staging/x")
            try await withTestOrigin(root: "\(dir)/repo") { _, url in
                // The same server does serve a legitimate file, so a 404 below is the path check, not a dead server.
                #expect(try await Self.request(url, "/index.json").status == 200)
                let answer = try await Self.request(url, path)
                #expect(answer.status == 404 || answer.status == 400, "\(path) → \(answer.status)")
                #expect(!String(decoding: answer.body, as: UTF8.self).contains("root:"))
            }
        }
    }

    @Test("the index is served revalidatable, with a validator that answers 304")
    func index() async throws {
        try await Self.withRepository { url, _, _ in
            let index = try await Self.request(url, "/index.json")
            #expect(index.status == 200 && index.headers.first(name: "Cache-Control") == "no-cache")
            let etag = try #require(index.headers.first(name: "ETag"))
            #expect(try await Self.request(url, "/index.json", headers: [("If-None-Match", etag)]).status == 304)
            #expect(try await Self.request(url, "/index.json", method: .POST).status == 405)
        }
    }

    @Test(
        "response plans follow RFC 9110",
        arguments: [
            (nil, nil, nil, 200, "0-99"),
            ("bytes=0-9", nil, nil, 206, "0-9"),
            ("bytes=0-9", "\"e\"", nil, 206, "0-9"),
            ("bytes=0-9", "\"x\"", nil, 200, "0-99"),
            ("bytes=0-9", "Mon, 01 Jan 2024 00:00:00 GMT", nil, 200, "0-99"),
            ("bytes=500-", nil, nil, 416, ""),
            (nil, nil, "\"e\"", 304, ""),
            (nil, nil, "W/\"e\"", 304, ""),
            (nil, nil, "*", 304, ""),
            (nil, nil, "\"a\", \"e\"", 304, ""),
            (nil, nil, "\"a\"", 200, "0-99"),
        ] as [(String?, String?, String?, Int, String)])
    func plans(_ range: String?, _ ifRange: String?, _ ifNoneMatch: String?, _ status: Int, _ bytes: String) {
        let plan = ResponsePlan.decide(
            size: 100, etag: "\"e\"", rangeHeader: range, ifRange: ifRange, ifNoneMatch: ifNoneMatch)
        #expect(plan.status == status)
        #expect(plan.range.map { "\($0.lowerBound)-\($0.upperBound)" } ?? "" == bytes)
    }

    static let modified: Int64 = 1_700_000_000  // Tue, 14 Nov 2023 22:13:20 GMT

    @Test(
        "If-Modified-Since answers 304 for a file not modified since, only without If-None-Match (RFC 9110 §13.1.3)",
        arguments: [
            ("Tue, 14 Nov 2023 22:13:20 GMT", nil, 304),
            ("Wed, 15 Nov 2023 00:00:00 GMT", nil, 304),
            ("Tuesday, 14-Nov-23 22:13:20 GMT", nil, 304),
            ("Tue Nov 14 22:13:20 2023", nil, 304),
            ("Tue, 14 Nov 2023 22:13:19 GMT", nil, 200),
            ("Thu, 01 Jan 1970 00:00:00 GMT", nil, 200),
            ("yesterday", nil, 200),
            ("Tue, 14 Nov 2023 22:13:20 GMT\u{0}", nil, 200),
            ("Tue, 14 Nov 99999 22:13:20 GMT", nil, 200),
            (String(repeating: "9", count: 10_000), nil, 200),
            ("Wed, 15 Nov 2023 00:00:00 GMT", "\"other\"", 200),
            ("Tue, 14 Nov 2023 22:13:19 GMT", "\"e\"", 304),
        ] as [(String, String?, Int)])
    func ifModifiedSince(_ since: String, _ ifNoneMatch: String?, _ status: Int) {
        let plan = ResponsePlan.decide(
            size: 100, etag: "\"e\"", rangeHeader: nil, ifRange: nil, ifNoneMatch: ifNoneMatch,
            ifModifiedSince: since, modified: Self.modified)
        #expect(plan.status == status)
    }

    @Test("a real server answers If-Modified-Since with its Last-Modified date, and the connection stays usable")
    func notModifiedOnTheWire() async throws {
        try await Self.withRepository { url, path, bytes in
            let first = try await Self.request(url, "/index.json")
            let lastModified = try #require(first.headers.first(name: "Last-Modified"))
            let etag = try #require(first.headers.first(name: "ETag"))
            let port = try #require(url.port)
            let connection = try RawConnection(port: port)
            let conditional = "GET /index.json HTTP/1.1\r\nHost: x\r\nIf-Modified-Since: \(lastModified)\r\n\r\n"
            try connection.send(conditional)
            let head = try await connection.receive(within: .seconds(20)) { RawConnection.headEnd($0) != nil }
            #expect(head.text.hasPrefix("HTTP/1.1 304"), "\(head.text)")
            #expect(
                head.text.contains("ETag: \(etag)") || head.text.lowercased().contains("etag: \(etag.lowercased())"))
            #expect(RawConnection.headEnd(head.bytes) == head.bytes.count, "no body after a 304")
            // The same connection serves the next request exactly: no stray body bytes sit in front of it.
            let target = path.hasPrefix("/") ? path : "/" + path
            let next = try await connection.exchange("GET \(target) HTTP/1.1\r\nHost: x\r\nRange: bytes=0-9\r\n\r\n")
            #expect(next.status == 206 && next.body == Array(bytes[0..<10]), "\(next.head)")
            let older = try await Self.request(
                url, "/index.json", headers: [("If-Modified-Since", "Thu, 01 Jan 1970 00:00:00 GMT")])
            #expect(older.status == 200 && older.body == first.body)
        }
    }
}
