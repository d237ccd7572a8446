import Crypto
public import Foundation
public import Logging

/// Turns a folder (or one file) of model files into a version in a Haul repository.
///
/// Each file is read once: the whole-file SHA-256, the content-defined chunk table and the blob copy are made
/// in the same streaming pass with a fixed 4 MiB buffer. Blobs already present are reused (dedup across versions
/// and models); the manifest is written next; `index.json` is replaced last, atomically.
public struct Publisher: Sendable {
    /// Publishing options.
    public struct Configuration: Sendable {
        /// How long the new index stays valid before clients refuse it. Default: 7 days.
        public var expiresAfter: Duration = .seconds(7 * 24 * 3600)
        /// Name written into a new repository's index. Default: the repository folder's name.
        public var repositoryName: String? = nil
        /// Read buffer size. Default: 4 MiB.
        public var bufferSize: Int = 4 << 20
        /// Keys that sign the index. Default: none (an unsigned index, accepted only by clients told to).
        public var signingKeys: [SigningKey] = []
        /// Keys to name in the index for clients to trust from now on (key rotation). Default: nil (no change).
        package var trust: TrustPolicy? = nil
        /// Longest wait for another publisher of the same repository to release the publish lock (it is held only
        /// while the manifest and index are written, normally milliseconds). Default: 2 minutes.
        public var lockTimeout: Duration = .seconds(120)
        /// Which version becomes the model's latest. Default: ``LatestPolicy/byVersionOrder``.
        public var latest: LatestPolicy = .byVersionOrder
        /// Write an unsigned index over one that is signed today. Default: false: refused, because every client
        /// that trusts the repository's keys would then refuse the index (`haul publish --unsigned`).
        public var allowDroppingSignatures: Bool = false

        /// The defaults above.
        public init() {}
    }

    /// Which version a publish makes the model's latest (the one `pull name` installs).
    public enum LatestPolicy: Sendable, Hashable {
        /// The highest by ``VersionOrder``: SemVer precedence, else publish order. `haul publish` without flags.
        case byVersionOrder
        /// The published version, whatever its label (`haul publish --latest`).
        case always
        /// The current latest stays (`haul publish --no-latest`); a model's first version is still its latest.
        case never

        /// The latest after publishing `published` when `current` was latest (nil: a new model).
        public func latest(current: ModelVersion?, published: ModelVersion) -> ModelVersion {
            switch self {
            case .byVersionOrder: return VersionOrder.latest(current: current, published: published)
            case .always: return published
            case .never: return current ?? published
            }
        }
    }

    /// What a publish did.
    public struct Report: Sendable {
        /// The manifest of the published version.
        public var manifest: Manifest
        /// Its digest.
        public var manifestDigest: SHA256Digest
        /// Blobs newly written.
        public var blobsWritten: Int
        /// Blobs that were already in the repository.
        public var blobsReused: Int
        /// The index version after publishing.
        public var indexVersion: Int64
        /// True when this exact version was already published: nothing changed.
        public var unchanged: Bool
        /// The model's latest version after this publish (the published one, unless a higher one exists or
        /// ``Configuration/latest`` kept another).
        public var latest: ModelVersion
    }

    /// The repository folder.
    package let repository: RepositoryLayout
    /// Options.
    public let configuration: Configuration
    private let logger: Logger

    /// Creates a publisher for the repository at `repositoryPath` (created if needed), logging to `logger` (by
    /// default nowhere: a library never logs through the process's global handler unasked).
    public init(
        repositoryPath: String, configuration: Configuration = .init(),
        logger: Logger = Logger(label: "haul.publish", factory: { _ in SwiftLogNoOpLogHandler() })
    ) {
        self.repository = RepositoryLayout(root: repositoryPath)
        self.configuration = configuration
        self.logger = logger
    }

    /// Publishes `source` (a file or a folder tree) as `name`@`version`; the model's latest version is then chosen by
    /// ``Configuration/latest``.
    /// - Returns: what was written. Publishing identical content again is not an error: `unchanged` is true.
    /// Concurrent publishers of one repository (threads or processes) are serialized on the publish lock
    /// (``Configuration/lockTimeout``); each one's model ends up in the index.
    /// - Throws: ``HaulError`` `.invalidArgument` for an unusable source or a version that exists with other
    ///   content, `.invalidRepositoryData` for an existing but malformed index, `.fileSystem` on I/O failure, for a
    ///   symlink inside the repository (at `.staging`, `blobs`, `manifests`, `index.json`…), or when another
    ///   publisher holds the lock past the timeout; `.invalidArgument` when no signing key is configured for a
    ///   repository whose index is signed today (unless ``Configuration/allowDroppingSignatures``).
    /// The repository's folders and files are opened without following links
    /// (``RepositoryLayout/openFolders(create:)``); a version refused as conflicting writes no manifest.
    public func publish(_ source: String, name: ModelName, version: ModelVersion, now: Date = Date()) throws -> Report {
        // Checked again under the lock; this early look writes nothing into a repository that would refuse.
        try checkSignatures(try repository.loadSignedIndex()?.0)
        let sources = try Self.enumerate(source)
        let folders = try repository.openFolders()
        let stagingName = UUID().uuidString
        let staging = try folders.staging.folder(stagingName, create: true)
        defer { try? folders.staging.remove(stagingName) }
        var files: [Manifest.File] = []
        var written = 0
        for (path, absolute) in sources {
            let (file, isNew) = try publishFile(at: absolute, as: path, staging: staging, blobs: folders.blobs)
            files.append(file)
            if isNew { written += 1 }
        }
        let manifest = Manifest(name: name, version: version, files: files)
        try manifest.validate()
        let manifestData = try manifest.encoded()
        let digest = SHA256Digest.of(manifestData)
        let lock = try PublishLock.acquire(in: folders.staging, timeout: configuration.lockTimeout)
        defer { lock.release() }
        let (indexVersion, unchanged, latest) = try record(
            name, version, manifest: manifestData, digest: digest, size: manifest.totalSize, in: folders, now: now)
        return Report(
            manifest: manifest, manifestDigest: digest, blobsWritten: written, blobsReused: files.count - written,
            indexVersion: indexVersion, unchanged: unchanged, latest: latest)
    }

    /// Writes the manifest and adds `name`@`version` to the index (holding the publish lock), choosing the latest
    /// version by ``Configuration/latest``; an identical version whose latest does not change leaves the index as it
    /// is, and a conflicting version writes nothing.
    /// - Returns: the index version after it, whether nothing changed, and the model's latest version.
    private func record(
        _ name: ModelName, _ version: ModelVersion, manifest manifestData: Data, digest: SHA256Digest, size: Int64,
        in folders: RepositoryLayout.Folders, now: Date
    ) throws -> (indexVersion: Int64, unchanged: Bool, latest: ModelVersion) {
        let loaded = try repository.loadSignedIndex(in: folders.root)
        try checkSignatures(loaded?.0)
        var index = loaded?.1 ?? RepositoryIndex(repository: repositoryName, expires: now)
        let entry = RepositoryIndex.VersionEntry(manifest: digest, manifestSize: Int64(manifestData.count), size: size)
        let existing = index.models[name.string]?.versions[version.string]
        if let existing, existing.manifest != entry.manifest {
            throw HaulError(
                .invalidArgument,
                "\(name)@\(version) is already published with other content. Versions are immutable: publish under a new version.",
                context: ["published": existing.manifest.hex, "new": entry.manifest.hex])
        }
        let manifestName = "\(digest.hex).json"
        if folders.manifests.fileSize(manifestName) != Int64(manifestData.count) {
            try folders.manifests.writeAtomically(manifestData, to: manifestName)
        }
        let current = index.models[name.string]?.latest
        let latest = configuration.latest.latest(current: current, published: version)
        if existing != nil, latest == current {
            logger.debug("version already published", metadata: ["haul.model": "\(name)@\(version)"])
            return (index.version, true, latest)
        }
        var model = index.models[name.string] ?? RepositoryIndex.Model(latest: version, versions: [:])
        model.versions[version.string] = entry
        model.latest = latest
        index.models[name.string] = model
        try issue(&index, now: now)
        logger.debug(
            "published", metadata: ["haul.model": "\(name)@\(version)", "haul.index.version": "\(index.version)"])
        return (index.version, false, latest)
    }

    private var repositoryName: String {
        configuration.repositoryName ?? (repository.root as NSString).lastPathComponent
    }
}
