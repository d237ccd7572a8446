import Foundation
import Haul
import HaulCore
import HaulTestSupport
import Testing

/// The attacks of the release review (issue 8) against real origins on 127.0.0.1: redirects to ports no socket
/// has, endless informational responses, drip-fed bodies and a dripping index. Every pull ends, with a clear error
/// or with the exact files; nothing traps and nothing hangs.
@Suite("Hostile transport", .timeLimit(.minutes(2)))
struct HostileTransportTests {
    static func redirect(to location: String) -> HostileOrigin.Answer {
        .raw(
            Array("HTTP/1.1 302 Found\r\nLocation: \(location)\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".utf8))
    }

    static let badLocations: [(String, String)] = [
        ("http://127.0.0.1:99999/ok/x", "the port \"99999\" is not a number from 1 through 65535"),
        ("//127.0.0.1:99999/x", "the port \"99999\""),
        ("http://[::1]:99999/x", "the port \"99999\""),
        ("http://127.0.0.1:4294967297/x", "the port \"4294967297\""),
        ("http://127.0.0.1:18446744073709551617/ok/x", "the port \"18446744073709551617\""),
        ("http://localhost:99999/x", "the port \"99999\""),
        ("http://127.0.0.1:0/ok/x", "the port \"0\""),
        ("http://user:pw@127.0.0.1/x", "user name or password"),
        ("file:///etc/passwd", "not an http(s) URL"),
        ("LONG", "the Location is too long (70006 bytes; at most 8192)"),
    ]

    /// The location a test argument stands for ("LONG": a 70 KB one, kept out of the test's name).
    static func expand(_ location: String) -> String {
        location == "LONG" ? "/ok/x?" + String(repeating: "a", count: 70_000) : location
    }

    @Test(
        "a redirect of a blob to a port outside 1–65535 (or any refused URL) fails clearly, without a trap",
        arguments: badLocations)
    func blobRedirect(_ location: String, _ reason: String) async throws {
        try await HostileOriginTests.withHostileModel(
            rules: { blob, _ in [.init(blob, Self.redirect(to: Self.expand(location)))] },
            configure: { $0.transfer.pinConnections(to: 1) }
        ) { _, origin, manager in
            let error = try await Self.failure(of: manager)
            #expect(error.code == .badResponse, "\(error)")
            #expect(error.message.contains("Refused a redirect") && error.message.contains(reason), "\(error.message)")
            // Refused at once: a redirect no retry can fix is not retried.
            #expect(origin.requests.filter { $0.contains("blobs/") }.count == 1, "\(origin.requests)")
            #expect(!manager.isModelDownloaded("m"))
        }
    }

    @Test(
        "a redirect of the index to a port outside 1–65535 fails clearly, without a trap",
        arguments: badLocations.prefix(3).map(\.0))
    func indexRedirect(_ location: String) async throws {
        try await HostileOriginTests.withHostileModel(rules: { _, _ in
            [.init("index.json", Self.redirect(to: location))]
        }) {
            _, origin, manager in
            let error = try await Self.failure(of: manager)
            #expect(error.code == .badResponse, "\(error)")
            #expect(error.message.contains("the port \"99999\""), "\(error.message)")
            #expect(origin.requests.count == 1, "\(origin.requests)")
        }
    }

    @Test("a repository URL with a port outside 1–65535 set in code is refused before any connection")
    func libraryURL() async throws {
        try await withTemporaryDirectory { dir in
            let url = try #require(URL(string: "http://127.0.0.1:99999/repo"))
            try await withTestManager(repository: [url], store: "\(dir)/store") { manager in
                let error = try await Self.failure(of: manager)
                #expect(error.code == .invalidArgument, "\(error)")
                #expect(error.message.contains("the port \"99999\""), "\(error.message)")
            }
        }
    }

    @Test("endless 103 Early Hints are not progress: the request is abandoned at the stall timeout and retried")
    func endlessInformational() async throws {
        try await HostileOriginTests.withHostileModel(
            rules: { blob, _ in [.init(blob, .informational(interval: .milliseconds(200)))] },
            configure: {
                $0.transfer.stallTimeout = .seconds(1)
                $0.transfer.pinConnections(to: 1)
                $0.transfer.retry.maximumAttempts = 3
            }
        ) { _, origin, manager in
            let error = try await Self.failure(of: manager)
            #expect(error.code == .timeout, "\(error)")
            #expect(error.message.contains("stopped sending data"), "\(error.message)")
            #expect(
                origin.requests.filter { $0.contains("blobs/") }.count == 3, "every attempt made: \(origin.requests)")
        }
    }

    @Test("a body dripped below the minimum rate is abandoned and retried; when retries run out, a clear error")
    func dripSingleOrigin() async throws {
        try await HostileOriginTests.withHostileModel(
            rules: { blob, _ in [.init(blob, .dripFile(interval: .milliseconds(100)))] },
            configure: {
                // One byte every 100 ms never trips the 1 s stall timeout; only the low-speed rule ends it.
                $0.transfer.stallTimeout = .seconds(1)
                $0.transfer.pinConnections(to: 1)
                $0.transfer.retry.maximumAttempts = 2
            }
        ) { _, origin, manager in
            let error = try await Self.failure(of: manager)
            #expect(error.code == .timeout, "\(error)")
            #expect(error.message.contains("below the minimum of 1024 bytes/s"), "\(error.message)")
            #expect(origin.requests.filter { $0.contains("blobs/") }.count == 2, "\(origin.requests)")
            #expect(origin.bodyBytesSent(prefix: "blobs/") < 100, "only the drip was sent")
        }
    }

    @Test("with the low-speed rule off (minimum rate 0) a drip is bounded only by its size")
    func dripRuleOff() async throws {
        try await HostileOriginTests.withHostileModel(
            rules: { blob, _ in [.init(blob, .dripFile(interval: .milliseconds(100)))] },
            configure: {
                $0.transfer.stallTimeout = .seconds(1)
                $0.transfer.minimumRate = 0
                $0.transfer.pinConnections(to: 1)
            }
        ) { _, origin, manager in
            let task = Task { try await manager.downloadModel("m") }
            // Still running after three low-speed windows: the rule is what ends a drip.
            try await waitUntil(
                "the drip brought 30 bytes", timeout: .seconds(10),
                detail: { "\(origin.bodyBytesSent(prefix: "blobs/")) bytes, requests \(origin.requests)" }
            ) { origin.bodyBytesSent(prefix: "blobs/") >= 30 }
            #expect(origin.requests.filter { $0.contains("blobs/") }.count == 1, "\(origin.requests)")
            task.cancel()
            _ = await task.result
        }
    }

    @Test("a drip-fed mirror is abandoned for the healthy one; the exact files are installed")
    func dripWithMirror() async throws {
        try await withTemporaryDirectory { dir in
            let report = try Fixtures.publish(
                repo: "\(dir)/repo", source: "\(dir)/src", name: "m", version: "1",
                files: [("model.bin", HostileOriginTests.size)])
            let blob = RepositoryLayout.blobPath(report.manifest.files[0].sha256)
            let dripping = try HostileOrigin(
                root: "\(dir)/repo", rules: [.init(blob, .dripFile(interval: .milliseconds(100)))])
            let healthy = try HostileOrigin(root: "\(dir)/repo", rules: [])
            defer {
                dripping.stop()
                healthy.stop()
            }
            try await withTestManager(
                repository: [dripping.url, healthy.url], store: "\(dir)/store",
                configure: {
                    $0.transfer.stallTimeout = .seconds(1)
                    $0.transfer.retry.maximumAttempts = 2
                }
            ) { manager in
                let model = try await manager.downloadModel("m")
                #expect(try filesUnder(model.url.path) == filesUnder("\(dir)/src"))
            }
            #expect(healthy.bodyBytesSent(prefix: "blobs/") >= Int64(HostileOriginTests.size))
        }
    }

    @Test("a mirror dripping the manifest gets only its share of the document deadline; the other mirror serves it")
    func drippingManifestMirror() async throws {
        try await withTemporaryDirectory { dir in
            _ = try Fixtures.publish(
                repo: "\(dir)/repo", source: "\(dir)/src", name: "m", version: "1", files: [("model.bin", 64 << 10)])
            let dripping = try HostileOrigin(
                root: "\(dir)/repo", rules: [.init("manifests/", .dripFile(interval: .milliseconds(50)))])
            let healthy = try HostileOrigin(root: "\(dir)/repo", rules: [])
            defer {
                dripping.stop()
                healthy.stop()
            }
            try await withTestManager(
                repository: [dripping.url, healthy.url], store: "\(dir)/store",
                configure: { $0.transfer.documentDeadline = .seconds(4) }
            ) { manager in
                let model = try await manager.downloadModel("m")
                #expect(try filesUnder(model.url.path) == filesUnder("\(dir)/src"))
            }
            // The primary was asked first and dripped; the rest of the deadline went to the healthy mirror.
            #expect(dripping.requests.contains { $0.contains("manifests/") }, "\(dripping.requests)")
            #expect(healthy.requests.contains { $0.contains("manifests/") }, "\(healthy.requests)")
        }
    }

    @Test("Haul's own rate limit, holding requests back longer than the stall timeout, is never taken for a stall")
    func rateLimitIsNotAStall() async throws {
        try await withTemporaryDirectory { dir in
            _ = try Fixtures.publish(
                repo: "\(dir)/repo", source: "\(dir)/src", name: "m", version: "1", files: [("model.bin", 192 << 10)])
            try await withTestOrigin(root: "\(dir)/repo") { server, url in
                try await withTestManager(
                    repository: [url], store: "\(dir)/store",
                    configure: {
                        // 32 KiB/s over 4 connections: a 64 KiB read waits about 2 s, twice the stall timeout.
                        $0.transfer.rateLimit = 32 << 10
                        $0.transfer.pinConnections(to: 4)
                        $0.transfer.stallTimeout = .seconds(1)
                        $0.transfer.retry.maximumAttempts = 1
                    }
                ) { manager in
                    let model = try await manager.downloadModel("m")
                    #expect(try filesUnder(model.url.path) == filesUnder("\(dir)/src"))
                }
                #expect(server.injector.requests.filter { $0.path.contains("/blobs/") }.count <= 4)
            }
        }
    }

    @Test("the document deadline bounds every attempt at a dripping index together")
    func drippingIndexOverall() async throws {
        try await HostileOriginTests.withHostileModel(
            rules: { _, _ in [.init("index.json", .drip(interval: .milliseconds(50)))] },
            configure: {
                $0.transfer.documentDeadline = .seconds(1)
                $0.transfer.retry.maximumAttempts = 6
            }
        ) { _, origin, manager in
            let error = try await Self.failure(of: manager)
            #expect(error.code == .timeout, "\(error)")
            #expect(error.message.contains("within 1.0 s") || error.message.contains("within 1 s"), "\(error.message)")
            // Six attempts were allowed, but the first one used up the whole deadline.
            #expect(origin.requests.filter { $0.contains("index.json") }.count == 1, "\(origin.requests)")
        }
    }

    /// The error the pull of "m" fails with.
    static func failure(of manager: LocalModelManager) async throws -> HaulError {
        do {
            _ = try await manager.downloadModel("m")
        } catch let error as HaulError {
            return error
        }
        Issue.record("the pull succeeded")
        throw HaulError(.badResponse, "the pull succeeded")
    }
}
