import Foundation
import HaulCore
import Synchronization

/// What a person (or another program) could see in a store, checked against the source files of the only model
/// published: every file under `blobs/` holds exactly the bytes of one source file, and an installed version is
/// complete and exact. The reliability tests run it after every kill and every fault.
package final class StoreAudit: Sendable {
    private let sourceDigests: [String: SHA256Digest]
    /// Digests by (device, inode, size, modification time): blobs are immutable and installed files hard-link them.
    private let cache = Mutex<[String: SHA256Digest]>([:])

    /// An audit against the files under `source` (a model folder as published).
    package init(source: String) throws {
        var digests: [String: SHA256Digest] = [:]
        for (path, data) in try filesUnder(source) { digests[path] = SHA256Digest.of(data) }
        sourceDigests = digests
    }

    /// Everything wrong in `store` for `model` version `version`; empty when nothing wrong is visible.
    package func problems(store: String, model: String, version: String = "1") throws -> [String] {
        var problems: [String] = []
        let good = Set(sourceDigests.values)
        let blobs = "\(store)/blobs/table-sha256"
        for name in FileSystem.contents(of: blobs).sorted() {
            guard let digest = try digest("\(blobs)/\(name)") else {
                problems.append("blobs/table-sha256/\(name) is not a regular file")
                continue
            }
            if !good.contains(digest) { problems.append("blobs/table-sha256/\(name) holds bytes of no source file") }
        }
        let installed = "\(store)/models/\(model)/\(version)"
        guard FileSystem.exists(installed) || FileSystem.isDirectory(installed) else { return problems }
        let files = try relativeFiles(installed)
        if Set(files) != Set(sourceDigests.keys) {
            problems.append(
                "models/\(model)/\(version) has files \(files.sorted()), not \(sourceDigests.keys.sorted())")
        }
        for file in files where sourceDigests[file] != nil {
            if try digest("\(installed)/\(file)") != sourceDigests[file] {
                problems.append("models/\(model)/\(version)/\(file) has wrong bytes")
            }
        }
        return problems
    }

    /// Whether `model`@`version` is installed (its folder exists).
    package static func isInstalled(store: String, model: String, version: String = "1") -> Bool {
        FileSystem.isDirectory("\(store)/models/\(model)/\(version)")
    }

    private func digest(_ path: String) throws -> SHA256Digest? {
        var info = stat()
        guard lstat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return nil }
        #if canImport(Darwin)
            let modified = info.st_mtimespec
        #else
            let modified = info.st_mtim
        #endif
        let key = "\(info.st_dev):\(info.st_ino):\(info.st_size):\(modified.tv_sec):\(modified.tv_nsec)"
        if let known = cache.withLock({ $0[key] }) { return known }
        let digest = SHA256Digest.of(try Data(contentsOf: URL(fileURLWithPath: path)))
        cache.withLock { $0[key] = digest }
        return digest
    }

    private func relativeFiles(_ folder: String) throws -> [String] {
        guard let walker = FileManager.default.enumerator(atPath: folder) else { return [] }
        var out: [String] = []
        while let relative = walker.nextObject() as? String {
            var info = stat()
            if lstat("\(folder)/\(relative)", &info) == 0, (info.st_mode & S_IFMT) != S_IFDIR { out.append(relative) }
        }
        return out
    }
}
