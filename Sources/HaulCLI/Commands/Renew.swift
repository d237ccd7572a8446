import ArgumentParser
import Foundation
import Haul

struct Renew: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Re-sign the index with a later expiry, changing no model (run it before the index expires).",
        usage: "haul renew --repo <folder> [--key <file> ...] [--expires <days>]",
        discussion: "Example:\n  haul renew --repo ./repo --key ~/.haul/publisher.key --expires 30")

    @Option(name: .long, help: .init("The repository folder.", valueName: "folder"))
    var repo: String

    @OptionGroup var signing: IndexSigningOptions
    @OptionGroup var global: OutputOptions

    func run() async throws {
        let logger = global.makeLogger()
        try await Failure.guarding {
            let configuration = try signing.publisherConfiguration(repository: repo, quiet: global.quiet)
            let index = try Publisher(repositoryPath: repo, configuration: configuration, logger: logger).renew()
            if !global.quiet { print("Renewed \(repo): index version \(index.version), expires \(index.expires).") }
        }
    }
}
