import Foundation
import HaulCore
import HaulServer
import HaulTestSupport
import Testing

/// Store-level concurrency and limits, with real `haul` processes against a real origin on 127.0.0.1.
@Suite("The store under concurrent processes and low limits", .timeLimit(.minutes(3)))
struct StoreConcurrencyTests {
    @Test("haul rm in another process never deletes a blob a running pull has committed")
    func removeDuringPull() async throws {
        try await withTemporaryDirectory { dir in
            try Fixtures.publish(
                repo: "\(dir)/repo", source: "\(dir)/other", name: "other", version: "1", files: [("o.bin", 10_000)],
                seeds: [7])
            let report = try Fixtures.publish(
                repo: "\(dir)/repo", source: "\(dir)/src", name: "m", version: "1",
                files: [("a-small.bin", 50_000), ("b-large.bin", 12 << 20)])
            let small = report.manifest.files.first { $0.path.string == "a-small.bin" }!.blobKey.hex
            let slow = FaultPlan([.init(pathContains: "/blobs/", .throttle(bytesPerSecond: 3 << 20))])
            try await withTestOrigin(root: "\(dir)/repo", faults: slow) { _, url in
                let args = ["--repo", url.absoluteString, "--store", "\(dir)/store", "--allow-unsigned"]
                let first = try await HaulProcess.run(["pull", "other"] + args, logFolder: dir)
                #expect(first.status == 0, "\(first.stderr)")
                let (pull, _, err) = try HaulProcess.start(["pull", "m"] + args, logFolder: dir)
                defer { if pull.isRunning { pull.terminate() } }
                // The small file's blob is committed first; the large one is still downloading.
                try await waitUntil("the small blob to be committed", detail: { Self.log(err) }) {
                    FileSystem.exists("\(dir)/store/blobs/table-sha256/\(small)")
                }
                #expect(pull.isRunning, "still downloading the large file")
                let remove = try await HaulProcess.run(["rm", "other", "--store", "\(dir)/store"], logFolder: dir)
                #expect(remove.status == 0, "\(remove.stderr)")
                #expect(FileSystem.exists("\(dir)/store/blobs/table-sha256/\(small)"), "pinned by the running pull")
                try await waitUntil("the pull to finish", timeout: .seconds(60), detail: { Self.log(err) }) {
                    !pull.isRunning
                }
                #expect(pull.terminationStatus == 0, "\(Self.log(err))")
            }
            #expect(try filesUnder("\(dir)/store/models/m/1") == filesUnder("\(dir)/src"))
            #expect(!FileSystem.exists("\(dir)/store/models/other"))
            #expect(FileSystem.contents(of: "\(dir)/store/locks/pins").isEmpty, "the pin is gone with its pull")
        }
    }

    @Test("a model of 600 files pulls under ulimit -n 256")
    func manyFilesFewDescriptors() async throws {
        try await withTemporaryDirectory { dir in
            let files = (0..<600).map { (String(format: "shard-%04d.bin", $0), 1_000 + $0) }
            try Fixtures.publish(repo: "\(dir)/repo", source: "\(dir)/src", name: "many", version: "1", files: files)
            try await withTestOrigin(root: "\(dir)/repo") { _, url in
                let haul = try HaulProcess.binary()
                let command =
                    "ulimit -n 256 && exec '\(haul)' pull many --repo \(url.absoluteString) --store '\(dir)/store' --allow-unsigned --quiet"
                let process = Process()
                process.executableURL = URL(fileURLWithPath: "/bin/bash")
                process.arguments = ["-c", command + " 2>'\(dir)/pull.err'"]
                try process.run()
                defer { if process.isRunning { process.terminate() } }
                try await waitUntil("the pull to finish", timeout: .seconds(120), detail: { Self.log("\(dir)/pull.err") }) {
                    !process.isRunning
                }
                #expect(process.terminationStatus == 0, "\(Self.log("\(dir)/pull.err"))")
            }
            #expect(try filesUnder("\(dir)/store/models/many/1") == filesUnder("\(dir)/src"))
        }
    }

    @Test("haul verify reports damage with exit 4 and changes nothing; --repair restores the file")
    func verifyAndRepair() async throws {
        try await withTemporaryDirectory { dir in
            try Fixtures.publish(
                repo: "\(dir)/repo", source: "\(dir)/src", name: "m", version: "1", files: [("w.bin", 6 << 20)])
            try await withTestOrigin(root: "\(dir)/repo") { _, url in
                let args = ["--repo", url.absoluteString, "--store", "\(dir)/store", "--allow-unsigned"]
                #expect(try await HaulProcess.run(["pull", "m"] + args, logFolder: dir).status == 0)
                let path = "\(dir)/store/models/m/1/w.bin"
                chmod(path, 0o644)
                let handle = try #require(FileHandle(forUpdatingAtPath: path))
                try handle.seek(toOffset: 3 << 20)
                try handle.write(contentsOf: Data([0xAA, 0x55]))
                try handle.close()
                let verify = try await HaulProcess.run(["verify", "m"] + args, logFolder: dir)
                #expect(verify.status == 4, "\(verify.stderr)")
                #expect(verify.stdout.contains("damaged: m@1 w.bin: 1 of"), "\(verify.stdout)")
                #expect(verify.stderr.contains("haul verify --repair"))
                #expect(FileSystem.exists(path), "report only: nothing removed")
                let repair = try await HaulProcess.run(["verify", "--repair", "m"] + args, logFolder: dir)
                #expect(repair.status == 0, "\(repair.stderr)")
                #expect(repair.stdout.contains("Repaired m@1"), "\(repair.stdout)")
                let again = try await HaulProcess.run(["verify"] + args, logFolder: dir)
                #expect(again.status == 0 && again.stdout.contains("All verified"), "\(again.stdout)\(again.stderr)")
            }
            #expect(try filesUnder("\(dir)/store/models/m/1") == filesUnder("\(dir)/src"))
        }
    }

    static func log(_ path: String) -> String { (try? String(contentsOfFile: path, encoding: .utf8)) ?? "" }
}
