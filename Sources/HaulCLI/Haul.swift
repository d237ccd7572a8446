import ArgumentParser
import Foundation

@main
struct HaulCommand: AsyncParsableCommand {
    /// The version `haul --version` prints.
    static let version = "0.1.0"

    static let configuration = CommandConfiguration(
        commandName: "haul",
        abstract: "Deliver large model files from any static HTTP origin: fast, verified, resumable.",
        discussion: """
            Example: haul pull whisper-small --repo https://models.example.com/repo --trusted-key ed25519:…

            Environment:
              HAUL_REPOSITORY        repository base URL(s), comma-separated (--repo)
              HAUL_TRUSTED_KEYS      trusted publisher keys, comma-separated (--trusted-key)
              HAUL_TRUST_THRESHOLD   distinct trusted keys that must sign (--trust-threshold)
              HAUL_REPOSITORY_NAME   the name the signed index must carry (--repo-name)
              HAUL_ALLOW_UNSIGNED=1  accept unsigned repositories, for local testing (--allow-unsigned)
              HAUL_STORE             the local store (--store; default $XDG_CACHE_HOME/haul or ~/.cache/haul)
              HAUL_STATE             where trust state is kept (default $XDG_STATE_HOME/haul or ~/.local/state/haul)
              HAUL_OFFLINE=1         no network access: installed models only
              HAUL_LOG_LEVEL         trace, debug, info, notice, warning, error or critical (overrides -v/-q)
              COLUMNS                terminal width for the progress bar when it cannot be read from the terminal

            Exit codes: 0 success, 1 other failure, 2 usage error, 3 network (unreachable, timeout, HTTP status, \
            offline), 4 verification (digest, size, invalid or untrusted repository data), 5 not found (unknown \
            model or version, not installed), 6 disk (no space, file-system error), 130 cancelled.

            Shell completions: haul --generate-completion-script bash|zsh|fish (see README).
            """,
        subcommands: [
            Publish.self, Serve.self, Pull.self, List.self, Info.self, Remove.self, Verify.self, Outdated.self,
            Update.self, GarbageCollect.self, Keygen.self, Renew.self, Trust.self, Demo.self,
        ]
    )

    // Not `CommandConfiguration.version`: ArgumentParser answers any failed parse that contains `--version` with
    // the version and exit 0, so `haul publish … --version 1` with a missing option "succeeded".
    @Flag(name: .long, help: "Show the version.")
    var version = false

    func run() async throws {
        guard version else { throw CleanExit.helpRequest(self) }
        print(Self.version)
    }

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
