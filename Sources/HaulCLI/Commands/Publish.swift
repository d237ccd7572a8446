import ArgumentParser
import Foundation
import Haul

struct Publish: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Publish a model file or folder into a Haul repository folder.")

    @Argument(help: "The model file or folder to publish.")
    var source: String

    @Option(name: .long, help: "The repository folder to write (created if missing).")
    var repo: String

    @Option(name: .long, help: "The model's name.")
    var name: String

    @Option(name: .long, help: "The version label (versions are immutable).")
    var version: String

    @OptionGroup var signing: IndexSigningOptions

    @Option(name: .long, help: "Name a public key clients must trust from now on (key rotation; repeatable).")
    var trustKey: [String] = []

    @Option(name: .long, help: "Signature threshold to name with --trust-key (default 1).")
    var trustThreshold: Int = 1

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let logger = global.makeLogger()
        try await Failure.guarding {
            var configuration = try signing.publisherConfiguration(quiet: global.quiet)
            if !trustKey.isEmpty {
                configuration.trust = TrustPolicy(
                    keys: try trustKey.map(TrustedKey.init(parsing:)), threshold: trustThreshold)
            }
            let publisher = Publisher(repositoryPath: repo, configuration: configuration, logger: logger)
            let report = try publisher.publish(source, name: try ModelName(name), version: try ModelVersion(version))
            guard !global.quiet else { return }
            let manifest = report.manifest
            if report.unchanged {
                print("\(manifest.name)@\(manifest.version) is already published with this content; nothing changed.")
                return
            }
            for file in manifest.files {
                print(
                    "  \(file.path)  \(ByteFormat.string(file.size))  sha256:\(file.sha256.hex.prefix(16))…  \(file.chunks.count) chunks"
                )
            }
            print(
                "Published \(manifest.name)@\(manifest.version): \(manifest.files.count) files, \(ByteFormat.string(manifest.totalSize)), \(report.blobsWritten) blobs written, \(report.blobsReused) reused."
            )
            print(
                "Manifest sha256:\(report.manifestDigest.hex), index version \(report.indexVersion). Upload \(repo) to your origin (see README)."
            )
        }
    }
}
