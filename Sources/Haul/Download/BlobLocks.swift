import Foundation
import HaulCore
import Logging
import Synchronization

/// One blob's download lock (`partial/<key>.lock`), held while this process works on that blob. Two processes never
/// write one partial file at once; correctness does not rest on it (NFS locks can lie): only verified bytes are
/// written, and blobs are committed by descriptor.
final class BlobLock: Sendable {
    private let file: OpenFile
    private let released = Mutex(false)

    init(file: OpenFile) { self.file = file }

    /// Drops the lock (closing the file drops it); later calls do nothing.
    func release() {
        let first = released.withLock { done -> Bool in
            defer { done = true }
            return !done
        }
        if first { try? file.close() }
    }
}

/// Takes blob locks without ever blocking a connection on another process.
///
/// A connection that finds a blob locked by another process (which is downloading it) postpones that piece and
/// works on others; the blob is tried again later, and once the other process has committed it, it is reused. A
/// holder that makes no progress (its journal does not grow) for ``TransferConfiguration/lockTimeout`` fails the
/// pull with `.timeout`, naming the holder (its pid, written in the lock file).
struct BlobLockWaiter: Sendable {
    let clock: any Clock<Duration>
    let timeout: Duration
    let logger: Logger
    /// Time since this waiter was made (the transfer's start), on the injected clock.
    let elapsed: @Sendable () -> Duration

    init(clock: any Clock<Duration>, timeout: Duration, logger: Logger) {
        self.clock = clock
        self.timeout = timeout
        self.logger = logger
        self.elapsed = clock.stopwatch()
    }

    /// A short pause while another connection of this process opens the same blob.
    func pause() async throws { try await clock.sleep(for: .milliseconds(10)) }

    /// Takes the lock of blob `key`, or returns nil at once when another process holds it.
    ///
    /// A garbage collection removes a lock file only while holding it; a lock taken on a file that was removed
    /// meanwhile protects nothing, so after locking, the file must still be the one named `<key>.lock` (else the
    /// new file is tried).
    func tryAcquire(_ key: SHA256Digest, in store: ContentStore) throws -> BlobLock? {
        let folder = try store.folder(.partial)
        let name = ContentStore.lockName(key)
        for _ in 0..<8 {
            let file = try folder.openFile(name, .readWrite, options: [.create])
            do {
                guard try file.tryLock() else {
                    try? file.close()
                    return nil
                }
                guard try file.identity() == folder.status(name)?.identity else {
                    try? file.close()
                    continue
                }
                ContentStore.describeHolder(in: file, purpose: "pulling")
                return BlobLock(file: file)
            } catch {
                try? file.close()
                throw error
            }
        }
        return nil
    }

    /// Who holds the lock of blob `key`, for messages.
    func holder(of key: SHA256Digest, in store: ContentStore) -> String {
        guard let file = try? store.folder(.partial).openFile(ContentStore.lockName(key), .readOnly) else {
            return "holder unknown"
        }
        defer { try? file.close() }
        return ContentStore.holder(of: file)
    }

    /// Pins what a pull relies on, so that garbage collection (in any process) keeps it; waits (bounded by
    /// ``ContentStore/collectionLockTimeout``) while a collection runs.
    func pin(blobs: [SHA256Digest], manifest: SHA256Digest, in store: ContentStore) async throws -> BlobPin {
        var waited = Duration.zero
        while true {
            if let pin = try store.tryPin(blobs: blobs, manifest: manifest) { return pin }
            guard waited < ContentStore.collectionLockTimeout else {
                throw HaulError(
                    .timeout,
                    "The store \(store.root) stayed locked by a garbage collection for \(ContentStore.collectionLockTimeout). If a `haul rm` is stuck, stop it and retry.",
                    context: ["path": "\(store.root)/locks/store.lock"])
            }
            try await clock.sleep(for: .milliseconds(20))
            waited += .milliseconds(20)
        }
    }
}
