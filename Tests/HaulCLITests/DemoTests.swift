import Foundation
import HaulCore
import HaulTestSupport
import Testing

/// `haul demo`, the README's first command: it names no path it deletes, says what to run next, and leaves
/// nothing behind, also on Ctrl-C.
@Suite("haul demo", .timeLimit(.minutes(3)))
struct DemoTests {
    @Test("the demo succeeds, prints the next commands, no path it removes, and leaves nothing behind")
    func completes() async throws {
        try await withTemporaryDirectory { dir in
            let run = try await HaulProcess.run(
                ["demo"], environment: ["TMPDIR": "\(dir)/tmp/"], logFolder: dir,
                timeout: .seconds(150))
            #expect(run.status == 0, "\(run.stderr)")
            #expect(run.stdout.contains("Demo complete.") && run.stdout.contains("haul publish ./my-model"))
            #expect(!run.stdout.contains("\(dir)/tmp") && !run.stderr.contains("\(dir)/tmp"), "\(run.stdout)")
            #expect(FileSystem.contents(of: "\(dir)/tmp").isEmpty, "the temporary work folder is removed")
        }
    }

    @Test("Ctrl-C removes the temporary work folder and exits 130")
    func interrupted() async throws {
        try await withTemporaryDirectory { dir in
            try FileSystem.createDirectory("\(dir)/tmp")
            let (demo, _, err) = try HaulProcess.start(["demo"], environment: ["TMPDIR": "\(dir)/tmp/"], logFolder: dir)
            defer { if demo.isRunning { demo.terminate() } }
            try await waitUntil("the demo to write its sample model") {
                FileSystem.contents(of: "\(dir)/tmp").contains { FileSystem.exists("\(dir)/tmp/\($0)/sample-model") }
            }
            kill(demo.processIdentifier, SIGINT)
            try await waitUntil("the demo to stop", timeout: .seconds(20)) { !demo.isRunning }
            #expect(demo.terminationStatus == 130, "\((try? String(contentsOfFile: err, encoding: .utf8)) ?? "")")
            #expect(FileSystem.contents(of: "\(dir)/tmp").isEmpty, "\(FileSystem.contents(of: "\(dir)/tmp"))")
        }
    }
}
