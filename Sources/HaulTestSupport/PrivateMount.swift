package import Foundation
package import HaulCore

/// Shell scripts run in a private mount namespace (`unshare -m --propagation private`), where they may mount a small
/// tmpfs that nothing outside sees and that disappears with them: how the disk-full tests give a store little room.
package enum PrivateMount {
    /// Whether this process may create a private mount namespace and mount a tmpfs in it (root on Linux with
    /// util-linux `unshare`); the disk-full tests are skipped, saying why, where it may not.
    package static let isAvailable: Bool = {
        #if os(Linux)
            guard FileManager.default.isExecutableFile(atPath: unshare) else { return false }
            let probe = """
                d=$(mktemp -d) && mount -t tmpfs -o size=1m tmpfs "$d" && umount "$d" && rmdir "$d"
                """
            let process = Process()
            process.executableURL = URL(fileURLWithPath: unshare)
            process.arguments = ["-m", "--propagation", "private", "/bin/sh", "-c", probe]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            do { try process.run() } catch { return false }
            process.waitUntilExit()
            return process.terminationReason == .exit && process.terminationStatus == 0
        #else
            return false
        #endif
    }()

    static let unshare = "/usr/bin/unshare"

    /// Runs `script` with `/bin/sh -e` in a new private mount namespace, at most `timeout`; its output goes to files
    /// in `logFolder`.
    /// - Throws: ``HaulError`` `.timeout` (after killing it) when it runs longer than `timeout`.
    package static func run(
        _ script: String, environment: [String: String] = [:], logFolder: String, timeout: Duration = .seconds(60)
    ) async throws -> HaulProcess.Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: unshare)
        process.arguments = ["-m", "--propagation", "private", "/bin/sh", "-e", "-c", script]
        var env = ProcessInfo.processInfo.environment
        for (key, value) in environment { env[key] = value }
        process.environment = env
        let id = UUID().uuidString
        let out = "\(logFolder)/\(id).out", err = "\(logFolder)/\(id).err"
        for path in [out, err] where !FileManager.default.createFile(atPath: path, contents: nil) {
            throw HaulError(.fileSystem, "Cannot create the script log \(path).", context: ["path": path])
        }
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: out))
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: err))
        try process.run()
        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            if ContinuousClock.now > deadline {
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
                let log = (try? String(contentsOfFile: out, encoding: .utf8)) ?? ""
                throw HaulError(.timeout, "The namespaced script did not finish within \(timeout). Output: \(log)")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        let status =
            process.terminationReason == .uncaughtSignal ? 128 + process.terminationStatus : process.terminationStatus
        return HaulProcess.Result(
            status: status, stdout: (try? String(contentsOfFile: out, encoding: .utf8)) ?? "",
            stderr: (try? String(contentsOfFile: err, encoding: .utf8)) ?? "")
    }
}
