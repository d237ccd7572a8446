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
            Example:
              haul pull whisper-small --repo https://models.example.com/repo \\
                  --trusted-key ed25519:…

            Environment (each overridden by the option named):
              HAUL_REPOSITORY       repository URL(s), comma-separated (--repo)
              HAUL_TRUSTED_KEYS     trusted keys, comma-separated (--trusted-key)
              HAUL_TRUST_THRESHOLD  trusted keys that must sign (--trust-threshold)
              HAUL_REPOSITORY_NAME  name the signed index must carry (--repo-name)
              HAUL_ALLOW_UNSIGNED   1: accept unsigned indexes, testing only
              HAUL_STORE            local store (--store; ~/.cache/haul)
              XDG_CACHE_HOME        parent of the default store
              HAUL_STATE            trust state (~/.local/state/haul)
              XDG_STATE_HOME        parent of the default trust state
              HAUL_OFFLINE          1: no network; installed models only
              HAUL_LOG_LEVEL        trace … critical (overrides -v and -q)
              COLUMNS               progress bar width if the terminal says none

            Exit codes: 0 success, 1 other failure, 2 usage error, 3 network (unreachable, timeout, HTTP status, \
            offline), 4 verification (digest, size, invalid or untrusted repository data), 5 not found (unknown \
            model or version, not installed), 6 disk (no space, file-system error), 130 cancelled.

            Version: haul --version. Shell completions: haul --generate-completion-script
            bash|zsh|fish (see README).
            """,
        subcommands: [
            Publish.self, Serve.self, Pull.self, List.self, Info.self, Remove.self, Verify.self, Outdated.self,
            Update.self, GarbageCollect.self, Keygen.self, Renew.self, Trust.self, Demo.self,
            Remote.self, Path.self,
        ]
    )

    /// Runs the command; a usage error (a bad option or value) exits with 2, as documented, not ArgumentParser's 64.
    ///
    /// `haul --version` is answered here, not by `CommandConfiguration.version` (ArgumentParser then answers any
    /// failed parse that contains `--version` with the version and exit 0, so `haul publish … --version 1` with a
    /// missing option "succeeded"), nor by a root flag (it would take a subcommand's `--version`).
    static func main() async {
        if Array(CommandLine.arguments.dropFirst()) == ["--version"] {
            print(version)
            return
        }
        do {
            var command = try parseAsRoot()
            if var command = command as? any AsyncParsableCommand {
                try await command.run()
            } else {
                try command.run()
            }
        } catch {
            if exitCode(for: error) == .validationFailure {
                printError(fullMessage(for: error) + "\n")
                Foundation.exit(2)
            }
            exit(withError: error)
        }
    }
}
