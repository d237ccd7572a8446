import ArgumentParser
import Foundation
import Haul

struct Trust: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Inspect or reset what Haul remembers of a repository (rollback floor, pinned name, rotated keys).",
        subcommands: [TrustReset.self])
}

struct TrustReset: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reset",
        abstract: "Forget the trust state of one repository; its next index is trusted on first use again.",
        discussion: """
            Use this only when the publisher legitimately reset or renamed the repository. Rollback protection, the \
            pinned repository name and rotated keys for this URL are forgotten; other repositories keep theirs. \
            Spellings of the same URL (trailing slash, case of the host, default port) name the same repository.

            Example:
              haul trust reset https://models.example.com/repo
            """)

    @Argument(help: .init("The repository base URL, as given to --repo.", valueName: "url"))
    var url: String

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let logger = global.makeLogger()
        try await Failure.guarding {
            var config = try ModelConfig.fromEnvironment(repository: url)
            if let store = global.store { config.storePath = store }
            let identity = RepositoryIdentity(config.repositoryURLs[0])
            let forgotten = try await LocalModelManager.withManager(config: config, logger: logger) {
                try $0.resetTrust()
            }
            guard !global.quiet else { return }
            if let forgotten {
                let name = forgotten.name.map { " (repository \"\($0)\")" } ?? ""
                print(
                    "Forgot the trust state of \(identity)\(name): index version \(forgotten.highestVersion)\(forgotten.rotatedTrust == nil ? "" : ", rotated keys"). Its next index is trusted on first use."
                )
            } else {
                print("No trust state was stored for \(identity); nothing changed.")
            }
        }
    }
}
