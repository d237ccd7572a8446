import Foundation
import HaulCore
import HaulTestSupport
import Testing

/// Issue 8: every URL the `haul` binary will connect to passes one validator. A URL given by flag, environment
/// variable or configuration file with a port outside 1–65535 (which once trapped in the HTTP client, exit 132) is
/// a usage error, exit 2; a redirect there is the origin's bad response, exit 3. Trust thresholds no index can
/// meet are usage errors too.
@Suite("URLs and trust settings from the command line, environment and configuration file", .timeLimit(.minutes(3)))
struct URLInputCLITests {
    static let badURLs = [
        "http://127.0.0.1:99999", "http://127.0.0.1:65536", "http://[::1]:99999", "http://127.0.0.1:4294967297",
        "http://localhost:99999", "http://127.0.0.1:18446744073709551617/x", "http://user:pw@127.0.0.1:8080/",
    ]

    /// Runs `haul` with a store in `dir`, no configuration file unless `environment` names one.
    static func haul(_ arguments: [String], _ environment: [String: String] = [:], dir: String) async throws
        -> HaulProcess.Result
    {
        var env = ["HAUL_STORE": "\(dir)/store", "HAUL_ALLOW_UNSIGNED": "1"]
        env.merge(environment) { $1 }
        return try await HaulProcess.run(arguments, environment: env, logFolder: dir)
    }

    static func expectUsageError(_ run: HaulProcess.Result, naming: String, _ context: String) {
        #expect(run.status == 2, "\(context): \(run.stderr)")
        #expect(run.stderr.lowercased().contains("error:") && run.stderr.contains(naming), "\(context): \(run.stderr)")
        #expect(!run.stderr.contains("Fatal error"), "\(context): \(run.stderr)")
    }

    @Test("--repo and --mirror", arguments: badURLs)
    func flags(_ url: String) async throws {
        try await withTemporaryDirectory { dir in
            let repo = try await Self.haul(["pull", "m", "--repo", url], dir: dir)
            Self.expectUsageError(repo, naming: "repository URL", "--repo \(url)")
            let mirror = try await Self.haul(["pull", "m", "--repo", "http://127.0.0.1:9/", "--mirror", url], dir: dir)
            Self.expectUsageError(mirror, naming: "mirror URL", "--mirror \(url)")
        }
    }

    @Test("HAUL_REPOSITORY", arguments: badURLs)
    func environment(_ url: String) async throws {
        try await withTemporaryDirectory { dir in
            let run = try await Self.haul(["pull", "m"], ["HAUL_REPOSITORY": "http://127.0.0.1:9/,\(url)"], dir: dir)
            Self.expectUsageError(run, naming: "HAUL_REPOSITORY", url)
        }
    }

    @Test("a configuration file's remote URL or mirror", arguments: badURLs)
    func configurationFile(_ url: String) async throws {
        try await withTemporaryDirectory { dir in
            for (field, remote) in [
                ("remotes.origin", #"{"url":"\#(url)"}"#),
                ("mirrors[0]", #"{"url":"http://127.0.0.1:9/","mirrors":["\#(url)"]}"#),
            ] {
                try Data(#"{"version":1,"defaultRemote":"origin","remotes":{"origin":\#(remote)}}"#.utf8)
                    .write(to: URL(fileURLWithPath: "\(dir)/config.json"))
                let run = try await Self.haul(["pull", "m"], ["HAUL_CONFIG": "\(dir)/config.json"], dir: dir)
                Self.expectUsageError(run, naming: field, "config \(remote)")
                #expect(run.stderr.contains("\(dir)/config.json"), "\(run.stderr)")
            }
            let add = try await Self.haul(
                ["remote", "add", "other", url], ["HAUL_CONFIG": "\(dir)/other.json"], dir: dir)
            Self.expectUsageError(add, naming: "URL", "remote add \(url)")
        }
    }

    @Test("a redirect to port 99999 mid-pull is the origin's bad response: exit 3, no trap")
    func redirect() async throws {
        try await withTemporaryDirectory { dir in
            let report = try Fixtures.publish(
                repo: "\(dir)/repo", source: "\(dir)/src", name: "m", version: "1", files: [("model.bin", 1 << 20)])
            let blob = RepositoryLayout.blobPath(report.manifest.files[0].sha256)
            for location in ["http://127.0.0.1:99999/ok/x", "//127.0.0.1:99999/x"] {
                let answer =
                    "HTTP/1.1 302 Found\r\nLocation: \(location)\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                let origin = try HostileOrigin(root: "\(dir)/repo", rules: [.init(blob, .raw(Array(answer.utf8)))])
                defer { origin.stop() }
                let run = try await Self.haul(["pull", "m", "--repo", origin.url.absoluteString], dir: dir)
                #expect(run.status == 3, "\(location): \(run.stderr)")
                #expect(run.stderr.contains("Refused a redirect") && run.stderr.contains("99999"), "\(run.stderr)")
            }
        }
    }

    @Test("a trust threshold no index can meet is a usage error (exit 2)")
    func trustThreshold() async throws {
        try await withTemporaryDirectory { dir in
            let keys = [SigningKey().publicKey.description, SigningKey().publicKey.description]
            let flag = try await Self.haul(
                ["pull", "m", "--repo", "http://127.0.0.1:9/", "--trust-threshold", "0", "--trusted-key", keys[0]],
                dir: dir)
            Self.expectUsageError(flag, naming: "--trust-threshold", "--trust-threshold 0")
            let high = try await Self.haul(
                ["pull", "m", "--repo", "http://127.0.0.1:9/", "--trust-threshold", "3"]
                    + keys.flatMap {
                        ["--trusted-key", $0]
                    }, dir: dir)
            Self.expectUsageError(high, naming: "only 2 distinct trusted keys", "--trust-threshold 3")
            let variable = try await Self.haul(
                ["pull", "m", "--repo", "http://127.0.0.1:9/"],
                ["HAUL_TRUST_THRESHOLD": "2", "HAUL_TRUSTED_KEYS": keys[0]], dir: dir)
            Self.expectUsageError(variable, naming: "HAUL_TRUST_THRESHOLD", "HAUL_TRUST_THRESHOLD 2")
        }
    }

    @Test("--min-rate: 0 turns the rule off, a rate is accepted, nonsense is a usage error")
    func minimumRate() async throws {
        try await withTemporaryDirectory { dir in
            for value in ["0", "20K"] {
                let run = try await Self.haul(
                    ["pull", "m", "--repo", "http://127.0.0.1:9/", "--min-rate", value], dir: dir)
                #expect(run.status == 3, "\(value): parsed, then failed to connect: \(run.stderr)")
            }
            for value in ["-1", "1e9", "fast", ""] {
                let run = try await Self.haul(
                    ["pull", "m", "--repo", "http://127.0.0.1:9/", "--min-rate", value], dir: dir)
                Self.expectUsageError(run, naming: "--min-rate", value)
            }
        }
    }
}
