import Foundation
import SystemPackage

/// The repository's publish lock: an exclusive advisory lock (`flock`) on `<repo>/.staging/lock`, held while a
/// publisher writes the manifest and reads, changes and replaces `index.json`, so concurrent publishers never lose
/// each other's models. The holder writes its process id into the file so a waiting publisher can say who holds it.
///
/// Blobs are written before the lock is taken: they are content-addressed, immutable and renamed into place
/// atomically, and no publisher deletes them, so two publishers writing the same blob is harmless. Each publisher
/// stages its temp files in its own `.staging/<uuid>/` folder and removes only that folder. The lock file itself is
/// never removed (removing it would let two publishers lock two different files).
struct PublishLock {
    private let file: OpenFile

    /// Takes the lock `lock` in the open `.staging` folder (never through a link), polling every 50 ms for at most
    /// `timeout`.
    /// - Throws: ``HaulError`` `.fileSystem` when another publisher still holds it after `timeout`, naming its
    ///   process id; `.fileSystem` when the lock file cannot be opened.
    static func acquire(in staging: Directory, timeout: Duration) throws -> PublishLock {
        let path = "\(staging.path)/lock"
        let file = try staging.openFile(
            "lock", .readWrite, options: [.create], permissions: [.ownerReadWrite, .groupRead])
        let deadline = ContinuousClock.now.advanced(by: timeout)
        do {
            while try !file.tryLock() {
                guard ContinuousClock.now < deadline else {
                    throw HaulError(
                        .fileSystem,
                        "Another publisher (\(holder(of: file))) has held the publish lock of \((staging.path as NSString).deletingLastPathComponent) for longer than \(timeout). Wait for it to finish and publish again; if no publisher is running, the lock is released with its process (the file \(path) may stay).",
                        context: ["path": path, "holder": holder(of: file)])
                }
                usleep(50_000)
            }
            let text = Data("pid \(getpid())\n".utf8)
            try file.resize(to: 0)
            try text.withUnsafeBytes { try file.write($0, at: 0) }
        } catch {
            try? file.close()
            throw error
        }
        return PublishLock(file: file)
    }

    /// Who holds the lock, as its file says ("pid 1234"), or "unknown process".
    private static func holder(of file: OpenFile) -> String {
        var buffer = [UInt8](repeating: 0, count: 64)
        let count = (try? buffer.withUnsafeMutableBytes { try file.readFully(into: $0, at: 0) }) ?? 0
        let text = String(decoding: buffer.prefix(count), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard text.hasPrefix("pid "), Int32(text.dropFirst(4)) != nil else { return "unknown process" }
        return text
    }

    /// Releases the lock (closing the file drops it).
    func release() { try? file.close() }
}
