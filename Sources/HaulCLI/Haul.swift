import ArgumentParser
import Foundation

@main
struct HaulCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "haul",
        abstract: "Deliver large model files from any static HTTP origin: fast, verified, resumable.",
        discussion: """
            Exit codes: 0 success, 1 other failure, 2 usage error, 3 network (unreachable, timeout, HTTP status, \
            offline), 4 verification (digest, size, invalid or untrusted repository data), 5 not found (unknown \
            model or version, not installed), 6 disk (no space, file-system error), 130 cancelled.
            """,
        version: "0.1.0",
        subcommands: [
            Publish.self, Serve.self, Pull.self, List.self, Info.self, Remove.self, Verify.self, Outdated.self,
            Update.self, Keygen.self, Renew.self, Trust.self, Demo.self,
            Remote.self, Path.self,
        ]
    )

    /// Runs the command; a usage error (a bad option or value) exits with 2, as documented, not ArgumentParser's 64.
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var command = command as? any AsyncParsableCommand {
                try await command.run()
            } else {
                try command.run()
            }
        } catch {
            if exitCode(for: error) == .validationFailure {
                FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
                Foundation.exit(2)
            }
            exit(withError: error)
        }
    }
}
