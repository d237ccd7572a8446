package import Foundation
import SystemPackage

/// The local, content-addressed store of downloaded models.
///
/// ```
/// <root>/
///   blobs/table-sha256/<key>           verified file contents, read-only, named by the SHA-256 of their chunk
///                                      table (``Manifest/File/blobKey``), one per distinct content
///   blobs/verified/<key>               the blob's identity (inode, size, mtime) recorded at its commit: a blob
///                                      that no longer matches it is re-verified before reuse (+BlobRecord)
///   manifests/sha256/<hex>.json        manifests of installed versions, named by the SHA-256 of their bytes
///   partial/<key>.partial              a blob being downloaded (preallocated, written in place)
///   partial/<key>.journal              chunks of the partial already verified (resume across restarts)
///   partial/<key>.lock                 held by the process downloading that blob
///   staging/<uuid>/                    a model folder being assembled, renamed into models/ when complete
///   models/<name>/<version>/<path…>    installed models: hard links to blobs (copies across volumes)
///   receipts/<name>/<version>.json     proof of a complete install: manifest digest, repository, time
///   locks/store.lock                   exclusive while garbage is collected; shared while a pin is registered
///   locks/pins/<id>.pin                held by a running pull: the blobs it needs, which collection keeps
/// ```
/// A file appears under `blobs/` only after its bytes were verified, and a model appears under `models/` only
/// once all its files are there: nothing half-written is ever visible under a final name.
///
/// Only `root` itself is reached by path. Everything below it is opened relative to folder descriptors without
/// following symlinks (``Directory``), so a link planted anywhere inside the store can neither be written through
/// nor make Haul read, rename or delete anything outside it.
package struct ContentStore: Sendable {
    /// The store's root folder.
    package let root: String
    /// The root folder, open: every path below it is reached from this descriptor.
    package let directory: Directory

    /// The store's folders, relative to its root.
    package enum Folder: String, CaseIterable, Sendable {
        case blobs = "blobs/table-sha256"
        case blobRecords = "blobs/verified"
        case manifests = "manifests/sha256"
        case partial, staging, models, receipts, locks
        case pins = "locks/pins"
        case repositoryState = "state/repositories"
    }

    /// Opens (and creates if needed) a store at `root`.
    /// - Throws: ``HaulError`` `.fileSystem` when the folders cannot be created, or one of them is a symlink.
    package init(root: String) throws {
        self.root = (root as NSString).standardizingPath
        self.directory = try Directory.open(self.root, create: true)
        for folder in Folder.allCases { _ = try directory.folder(folder.rawValue, create: true) }
    }

    /// One of the store's folders, opened without following links.
    package func folder(_ folder: Folder) throws -> Directory { try directory.folder(folder.rawValue, create: true) }

    /// Where the verified blob with `key` lives (for people and tests; the store itself never opens it by path).
    package func blobPath(_ key: SHA256Digest) -> String { "\(root)/\(Folder.blobs.rawValue)/\(key.hex)" }
    /// The folder holding every verified blob.
    package var blobFolderPath: String { "\(root)/\(Folder.blobs.rawValue)" }
    /// Where an installed manifest lives.
    package func manifestPath(_ digest: SHA256Digest) -> String { "\(root)/manifests/sha256/\(digest.hex).json" }
    /// The partial file of a blob being downloaded.
    package func partialPath(_ key: SHA256Digest) -> String { "\(root)/partial/\(Self.partialName(key))" }
    /// The resume journal beside a partial file.
    package func journalPath(_ key: SHA256Digest) -> String { "\(root)/partial/\(Self.journalName(key))" }
    /// The folder holding an installed model version's files.
    package func modelPath(_ name: ModelName, _ version: ModelVersion) -> String { "\(root)/models/\(name)/\(version)" }
    /// The receipt of an installed model version.
    package func receiptPath(_ name: ModelName, _ version: ModelVersion) -> String {
        "\(root)/receipts/\(name)/\(version).json"
    }

    /// The name of a blob's partial file in `partial/`.
    package static func partialName(_ key: SHA256Digest) -> String { "\(key.hex).partial" }
    /// The name of a blob's resume journal in `partial/`.
    package static func journalName(_ key: SHA256Digest) -> String { "\(key.hex).journal" }
    /// The name of a blob's download lock in `partial/`.
    package static func lockName(_ key: SHA256Digest) -> String { "\(key.hex).lock" }

    /// Commits the open, fully verified partial `file` as the blob `key`: fsync, read-only, then linked into
    /// `blobs/` by descriptor, and its identity recorded (``hasBlob(_:size:)``; the folder itself is fsynced by the
    /// install that uses it).
    ///
    /// The blob name is given to *this* inode (by descriptor where the platform allows), so even if another process
    /// replaced the partial's name meanwhile, only the bytes this process verified become the blob. A blob that
    /// another process committed meanwhile is kept when its record vouches for it; anything else under the blob's
    /// name (a planted file, a link, a blob changed since its commit) is atomically replaced by this one. With
    /// `replacing` (a repair), the new blob always replaces whatever has the name.
    /// - Throws: ``HaulError`` `.fileSystem` when it cannot be committed.
    package func commitBlob(_ file: OpenFile, key: SHA256Digest, replacing: Bool = false) throws {
        try file.sync()
        if fchmod(file.descriptor.rawValue, 0o444) != 0 {
            throw HaulError.fileSystem("chmod", path: file.path, Errno(rawValue: errno))
        }
        let blobs = try folder(.blobs)
        let partial = try folder(.partial)
        let size = try file.size()
        let identity = try file.identity()
        let partialIsOurs = { partial.status(Self.partialName(key))?.identity == identity }
        let existing = blobs.status(key.hex)
        if existing != nil, !replacing, hasBlob(key, size: size) {
            // Another process committed the same verified content first.
        } else if existing == nil, (try? file.link(into: blobs, as: key.hex)) == true {
            recordBlob(key)
        } else if existing == nil, !replacing, hasBlob(key, size: size) {
            // Another process committed it between our look and our link.
        } else {
            let temp = ".\(key.hex).replacing-\(String(UInt64.random(in: 0...UInt64.max), radix: 16))"
            if try file.link(into: blobs, as: temp) {
                try blobs.rename(temp, to: key.hex, in: blobs)
            } else {
                guard partialIsOurs() else {
                    throw HaulError(
                        .fileSystem,
                        "The partial file \(file.path) was replaced by another process; retry the download.",
                        context: ["path": file.path])
                }
                try partial.rename(Self.partialName(key), to: key.hex, in: blobs)
            }
            recordBlob(key)
        }
        if partialIsOurs() { try partial.remove(Self.partialName(key)) }
        // The folder is fsynced once, by ``install(_:manifestData:manifestDigest:repository:now:)``, before the
        // receipt: a link lost to a power cut before then only costs downloading that blob again.
    }

    /// Commits the fully verified partial file `partial/<key>.partial` as the blob `key` (see
    /// ``commitBlob(_:key:replacing:)``).
    package func commitBlob(partialOf key: SHA256Digest) throws {
        let file = try folder(.partial).openFile(Self.partialName(key), .readWrite)
        defer { try? file.close() }
        try commitBlob(file, key: key)
    }

    /// Stores a manifest's exact bytes under its digest.
    package func storeManifest(_ data: Data, digest: SHA256Digest) throws {
        let manifests = try folder(.manifests)
        if manifests.fileSize("\(digest.hex).json") == Int64(data.count) { return }
        try manifests.writeAtomically(data, to: "\(digest.hex).json")
    }

    /// Reads and validates an installed manifest.
    /// - Throws: ``HaulError`` `.notInstalled` if absent, `.digestMismatch` if the bytes changed on disk.
    package func loadManifest(_ digest: SHA256Digest) throws -> Manifest {
        let manifests = try folder(.manifests)
        let name = "\(digest.hex).json"
        guard manifests.status(name)?.kind == .file else {
            throw HaulError(
                .notInstalled, "The manifest \(digest) is not in the store at \(root).",
                context: ["path": manifestPath(digest)])
        }
        let data = Data(try manifests.read(name, limit: FormatLimits().maximumManifestBytes))
        guard SHA256Digest.of(data) == digest else {
            throw HaulError(
                .digestMismatch,
                "The stored manifest \(manifestPath(digest)) was modified. Run `haul verify --repair` or pull again.",
                context: ["path": manifestPath(digest)])
        }
        return try Manifest.decode(data)
    }
}
