import Foundation
import Haul
import HaulServer
import HaulTestSupport
import Testing

/// Attacks on the shared store, each performed against real servers on 127.0.0.1: nothing wrong is ever installed.
@Suite("Store: no repository, partial file or planted link can put wrong bytes in the store", .timeLimit(.minutes(2)))
struct StoreHardeningTests {
    /// Repository A publishes the genuine `m`; repository B (another key) publishes `evil`, whose manifest claims
    /// the SHA-256 of A's file with a chunk table (and blob) for other bytes. Returns A's genuine bytes and B's.
    static func publishPoisonPair(_ dir: String, keyA: SigningKey, keyB: SigningKey) throws -> (Data, Data) {
        let genuine = Fixtures.randomBytes(3 << 20, seed: 11)
        let other = Fixtures.randomBytes(3 << 20, seed: 12)
        try publish(genuine, in: "\(dir)/a", name: "m", key: keyA)
        try publish(other, in: "\(dir)/b", name: "evil", key: keyB)
        // B lies: its manifest names A's file digest, and it serves its own bytes under that name.
        let layoutB = RepositoryLayout(root: "\(dir)/b/repo")
        var index = try #require(try layoutB.loadIndex())
        let entry = try #require(index.models["evil"]?.versions["1"])
        var manifest = try Manifest.decode(Data(contentsOf: URL(fileURLWithPath: layoutB.manifestPath(entry.manifest))))
        let claimed = SHA256Digest.of(Data(genuine))
        try FileManager.default.copyItem(
            atPath: layoutB.blobPath(manifest.files[0].sha256), toPath: layoutB.blobPath(claimed))
        manifest.files[0].sha256 = claimed
        let data = try CanonicalJSON.encode(manifest)
        try data.write(to: URL(fileURLWithPath: layoutB.manifestPath(SHA256Digest.of(data))))
        index.models["evil"]?.versions["1"] = .init(
            manifest: SHA256Digest.of(data), manifestSize: Int64(data.count), size: entry.size)
        try layoutB.writeIndex(try SignedEnvelope.wrapping(index))
        var configuration = Publisher.Configuration()
        configuration.signingKeys = [keyB]
        try Publisher(repositoryPath: "\(dir)/b/repo", configuration: configuration).renew()
        return (Data(genuine), Data(other))
    }

    static func publish(_ bytes: [UInt8], in dir: String, name: String, key: SigningKey) throws {
        try FileSystem.createDirectory("\(dir)/src")
        try Data(bytes).write(to: URL(fileURLWithPath: "\(dir)/src/model.bin"))
        var configuration = Publisher.Configuration()
        configuration.signingKeys = [key]
        _ = try Publisher(repositoryPath: "\(dir)/repo", configuration: configuration)
            .publish("\(dir)/src", name: try ModelName(name), version: try ModelVersion("1"))
    }

    static func trusting(_ key: SigningKey) -> (inout ModelConfig) -> Void {
        { $0.trust = TrustConfiguration(keys: [key.publicKey], threshold: 1, allowUnsigned: false) }
    }

    @Test("a manifest from another repository claiming a known file digest cannot poison the store")
    func crossRepositoryPoisoning() async throws {
        try await withTemporaryDirectory { dir in
            let (keyA, keyB) = (SigningKey(), SigningKey())
            let (genuine, other) = try Self.publishPoisonPair(dir, keyA: keyA, keyB: keyB)
            try await withTestOrigin(root: "\(dir)/b/repo") { _, urlB in
                try await withTestManager(repository: [urlB], store: "\(dir)/store", configure: Self.trusting(keyB)) {
                    manager in
                    // Its chunk table names other bytes than its sha256: refused as inconsistent, nothing committed.
                    await #expect {
                        try await manager.downloadModel("evil")
                    } throws: { ($0 as? HaulError)?.code == .digestMismatch }
                    _ = other
                }
            }
            try await withTestOrigin(root: "\(dir)/a/repo") { server, urlA in
                try await withTestManager(repository: [urlA], store: "\(dir)/store", configure: Self.trusting(keyA)) {
                    let model = try await $0.downloadModel("m")
                    #expect(try Data(contentsOf: model.url.appendingPathComponent("model.bin")) == genuine)
                }
                #expect(
                    server.injector.bytesSent(pathContains: "blobs/") >= Int64(genuine.count), "fetched, not reused")
            }
            #expect(try ContentStore(root: "\(dir)/store").verify().isIntact)
        }
    }

    @Test("a partial download under one chunk table is never resumed under another")
    func resumeUnderAnotherTable() async throws {
        try await withTemporaryDirectory { dir in
            let (keyA, keyB) = (SigningKey(), SigningKey())
            let (genuine, _) = try Self.publishPoisonPair(dir, keyA: keyA, keyB: keyB)
            let slow = FaultPlan([.init(.throttle(bytesPerSecond: 1 << 20))])
            try await withTestOrigin(root: "\(dir)/b/repo", faults: slow) { _, urlB in
                try await withTestManager(repository: [urlB], store: "\(dir)/store", configure: Self.trusting(keyB)) {
                    manager in
                    let (reachedStream, reached) = AsyncStream<Void>.makeStream()
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        group.addTask {
                            var iterator = reachedStream.makeAsyncIterator()
                            if await iterator.next() != nil { manager.cancelDownload("evil") }
                        }
                        await #expect(throws: HaulError.self) {
                            try await manager.downloadModel("evil") { progress in
                                if progress.bytesDone >= 1 << 20 { reached.yield() }
                            }
                        }
                        reached.finish()
                        try await group.waitForAll()
                    }
                }
            }
            #expect(FileSystem.contents(of: "\(dir)/store/partial").contains { $0.hasSuffix(".journal") })
            try await withTestOrigin(root: "\(dir)/a/repo") { _, urlA in
                try await withTestManager(repository: [urlA], store: "\(dir)/store", configure: Self.trusting(keyA)) {
                    let model = try await $0.downloadModel("m")
                    #expect(try Data(contentsOf: model.url.appendingPathComponent("model.bin")) == genuine)
                }
            }
        }
    }

    /// Where a link can be planted inside the store, relative to its root, for a model `m` whose blob key is `key`.
    static let plantedLinks: [String] = [
        "partial/KEY.partial", "partial/KEY.journal", "partial/KEY.lock", "models/m", "receipts/m", "staging",
        "locks/pins", "manifests/sha256", "blobs/table-sha256/KEY",
    ]

    @Test("a symlink planted inside the store is never followed", arguments: plantedLinks)
    func plantedLink(_ place: String) async throws {
        try await withTemporaryDirectory { dir in
            let report = try Fixtures.publish(
                repo: "\(dir)/repo", source: "\(dir)/src", name: "m", version: "1", files: [("w.bin", 2 << 20)])
            let key = report.manifest.files[0].blobKey.hex
            _ = try ContentStore(root: "\(dir)/store")
            try Fixtures.writeRandomFile("\(dir)/outside/file", size: 2 << 20, seed: 99)
            let before = try filesUnder("\(dir)/outside")
            let link = "\(dir)/store/\(place.replacingOccurrences(of: "KEY", with: key))"
            try FileSystem.remove(link)
            let target = place.contains(".") || place.hasPrefix("blobs") ? "\(dir)/outside/file" : "\(dir)/outside"
            try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: target)
            try await withTestOrigin(root: "\(dir)/repo") { _, url in
                do {
                    try await withTestManager(repository: [url], store: "\(dir)/store") { manager in
                        let model = try await manager.downloadModel("m")
                        #expect(try filesUnder(model.url.path) == filesUnder("\(dir)/src"))
                    }
                } catch let error as HaulError {
                    #expect(error.code == .fileSystem, "refused clearly: \(error)")
                    #expect(error.message.contains("symlink"), "\(error.message)")
                }
            }
            #expect(try filesUnder("\(dir)/outside") == before, "nothing outside the store changed")
        }
    }

    @Test("a blob another process holds without progress: other blobs are fetched meanwhile, then a clear timeout")
    func stuckHolder() async throws {
        try await withTemporaryDirectory { dir in
            let report = try Fixtures.publish(
                repo: "\(dir)/repo", source: "\(dir)/src", name: "m", version: "1",
                files: [("held.bin", 600_000), ("free.bin", 700_000)])
            let held = try #require(report.manifest.files.first { $0.path.string == "held.bin" })
            let free = try #require(report.manifest.files.first { $0.path.string == "free.bin" })
            let store = try ContentStore(root: "\(dir)/store")
            // A stuck "process": a lock on the blob taken through another open file, naming its holder.
            let lock = try store.folder(.partial).openFile(
                ContentStore.lockName(held.blobKey), .readWrite, options: [.create])
            defer { try? lock.close() }
            #expect(try lock.tryLock())
            ContentStore.describeHolder(in: lock, purpose: "stuck test holder")
            try await withTestOrigin(root: "\(dir)/repo") { _, url in
                try await withTestManager(
                    repository: [url], store: "\(dir)/store", configure: { $0.transfer.lockTimeout = .seconds(1) }
                ) { manager in
                    await #expect {
                        try await manager.downloadModel("m")
                    } throws: { error in
                        let error = error as? HaulError
                        return error?.code == .timeout && error?.message.contains("stuck test holder") == true
                    }
                }
            }
            #expect(store.hasBlob(free), "the other blob was fetched while waiting")
            #expect(!store.hasBlob(held))
            #expect(try store.installedModels().isEmpty)
        }
    }

    @Test("verify reports damaged chunks without changing anything; repair fetches only those chunks")
    func repairFetchesOnlyDamagedChunks() async throws {
        try await withTemporaryDirectory { dir in
            try Fixtures.publish(
                repo: "\(dir)/repo", source: "\(dir)/src", name: "m", version: "1",
                files: [("weights.bin", 48 << 20), ("config.json", 5_000)])
            try await withTestOrigin(root: "\(dir)/repo") { server, url in
                try await withTestManager(repository: [url], store: "\(dir)/store") { manager in
                    let model = try await manager.downloadModel("m")
                    let weights = model.url.appendingPathComponent("weights.bin").path
                    chmod(weights, 0o644)
                    let handle = try #require(FileHandle(forUpdatingAtPath: weights))
                    try handle.seek(toOffset: 20 << 20)
                    let byte = try #require(try handle.read(upToCount: 1)?.first)
                    try handle.seek(toOffset: 20 << 20)
                    try handle.write(contentsOf: Data([byte ^ 0x01]))
                    try handle.close()

                    let found = try manager.verify()
                    #expect(found.damaged.map(\.path.string) == ["weights.bin"])
                    #expect(found.damaged.first?.badChunks.count == 1)
                    #expect(try manager.verify().damaged.count == 1, "verify alone changes nothing")

                    server.injector.clearLog()
                    let repaired = try await manager.repair()
                    #expect(repaired.repaired.map(\.description) == ["m@1"])
                    let fetched = server.injector.bytesSent(pathContains: "blobs/")
                    #expect(fetched > 0 && fetched <= 4 << 20, "only the damaged chunk: \(fetched) bytes")
                    #expect(repaired.reusedBytes >= 44 << 20)
                    #expect(try manager.verify().isIntact)
                    #expect(try filesUnder(model.url.path) == filesUnder("\(dir)/src"))
                }
            }
        }
    }

    @Test("a model whose name differs only in case from an installed one is refused, the installed one untouched")
    func caseClash() async throws {
        try await withTemporaryDirectory { dir in
            try Fixtures.publish(
                repo: "\(dir)/lower", source: "\(dir)/src-lower", name: "m", version: "1", files: [("a.bin", 50_000)],
                seeds: [1])
            try Fixtures.publish(
                repo: "\(dir)/upper", source: "\(dir)/src-upper", name: "M", version: "1", files: [("a.bin", 50_000)],
                seeds: [2])
            try await withTestOrigin(root: "\(dir)/lower") { _, lower in
                try await withTestOrigin(root: "\(dir)/upper") { _, upper in
                    try await withTestManager(repository: [lower], store: "\(dir)/store") {
                        _ = try await $0.downloadModel("m")
                    }
                    let installed = try filesUnder("\(dir)/store/models")
                    try await withTestManager(repository: [upper], store: "\(dir)/store") { manager in
                        await #expect {
                            try await manager.downloadModel("M")
                        } throws: { error in
                            (error as? HaulError)?.code == .invalidArgument && "\(error)".contains("differs only in case")
                        }
                    }
                    #expect(try filesUnder("\(dir)/store/models") == installed)
                    #expect(try filesUnder("\(dir)/store/models/m/1") == filesUnder("\(dir)/src-lower"))
                }
            }
        }
    }

    @Test("repairing a file shared by two installed versions repairs one blob and links it into both")
    func repairSharedBlob() async throws {
        try await withTemporaryDirectory { dir in
            try Fixtures.publish(
                repo: "\(dir)/repo", source: "\(dir)/src", name: "m", version: "1", files: [("weights.bin", 12 << 20)])
            let report = try Fixtures.publish(
                repo: "\(dir)/repo", source: "\(dir)/src", name: "m", version: "2", files: [("weights.bin", 12 << 20)])
            // The chunks the two damaged bytes fall in: what one repair may fetch, once.
            let damagedRange: Range<Int64> = (5 << 20)..<((5 << 20) + 2)
            let damagedChunks = report.manifest.files[0].chunkSpans.filter {
                $0.offset < damagedRange.upperBound && $0.end > damagedRange.lowerBound
            }.reduce(Int64(0)) { $0 + $1.size }
            try await withTestOrigin(root: "\(dir)/repo") { server, url in
                try await withTestManager(repository: [url], store: "\(dir)/store") { manager in
                    let one = try await manager.downloadModel("m", version: "1")
                    let two = try await manager.downloadModel("m", version: "2")
                    let blobsBefore = FileSystem.contents(of: "\(dir)/store/blobs/table-sha256").sorted()
                    let weights = one.url.appendingPathComponent("weights.bin").path
                    chmod(weights, 0o644)
                    let handle = try #require(FileHandle(forUpdatingAtPath: weights))
                    try handle.seek(toOffset: 5 << 20)
                    try handle.write(contentsOf: Data([0x5A, 0xA5]))
                    try handle.close()
                    server.injector.clearLog()
                    _ = try await manager.repair()
                    let fetched = server.injector.bytesSent(pathContains: "blobs/")
                    #expect(fetched > 0 && fetched <= damagedChunks, "the damaged chunk once: \(fetched) of \(damagedChunks) bytes")
                    #expect(try manager.verify().isIntact)
                    #expect(FileSystem.contents(of: "\(dir)/store/blobs/table-sha256").sorted() == blobsBefore)
                    let key = try #require(blobsBefore.first { !$0.contains(".") })
                    var blob = stat(), first = stat(), second = stat()
                    #expect(stat("\(dir)/store/blobs/table-sha256/\(key)", &blob) == 0)
                    #expect(stat(weights, &first) == 0)
                    #expect(stat(two.url.appendingPathComponent("weights.bin").path, &second) == 0)
                    #expect(first.st_ino == blob.st_ino && second.st_ino == blob.st_ino, "one inode, still shared")
                    #expect(try filesUnder(two.url.path) == filesUnder("\(dir)/src"))
                }
            }
        }
    }
}
