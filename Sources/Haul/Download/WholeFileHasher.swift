import Crypto
import Dispatch
import HaulCore
import Synchronization

/// Computes a blob's whole-file SHA-256 in order, as the verified prefix of its partial file grows, off the pull's
/// critical path.
///
/// Chunks are verified in any order; whenever the run of verified chunks from the start grows, ``advance(to:)``
/// asks this hasher to read the new part back from the partial file (written moments ago, so from the page cache)
/// and feed it to one SHA-256. The reading and hashing run on a serial queue of this blob's own, on a pool shared
/// by all hashers (never a network thread, the cooperative pool or NIO's blocking pool), so at commit only the
/// tail that arrived last remains to hash (``finish(chunks:)``). A resumed download starts from chunk 0 again: the
/// prefix verified before is re-hashed from the partial file as soon as the blob is opened.
///
/// It reads through a descriptor of its own (a `dup` of the partial's), closed by ``close()`` after the queued
/// work, so a transfer closing the partial never pulls a file from under a read.
final class WholeFileHasher: Sendable {
    /// Bytes read back per step (small: several blobs may be hashed at once, and the peak memory of a pull is part
    /// of what it promises).
    static let readSize: Int64 = 1 << 20

    /// The pool every hasher's queue runs on.
    private static let pool = DispatchQueue(label: "haul.whole-file-hash", qos: .utility, attributes: .concurrent)

    private let queue: DispatchQueue
    private let file: OpenFile
    private let spans: [ChunkSpan]
    /// How many chunks from the start may be hashed (verified), and whether a drain is queued.
    private let target = Mutex<(chunks: Int, queued: Bool)>((0, false))
    /// The hash so far; touched only on ``queue``.
    private let progress: Mutex<Progress>

    private struct Progress {
        var hasher = SHA256()
        var hashed = 0
        var failure: HaulError?
        var closed = false
    }

    /// A hasher reading `partial` (duplicated: the caller keeps and closes its own descriptor).
    init(partial: OpenFile, spans: [ChunkSpan]) throws {
        file = try partial.duplicate()
        self.spans = spans
        queue = DispatchQueue(label: "haul.whole-file-hash.blob", target: Self.pool)
        progress = Mutex(Progress())
    }

    /// The first `chunks` chunks are verified on disk: hash them, in the background, if not done yet.
    func advance(to chunks: Int) {
        let schedule = target.withLock { t -> Bool in
            guard chunks > t.chunks else { return false }
            t.chunks = chunks
            defer { t.queued = true }
            return !t.queued
        }
        if schedule { queue.async { self.drain() } }
    }

    /// Hashes whatever the target allows (runs on ``queue``).
    private func drain() {
        while true {
            let goal = target.withLock { t -> Int? in
                let done = progress.withLock { $0.hashed }
                guard t.chunks > done else {
                    t.queued = false
                    return nil
                }
                return t.chunks
            }
            guard let goal else { return }
            hash(upTo: goal)
        }
    }

    /// Hashes chunks from the last hashed one up to `goal` (exclusive), in reads of up to ``readSize``.
    private func hash(upTo goal: Int) {
        progress.withLock { p in
            guard !p.closed, p.failure == nil, p.hashed < goal else { return }
            let start = spans[p.hashed].offset
            let end = spans[goal - 1].end
            let buffer = UnsafeMutableRawBufferPointer.allocate(
                byteCount: Int(min(Self.readSize, end - start)), alignment: 64)
            defer { buffer.deallocate() }
            var offset = start
            do {
                while offset < end {
                    let slice = UnsafeMutableRawBufferPointer(
                        rebasing: buffer[..<Int(min(Int64(buffer.count), end - offset))])
                    let read = try file.readFully(into: slice, at: offset)
                    guard read == slice.count else {
                        throw HaulError(.fileSystem, "The partial file \(file.path) ended early while hashing it.")
                    }
                    p.hasher.update(bufferPointer: UnsafeRawBufferPointer(slice))
                    offset += Int64(read)
                }
                p.hashed = goal
            } catch {
                p.failure = HaulError.fileSystem("read back", path: file.path, error)
            }
        }
    }

    /// The whole-file SHA-256 once all `chunks` are verified: waits for the queued work, hashes the tail, and
    /// returns the digest. Blocks: call it off the network threads (the commit runs on the blocking pool).
    /// - Throws: ``HaulError`` `.fileSystem` when reading the partial file back failed.
    func finish(chunks: Int) throws -> HaulCore.SHA256Digest {
        advance(to: chunks)
        return try queue.sync {
            drain()
            return try progress.withLock { p in
                if let failure = p.failure { throw failure }
                return SHA256Digest(p.hasher.finalize())
            }
        }
    }

    /// Stops hashing and closes the hasher's descriptor, after any work already queued.
    func close() {
        queue.async {
            self.progress.withLock { p in
                guard !p.closed else { return }
                p.closed = true
                try? self.file.close()
            }
        }
    }
}
