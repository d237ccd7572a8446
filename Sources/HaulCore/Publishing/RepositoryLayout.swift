import Foundation

/// The files of a Haul repository on disk, as `haul publish` writes them and any web server serves them.
///
/// ```
/// <repo>/
///   index.json                    the only mutable file: a SignedEnvelope around the RepositoryIndex
///   manifests/sha256/<hex>.json   one per model version, immutable
///   blobs/sha256/<hex>            file contents, immutable
///   .staging/lock                 the publish lock (see PublishLock; do not upload .staging/)
///   .staging/<uuid>/              one publisher's temp files, while it runs
/// ```
package struct RepositoryLayout: Sendable {
    /// The repository folder.
    package let root: String

    /// A layout rooted at `root`.
    package init(root: String) { self.root = (root as NSString).standardizingPath }

    /// URL path of the index relative to the repository base.
    package static let indexPath = "index.json"
    /// URL path of a manifest relative to the repository base.
    package static func manifestPath(_ digest: SHA256Digest) -> String { "manifests/sha256/\(digest.hex).json" }
    /// URL path of a blob relative to the repository base.
    package static func blobPath(_ digest: SHA256Digest) -> String { "blobs/sha256/\(digest.hex)" }

    /// `index.json` on disk.
    package var indexPath: String { "\(root)/\(Self.indexPath)" }
    /// A manifest on disk.
    package func manifestPath(_ digest: SHA256Digest) -> String { "\(root)/\(Self.manifestPath(digest))" }
    /// A blob on disk.
    package func blobPath(_ digest: SHA256Digest) -> String { "\(root)/\(Self.blobPath(digest))" }
    /// Holds the publish lock and each publisher's staging folder.
    package var stagingPath: String { "\(root)/.staging" }

    /// The repository's folders, open: every file the publisher writes is reached from these descriptors.
    package struct Folders: Sendable {
        /// The repository folder (reached by path: the user's choice).
        package let root: Directory
        /// `blobs/sha256`.
        package let blobs: Directory
        /// `manifests/sha256`.
        package let manifests: Directory
        /// `.staging`.
        package let staging: Directory
    }

    /// Creates and opens the repository's folders. Only `root` is reached by path; every folder below it is opened
    /// (and made) one component at a time without following a link (``Directory``), so a symlink planted at
    /// `.staging`, `blobs`, `blobs/sha256`, `manifests` or `manifests/sha256` is refused, never written through.
    /// - Throws: ``HaulError`` `.fileSystem` naming the link (or non-folder) in the way.
    package func openFolders(create: Bool = true) throws -> Folders {
        let root = try Directory.open(self.root, create: create)
        return Folders(
            root: root, blobs: try root.folder("blobs/sha256", create: create),
            manifests: try root.folder("manifests/sha256", create: create),
            staging: try root.folder(".staging", create: create))
    }

    /// Creates the repository's folders (refusing links in the way, as ``openFolders(create:)``).
    package func createFolders() throws { _ = try openFolders() }

    /// The current index, or nil for a new repository. `index.json` is opened without following a link.
    /// - Throws: ``HaulError`` `.invalidRepositoryData` for a malformed index; `.fileSystem` when `index.json` is a
    ///   link or unreadable.
    package func loadIndex() throws -> RepositoryIndex? { try loadSignedIndex()?.1 }

    /// `index.json` with its envelope (whose signatures say whether the repository is signed today), or nil when
    /// the repository has none yet; opened as ``loadIndex()`` opens it.
    package func loadSignedIndex() throws -> (SignedEnvelope, RepositoryIndex)? {
        guard FileSystem.isDirectory(root) || FileSystem.exists(root) else { return nil }
        return try loadSignedIndex(in: Directory.open(root, create: false))
    }

    /// The current index in the open repository folder `folder`, or nil for a new repository.
    package func loadIndex(in folder: Directory) throws -> RepositoryIndex? { try loadSignedIndex(in: folder)?.1 }

    /// The current index with its envelope in the open repository folder `folder`, or nil for a new repository.
    package func loadSignedIndex(in folder: Directory) throws -> (SignedEnvelope, RepositoryIndex)? {
        guard folder.status(Self.indexPath) != nil else { return nil }
        let bytes = try folder.read(Self.indexPath, limit: FormatLimits().maximumIndexBytes)
        return try SignedEnvelope.decodeIndex(Data(bytes))
    }

    /// Replaces `index.json` atomically (a new file beside it renamed over it: a link there is replaced, never
    /// followed).
    package func writeIndex(_ envelope: SignedEnvelope) throws {
        try Directory.open(root, create: true).writeAtomically(
            try CanonicalJSON.encode(envelope, pretty: true), to: Self.indexPath)
    }
}
