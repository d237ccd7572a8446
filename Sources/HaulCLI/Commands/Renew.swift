import ArgumentParser
import Foundation
import Haul

struct Renew: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Re-sign the index with a later expiry, changing no model (run it before the index expires).")

    @Option(name: .long, help: "The repository folder.")
    var repo: String

    @Option(name: .long, help: "A signing key file from `haul keygen` (repeatable).")
    var key: [String] = []

    @Option(name: .long, help: "Days until the renewed index expires.")
    var expires: Int = 7

    @OptionGroup var global: GlobalOptions

    func validate() throws {
        guard expires >= 1 else { throw ValidationError("--expires must be at least 1 day.") }
    }

    func run() async throws {
        let logger = global.makeLogger()
        try await Failure.guarding {
            var configuration = Publisher.Configuration()
            configuration.expiresAfter = .seconds(expires * 86_400)
            configuration.signingKeys = try key.map(SigningKey.read(from:))
            let index = try Publisher(repositoryPath: repo, configuration: configuration, logger: logger).renew()
            if !global.quiet { print("Renewed \(repo): index version \(index.version), expires \(index.expires).") }
        }
    }
}
