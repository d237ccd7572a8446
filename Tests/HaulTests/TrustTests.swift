import Foundation
import Haul
import HaulTestSupport
import Testing

/// Each protection performs its attack against a real `haul serve` on 127.0.0.1 and must be refused with nothing
/// written to the store.
@Suite("Trust: attacks on the repository are refused", .timeLimit(.minutes(2)))
struct TrustTests {
    static func publish(
        _ dir: String, version: String = "1", keys: [SigningKey] = [], trust: TrustPolicy? = nil, now: Date = Date(),
        seed: UInt64 = 1
    ) throws {
        try Fixtures.writeRandomFile("\(dir)/src-\(version)/model.bin", size: 300_000, seed: seed)
        var configuration = Publisher.Configuration()
        configuration.signingKeys = keys
        configuration.trust = trust
        _ = try Publisher(repositoryPath: "\(dir)/repo", configuration: configuration)
            .publish("\(dir)/src-\(version)", name: try ModelName("m"), version: try ModelVersion(version), now: now)
    }

    static func trusting(_ keys: [SigningKey], threshold: Int = 1) -> (inout ModelConfig) -> Void {
        { config in
            config.trust = TrustConfiguration(keys: keys.map(\.publicKey), threshold: threshold, allowUnsigned: false)
        }
    }

    /// No blob, manifest or model was stored, and (unless the index itself was fine) no index was remembered.
    static func expectNothingWritten(_ dir: String, indexAccepted: Bool = false) {
        #expect(FileSystem.contents(of: "\(dir)/store/blobs/table-sha256").isEmpty)
        #expect(FileSystem.contents(of: "\(dir)/store/models").isEmpty)
        #expect(FileSystem.contents(of: "\(dir)/store/manifests/sha256").isEmpty)
        if !indexAccepted { #expect(FileSystem.contents(of: "\(dir)/store/state/repositories").isEmpty) }
    }

    static func expectRefused(_ code: HaulError.Code, _ body: () async throws -> Void) async {
        await #expect { try await body() } throws: { ($0 as? HaulError)?.code == code }
    }

    @Test("arbitrary software: an index signed by an unknown key is refused")
    func unknownKey() async throws {
        try await withTemporaryDirectory { dir in
            try Self.publish(dir, keys: [SigningKey()])
            try await withTestOrigin(root: "\(dir)/repo") { _, url in
                try await withTestManager(
                    repository: [url], store: "\(dir)/store", configure: Self.trusting([SigningKey()])
                ) { manager in
                    await Self.expectRefused(.untrusted) { try await manager.downloadModel("m") }
                }
            }
            Self.expectNothingWritten(dir)
        }
    }

    @Test("an unsigned index is refused unless the configuration allows it")
    func unsigned() async throws {
        try await withTemporaryDirectory { dir in
            try Self.publish(dir)
            try await withTestOrigin(root: "\(dir)/repo") { _, url in
                try await withTestManager(
                    repository: [url], store: "\(dir)/store", configure: Self.trusting([SigningKey()])
                ) { manager in
                    await Self.expectRefused(.untrusted) { try await manager.downloadModel("m") }
                }
                try await withTestManager(
                    repository: [url], store: "\(dir)/store", configure: { $0.trust = TrustConfiguration() }
                ) { manager in
                    await Self.expectRefused(.untrusted) { try await manager.downloadModel("m") }
                }
                Self.expectNothingWritten(dir)
                try await withTestManager(
                    repository: [url], store: "\(dir)/store", configure: { $0.trust.allowUnsigned = true }
                ) { manager in
                    let model = try await manager.downloadModel("m")
                    #expect(model.version.string == "1")
                }
            }
        }
    }

    @Test("the threshold counts distinct trusted keys: one signature, or one key twice, is not enough for two")
    func threshold() async throws {
        try await withTemporaryDirectory { dir in
            let a = SigningKey(), b = SigningKey()
            try Self.publish(dir, keys: [a])
            // The attacker duplicates a's signature under b's key id and again under a's.
            let layout = RepositoryLayout(root: "\(dir)/repo")
            var envelope = try CanonicalJSON.decode(
                SignedEnvelope.self, from: Data(contentsOf: URL(fileURLWithPath: layout.indexPath)), what: "index")
            envelope.signatures.append(envelope.signatures[0])
            envelope.signatures.append(.init(keyid: b.publicKey.keyID, sig: envelope.signatures[0].sig))
            try layout.writeIndex(envelope)
            try await withTestOrigin(root: "\(dir)/repo") { _, url in
                try await withTestManager(
                    repository: [url], store: "\(dir)/store", configure: Self.trusting([a, b], threshold: 2)
                ) { manager in
                    await Self.expectRefused(.untrusted) { try await manager.downloadModel("m") }
                }
                Self.expectNothingWritten(dir)
                try Self.publish(dir, version: "2", keys: [a, b], seed: 2)
                try await withTestManager(
                    repository: [url], store: "\(dir)/store", configure: Self.trusting([a, b], threshold: 2)
                ) { manager in
                    let model = try await manager.downloadModel("m")
                    #expect(model.version.string == "2")
                }
            }
        }
    }

    @Test("a valid signature over other bytes is refused (tampered payload)")
    func tamperedPayload() async throws {
        try await withTemporaryDirectory { dir in
            let key = SigningKey()
            try Self.publish(dir, keys: [key])
            let layout = RepositoryLayout(root: "\(dir)/repo")
            var envelope = try CanonicalJSON.decode(
                SignedEnvelope.self, from: Data(contentsOf: URL(fileURLWithPath: layout.indexPath)), what: "index")
            var index = try #require(try layout.loadIndex())
            index.version += 100
            envelope.payload = try CanonicalJSON.encode(index).base64EncodedString()
            try layout.writeIndex(envelope)
            try await withTestOrigin(root: "\(dir)/repo") { _, url in
                try await withTestManager(repository: [url], store: "\(dir)/store", configure: Self.trusting([key])) {
                    manager in
                    await Self.expectRefused(.untrusted) { try await manager.downloadModel("m") }
                }
            }
            Self.expectNothingWritten(dir)
        }
    }

    @Test("rollback: an older index is refused, even after a restart")
    func rollback() async throws {
        try await withTemporaryDirectory { dir in
            let key = SigningKey()
            try Self.publish(dir, keys: [key])
            let layout = RepositoryLayout(root: "\(dir)/repo")
            let old = try Data(contentsOf: URL(fileURLWithPath: layout.indexPath))
            try Self.publish(dir, version: "2", keys: [key], seed: 2)
            try await withTestOrigin(root: "\(dir)/repo") { _, url in
                try await withTestManager(repository: [url], store: "\(dir)/store", configure: Self.trusting([key])) {
                    manager in
                    let model = try await manager.downloadModel("m")
                    #expect(model.version.string == "2")
                }
                try old.write(to: URL(fileURLWithPath: layout.indexPath))  // a stale mirror or an attacker replays v1
                try await withTestManager(repository: [url], store: "\(dir)/store", configure: Self.trusting([key])) {
                    manager in
                    await Self.expectRefused(.untrusted) { try await manager.downloadModel("m", version: "1") }
                    #expect(!manager.isModelDownloaded("m", version: "1"))
                }
            }
        }
    }

    @Test("freeze: an expired index is refused for downloads; installed models keep working")
    func freeze() async throws {
        try await withTemporaryDirectory { dir in
            let key = SigningKey()
            try Self.publish(dir, keys: [key])
            try await withTestOrigin(root: "\(dir)/repo") { _, url in
                try await withTestManager(repository: [url], store: "\(dir)/store", configure: Self.trusting([key])) {
                    manager in
                    _ = try await manager.downloadModel("m")
                }
                // A newer index that expired three days ago (published "ten days ago" with the 7-day default).
                try Self.publish(dir, version: "2", keys: [key], now: Date().addingTimeInterval(-10 * 86_400), seed: 2)
                try await withTestManager(repository: [url], store: "\(dir)/store", configure: Self.trusting([key])) {
                    manager in
                    await Self.expectRefused(.untrusted) { try await manager.downloadModel("m", version: "2") }
                    #expect(!manager.isModelDownloaded("m", version: "2"))
                    let folder = try manager.modelURL(for: "m")
                    #expect(FileManager.default.fileExists(atPath: folder.appendingPathComponent("model.bin").path))
                }
            }
        }
    }

    @Test("renewing re-signs the index with a later expiry, and clients accept it again")
    func renew() async throws {
        try await withTemporaryDirectory { dir in
            let key = SigningKey()
            try Self.publish(dir, keys: [key], now: Date().addingTimeInterval(-10 * 86_400))
            try await withTestOrigin(root: "\(dir)/repo") { _, url in
                try await withTestManager(repository: [url], store: "\(dir)/store", configure: Self.trusting([key])) {
                    manager in
                    await Self.expectRefused(.untrusted) { try await manager.downloadModel("m") }
                }
                var configuration = Publisher.Configuration()
                configuration.signingKeys = [key]
                let renewed = try Publisher(repositoryPath: "\(dir)/repo", configuration: configuration).renew()
                #expect(renewed.version == 2 && renewed.expires > Date().addingTimeInterval(6 * 86_400))
                try await withTestManager(repository: [url], store: "\(dir)/store", configure: Self.trusting([key])) {
                    manager in
                    let model = try await manager.downloadModel("m")
                    #expect(model.version.string == "1")
                }
            }
        }
    }

    @Test("mix-and-match: a manifest that is not the one the index pins is refused")
    func mixAndMatch() async throws {
        try await withTemporaryDirectory { dir in
            try Self.publish(dir)
            try Self.publish(dir, version: "2", seed: 2)
            let layout = RepositoryLayout(root: "\(dir)/repo")
            let index = try #require(try layout.loadIndex())
            let v1 = try #require(index.models["m"]?.versions["1"]?.manifest),
                v2 = try #require(index.models["m"]?.versions["2"]?.manifest)
            try FileSystem.remove(layout.manifestPath(v2))
            try FileManager.default.copyItem(atPath: layout.manifestPath(v1), toPath: layout.manifestPath(v2))
            try await withTestOrigin(root: "\(dir)/repo") { _, url in
                try await withTestManager(repository: [url], store: "\(dir)/store") { manager in
                    await Self.expectRefused(.digestMismatch) { try await manager.downloadModel("m", version: "2") }
                }
            }
            #expect(
                FileSystem.contents(of: "\(dir)/store/models").isEmpty
                    && FileSystem.contents(of: "\(dir)/store/blobs/table-sha256").isEmpty)
        }
    }

    @Test("endless data: an oversized index and a manifest longer than pinned are refused")
    func endlessData() async throws {
        try await withTemporaryDirectory { dir in
            try Self.publish(dir)
            let layout = RepositoryLayout(root: "\(dir)/repo")
            let index = try #require(try layout.loadIndex())
            let manifest = try #require(index.models["m"]?.versions["1"]?.manifest)
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: layout.manifestPath(manifest)))
            try handle.seekToEnd()
            try handle.write(contentsOf: Data(repeating: 0x20, count: 5 << 20))
            try handle.close()
            try await withTestOrigin(root: "\(dir)/repo") { _, url in
                try await withTestManager(repository: [url], store: "\(dir)/store") { manager in
                    await Self.expectRefused(.sizeMismatch) { try await manager.downloadModel("m") }
                }
                try Data(repeating: 0x20, count: 9 << 20).write(to: URL(fileURLWithPath: layout.indexPath))
                try await withTestManager(repository: [url], store: "\(dir)/store2") { manager in
                    await Self.expectRefused(.sizeMismatch) { try await manager.downloadModel("m") }
                }
            }
            Self.expectNothingWritten(dir, indexAccepted: true)
            #expect(FileSystem.contents(of: "\(dir)/store2/state/repositories").isEmpty)
        }
    }

    @Test("redirects are followed to another origin, and loops are cut after 5 hops")
    func redirects() async throws {
        try await withTemporaryDirectory { dir in
            try Self.publish(dir)
            try await withTestOrigin(root: "\(dir)/repo") { _, target in
                let toTarget = FaultPlan([
                    .init(
                        pathContains: "/index.json",
                        .redirect(to: target.appendingPathComponent("index.json").absoluteString))
                ])
                try await withTestOrigin(root: "\(dir)/repo", faults: toTarget) { edge, url in
                    try await withTestManager(repository: [url], store: "\(dir)/store") { manager in
                        let model = try await manager.downloadModel("m")
                        #expect(model.version.string == "1")
                    }
                    #expect(edge.injector.requests.contains { $0.status == 302 })
                }
            }
            try await withTestOrigin(
                root: "\(dir)/repo",
                faults: FaultPlan([.init(pathContains: "/index.json", .redirect(to: "/index.json"))])
            ) { loop, url in
                try await withTestManager(repository: [url], store: "\(dir)/store2") { manager in
                    await Self.expectRefused(.badResponse) { try await manager.downloadModel("m") }
                }
                #expect(loop.injector.requests.filter { $0.status == 302 }.count >= 6)
            }
        }
    }

    @Test("key rotation: an index signed by today's key can name tomorrow's, which clients then accept alone")
    func rotation() async throws {
        try await withTemporaryDirectory { dir in
            let old = SigningKey(), new = SigningKey()
            // Without a rotation, the new key alone is not trusted.
            try Self.publish(dir, keys: [new])
            try await withTestOrigin(root: "\(dir)/repo") { _, url in
                try await withTestManager(repository: [url], store: "\(dir)/fresh", configure: Self.trusting([old])) {
                    manager in
                    await Self.expectRefused(.untrusted) { try await manager.downloadModel("m") }
                }
            }
            try FileSystem.remove("\(dir)/repo")
            try Self.publish(dir, keys: [old], trust: TrustPolicy(keys: [new.publicKey]))
            try await withTestOrigin(root: "\(dir)/repo") { _, url in
                try await withTestManager(repository: [url], store: "\(dir)/store", configure: Self.trusting([old])) {
                    manager in
                    _ = try await manager.downloadModel("m")
                }
                try Self.publish(dir, version: "2", keys: [new], seed: 2)
                try await withTestManager(repository: [url], store: "\(dir)/store", configure: Self.trusting([old])) {
                    manager in
                    let model = try await manager.downloadModel("m")
                    #expect(model.version.string == "2")
                }
                // And the old key alone no longer suffices.
                try Self.publish(dir, version: "3", keys: [old], seed: 3)
                try await withTestManager(repository: [url], store: "\(dir)/store", configure: Self.trusting([old])) {
                    manager in
                    await Self.expectRefused(.untrusted) { try await manager.downloadModel("m") }
                }
            }
        }
    }

    @Test("periodic update checks report a newer version and stop when cancelled")
    func periodicChecks() async throws {
        try await withTemporaryDirectory { dir in
            try Self.publish(dir)
            try await withTestOrigin(root: "\(dir)/repo") { _, url in
                try await withTestManager(repository: [url], store: "\(dir)/store") { manager in
                    _ = try await manager.downloadModel("m")
                    try Self.publish(dir, version: "2", seed: 2)
                    let found = try await withThrowingTaskGroup(of: [AvailableUpdate]?.self) { group in
                        let (reports, continuation) = AsyncStream<[AvailableUpdate]>.makeStream()
                        group.addTask {
                            try await manager.runPeriodicUpdateChecks(every: .milliseconds(50)) {
                                continuation.yield($0)
                            }
                            return nil
                        }
                        group.addTask {
                            var iterator = reports.makeAsyncIterator()
                            return await iterator.next()
                        }
                        let first = try await group.next() ?? nil
                        group.cancelAll()
                        return first
                    }
                    #expect(found?.map(\.available.string) == ["2"])
                }
            }
        }
    }

    @Test("the store never follows a symlink out of its root")
    func symlinkEscape() async throws {
        try await withTemporaryDirectory { dir in
            try Self.publish(dir)
            try FileSystem.createDirectory("\(dir)/store/models")
            try FileSystem.createDirectory("\(dir)/outside")
            try FileManager.default.createSymbolicLink(
                atPath: "\(dir)/store/models/m", withDestinationPath: "\(dir)/outside")
            try await withTestOrigin(root: "\(dir)/repo") { _, url in
                try await withTestManager(repository: [url], store: "\(dir)/store") { manager in
                    await Self.expectRefused(.fileSystem) { try await manager.downloadModel("m") }
                }
            }
            #expect(FileSystem.contents(of: "\(dir)/outside").isEmpty)
        }
    }

    @Test("update checks: an unchanged index costs one 304; a newer version is listed, installed, and the old pruned")
    func updates() async throws {
        try await withTemporaryDirectory { dir in
            let key = SigningKey()
            try Self.publish(dir, keys: [key])
            try await withTestOrigin(root: "\(dir)/repo") { server, url in
                try await withTestManager(repository: [url], store: "\(dir)/store", configure: Self.trusting([key])) {
                    manager in
                    try await manager.downloadModel("m")
                    server.injector.clearLog()
                    #expect(try await manager.checkForUpdates().isEmpty)
                    #expect(server.injector.requests.map(\.status) == [304])
                    try Self.publish(dir, version: "2", keys: [key], seed: 2)
                    let updates = try await manager.checkForUpdates()
                    #expect(updates.map { "\($0.name) \($0.installed) \($0.available)" } == ["m 1 2"])
                    let installed = try await manager.update(prune: true)
                    #expect(installed.map(\.version.string) == ["2"])
                    #expect(try manager.installedModels().map(\.version.string) == ["2"])
                }
                try await withTestManager(repository: [url], store: "\(dir)/store", configure: { $0.offline = true }) {
                    manager in
                    await Self.expectRefused(.offline) { _ = try await manager.checkForUpdates() }
                }
            }
        }
    }
}
