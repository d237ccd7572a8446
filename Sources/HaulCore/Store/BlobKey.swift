import Crypto

extension Manifest.File {
    /// The name of this file's blob in the local store: the SHA-256 of its chunk table.
    ///
    /// A client verifies every chunk it accepts against the table, and SHA-256 chunk digests fix the bytes, so the
    /// table (not the file's `sha256` field, which nothing verifies while chunks arrive) is what the store can
    /// vouch for. Keying blobs by it means a manifest from another repository that claims a known `sha256` with a
    /// chunk table for other bytes gets another key: it can never make a later pull of the genuine file reuse its
    /// bytes. Identical content chunked by Haul's fixed chunker always has the same table, so sharing blobs across
    /// versions, models and repositories still works. Partial files and resume journals use the same key, so a
    /// resume can only ever continue under the very table it started with.
    ///
    /// The hashed text is `haul-blob-key 1\n<size>\n` then `<chunk sha256 hex> <chunk size>\n` per chunk.
    package var blobKey: SHA256Digest {
        var hasher = SHA256()
        hasher.update(data: Array("haul-blob-key 1\n\(size)\n".utf8))
        for chunk in chunks {
            hasher.update(data: Array("\(chunk.sha256.hex) \(chunk.size)\n".utf8))
        }
        return SHA256Digest(hasher.finalize())
    }
}
