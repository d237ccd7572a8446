import Foundation
import HaulCore
import HaulTestSupport
import Testing

@testable import Haul

/// Issue 9, items 5 and 9: the built `haul` binary as a new user runs it, with a fresh HOME that has no folders.
@Suite("The first hour: configuration once, hf-style pulls", .timeLimit(.minutes(3)))
struct FirstHourTests {
    /// A fresh HOME (not even created) and nothing else: no XDG folders, no HAUL_* settings.
    static func freshHome(_ dir: String) -> [String: String] {
        [
            "HOME": "\(dir)/home", "XDG_CONFIG_HOME": "", "XDG_CACHE_HOME": "", "XDG_STATE_HOME": "", "HAUL_CONFIG": "",
            "HAUL_STORE": "", "HAUL_STATE": "", "HAUL_TRUSTED_KEYS": "", "HAUL_ALLOW_UNSIGNED": "",
            "HAUL_REPOSITORY_NAME": "",
        ]
    }

    static func publish(_ dir: String, version: String, key: SigningKey, seed: UInt64 = 1) throws {
        try Fixtures.writeRandomFile("\(dir)/src-\(version)/model.bin", size: 400_000, seed: seed)
        try Fixtures.writeRandomFile("\(dir)/src-\(version)/config.json", size: 200, seed: seed + 1)
        var configuration = Publisher.Configuration()
        configuration.signingKeys = [key]
        _ = try Publisher(repositoryPath: "\(dir)/repo", configuration: configuration)
            .publish("\(dir)/src-\(version)", name: try ModelName("m"), version: try ModelVersion(version))
    }

    @Test("remote add and trust add once; then pull, info, outdated and path need no options")
    func configureOnce() async throws {
        try await withTemporaryDirectory { dir in
            let key = SigningKey()
            try Self.publish(dir, version: "1", key: key)
            try await withTestOrigin(root: "\(dir)/repo") { _, url in
                let env = Self.freshHome(dir)
                func haul(_ arguments: String...) async throws -> HaulProcess.Result {
                    try await HaulProcess.run(arguments, environment: env, logFolder: dir)
                }
                let unconfigured = try await haul("pull", "m")
                #expect(unconfigured.status == 2, "\(unconfigured.stderr)")
                #expect(unconfigured.stderr.contains("haul remote add origin"), "\(unconfigured.stderr)")
                let noRemote = try await haul("trust", "add", key.publicKey.description)
                #expect(noRemote.status == 2 && noRemote.stderr.contains("haul remote add"), "\(noRemote.stderr)")

                let add = try await haul("remote", "add", "origin", url.absoluteString)
                #expect(add.status == 0, "\(add.stderr)")
                #expect(add.stdout.contains("Added remote origin") && add.stdout.contains("haul trust add"))
                let configPath = "\(dir)/home/.config/haul/config.json"
                let mode = try FileManager.default.attributesOfItem(atPath: configPath)[.posixPermissions] as? Int
                #expect(mode == 0o600)

                let untrusted = try await haul("pull", "m")
                #expect(untrusted.status == 4, "\(untrusted.stderr)")
                #expect(untrusted.stderr.contains("haul trust add") && !untrusted.stderr.contains("config.trust.keys"))

                let twice = try await haul("remote", "add", "origin", url.absoluteString)
                #expect(twice.status == 2 && twice.stderr.contains("--replace"), "\(twice.stderr)")
                #expect(try await haul("trust", "add", key.publicKey.description).status == 0)
                let list = try await haul("remote", "list")
                #expect(
                    list.stdout.contains("origin (default)") && list.stdout.contains("1 trusted key"), "\(list.stdout)")

                let pull = try await haul("pull", "m")
                #expect(pull.status == 0, "\(pull.stderr)")
                #expect(pull.stdout.contains("Installed m@1"))
                let folder = "\(dir)/home/.cache/haul/models/m/1"
                #expect(FileSystem.isRegularFile("\(folder)/model.bin"))
                let again = try await haul("pull", "m")
                #expect(again.status == 0 && again.stdout.contains("m@1") && again.stdout.contains("already installed"))
                let quiet = try await haul("pull", "-q", "m")
                #expect(quiet.status == 0 && quiet.stdout == "\(folder)\n", "\(quiet.stdout)")
                let path = try await haul("path", "m")
                #expect(path.status == 0 && path.stdout == "\(folder)\n")
                let notInstalled = try await haul("path", "other")
                #expect(notInstalled.status == 5 && notInstalled.stderr.contains("haul pull other"))

                // A new default remote that cannot be reached: commands on the installed model still go where it
                // came from.
                let unreachable = "http://127.0.0.1:\(try FreePort.find())/"
                #expect(try await haul("remote", "add", "broken", unreachable, "--default").status == 0)
                try Self.publish(dir, version: "2", key: key, seed: 7)
                let info = try await haul("info", "m")
                #expect(info.status == 0 && info.stdout.contains("2 (latest)"), "\(info.stderr)")
                let outdated = try await haul("outdated")
                #expect(outdated.status == 0 && outdated.stdout.contains("1 -> 2"), "\(outdated.stderr)")
                let unknown = try await haul("info", "m", "--remote", "nope")
                #expect(unknown.status == 2 && unknown.stderr.contains("broken, origin"), "\(unknown.stderr)")

                #expect(try await haul("remote", "remove", "broken").stdout.contains("default remote is now origin"))
                let update = try await haul("update")
                #expect(update.status == 0 && update.stdout.contains("Installed m@2"), "\(update.stderr)")
            }
        }
    }

    @Test("edits by processes at once all land: six concurrent `haul remote add`")
    func concurrentEdits() async throws {
        try await withTemporaryDirectory { dir in
            let env = Self.freshHome(dir)
            let processes = try (1...6).map { n in
                try HaulProcess.start(
                    ["remote", "add", "r\(n)", "https://r\(n).example/repo"], environment: env, logFolder: dir)
            }
            try await waitUntil("every remote add to finish") { processes.allSatisfy { !$0.0.isRunning } }
            #expect(processes.allSatisfy { $0.0.terminationStatus == 0 })
            let file = try ConfigFile.load(path: "\(dir)/home/.config/haul/config.json")
            #expect(file.remotes.keys.sorted() == (1...6).map { "r\($0)" })
        }
    }

    static let missingArguments: [[String]] = [
        ["remote", "add", "origin"], ["remote", "add"], ["remote", "remove"], ["trust", "add"], ["trust", "remove"],
        ["path"], ["remote", "add", "../x", "https://a.example"], ["remote", "add", "o", "ftp://a.example"],
        ["remote", "add", "o", "https://a.example", "--trusted-key", "nope"], ["remote", "remove", "nope"],
        ["pull", "m", "--include", "[a"], ["pull", "m", "--remote", "nope"],
        ["pull", "m", "--repo", "https://a.example", "--remote", "origin"],
    ]

    @Test("missing or bad arguments exit 2 and change nothing", arguments: missingArguments)
    func usage(_ arguments: [String]) async throws {
        try await withTemporaryDirectory { dir in
            let result = try await HaulProcess.run(arguments, environment: Self.freshHome(dir), logFolder: dir)
            #expect(result.status == 2, "\(arguments): \(result.stderr)")
            #expect(!result.stderr.isEmpty)
            #expect(!FileSystem.exists("\(dir)/home/.config/haul/config.json"), "a refused edit writes no file")
        }
    }

    @Test("a broken configuration file exits 2 naming the file and the field")
    func brokenFile() async throws {
        try await withTemporaryDirectory { dir in
            var env = Self.freshHome(dir)
            env["HAUL_CONFIG"] = "\(dir)/config.json"
            try Data(#"{"version":1,"remotes":{"origin":{"url":"https://a.example","trustedKeys":["nope"]}}}"#.utf8)
                .write(to: URL(fileURLWithPath: "\(dir)/config.json"))
            for arguments in [
                ["remote", "list"], ["pull", "m"], ["trust", "add", SigningKey().publicKey.description],
            ] {
                let result = try await HaulProcess.run(arguments, environment: env, logFolder: dir)
                #expect(result.status == 2, "\(arguments): \(result.stderr)")
                #expect(result.stderr.contains("\(dir)/config.json") && result.stderr.contains("trustedKeys[0]"))
            }
        }
    }

    @Test("--include/--exclude install some files; --local-dir places them; -q prints the folder")
    func someFilesElsewhere() async throws {
        try await withTemporaryDirectory { dir in
            try Fixtures.publish(
                repo: "\(dir)/repo", source: "\(dir)/src", name: "m", version: "1",
                files: [
                    ("config.json", 100), ("tokenizer/vocab.json", 300), ("model.bin", 500_000),
                    ("model.onnx", 200_000),
                ])
            try await withTestOrigin(root: "\(dir)/repo") { _, url in
                var env = Self.freshHome(dir)
                env["HAUL_STORE"] = "\(dir)/store"
                env["HAUL_ALLOW_UNSIGNED"] = "1"
                env["HAUL_REPOSITORY"] = url.absoluteString
                func haul(_ arguments: String...) async throws -> HaulProcess.Result {
                    try await HaulProcess.run(arguments, environment: env, logFolder: dir)
                }
                let some = try await haul("pull", "m", "--include", "*.json", "--local-dir", "\(dir)/local")
                #expect(some.status == 0, "\(some.stderr)")
                #expect(
                    some.stdout.contains("(2 selected files)")
                        && some.stdout.contains("Placed its files in\n  \(dir)/local"))
                #expect(try Set(filesUnder("\(dir)/local").keys) == ["config.json", "tokenizer/vocab.json"])
                #expect(try Set(filesUnder("\(dir)/store/models/m/1").keys) == ["config.json", "tokenizer/vocab.json"])
                let verify = try await haul("verify")
                #expect(verify.status == 0 && verify.stdout.contains("All verified"), "\(verify.stdout)")

                try Data("mine".utf8).write(to: URL(fileURLWithPath: "\(dir)/local/model.bin"))
                let blocked = try await haul("pull", "m", "--exclude", "*.onnx", "--local-dir", "\(dir)/local")
                #expect(
                    blocked.status == 2 && blocked.stderr.contains("model.bin") && blocked.stderr.contains("--force"),
                    "checked before downloading, a usage error: \(blocked.stderr)")
                #expect(try String(contentsOfFile: "\(dir)/local/model.bin", encoding: .utf8) == "mine")
                let forced = try await haul(
                    "pull", "-q", "m", "--exclude", "*.onnx", "--local-dir", "\(dir)/local", "--force")
                #expect(forced.status == 0 && forced.stdout == "\(dir)/local\n", "\(forced.stderr)")
                #expect(
                    try Set(filesUnder("\(dir)/local").keys) == ["config.json", "tokenizer/vocab.json", "model.bin"])

                let bad = try await haul("pull", "m", "--include", "[abc")
                #expect(bad.status == 2 && bad.stderr.contains("*.safetensors"))
                let none = try await haul("pull", "m", "--include", "*.gguf")
                #expect(none.status == 2 && none.stderr.contains("No file of m@1 is selected"))
            }
        }
    }

    @Test("Ctrl-C says the verified data is kept and how to resume")
    func interruptMessage() async throws {
        try await withTemporaryDirectory { dir in
            let report = try Fixtures.publish(
                repo: "\(dir)/repo", source: "\(dir)/src", name: "m", version: "1", files: [("model.bin", 8 << 20)])
            let journal = "\(dir)/store/partial/\(report.manifest.files[0].blobKey.hex).journal"
            let slow = FaultPlan([.init(pathContains: "/blobs/", .throttle(bytesPerSecond: 2 << 20))])
            try await withTestOrigin(root: "\(dir)/repo", faults: slow) { _, url in
                let args = ["pull", "m", "--repo", url.absoluteString, "--store", "\(dir)/store", "--allow-unsigned"]
                let (process, _, err) = try HaulProcess.start(args, environment: Self.freshHome(dir), logFolder: dir)
                let log = { (try? String(contentsOfFile: err, encoding: .utf8)) ?? "" }
                try await waitUntil("verified chunks on disk", detail: log) {
                    (FileSystem.fileSize(journal) ?? 0) >= 100
                }
                kill(process.processIdentifier, SIGINT)
                try await waitUntil("the pull to stop", timeout: .seconds(10), detail: log) { !process.isRunning }
                #expect(process.terminationStatus == 130, "\(log())")
                #expect(log().contains("verified data kept; run the same command to resume"), "\(log())")
            }
        }
    }
}
