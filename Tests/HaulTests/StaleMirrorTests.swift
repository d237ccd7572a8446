import Foundation
import Haul
import HaulServer
import HaulTestSupport
import InMemoryLogging
import Logging
import Testing

/// With mirrors, the freshest acceptable index wins: a stale mirror is skipped and demoted instead of blocking.
@Suite("Mirrors: a stale mirror does not block pulls", .timeLimit(.minutes(2)))
struct StaleMirrorTests {
    /// `dir/current` holds m@1 and m@2; `dir/stale` is a copy taken after m@1 (its index is version 1).
    static func repositories(_ dir: String, key: SigningKey) throws {
        try RepositoryBindingTests.publish(
            dir, repo: "\(dir)/current", repositoryName: "r", version: "1", key: key, seed: 1)
        try FileManager.default.copyItem(atPath: "\(dir)/current", toPath: "\(dir)/stale")
        try RepositoryBindingTests.publish(
            dir, repo: "\(dir)/current", repositoryName: "r", version: "2", key: key, seed: 2)
    }

    @Test(
        "the current mirror's index is used whichever order the mirrors are in, fresh or with state",
        arguments: [true, false])
    func bothOrders(staleFirst: Bool) async throws {
        try await withTemporaryDirectory { dir in
            let key = SigningKey()
            try Self.repositories(dir, key: key)
            try await withTestOrigin(root: "\(dir)/current") { _, current in
                try await withTestOrigin(root: "\(dir)/stale") { staleServer, stale in
                    let urls = staleFirst ? [stale, current] : [current, stale]
                    for round in 0..<2 {  // a fresh store, then one that has accepted version 2
                        let log = InMemoryLogHandler()
                        try await withTestManager(
                            repository: urls, store: "\(dir)/store", configure: RepositoryBindingTests.trusting(key),
                            logger: Logger(label: "haul-test") { _ in log }
                        ) { manager in
                            let model = try await manager.downloadModel("m", version: round == 0 ? nil : "1")
                            #expect(model.version.string == (round == 0 ? "2" : "1"))
                            let index = try await manager.fetchIndex()
                            #expect(index.version == 2)
                        }
                        #expect(
                            log.entries.contains {
                                $0.level == .info && $0.message == "skipping stale mirror"
                                    && $0.metadata["haul.mirror"] == .string(stale.absoluteString)
                            }, "round \(round)")
                    }
                    #expect(
                        !staleServer.injector.requests.contains { $0.path.contains("/blobs/") },
                        "no blob was fetched from the demoted stale mirror")
                }
            }
        }
    }

    @Test("when every source is behind the accepted version, the pull fails as a rollback")
    func allStale() async throws {
        try await withTemporaryDirectory { dir in
            let key = SigningKey()
            try Self.repositories(dir, key: key)
            try await withTestOrigin(root: "\(dir)/current") { _, current in
                try await withTestOrigin(root: "\(dir)/stale") { _, stale in
                    try await withTestManager(
                        repository: [current, stale], store: "\(dir)/store",
                        configure: RepositoryBindingTests.trusting(key)
                    ) { _ = try await $0.downloadModel("m") }
                    // Now the primary serves the old index too.
                    try FileSystem.remove("\(dir)/current/index.json")
                    try FileManager.default.copyItem(
                        atPath: "\(dir)/stale/index.json", toPath: "\(dir)/current/index.json")
                    try await withTestManager(
                        repository: [stale, current].reversed(), store: "\(dir)/store",
                        configure: RepositoryBindingTests.trusting(key)
                    ) { manager in
                        await #expect { try await manager.downloadModel("m", version: "1") } throws: {
                            ($0 as? HaulError)?.code == .untrusted && "\($0)".contains("rollback")
                        }
                    }
                    #expect(!FileSystem.exists("\(dir)/store/models/m/1"))
                }
            }
        }
    }
}
