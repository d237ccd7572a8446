import Foundation
import HaulCore

/// Advisory locks beside partial files, so two processes never write the same partial. Correctness does not
/// rest on them (NFS locks can lie): temp names, per-chunk verification and atomic rename keep the store right.
struct BlobLocks: Sendable {
    private let files: [OpenFile]

    /// Takes the lock of every digest in order (sorted, so two processes cannot deadlock), waiting for holders.
    static func acquire(_ digests: [SHA256Digest], in store: ContentStore, clock: any Clock<Duration>) async throws
        -> BlobLocks
    {
        var files: [OpenFile] = []
        do {
            for digest in digests {
                let file = try OpenFile.open(
                    store.lockPath(digest), .readWrite, options: [.create], permissions: [.ownerReadWrite])
                files.append(file)
                while try !file.tryLock() {
                    try await clock.sleep(for: .milliseconds(100))
                }
            }
        } catch {
            files.forEach { try? $0.close() }
            throw error
        }
        return BlobLocks(files: files)
    }

    /// Releases the locks (closing the files drops them).
    func release() { files.forEach { try? $0.close() } }
}
