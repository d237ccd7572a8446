import Foundation
import HaulCore
import HaulTestSupport
import Testing

/// The `haul` binary under hostile command-line values and hostile origins: a usage error exits with 2 and says
/// what is wrong (never a trap), and no control or bidi character an origin chose reaches the terminal raw.
@Suite("Hostile input to the haul command", .timeLimit(.minutes(3)))
struct HostileInputCLITests {
    @Test(
        "numeric options refuse out-of-range and non-numeric values with exit code 2",
        arguments: [
            ["pull", "m", "--limit-rate", "infK"], ["pull", "m", "--limit-rate", "1e400"],
            ["pull", "m", "--limit-rate", "nanM"], ["pull", "m", "--limit-rate", "-5"],
            ["pull", "m", "--limit-rate", "99999999999999999999G"],
            ["pull", "m", "--connections", "99999999999999999999"], ["pull", "m", "--connections", "0"],
            ["pull", "m", "--max-connections", "-1"], ["pull", "m", "--stall-timeout", "nan"],
            ["pull", "m", "--stall-timeout", "999999999999999"], ["pull", "m", "--stall-timeout", "1e300"],
            ["publish", "SRC", "--repo", "REPO", "a@1", "--expires", "9999999999999999"],
            ["publish", "SRC", "--repo", "REPO", "a@1", "--expires", "1e300"],
            ["renew", "--repo", "REPO", "--expires", "99999999999"],
            ["serve", "REPO", "--port", "70000"], ["serve", "REPO", "--throttle", "0"],
            ["serve", "REPO", "--throttle", "99999999999999999999"],
        ])
    func numericOptions(_ arguments: [String]) async throws {
        try await withTemporaryDirectory { dir in
            let resolved = arguments.map { $0 == "SRC" ? "\(dir)/src" : $0 == "REPO" ? "\(dir)/repo" : $0 }
            let run = try await HaulProcess.run(resolved, environment: ["HAUL_STORE": "\(dir)/store"], logFolder: dir)
            #expect(run.status == 2, "\(resolved): \(run.stderr)")
            #expect(run.stderr.lowercased().contains("error:") && !run.stderr.contains("Fatal error"), "\(run.stderr)")
            #expect(!FileManager.default.fileExists(atPath: "\(dir)/repo/index.json"))
        }
    }

    @Test("a valid --limit-rate with a fraction is accepted")
    func fractionalRate() async throws {
        try await withTemporaryDirectory { dir in
            let run = try await HaulProcess.run(
                ["pull", "m", "--limit-rate", "1.5M", "--repo", "http://127.0.0.1:9/"],
                environment: ["HAUL_STORE": "\(dir)/store", "HAUL_ALLOW_UNSIGNED": "1"], logFolder: dir)
            #expect(run.status == 3, "parsed, then failed to connect: \(run.stderr)")
        }
    }

    /// Hostile answers for the model's blob: header values and reason phrases with C0, C1, bidi and zero-width
    /// characters.
    static let answers: [String] = [
        "HTTP/1.1 206 Partial\r\nContent-Range: bytes 0-1/9\u{202E}\u{9B}31m\u{200B}\r\nETag: \"\u{202E}x\"\r\nContent-Length: 2\r\nConnection: close\r\n\r\nab",
        "HTTP/1.1 302 Found\r\nLocation: /x\u{202E}\u{2066}.exe\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        "HTTP/1.1 503 Busy\u{9B}2J\u{202E}\r\nRetry-After: 1e300\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        "HTTP/1.1 503 \u{1B}[2J\u{1B}]0;pwned\u{07}\r\nRetry-After: nan\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        "HTTP/1.1 206 Partial\r\nContent-Range: bytes \u{1B}[31m0-1/9\r\nContent-Length: 2\r\nConnection: close\r\n\r\nab",
    ]

    @Test(
        "text an origin chose reaches stderr escaped: no raw control, bidi or invisible character", arguments: answers)
    func escapedOutput(_ answer: String) async throws {
        try await withTemporaryDirectory { dir in
            let report = try Fixtures.publish(
                repo: "\(dir)/repo", source: "\(dir)/src", name: "m", version: "1", files: [("model.bin", 1 << 20)])
            let blob = RepositoryLayout.blobPath(report.manifest.files[0].sha256)
            let origin = try HostileOrigin(root: "\(dir)/repo", rules: [.init(blob, .raw(Array(answer.utf8)))])
            defer { origin.stop() }
            let run = try await HaulProcess.run(
                ["pull", "m", "--repo", origin.url.absoluteString, "--verbose"],
                environment: ["HAUL_STORE": "\(dir)/store", "HAUL_ALLOW_UNSIGNED": "1"], logFolder: dir)
            #expect(run.status == 3, "\(run.stderr)")
            #expect(run.stderr.contains("error:"))
            let raw = run.stderr.unicodeScalars.filter { $0 != "\n" && UntrustedText.needsEscape($0) }
            #expect(raw.isEmpty, "raw characters \(raw.map { String($0.value, radix: 16) }) in: \(run.stderr)")
            #expect(!FileManager.default.fileExists(atPath: "\(dir)/store/models/m"))
            if answer.contains("Content-Range: bytes 0-1/9") {
                #expect(run.stderr.contains("\\u{202E}\\u{9B}31m\\u{200B}"), "the hostile value is shown, escaped")
            }
        }
    }
}
