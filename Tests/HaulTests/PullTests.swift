import Foundation
import Haul
import HaulTestSupport
import Synchronization
import Testing

/// End-to-end pulls against a real `haul serve` on 127.0.0.1.
@Suite("Pulling from haul serve", .timeLimit(.minutes(2)))
struct PullTests {
    static let files = [
        ("config.json", 300), ("weights/big.bin", 9 << 20), ("weights/small.bin", 700_000), ("empty", 0),
    ]

    @Test("publish → serve → pull installs exact files, and the seed's API reports them")
    func roundTrip() async throws {
        try await withTemporaryDirectory { dir in
            let report = try Fixtures.publish(
                repo: "\(dir)/repo", source: "\(dir)/src", name: "demo", version: "1.0", files: Self.files)
            try await withTestOrigin(root: "\(dir)/repo") { server, url in
                try await withTestManager(repository: [url], store: "\(dir)/store") { manager in
                    #expect(!manager.isModelDownloaded("demo"))
                    let snapshots = SnapshotLog()
                    let model = try await manager.downloadModel("demo") { snapshots.append($0) }
                    #expect(model.version.string == "1.0" && model.size == report.manifest.totalSize)
                    #expect(try filesUnder(model.url.path) == filesUnder("\(dir)/src"))
                    #expect(manager.isModelDownloaded("demo") && manager.isModelDownloaded("demo", version: "1.0"))
                    #expect(try manager.modelURL(for: "demo") == model.url)
                    #expect(try manager.installedModels().map(\.name.string) == ["demo"])
                    let last = try #require(snapshots.all.last)
                    #expect(last.phase == .completed && last.bytesDone == last.bytesTotal && last.fraction == 1)
                    // The 9 MiB file was fetched over several parallel range requests.
                    let blobRequests = server.injector.requests.filter { $0.path.contains("/blobs/") }
                    #expect(blobRequests.filter { $0.range != nil }.count >= 3)

                    server.injector.clearLog()
                    _ = try await manager.downloadModel("demo")
                    #expect(
                        server.injector.requests.map(\.path) == ["/index.json"],
                        "an installed model costs one index request")

                    #expect(try manager.deleteModel("demo") > 0)
                    #expect(!manager.isModelDownloaded("demo"))
                    #expect(FileSystem.contents(of: "\(dir)/store/blobs/table-sha256").isEmpty)
                    #expect { try manager.modelURL(for: "demo") } throws: { ($0 as? HaulError)?.code == .notInstalled }
                }
            }
        }
    }

    @Test("two models sharing a file store it once and share the inode")
    func sharedBlob() async throws {
        try await withTemporaryDirectory { dir in
            try Fixtures.publish(
                repo: "\(dir)/repo", source: "\(dir)/a", name: "a", version: "1",
                files: [("shared.bin", 2 << 20), ("a.bin", 1000)], seeds: [5, 6])
            try Fixtures.publish(
                repo: "\(dir)/repo", source: "\(dir)/b", name: "b", version: "1",
                files: [("shared.bin", 2 << 20), ("b.bin", 1000)], seeds: [5, 7])
            try await withTestOrigin(root: "\(dir)/repo") { server, url in
                try await withTestManager(repository: [url], store: "\(dir)/store") { manager in
                    let a = try await manager.downloadModel("a")
                    server.injector.clearLog()
                    let b = try await manager.downloadModel("b")
                    let fetched = server.injector.requests.filter { $0.path.contains("/blobs/") }.reduce(Int64(0)) {
                        $0 + $1.plannedBytes
                    }
                    #expect(fetched == 1000, "only b.bin is fetched for the second model")
                    #expect(FileSystem.contents(of: "\(dir)/store/blobs/table-sha256").count == 3)
                    let inodeA =
                        try FileManager.default.attributesOfItem(atPath: a.url.path + "/shared.bin")[.systemFileNumber]
                        as? Int
                    let inodeB =
                        try FileManager.default.attributesOfItem(atPath: b.url.path + "/shared.bin")[.systemFileNumber]
                        as? Int
                    #expect(inodeA != nil && inodeA == inodeB)
                    try manager.deleteModel("a")
                    #expect(try Data(contentsOf: b.url.appendingPathComponent("shared.bin")).count == 2 << 20)
                    #expect(FileSystem.contents(of: "\(dir)/store/blobs/table-sha256").count == 2)
                }
            }
        }
    }

    @Test("unknown models and versions fail clearly without touching the store")
    func unknown() async throws {
        try await withTemporaryDirectory { dir in
            try Fixtures.publish(repo: "\(dir)/repo", source: "\(dir)/src", name: "m", version: "1", files: [("f", 10)])
            try await withTestOrigin(root: "\(dir)/repo") { _, url in
                try await withTestManager(repository: [url], store: "\(dir)/store") { manager in
                    await #expect { try await manager.downloadModel("other") } throws: {
                        ($0 as? HaulError)?.code == .unknownModel
                    }
                    await #expect { try await manager.downloadModel("m", version: "9") } throws: {
                        ($0 as? HaulError)?.code == .unknownVersion
                    }
                    await #expect { try await manager.downloadModel("../m") } throws: {
                        ($0 as? HaulError)?.code == .invalidArgument
                    }
                }
                try await withTestManager(repository: [url.appendingPathComponent("nope/")], store: "\(dir)/store") {
                    manager in
                    await #expect { try await manager.downloadModel("m") } throws: {
                        ($0 as? HaulError)?.code == .httpStatus
                    }
                }
            }
            #expect(FileSystem.contents(of: "\(dir)/store/models").isEmpty)
        }
    }

    @Test("offline mode uses installed models and refuses the network")
    func offline() async throws {
        try await withTemporaryDirectory { dir in
            try Fixtures.publish(
                repo: "\(dir)/repo", source: "\(dir)/src", name: "m", version: "1", files: [("f", 1000)])
            let url = try await withTestOrigin(root: "\(dir)/repo") { _, url in
                _ = try await withTestManager(repository: [url], store: "\(dir)/store") {
                    try await $0.downloadModel("m")
                }
                return url
            }
            try await withTestManager(repository: [url], store: "\(dir)/store", configure: { $0.offline = true }) {
                manager async throws -> Void in
                let installed = try await manager.downloadModel("m")
                #expect(installed.version.string == "1")
                await #expect { try await manager.downloadModel("n") } throws: { ($0 as? HaulError)?.code == .offline }
            }
        }
    }

    @Test("pulls from nginx serving the published folder")
    func nginx() async throws {
        try await withTemporaryDirectory { dir in
            try Fixtures.publish(
                repo: "\(dir)/repo", source: "\(dir)/src", name: "demo", version: "1.0", files: Self.files)
            try await Nginx.withRunningServer(root: "\(dir)/repo") { nginx in
                try await withTestManager(repository: [nginx.url], store: "\(dir)/store") { manager in
                    let model = try await manager.downloadModel("demo")
                    #expect(try filesUnder(model.url.path) == filesUnder("\(dir)/src"))
                    #expect(try manager.verify().isIntact)
                }
                // nginx's ETags are its own: the big file must still come as parallel 206 ranges, not a 200 fallback.
                let blobStatuses = try nginx.statuses(pathContains: "/blobs/")
                #expect(blobStatuses.filter { $0 == 206 }.count >= 3, "\(blobStatuses)")
                #expect(blobStatuses.allSatisfy { $0 == 206 || $0 == 200 })
            }
        }
    }
}

/// Collects progress snapshots from a `@Sendable` callback.
final class SnapshotLog: Sendable {
    private let items = Mutex<[DownloadProgress]>([])
    func append(_ item: DownloadProgress) { items.withLock { $0.append(item) } }
    var all: [DownloadProgress] { items.withLock { $0 } }
}

@Suite("Disk preflight", .timeLimit(.minutes(1)))
struct PreflightTests {
    @Test("a model larger than the free space fails at once with insufficientSpace, before any byte is fetched")
    func insufficientSpace() async throws {
        try await withTemporaryDirectory { dir in
            // A hand-made (valid) repository whose one file is twice the free space: 4 MiB chunks, never fetched.
            let available = try FileSystem.availableSpace(at: dir)
            let chunk: Int64 = 4 << 20
            let chunks = Int((2 * available) / chunk) + 1
            try #require(chunks * 100 < 16 << 20, "the manifest for twice the free space must fit the 16 MiB limit")
            let table = (0..<chunks).map { Manifest.Chunk(size: chunk, sha256: SHA256Digest.of(Data("\($0)".utf8))) }
            let file = Manifest.File(
                path: try RelativePath(validating: "huge.bin"), size: Int64(chunks) * chunk,
                sha256: SHA256Digest.of(Data("huge".utf8)), chunks: table)
            let manifest = Manifest(name: try ModelName("huge"), version: try ModelVersion("1"), files: [file])
            let data = try manifest.encoded()
            let layout = RepositoryLayout(root: "\(dir)/repo")
            try layout.createFolders()
            try data.write(to: URL(fileURLWithPath: layout.manifestPath(SHA256Digest.of(data))))
            var index = RepositoryIndex(repository: "r", version: 1, expires: Date().addingTimeInterval(3600))
            index.models["huge"] = .init(
                latest: try ModelVersion("1"),
                versions: [
                    "1": .init(manifest: SHA256Digest.of(data), manifestSize: Int64(data.count), size: file.size)
                ])
            try layout.writeIndex(SignedEnvelope.wrapping(index))
            try await withTestOrigin(root: "\(dir)/repo") { server, url in
                try await withTestManager(repository: [url], store: "\(dir)/store") { manager in
                    await #expect { try await manager.downloadModel("huge") } throws: { error in
                        (error as? HaulError)?.code == .insufficientSpace
                            && (error as? HaulError)?.message.contains("Free some space") == true
                    }
                }
                #expect(!server.injector.requests.contains { $0.path.contains("/blobs/") })
            }
            #expect(FileSystem.contents(of: "\(dir)/store/partial").allSatisfy { !$0.hasSuffix(".partial") })
        }
    }
}
