import ArgumentParser
import Foundation
import Haul

struct Renew: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Re-sign the index with a later expiry, changing no model (run it before the index expires).")

    @Option(name: .long, help: "The repository folder.")
    var repo: String

    @OptionGroup var signing: IndexSigningOptions
    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let logger = global.makeLogger()
        try await Failure.guarding {
            let configuration = try signing.publisherConfiguration(quiet: global.quiet)
            let index = try Publisher(repositoryPath: repo, configuration: configuration, logger: logger).renew()
            if !global.quiet { print("Renewed \(repo): index version \(index.version), expires \(index.expires).") }
        }
    }
}
