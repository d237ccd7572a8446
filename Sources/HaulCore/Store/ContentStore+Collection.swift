package import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Store-level concurrency: which lock protects what.
///
/// - `partial/<key>.lock` (exclusive, per blob): one process at a time writes a blob's partial file and journal and
///   commits it. Taken by a pull for as long as it works on that blob.
/// - `locks/pins/<id>.pin` (exclusive, held by its owner for a whole pull): the blobs and manifest that pull
///   relies on, listed inside. Garbage collection keeps everything a live pin names; a pin whose owner died (its
///   lock can be taken) is stale and removed.
/// - `locks/store.lock`: exclusive for one garbage collection (deleting blobs and manifests), shared while a pin
///   is being registered. So a collection either ran wholly before a pin existed (the pull then finds the blob
///   missing and downloads it) or sees the pin (and keeps what it names): deleting never breaks a pull, in this
///   process or another.
extension ContentStore {
    /// The longest a collection waits for pulls registering pins to let go of the store lock. Registering takes
    /// milliseconds, so running into this means a process is stuck holding it.
    package static let collectionLockTimeout: Duration = .seconds(30)

    /// Removes blobs and manifests that no installed version and no running pull uses, stale staging folders,
    /// abandoned partial downloads (older than ``abandonedPartialAge``) and leftover lock files.
    ///
    /// - Returns: bytes freed (blobs and abandoned partials).
    /// - Throws: as ``collect(partialAge:)``.
    @discardableResult
    package func collectGarbage() throws -> Int64 { try collect().freedBytes }

    /// Removes blobs and manifests that no installed version and no running pull uses, stale staging folders,
    /// partial downloads no pull holds or pins whose files were last written `partialAge` ago or earlier, and
    /// lock files no process holds.
    ///
    /// Holds `locks/store.lock` exclusively while it decides and deletes (see the discussion of the store's locks).
    /// - Returns: what was removed.
    /// - Throws: ``HaulError`` `.timeout` naming the holder when the store lock stays taken for
    ///   ``collectionLockTimeout``; `.fileSystem` on I/O errors. Keeping every blob because an installed manifest
    ///   cannot be read is not an error.
    @discardableResult
    package func collect(partialAge: Duration = abandonedPartialAge) throws -> CollectionReport {
        try withExclusiveStoreLock(purpose: "collecting garbage") {
            var report = CollectionReport()
            var (liveBlobs, liveManifests) = try pinned()
            try collectPartials(maximumAge: partialAge, pinned: liveBlobs, into: &report)
            var everyManifestRead = true
            for receipt in try recordedModels() {
                liveManifests.insert(receipt.manifest.hex)
                do {
                    for file in try loadManifest(receipt.manifest).files { liveBlobs.insert(file.blobKey.hex) }
                } catch {
                    // An installed version whose manifest cannot be read: which blobs it uses is unknown; keep all.
                    everyManifestRead = false
                }
            }
            let blobs = try folder(.blobs)
            for name in blobs.entries() where everyManifestRead && !liveBlobs.contains(name) {
                guard !Self.isFreshTemporary(name, blobs.status(name)) else { continue }
                report.blobs += 1
                report.blobBytes += blobs.status(name)?.size ?? 0
                try blobs.remove(name)
            }
            let records = try folder(.blobRecords)
            for name in records.entries() where blobs.status(name) == nil {
                guard !Self.isFreshTemporary(name, records.status(name)) else { continue }
                try records.remove(name)
            }
            let manifests = try folder(.manifests)
            for name in manifests.entries() where !liveManifests.contains(String(name.prefix(64))) {
                guard !Self.isFreshTemporary(name, manifests.status(name)) else { continue }
                try manifests.remove(name)
            }
            try removeStaleStaging()
            return report
        }
    }

    /// A temporary name (`.…`: a manifest being written, a repaired blob about to replace a damaged one) made in the
    /// last hour: it may belong to an operation running right now, so a collection leaves it.
    static func isFreshTemporary(_ name: String, _ status: Directory.Status?) -> Bool {
        name.hasPrefix(".") && (status?.modified ?? .max) >= Int64(Date().timeIntervalSince1970) - 3600
    }

    /// Staging folders of a crashed install; a fresh one may belong to an install running right now.
    private func removeStaleStaging() throws {
        let staging = try folder(.staging)
        let cutoff = Int64(Date().timeIntervalSince1970) - 3600
        for name in staging.entries() where (staging.status(name)?.modified ?? .max) < cutoff {
            try staging.remove(name)
        }
    }

    /// Runs `body` holding `locks/store.lock` exclusively, waiting (bounded) for pin registrations to finish.
    package func withExclusiveStoreLock<R>(purpose: String, _ body: () throws -> R) throws -> R {
        try withExclusiveLock("store.lock", purpose: purpose, timeout: Self.collectionLockTimeout, body)
    }

    /// Runs `body` holding the lock file `locks/<name>` exclusively, waiting at most `timeout` for its holder.
    /// - Throws: ``HaulError`` `.timeout` naming the holder (pid and purpose) when it stays taken.
    package func withExclusiveLock<R>(_ name: String, purpose: String, timeout: Duration, _ body: () throws -> R)
        throws -> R
    {
        let file = try folder(.locks).openFile(name, .readWrite, options: [.create])
        defer { try? file.close() }
        let deadline = ContinuousClock.now.advanced(by: timeout)
        while try !file.tryLock() {
            guard ContinuousClock.now < deadline else {
                throw HaulError(
                    .timeout,
                    "\(root)/locks/\(name) stayed locked for \(timeout) (\(Self.holder(of: file))). If that process is stuck, stop it and retry.",
                    context: ["path": "\(root)/locks/\(name)"])
            }
            usleep(10_000)
        }
        Self.describeHolder(in: file, purpose: purpose)
        return try body()
    }

    /// What a lock file says of its holder (written by whoever took it), for messages.
    package static func holder(of file: OpenFile) -> String {
        var buffer = [UInt8](repeating: 0, count: 256)
        let count = (try? buffer.withUnsafeMutableBytes { try file.readFully(into: $0, at: 0) }) ?? 0
        let text = String(decoding: buffer.prefix(count), as: UTF8.self)
            .filter { !$0.isNewline && $0.asciiValue.map { $0 >= 0x20 && $0 < 0x7F } ?? false }
        return text.isEmpty ? "holder unknown" : "held by \(text)"
    }

    /// Writes who holds a lock file (pid and purpose) into it, for ``holder(of:)``.
    package static func describeHolder(in file: OpenFile, purpose: String) {
        let text = "pid \(getpid()) \(purpose)\n"
        try? file.resize(to: 0)
        try? Array(text.utf8).withUnsafeBytes { try file.write($0, at: 0) }
    }
}
