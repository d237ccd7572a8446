package import Foundation
import HaulCore

/// Runs the built `haul` executable as a real process.
package struct HaulProcess {
    /// The `haul` binary beside the test bundle (built by `swift build`).
    package static func binary() throws -> String {
        let folder = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for candidate in [folder, folder.deletingLastPathComponent()] {
            let path = candidate.appendingPathComponent("haul").path
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        throw HaulError(
            .invalidArgument,
            "The haul binary was not found next to \(folder.path); run `swift build` before `swift test`.")
    }

    /// The result of a finished run.
    package struct Result: Sendable {
        /// Exit status (or 128 + signal).
        package var status: Int32
        /// Standard output.
        package var stdout: String
        /// Standard error.
        package var stderr: String
    }

    /// Starts `haul` with `arguments` (in `directory`, else the test's own); output goes to files in `logFolder`.
    package static func start(
        _ arguments: [String], environment: [String: String] = [:], directory: String? = nil, logFolder: String
    ) throws -> (Process, String, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try binary())
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        var env = ProcessInfo.processInfo.environment
        env["HAUL_REPOSITORY"] = nil
        env["HAUL_OFFLINE"] = nil
        // The developer's own configuration file (remotes, keys) never reaches a test; a test that wants one sets
        // HAUL_CONFIG (or HOME with HAUL_CONFIG "").
        env["HAUL_CONFIG"] = "\(logFolder)/.haul-test-no-config/config.json"
        for (key, value) in environment { env[key] = value }
        process.environment = env
        let id = UUID().uuidString
        let out = "\(logFolder)/\(id).out", err = "\(logFolder)/\(id).err"
        for path in [out, err] where !FileManager.default.createFile(atPath: path, contents: nil) {
            throw HaulError(.fileSystem, "Cannot create the process log \(path).", context: ["path": path])
        }
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: out))
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: err))
        try process.run()
        return (process, out, err)
    }

    /// Runs `haul` to completion (at most `timeout`).
    package static func run(
        _ arguments: [String], environment: [String: String] = [:], directory: String? = nil, logFolder: String,
        timeout: Duration = .seconds(60)
    ) async throws -> Result {
        let (process, out, err) = try start(
            arguments, environment: environment, directory: directory, logFolder: logFolder)
        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            if ContinuousClock.now > deadline {
                process.terminate()
                throw HaulError(.timeout, "haul \(arguments.joined(separator: " ")) did not finish within \(timeout).")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        let status =
            process.terminationReason == .uncaughtSignal ? 128 + process.terminationStatus : process.terminationStatus
        return Result(
            status: status, stdout: (try? String(contentsOfFile: out, encoding: .utf8)) ?? "",
            stderr: (try? String(contentsOfFile: err, encoding: .utf8)) ?? "")
    }
}
