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

    /// Creates the repository's folders.
    package func createFolders() throws {
        for folder in ["manifests/sha256", "blobs/sha256", ".staging"] {
            try FileSystem.createDirectory("\(root)/\(folder)")
        }
    }

    /// The current index, or nil for a new repository.
    /// - Throws: ``HaulError`` `.invalidRepositoryData` for a malformed index.
    package func loadIndex() throws -> RepositoryIndex? { try loadSignedIndex()?.1 }

    /// Reads `index.json` with its envelope (whose signatures say whether the repository is signed today), or nil
    /// when the repository has none yet.
    package func loadSignedIndex() throws -> (SignedEnvelope, RepositoryIndex)? {
        guard FileSystem.exists(indexPath) else { return nil }
        return try SignedEnvelope.decodeIndex(try FileSystem.read(indexPath, limit: FormatLimits().maximumIndexBytes))
    }

    /// Replaces `index.json` atomically.
    package func writeIndex(_ envelope: SignedEnvelope) throws {
        try FileSystem.writeAtomically(try CanonicalJSON.encode(envelope, pretty: true), to: indexPath)
    }
}
