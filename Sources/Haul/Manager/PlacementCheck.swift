import Crypto
import Foundation
import HaulCore

/// The dry run of `--local-dir` placement: which of a version's files would meet other content in the destination
/// folder. It runs before any byte is fetched, so a pull that cannot place its files downloads nothing.
///
/// Nothing in the destination is followed: each folder on a file's path is opened without following a link, and
/// the file itself is looked at with `fstatat(…, AT_SYMLINK_NOFOLLOW)` and opened with `O_NOFOLLOW`. A file of the
/// manifest's size is hashed (SHA-256) and compared with the manifest's digest; anything else standing at the path
/// (another size, a link, a folder, a file where a folder must be) is a conflict. A missing destination has none.
package enum PlacementCheck {
    /// The paths of `files` whose place in `destination` holds other content.
    package static func conflicts(of files: [Manifest.File], in destination: String) -> [RelativePath] {
        guard let root = try? Directory.open(destination, create: false) else {
            return FileManager.default.fileExists(atPath: destination) ? files.map(\.path) : []
        }
        return files.filter { isConflict($0, in: root) }.map(\.path)
    }

    private static func isConflict(_ file: Manifest.File, in root: Directory) -> Bool {
        var current = root
        let components = file.path.string.split(separator: "/").map(String.init)
        for component in components.dropLast() {
            guard let status = current.status(component) else { return false }
            guard status.kind == .folder, let next = try? current.folder(component) else { return true }
            current = next
        }
        guard let leaf = components.last, let status = current.status(leaf) else { return false }
        guard status.kind == .file, status.size == file.size else { return true }
        guard let open = try? current.openFile(leaf, .readOnly) else { return true }
        defer { try? open.close() }
        return (try? digest(of: open, size: file.size)) != file.sha256
    }

    private static func digest(of file: OpenFile, size: Int64) throws -> HaulCore.SHA256Digest {
        var hasher = SHA256()
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        var offset: Int64 = 0
        while offset < size {
            let count = try buffer.withUnsafeMutableBytes { try file.read(into: $0, at: offset) }
            guard count > 0 else { break }
            buffer.withUnsafeBytes { hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: $0[..<count])) }
            offset += Int64(count)
        }
        return HaulCore.SHA256Digest(hasher.finalize())
    }
}
