import Foundation
import Haul
import HaulCore
import HaulTestSupport
import Testing

/// Origins that never stop sending, or send values chosen to break the client: every pull ends, with a clear error
/// or with the exact files, and nothing wrong is installed.
@Suite("Hostile origins", .timeLimit(.minutes(2)))
struct HostileOriginTests {
    static let size = 3 << 20

    /// A published one-file model ("m"@"1") served by a hostile origin with `rules` (built from the blob path).
    static func withHostileModel(
        rules: (String, String) throws -> [HostileOrigin.Rule],
        configure: @escaping (inout ModelConfig) -> Void = { _ in },
        _ body: (String, HostileOrigin, LocalModelManager) async throws -> Void
    ) async throws {
        try await withTemporaryDirectory { dir in
            let report = try Fixtures.publish(
                repo: "\(dir)/repo", source: "\(dir)/src", name: "m", version: "1", files: [("model.bin", size)])
            let blob = RepositoryLayout.blobPath(report.manifest.files[0].sha256)
            let origin = try HostileOrigin(root: "\(dir)/repo", rules: try rules(blob, "\(dir)/repo"))
            defer { origin.stop() }
            try await withTestManager(repository: [origin.url], store: "\(dir)/store", configure: configure) {
                manager in
                try await body(dir, origin, manager)
            }
        }
    }

    /// Expects the pull of "m" to fail with `code`, installing nothing.
    static func expectFailure(_ manager: LocalModelManager, _ code: HaulError.Code, dir: String) async {
        await #expect {
            try await manager.downloadModel("m")
        } throws: { error in
            (error as? HaulError)?.code == code
        }
        #expect(!manager.isModelDownloaded("m"))
        #expect(FileSystem.contents(of: "\(dir)/store/models").isEmpty)
    }

    @Test(
        "an endless body under an error status for a blob ends the request at its head",
        arguments: [(404, HaulError.Code.httpStatus), (500, .httpStatus), (304, .httpStatus), (410, .httpStatus)])
    func endlessBlobError(status: Int, code: HaulError.Code) async throws {
        try await Self.withHostileModel(rules: { blob, _ in [.init(blob, .endless(status: status))] }) {
            dir, origin, manager in
            await Self.expectFailure(manager, code, dir: dir)
            #expect(origin.requests.contains { $0.contains("blobs/") })
        }
    }

    @Test(
        "an endless body for the index under any status fails the pull clearly",
        arguments: [
            (HostileOrigin.Answer.endless(status: 404), HaulError.Code.httpStatus),
            (.endless(status: 500), .httpStatus),
            (.endless(status: 304), .httpStatus),
            (.endless(status: 302, headers: ["Location: /index.json"]), .badResponse),
            (.endless(status: 200), .sizeMismatch),
        ])
    func endlessIndex(answer: HostileOrigin.Answer, code: HaulError.Code) async throws {
        try await Self.withHostileModel(rules: { _, _ in [.init("index.json", answer)] }) { dir, origin, manager in
            await Self.expectFailure(manager, code, dir: dir)
            // 8 MiB is the index limit: an endless 200 is cut there, other bodies are not read at all.
            #expect(origin.requests.filter { $0.contains("index.json") }.count <= 12)
        }
    }

    @Test("an index that drips forever fails at the document deadline")
    func drippingIndex() async throws {
        try await Self.withHostileModel(
            rules: { _, _ in [.init("index.json", .drip(interval: .milliseconds(50)))] },
            configure: {
                $0.transfer.documentDeadline = .milliseconds(500)
                $0.transfer.retry.maximumAttempts = 2
            }
        ) { dir, _, manager in
            await Self.expectFailure(manager, .timeout, dir: dir)
        }
    }

    @Test("a redirect with an endless body is followed without reading the body")
    func endlessRedirect() async throws {
        try await Self.withHostileModel(rules: { blob, repo in
            try FileManager.default.createDirectory(atPath: "\(repo)/moved", withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: "\(repo)/\(blob)", toPath: "\(repo)/moved/blob")
            return [.init(blob, .endless(status: 302, headers: ["Location: /moved/blob"]))]
        }) { dir, origin, manager in
            let model = try await manager.downloadModel("m")
            #expect(try filesUnder(model.url.path) == filesUnder("\(dir)/src"))
            #expect(origin.requests.contains { $0.contains("moved/blob") })
        }
    }

    @Test("a 200 whole-file body longer than the blob is cut at the blob's size; the verified file is installed")
    func oversizedWholeFile() async throws {
        try await Self.withHostileModel(rules: { blob, _ in [.init(blob, .fileThenEndless)] }) { dir, origin, manager in
            let model = try await manager.downloadModel("m")
            #expect(try filesUnder(model.url.path) == filesUnder("\(dir)/src"))
            // Every request for the blob was cut: the origin could push only socket buffers' worth past the file.
            let requests = Int64(origin.requests.filter { $0.contains("blobs/") }.count)
            let sent = origin.bodyBytesSent(prefix: "blobs/")
            #expect(sent < requests * (Int64(Self.size) + (32 << 20)), "the origin sent \(sent) bytes")
        }
    }

    @Test("a redirect loop on a blob is refused after the redirect limit")
    func redirectLoop() async throws {
        try await Self.withHostileModel(rules: { blob, _ in
            [.init(blob, .endless(status: 307, headers: ["Location: /\(blob)"]))]
        }) { dir, origin, manager in
            await Self.expectFailure(manager, .badResponse, dir: dir)
        }
    }

    @Test(
        "hostile Retry-After values never trap: unusable ones fall back to backoff, huge ones fail at once",
        arguments: [
            ("1e300", HaulError.Code.httpStatus), ("inf", .httpStatus), ("nan", .httpStatus), ("-1", .httpStatus),
            ("99999999999999999999999999", .httpStatus), ("Fri, 31 Dec 9999 23:59:59 GMT", .httpStatus),
        ])
    func retryAfter(value: String, code: HaulError.Code) async throws {
        try await Self.withHostileModel(rules: { blob, _ in
            [.init(blob, .raw(Array("HTTP/1.1 503 Busy\r\nRetry-After: \(value)\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".utf8)))]
        }) { dir, _, manager in
            await Self.expectFailure(manager, code, dir: dir)
        }
    }

    @Test("a wrong Content-Range with bidi and C1 characters reaches the error escaped")
    func hostileContentRange() async throws {
        try await Self.withHostileModel(
            rules: { blob, _ in
                [.init(blob, .file(status: 206, headers: ["Content-Range: bytes 0-1/9\u{202E}\u{9B}31m"]))]
            },
            configure: { $0.transfer.retry.maximumAttempts = 2 }
        ) { dir, _, manager in
            do {
                _ = try await manager.downloadModel("m")
                Issue.record("the pull succeeded")
            } catch let error as HaulError {
                #expect(error.code == .badResponse)
                #expect(error.message.contains("\\u{202E}\\u{9B}31m"), "\(error.message)")
                #expect(!error.description.unicodeScalars.contains { UntrustedText.needsEscape($0) })
            }
            #expect(!manager.isModelDownloaded("m"))
        }
    }
}
