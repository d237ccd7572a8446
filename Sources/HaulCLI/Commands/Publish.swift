import ArgumentParser
import Foundation
import Haul
import HaulCore

struct Publish: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Publish a model file or folder into a Haul repository folder.",
        usage: "haul publish <source> --repo <folder> <name>@<version> [<options>]",
        discussion: """
            Example:
              haul publish ./whisper-small --repo ./repo whisper-small@1.0.0 \\
                  --key ~/.haul/publisher.key

            The model's latest version (what `haul pull name` installs) is the highest semantic version \
            (1.10.0 > 1.9.0 > 1.9.0-rc.1). A label that is not a semantic version (1.0, v1.2.0) does not replace a \
            semantic latest (a warning says so); after a latest that is not one, the version published last is \
            latest. --latest and --no-latest override that. A repository whose index is signed is never written unsigned \
            unless --unsigned is given.
            """)

    @Argument(help: .init("The model file or folder to publish.", valueName: "source"))
    var source: String

    @Argument(
        help: .init(
            "The model and its version (versions are immutable; `latest` is reserved).", valueName: "name@version"))
    var model: String?

    @Option(name: .long, help: .init("The repository folder to write (created if missing).", valueName: "folder"))
    var repo: String

    @OptionGroup var signing: IndexSigningOptions

    @Flag(
        inversion: .prefixedNo,
        help:
            "Make this version the latest (--latest) or keep the current latest (--no-latest); default: by version order."
    )
    var latest: Bool?

    @Option(
        name: .long,
        help: .init(
            "Name a public key clients must trust from now on (key rotation; repeatable).", valueName: "ed25519:key"))
    var trustKey: [String] = []

    @Option(name: .long, help: .init("Signature threshold to name with --trust-key.", valueName: "n"))
    var trustThreshold: Int = 1

    // The form before name@version; refused with a hint (see `validate()`).
    @Option(name: .long, help: .hidden) var name: String?
    @Option(name: .long, help: .hidden) var version: String?

    @OptionGroup var global: OutputOptions

    func validate() throws {
        guard name == nil, version == nil else {
            throw ValidationError(
                "publish takes the model as name@version: haul publish \(source) --repo \(repo) \(name ?? model ?? "NAME")@\(version ?? "VERSION")"
            )
        }
        guard let model else {
            throw ValidationError(
                "Missing the model to publish, as name@version: haul publish \(source) --repo \(repo) NAME@VERSION")
        }
        guard model.contains("@"), !model.hasSuffix("@") else {
            throw ValidationError("Name the version to publish: \(model)@VERSION (for example \(model)@1.0.0).")
        }
        guard (1...64).contains(trustThreshold), trustThreshold <= max(trustKey.count, 1) else {
            throw ValidationError("--trust-threshold must be between 1 and the number of --trust-key options.")
        }
    }

    func run() async throws {
        let logger = global.makeLogger()
        try await Failure.guarding {
            let reference = try ModelReference(parsing: model ?? "")
            guard let version = reference.version else {
                throw HaulError(.invalidArgument, "`latest` is reserved; publish under a version label such as 1.0.0.")
            }
            var configuration = try signing.publisherConfiguration(repository: repo, quiet: global.quiet)
            configuration.latest = latest.map { $0 ? .always : .never } ?? .byVersionOrder
            if !trustKey.isEmpty {
                configuration.trust = TrustPolicy(
                    keys: try trustKey.map(TrustedKey.init(parsing:)), threshold: trustThreshold)
            }
            let publisher = Publisher(repositoryPath: repo, configuration: configuration, logger: logger)
            let report = try publisher.publish(source, name: reference.name, version: version)
            guard !global.quiet else { return }
            describe(report, keys: configuration.signingKeys.map(\.publicKey))
        }
    }

    private func describe(_ report: Publisher.Report, keys: [TrustedKey]) {
        let manifest = report.manifest
        if report.unchanged {
            print("\(manifest.name)@\(manifest.version) is already published with this content; nothing changed.")
            return
        }
        for file in manifest.files {
            print(
                "  \(file.path)  \(ByteFormat.string(file.size))  sha256:\(file.sha256.hex.prefix(16))…  \(Plural.count(file.chunks.count, "chunk"))"
            )
        }
        print(
            "Published \(manifest.name)@\(manifest.version): \(Plural.count(manifest.files.count, "file")), \(ByteFormat.string(manifest.totalSize)), \(Plural.count(report.blobsWritten, "blob")) written, \(report.blobsReused) reused."
        )
        if self.latest == nil, report.latest != manifest.version, SemanticVersion(manifest.version.string) == nil,
            SemanticVersion(report.latest.string) != nil
        {
            printError(
                "warning: \(manifest.version) is not a semantic version (MAJOR.MINOR.PATCH), so \(report.latest) stays\nlatest; pass --latest to make \(manifest.name)@\(manifest.version) the latest.\n"
            )
        }
        let latest = report.latest == manifest.version ? "latest" : "latest stays \(report.latest)"
        print("Manifest sha256:\(report.manifestDigest.hex), index version \(report.indexVersion), \(latest).")
        print("Next: upload \(repo) to your origin (see README), or try it here:")
        print("  haul serve \(repo) --port 8080 &")
        let trust = keys.isEmpty ? "--allow-unsigned" : keys.map { "--trusted-key \($0)" }.joined(separator: " ")
        print("  haul pull \(manifest.name)@\(manifest.version) --repo http://127.0.0.1:8080/ \(trust)")
    }
}
