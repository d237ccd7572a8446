import Foundation
import HaulCore
import HaulTestSupport
import Testing

@Suite("Publishing and the store")
struct PublisherStoreTests {
    @Test("publish writes blobs, manifest and index; identical republish is a no-op")
    func publish() async throws {
        try await withTemporaryDirectory { dir in
            let report = try Fixtures.publish(
                repo: "\(dir)/repo", source: "\(dir)/src", name: "m", version: "1.0",
                files: [("a.bin", 3 << 20), ("sub/b.bin", 1000), ("empty", 0)])
            #expect(report.blobsWritten == 3 && !report.unchanged && report.indexVersion == 1)
            let layout = RepositoryLayout(root: "\(dir)/repo")
            for file in report.manifest.files {
                #expect(try ContentStore.digestOfFile(at: layout.blobPath(file.sha256)) == file.sha256)
                #expect(file.chunks.reduce(0) { $0 + $1.size } == file.size)
            }
            let manifestData = try Data(contentsOf: URL(fileURLWithPath: layout.manifestPath(report.manifestDigest)))
            #expect(SHA256Digest.of(manifestData) == report.manifestDigest)
            let again = try Publisher(repositoryPath: "\(dir)/repo").publish(
                "\(dir)/src", name: try ModelName("m"), version: try ModelVersion("1.0"))
            #expect(again.unchanged && again.indexVersion == 1 && again.blobsWritten == 0)
            #expect(FileSystem.contents(of: layout.stagingPath) == ["lock"], "no temp files are left, only the lock")
        }
    }

    @Test("a second version reuses unchanged blobs; a version cannot change content")
    func dedupAndImmutability() async throws {
        try await withTemporaryDirectory { dir in
            try Fixtures.publish(
                repo: "\(dir)/repo", source: "\(dir)/v1", name: "m", version: "1", files: [("a", 2 << 20), ("b", 5000)])
            let v2 = try Fixtures.publish(
                repo: "\(dir)/repo", source: "\(dir)/v2", name: "m", version: "2",
                files: [("a", 2 << 20), ("b", 5000)], seeds: [1, 42])
            #expect(v2.blobsWritten == 1 && v2.blobsReused == 1 && v2.indexVersion == 2)
            let index = try #require(try RepositoryLayout(root: "\(dir)/repo").loadIndex())
            #expect(index.models["m"]?.latest.string == "2" && index.models["m"]?.versions.count == 2)
            #expect {
                try Fixtures.publish(
                    repo: "\(dir)/repo", source: "\(dir)/v3", name: "m", version: "1", files: [("a", 10)], seeds: [9])
            } throws: { error in
                (error as? HaulError)?.code == .invalidArgument
            }
        }
    }

    @Test("publishing refuses symlinks and missing sources")
    func badSources() async throws {
        try await withTemporaryDirectory { dir in
            try Fixtures.writeRandomFile("\(dir)/src/a", size: 10, seed: 1)
            try FileManager.default.createSymbolicLink(atPath: "\(dir)/src/link", withDestinationPath: "/etc/passwd")
            #expect(throws: HaulError.self) {
                try Publisher(repositoryPath: "\(dir)/repo").publish(
                    "\(dir)/src", name: try ModelName("m"), version: try ModelVersion("1"))
            }
            #expect(throws: HaulError.self) {
                try Publisher(repositoryPath: "\(dir)/repo").publish(
                    "\(dir)/nope", name: try ModelName("m"), version: try ModelVersion("1"))
            }
        }
    }

    @Test("install links blobs into a model folder; uninstall collects garbage; verify finds corruption")
    func storeLifecycle() async throws {
        try await withTemporaryDirectory { dir in
            let report = try Fixtures.publish(
                repo: "\(dir)/repo", source: "\(dir)/src", name: "m", version: "1", files: [("x/a", 5000), ("b", 10)])
            let store = try ContentStore(root: "\(dir)/store")
            let layout = RepositoryLayout(root: "\(dir)/repo")
            for file in report.manifest.files {
                try FileManager.default.copyItem(
                    atPath: layout.blobPath(file.sha256), toPath: store.partialPath(file.blobKey))
                try store.commitBlob(partialOf: file.blobKey)
            }
            let data = try Data(contentsOf: URL(fileURLWithPath: layout.manifestPath(report.manifestDigest)))
            try store.install(
                report.manifest, manifestData: data, manifestDigest: report.manifestDigest, repository: "test")
            #expect(
                try filesUnder(store.modelPath(try ModelName("m"), try ModelVersion("1"))) == filesUnder("\(dir)/src"))
            #expect(try store.installedModels().map(\.name.string) == ["m"])
            #expect(try store.verify().isIntact)

            let victim = report.manifest.files[0].blobKey
            chmod(store.blobPath(victim), 0o644)
            try Data("tampered".utf8).write(to: URL(fileURLWithPath: store.blobPath(victim)))
            let findings = try store.verify()
            #expect(findings.damaged.map(\.file.blobKey) == [victim] && findings.brokenInstalls.count == 1)
            #expect(findings.damaged.first?.missing == true, "resized: every chunk is damaged")
            #expect(try store.installedModels().count == 1, "verify only reports")
            #expect(try store.uninstall(try ModelName("m"), version: nil).freed > 0)
            #expect(FileSystem.contents(of: "\(dir)/store/blobs/table-sha256").isEmpty)
        }
    }

    @Test("uninstall by name removes every version; blobs of a version whose manifest is unreadable are kept")
    func uninstallAndKeep() async throws {
        try await withTemporaryDirectory { dir in
            let store = try ContentStore(root: "\(dir)/store")
            var manifests: [SHA256Digest] = []
            for (version, size) in [("1", 3000), ("2", 4000)] {
                let report = try Fixtures.publish(
                    repo: "\(dir)/repo", source: "\(dir)/src\(version)", name: "m", version: version,
                    files: [("w.bin", size)])
                let layout = RepositoryLayout(root: "\(dir)/repo")
                let file = report.manifest.files[0]
                try FileManager.default.copyItem(
                    atPath: layout.blobPath(file.sha256), toPath: store.partialPath(file.blobKey))
                try store.commitBlob(partialOf: file.blobKey)
                let data = try Data(contentsOf: URL(fileURLWithPath: layout.manifestPath(report.manifestDigest)))
                try store.install(
                    report.manifest, manifestData: data, manifestDigest: report.manifestDigest, repository: "test")
                manifests.append(report.manifestDigest)
            }
            #expect(FileSystem.contents(of: "\(dir)/store/blobs/table-sha256").count == 2)
            // Version 2's manifest becomes unreadable: removing version 1 must not guess which blobs 2 uses.
            let unreadable = "\(dir)/store/manifests/sha256/\(manifests[1].hex).json"
            chmod(unreadable, 0o644)
            try Data("{".utf8).write(to: URL(fileURLWithPath: unreadable))
            let first = try store.uninstall(try ModelName("m"), version: try ModelVersion("1"))
            #expect(first.removed.map(\.version.string) == ["1"] && first.freed == 0)
            #expect(FileSystem.contents(of: "\(dir)/store/blobs/table-sha256").count == 2, "nothing collected on a guess")
            let rest = try store.uninstall(try ModelName("m"), version: nil)
            #expect(rest.removed.map(\.version.string) == ["2"] && rest.freed == 7000)
            #expect(FileSystem.contents(of: "\(dir)/store/blobs/table-sha256").isEmpty)
            #expect(throws: HaulError.self) { try store.uninstall(try ModelName("m"), version: nil) }
        }
    }
}
