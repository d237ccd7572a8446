import Foundation
import Haul
import HaulTestSupport
import InMemoryLogging
import Logging
import Testing

/// Server-side faults on a real socket; the client must recover or fail clearly, never install bad bytes.
@Suite("Faults injected by the origin", .timeLimit(.minutes(2)))
struct FaultTests {
    static let size = 12 << 20

    /// A published one-file model ("m"@"1"); body gets the repo folder, the file's manifest entry.
    static func withModel(_ body: (String, Manifest.File) async throws -> Void) async throws {
        try await withTemporaryDirectory { dir in
            let report = try Fixtures.publish(
                repo: "\(dir)/repo", source: "\(dir)/src", name: "m", version: "1", files: [("model.bin", size)])
            try await body(dir, report.manifest.files[0])
        }
    }

    static func blobBytes(_ server: TestOrigin) -> Int64 {
        server.injector.bytesSent(pathContains: "/blobs/")
    }

    static func expectInstalledCorrectly(_ manager: LocalModelManager, _ dir: String) throws {
        #expect(try filesUnder(manager.modelURL(for: "m").path) == filesUnder("\(dir)/src"))
        #expect(try manager.verify().isIntact)
    }

    @Test("a corrupted chunk is re-fetched alone")
    func corruptChunk() async throws {
        try await Self.withModel { dir, file in
            let bad = file.chunkSpans[3]
            let faults = FaultPlan([.init(pathContains: "/blobs/", .corruptByte(at: bad.offset + 10), times: 1)])
            try await withTestOrigin(root: "\(dir)/repo", faults: faults) { server, url in
                try await withTestManager(repository: [url], store: "\(dir)/store") { manager in
                    try await manager.downloadModel("m")
                    try Self.expectInstalledCorrectly(manager, dir)
                }
                // The failed request was cut at the bad chunk; only its unverified remainder was asked again.
                let fetched = Self.blobBytes(server)
                let retried = server.injector.requests.filter {
                    $0.range == ByteRange.header(for: bad.offset...(bad.end - 1))
                        || ($0.range?.hasPrefix("bytes=\(bad.offset)-") ?? false)
                }
                #expect(retried.count == 1, "the bad chunk is requested again exactly once")
                #expect(fetched <= Int64(Self.size) + 32 << 20)
            }
        }
    }

    @Test("a blob corrupted on the origin fails with digestMismatch and installs nothing")
    func corruptOrigin() async throws {
        try await Self.withModel { dir, file in
            let path = RepositoryLayout(root: "\(dir)/repo").blobPath(file.sha256)
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
            try handle.seek(toOffset: UInt64(file.chunkSpans[1].offset + 5))
            try handle.write(contentsOf: Data([0x42, 0x43]))
            try handle.close()
            try await withTestOrigin(root: "\(dir)/repo") { _, url in
                try await withTestManager(repository: [url], store: "\(dir)/store") { manager in
                    await #expect { try await manager.downloadModel("m") } throws: {
                        ($0 as? HaulError)?.code == .digestMismatch
                    }
                    #expect(!manager.isModelDownloaded("m"))
                }
            }
            #expect(FileSystem.contents(of: "\(dir)/store/blobs/table-sha256").isEmpty)
            #expect(FileSystem.contents(of: "\(dir)/store/models").isEmpty)
        }
    }

    @Test("a connection dropped mid-body is retried and only the rest is fetched")
    func droppedConnection() async throws {
        try await Self.withModel { dir, _ in
            let faults = FaultPlan([.init(pathContains: "/blobs/", .dropConnection(afterBytes: 1_500_000), times: 2)])
            try await withTestOrigin(root: "\(dir)/repo", faults: faults) { server, url in
                try await withTestManager(repository: [url], store: "\(dir)/store") { manager in
                    try await manager.downloadModel("m")
                    try Self.expectInstalledCorrectly(manager, dir)
                }
                #expect(server.injector.requests.filter { $0.path.contains("/blobs/") }.count >= 3)
            }
        }
    }

    @Test("an origin that always truncates fails with sizeMismatch after retries")
    func alwaysTruncated() async throws {
        try await Self.withModel { dir, _ in
            let faults = FaultPlan([.init(pathContains: "/blobs/", .dropConnection(afterBytes: 1000))])
            try await withTestOrigin(root: "\(dir)/repo", faults: faults) { _, url in
                try await withTestManager(repository: [url], store: "\(dir)/store") { manager in
                    await #expect { try await manager.downloadModel("m") } throws: {
                        ($0 as? HaulError)?.code == .sizeMismatch
                    }
                    #expect(!manager.isModelDownloaded("m"))
                }
            }
        }
    }

    @Test("an origin that ignores Range is downloaded whole, once")
    func ignoresRange() async throws {
        try await Self.withModel { dir, _ in
            try await withTestOrigin(root: "\(dir)/repo", faults: FaultPlan([.init(.ignoreRange)])) { server, url in
                try await withTestManager(repository: [url], store: "\(dir)/store") { manager in
                    try await manager.downloadModel("m")
                    try Self.expectInstalledCorrectly(manager, dir)
                }
                let blobs = server.injector.requests.filter { $0.path.contains("/blobs/") }
                #expect(blobs.contains { $0.range == nil && $0.status == 200 })
            }
        }
    }

    @Test("503 with Retry-After is honoured, then the download completes")
    func retryAfter() async throws {
        try await Self.withModel { dir, _ in
            let faults = FaultPlan([.init(pathContains: "/blobs/", .status(503, retryAfter: 1), times: 1)])
            try await withTestOrigin(root: "\(dir)/repo", faults: faults) { server, url in
                let started = ContinuousClock.now
                try await withTestManager(repository: [url], store: "\(dir)/store") { manager in
                    try await manager.downloadModel("m")
                    try Self.expectInstalledCorrectly(manager, dir)
                }
                #expect(ContinuousClock.now - started >= .seconds(1), "the client waited as Retry-After asked")
                #expect(server.injector.requests.contains { $0.status == 503 })
            }
        }
    }

    @Test("a 404 for a blob fails at once with httpStatus")
    func missingBlob() async throws {
        try await Self.withModel { dir, file in
            try FileSystem.remove(RepositoryLayout(root: "\(dir)/repo").blobPath(file.sha256))
            try await withTestOrigin(root: "\(dir)/repo") { server, url in
                try await withTestManager(repository: [url], store: "\(dir)/store") { manager in
                    await #expect { try await manager.downloadModel("m") } throws: { error in
                        (error as? HaulError)?.code == .httpStatus && (error as? HaulError)?.context["status"] == "404"
                    }
                }
                // Fatal: no retry storm, at most one request per connection.
                #expect(server.injector.requests.filter { $0.status == 404 }.count <= 8)
            }
        }
    }

    @Test("a wrong Content-Range is rejected and the piece fetched again")
    func wrongContentRange() async throws {
        try await Self.withModel { dir, _ in
            let faults = FaultPlan([.init(pathContains: "/blobs/", .wrongContentRange(shift: 4096), times: 2)])
            try await withTestOrigin(root: "\(dir)/repo", faults: faults) { _, url in
                try await withTestManager(repository: [url], store: "\(dir)/store") { manager in
                    try await manager.downloadModel("m")
                    try Self.expectInstalledCorrectly(manager, dir)
                }
            }
        }
    }

    @Test("a stalled request is abandoned after the stall timeout and retried")
    func stall() async throws {
        try await Self.withModel { dir, _ in
            // The origin stalls 4 s after 100,000 bytes of the first blob response. Whether the client waited or
            // abandoned is read from what it asked, not from a wall-clock bound: only a client that abandoned the
            // stalled request asks again for the byte where it stalled (the stalled response would have delivered
            // it, and a work-stealing connection only ever takes the back half of a piece).
            let faults = FaultPlan([.init(pathContains: "/blobs/", .stall(afterBytes: 100_000, seconds: 4), times: 1)])
            try await withTestOrigin(root: "\(dir)/repo", faults: faults) { server, url in
                try await withTestManager(
                    repository: [url], store: "\(dir)/store", configure: { $0.transfer.stallTimeout = .seconds(1) }
                ) { manager in
                    try await manager.downloadModel("m")
                    try Self.expectInstalledCorrectly(manager, dir)
                }
                let blobs = server.injector.requests.filter { $0.path.contains("/blobs/") && $0.method == "GET" }
                let stalled = try #require(blobs.first { $0.faulted })
                func span(_ record: FaultInjector.RequestRecord) -> ClosedRange<Int64>? {
                    guard case .partial(let range) = ByteRange.decide(header: record.range, size: Int64(Self.size))
                    else { return nil }
                    return range
                }
                let stalledByte = try #require(span(stalled)).lowerBound + 100_000
                let ranges = blobs.filter { $0 != stalled }.compactMap(span)
                #expect(
                    ranges.contains { $0.contains(stalledByte) },
                    "the stalled request was abandoned and its bytes asked for again: \(ranges)")
            }
        }
    }

    @Test("a mirror serving corrupt data is demoted and a good one completes the download")
    func corruptMirror() async throws {
        try await Self.withModel { dir, file in
            let everyChunk = FaultPlan(
                file.chunkSpans.map { .init(pathContains: "/blobs/", .corruptByte(at: $0.offset)) })
            try await withTestOrigin(root: "\(dir)/repo", faults: everyChunk) { bad, badURL in
                try await withTestOrigin(root: "\(dir)/repo") { good, goodURL in
                    try await withTestManager(repository: [badURL, goodURL], store: "\(dir)/store") { manager in
                        try await manager.downloadModel("m")
                        try Self.expectInstalledCorrectly(manager, dir)
                    }
                    #expect(Self.blobBytes(good) >= Int64(Self.size) - Self.blobBytes(bad))
                }
            }
        }
    }

    @Test("a slow primary is demoted: most of the model comes from the fast fallback")
    func slowMirror() async throws {
        try await withTemporaryDirectory { dir in
            let size = 48 << 20
            try Fixtures.publish(
                repo: "\(dir)/repo", source: "\(dir)/src", name: "m", version: "1", files: [("model.bin", size)])
            let slow = FaultPlan([.init(pathContains: "/blobs/", .throttle(bytesPerSecond: 256 << 10))])
            try await withTestOrigin(root: "\(dir)/repo", faults: slow) { primary, slowURL in
                try await withTestOrigin(root: "\(dir)/repo") { fallback, fastURL in
                    let log = InMemoryLogHandler()
                    try await withTestManager(
                        repository: [slowURL, fastURL], store: "\(dir)/store", logger: Logger(label: "haul-test") { _ in log }
                    ) { manager in
                        try await manager.downloadModel("m")
                        try Self.expectInstalledCorrectly(manager, dir)
                    }
                    let fast = Self.blobBytes(fallback), slow = Self.blobBytes(primary)
                    let story = log.entries.map { "\($0.message) \($0.metadata)" }.joined(separator: "\n")
                    #expect(
                        fast >= Int64(size) * 6 / 10, "fallback sent \(fast) bytes, the slow primary \(slow)\n\(story)")
                    #expect(
                        log.entries.contains {
                            $0.level == .info && $0.message == "demoting slow mirror"
                                && $0.metadata["haul.mirror"] == .string(slowURL.absoluteString)
                        }, "the demotion is logged at info level\n\(story)")
                    #expect(primary.injector.requests.contains { $0.path.hasSuffix("index.json") }, "primary first")
                }
            }
        }
    }
}
