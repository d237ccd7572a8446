import Foundation
import HaulCore
import HaulTestSupport
import Testing

/// Real `haul publish` processes into one repository at once: every model ends up in the index, every blob intact.
@Suite("Concurrent haul publish", .timeLimit(.minutes(3)))
struct PublishConcurrencyTests {
    @Test("six haul publish processes into one repository: all six models listed, all blobs hash to their names")
    func concurrentProcesses() async throws {
        try await withTemporaryDirectory { dir in
            let count = 6
            for i in 0..<count {
                try Fixtures.writeRandomFile("\(dir)/src\(i)/weights.bin", size: 3 << 20, seed: UInt64(i + 1))
                try Fixtures.writeRandomFile("\(dir)/src\(i)/config.json", size: 1000, seed: 99)  // shared blob
            }
            var running: [(Process, String, String)] = []
            for i in 0..<count {
                running.append(
                    try HaulProcess.start(
                        [
                            "publish", "\(dir)/src\(i)", "--repo", "\(dir)/repo", "m\(i)@1", "-q",
                        ],
                        logFolder: dir))
            }
            for (process, _, err) in running {
                for _ in 0..<3000 where process.isRunning { try await Task.sleep(for: .milliseconds(20)) }
                #expect(!process.isRunning, "a publisher did not finish within a minute")
                if process.isRunning { process.terminate() }
                process.waitUntilExit()
                #expect(process.terminationStatus == 0, "\((try? String(contentsOfFile: err, encoding: .utf8)) ?? "")")
            }
            let layout = RepositoryLayout(root: "\(dir)/repo")
            let index = try #require(try layout.loadIndex())
            #expect(index.models.keys.sorted() == (0..<count).map { "m\($0)" })
            #expect(index.version == Int64(count))
            for model in index.models.values {
                let entry = try #require(model.versions["1"])
                let manifest = try Manifest.decode(
                    Data(contentsOf: URL(fileURLWithPath: layout.manifestPath(entry.manifest))))
                for file in manifest.files {
                    let bytes = try Data(contentsOf: URL(fileURLWithPath: layout.blobPath(file.sha256)))
                    #expect(SHA256Digest.of(bytes) == file.sha256, "\(file.path)")
                }
            }
            #expect(FileSystem.contents(of: "\(dir)/repo/.staging") == ["lock"])
        }
    }
}
