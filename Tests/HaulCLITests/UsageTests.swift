import Foundation
import HaulCore
import HaulTestSupport
import Testing

/// Every command refuses a missing or invalid argument the same way: exit 2, an error line that says what is
/// wrong, and never the version or a success (ArgumentParser's own `--version` and its exit 64 used to leak through).
@Suite("Usage errors and help of every command", .timeLimit(.minutes(3)))
struct UsageTests {
    /// (arguments, a phrase the error must contain); `DIR` is the test's folder.
    static let usageErrors: [([String], String)] = [
        (["publish"], "Missing expected argument"),
        (["publish", "DIR/src"], "--repo"),
        (["publish", "DIR/src", "--repo", "DIR/repo"], "name@version"),
        (["publish", "DIR/src", "--repo", "DIR/repo", "m"], "Name the version"),
        (
            ["publish", "DIR/src", "--repo", "DIR/repo", "--name", "m", "--version", "1"],
            "haul publish DIR/src --repo DIR/repo m@1"
        ),
        (
            ["publish", "DIR/src", "--repo", "DIR/repo", "m@1", "--expires", "0"],
            "--expires must be between 1 and 3650"
        ),
        (["publish", "DIR/src", "--repo", "DIR/repo", "m@latest"], "reserved"),
        (["publish", "DIR/src", "--repo", "DIR/repo", "m@1", "--key", "DIR/none.key"], "Cannot read the signing key"),
        (["publish", "DIR/src", "--repo", "DIR/repo", "m@1", "--key", "k", "--unsigned"], "contradict"),
        (["renew"], "--repo"), (["renew", "--repo", "DIR/repo", "--expires", "0"], "--expires"),
        (["serve"], "Missing expected argument"), (["serve", "DIR", "--port", "x"], "--port"),
        (["serve", "DIR", "--max-connections", "0"], "--max-connections"),
        (["pull"], "Missing expected argument"), (["pull", "../etc"], "not a valid model name"),
        (["pull", "m", "--connections", "0"], "--connections"), (["list", "--bogus"], "Unknown option"),
        (["info"], "Missing expected argument"), (["rm"], "Missing expected argument"),
        (["rm", "a/b"], "not a valid model name"), (["rm", "m@latest"], "Name the version to remove"),
        (["verify", "--bogus"], "Unknown option"),
        (["outdated", "--bogus"], "Unknown option"), (["update", "--bogus"], "Unknown option"),
        (["gc", "--partial-age", "-1"], "--partial-age"), (["keygen"], "--out"),
        (["trust", "reset"], "Missing expected argument"), (["demo", "--workdir"], "Missing value"),
        (["nonsense"], "Unexpected argument"),
    ]

    @Test("a missing or invalid argument exits 2 with a clear message", arguments: usageErrors)
    func usageError(_ row: ([String], String)) async throws {
        try await withTemporaryDirectory { dir in
            try Fixtures.writeRandomFile("\(dir)/src/m.bin", size: 1000, seed: 1)
            let arguments = row.0.map { $0.replacingOccurrences(of: "DIR", with: dir) }
            let run = try await HaulProcess.run(
                arguments, environment: ["HAUL_STORE": "\(dir)/store", "HOME": "\(dir)/home"], logFolder: dir)
            #expect(run.status == 2, "\(arguments): \(run.stderr)")
            #expect(run.stderr.lowercased().contains("error"), "\(run.stderr)")
            #expect(run.stderr.contains(row.1.replacingOccurrences(of: "DIR", with: dir)), "\(run.stderr)")
            #expect(!run.stdout.contains("0.1.0") && !FileSystem.exists("\(dir)/repo/index.json"))
        }
    }

    @Test("--version prints the version; completions are generated for bash, zsh and fish")
    func versionAndCompletions() async throws {
        try await withTemporaryDirectory { dir in
            let version = try await HaulProcess.run(["--version"], logFolder: dir)
            #expect(version.status == 0 && version.stdout == "0.1.0\n")
            for shell in ["bash", "zsh", "fish"] {
                let script = try await HaulProcess.run(["--generate-completion-script", shell], logFolder: dir)
                #expect(script.status == 0 && script.stdout.contains("publish") && script.stdout.contains("gc"))
            }
        }
    }

    @Test("help lists the environment, names units, shows an example per command and only options that apply")
    func help() async throws {
        try await withTemporaryDirectory { dir in
            let root = try await HaulProcess.run(["--help"], logFolder: dir)
            for variable in [
                "HAUL_REPOSITORY", "HAUL_TRUSTED_KEYS", "HAUL_STORE", "HAUL_STATE", "HAUL_OFFLINE",
                "HAUL_LOG_LEVEL", "HAUL_ALLOW_UNSIGNED", "HAUL_TRUST_THRESHOLD", "HAUL_REPOSITORY_NAME",
            ] {
                #expect(root.stdout.contains(variable), "\(variable) in haul --help")
            }
            #expect(root.stdout.contains("2 usage error"))
            let commands = [
                "publish", "serve", "pull", "list", "info", "rm", "verify", "outdated", "update", "gc", "keygen",
                "renew", "demo",
            ]
            for command in commands {
                let help = try await HaulProcess.run([command, "--help"], logFolder: dir)
                #expect(help.status == 0 && help.stdout.contains("Example:\n  haul \(command)"), "\(command)")
            }
            let units: [(String, [String])] = [
                ("publish", ["--expires <days>", "--key <file>", "--repo <folder>"]),
                ("serve", ["--throttle <bytes-per-second>", "--header-timeout <seconds>", "--port <port>"]),
                ("pull", ["--stall-timeout <seconds>", "--limit-rate <bytes-per-second>", "--repo <url>"]),
                ("gc", ["--partial-age <days>", "--store <folder>"]),
            ]
            for (command, placeholders) in units {
                let help = try await HaulProcess.run([command, "--help"], logFolder: dir)
                for placeholder in placeholders {
                    #expect(help.stdout.contains(placeholder), "\(command): \(placeholder)")
                }
            }
            for command in ["publish", "serve", "keygen", "renew"] {
                let help = try await HaulProcess.run([command, "--help"], logFolder: dir)
                #expect(!help.stdout.contains("--store"), "\(command) has no store")
            }
        }
    }
}
