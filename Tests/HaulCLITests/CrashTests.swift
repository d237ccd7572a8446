import Foundation
import HaulTestSupport
import Testing

@testable import Haul

/// Real `haul` processes killed and raced against each other.
@Suite("Crashes and concurrent processes", .timeLimit(.minutes(3)))
struct CrashTests {
    @Test("kill -9 at 20 random points: no verified chunk is lost, and the last pull fetches only what is missing")
    func killNine() async throws {
        try await withTemporaryDirectory { dir in
            let size = 96 << 20
            let report = try Fixtures.publish(
                repo: "\(dir)/repo", source: "\(dir)/src", name: "m", version: "1", files: [("model.bin", size)])
            let file = report.manifest.files[0]
            let spans = file.chunkSpans
            let store = try ContentStore(root: "\(dir)/store")
            // 2 MiB/s per response: a chunk completes about every half second per connection, and 20 short runs
            // cannot finish the 96 MiB, so every kill lands mid-transfer.
            let slow = FaultPlan([.init(pathContains: "/blobs/", .throttle(bytesPerSecond: 2 << 20))])
            try await withTestOrigin(root: "\(dir)/repo", faults: slow) { server, url in
                let args = [
                    "pull", "m", "--repo", url.absoluteString, "--store", "\(dir)/store", "--quiet", "--allow-unsigned",
                ]
                var journaled = Set<Int>()
                var kills = 0
                let journalPath = "\(dir)/store/partial/\(file.blobKey.hex).journal"
                while kills < 20 {
                    let (process, _, err) = try HaulProcess.start(args, logFolder: dir)
                    // Odd kills land at a random moment once the pull has opened the blob; even ones once it has
                    // also verified a chunk more than before. Load on the machine changes when, not whether.
                    let before = FileSystem.fileSize(journalPath) ?? 0
                    try await waitUntil(
                        "the pull to make progress", timeout: .seconds(60),
                        detail: { (try? String(contentsOfFile: err, encoding: .utf8)) ?? "" }
                    ) {
                        let now = FileSystem.fileSize(journalPath) ?? 0
                        return kills % 2 == 1 ? now > 0 : now > max(before, 100)
                    }
                    try await Task.sleep(for: .milliseconds(Int.random(in: 0...300)))
                    kill(process.processIdentifier, SIGKILL)
                    process.waitUntilExit()
                    #expect(process.terminationReason == .uncaughtSignal, "the pull was still running when killed")
                    kills += 1
                    #expect(!store.hasBlob(file), "nothing under a final name")
                    let contents = try ChunkJournal.read(
                        in: try store.folder(.partial), name: "\(file.blobKey.hex).journal", key: file.blobKey,
                        size: file.size, chunkCount: spans.count)
                    let now = contents.confirmed.union(contents.unconfirmed)
                    #expect(journaled.isSubset(of: now), "no verified chunk is forgotten")
                    journaled = now
                    // The journal never vouches for bytes that are not in the partial file (a run killed before it
                    // created the partial has no journal entries either).
                    guard FileSystem.exists(store.partialPath(file.blobKey)) else {
                        #expect(now.isEmpty)
                        continue
                    }
                    let partial = try Data(contentsOf: URL(fileURLWithPath: store.partialPath(file.blobKey)))
                    for chunk in now {
                        let span = spans[chunk]
                        #expect(
                            SHA256Digest.of(partial[Int(span.offset)..<Int(span.end)]) == span.sha256, "chunk \(chunk)")
                    }
                }
                #expect(kills == 20 && !journaled.isEmpty)
                server.injector.replacePlan(FaultPlan())
                try await Task.sleep(for: .milliseconds(500))  // let the origin notice the killed connections
                server.injector.clearLog()
                let final = try await HaulProcess.run(args, logFolder: dir)
                #expect(final.status == 0, "\(final.stderr)")
                // Every missing byte, and beyond that at most about one chunk per connection (requests cut short when
                // an idle connection takes over their tail); the origin caps each response, so the pull may grow to
                // the most connections it allows.
                let fetched = server.injector.bytesSent(pathContains: "/blobs/")
                let missing = Int64(size) - journaled.reduce(Int64(0)) { $0 + spans[$1].size }
                let connections = Int64(TransferConfiguration().maximumConnections)
                #expect(
                    fetched >= missing && fetched <= missing + connections * (4 << 20),
                    "the final pull fetched \(fetched) bytes; \(missing) were missing")
                #expect(try filesUnder("\(dir)/store/models/m/1") == filesUnder("\(dir)/src"))
            }
        }
    }

    @Test("two processes pulling the same model at once download it once and both succeed")
    func concurrentProcesses() async throws {
        try await withTemporaryDirectory { dir in
            let size = 24 << 20
            try Fixtures.publish(
                repo: "\(dir)/repo", source: "\(dir)/src", name: "m", version: "1",
                files: [("model.bin", size), ("small.json", 2000)])
            let slow = FaultPlan([.init(pathContains: "/blobs/", .throttle(bytesPerSecond: 4 << 20))])
            try await withTestOrigin(root: "\(dir)/repo", faults: slow) { server, url in
                let args = [
                    "pull", "m", "--repo", url.absoluteString, "--store", "\(dir)/store", "--quiet", "--allow-unsigned",
                ]
                async let first = HaulProcess.run(args, logFolder: dir)
                async let second = HaulProcess.run(args, logFolder: dir)
                let results = try await [first, second]
                #expect(results.allSatisfy { $0.status == 0 }, "\(results.map(\.stderr))")
                let fetched = server.injector.bytesSent(pathContains: "/blobs/")
                #expect(
                    fetched >= Int64(size + 2000) && fetched < Int64(size) * 3 / 2,
                    "the blobs were downloaded once (\(fetched) bytes)")
                #expect(try filesUnder("\(dir)/store/models/m/1") == filesUnder("\(dir)/src"))
                #expect(FileSystem.contents(of: "\(dir)/store/blobs/table-sha256").count == 2)
                #expect(FileSystem.contents(of: "\(dir)/store/partial").allSatisfy { $0.hasSuffix(".lock") })
            }
        }
    }
}
