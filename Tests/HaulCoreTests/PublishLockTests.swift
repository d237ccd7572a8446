import Foundation
import HaulCore
import HaulTestSupport
import Testing

/// Publishers of one repository are serialized on its publish lock: none loses another's model, and a publisher
/// that cannot get the lock says who holds it.
@Suite("Publish lock", .timeLimit(.minutes(2)))
struct PublishLockTests {
    @Test("a held lock makes a publisher give up after its timeout, naming the holder's pid; released, it publishes")
    func heldLock() async throws {
        try await withTemporaryDirectory { dir in
            try Fixtures.writeRandomFile("\(dir)/src/model.bin", size: 10_000, seed: 1)
            let layout = RepositoryLayout(root: "\(dir)/repo")
            try layout.createFolders()
            let holder = try OpenFile.open("\(dir)/repo/.staging/lock", .readWrite, options: [.create])
            #expect(try holder.tryLock())
            try Data("pid 4242\n".utf8).withUnsafeBytes { try holder.write($0, at: 0) }
            var configuration = Publisher.Configuration()
            configuration.lockTimeout = .milliseconds(100)
            let publisher = Publisher(repositoryPath: "\(dir)/repo", configuration: configuration)
            #expect {
                try publisher.publish("\(dir)/src", name: ModelName("m"), version: ModelVersion("1"))
            } throws: {
                ($0 as? HaulError)?.code == .fileSystem && "\($0)".contains("pid 4242")
            }
            #expect(try layout.loadIndex() == nil, "nothing was published while the lock was held")
            try holder.close()
            let report = try publisher.publish("\(dir)/src", name: ModelName("m"), version: ModelVersion("1"))
            #expect(report.indexVersion == 1)
            #expect(FileSystem.contents(of: "\(dir)/repo/.staging") == ["lock"], "each publisher removes its staging")
            // Renewing takes the same lock.
            let again = try OpenFile.open("\(dir)/repo/.staging/lock", .readWrite)
            defer { try? again.close() }
            #expect(try again.tryLock())
            try again.resize(to: 0)
            try Data("pid 4343\n".utf8).withUnsafeBytes { try again.write($0, at: 0) }
            #expect { try publisher.renew() } throws: { "\($0)".contains("pid 4343") }
        }
    }

    @Test("eight publishers in parallel threads of one process: every model is in the final index")
    func parallelThreads() async throws {
        try await withTemporaryDirectory { dir in
            for i in 0..<8 { try Fixtures.writeRandomFile("\(dir)/src\(i)/model.bin", size: 200_000, seed: UInt64(i)) }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for i in 0..<8 {
                    group.addTask {
                        _ = try Publisher(repositoryPath: "\(dir)/repo").publish(
                            "\(dir)/src\(i)", name: ModelName("m\(i)"), version: ModelVersion("1"))
                    }
                }
                try await group.waitForAll()
            }
            let index = try #require(try RepositoryLayout(root: "\(dir)/repo").loadIndex())
            #expect(index.models.keys.sorted() == (0..<8).map { "m\($0)" })
            #expect(index.version == 8)
        }
    }
}
