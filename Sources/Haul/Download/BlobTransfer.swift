import Foundation
import HaulCore
import Synchronization

/// One blob being downloaded: which chunks are verified, and (only while a connection works on it) its open partial
/// file, resume journal and download lock.
///
/// Files are opened lazily by ``begin(store:locks:meter:)`` and closed once the blob is committed and no connection
/// uses it, so a model of 10,000 files holds descriptors only for the few blobs in flight.
final class BlobTransfer: Sendable {
    /// SHA-256 of the whole file: its name on the origin, checked before the blob is committed.
    let digest: SHA256Digest
    /// The whole-file digest the chunk table already fixes (a file of one chunk or none), so nothing is hashed twice.
    let impliedDigest: SHA256Digest?
    /// A path of the file in the manifest, for messages.
    let path: RelativePath
    /// SHA-256 of its chunk table: its name in the store (``Manifest/File/blobKey``).
    let key: SHA256Digest
    let size: Int64
    let spans: [ChunkSpan]
    /// A repair: the blob in the store is damaged, so its presence does not count and the commit replaces it.
    let replacing: Bool
    private let state: Mutex<State>

    /// The files open while connections work on the blob.
    struct Handles: Sendable {
        let partial: OpenFile
        /// None for a blob of one chunk: it is verified and committed at once, so there is nothing to resume.
        let journal: ChunkJournal?
        let lock: BlobLock
        /// The whole-file SHA-256 of the verified prefix; none when the chunk table implies it.
        let hasher: WholeFileHasher?
    }

    private struct State {
        var verified: Set<Int>
        /// How many chunks from the start are all verified (what the whole-file hasher may read).
        var prefix = 0
        var committed = false
        /// Chunks being written into the partial file right now (``beginWrite(_:)``): the commit waits for them.
        var writing = 0
        var wholeFile = false
        var handles: Handles?
        var opening = false
        var users = 0
        /// When another process was first seen holding the blob, and its journal's size then.
        var busy: (since: Duration, progress: Int64)?
        /// Each mirror's strong ETag for this blob, learnt from its first answer (origins have their own).
        var validators: [String: String] = [:]
    }

    /// Prepares the transfer of `file`, reading what an earlier, interrupted pull verified (no file stays open).
    init(file: Manifest.File, store: ContentStore, discardPartial: Bool, replacing: Bool = false) throws {
        self.replacing = replacing
        digest = file.sha256
        impliedDigest = file.impliedSHA256
        path = file.path
        key = file.blobKey
        size = file.size
        spans = file.chunkSpans
        let partial = try store.folder(.partial)
        if discardPartial {
            try partial.remove(ContentStore.partialName(key))
            try partial.remove(ContentStore.journalName(key))
        }
        state = Mutex(State(verified: try Self.verifiedOnDisk(in: partial, key: key, size: size, spans: spans)))
    }

    /// The chunks an earlier pull verified: those its journal vouches for, plus unconfirmed ones whose bytes still
    /// hash right. None when the partial file is not resumable (``isResumable(_:size:)``).
    private static func verifiedOnDisk(in folder: Directory, key: SHA256Digest, size: Int64, spans: [ChunkSpan])
        throws -> Set<Int>
    {
        guard isResumable(folder.status(ContentStore.partialName(key)), size: size), size > 0 else { return [] }
        let contents = try ChunkJournal.read(
            in: folder, name: ContentStore.journalName(key), key: key, size: size, chunkCount: spans.count)
        guard !contents.unconfirmed.isEmpty else { return contents.confirmed }
        let file = try folder.openFile(ContentStore.partialName(key), .readOnly)
        defer { try? file.close() }
        return contents.confirmed.union(try recheck(contents.unconfirmed, spans: spans, in: file))
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

    /// Whether an existing partial file may be resumed: a regular file of the blob's size with one name, owned by
    /// this user. Anything else (a hard link to a file outside the store, someone else's file) is discarded
    /// unread and unwritten, and the blob starts fresh. A pure decision, table-tested.
    static func isResumable(_ status: Directory.Status?, size: Int64) -> Bool {
        guard let status else { return false }
        return status.isPrivateFile && status.size == size
    }

    var verifiedChunks: Set<Int> { state.withLock { $0.verified } }
    var verifiedBytes: Int64 { state.withLock { s in s.verified.reduce(0) { $0 + spans[$1].size } } }
    var isComplete: Bool { state.withLock { $0.verified.count == spans.count } }
    var isCommitted: Bool { state.withLock { $0.committed } }

    /// The open partial file and journal, while a connection uses the blob.
    var handles: Handles? { state.withLock { $0.handles } }

    /// The open partial file; only between ``begin(store:locks:meter:)`` and ``end()``.
    var partial: OpenFile {
        get throws {
            guard let handles else {
                throw HaulError(.fileSystem, "The partial file of blob \(key.hex.prefix(12)) is not open.")
            }
            return handles.partial
        }
    }

    /// What ``begin(store:locks:meter:)`` found.
    enum Access {
        /// The blob's files are open for this caller: use the partial file, then call ``end()``.
        case open(OpenFile)
        /// The blob is committed (here or by another process): nothing to do.
        case done
        /// Another process holds the blob's lock (it is downloading it): work on something else and try later.
        case busy
    }

    /// Starts using the blob: opens its files (taking its download lock) unless a connection already did.
    /// - Throws: ``HaulError`` `.timeout` when another process has held the blob for
    ///   ``TransferConfiguration/lockTimeout`` without progress; file-system errors.
    func begin(store: ContentStore, locks: BlobLockWaiter, meter: ProgressMeter) async throws -> Access {
        while true {
            enum Step { case use(OpenFile), done, open, wait }
            let step = state.withLock { s -> Step in
                if s.committed { return .done }
                if let handles = s.handles {
                    s.users += 1
                    return .use(handles.partial)
                }
                if s.opening { return .wait }
                s.opening = true
                return .open
            }
            switch step {
            case .use(let partial): return .open(partial)
            case .done: return .done
            case .wait: try await locks.pause()
            case .open:
                do {
                    guard let lock = try locks.tryAcquire(key, in: store) else {
                        state.withLock { $0.opening = false }
                        try noteBusy(store: store, locks: locks)
                        return .busy
                    }
                    try open(store: store, lock: lock, meter: meter)
                } catch {
                    state.withLock { $0.opening = false }
                    throw error
                }
            }
        }
    }

    /// Records that another process holds the blob; throws once it has made no progress for the lock timeout.
    private func noteBusy(store: ContentStore, locks: BlobLockWaiter) throws {
        let now = locks.elapsed()
        let progress = (try? store.folder(.partial))?.status(ContentStore.journalName(key))?.size ?? -1
        let (first, still) = state.withLock { s -> (Bool, Duration) in
            guard let busy = s.busy, busy.progress == progress else {
                defer { s.busy = (now, progress) }
                return (s.busy == nil, .zero)
            }
            return (false, now - busy.since)
        }
        if first {
            locks.logger.info(
                "another process is downloading this blob; working on others meanwhile",
                metadata: ["haul.blob": "\(key.hex.prefix(12))", "haul.holder": "\(locks.holder(of: key, in: store))"])
        }
        guard still < locks.timeout else {
            throw HaulError(
                .timeout,
                "Another process holds the download of blob \(key.hex.prefix(12)) (\(locks.holder(of: key, in: store))) and made no progress for \(locks.timeout). If it is stuck, stop it and retry.",
                context: ["path": "\(store.root)/partial/\(ContentStore.lockName(key))"])
        }
    }

    /// Opens (or resumes) the partial file and journal under `lock`; marks the blob committed when another
    /// process committed it meanwhile. Chunks another process verified meanwhile count as verified in `meter`.
    private func open(store: ContentStore, lock: BlobLock, meter: ProgressMeter) throws {
        do {
            let before = verifiedBytes
            if !replacing, store.hasBlob(key, size: size) {
                lock.release()
                state.withLock {
                    $0.verified = Set(spans.indices)
                    $0.committed = true
                    $0.opening = false
                }
                meter.verified.add(size - before, ordering: .relaxed)
                return
            }
            let folder = try store.folder(.partial)
            let handles = try openFiles(in: folder)
            let hasher: WholeFileHasher?
            do {
                hasher = impliedDigest == nil ? try WholeFileHasher(partial: handles.partial, spans: spans) : nil
            } catch {
                handles.journal?.close()
                try? handles.partial.close()
                throw error
            }
            let prefix = state.withLock { s -> Int in
                s.verified.formUnion(handles.verified)
                s.handles = Handles(partial: handles.partial, journal: handles.journal, lock: lock, hasher: hasher)
                s.opening = false
                while s.prefix < spans.count, s.verified.contains(s.prefix) { s.prefix += 1 }
                return s.prefix
            }
            // A resume re-hashes the prefix verified before, in the background.
            hasher?.advance(to: prefix)
            meter.verified.add(verifiedBytes - before, ordering: .relaxed)
        } catch {
            lock.release()
            throw error
        }
    }

    private func openFiles(in folder: Directory) throws -> (
        partial: OpenFile, journal: ChunkJournal?, verified: Set<Int>
    ) {
        let (partial, fresh) = try openPartial(in: folder)
        do {
            let verified = fresh ? [] : try Self.verifiedOnDisk(in: folder, key: key, size: size, spans: spans)
            if fresh { try partial.preallocate(size) }
            let journal =
                spans.count <= 1
                ? nil
                : try ChunkJournal.create(
                    in: folder, name: ContentStore.journalName(key), partial: partial, key: key, size: size,
                    chunkCount: spans.count, verified: verified)
            return (partial, journal, verified)
        } catch {
            try? partial.close()
            throw error
        }
    }

    /// Opens the partial file to resume it when it is resumable (checked again on the open descriptor, so nothing
    /// swapped in between is used), else removes whatever has its name (a link is unlinked, never followed or
    /// written) and creates a fresh one (`O_CREAT | O_EXCL`, no link followed).
    /// - Returns: the open file, and whether it is fresh.
    private func openPartial(in folder: Directory) throws -> (OpenFile, Bool) {
        let name = ContentStore.partialName(key)
        if Self.isResumable(folder.status(name), size: size) {
            let file = try folder.openFile(name, .readWrite)
            if Self.isResumable(try? file.status(), size: size) { return (file, false) }
            try? file.close()
        }
        if !state.withLock({ $0.verified.isEmpty }) {
            throw HaulError(
                .fileSystem,
                "The partial file \(folder.path)/\(name) was replaced while the pull started; run the pull again.",
                context: ["path": "\(folder.path)/\(name)"])
        }
        try folder.remove(name)
        try folder.remove(ContentStore.journalName(key))
        let file = try folder.openFile(
            name, .readWrite, options: [.create, .exclusiveCreate],
            permissions: [.ownerReadWrite, .groupRead, .otherRead])
        return (file, true)
    }

    /// Stops using the blob; the last user of a committed blob closes its files and drops its lock.
    func end() {
        let closing = state.withLock { s -> Handles? in
            s.users -= 1
            guard s.users == 0, s.committed, let handles = s.handles else { return nil }
            s.handles = nil
            return handles
        }
        if let closing { Self.close(closing) }
    }

    /// Claims the writing of the verified chunk `chunk` into the partial file; false when there is nothing to
    /// write (it is verified already, or the blob is committed: its inode is the blob now, and installed models
    /// are hard links to it, so it is never written again). Call ``markVerified(_:)`` then ``endWrite()`` after.
    func beginWrite(_ chunk: Int) -> Bool {
        state.withLock { s in
            guard !s.committed, !s.verified.contains(chunk) else { return false }
            s.writing += 1
            return true
        }
    }

    /// Ends a write claimed by ``beginWrite(_:)``.
    func endWrite() { state.withLock { $0.writing -= 1 } }

    /// Records a verified chunk; returns false if it was already verified.
    func markVerified(_ chunk: Int) throws -> Bool {
        let (inserted, handles, prefix) = state.withLock { s -> (Bool, Handles?, Int?) in
            let inserted = s.verified.insert(chunk).inserted
            let before = s.prefix
            while s.prefix < spans.count, s.verified.contains(s.prefix) { s.prefix += 1 }
            return (inserted, s.handles, s.prefix > before ? s.prefix : nil)
        }
        if inserted { try handles?.journal?.record(chunk) }
        if let prefix { handles?.hasher?.advance(to: prefix) }
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
    /// Call between ``begin(store:locks:meter:)`` and ``end()``.
    func commitIfComplete(into store: ContentStore) throws -> Bool {
        let handles = state.withLock { s -> Handles? in
            // A write still under way commits at its own settle (every worker settles after its piece).
            guard s.verified.count == spans.count, !s.committed, s.writing == 0, let handles = s.handles else {
                return nil
            }
            s.committed = true
            return handles
        }
        guard let handles else { return false }
        let whole = try impliedDigest ?? handles.hasher?.finish(chunks: spans.count) ?? SHA256Digest.of([UInt8]())
        guard whole == digest else {
            try refuseInconsistent(whole: whole, handles: handles, store: store)
        }
        try handles.journal?.checkpoint()
        handles.journal?.close()
        try store.commitBlob(handles.partial, key: key, replacing: replacing)
        if handles.journal != nil { try store.folder(.partial).remove(ContentStore.journalName(key)) }
        return true
    }

    /// Every chunk matched the manifest's chunk table, but the bytes do not hash to its whole-file `sha256`: the
    /// manifest contradicts itself. Nothing is committed; the partial file and journal are removed (another pull
    /// of the same table would fail the same way).
    private func refuseInconsistent(whole: SHA256Digest, handles: Handles, store: ContentStore) throws -> Never {
        handles.journal?.close()
        let partial = try? store.folder(.partial)
        try? partial?.remove(ContentStore.partialName(key))
        try? partial?.remove(ContentStore.journalName(key))
        throw HaulError(
            .digestMismatch,
            "The repository is inconsistent: its manifest says \(UntrustedText.escaped(path.string)) has SHA-256 \(digest.hex), but the bytes its chunk table names (every chunk verified) hash to \(whole.hex). Nothing was installed; ask the repository's publisher to republish the model.",
            context: ["path": path.string, "expected": digest.hex, "actual": whole.hex], transient: false)
    }

    /// Makes the verified chunks durable (the supervisor's checkpoint); nothing when no file is open.
    func checkpoint() throws { try handles?.journal?.checkpoint() }

    /// Starts the kernel's writeback of the partial file, when open.
    func startWriteback() { handles?.partial.startWriteback() }

    /// Closes whatever is still open (keeping the files on disk for a resume) and drops the lock.
    func close() {
        let closing = state.withLock { s -> Handles? in
            defer { s.handles = nil }
            return s.handles
        }
        if let closing { Self.close(closing) }
    }

    private static func close(_ handles: Handles) {
        handles.hasher?.close()
        handles.journal?.close()
        try? handles.partial.close()
        handles.lock.release()
    }
}
