public import Foundation

/// Where models come from and where they go: the seed's `ModelConfig`, for any repository.
///
/// Start from ``load(repository:remote:installedFrom:environment:)``, which reads the configuration file
/// (``ConfigFile``: named remotes with their trusted keys, `$HAUL_CONFIG` or the platform's config folder) and then
/// the environment over it; ``fromEnvironment(repository:mirrors:environment:)`` reads the environment alone.
///
/// Environment overrides (read by ``fromEnvironment(repository:)``): `HAUL_REPOSITORY` (base URL; several
/// separated by commas, the first is primary and the rest are mirrors), `HAUL_STORE` (store folder),
/// `HAUL_OFFLINE=1` (no network), `HAUL_TRUSTED_KEYS` (comma-separated `ed25519:…` keys),
/// `HAUL_TRUST_THRESHOLD` (signatures required), `HAUL_ALLOW_UNSIGNED=1` (accept unsigned indexes; testing only),
/// `HAUL_REPOSITORY_NAME` (the repository name the index must carry), `HAUL_STATE` (trust state folder).
public struct ModelConfig: Sendable {
    /// Base URLs of the repository: the primary first, then mirrors. Each holds `index.json`.
    public var repositoryURLs: [URL]
    /// The local store folder.
    public var storePath: String
    /// Never touch the network; installed models keep working, missing ones fail with `.offline`.
    public var offline: Bool = false
    /// How transfers behave.
    public var transfer: TransferConfiguration = TransferConfiguration()
    /// Which keys must sign the repository's index. Default: none, which rejects every repository until keys are
    /// added (or `allowUnsigned` is set for local testing).
    public var trust: TrustConfiguration = TrustConfiguration()
    /// The folder of trust state (rollback floors, pinned names, rotated keys); nil: ``resolvedStatePath``'s rule.
    public var statePath: String? = nil

    /// Where trust state lives: ``statePath`` when set; with the default store (a cache folder, which users and
    /// systems clear), the platform state folder (``defaultStatePath(environment:)``), so clearing caches does not
    /// reset rollback protection or key rotation; with a store you named, `<store>/state`, beside the models it
    /// guards.
    public var resolvedStatePath: String {
        if let statePath, !statePath.isEmpty { return statePath }
        let store = (storePath as NSString).standardizingPath
        if store == (Self.defaultStorePath() as NSString).standardizingPath { return Self.defaultStatePath() }
        return "\(store)/state"
    }

    /// Creates a configuration.
    public init(repositoryURLs: [URL], storePath: String = ModelConfig.defaultStorePath(), offline: Bool = false) {
        self.repositoryURLs = repositoryURLs
        self.storePath = storePath
        self.offline = offline
    }

    /// Creates a configuration for one repository URL.
    public init(repositoryURL: URL, storePath: String = ModelConfig.defaultStorePath()) {
        self.init(repositoryURLs: [repositoryURL], storePath: storePath)
    }

    /// A configuration from the environment, falling back to `repository` and the default store.
    /// - Throws: ``HaulError`` `.invalidArgument` when no repository is given or a URL is not http(s).
    public static func fromEnvironment(
        repository: String? = nil, mirrors: [String] = [],
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> ModelConfig {
        let text = repository ?? environment["HAUL_REPOSITORY"]
        var urls: [URL] = []
        let source = repository != nil ? "repository URL" : "HAUL_REPOSITORY"
        for item in (text?.split(separator: ",").map(String.init)) ?? [] {
            urls.append(try parseRepositoryURL(item.trimmingCharacters(in: .whitespaces), source: source))
        }
        for item in mirrors {
            urls.append(try parseRepositoryURL(item.trimmingCharacters(in: .whitespaces), source: "mirror URL"))
        }
        let store =
            environment["HAUL_STORE"].flatMap { $0.isEmpty ? nil : $0 } ?? defaultStorePath(environment: environment)
        let offline = ["1", "true", "yes"].contains(environment["HAUL_OFFLINE"]?.lowercased() ?? "")
        var config = ModelConfig(repositoryURLs: urls, storePath: store, offline: offline)
        config.trust.keys = try (environment["HAUL_TRUSTED_KEYS"] ?? "").split(separator: ",").map {
            try TrustedKey(parsing: String($0))
        }
        if let text = environment["HAUL_TRUST_THRESHOLD"] {
            guard let threshold = Int(text), threshold >= 1 else {
                throw HaulError(.invalidArgument, "HAUL_TRUST_THRESHOLD must be a whole number of at least 1.")
            }
            config.trust.threshold = threshold
        }
        config.trust.allowUnsigned = ["1", "true", "yes"].contains(
            environment["HAUL_ALLOW_UNSIGNED"]?.lowercased() ?? "")
        config.trust.repositoryName = environment["HAUL_REPOSITORY_NAME"].flatMap { $0.isEmpty ? nil : $0 }
        config.statePath = environment["HAUL_STATE"].flatMap { $0.isEmpty ? nil : $0 }
        return config
    }

    /// Parses an http(s) base URL with ``ConfigFile/checkedURL(_:field:)``'s rule (a host, a port from 1 through
    /// 65535, no user name or password, no query or fragment, at most 8 KiB).
    /// - Parameter source: where the text came from, named in the error (default: "repository URL").
    /// - Throws: ``HaulError`` `.invalidArgument` for anything else.
    public static func parseRepositoryURL(_ text: String, source: String = "repository URL") throws -> URL {
        try ConfigFile.checkedURL(text, field: source)
    }

    /// The platform's cache folder for Haul: `$XDG_CACHE_HOME/haul` or `~/.cache/haul` on Linux,
    /// `~/Library/Caches/haul` on Apple platforms (excluded from backups by the system).
    public static func defaultStorePath(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        #if canImport(Darwin)
            let caches =
                FileManager.default.urls(for: .cachesDirectory, in: .userDomainMask).first?.path
                ?? NSTemporaryDirectory()
            return "\(caches)/haul"
        #else
            if let xdg = environment["XDG_CACHE_HOME"], xdg.hasPrefix("/") { return "\(xdg)/haul" }
            let home = environment["HOME"] ?? NSHomeDirectory()
            return "\(home)/.cache/haul"
        #endif
    }
}

extension ModelConfig {
    /// The platform's state folder for Haul (data that must survive cache clearing): `$XDG_STATE_HOME/haul` or
    /// `~/.local/state/haul` on Linux, `~/Library/Application Support/haul` on Apple platforms.
    public static func defaultStatePath(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        #if canImport(Darwin)
            let support =
                FileManager.default.urls(for: .applicationSupportDirectory, in: .userDomainMask).first?.path
                ?? NSTemporaryDirectory()
            return "\(support)/haul"
        #else
            if let xdg = environment["XDG_STATE_HOME"], xdg.hasPrefix("/") { return "\(xdg)/haul" }
            let home = environment["HOME"] ?? NSHomeDirectory()
            return "\(home)/.local/state/haul"
        #endif
    }
}

/// How a download behaves on the wire.
public struct TransferConfiguration: Sendable {
    /// Parallel range requests at the start, shared by all files of a download. Default: 8.
    public var connections: Int = 8
    /// Most parallel range requests. When the origin caps each connection (as many CDNs do), the transfer doubles
    /// its connections while doing so raises the total rate by at least half the added share, up to this many; if
    /// it does not, it goes back to ``connections``. ``pinConnections(to:)`` pins the count. Default: 16.
    public var maximumConnections: Int = 16
    /// A request that receives no body bytes for this long is abandoned and retried (a status line, headers and
    /// informational `1xx` responses are not progress). Default: 30 s.
    public var stallTimeout: Duration = .seconds(30)
    /// Body bytes per second each request must keep up over ``lowSpeedTime``; a slower request is abandoned as
    /// stalled and retried (from another mirror when there is one), as curl's `--speed-limit`. It bounds how long
    /// an origin that drip-feeds a body can hold a download. With ``rateLimit`` set it is at most half of one
    /// connection's share of that limit. 0 turns the rule off. Default: 1024 (1 KiB/s): far below any link that can
    /// carry a model (eight connections at this floor are 64 kbit/s), yet a 4 GiB blob dripped at it would still
    /// take 48 days, so lower it only for links slower than that, and raise it to bound a hostile origin further.
    public var minimumRate: Int64 = 1024
    /// How long a request may stay below ``minimumRate`` before it is abandoned; nil: ``stallTimeout``.
    /// Default: nil.
    public var lowSpeedTime: Duration? = nil
    /// Time allowed to connect. Default: 10 s.
    public var connectTimeout: Duration = .seconds(10)
    /// Retries of transient failures.
    public var retry: RetryPolicy = RetryPolicy()
    /// Bytes per second across all connections and downloads of this manager; nil: unlimited. Default: nil.
    public var rateLimit: Int64? = nil
    /// Keep the partial file and journal when a download is cancelled, for a later resume. Default: true.
    public var keepPartialOnCancel: Bool = true
    /// Most redirects followed for one request (never https → http). Default: 5.
    public var maximumRedirects: Int = 5
    /// How long to wait for a blob another process is downloading while that process makes no progress (its resume
    /// journal does not grow); then the pull fails, naming the holder. A holder that keeps making progress is
    /// waited for as long as it takes. Covers retry back-off and `Retry-After` waits. Default: 5 minutes.
    public var lockTimeout: Duration = .seconds(300)
    /// Longest time fetching one small document (the index, a manifest) may take, measured on the manager's clock:
    /// every attempt, from every mirror, and the waits between them together (with N mirrors one request gets at
    /// most a 1/N share, so a slow mirror cannot use up the others' time). A request still running at the deadline
    /// is abandoned, and a retry that would wait past it is not made; the fetch then fails with `.timeout`. Bodies of blobs are bounded by their size, ``stallTimeout`` and ``minimumRate`` instead.
    /// Default: 120 s (an 8 MiB index at 70 KiB/s).
    public var documentDeadline: Duration = .seconds(120)

    /// The defaults above.
    public init() {}

    /// Uses exactly `count` parallel range requests: sets ``connections`` and ``maximumConnections`` to it.
    public mutating func pinConnections(to count: Int) {
        connections = count
        maximumConnections = count
    }
}
