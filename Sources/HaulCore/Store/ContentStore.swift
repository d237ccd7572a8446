public import Foundation
import SystemPackage

/// The local, content-addressed store of downloaded models.
///
/// ```
/// <root>/
///   blobs/sha256/<hex>                 verified file contents, read-only, one per distinct content
///   manifests/sha256/<hex>.json        manifests of installed versions
///   partial/<hex>.partial              a blob being downloaded (preallocated, written in place)
///   partial/<hex>.journal              chunks of the partial already verified (resume across restarts)
///   partial/<hex>.lock                 held by the process downloading that blob
///   staging/<uuid>/                    a model folder being assembled, renamed into models/ when complete
///   models/<name>/<version>/<path…>    installed models: hard links to blobs (copies across volumes)
///   receipts/<name>/<version>.json     proof of a complete install: manifest digest, repository, time
/// ```
/// A file appears under `blobs/` only after its bytes were verified, and a model appears under `models/` only
/// once all its files are there: nothing half-written is ever visible under a final name.
public struct ContentStore: Sendable {
    /// The store's root folder.
    public let root: String

    /// Opens (and creates if needed) a store at `root`.
    /// - Throws: ``HaulError`` `.fileSystem` when the folders cannot be created.
    public init(root: String) throws {
        self.root = (root as NSString).standardizingPath
        for folder in [
            "blobs/sha256", "manifests/sha256", "partial", "staging", "models", "receipts", "state/repositories",
        ] {
            let path = "\(self.root)/\(folder)"
            try FileSystem.createDirectory(path)
            // The store never follows a symlink out of its root.
            guard FileSystem.isDirectory(path) else {
                throw HaulError(
                    .fileSystem,
                    "\(path) is a symlink or not a folder; the store only uses plain folders inside its root.",
                    context: ["path": path])
            }
        }
    }

    /// Where the verified blob with `digest` lives.
    public func blobPath(_ digest: SHA256Digest) -> String { "\(root)/blobs/sha256/\(digest.hex)" }
    /// Where an installed manifest lives.
    public func manifestPath(_ digest: SHA256Digest) -> String { "\(root)/manifests/sha256/\(digest.hex).json" }
    /// The partial file of a blob being downloaded.
    public func partialPath(_ digest: SHA256Digest) -> String { "\(root)/partial/\(digest.hex).partial" }
    /// The resume journal beside a partial file.
    public func journalPath(_ digest: SHA256Digest) -> String { "\(root)/partial/\(digest.hex).journal" }
    /// The lock file beside a partial file.
    public func lockPath(_ digest: SHA256Digest) -> String { "\(root)/partial/\(digest.hex).lock" }
    /// The folder holding an installed model version's files.
    public func modelPath(_ name: ModelName, _ version: ModelVersion) -> String { "\(root)/models/\(name)/\(version)" }
    /// The receipt of an installed model version.
    public func receiptPath(_ name: ModelName, _ version: ModelVersion) -> String {
        "\(root)/receipts/\(name)/\(version).json"
    }

    /// Whether a verified blob of `size` bytes is present.
    public func hasBlob(_ digest: SHA256Digest, size: Int64) -> Bool {
        FileSystem.fileSize(blobPath(digest)) == size
    }

    /// Moves a fully verified partial file into `blobs/` (read-only, fsynced, atomic).
    /// - Throws: ``HaulError`` `.fileSystem` when it cannot be committed.
    public func commitBlob(from partial: String, digest: SHA256Digest) throws {
        let file = try OpenFile.open(partial, .readWrite)
        defer { try? file.close() }
        try commitBlob(file, partialPath: partial, digest: digest)
    }

    /// Commits the open, fully verified partial `file` as the blob `digest`.
    ///
    /// The blob name is given to *this* inode (by descriptor where the platform allows), so even if another process
    /// replaced the partial's path meanwhile, only the bytes this process verified become the blob. A blob that
    /// appeared meanwhile is kept (it was verified by whoever committed it).
    public func commitBlob(_ file: OpenFile, partialPath partial: String, digest: SHA256Digest) throws {
        try file.sync()
        if fchmod(file.descriptor.rawValue, 0o444) != 0 {
            throw HaulError.fileSystem("chmod", path: partial, Errno(rawValue: errno))
        }
        let blob = blobPath(digest)
        if !FileSystem.exists(blob) {
            do {
                if try !file.link(to: blob) {
                    guard FileSystem.refersTo(partial, file) else {
                        throw HaulError(
                            .fileSystem,
                            "The partial file \(partial) was replaced by another process; retry the download.",
                            context: ["path": partial])
                    }
                    try FileSystem.rename(partial, to: blob)
                }
            } catch let error as HaulError where FileSystem.exists(blob) {
                _ = error  // another process committed the same verified content first
            }
        }
        if FileSystem.refersTo(partial, file) { try FileSystem.remove(partial) }
        try FileSystem.syncDirectory("\(root)/blobs/sha256")
    }

    /// Stores a manifest's exact bytes under its digest.
    public func storeManifest(_ data: Data, digest: SHA256Digest) throws {
        let path = manifestPath(digest)
        if FileSystem.fileSize(path) == Int64(data.count) { return }
        try FileSystem.writeAtomically(data, to: path)
    }

    /// Reads and validates an installed manifest.
    /// - Throws: ``HaulError`` `.notInstalled` if absent, `.digestMismatch` if the bytes changed on disk.
    public func loadManifest(_ digest: SHA256Digest) throws -> Manifest {
        let path = manifestPath(digest)
        guard FileSystem.isRegularFile(path) else {
            throw HaulError(
                .notInstalled, "The manifest \(digest) is not in the store at \(root).", context: ["path": path])
        }
        let data = try FileSystem.read(path, limit: FormatLimits().maximumManifestBytes)
        guard SHA256Digest.of(data) == digest else {
            throw HaulError(
                .digestMismatch, "The stored manifest \(path) was modified. Run `haul verify` and pull again.",
                context: ["path": path])
        }
        return try Manifest.decode(data)
    }
}

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif
