import Foundation
import HaulCore
import HaulServer
import HaulTestSupport
import Testing

/// `haul trust reset` forgets one repository's trust state, under any spelling of its URL, and says so.
@Suite("haul trust reset", .timeLimit(.minutes(3)))
struct TrustCommandTests {
    @Test("reset prints what it forgot, then that nothing is left; a replayed index is refused until the reset")
    func reset() async throws {
        try await withTemporaryDirectory { dir in
            try Fixtures.writeRandomFile("\(dir)/v1/model.bin", size: 10_000, seed: 1)
            try Fixtures.writeRandomFile("\(dir)/v2/model.bin", size: 10_000, seed: 2)
            let publisher = Publisher(repositoryPath: "\(dir)/repo")
            _ = try publisher.publish("\(dir)/v1", name: ModelName("m"), version: ModelVersion("1"))
            let old = try Data(contentsOf: URL(fileURLWithPath: "\(dir)/repo/index.json"))
            _ = try publisher.publish("\(dir)/v2", name: ModelName("m"), version: ModelVersion("2"))
            try await withTestOrigin(root: "\(dir)/repo") { _, url in
                let env = ["HAUL_STORE": "\(dir)/store", "HAUL_ALLOW_UNSIGNED": "1"]
                let base = url.absoluteString
                let pull = try await HaulProcess.run(
                    ["pull", "m", "--repo", base, "-q"], environment: env, logFolder: dir)
                #expect(pull.status == 0, "\(pull.stderr)")
                try old.write(to: URL(fileURLWithPath: "\(dir)/repo/index.json"))
                let refused = try await HaulProcess.run(
                    ["pull", "m@1", "--repo", base, "-q"], environment: env, logFolder: dir)
                #expect(refused.status == 4 && refused.stderr.contains("rollback"), "\(refused.stderr)")
                let respelled = String(base.dropLast())
                let reset = try await HaulProcess.run(
                    ["trust", "reset", respelled], environment: env, logFolder: dir)
                #expect(reset.status == 0, "\(reset.stderr)")
                #expect(
                    reset.stdout.contains("Forgot the trust state of \(respelled)")
                        && reset.stdout.contains("index version 2"), "\(reset.stdout)")
                let again = try await HaulProcess.run(["trust", "reset", base], environment: env, logFolder: dir)
                #expect(again.status == 0 && again.stdout.contains("No trust state was stored"), "\(again.stdout)")
                let pulled = try await HaulProcess.run(
                    ["pull", "m@1", "--repo", base, "-q"], environment: env, logFolder: dir)
                #expect(pulled.status == 0, "\(pulled.stderr)")
            }
        }
    }
}
