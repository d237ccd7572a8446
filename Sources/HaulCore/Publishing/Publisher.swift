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

        /// The defaults above.
        public init() {}
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
    }

    /// The repository folder.
    package let repository: RepositoryLayout
    /// Options.
    public let configuration: Configuration
    private let logger: Logger

    /// Creates a publisher for the repository at `repositoryPath` (created if needed).
    public init(
        repositoryPath: String, configuration: Configuration = .init(), logger: Logger = Logger(label: "haul.publish")
    ) {
        self.repository = RepositoryLayout(root: repositoryPath)
        self.configuration = configuration
        self.logger = logger
    }

    /// Publishes `source` (a file or a folder tree) as `name`@`version` and makes it the model's latest version.
    /// - Returns: what was written. Publishing identical content again is not an error: `unchanged` is true.
    /// Concurrent publishers of one repository (threads or processes) are serialized on the publish lock
    /// (``Configuration/lockTimeout``); each one's model ends up in the index.
    /// The repository's folders and files are opened without following links (``RepositoryLayout/openFolders(create:)``).
    /// - Throws: ``HaulError`` `.invalidArgument` for an unusable source or a version that exists with other
    ///   content, `.invalidRepositoryData` for an existing but malformed index, `.fileSystem` on I/O failure, for a
    ///   symlink inside the repository (at `.staging`, `blobs`, `manifests`, `index.json`…), or when another
    ///   publisher holds the lock past the timeout.
    public func publish(_ source: String, name: ModelName, version: ModelVersion, now: Date = Date()) throws -> Report {
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
        let manifestName = "\(digest.hex).json"
        if folders.manifests.fileSize(manifestName) != Int64(manifestData.count) {
            try folders.manifests.writeAtomically(manifestData, to: manifestName)
        }
        var index =
            try repository.loadIndex(in: folders.root) ?? RepositoryIndex(repository: repositoryName, expires: now)
        let entry = RepositoryIndex.VersionEntry(
            manifest: digest, manifestSize: Int64(manifestData.count), size: manifest.totalSize)
        if let existing = index.models[name.string]?.versions[version.string] {
            guard existing.manifest == digest else {
                throw HaulError(
                    .invalidArgument,
                    "\(name)@\(version) is already published with other content. Versions are immutable: publish under a new version.",
                    context: ["published": existing.manifest.hex, "new": digest.hex])
            }
            if index.models[name.string]?.latest == version {
                logger.debug("version already published", metadata: ["haul.model": "\(name)@\(version)"])
                return Report(
                    manifest: manifest, manifestDigest: digest, blobsWritten: written,
                    blobsReused: files.count - written,
                    indexVersion: index.version, unchanged: true)
            }
        }
        var model = index.models[name.string] ?? RepositoryIndex.Model(latest: version, versions: [:])
        model.versions[version.string] = entry
        model.latest = version
        index.models[name.string] = model
        try issue(&index, now: now)
        logger.debug(
            "published", metadata: ["haul.model": "\(name)@\(version)", "haul.index.version": "\(index.version)"])
        return Report(
            manifest: manifest, manifestDigest: digest, blobsWritten: written, blobsReused: files.count - written,
            indexVersion: index.version, unchanged: false)
    }

    private var repositoryName: String {
        configuration.repositoryName ?? (repository.root as NSString).lastPathComponent
    }
}
