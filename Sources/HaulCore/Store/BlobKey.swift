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

extension Manifest.File {
    /// The whole-file SHA-256 that the chunk table alone already fixes, when it does: the digest of no bytes for an
    /// empty file, the only chunk's digest for a file of one chunk (validation makes the chunks tile the file, so
    /// that chunk covers it). Nil for a file of several chunks, whose whole digest must be computed from its bytes.
    package var impliedSHA256: SHA256Digest? {
        switch chunks.count {
        case 0: SHA256Digest.of([UInt8]())
        case 1 where chunks[0].size == size: chunks[0].sha256
        default: nil
        }
    }

    /// Whether a chunk table of 0 or 1 chunks contradicts the manifest's whole-file `sha256` (nil: it takes the
    /// bytes to tell). A pure decision over the manifest entry.
    package var contradictsImpliedSHA256: Bool? { impliedSHA256.map { $0 != sha256 } }
}
