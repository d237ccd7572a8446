import Foundation
import Haul
import HaulServer
import HaulTestSupport
import Testing

/// Rollback state is keyed by the repository's normalized identity, lives outside caches, migrates from the old
/// location, and is reset only on purpose.
@Suite("Trust state: identity, location, migration and reset", .timeLimit(.minutes(2)))
struct TrustStateTests {
    /// Publishes m@1 and m@2 signed by `key`; returns the bytes of the version-1 index (for replay).
    static func twoVersions(_ dir: String, key: SigningKey) throws -> Data {
        try RepositoryBindingTests.publish(
            dir, repo: "\(dir)/repo", repositoryName: "r", version: "1", key: key, seed: 1)
        let old = try Data(contentsOf: URL(fileURLWithPath: "\(dir)/repo/index.json"))
        try RepositoryBindingTests.publish(
            dir, repo: "\(dir)/repo", repositoryName: "r", version: "2", key: key, seed: 2)
        return old
    }

    static func spellings(_ url: URL) -> [String] {
        let base = url.absoluteString  // http://127.0.0.1:PORT/
        let bare = String(base.dropLast())
        let port = url.port ?? 80
        // Numeric spellings of 127.0.0.1 that connect to the same origin (inet_aton and URL parsers accept them).
        let numeric = ["127.1", "0x7f000001", "2130706433", "0177.0.0.1"].map { "http://\($0):\(port)" }
        return [bare, base, "\(bare)/./", "\(bare)/x/../", bare.replacingOccurrences(of: "http:", with: "HTTP:")]
            + numeric
    }

    @Test("a replayed older index is refused under every spelling of the repository URL")
    func spellingsKeepRollback() async throws {
        try await withTemporaryDirectory { dir in
            let key = SigningKey()
            let old = try Self.twoVersions(dir, key: key)
            try await withTestOrigin(root: "\(dir)/repo") { _, url in
                try await withTestManager(
                    repository: [url], store: "\(dir)/store", configure: RepositoryBindingTests.trusting(key)
                ) { manager in
                    let model = try await manager.downloadModel("m")
                    #expect(model.version.string == "2")
                }
                try old.write(to: URL(fileURLWithPath: "\(dir)/repo/index.json"))
                for spelling in Self.spellings(url) {
                    let respelled = try #require(URL(string: spelling))
                    try await withTestManager(
                        repository: [respelled], store: "\(dir)/store", configure: RepositoryBindingTests.trusting(key)
                    ) { manager in
                        await #expect("\(spelling)") {
                            try await manager.downloadModel("m", version: "1")
                        } throws: { ($0 as? HaulError)?.code == .untrusted && "\($0)".contains("rollback") }
                    }
                }
                #expect(
                    FileSystem.contents(of: "\(dir)/store/state/repositories").filter { $0.hasSuffix(".json") }.count
                        == 1)
                #expect(!FileSystem.exists("\(dir)/store/models/m/1"))
            }
        }
    }

    @Test("resetTrust forgets one repository: the replayed index is then trusted on first use")
    func reset() async throws {
        try await withTemporaryDirectory { dir in
            let key = SigningKey()
            let old = try Self.twoVersions(dir, key: key)
            try await withTestOrigin(root: "\(dir)/repo") { _, url in
                try await withTestManager(
                    repository: [url], store: "\(dir)/store", configure: RepositoryBindingTests.trusting(key)
                ) { _ = try await $0.downloadModel("m") }
                try old.write(to: URL(fileURLWithPath: "\(dir)/repo/index.json"))
                let respelled = try #require(URL(string: String(url.absoluteString.dropLast())))
                try await withTestManager(
                    repository: [respelled], store: "\(dir)/store", configure: RepositoryBindingTests.trusting(key)
                ) { manager in
                    await #expect(throws: HaulError.self) { try await manager.downloadModel("m", version: "1") }
                    let forgotten = try manager.resetTrust()
                    #expect(forgotten?.highestVersion == 2 && forgotten?.name == "r")
                    #expect(try manager.resetTrust() == nil)
                    let model = try await manager.downloadModel("m", version: "1")
                    #expect(model.version.string == "1")
                }
            }
        }
    }

    @Test("state written by an older Haul (keyed by the URL's spelling) is migrated, not lost")
    func migration() async throws {
        try await withTemporaryDirectory { dir in
            let key = SigningKey()
            let old = try Self.twoVersions(dir, key: key)
            try await withTestOrigin(root: "\(dir)/repo") { _, url in
                let store = try ContentStore(root: "\(dir)/store")
                try await withTestManager(
                    repository: [url], store: "\(dir)/store", configure: RepositoryBindingTests.trusting(key)
                ) { _ = try await $0.downloadModel("m") }
                // Move the state to where the previous release kept it.
                let current = TrustStateStore(root: "\(dir)/store/state").path(for: RepositoryIdentity(url))
                let legacy = store.legacyStatePath(forURL: url.absoluteString)
                #expect(current != legacy)
                try FileSystem.rename(current, to: legacy)
                try old.write(to: URL(fileURLWithPath: "\(dir)/repo/index.json"))
                try await withTestManager(
                    repository: [url], store: "\(dir)/store", configure: RepositoryBindingTests.trusting(key)
                ) { manager in
                    await #expect { try await manager.downloadModel("m", version: "1") } throws: {
                        ($0 as? HaulError)?.code == .untrusted
                    }
                }
                #expect(FileSystem.isRegularFile(current) && !FileSystem.exists(legacy))
            }
        }
    }

    @Test("trust state lives outside the cache for the default store, beside a named store, or where configured")
    func location() throws {
        var config = ModelConfig(repositoryURLs: [])
        #expect(config.resolvedStatePath == ModelConfig.defaultStatePath())
        #expect(!config.resolvedStatePath.hasPrefix(ModelConfig.defaultStorePath()))
        config.storePath = "/srv/models"
        #expect(config.resolvedStatePath == "/srv/models/state")
        config.statePath = "/var/lib/haul"
        #expect(config.resolvedStatePath == "/var/lib/haul")
        #if !canImport(Darwin)
            #expect(
                ModelConfig.defaultStatePath(environment: ["XDG_STATE_HOME": "/x/state", "HOME": "/h"])
                    == "/x/state/haul")
            #expect(ModelConfig.defaultStatePath(environment: ["HOME": "/h"]) == "/h/.local/state/haul")
        #endif
        let fromEnvironment = try ModelConfig.fromEnvironment(
            repository: "http://127.0.0.1:1/", environment: ["HAUL_STATE": "/s", "HAUL_REPOSITORY_NAME": "r"])
        #expect(fromEnvironment.resolvedStatePath == "/s" && fromEnvironment.trust.repositoryName == "r")
    }
}
