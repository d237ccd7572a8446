import ArgumentParser
import Foundation
import Haul
import HaulCore
import Logging

/// Options of commands that use the local store: output and `--store`.
struct GlobalOptions: ParsableArguments {
    @OptionGroup var output: OutputOptions

    @Option(
        name: .long,
        help: .init("The local store (default: $HAUL_STORE, else the platform cache folder).", valueName: "folder"))
    var store: String?

    /// `--quiet`.
    var quiet: Bool { output.quiet }

    /// The local store: `--store`, else `$HAUL_STORE`, else the platform cache folder.
    func openStore() throws -> ContentStore {
        try ContentStore(root: store ?? ModelConfig.fromEnvironment().storePath)
    }

    /// The CLI's logger (``OutputOptions/makeLogger()``).
    func makeLogger() -> Logger { output.makeLogger() }
}

/// Options of commands that talk to a repository.
struct RepositoryOptions: ParsableArguments {
    @Option(
        name: .long,
        help: .init("Repository base URL (default: $HAUL_REPOSITORY, else the default remote).", valueName: "url"))
    var repo: String?

    @Option(
        name: .long,
        help: .init("A configured remote by name (`haul remote list`) instead of --repo.", valueName: "name"))
    var remote: String?

    @Option(
        name: .long,
        help: .init("A mirror of the repository (repeatable); any chunk may come from any mirror.", valueName: "url"))
    var mirror: [String] = []

    @Option(
        name: .long,
        help: .init(
            "A public key trusted to sign the index (repeatable; default: $HAUL_TRUSTED_KEYS).",
            valueName: "ed25519:key"))
    var trustedKey: [String] = []

    @Option(
        name: .long,
        help: .init("How many distinct trusted keys must sign the index (default 1).", valueName: "n"))
    var trustThreshold: Int?

    @Flag(name: .long, help: "Accept an index without trusted signatures (local testing only; warns on every use).")
    var allowUnsigned = false

    @Option(
        name: .long,
        help: .init(
            "The repository name its signed index must carry (default: $HAUL_REPOSITORY_NAME, else the name of the first index accepted from this URL).",
            valueName: "name"))
    var repoName: String?

    /// Whether the repository was chosen on the command line or in the environment (then an installed model's own
    /// repository does not apply).
    var isExplicit: Bool {
        repo != nil || remote != nil || !(ProcessInfo.processInfo.environment["HAUL_REPOSITORY"] ?? "").isEmpty
    }

    /// The configuration: these options over the environment over the configuration file (``ModelConfig/load``).
    /// - Parameter installedFrom: the repository an installed model came from, used when neither an option nor
    ///   `HAUL_REPOSITORY` names one.
    func config(global: GlobalOptions, installedFrom: String? = nil) throws -> ModelConfig {
        let environment = ProcessInfo.processInfo.environment
        var config = try ModelConfig.resolve(
            file: try ConfigFile.load(path: ConfigFile.defaultPath(environment: environment)), repository: repo,
            mirrors: mirror, remote: remote, installedFrom: installedFrom, environment: environment)
        if let store = global.store { config.storePath = store }
        if !trustedKey.isEmpty { config.trust.keys = try trustedKey.map(TrustedKey.init(parsing:)) }
        if let trustThreshold { config.trust.threshold = trustThreshold }
        if allowUnsigned { config.trust.allowUnsigned = true }
        if let repoName { config.trust.repositoryName = repoName }
        if let problem = config.trust.thresholdProblem, trustThreshold != nil || !config.trust.keys.isEmpty {
            let source =
                trustThreshold != nil
                ? "--trust-threshold"
                : environment["HAUL_TRUST_THRESHOLD"] != nil ? "HAUL_TRUST_THRESHOLD" : "the remote's threshold"
            throw HaulError(
                .invalidArgument,
                "\(source): \(problem). Require between 1 and the number of trusted keys (--trusted-key, HAUL_TRUSTED_KEYS or `haul trust add`).",
                context: ["setting": "trust-threshold"])
        }
        if config.trust.allowUnsigned && config.trust.keys.isEmpty && !global.quiet {
            printError(
                "warning: accepting unsigned repository data (--allow-unsigned); anyone who can change the origin can change the model.\n"
            )
        }
        return config
    }
}

enum LoggingBootstrap {
    nonisolated(unsafe) private static var done = false
    static func once(level: Logger.Level) {
        guard !done else { return }
        done = true
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler(label: label, stream: StandardStream.error)
            handler.logLevel = level
            return EscapingLogHandler(handler)
        }
    }
}

/// Options of commands that write an index: signing keys and expiry.
struct IndexSigningOptions: ParsableArguments {
    @Option(
        name: .long,
        help: .init("Days until the index expires and clients refuse it for new downloads.", valueName: "days"))
    var expires: Int = 7

    @Option(
        name: .long,
        help: .init("A signing key file from `haul keygen` (repeatable: several keys may sign).", valueName: "file"))
    var key: [String] = []

    @Flag(
        name: .long,
        help: "Write an unsigned index even though the repository's index is signed today (clients will refuse it).")
    var unsigned = false

    /// The accepted `--expires` values (days): beyond ten years the product `days × 86400` is still far from any
    /// overflow, and an index valid that long defeats the point of expiry.
    static let expiryDays = 1...3650

    func validate() throws {
        guard Self.expiryDays.contains(expires) else {
            throw ValidationError("--expires must be between 1 and 3650 days (got \(expires)).")
        }
        guard !(unsigned && !key.isEmpty) else {
            throw ValidationError("--unsigned and --key contradict each other; pass one of them.")
        }
    }

    /// A publisher configuration with these keys and this expiry; warns when the index will be unsigned.
    /// - Throws: ``HaulError`` `.invalidArgument` (exit 2) when a key file cannot be read or is not a key.
    func publisherConfiguration(repository: String, quiet: Bool) throws -> Publisher.Configuration {
        var configuration = Publisher.Configuration()
        configuration.expiresAfter = .seconds(expires * 86_400)
        configuration.signingKeys = try key.map(SigningKey.read(from:))
        configuration.allowDroppingSignatures = unsigned
        // A signed index is refused by the publisher without --unsigned: warn only when the write goes ahead.
        let signedToday = (try? RepositoryLayout(root: repository).loadSignedIndex())??.0.signatures.isEmpty == false
        if key.isEmpty, !quiet, unsigned || !signedToday {
            printError(
                "warning: writing an unsigned index; clients refuse it unless told --allow-unsigned. Sign with --key (see `haul keygen`).\n"
            )
        }
        return configuration
    }
}

/// Escapes every message and metadata value (``UntrustedText``) before it reaches the terminal: log lines carry
/// URLs, header values and error messages an origin chose.
struct EscapingLogHandler: LogHandler {
    var inner: any LogHandler

    init(_ inner: any LogHandler) { self.inner = inner }

    var logLevel: Logger.Level {
        get { inner.logLevel }
        set { inner.logLevel = newValue }
    }

    var metadata: Logger.Metadata {
        get { inner.metadata }
        set { inner.metadata = newValue }
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { inner[metadataKey: key] }
        set { inner[metadataKey: key] = newValue }
    }

    func log(event: LogEvent) {
        var event = event
        event.message = "\(UntrustedText.escaped(event.message.description, limit: 4096))"
        event.metadata = event.metadata.map { $0.mapValues(Self.escape) }
        // Above the progress bar, never through it.
        StatusLine.shared.printAbove { inner.log(event: event) }
    }

    private static func escape(_ value: Logger.Metadata.Value) -> Logger.Metadata.Value {
        switch value {
        case .string(let text): return .string(UntrustedText.escaped(text))
        case .stringConvertible(let item): return .string(UntrustedText.escaped(item.description))
        case .array(let items): return .array(items.map(escape))
        case .dictionary(let items): return .dictionary(items.mapValues(escape))
        }
    }
}
