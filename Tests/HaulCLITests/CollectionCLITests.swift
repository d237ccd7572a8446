import Foundation
import HaulCore
import HaulTestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// `haul gc` with a real running pull in another process: abandoned partials and leftover locks go, the running
/// pull's partial stays and the pull completes.
@Suite("haul gc", .timeLimit(.minutes(3)))
struct CollectionCLITests {
    @Test("gc --partial-age 0 during a pull keeps the pull's partial, removes an abandoned one and lone locks")
    func duringPull() async throws {
        try await withTemporaryDirectory { dir in
            let report = try Fixtures.publish(
                repo: "\(dir)/repo", source: "\(dir)/src", name: "m", version: "1", files: [("model.bin", 12 << 20)])
            let key = report.manifest.files[0].blobKey.hex
            let partial = "\(dir)/store/partial"
            _ = try ContentStore(root: "\(dir)/store")
            let abandoned = SHA256Digest.of(Data("abandoned".utf8)).hex
            let lone = SHA256Digest.of(Data("lone".utf8)).hex
            try Data(count: 4096).write(to: URL(fileURLWithPath: "\(partial)/\(abandoned).partial"))
            try Data(count: 100).write(to: URL(fileURLWithPath: "\(partial)/\(abandoned).journal"))
            try Data().write(to: URL(fileURLWithPath: "\(partial)/\(lone).lock"))
            let slow = FaultPlan([.init(pathContains: "/blobs/", .throttle(bytesPerSecond: 3 << 20))])
            try await withTestOrigin(root: "\(dir)/repo", faults: slow) { _, url in
                let (pull, _, err) = try HaulProcess.start(
                    ["pull", "m", "--repo", url.absoluteString, "--store", "\(dir)/store", "--allow-unsigned"],
                    logFolder: dir)
                defer { if pull.isRunning { pull.terminate() } }
                try await waitUntil("the pull to write its journal", detail: { Self.log(err) }) {
                    (FileSystem.fileSize("\(partial)/\(key).journal") ?? 0) > 100
                }
                let gc = try await HaulProcess.run(
                    ["gc", "--partial-age", "0", "--store", "\(dir)/store"], logFolder: dir)
                #expect(gc.status == 0, "\(gc.stderr)")
                #expect(pull.isRunning, "the pull was still running while gc ran")
                #expect(gc.stdout.contains("1 abandoned partial download (4.1 KiB)"), "\(gc.stdout)")
                #expect(gc.stdout.contains("leftover lock file") && gc.stdout.contains("freed"), "\(gc.stdout)")
                #expect(FileSystem.exists("\(partial)/\(key).partial"), "the running pull's partial stays")
                #expect(!FileSystem.exists("\(partial)/\(abandoned).partial"))
                #expect(!FileSystem.exists("\(partial)/\(lone).lock"))
                try await waitUntil("the pull to finish", timeout: .seconds(60), detail: { Self.log(err) }) {
                    !pull.isRunning
                }
                #expect(pull.terminationStatus == 0, "\(Self.log(err))")
            }
            #expect(try filesUnder("\(dir)/store/models/m/1") == filesUnder("\(dir)/src"))
            let after = try await HaulProcess.run(["gc", "--store", "\(dir)/store"], logFolder: dir)
            #expect(after.status == 0 && after.stdout.contains("1 leftover lock file "), "the finished pull's lock")
            let again = try await HaulProcess.run(["gc", "--store", "\(dir)/store"], logFolder: dir)
            #expect(again.stdout.contains("Nothing to collect"), "\(again.stdout)")
        }
    }

    static func log(_ path: String) -> String { (try? String(contentsOfFile: path, encoding: .utf8)) ?? "" }
}
