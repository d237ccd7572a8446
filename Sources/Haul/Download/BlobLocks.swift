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

/// Takes blob locks, waiting for other processes that hold them.
///
/// Polls every 100 ms on the injected clock. When it has to wait, it logs who holds the lock (the holder writes
/// its pid into the lock file). It waits as long as the holder makes progress (its journal grows) and gives up with
/// `.timeout` after ``TransferConfiguration/lockTimeout`` without any.
struct BlobLockWaiter: Sendable {
    let clock: any Clock<Duration>
    let timeout: Duration
    let logger: Logger

    /// A short pause while another connection of this process opens the same blob.
    func pause() async throws { try await clock.sleep(for: .milliseconds(10)) }

    /// Takes the lock of blob `key`.
    /// - Throws: ``HaulError`` `.timeout` naming the holder when it made no progress for ``timeout``; `.cancelled`.
    func acquire(_ key: SHA256Digest, in store: ContentStore) async throws -> BlobLock {
        let folder = try store.folder(.partial)
        let file = try folder.openFile(ContentStore.lockName(key), .readWrite, options: [.create])
        do {
            var waited = Duration.zero
            var stillFor = Duration.zero
            var progress = folder.status(ContentStore.journalName(key))?.size
            while try !file.tryLock() {
                if waited == .zero {
                    logger.info(
                        "waiting for another process downloading the same blob",
                        metadata: ["haul.blob": "\(key.hex.prefix(12))", "haul.holder": "\(ContentStore.holder(of: file))"])
                }
                try await clock.sleep(for: .milliseconds(100))
                waited += .milliseconds(100)
                stillFor += .milliseconds(100)
                let now = folder.status(ContentStore.journalName(key))?.size
                if now != progress {
                    progress = now
                    stillFor = .zero
                }
                guard stillFor < timeout else {
                    throw HaulError(
                        .timeout,
                        "Another process holds the download of blob \(key.hex.prefix(12)) (\(ContentStore.holder(of: file))) and made no progress for \(timeout). If it is stuck, stop it and retry.",
                        context: ["path": "\(folder.path)/\(ContentStore.lockName(key))"])
                }
            }
            ContentStore.describeHolder(in: file, purpose: "pulling")
            return BlobLock(file: file)
        } catch {
            try? file.close()
            throw error
        }
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
