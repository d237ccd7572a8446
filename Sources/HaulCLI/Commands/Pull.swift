import ArgumentParser
import Dispatch
import Foundation
import Haul
import HaulCore
import Synchronization

struct Pull: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Download, verify and install a model.",
        discussion: "Example:\n  haul pull whisper-small@1.0.0 --repo https://models.example.com/repo")

    @Argument(
        help: .init(
            "The model, as name or name@version (default version, or @latest: the repository's latest).",
            valueName: "name[@version]"))
    var model: String

    @OptionGroup var repository: RepositoryOptions

    @Option(
        name: .long,
        help: .init(
            "Parallel range requests, exactly (default: start at 8 and add more while the origin caps each connection).",
            valueName: "n"))
    var connections: Int?

    @Option(
        name: .long,
        help: .init("Most parallel range requests when adding them pays (ignored with --connections).", valueName: "n"))
    var maxConnections: Int = 16

    @Option(
        name: .long,
        help: .init(
            "Bandwidth cap across all connections, e.g. 500K, 20M, 1G (bytes per second).",
            valueName: "bytes-per-second"))
    var limitRate: String?

    @Option(
        name: .long,
        help: .init("Seconds without body bytes before a request is abandoned and retried.", valueName: "seconds"))
    var stallTimeout: Int = 30

    @Option(
        name: .long,
        help:
            "A request slower than this for the stall timeout is abandoned and retried, e.g. 1K, 20K (bytes per second; 0 turns it off; default 1K)."
    )
    var minRate: String?

    @Flag(name: .long, help: "Start over instead of resuming an interrupted download.")
    var discardPartial = false

    @OptionGroup var placement: PlacementOptions

    @OptionGroup var global: GlobalOptions

    func validate() throws {
        if let connections, !(1...64).contains(connections) {
            throw ValidationError("--connections must be between 1 and 64.")
        }
        guard (1...64).contains(maxConnections) else {
            throw ValidationError("--max-connections must be between 1 and 64.")
        }
        guard (1...86_400).contains(stallTimeout) else {
            throw ValidationError("--stall-timeout must be between 1 and 86400 seconds.")
        }
        if let minRate, minRate.trimmingCharacters(in: .whitespaces) != "0", RateText.parse(minRate) == nil {
            throw ValidationError(
                "--min-rate takes a number of bytes per second with an optional K, M or G suffix, or 0 to turn the rule off, e.g. 1K."
            )
        }
        if let limitRate, RateText.parse(limitRate) == nil {
            throw ValidationError(
                "--limit-rate takes a number of bytes per second with an optional K, M or G suffix (at most 3 decimals, at most 1T/s), e.g. 20M."
            )
        }
    }

    func run() async throws {
        let logger = global.makeLogger()
        let started = Date()
        try await Failure.guarding {
            let reference = try ModelReference(parsing: model)
            let files = try placement.selection()
            // A model already installed is pulled from where it came from, unless a repository is named.
            var config = try repository.configsForInstalled(global: global, names: [reference.name.string])[0].config
            if let connections {
                config.transfer.pinConnections(to: connections)
            } else {
                config.transfer.connections = min(config.transfer.connections, maxConnections)
                config.transfer.maximumConnections = maxConnections
            }
            config.transfer.stallTimeout = .seconds(stallTimeout)
            config.transfer.rateLimit = limitRate.flatMap(RateText.parse)
            if let minRate { config.transfer.minimumRate = RateText.parse(minRate) ?? 0 }
            let bar = ProgressBar(label: reference.description, quiet: global.quiet)
            let verified = Mutex<Int64>(0)
            try await LocalModelManager.withManager(config: config, logger: logger) { manager in
                let installed = try await CancelOnInterrupt.run(cancel: {
                    manager.cancelDownload(reference.name.string)
                }) {
                    defer { bar.finish() }
                    do {
                        return try await manager.downloadModel(
                            reference.name.string, version: reference.version?.string, discardPartial: discardPartial,
                            files: files,
                            placement: placement.force ? nil : placement.localDir.map { URL(fileURLWithPath: $0) },
                            onProgress: { progress in
                                verified.withLock { $0 = max($0, progress.bytesDone) }
                                bar.update(progress)
                            })
                    } catch let error as HaulError
                        where Self.isNetwork(error.code) && verified.withLock({ $0 }) > 0 && !discardPartial
                    {
                        throw HaulError(
                            error.code, error.message + " Verified data kept; run the same command to resume.",
                            context: error.context, underlying: error)
                    } catch let error as HaulError where error.code == .cancelled {
                        throw HaulError(
                            .cancelled,
                            discardPartial || !config.transfer.keepPartialOnCancel
                                ? "Cancelled; the partial download was removed."
                                : "Cancelled: verified data kept; run the same command to resume.",
                            underlying: error)
                    }
                }
                try placement.finish(installed, store: manager.store, quiet: global.quiet, before: started)
            }
            if !global.quiet, let hint = try rememberHint(config) { print(hint) }
        }
    }
}

extension Pull {
    /// After a pull with `--repo` and `--trusted-key` from a repository no remote names: how to configure it once.
    ///
    /// The pull does not save the key itself (nor ask): a download must not change the configuration behind a
    /// script's back, and a key typed once may be a mistake the user has not checked yet. Printing the command is
    /// enough for the user to opt in.
    func rememberHint(_ config: ModelConfig) throws -> String? {
        guard repository.repo != nil, !repository.trustedKey.isEmpty, let url = config.repositoryURLs.first else {
            return nil
        }
        let file = try ConfigFile.load(path: ConfigFile.defaultPath(environment: ProcessInfo.processInfo.environment))
        guard file.remote(matching: url.absoluteString) == nil else { return nil }
        let keys = repository.trustedKey.map { "--trusted-key \($0)" }.joined(separator: " \\\n      ")
        return
            "To skip --repo and --trusted-key next time, save them once:\n  haul remote add NAME \(url.absoluteString) \\\n      \(keys)"
    }

    /// Whether a failure is the network's (exit 3), after which a rerun resumes from the verified chunks.
    static func isNetwork(_ code: HaulError.Code) -> Bool {
        [.unreachable, .timeout, .httpStatus, .badResponse].contains(code)
    }
}

/// Parses `500K`, `20M`, `1G`, `1048576` (binary multiples, as curl and aria2 do); nil for anything else
/// (``CommandLineValue/rate(_:)``).
enum RateText {
    static func parse(_ text: String) -> Int64? { CommandLineValue.rate(text) }
}

/// Turns Ctrl-C (SIGINT) and SIGTERM into a cancellation of the running download.
enum CancelOnInterrupt {
    static func run<R>(cancel: @escaping @Sendable () -> Void, _ body: () async throws -> R) async throws -> R {
        signal(SIGINT, SIG_IGN)
        signal(SIGTERM, SIG_IGN)
        let sources = [SIGINT, SIGTERM].map { number in
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { cancel() }
            source.resume()
            return source
        }
        defer {
            sources.forEach { $0.cancel() }
            signal(SIGINT, SIG_DFL)
            signal(SIGTERM, SIG_DFL)
        }
        return try await body()
    }
}
