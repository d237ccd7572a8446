package import Foundation
package import SystemPackage

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Small file-system operations the store and publisher need, each throwing ``HaulError``.
package enum FileSystem {
    /// Creates `path` and its parents (mode 0755, or `permissions` for the folders it makes); succeeds if it already
    /// is a folder.
    /// - Throws: ``HaulError`` `.fileSystem` naming the first component that is not a folder (a file, a dangling
    ///   link) or cannot be made, with what to do.
    package static func createDirectory(
        _ path: String, permissions: FilePermissions = [.ownerReadWriteExecute, .groupReadExecute, .otherReadExecute]
    ) throws {
        var prefix = path.hasPrefix("/") ? "/" : ""
        for component in path.split(separator: "/") {
            prefix += prefix.isEmpty || prefix.hasSuffix("/") ? String(component) : "/\(component)"
            if mkdir(prefix, permissions.rawValue) == 0 { continue }
            let code = errno
            guard code == EEXIST || code == EISDIR else {
                throw HaulError.fileSystem("create folder", path: prefix, Errno(rawValue: code))
            }
            var info = stat()
            guard stat(prefix, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR else {
                throw HaulError(
                    .fileSystem,
                    "\(prefix) exists and is not a folder, so \(path) cannot be made. Choose another path or move it away.",
                    context: ["path": prefix])
            }
        }
    }

    /// Whether something (not following a final symlink) exists at `path`.
    package static func exists(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0
    }

    /// Whether `path` is a regular file (not a symlink).
    package static func isRegularFile(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG
    }

    /// Whether `path` is a folder (not a symlink).
    package static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }

    /// Whether `path` names the same inode as the open `file`.
    package static func refersTo(_ path: String, _ file: OpenFile) -> Bool {
        var a = stat(), b = stat()
        return lstat(path, &a) == 0 && fstat(file.descriptor.rawValue, &b) == 0 && a.st_ino == b.st_ino
            && a.st_dev == b.st_dev
    }

    /// Size of the regular file at `path`, or nil.
    package static func fileSize(_ path: String) -> Int64? {
        var info = stat()
        guard lstat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return nil }
        return Int64(info.st_size)
    }

    /// Removes a file or folder tree; missing is not an error.
    package static func remove(_ path: String) throws {
        guard exists(path) else { return }
        do { try FileManager.default.removeItem(atPath: path) } catch {
            if !exists(path) { return }
            throw HaulError.fileSystem("remove", path: path, error)
        }
    }

    /// Atomically renames `from` to `to`, replacing a file at `to`.
    package static func rename(_ from: String, to: String) throws {
        if Foundation.rename(from, to) != 0 {
            throw HaulError.fileSystem("rename to \(to)", path: from, Errno(rawValue: errno))
        }
    }

    /// Flushes a folder's entries (after a rename into it).
    package static func syncDirectory(_ path: String) throws {
        try OpenFile.with(path, .readOnly, options: [.directory]) { try $0.sync() }
    }

    /// Hard-links `source` at `destination`; copies the bytes where links are impossible (other volume).
    package static func linkOrCopy(_ source: String, to destination: String) throws {
        if link(source, destination) == 0 { return }
        let code = errno
        guard code == EXDEV || code == EPERM || code == EMLINK || code == ENOTSUP else {
            throw HaulError.fileSystem("link \(source) at", path: destination, Errno(rawValue: code))
        }
        do { try FileManager.default.copyItem(atPath: source, toPath: destination) } catch {
            throw HaulError.fileSystem("copy \(source) to", path: destination, error)
        }
    }

    /// Writes `data` to `path` atomically: temp file beside it, fsync, rename, fsync the folder.
    package static func writeAtomically(
        _ data: Data, to path: String, permissions: FilePermissions = [.ownerReadWrite, .groupRead, .otherRead]
    ) throws {
        let temp = "\(path).tmp-\(UUID().uuidString)"
        let file: OpenFile
        do {
            file = try OpenFile.open(temp, .writeOnly, options: [.create, .exclusiveCreate], permissions: permissions)
        } catch let error as HaulError {
            // Name the file the caller asked for, never the temp file beside it.
            throw HaulError.fileSystem("write", path: path, error.underlying ?? error)
        }
        do {
            do {
                try data.withUnsafeBytes { try file.write($0, at: 0) }
                try file.sync()
            } catch {
                try? file.close()
                throw error
            }
            try file.close()
            try rename(temp, to: path)
            // A bare file name lives in the current folder ("k.key" has no folder part to sync).
            let folder = (path as NSString).deletingLastPathComponent
            try syncDirectory(folder.isEmpty ? "." : folder)
        } catch {
            try? remove(temp)
            throw error
        }
    }

    /// Reads a whole small file, refusing more than `limit` bytes.
    package static func read(_ path: String, limit: Int) throws -> Data {
        try OpenFile.with(path, .readOnly) { file in
            let size = try file.size()
            guard size <= Int64(limit) else {
                throw HaulError(
                    .invalidArgument, "\(path) is \(size) bytes, more than the \(limit) expected.",
                    context: ["path": path])
            }
            var data = Data(count: Int(size))
            let n = try data.withUnsafeMutableBytes { try file.readFully(into: $0, at: 0) }
            return data.prefix(n)
        }
    }

    /// Bytes available to this user on the volume holding `path`.
    package static func availableSpace(at path: String) throws -> Int64 {
        var info = statvfs()
        guard statvfs(path, &info) == 0 else {
            throw HaulError.fileSystem("measure free space", path: path, Errno(rawValue: errno))
        }
        return Int64(info.f_bavail) * Int64(info.f_frsize)
    }

    /// Names in a folder (not recursive); empty if it does not exist or cannot be read.
    package static func contents(of path: String) -> [String] {
        guard isDirectory(path) else { return [] }
        do { return try FileManager.default.contentsOfDirectory(atPath: path) } catch { return [] }
    }
}
