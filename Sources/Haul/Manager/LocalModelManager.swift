public import Foundation
public import Logging
import Synchronization

/// Downloads, verifies, installs and removes models: the API an app or server calls (the seed's
/// `LocalModelManager`).
///
/// ```swift
/// try await LocalModelManager.withManager(config: .fromEnvironment()) { manager in
///     let model = try await manager.downloadModel("whisper-small") { progress in print(progress.fraction) }
///     print(model.url)  // a folder with the model's files
/// }
/// ```
/// One manager owns one HTTP client; call ``shutdown()`` (or use ``withManager(config:logger:_:)``) when done.
public final class LocalModelManager: Sendable {
    /// The configuration in use.
    public let config: ModelConfig
    /// The local store.
    package let store: ContentStore
    let transport: HTTPTransport
    let logger: Logger
    let running = Mutex<[String: Running]>([:])
    let states = DownloadStateRegistry()
    /// How often progress is published. Default: 200 ms.
    let progressInterval: Duration = .milliseconds(200)
    let clock: any Clock<Duration>

    struct Running {
        var id: UUID
        var cancel: AsyncStream<Void>.Continuation
        var meter: ProgressMeter
        var listeners: [UUID: AsyncStream<DownloadProgress>.Continuation] = [:]
    }

    /// Creates a manager; opens (creating if needed) the store.
    /// - Parameters:
    ///   - clock: the clock for progress sampling and waits (injected for tests). Default: `ContinuousClock()`.
    /// - Throws: ``HaulError`` `.fileSystem` when the store folder cannot be created.
    public init(
        config: ModelConfig, clock: any Clock<Duration> = ContinuousClock(),
        logger: Logger = Logger(label: "haul", factory: { _ in SwiftLogNoOpLogHandler() })
    ) throws {
        self.config = config
        self.store = try ContentStore(root: config.storePath)
        self.transport = HTTPTransport(configuration: config.transfer, clock: clock, logger: logger)
        self.logger = logger
        self.clock = clock
    }

    /// Runs `body` with a manager and shuts it down afterwards, whether `body` throws or not.
    public static func withManager<R: Sendable>(
        config: ModelConfig, logger: Logger = Logger(label: "haul", factory: { _ in SwiftLogNoOpLogHandler() }),
        _ body: (LocalModelManager) async throws -> R
    ) async throws -> R {
        let manager = try LocalModelManager(config: config, logger: logger)
        do {
            let result = try await body(manager)
            try await manager.shutdown()
            return result
        } catch {
            try? await manager.shutdown()
            throw error
        }
    }

    /// Shuts the HTTP client down. Call once, after the last download.
    public func shutdown() async throws { try await transport.shutdown() }

    /// Whether `name` (at `version`, or any version when nil) is completely installed.
    public func isModelDownloaded(_ name: String, version: String? = nil) -> Bool {
        (try? installed(name, version: version)) != nil
    }

    /// The folder holding the model's files (the newest installed version when `version` is nil).
    /// - Throws: ``HaulError`` `.notInstalled` when it is not installed; `.invalidArgument` for a bad name.
    public func modelURL(for name: String, version: String? = nil) throws -> URL {
        try installed(name, version: version).url
    }

    /// Every installed model version.
    public func installedModels() throws -> [InstalledModel] {
        try store.installedModels().map { InstalledModel($0, store: store) }
    }

    /// Deletes a model version (all versions when `version` is nil) and the blobs nothing else uses.
    /// - Returns: bytes freed.
    /// - Throws: ``HaulError`` `.notInstalled` when nothing matches.
    @discardableResult
    public func deleteModel(_ name: String, version: String? = nil) throws -> Int64 {
        try store.uninstall(ModelName(name), version: version.map(ModelVersion.init)).freed
    }

    /// The installed version that `name`/`version` designates (highest version when nil).
    func installed(_ name: String, version: String?) throws -> InstalledModel {
        let modelName = try ModelName(name)
        let wanted = try version.map(ModelVersion.init)
        let matches = try installedModels().filter { $0.name == modelName && (wanted == nil || $0.version == wanted) }
        guard let model = matches.max(by: { $0.version < $1.version }) else {
            throw HaulError(
                .notInstalled,
                "\(name)\(version.map { "@\($0)" } ?? "") is not installed. Download it with `haul pull \(name)`.",
                context: ["model": name])
        }
        return model
    }
}

extension LocalModelManager {
    /// The repository's current index (every model and version), validated and trusted.
    /// - Throws: ``HaulError`` `.offline` in offline mode, else network and validation errors.
    public func fetchIndex() async throws -> RepositoryIndex {
        guard !config.offline else {
            throw HaulError(.offline, "Offline mode is on; the repository index cannot be fetched.")
        }
        guard !config.repositoryURLs.isEmpty else {
            throw HaulError.noRepository()
        }
        let mirrors = MirrorSet(urls: config.repositoryURLs, clock: clock, logger: logger)
        return try await trustedIndex(
            RepositoryClient(transport: transport, mirrors: mirrors, limits: FormatLimits(), logger: logger)
        ).0
    }
}
