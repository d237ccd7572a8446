import Foundation
import HaulCore
import HaulTestSupport
import Testing

@testable import Haul

/// Runs the built `haul` binary end to end.
@Suite("The haul command", .timeLimit(.minutes(3)))
struct CLITests {
    @Test("publish, serve, pull, list, verify and rm work as a new user runs them")
    func endToEnd() async throws {
        try await withTemporaryDirectory { dir in
            try Fixtures.writeRandomFile("\(dir)/model/weights.bin", size: 5 << 20, seed: 1)
            try Fixtures.writeRandomFile("\(dir)/model/config.json", size: 100, seed: 2)
            let publish = try await HaulProcess.run(
                ["publish", "\(dir)/model", "--repo", "\(dir)/repo", "tiny@1.0"],
                logFolder: dir)
            #expect(publish.status == 0, "\(publish.stderr)")
            #expect(publish.stdout.contains("Published tiny@1.0: 2 files"))
            let again = try await HaulProcess.run(
                ["publish", "\(dir)/model", "--repo", "\(dir)/repo", "tiny@1.0"],
                logFolder: dir)
            #expect(again.status == 0 && again.stdout.contains("nothing changed"))

            let port = try FreePort.find()
            let (server, serverOut, _) = try HaulProcess.start(
                ["serve", "\(dir)/repo", "--port", "\(port)"], logFolder: dir)
            defer {
                server.terminate()
                server.waitUntilExit()
            }
            try await FreePort.waitUntilListening(port)
            var announced = false
            for _ in 0..<100 where !announced {
                announced = try String(contentsOfFile: serverOut, encoding: .utf8).contains(
                    "Serving \(dir)/repo on http://127.0.0.1:\(port)/")
                if !announced { try await Task.sleep(for: .milliseconds(50)) }
            }
            #expect(announced, "haul serve prints where it listens")
            let env = [
                "HAUL_STORE": "\(dir)/store", "HAUL_REPOSITORY": "http://127.0.0.1:\(port)", "HAUL_ALLOW_UNSIGNED": "1",
            ]

            let pull = try await HaulProcess.run(["pull", "tiny"], environment: env, logFolder: dir)
            #expect(pull.status == 0, "\(pull.stderr)")
            #expect(pull.stdout.contains("Installed tiny@1.0"))
            #expect(pull.stderr.contains("completed 100.0%"), "plain progress lines when not a terminal")
            #expect(try filesUnder("\(dir)/store/models/tiny/1.0") == filesUnder("\(dir)/model"))

            let info = try await HaulProcess.run(["info", "tiny"], environment: env, logFolder: dir)
            #expect(info.status == 0 && info.stdout.contains("1.0 (latest)"))

            let list = try await HaulProcess.run(["list", "--json"], environment: env, logFolder: dir)
            let rows = try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]]
            #expect(rows?.first?["name"] as? String == "tiny" && rows?.first?["size"] as? Int == (5 << 20) + 100)

            let verify = try await HaulProcess.run(["verify"], environment: env, logFolder: dir)
            #expect(verify.status == 0 && verify.stdout.contains("All verified"))

            let unknown = try await HaulProcess.run(["pull", "nope"], environment: env, logFolder: dir)
            #expect(unknown.status == 5 && unknown.stderr.contains("no model named"))
            let badName = try await HaulProcess.run(["pull", "../etc"], environment: env, logFolder: dir)
            #expect(badName.status == 2)

            let remove = try await HaulProcess.run(["rm", "tiny"], environment: env, logFolder: dir)
            #expect(remove.status == 0 && remove.stdout.contains("Removed tiny@1.0"))
            #expect(FileSystem.contents(of: "\(dir)/store/blobs/table-sha256").isEmpty)
            let removeAgain = try await HaulProcess.run(["rm", "tiny"], environment: env, logFolder: dir)
            #expect(removeAgain.status == 5)
        }
    }

    @Test("on a terminal, pull draws a live bar: percent, bytes, rate, ETA and connections, redrawn in place")
    func terminalBar() async throws {
        try await withTemporaryDirectory { dir in
            try Fixtures.publish(
                repo: "\(dir)/repo", source: "\(dir)/src", name: "m", version: "1", files: [("model.bin", 8 << 20)])
            let slow = FaultPlan([.init(pathContains: "/blobs/", .throttle(bytesPerSecond: 2 << 20))])
            try await withTestOrigin(root: "\(dir)/repo", faults: slow) { _, url in
                // util-linux `script` gives the command a pseudo-terminal, as a user's shell would.
                let command = [
                    try HaulProcess.binary(), "pull", "m", "--repo", url.absoluteString, "--store", "\(dir)/store",
                    "--allow-unsigned",
                ]
                .map { "'\($0)'" }.joined(separator: " ")
                let process = Process()
                process.executableURL = URL(fileURLWithPath: "/usr/bin/script")
                process.arguments = ["-qfec", command, "/dev/null"]
                let output = Pipe()
                process.standardOutput = output
                try process.run()
                let data = output.fileHandleForReading.readDataToEndOfFile()
                process.waitUntilExit()
                let text = String(decoding: data, as: UTF8.self)
                #expect(process.terminationStatus == 0, "\(text)")
                #expect(text.contains("█") && text.contains("\r") && text.contains("conn") && text.contains("ETA"))
                #expect(text.components(separatedBy: "\r").count > 3, "the bar is redrawn in place")
                #expect(text.contains("100.0%"))
            }
        }
    }

    @Test("an unreachable origin exits 3 with a clear message")
    func unreachable() async throws {
        try await withTemporaryDirectory { dir in
            let port = try FreePort.find()
            let result = try await HaulProcess.run(
                ["pull", "m", "--repo", "http://127.0.0.1:\(port)", "--store", "\(dir)/store", "--allow-unsigned"],
                logFolder: dir)
            #expect(result.status == 3, "\(result.stderr)")
            #expect(!result.stderr.contains("0 B / 0 B"), "no progress line before the first byte: \(result.stderr)")
            #expect(
                result.stderr.contains(
                    "error: Cannot connect to http://127.0.0.1:\(port)/ (connection refused). Is the server running?"),
                "\(result.stderr)")
        }
    }

    @Test("SIGINT stops a pull with exit 130, keeps the partial, and the next pull resumes")
    func interrupt() async throws {
        try await withTemporaryDirectory { dir in
            let report = try Fixtures.publish(
                repo: "\(dir)/repo", source: "\(dir)/src", name: "m", version: "1", files: [("model.bin", 16 << 20)])
            let blob = report.manifest.files[0].blobKey.hex
            let slow = FaultPlan([.init(pathContains: "/blobs/", .throttle(bytesPerSecond: 4 << 20))])
            try await withTestOrigin(root: "\(dir)/repo", faults: slow) { server, url in
                let args = ["pull", "m", "--repo", url.absoluteString, "--store", "\(dir)/store", "--allow-unsigned"]
                let (process, _, err) = try HaulProcess.start(args, logFolder: dir)
                while !FileSystem.exists("\(dir)/store/partial/\(blob).journal")
                    || (FileSystem.fileSize("\(dir)/store/partial/\(blob).journal") ?? 0) < 100
                {
                    try await Task.sleep(for: .milliseconds(20))
                }
                kill(process.processIdentifier, SIGINT)
                let stopped = ContinuousClock.now
                process.waitUntilExit()
                #expect(ContinuousClock.now - stopped < .seconds(3), "stops promptly")
                #expect(
                    process.terminationStatus == 130, "\((try? String(contentsOfFile: err, encoding: .utf8)) ?? "")")
                #expect(FileSystem.exists("\(dir)/store/partial/\(blob).partial"))
                #expect(!FileSystem.exists("\(dir)/store/blobs/table-sha256/\(blob)"))
                // Let the origin notice the closed connections before counting afresh.
                server.injector.replacePlan(FaultPlan())
                try await Task.sleep(for: .milliseconds(500))
                server.injector.clearLog()
                let file = report.manifest.files[0]
                let journal = try ChunkJournal.read(
                    in: try ContentStore(root: "\(dir)/store").folder(.partial), name: "\(blob).journal",
                    key: file.blobKey, size: file.size, chunkCount: file.chunks.count)
                let keptChunks = journal.confirmed.union(journal.unconfirmed)
                let kept = keptChunks.reduce(Int64(0)) { $0 + file.chunks[$1].size }
                #expect(kept > 0, "the interrupted pull kept verified chunks")
                let resumed = try await HaulProcess.run(args, logFolder: dir)
                #expect(resumed.status == 0, "\(resumed.stderr)")
                // Every missing byte arrived, and no request asked for a chunk the interrupted pull had kept.
                let fetched = server.injector.bytesSent(pathContains: "/blobs/")
                #expect(fetched >= file.size - kept, "the resumed pull fetched \(fetched) bytes; \(kept) were kept")
                let spans = file.chunkSpans
                let refetched = server.injector.requestedRanges(
                    pathContains: "/blobs/", size: file.size, overlapping: keptChunks.map { spans[$0] })
                #expect(refetched.isEmpty, "requests covering kept chunks: \(refetched)")
                #expect(try filesUnder("\(dir)/store/models/m/1") == filesUnder("\(dir)/src"))
            }
        }
    }
}
