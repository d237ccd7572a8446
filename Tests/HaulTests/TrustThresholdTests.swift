import Foundation
import Haul
import HaulCore
import HaulTestSupport
import Testing

/// A trust threshold no index can meet is a configuration mistake (`.invalidArgument`, exit 2), not an untrusted
/// repository (exit 4).
@Suite("Trust thresholds", .timeLimit(.minutes(1)))
struct TrustThresholdTests {
    @Test(
        "thresholds below 1 or above the distinct keys are refused; without keys the threshold is unused",
        arguments: [
            (1, 1, true), (2, 2, true), (0, 1, false), (-3, 2, false), (2, 1, false), (9, 0, true), (0, 0, false),
        ])
    func problems(_ threshold: Int, _ keyCount: Int, _ valid: Bool) {
        let keys = (0..<keyCount).map { _ in SigningKey().publicKey }
        let trust = TrustConfiguration(keys: keys, threshold: threshold)
        #expect((trust.thresholdProblem == nil) == valid, "\(trust.thresholdProblem ?? "valid")")
    }

    @Test("a library configuration with threshold 0 fails as an invalid argument against a real origin")
    func library() async throws {
        try await withTemporaryDirectory { dir in
            _ = try Fixtures.publish(
                repo: "\(dir)/repo", source: "\(dir)/src", name: "m", version: "1", files: [("model.bin", 10_000)])
            _ = try await withTestOrigin(root: "\(dir)/repo") { _, url in
                try await withTestManager(
                    repository: [url], store: "\(dir)/store",
                    configure: {
                        $0.trust.keys = [SigningKey().publicKey]
                        $0.trust.threshold = 0
                    }
                ) { manager in
                    await #expect {
                        try await manager.downloadModel("m")
                    } throws: { error in
                        (error as? HaulError)?.code == .invalidArgument
                            && (error as? HaulError)?.message.contains("config.trust.threshold") == true
                    }
                }
            }
        }
    }
}
