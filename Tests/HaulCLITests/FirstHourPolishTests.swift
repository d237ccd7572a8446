import Foundation
import HaulCore
import HaulTestSupport
import Testing

@testable import Haul

/// Issue 9, "a CLI that never lies": the built `haul` binary run the way the new user ran it.
@Suite("The first hour without surprises", .timeLimit(.minutes(3)))
struct FirstHourPolishTests {
    /// Publishes `m`@`version` (two files) signed with `key` into `dir/repo`.
    static func publish(_ dir: String, _ version: String, key: SigningKey, seed: UInt64 = 1) throws {
        try FirstHourTests.publish(dir, version: version, key: key, seed: seed)
    }

    /// Runs haul with stdout and stderr on a pipe whose reader is already gone (`haul … 2>&1 | head -0`).
    static func runIntoClosedPipe(_ arguments: [String], environment: [String: String], dir: String) async throws
        -> Int32
    {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try HaulProcess.binary())
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        for (key, value) in environment { env[key] = value }
        env["HAUL_CONFIG"] = env["HAUL_CONFIG"] ?? "\(dir)/no-config.json"
        process.environment = env
        let pipe = Pipe()
        process.standardOutput = pipe.fileHandleForWriting
        process.standardError = pipe.fileHandleForWriting
        try pipe.fileHandleForReading.close()
        try process.run()
        try pipe.fileHandleForWriting.close()
        try await waitUntil("haul \(arguments) to end", timeout: .seconds(60)) { !process.isRunning }
        return process.terminationReason == .uncaughtSignal
            ? 128 + process.terminationStatus : process.terminationStatus
    }

    @Test("a closed stdout/stderr pipe ends pull, pull -v and list with 141, never a trap")
    func closedPipe() async throws {
        try await withTemporaryDirectory { dir in
            let key = SigningKey()
            try Self.publish(dir, "1", key: key)
            try await withTestOrigin(root: "\(dir)/repo") { _, url in
                var env = FirstHourTests.freshHome(dir)
                env["HAUL_STORE"] = "\(dir)/store"
                let trust = ["--repo", url.absoluteString, "--trusted-key", key.publicKey.description]
                let pull = try await Self.runIntoClosedPipe(["pull", "m"] + trust, environment: env, dir: dir)
                #expect(pull == 141, "pull into a closed pipe: \(pull)")
                let verbose = try await Self.runIntoClosedPipe(
                    ["pull", "-v", "m", "--store", "\(dir)/store2"] + trust, environment: env, dir: dir)
                #expect(verbose == 141, "pull -v into a closed pipe: \(verbose)")
                let list = try await Self.runIntoClosedPipe(["list"], environment: env, dir: dir)
                #expect(list == 141, "list into a closed pipe: \(list)")
            }
        }
    }

    @Test("after pull --repo --trusted-key, the keys error names the URL; a remote of another spelling applies")
    func trustAfterExplicitPull() async throws {
        try await withTemporaryDirectory { dir in
            let key = SigningKey()
            try Self.publish(dir, "1", key: key)
            try await withTestOrigin(root: "\(dir)/repo") { _, url in
                let env = FirstHourTests.freshHome(dir)
                func haul(_ arguments: String...) async throws -> HaulProcess.Result {
                    try await HaulProcess.run(arguments, environment: env, logFolder: dir)
                }
                let pull = try await haul(
                    "pull", "m", "--repo", url.absoluteString, "--trusted-key", "\(key.publicKey)")
                #expect(pull.status == 0, "\(pull.stderr)")
                // Only a path, alone on its line, may be longer.
                #expect(
                    pull.stdout.split(separator: "\n").allSatisfy { $0.count <= 80 || $0.hasPrefix("  /") },
                    "\(pull.stdout)")
                let info = try await haul("info", "m")
                #expect(info.status == 4, "\(info.stderr)")
                #expect(info.stderr.contains(url.absoluteString), "names the repository: \(info.stderr)")
                #expect(
                    info.stderr.contains("haul remote add NAME \(url.absoluteString) --trusted-key"), "\(info.stderr)")
                #expect(info.stderr.split(separator: "\n").allSatisfy { $0.count <= 80 }, "\(info.stderr)")
                // The same repository spelled differently (upper-case scheme, no trailing slash) is one identity.
                let spelled = "HTTP://127.0.0.1:\(url.port!)"
                let add = try await haul("remote", "add", "origin", spelled, "--trusted-key", "\(key.publicKey)")
                #expect(add.status == 0, "\(add.stderr)")
                let again = try await haul("info", "m")
                #expect(again.status == 0, "\(again.stderr)")
                let outdated = try await haul("outdated")
                #expect(outdated.status == 0 && outdated.stdout.contains("up to date"), "\(outdated.stderr)")
            }
        }
    }

    @Test("pull --local-dir with other content in the way fails with 2 before downloading anything")
    func localDirConflict() async throws {
        try await withTemporaryDirectory { dir in
            let key = SigningKey()
            try Self.publish(dir, "1", key: key)
            try FileManager.default.createDirectory(atPath: "\(dir)/ld", withIntermediateDirectories: true)
            try Fixtures.writeRandomFile("\(dir)/ld/config.json", size: 200, seed: 99)
            try await withTestOrigin(root: "\(dir)/repo") { _, url in
                var env = FirstHourTests.freshHome(dir)
                env["HAUL_STORE"] = "\(dir)/store"
                func haul(_ arguments: String...) async throws -> HaulProcess.Result {
                    try await HaulProcess.run(arguments, environment: env, logFolder: dir)
                }
                let trust = ["--repo", url.absoluteString, "--trusted-key", "\(key.publicKey)"]
                let pull = try await HaulProcess.run(
                    ["pull", "m", "--local-dir", "\(dir)/ld"] + trust, environment: env, logFolder: dir)
                #expect(pull.status == 2, "\(pull.stderr)")
                #expect(pull.stderr.contains("config.json") && pull.stderr.contains("Nothing was downloaded"))
                #expect(try await haul("path", "m").status == 5, "nothing was installed")
                #expect(try Self.blobCount(dir) == 0, "no blob was downloaded")
                // Matching content is not a conflict.
                try FileManager.default.removeItem(atPath: "\(dir)/ld/config.json")
                try FileManager.default.copyItem(atPath: "\(dir)/src-1/config.json", toPath: "\(dir)/ld/config.json")
                let ok = try await HaulProcess.run(
                    ["pull", "m", "--local-dir", "\(dir)/ld"] + trust, environment: env, logFolder: dir)
                #expect(ok.status == 0, "\(ok.stderr)")
            }
        }
    }

    static func blobCount(_ dir: String) throws -> Int {
        let enumerator = FileManager.default.enumerator(atPath: "\(dir)/store/blobs")
        var count = 0
        while let path = enumerator?.nextObject() as? String {
            var isFolder: ObjCBool = false
            if FileManager.default.fileExists(atPath: "\(dir)/store/blobs/\(path)", isDirectory: &isFolder),
                !isFolder.boolValue
            {
                count += 1
            }
        }
        return count
    }

    @Test("-v shows no connection-pool lines; HAUL_LOG_LEVEL=trace does")
    func verboseWithoutPool() async throws {
        try await withTemporaryDirectory { dir in
            let key = SigningKey()
            try Self.publish(dir, "1", key: key)
            try await withTestOrigin(root: "\(dir)/repo") { _, url in
                let env = FirstHourTests.freshHome(dir)
                let trust = ["--repo", url.absoluteString, "--trusted-key", "\(key.publicKey)"]
                let verbose = try await HaulProcess.run(
                    ["pull", "-v", "m", "--store", "\(dir)/a"] + trust, environment: env, logFolder: dir)
                #expect(verbose.status == 0, "\(verbose.stderr)")
                #expect(verbose.stderr.contains("debug"), "-v logs at debug: \(verbose.stderr)")
                #expect(!verbose.stderr.contains("ahc-"), "\(verbose.stderr)")
                var traceEnv = env
                traceEnv["HAUL_LOG_LEVEL"] = "trace"
                let trace = try await HaulProcess.run(
                    ["pull", "m", "--store", "\(dir)/b"] + trust, environment: traceEnv, logFolder: dir)
                #expect(trace.status == 0 && trace.stderr.contains("ahc-"), "trace shows the pool")
            }
        }
    }

    @Test("update and verify of a model that is not installed say so (exit 5); verify takes name@version")
    func notInstalled() async throws {
        try await withTemporaryDirectory { dir in
            let key = SigningKey()
            try Self.publish(dir, "1.0.0", key: key)
            try await withTestOrigin(root: "\(dir)/repo") { _, url in
                var env = FirstHourTests.freshHome(dir)
                env["HAUL_STORE"] = "\(dir)/store"
                func haul(_ arguments: String...) async throws -> HaulProcess.Result {
                    try await HaulProcess.run(arguments, environment: env, logFolder: dir)
                }
                let update = try await haul("update", "nosuch")
                #expect(update.status == 5 && update.stderr.contains("nosuch is not installed"), "\(update)")
                let verify = try await haul("verify", "nosuch")
                #expect(verify.status == 5 && verify.stderr.contains("nosuch is not installed"), "\(verify)")
                #expect(!verify.stdout.contains("All verified"))
                let pull = try await haul(
                    "pull", "m", "--repo", url.absoluteString, "--trusted-key", "\(key.publicKey)")
                #expect(pull.status == 0, "\(pull.stderr)")
                let pinned = try await haul("verify", "m@1.0.0")
                #expect(pinned.status == 0 && pinned.stdout.contains("All verified"), "\(pinned)")
                let other = try await haul("verify", "m@2.0.0")
                #expect(other.status == 5 && other.stderr.contains("m@2.0.0 is not installed"), "\(other)")
            }
        }
    }

    @Test("publishing 1.0 after 1.1.0 keeps 1.1.0 latest and warns, naming --latest")
    func nonSemanticLabel() async throws {
        try await withTemporaryDirectory { dir in
            for (version, seed) in [("1.1.0", UInt64(1)), ("1.0", 5)] {
                try Fixtures.writeRandomFile("\(dir)/src-\(version)/m.bin", size: 1000, seed: seed)
            }
            func publish(_ version: String, _ extra: String...) async throws -> HaulProcess.Result {
                try await HaulProcess.run(
                    ["publish", "\(dir)/src-\(version)", "--repo", "\(dir)/repo", "m@\(version)"] + extra,
                    logFolder: dir)
            }
            #expect(try await publish("1.1.0").status == 0)
            let label = try await publish("1.0")
            #expect(label.status == 0, "\(label.stderr)")
            #expect(label.stdout.contains("latest stays 1.1.0"), "\(label.stdout)")
            #expect(label.stderr.contains("--latest"), "\(label.stderr)")
            let index = try #require(try RepositoryLayout(root: "\(dir)/repo").loadIndex())
            #expect(index.models["m"]?.latest.string == "1.1.0")
        }
    }

    @Test("update --prune with nothing newer still prunes older versions and says which")
    func pruneWhenUpToDate() async throws {
        try await withTemporaryDirectory { dir in
            let key = SigningKey()
            try Self.publish(dir, "1.0.0", key: key)
            try Self.publish(dir, "2.0.0", key: key, seed: 7)
            try await withTestOrigin(root: "\(dir)/repo") { _, url in
                var env = FirstHourTests.freshHome(dir)
                env["HAUL_STORE"] = "\(dir)/store"
                env["HAUL_TRUSTED_KEYS"] = "\(key.publicKey)"
                func haul(_ arguments: String...) async throws -> HaulProcess.Result {
                    try await HaulProcess.run(arguments, environment: env, logFolder: dir)
                }
                for version in ["1.0.0", "2.0.0"] {
                    #expect(try await haul("pull", "m@\(version)", "--repo", url.absoluteString).status == 0)
                }
                let update = try await haul("update", "--prune")
                #expect(update.status == 0, "\(update.stderr)")
                #expect(update.stdout.contains("up to date") && update.stdout.contains("Pruned m@1.0.0"), "\(update)")
                #expect(try await haul("path", "m@1.0.0").status == 5)
                #expect(try await haul("path", "m@2.0.0").status == 0)
                let again = try await haul("update", "--prune")
                #expect(again.stdout.contains("Nothing to prune"), "\(again.stdout)")
            }
        }
    }

    @Test("serve takes --throttle 20M, says how to stop, and exits 130 on Ctrl-C")
    func serveInterrupt() async throws {
        try await withTemporaryDirectory { dir in
            try Self.publish(dir, "1", key: SigningKey())
            let port = try FreePort.find()
            let (server, out, err) = try HaulProcess.start(
                ["serve", "\(dir)/repo", "--port", "\(port)", "--throttle", "20M"], logFolder: dir)
            defer { if server.isRunning { server.terminate() } }
            try await waitUntil(
                "the serving line", detail: { (try? String(contentsOfFile: err, encoding: .utf8)) ?? "" }
            ) { (try? String(contentsOfFile: out, encoding: .utf8))?.contains("Ctrl-C to stop") == true }
            server.interrupt()
            try await waitUntil("serve to stop") { !server.isRunning }
            #expect(server.terminationStatus == 130, "\((try? String(contentsOfFile: err, encoding: .utf8)) ?? "")")
        }
    }

    @Test(
        "every command's USAGE line fits 80 columns",
        arguments: [
            "serve", "info", "verify", "outdated", "update", "renew", "demo", "pull", "publish", "list", "rm", "gc",
            "keygen", "path",
        ])
    func usageFits(_ command: String) async throws {
        try await withTemporaryDirectory { dir in
            let help = try await HaulProcess.run([command, "--help"], logFolder: dir)
            #expect(help.status == 0, "\(help.stderr)")
            let usage = try #require(help.stdout.split(separator: "\n").first { $0.hasPrefix("USAGE:") })
            #expect(usage.count <= 80, "\(usage.count): \(usage)")
            #expect(!help.stdout.contains("mirror choices"), "-v's help fits every command")
        }
    }

    @Test("a network failure after verified chunks says the data is kept and how to resume")
    func networkFailureMidPull() async throws {
        try await withTemporaryDirectory { dir in
            let report = try Fixtures.publish(
                repo: "\(dir)/repo", source: "\(dir)/src", name: "m", version: "1", files: [("model.bin", 32 << 20)])
            let journal = "\(dir)/store/partial/\(report.manifest.files[0].blobKey.hex).journal"
            let port = try FreePort.find()
            let (server, _, _) = try HaulProcess.start(["serve", "\(dir)/repo", "--port", "\(port)"], logFolder: dir)
            defer { if server.isRunning { server.terminate() } }
            try await FreePort.waitUntilListening(port)
            let args = [
                "pull", "m", "--repo", "http://127.0.0.1:\(port)/", "--store", "\(dir)/store", "--allow-unsigned",
                "--limit-rate", "1M",
            ]
            let (pull, _, err) = try HaulProcess.start(args, environment: FirstHourTests.freshHome(dir), logFolder: dir)
            defer { if pull.isRunning { pull.terminate() } }
            let log = { (try? String(contentsOfFile: err, encoding: .utf8)) ?? "" }
            try await waitUntil("verified chunks on disk", detail: log) { (FileSystem.fileSize(journal) ?? 0) >= 100 }
            // SIGKILL: a terminated server would finish its responses gracefully (and the pull would succeed); the
            // file is large enough that what is left cannot sit in socket buffers.
            kill(server.processIdentifier, SIGKILL)
            try await waitUntil("the pull to fail", timeout: .seconds(120), detail: log) { !pull.isRunning }
            #expect(pull.terminationStatus == 3, "\(log())")
            #expect(log().contains("Verified data kept; run the same command to resume."), "\(log())")
        }
    }

    @Test("verify --repair with the repository down lists what is damaged, then the error")
    func repairOffline() async throws {
        try await withTemporaryDirectory { dir in
            let key = SigningKey()
            try Self.publish(dir, "1", key: key)
            var env = FirstHourTests.freshHome(dir)
            env["HAUL_STORE"] = "\(dir)/store"
            env["HAUL_TRUSTED_KEYS"] = "\(key.publicKey)"
            let environment = env
            try await withTestOrigin(root: "\(dir)/repo") { _, url in
                let pull = try await HaulProcess.run(
                    ["pull", "m", "--repo", url.absoluteString], environment: environment, logFolder: dir)
                #expect(pull.status == 0, "\(pull.stderr)")
            }
            let file = "\(dir)/store/models/m/1/model.bin"
            chmod(file, 0o644)
            let handle = try #require(FileHandle(forUpdatingAtPath: file))
            try handle.seek(toOffset: 1000)
            try handle.write(contentsOf: Data([0x55, 0xAA, 0x55]))
            try handle.close()
            let down = "http://127.0.0.1:\(try FreePort.find())/"
            let repair = try await HaulProcess.run(
                ["verify", "--repair", "--repo", down], environment: env, logFolder: dir)
            #expect(repair.status == 3, "\(repair.stderr)")
            #expect(repair.stdout.contains("damaged: m@1 model.bin"), "\(repair.stdout)")
            #expect(repair.stderr.contains("error:"), "\(repair.stderr)")
        }
    }
}
