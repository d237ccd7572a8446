public import Foundation
import SystemPackage

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The user's configuration file: named repositories (remotes) with their URL, mirrors and trusted keys, and which
/// one is the default. `haul remote …` and `haul trust add|remove` edit it; ``ModelConfig/load(repository:remote:installedFrom:environment:)``
/// reads it, and environment variables override it.
///
/// It lives at `$HAUL_CONFIG` when set, else `$XDG_CONFIG_HOME/haul/config.json` or `~/.config/haul/config.json`
/// on Linux, `~/Library/Application Support/haul/config.json` on Apple platforms (``defaultPath(environment:)``):
///
/// ```json
/// {
///   "version": 1,
///   "defaultRemote": "origin",
///   "remotes": {
///     "origin": {
///       "url": "https://models.example.com/repo",
///       "mirrors": ["https://mirror.example.net/repo"],
///       "trustedKeys": ["ed25519:…"],
///       "threshold": 1,
///       "repositoryName": "example-models"
///     }
///   }
/// }
/// ```
///
/// The file is user-edited, so it is read like repository data: strict JSON (no duplicate keys, plain integers),
/// no unknown fields, every field validated (http(s) URLs without user info, Ed25519 keys, a threshold between 1
/// and the number of keys). It is written atomically (temporary file, fsync, rename) with mode 0600 in a folder of
/// mode 0700, and never through a symbolic link.
public struct ConfigFile: Sendable, Hashable {
    /// One named repository.
    public struct Remote: Sendable, Hashable {
        /// The primary base URL (holds `index.json`).
        public var url: URL
        /// Other base URLs with the same content. Default: none.
        public var mirrors: [URL] = []
        /// Public keys trusted to sign this repository's index. Default: none.
        public var trustedKeys: [TrustedKey] = []
        /// Distinct trusted keys that must sign; nil: 1.
        public var threshold: Int? = nil
        /// The repository name its signed index must carry; nil: pinned on first use.
        public var repositoryName: String? = nil

        /// Creates a remote.
        public init(
            url: URL, mirrors: [URL] = [], trustedKeys: [TrustedKey] = [], threshold: Int? = nil,
            repositoryName: String? = nil
        ) {
            self.url = url
            self.mirrors = mirrors
            self.trustedKeys = trustedKeys
            self.threshold = threshold
            self.repositoryName = repositoryName
        }

        /// The trust settings this remote gives a ``ModelConfig``.
        public var trust: TrustConfiguration {
            TrustConfiguration(keys: trustedKeys, threshold: threshold ?? 1, repositoryName: repositoryName)
        }
    }

    /// The format version this Haul reads and writes.
    public static let currentVersion = 1
    /// The largest file accepted (a config file is small; this bounds what a hostile one can cost). 1 MiB.
    public static let maximumBytes = 1 << 20

    /// The remote used when none is named. Default: nil.
    public var defaultRemote: String? = nil
    /// The remotes by name.
    public var remotes: [String: Remote] = [:]

    /// An empty configuration.
    public init(defaultRemote: String? = nil, remotes: [String: Remote] = [:]) {
        self.defaultRemote = defaultRemote
        self.remotes = remotes
    }

    /// The remote whose primary URL (or a mirror) is `url`, compared in normalized form (trailing slash, host case
    /// and default port do not matter).
    public func remote(matching url: String) -> (name: String, remote: Remote)? {
        guard let wanted = RepositoryIdentity.normalize(url) else { return nil }
        for name in remotes.keys.sorted() {
            let remote = remotes[name]!
            let urls = [remote.url] + remote.mirrors
            if urls.contains(where: { RepositoryIdentity.normalize($0.absoluteString) == wanted }) {
                return (name, remote)
            }
        }
        return nil
    }

    /// Checks a remote's name: 1 to 64 letters, digits, `.`, `_` or `-`, starting with a letter or digit.
    /// - Throws: ``HaulError`` `.invalidArgument` otherwise.
    public static func checkRemoteName(_ name: String) throws {
        let bytes = Array(name.utf8)
        func isAlphanumeric(_ b: UInt8) -> Bool {
            (0x30...0x39).contains(b) || (0x41...0x5A).contains(b) || (0x61...0x7A).contains(b)
        }
        guard (1...64).contains(bytes.count), isAlphanumeric(bytes[0]),
            bytes.allSatisfy({ isAlphanumeric($0) || $0 == 0x2E || $0 == 0x5F || $0 == 0x2D })
        else {
            throw HaulError(
                .invalidArgument,
                "\"\(UntrustedText.escaped(name, limit: 80))\" is not a valid remote name: use 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit.",
                context: ["remote": UntrustedText.escaped(name, limit: 80)])
        }
    }

    /// Checks a base URL for a configuration, the command line or the environment: ``OriginURL``'s rule (http or
    /// https, a host name or IP address, a port from 1 through 65535, no user name or password: credentials do not
    /// belong in a URL that is logged and stored in receipts; at most 8 KiB), and no query or fragment.
    /// - Throws: ``HaulError`` `.invalidArgument` naming `field` and what is wrong.
    public static func checkedURL(_ text: String, field: String) throws -> URL {
        let printable = UntrustedText.escaped(text, limit: 200)
        let url: URL
        do { url = try OriginURL.parse(text) } catch {
            let what: String
            switch error {
            case .userInfo: what = "the URL carries a user name or password; give the URL without them"
            case .notHTTP, .noHost:
                what = "\"\(printable)\" is not an http(s) URL, e.g. https://models.example.com/repo"
            default: what = "\"\(printable)\" is refused: \(error)"
            }
            throw HaulError(.invalidArgument, "\(field): \(what).", context: ["field": field])
        }
        guard url.query == nil, url.fragment == nil else {
            throw HaulError(
                .invalidArgument, "\(field): a repository base URL has no query or fragment (\"\(printable)\").",
                context: ["field": field])
        }
        return url
    }
}

extension ConfigFile {
    /// Where the configuration file lives: `$HAUL_CONFIG` when set; else `$XDG_CONFIG_HOME/haul/config.json` (an
    /// absolute `XDG_CONFIG_HOME` only) or `~/.config/haul/config.json` on Linux;
    /// `~/Library/Application Support/haul/config.json` on Apple platforms.
    public static func defaultPath(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let path = environment["HAUL_CONFIG"], !path.isEmpty { return path }
        #if canImport(Darwin)
            let support =
                FileManager.default.urls(for: .applicationSupportDirectory, in: .userDomainMask).first?.path
                ?? NSTemporaryDirectory()
            return "\(support)/haul/config.json"
        #else
            if let xdg = environment["XDG_CONFIG_HOME"], xdg.hasPrefix("/") { return "\(xdg)/haul/config.json" }
            let home = environment["HOME"] ?? NSHomeDirectory()
            return "\(home)/.config/haul/config.json"
        #endif
    }

    /// Reads the configuration at `path`; a missing file (or folder) is an empty configuration.
    /// - Throws: ``HaulError`` `.invalidArgument` naming the file and the field when it is not valid (see
    ///   ``parse(_:path:)``); `.fileSystem` when it exists but cannot be read (a symbolic link among them). A missing
    ///   file is not an error.
    public static func load(path: String) throws -> ConfigFile {
        let (folder, name) = split(path)
        guard FileSystem.isDirectory(folder) else { return ConfigFile() }
        let directory = try Directory.open(folder, create: false)
        guard let status = directory.status(name) else { return ConfigFile() }
        guard status.kind == .file else {
            throw HaulError(
                .fileSystem,
                "\(path) is not a regular file (a symbolic link or folder); Haul reads its configuration only from a regular file.",
                context: ["path": path])
        }
        return try parse(Data(try directory.read(name, limit: maximumBytes)), path: path)
    }

    /// Writes the configuration to `path` atomically (temporary file, fsync, rename, fsync the folder), mode 0600,
    /// creating its folder with mode 0700 when missing.
    /// - Throws: ``HaulError`` `.fileSystem` when the folder cannot be made or written, or `path` is a link.
    public func save(to path: String) throws {
        let (folder, name) = Self.split(path)
        try Self.makeFolder(folder)
        let directory = try Directory.open(folder, create: false)
        if let status = directory.status(name), status.kind != .file {
            throw HaulError(
                .fileSystem,
                "\(path) is not a regular file (a symbolic link or folder); Haul does not write through it.",
                context: ["path": path])
        }
        try directory.writeAtomically(try encoded(), to: name, permissions: [.ownerReadWrite])
    }

    /// Reads the file at `path`, lets `change` edit it and writes it back (``save(to:)``), holding an exclusive lock
    /// on `.<name>.lock` beside it meanwhile, so two edits at once (two `haul trust add`) both land.
    /// - Returns: what `change` returned.
    /// - Throws: what ``load(path:)``, `change` and ``save(to:)`` throw; ``HaulError`` `.timeout` when another edit
    ///   holds the lock for 10 seconds.
    public static func edit<R>(path: String, _ change: (inout ConfigFile) throws -> R) throws -> R {
        let (folder, name) = split(path)
        try makeFolder(folder)
        let lock = try Directory.open(folder, create: false).openFile(
            ".\(name).lock", .readWrite, options: [.create], permissions: [.ownerReadWrite])
        defer { try? lock.close() }
        let deadline = ContinuousClock.now.advanced(by: .seconds(10))
        while try !lock.tryLock() {
            guard ContinuousClock.now < deadline else {
                throw HaulError(
                    .timeout, "Another haul process has been editing \(path) for 10 seconds; retry when it is done.",
                    context: ["path": path])
            }
            usleep(10_000)
        }
        var file = try load(path: path)
        let result = try change(&file)
        try file.save(to: path)
        return result
    }

    /// The file's bytes: canonical JSON (sorted keys), pretty-printed for people, with a final newline.
    public func encoded() throws -> Data {
        var data = try CanonicalJSON.encode(Raw(self), pretty: true)
        data.append(0x0A)
        return data
    }

    /// Creates the configuration's folder with mode 0700 (its parents as usual) when it is missing.
    private static func makeFolder(_ folder: String) throws {
        guard !FileSystem.isDirectory(folder) else { return }
        try FileSystem.createDirectory((folder as NSString).deletingLastPathComponent)
        if mkdir(folder, 0o700) != 0, errno != EEXIST {
            throw HaulError.fileSystem("create folder", path: folder, Errno(rawValue: errno))
        }
    }

    private static func split(_ path: String) -> (folder: String, name: String) {
        let url = URL(fileURLWithPath: path)
        return (url.deletingLastPathComponent().path, url.lastPathComponent)
    }
}
