import Foundation
import Haul
import HaulServer
import HaulTestSupport
import Testing

/// Trust state is bound to the repository: its signed name, its normalized URL, its installed versions.
@Suite("Trust: state bound to the repository's name and identity", .timeLimit(.minutes(2)))
struct RepositoryBindingTests {
    /// Publishes `name`@`version` of model "m" into `repo` (named `repositoryName`), signed by `key`.
    static func publish(
        _ dir: String, repo: String, repositoryName: String, version: String, key: SigningKey, seed: UInt64
    ) throws {
        try Fixtures.writeRandomFile("\(dir)/src-\(repositoryName)-\(version)/model.bin", size: 200_000, seed: seed)
        var configuration = Publisher.Configuration()
        configuration.signingKeys = [key]
        configuration.repositoryName = repositoryName
        _ = try Publisher(repositoryPath: repo, configuration: configuration)
            .publish("\(dir)/src-\(repositoryName)-\(version)", name: ModelName("m"), version: ModelVersion(version))
    }

    /// Copies `from`'s manifests, blobs and index over `to` (an origin now serving another repository's files).
    static func serveInstead(_ from: String, at to: String) throws {
        for folder in ["manifests/sha256", "blobs/sha256"] {
            for name in FileSystem.contents(of: "\(from)/\(folder)") where !FileSystem.exists("\(to)/\(folder)/\(name)")
            {
                try FileManager.default.copyItem(atPath: "\(from)/\(folder)/\(name)", toPath: "\(to)/\(folder)/\(name)")
            }
        }
        try Data(contentsOf: URL(fileURLWithPath: "\(from)/index.json")).write(
            to: URL(fileURLWithPath: "\(to)/index.json"))
    }

    static func trusting(_ key: SigningKey) -> (inout ModelConfig) -> Void {
        { $0.trust = TrustConfiguration(keys: [key.publicKey]) }
    }

    static func stateFiles(_ store: String) throws -> [String: Data] { try filesUnder("\(store)/state") }

    @Test("an index of another repository signed by the same key is refused at this URL; state and models untouched")
    func otherRepositorySameKey() async throws {
        try await withTemporaryDirectory { dir in
            let key = SigningKey()
            try Self.publish(dir, repo: "\(dir)/served", repositoryName: "alpha", version: "1", key: key, seed: 1)
            // "beta" is another repository of the same publisher: same key, same model name and version label,
            // other bytes, and a higher index version.
            for seed in 1...3 {
                try Self.publish(
                    dir, repo: "\(dir)/beta", repositoryName: "beta", version: "\(seed)", key: key,
                    seed: 10 + UInt64(seed))
            }
            try await withTestOrigin(root: "\(dir)/served") { _, url in
                try await withTestManager(repository: [url], store: "\(dir)/store", configure: Self.trusting(key)) {
                    manager in
                    _ = try await manager.downloadModel("m")
                }
                let installed = try filesUnder("\(dir)/store/models")
                let state = try Self.stateFiles("\(dir)/store")
                let genuineIndex = try Data(contentsOf: URL(fileURLWithPath: "\(dir)/served/index.json"))
                try Self.serveInstead("\(dir)/beta", at: "\(dir)/served")
                try await withTestManager(repository: [url], store: "\(dir)/store", configure: Self.trusting(key)) {
                    manager in
                    await #expect {
                        try await manager.downloadModel("m", version: "1")
                    } throws: { error in
                        let error = error as? HaulError
                        return error?.code == .untrusted && error?.message.contains("\"beta\"") == true
                            && error?.message.contains("\"alpha\"") == true
                    }
                    await #expect(throws: HaulError.self) { try await manager.downloadModel("m", version: "3") }
                }
                #expect(try filesUnder("\(dir)/store/models") == installed, "installed versions were not replaced")
                #expect(try Self.stateFiles("\(dir)/store") == state, "the state was not advanced")
                // The genuine repository goes on: its next index (version 2) is accepted, not blocked as a rollback.
                try genuineIndex.write(to: URL(fileURLWithPath: "\(dir)/served/index.json"))
                try Self.publish(dir, repo: "\(dir)/served", repositoryName: "alpha", version: "2", key: key, seed: 2)
                try await withTestManager(repository: [url], store: "\(dir)/store", configure: Self.trusting(key)) {
                    manager in
                    let model = try await manager.downloadModel("m")
                    #expect(model.version.string == "2")
                }
            }
        }
    }

    @Test("a configured repository name refuses any other name, even on first use")
    func configuredName() async throws {
        try await withTemporaryDirectory { dir in
            let key = SigningKey()
            try Self.publish(dir, repo: "\(dir)/repo", repositoryName: "alpha", version: "1", key: key, seed: 1)
            try await withTestOrigin(root: "\(dir)/repo") { _, url in
                try await withTestManager(
                    repository: [url], store: "\(dir)/store",
                    configure: {
                        Self.trusting(key)(&$0); $0.trust.repositoryName = "beta"
                    }
                ) { manager in
                    await #expect { try await manager.downloadModel("m") } throws: {
                        ($0 as? HaulError)?.code == .untrusted
                    }
                }
                #expect(FileSystem.contents(of: "\(dir)/store/models").isEmpty)
                #expect(FileSystem.contents(of: "\(dir)/store/state/repositories").isEmpty)
                try await withTestManager(
                    repository: [url], store: "\(dir)/store",
                    configure: {
                        Self.trusting(key)(&$0); $0.trust.repositoryName = "alpha"
                    }
                ) { manager in
                    let model = try await manager.downloadModel("m")
                    #expect(model.version.string == "1")
                }
            }
        }
    }

    @Test("an installed name@version is never replaced by another manifest, from any repository")
    func noSilentReplacement() async throws {
        try await withTemporaryDirectory { dir in
            let key = SigningKey()
            try Self.publish(dir, repo: "\(dir)/alpha", repositoryName: "alpha", version: "1", key: key, seed: 1)
            try Self.publish(dir, repo: "\(dir)/beta", repositoryName: "beta", version: "1", key: key, seed: 9)
            try await withTestOrigin(root: "\(dir)/alpha") { _, alpha in
                try await withTestManager(repository: [alpha], store: "\(dir)/store", configure: Self.trusting(key)) {
                    _ = try await $0.downloadModel("m")
                }
            }
            let installed = try filesUnder("\(dir)/store/models")
            try await withTestOrigin(root: "\(dir)/beta") { _, beta in
                try await withTestManager(repository: [beta], store: "\(dir)/store", configure: Self.trusting(key)) {
                    manager in
                    await #expect { try await manager.downloadModel("m", version: "1") } throws: { error in
                        let error = error as? HaulError
                        return error?.code == .untrusted && error?.message.contains("haul rm m@1") == true
                    }
                    #expect(try filesUnder("\(dir)/store/models") == installed)
                    // Resolved the way the message says: remove, then pull.
                    try manager.deleteModel("m", version: "1")
                    _ = try await manager.downloadModel("m", version: "1")
                }
            }
            #expect(try filesUnder("\(dir)/store/models/m/1") == filesUnder("\(dir)/src-beta-1"))
        }
    }

    @Test("a mirror serving another repository signed by the same key cannot bind the name on first use")
    func mirrorCannotBindName() async throws {
        try await withTemporaryDirectory { dir in
            let key = SigningKey()
            try Self.publish(dir, repo: "\(dir)/alpha", repositoryName: "alpha", version: "1", key: key, seed: 1)
            // "beta": same key, same model and label, other bytes, a much higher index version.
            for round in 1...5 {
                try Self.publish(
                    dir, repo: "\(dir)/beta", repositoryName: "beta", version: round == 5 ? "1" : "0.\(round)",
                    key: key, seed: 20 + UInt64(round))
            }
            try await withTestOrigin(root: "\(dir)/alpha") { _, primary in
                try await withTestOrigin(root: "\(dir)/beta") { impostor, mirror in
                    try await withTestManager(
                        repository: [primary, mirror], store: "\(dir)/store", configure: Self.trusting(key)
                    ) { manager in
                        let model = try await manager.downloadModel("m", version: "1")
                        #expect(model.version.string == "1")
                    }
                    #expect(
                        try filesUnder("\(dir)/store/models/m/1") == filesUnder("\(dir)/src-alpha-1"),
                        "the primary's model, not the impostor's")
                    #expect(
                        !impostor.injector.requests.contains { $0.path.contains("/blobs/") },
                        "no blob came from the mirror serving another repository")
                    let state = try Self.stateFiles("\(dir)/store").values.compactMap {
                        try? JSONSerialization.jsonObject(with: $0) as? [String: Any]
                    }
                    #expect(state.contains { $0["name"] as? String == "alpha" }, "the primary's name is pinned")
                }
            }
        }
    }

    @Test("on first use with the primary down, no mirror's index is accepted; nothing is installed")
    func primaryDownFirstUse() async throws {
        try await withTemporaryDirectory { dir in
            let key = SigningKey()
            try Self.publish(dir, repo: "\(dir)/beta", repositoryName: "beta", version: "1", key: key, seed: 3)
            try await withTestOrigin(root: "\(dir)/beta") { _, mirror in
                let down = try #require(URL(string: "http://127.0.0.1:1/"))
                try await withTestManager(
                    repository: [down, mirror], store: "\(dir)/store", configure: Self.trusting(key)
                ) { manager in
                    await #expect {
                        try await manager.downloadModel("m", version: "1")
                    } throws: { error in
                        "\(error)".contains("bound by the primary")
                    }
                }
                #expect(!FileSystem.exists("\(dir)/store/models/m"))
            }
        }
    }

    @Test("a primary whose index fails the trust check names nothing: no mirror's index is accepted on first use")
    func untrustedPrimaryNamesNothing() async throws {
        try await withTemporaryDirectory { dir in
            let key = SigningKey(), stranger = SigningKey()
            // The primary serves an index naming "beta", signed by a key nobody trusts; the mirror serves a
            // genuinely signed "beta".
            try Self.publish(dir, repo: "\(dir)/primary", repositoryName: "beta", version: "1", key: stranger, seed: 5)
            try Self.publish(dir, repo: "\(dir)/beta", repositoryName: "beta", version: "1", key: key, seed: 6)
            try await withTestOrigin(root: "\(dir)/primary") { _, primary in
                try await withTestOrigin(root: "\(dir)/beta") { mirrorOrigin, mirror in
                    try await withTestManager(
                        repository: [primary, mirror], store: "\(dir)/store", configure: Self.trusting(key)
                    ) { manager in
                        await #expect {
                            try await manager.downloadModel("m", version: "1")
                        } throws: { error in
                            "\(error)".contains("bound by the primary")
                        }
                    }
                    #expect(!FileSystem.exists("\(dir)/store/models/m"))
                    #expect(
                        !mirrorOrigin.injector.requests.contains { $0.path.hasSuffix("index.json") },
                        "the mirror is not even asked while the primary names nothing")
                }
            }
        }
    }
}
