package import Foundation

/// Which blobs the store may reuse without hashing them again.
///
/// When a blob is committed (its every chunk and its whole-file SHA-256 verified in that pull), the store writes
/// `blobs/verified/<key>`: the blob's device, inode, size, modification time and mode as `fstat` saw them after the
/// commit. A later pull reuses a blob without reading it only while its identity still matches that record. A file
/// planted under the blob's name has another inode (and no record); a blob rewritten in place has another
/// modification time. Either is *re-verified* before it is trusted (every chunk and the whole-file digest): kept
/// and recorded when its bytes are right, removed (the name only, never a link's other names) when they are not, so
/// the pull downloads it. A store from before these records re-verifies each blob once, on its first reuse.
///
/// The status-change time (`ctime`) is not part of the identity: every hard link made or removed (an install, `haul
/// rm`, `--local-dir`) moves it, so it would force hashing every shared blob after every install. The record lives
/// in the store, so it does not stop someone who can write the store and rewrites the record as well (they could
/// rewrite installed files just as well): `haul verify` re-hashes every installed file for that.
extension ContentStore {
    /// What a blob's record holds.
    package struct BlobIdentity: Sendable, Hashable {
        var device: UInt64
        var inode: UInt64
        var size: Int64
        var modified: Int64
        var owner: UInt32

        init(_ status: Directory.Status) {
            device = status.identity.device
            inode = status.identity.inode
            size = status.size
            modified = status.stamp.modified
            owner = status.owner
        }

        var line: String { "haul-blob 1 \(device) \(inode) \(size) \(modified) \(owner)\n" }

        /// Parses ``line``; nil for anything else (a damaged record only costs a re-verification).
        init?(line: String) {
            let parts = line.split(separator: " ", omittingEmptySubsequences: false)
            guard parts.count == 7, parts[0] == "haul-blob", parts[1] == "1", parts[6].last == "\n",
                let device = UInt64(parts[2]), let inode = UInt64(parts[3]), let size = Int64(parts[4]),
                let modified = Int64(parts[5]), let owner = UInt32(parts[6].dropLast())
            else { return nil }
            (self.device, self.inode, self.size, self.modified, self.owner) = (device, inode, size, modified, owner)
        }
    }

    /// Records the identity of the committed blob `key` (as it is now under its name), so later pulls reuse it.
    /// A record that cannot be written only costs a re-verification later.
    func recordBlob(_ key: SHA256Digest) {
        guard let blobs = try? folder(.blobs), let status = blobs.status(key.hex), status.kind == .file,
            let records = try? folder(.blobRecords)
        else { return }
        try? records.writeAtomically(Array(BlobIdentity(status).line.utf8), to: key.hex)
    }

    /// Whether the blob `key` of `size` bytes is present and is the very file a commit recorded (same inode, size,
    /// modification time and owner): reusable without reading it.
    package func hasBlob(_ key: SHA256Digest, size: Int64) -> Bool {
        guard let status = try? folder(.blobs).status(key.hex), status.kind == .file, status.size == size,
            status.owner == UInt32(geteuid()),
            let bytes = try? folder(.blobRecords).read(key.hex, limit: 256),
            let recorded = BlobIdentity(line: String(decoding: bytes, as: UTF8.self))
        else { return false }
        return recorded == BlobIdentity(status)
    }

    /// Whether the verified blob of `file` is present (see ``hasBlob(_:size:)``).
    package func hasBlob(_ file: Manifest.File) -> Bool { hasBlob(file.blobKey, size: file.size) }

    /// Whether the blob of `file` can be reused by a pull: recorded at its commit (``hasBlob(_:size:)``), or else
    /// re-verified now (every chunk and the whole-file digest). A blob that fails is removed, so it is downloaded.
    /// - Returns: false when there is no usable blob (the caller downloads it).
    /// - Throws: ``HaulError`` `.fileSystem` when a wrong blob cannot be removed.
    package func reusableBlob(_ file: Manifest.File) throws -> Bool {
        let key = file.blobKey
        if hasBlob(key, size: file.size) { return true }
        let blobs = try folder(.blobs)
        guard let status = blobs.status(key.hex) else { return false }
        var intact = false
        if status.kind == .file, status.size == file.size, status.owner == UInt32(geteuid()),
            let open = try? blobs.openFile(key.hex, .readOnly)
        {
            defer { try? open.close() }
            let check = try? Self.check(open, against: file)
            intact = check?.isIntact == true && (try? open.status().identity) == status.identity
        }
        if intact {
            recordBlob(key)
            return true
        }
        try blobs.remove(key.hex)
        try folder(.blobRecords).remove(key.hex)
        return false
    }
}
