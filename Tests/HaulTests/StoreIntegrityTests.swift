import Foundation
import HaulServer
import HaulTestSupport
import Testing

@testable import Haul

/// Attacks from the release review (issue 8), each against a real origin on 127.0.0.1: a manifest whose whole-file
/// digest contradicts its chunk table, blobs planted or changed in the store, a trust state file replaced by a link.
@Suite("Store integrity: the installed bytes are the ones the manifest's digest names", .timeLimit(.minutes(2)))
struct StoreIntegrityTests {
    /// The digest the reviewer's manifest claimed: the SHA-256 of bytes that are not the file's.
    static let auditedDigest = SHA256Digest.of(Data("the audited weights\n".utf8))

    /// Rewrites the (unsigned) repository at `repo` so that model `m`'s first file claims `sha256` while keeping
    /// its chunk table (and serves the real bytes under the claimed name, as a lying origin would).
    static func claim(_ sha256: SHA256Digest, in repo: String) throws {
        let layout = RepositoryLayout(root: repo)
        var index = try #require(try layout.loadIndex())
        let entry = try #require(index.models["m"]?.versions["1"])
        var manifest = try Manifest.decode(Data(contentsOf: URL(fileURLWithPath: layout.manifestPath(entry.manifest))))
        try FileManager.default.copyItem(
            atPath: layout.blobPath(manifest.files[0].sha256), toPath: layout.blobPath(sha256))
        manifest.files[0].sha256 = sha256
        let data = try CanonicalJSON.encode(manifest)
        try data.write(to: URL(fileURLWithPath: layout.manifestPath(SHA256Digest.of(data))))
        index.models["m"]?.versions["1"] = .init(
            manifest: SHA256Digest.of(data), manifestSize: Int64(data.count), size: entry.size)
        try layout.writeIndex(try SignedEnvelope.wrapping(index))
        try Publisher(repositoryPath: repo).renew()
    }

    @Test(
        "a manifest whose sha256 is not the hash of the bytes its chunk table names is refused; nothing is installed",
        arguments: [6 << 20, 200_000, 0])
    func inconsistentManifest(size: Int) async throws {
        try await withTemporaryDirectory { dir in
            let report = try Fixtures.publish(
                repo: "\(dir)/repo", source: "\(dir)/src", name: "m", version: "1", files: [("a.bin", size)])
            let file = report.manifest.files[0]
            switch size {
            case 0: #expect(file.chunks.isEmpty, "an empty file: the digest of no bytes")
            case 200_000: #expect(file.chunks.count == 1, "one chunk: its digest is the whole digest")
            default: #expect(file.chunks.count > 1, "several chunks: the whole file is hashed in order")
            }
            try Self.claim(Self.auditedDigest, in: "\(dir)/repo")
            try await withTestOrigin(root: "\(dir)/repo") { _, url in
                try await withTestManager(repository: [url], store: "\(dir)/store") { manager in
                    await #expect {
                        try await manager.downloadModel("m")
                    } throws: { error in
                        let error = error as? HaulError
                        // An empty file's digest is fixed by the format: its manifest is refused when validated.
                        guard size > 0 else { return error?.code == .invalidRepositoryData }
                        return error?.code == .digestMismatch && error?.message.contains("inconsistent") == true
                            && error?.message.contains(Self.auditedDigest.hex) == true
                    }
                }
            }
            let store = try ContentStore(root: "\(dir)/store")
            #expect(try store.recordedModels().isEmpty, "no receipt")
            #expect(!FileSystem.exists("\(dir)/store/models/m"), "no model folder")
            #expect(!FileSystem.exists(store.blobPath(file.blobKey)), "no blob committed")
            #expect(!FileSystem.exists(store.partialPath(file.blobKey)), "no partial file kept")
        }
    }

    /// What a blob planted in a fresh store before the pull holds.
    enum Planted: String, CaseIterable, Sendable {
        case wrongBytes = "wrong bytes"
        case rightBytes = "the right bytes, never verified by Haul"
    }

    @Test("a blob planted in the store is re-verified before it is trusted", arguments: Planted.allCases)
    func plantedBlob(_ planted: Planted) async throws {
        try await withTemporaryDirectory { dir in
            let report = try Fixtures.publish(
                repo: "\(dir)/repo", source: "\(dir)/src", name: "m", version: "1", files: [("a.bin", 3 << 20)])
            let file = report.manifest.files[0]
            let store = try ContentStore(root: "\(dir)/store")
            let blob = store.blobPath(file.blobKey)
            let bytes =
                planted == .wrongBytes
                ? Data(Fixtures.randomBytes(Int(file.size), seed: 77))
                : try Data(contentsOf: URL(fileURLWithPath: "\(dir)/src/a.bin"))
            try bytes.write(to: URL(fileURLWithPath: blob))
            chmod(blob, 0o444)
            try await withTestOrigin(root: "\(dir)/repo") { server, url in
                try await withTestManager(repository: [url], store: "\(dir)/store") { manager in
                    let model = try await manager.downloadModel("m")
                    #expect(try filesUnder(model.url.path) == filesUnder("\(dir)/src"))
                }
                let fetched = server.injector.bytesSent(pathContains: "blobs/")
                if planted == .wrongBytes {
                    #expect(fetched >= file.size, "the wrong blob was replaced by a download")
                } else {
                    #expect(fetched == 0, "bytes that hash right are reused once re-verified")
                }
            }
            #expect(store.hasBlob(file), "recorded now")
            #expect(try StoreAudit(source: "\(dir)/src").problems(store: "\(dir)/store", model: "m").isEmpty)
        }
    }

    @Test("a blob changed in place after its commit is re-verified before another version reuses it")
    func blobChangedAfterCommit() async throws {
        try await withTemporaryDirectory { dir in
            let first = try Fixtures.publish(
                repo: "\(dir)/repo", source: "\(dir)/src1", name: "m", version: "1", files: [("a.bin", 3 << 20)])
            try await withTestOrigin(root: "\(dir)/repo") { _, url in
                try await withTestManager(repository: [url], store: "\(dir)/store") { manager in
                    _ = try await manager.downloadModel("m", version: "1")
                }
                // The store's owner changes the blob in place (chmod back, write one byte, mode restored).
                let store = try ContentStore(root: "\(dir)/store")
                let blob = store.blobPath(first.manifest.files[0].blobKey)
                chmod(blob, 0o644)
                let handle = try #require(FileHandle(forUpdatingAtPath: blob))
                try handle.seek(toOffset: 1 << 20)
                try handle.write(contentsOf: Data([0x5A]))
                try handle.close()
                chmod(blob, 0o444)
                #expect(!store.hasBlob(first.manifest.files[0]), "its identity no longer matches the record")
                try Fixtures.publish(
                    repo: "\(dir)/repo", source: "\(dir)/src2", name: "m", version: "2",
                    files: [("a.bin", 3 << 20), ("b.bin", 1_000)])
                try await withTestManager(repository: [url], store: "\(dir)/store") { manager in
                    let model = try await manager.downloadModel("m", version: "2")
                    #expect(try filesUnder(model.url.path) == filesUnder("\(dir)/src2"))
                    let found = try manager.verify()
                    #expect(found.damaged.map(\.model.description) == ["m@1"], "m@1 still holds the changed inode")
                }
            }
        }
    }

    /// An existing partial file as `fstatat` sees it, and whether a pull may resume it.
    struct PartialCase: Sendable, CustomTestStringConvertible {
        var kind: Directory.Status.Kind
        var links: UInt64
        var foreignOwner: Bool
        var sizeDelta: Int64
        var resumable: Bool
        var testDescription: String {
            "\(kind) links \(links)\(foreignOwner ? " foreign" : "") size\(sizeDelta) → \(resumable)"
        }
    }

    @Test(
        "only a private regular file of the blob's size is resumed",
        arguments: [
            PartialCase(kind: .file, links: 1, foreignOwner: false, sizeDelta: 0, resumable: true),
            PartialCase(kind: .file, links: 2, foreignOwner: false, sizeDelta: 0, resumable: false),
            PartialCase(kind: .file, links: 3, foreignOwner: false, sizeDelta: 0, resumable: false),
            PartialCase(kind: .file, links: 1, foreignOwner: true, sizeDelta: 0, resumable: false),
            PartialCase(kind: .file, links: 1, foreignOwner: false, sizeDelta: -1, resumable: false),
            PartialCase(kind: .link, links: 1, foreignOwner: false, sizeDelta: 0, resumable: false),
            PartialCase(kind: .folder, links: 1, foreignOwner: false, sizeDelta: 0, resumable: false),
        ])
    func resumable(_ row: PartialCase) {
        let status = Directory.Status(
            kind: row.kind, size: 1000 + row.sizeDelta, links: row.links,
            owner: row.foreignOwner ? geteuid() &+ 1 : geteuid())
        #expect(BlobTransfer.isResumable(status, size: 1000) == row.resumable)
        #expect(!BlobTransfer.isResumable(nil, size: 1000), "nothing there: fresh")
    }

    @Test("the chunk table implies the whole digest only for a file of one chunk or none")
    func impliedDigest() throws {
        let one = Manifest.Chunk(size: 10, sha256: SHA256Digest.of(Data("0123456789".utf8)))
        let path = try RelativePath(validating: "a")
        let empty = Manifest.File(path: path, size: 0, sha256: SHA256Digest.of(Data()), chunks: [])
        #expect(empty.impliedSHA256 == SHA256Digest.of(Data()) && empty.contradictsImpliedSHA256 == false)
        let single = Manifest.File(path: path, size: 10, sha256: Self.auditedDigest, chunks: [one])
        #expect(single.impliedSHA256 == one.sha256 && single.contradictsImpliedSHA256 == true)
        let two = Manifest.File(path: path, size: 20, sha256: Self.auditedDigest, chunks: [one, one])
        #expect(two.impliedSHA256 == nil && two.contradictsImpliedSHA256 == nil)
    }

    @Test("the in-order hasher gives the whole-file digest however the verified prefix grows", arguments: [1, 2, 5])
    func wholeFileHasher(step: Int) async throws {
        try await withTemporaryDirectory { dir in
            let bytes = Fixtures.randomBytes(5 << 20 + 123, seed: 9)
            try Data(bytes).write(to: URL(fileURLWithPath: "\(dir)/partial"))
            let sizes: [Int64] = [1 << 20, 1 << 20, 1 << 20, 1 << 20, 1 << 20 + 123]
            let spans = Manifest.File(
                path: try RelativePath(validating: "a"), size: Int64(bytes.count), sha256: SHA256Digest.of(Data()),
                chunks: sizes.map { Manifest.Chunk(size: $0, sha256: SHA256Digest.of(Data())) }
            ).chunkSpans
            let file = try OpenFile.open("\(dir)/partial", .readOnly)
            defer { try? file.close() }
            let hasher = try WholeFileHasher(partial: file, spans: spans)
            defer { hasher.close() }
            for prefix in stride(from: step, through: spans.count, by: step) { hasher.advance(to: prefix) }
            #expect(try hasher.finish(chunks: spans.count) == SHA256Digest.of(Data(bytes)))
        }
    }

    @Test("a trust state file replaced by a symlink is refused, not taken for a first use")
    func trustStateLink() async throws {
        try await withTemporaryDirectory { dir in
            let key = SigningKey()
            try RepositoryBindingTests.publish(
                dir, repo: "\(dir)/repo", repositoryName: "r", version: "1", key: key, seed: 1)
            try await withTestOrigin(root: "\(dir)/repo") { _, url in
                try await withTestManager(
                    repository: [url], store: "\(dir)/store", configure: RepositoryBindingTests.trusting(key)
                ) { _ = try await $0.downloadModel("m") }
                let state = TrustStateStore(root: "\(dir)/store/state").path(for: RepositoryIdentity(url))
                try FileManager.default.moveItem(atPath: state, toPath: "\(dir)/elsewhere.json")
                try FileManager.default.createSymbolicLink(atPath: state, withDestinationPath: "\(dir)/elsewhere.json")
                let before = try Data(contentsOf: URL(fileURLWithPath: "\(dir)/elsewhere.json"))
                try await withTestManager(
                    repository: [url], store: "\(dir)/store", configure: RepositoryBindingTests.trusting(key)
                ) { manager in
                    await #expect {
                        try await manager.downloadModel("m")
                    } throws: { error in
                        let error = error as? HaulError
                        return error?.code == .fileSystem && error?.message.contains("symbolic link") == true
                    }
                }
                #expect(try Data(contentsOf: URL(fileURLWithPath: "\(dir)/elsewhere.json")) == before)
                #expect(FileSystem.exists(state) && !FileSystem.isRegularFile(state), "the link is left for the user")
            }
        }
    }
}
