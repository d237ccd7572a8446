import ArgumentParser
import Foundation
import Haul

struct Trust: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract:
            "Choose the keys a remote trusts (add, remove) or reset what Haul remembers of a repository (reset).",
        subcommands: [TrustAdd.self, TrustRemove.self, TrustReset.self])
}

struct TrustReset: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reset",
        abstract:
            "Forget one repository's trust state (rollback floor, pinned name, rotated keys); its next index must still be signed by a trusted key.",
        discussion: """
            Use this only when the publisher legitimately reset or renamed the repository. Rollback protection, the \
            pinned repository name and rotated keys for this URL are forgotten; other repositories keep theirs. \
            Spellings of the same URL (trailing slash, case of the host, default port) name the same repository.

            Example:
              haul trust reset https://models.example.com/repo
            """)

    @Argument(
        help: .init(
            "The repository base URL, as given to --repo, or a configured remote's name.", valueName: "url-or-remote"))
    var url: String

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let logger = global.makeLogger()
        try await Failure.guarding {
            let remote = try ConfigFile.load(path: ConfigEditing.path).remotes[url]
            var config = try ModelConfig.fromEnvironment(repository: remote?.url.absoluteString ?? url)
            if let store = global.store { config.storePath = store }
            let identity = RepositoryIdentity(config.repositoryURLs[0])
            let forgotten = try await LocalModelManager.withManager(config: config, logger: logger) {
                try $0.resetTrust()
            }
            guard !global.quiet else { return }
            if let forgotten {
                let name = forgotten.name.map { " (repository \"\($0)\")" } ?? ""
                print(
                    "Forgot the trust state of \(identity)\(name): index version \(forgotten.highestVersion)\(forgotten.rotatedTrust == nil ? "" : ", rotated keys").\nIts next index sets a new rollback floor and name, but must still be signed\nby a trusted key."
                )
            } else {
                print("No trust state was stored for \(identity); nothing changed.")
            }
        }
    }
}

struct TrustAdd: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add", abstract: "Trust a publisher's public key for a remote (default: the default remote).")

    @Argument(help: "The public key, ed25519:… as `haul keygen` printed it.")
    var key: String

    @Option(name: .long, help: "The remote (default: the default remote).")
    var remote: String?

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        _ = global.makeLogger()
        try await Failure.guarding {
            let trusted = try TrustedKey(parsing: key)
            try ConfigEditing.edit(
                { file in
                    let name = try ConfigEditing.remoteName(remote, in: file)
                    guard !file.remotes[name]!.trustedKeys.contains(trusted) else {
                        return "Remote \(name) already trusts \(trusted); nothing changed."
                    }
                    file.remotes[name]!.trustedKeys.append(trusted)
                    return
                        "Remote \(name) now trusts \(trusted) (\(Plural.count(file.remotes[name]!.trustedKeys.count, "key")))."
                }, quiet: global.quiet)
        }
    }
}

struct TrustRemove: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "remove", abstract: "Stop trusting a key for a remote (default: the default remote).")

    @Argument(help: "The public key, ed25519:….")
    var key: String

    @Option(name: .long, help: "The remote (default: the default remote).")
    var remote: String?

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        _ = global.makeLogger()
        try await Failure.guarding {
            let trusted = try TrustedKey(parsing: key)
            try ConfigEditing.edit(
                { file in
                    let name = try ConfigEditing.remoteName(remote, in: file)
                    var entry = file.remotes[name]!
                    guard entry.trustedKeys.contains(trusted) else {
                        throw HaulError(
                            .invalidArgument,
                            "Remote \(name) does not trust \(trusted); `haul remote list` shows its keys.")
                    }
                    entry.trustedKeys.removeAll { $0 == trusted }
                    if let threshold = entry.threshold, threshold > max(1, entry.trustedKeys.count) {
                        throw HaulError(
                            .invalidArgument,
                            "Remote \(name) needs \(threshold) signatures; removing this key would leave \(entry.trustedKeys.count). Lower the threshold first (`haul remote add` with --trust-threshold)."
                        )
                    }
                    file.remotes[name] = entry
                    return
                        "Remote \(name) no longer trusts \(trusted) (\(Plural.count(entry.trustedKeys.count, "key")) left)."
                }, quiet: global.quiet)
        }
    }
}
