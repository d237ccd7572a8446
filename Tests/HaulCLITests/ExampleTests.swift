import Foundation
import HaulCore
import HaulTestSupport
import Testing

/// Issue 9, item 8: the README's library example is `Examples/QuickStart/main.swift`, compiled with the package and
/// run here against a real origin, so it cannot rot.
@Suite("The README's library example", .timeLimit(.minutes(2)))
struct ExampleTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    @Test("the README shows Examples/QuickStart/main.swift verbatim")
    func readmeIsTheExample() throws {
        let readme = try String(contentsOf: Self.root.appendingPathComponent("README.md"), encoding: .utf8)
        let source = try String(
            contentsOf: Self.root.appendingPathComponent("Examples/QuickStart/main.swift"), encoding: .utf8)
        let marker = "<!-- example: Examples/QuickStart/main.swift -->\n```swift\n"
        let start = try #require(readme.range(of: marker), "the README marks the example block")
        let end = try #require(readme.range(of: "\n```\n", range: start.upperBound..<readme.endIndex))
        #expect(String(readme[start.upperBound..<end.lowerBound]) + "\n" == source)
    }

    @Test("the example downloads a signed model from an explicit repository over HAUL_REPOSITORY, twice")
    func runs() async throws {
        try await withTemporaryDirectory { dir in
            let key = SigningKey()
            try Fixtures.writeRandomFile("\(dir)/src/model.bin", size: 600_000, seed: 3)
            try Fixtures.writeRandomFile("\(dir)/src/config.json", size: 120, seed: 4)
            var configuration = Publisher.Configuration()
            configuration.signingKeys = [key]
            _ = try Publisher(repositoryPath: "\(dir)/repo", configuration: configuration)
                .publish("\(dir)/src", name: try ModelName("whisper-small"), version: try ModelVersion("1.0"))
            let binary = URL(fileURLWithPath: try HaulProcess.binary()).deletingLastPathComponent()
                .appendingPathComponent("QuickStart").path
            try await withTestOrigin(root: "\(dir)/repo") { _, url in
                let environment = [
                    "HOME": "\(dir)/home", "XDG_CONFIG_HOME": "", "XDG_CACHE_HOME": "", "XDG_STATE_HOME": "",
                    "HAUL_CONFIG": "", "HAUL_STORE": "\(dir)/store", "HAUL_STATE": "", "HAUL_TRUSTED_KEYS": "",
                    // Unreachable: the example's explicit repository must win over it.
                    "HAUL_REPOSITORY": "http://127.0.0.1:\(try FreePort.find())/",
                    "MODEL_REPOSITORY": url.absoluteString, "MODEL_PUBLISHER_KEY": key.publicKey.description,
                ]
                for run in 1...2 {
                    let result = try await Self.run(binary, environment: environment, logFolder: dir)
                    #expect(result.status == 0, "run \(run): \(result.stderr)")
                    #expect(
                        result.stdout.contains(
                            "whisper-small is ready in \(dir)/store/models/whisper-small/1.0: config.json, model.bin"),
                        "run \(run): \(result.stdout)")
                    #expect(result.stdout.contains("progress 100%"))
                }
                #expect(try filesUnder("\(dir)/store/models/whisper-small/1.0") == filesUnder("\(dir)/src"))

                // Another key: the index is refused, and the example fails rather than installing.
                var wrongKey = environment
                wrongKey["MODEL_PUBLISHER_KEY"] = SigningKey().publicKey.description
                wrongKey["HAUL_STORE"] = "\(dir)/other-store"
                let refused = try await Self.run(binary, environment: wrongKey, logFolder: dir)
                #expect(refused.status != 0 && !refused.stdout.contains("is ready"))
            }
        }
    }

    /// Runs an executable to completion (at most 60 s), its output in files.
    static func run(_ path: String, environment: [String: String], logFolder: String) async throws -> (
        status: Int32, stdout: String, stderr: String
    ) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let out = "\(logFolder)/example-\(UUID().uuidString).out", err = out + ".err"
        _ = FileManager.default.createFile(atPath: out, contents: nil)
        _ = FileManager.default.createFile(atPath: err, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: out))
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: err))
        try process.run()
        let read = { (path: String) in (try? String(contentsOfFile: path, encoding: .utf8)) ?? "" }
        try await waitUntil("the example to finish", timeout: .seconds(60), detail: { read(err) }) {
            !process.isRunning
        }
        return (process.terminationStatus, read(out), read(err))
    }
}
