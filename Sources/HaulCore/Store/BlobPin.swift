import Foundation
import Synchronization

/// A running pull's claim on the blobs and manifest it relies on: garbage collection keeps what a live pin names
/// (see ``ContentStore/collectGarbage()`` for the store's locks). Release it when the pull ends; a pin whose
/// process died is recognised as stale and removed by the next collection.
package final class BlobPin: Sendable {
    private let file: OpenFile
    private let name: String
    private let folder: Directory
    private let released = Mutex(false)

    init(file: OpenFile, name: String, folder: Directory) {
        self.file = file
        self.name = name
        self.folder = folder
    }

    /// Drops the pin (removes its file, then lets go of its lock). Later calls do nothing.
    package func release() {
        let first = released.withLock { done -> Bool in
            defer { done = true }
            return !done
        }
        guard first else { return }
        try? folder.remove(name)
        try? file.close()
    }
}

extension ContentStore {
    /// Registers a pin on `blobs` and `manifest` for a running pull, under the store lock (shared).
    /// - Returns: nil when a garbage collection holds the store lock right now: try again shortly.
    /// - Throws: ``HaulError`` `.fileSystem` when the pin cannot be written.
    package func tryPin(blobs: some Sequence<SHA256Digest>, manifest: SHA256Digest?) throws -> BlobPin? {
        let storeLock = try folder(.locks).openFile("store.lock", .readWrite, options: [.create])
        defer { try? storeLock.close() }
        guard try storeLock.tryLock(shared: true) else { return nil }
        let pins = try folder(.pins)
        let name = "\(UUID().uuidString).pin"
        let file = try pins.openFile(name, .readWrite, options: [.create, .exclusiveCreate])
        do {
            guard try file.tryLock() else {
                throw HaulError(.fileSystem, "Could not lock the new pin \(pins.path)/\(name).")
            }
            var text = "haul-pin 1 pid \(ProcessInfo.processInfo.processIdentifier)\n"
            if let manifest { text += "manifest \(manifest.hex)\n" }
            for key in blobs { text += "blob \(key.hex)\n" }
            try Array(text.utf8).withUnsafeBytes { try file.write($0, at: 0) }
        } catch {
            try? pins.remove(name)
            try? file.close()
            throw error
        }
        return BlobPin(file: file, name: name, folder: pins)
    }

    /// What live pins name (blob keys and manifest digests, in hex); removes pins whose owner is gone.
    /// Call with the store lock held exclusively.
    func pinned() throws -> (blobs: Set<String>, manifests: Set<String>) {
        var blobs = Set<String>(), manifests = Set<String>()
        let pins = try folder(.pins)
        for name in pins.entries() {
            guard let file = try? pins.openFile(name, .readWrite) else {
                try pins.remove(name)  // not a regular file: not ours
                continue
            }
            defer { try? file.close() }
            if try file.tryLock() {
                try pins.remove(name)  // its owner died; nothing can register a pin while we hold the store lock
                continue
            }
            let text = String(decoding: try pins.read(name, limit: 64 << 20), as: UTF8.self)
            for line in text.split(separator: "\n") {
                let parts = line.split(separator: " ")
                guard parts.count == 2 else { continue }
                if parts[0] == "blob" { blobs.insert(String(parts[1])) }
                if parts[0] == "manifest" { manifests.insert(String(parts[1])) }
            }
        }
        return (blobs, manifests)
    }
}
