import Foundation
import HaulCore
import Synchronization

/// One blob being downloaded: its preallocated partial file, resume journal, and which chunks are verified.
final class BlobTransfer: Sendable {
    let digest: SHA256Digest
    let size: Int64
    let spans: [ChunkSpan]
    let partial: OpenFile
    let journal: ChunkJournal
    private let state: Mutex<State>

    private struct State {
        var verified: Set<Int>
        var committed = false
        var wholeFile = false
        var closed = false
        /// Each mirror's strong ETag for this blob, learnt from its first answer (origins have their own).
        var validators: [String: String] = [:]
    }

    /// Opens or resumes the partial file of `file` in `store`.
    /// - Returns: the transfer and the bytes already verified on disk.
    init(file: Manifest.File, store: ContentStore, discardPartial: Bool) throws {
        digest = file.sha256
        size = file.size
        spans = file.chunkSpans
        let partialPath = store.partialPath(digest)
        let journalPath = store.journalPath(digest)
        if discardPartial {
            try FileSystem.remove(partialPath)
            try FileSystem.remove(journalPath)
        }
        // A partial of the wrong size is reused in place, never removed: another process might be writing it (if a lock
        // lied), and only verified bytes are ever written, so its content can only be right or unclaimed.
        let fresh = FileSystem.fileSize(partialPath) != size
        partial = try OpenFile.open(
            partialPath, .readWrite, options: [.create], permissions: [.ownerReadWrite, .groupRead, .otherRead])
        do {
            if fresh {
                if try partial.size() > size { try partial.resize(to: size) }
                try partial.preallocate(size)
            }
            var verified = Set<Int>()
            if !fresh {
                let contents = try ChunkJournal.read(
                    path: journalPath, digest: digest, size: size, chunkCount: spans.count)
                verified = contents.confirmed.union(try Self.recheck(contents.unconfirmed, spans: spans, in: partial))
            }
            journal = try ChunkJournal.create(
                path: journalPath, partial: partial, digest: digest, size: size, chunkCount: spans.count,
                verified: verified)
            state = Mutex(State(verified: verified))
        } catch {
            try? partial.close()
            throw error
        }
    }

    /// Re-hashes chunks the journal recorded after its last checkpoint; returns those whose bytes match.
    private static func recheck(_ chunks: Set<Int>, spans: [ChunkSpan], in file: OpenFile) throws -> Set<Int> {
        var good = Set<Int>()
        guard let largest = chunks.map({ spans[$0].size }).max() else { return good }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: Int(largest), alignment: 64)
        defer { buffer.deallocate() }
        for chunk in chunks {
            let span = spans[chunk]
            let slice = UnsafeMutableRawBufferPointer(rebasing: buffer[..<Int(span.size)])
            guard try file.readFully(into: slice, at: span.offset) == slice.count else { continue }
            if SHA256Digest.of(buffer: UnsafeRawBufferPointer(slice)) == span.sha256 { good.insert(chunk) }
        }
        return good
    }

    var verifiedChunks: Set<Int> { state.withLock { $0.verified } }
    var verifiedBytes: Int64 { state.withLock { s in s.verified.reduce(0) { $0 + spans[$1].size } } }
    var isComplete: Bool { state.withLock { $0.verified.count == spans.count } }

    /// Records a verified chunk; returns false if it was already verified.
    func markVerified(_ chunk: Int) throws -> Bool {
        let inserted = state.withLock { $0.verified.insert(chunk).inserted }
        if inserted { try journal.record(chunk) }
        return inserted
    }

    /// The strong validator `mirror` gave for this blob, for `If-Range` on later requests.
    func validator(for mirror: String) -> String? { state.withLock { $0.validators[mirror] } }

    /// Records `etag` (if strong) as `mirror`'s validator; returns true when it replaced a different one (the file on
    /// that origin changed since the last answer).
    func learnValidator(_ etag: String?, from mirror: String) -> Bool {
        guard let etag, !etag.hasPrefix("W/") else { return false }
        return state.withLock { s in
            defer { s.validators[mirror] = etag }
            return s.validators[mirror].map { $0 != etag } ?? false
        }
    }

    /// Switches to whole-file requests (the origin ignores ranges); true only for the first caller.
    func switchToWholeFile() -> Bool {
        state.withLock { s in
            defer { s.wholeFile = true }
            return !s.wholeFile
        }
    }

    /// Commits the blob into the store once every chunk is verified; true for the one caller that commits.
    func commitIfComplete(into store: ContentStore) throws -> Bool {
        let shouldCommit = state.withLock { s -> Bool in
            guard s.verified.count == spans.count, !s.committed else { return false }
            s.committed = true
            return true
        }
        guard shouldCommit else { return false }
        try journal.checkpoint()
        journal.close()
        try store.commitBlob(partial, partialPath: store.partialPath(digest), digest: digest)
        try FileSystem.remove(store.journalPath(digest))
        return true
    }

    /// Closes the files (keeping them on disk for a resume).
    func close() {
        journal.close()
        let shouldClose = state.withLock { s -> Bool in
            defer { s.closed = true }
            return !s.closed
        }
        if shouldClose { try? partial.close() }
    }
}
