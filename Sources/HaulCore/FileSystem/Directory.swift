package import SystemPackage

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// An open folder. Every operation names one entry *relative to this descriptor* and never follows a symlink, so a
/// link planted inside the store (or a folder swapped for a link between a check and a use) can never redirect a
/// read, a write, a rename or a removal outside it.
///
/// Only the folder passed to ``open(_:create:)`` is resolved by path (it is the user's choice, and may be a link to
/// another disk); everything beneath it is reached with `openat(…, O_NOFOLLOW)` and the other `*at` calls.
package final class Directory: Sendable {
    /// The folder's descriptor, closed when this object goes away.
    package let descriptor: FileDescriptor
    /// The path it was reached by, for messages only: never used to reach it again.
    package let path: String

    private init(descriptor: FileDescriptor, path: String) {
        self.descriptor = descriptor
        self.path = path
    }

    deinit { try? descriptor.close() }

    /// Opens the folder at `path` (following links in `path` itself), creating it and its parents if `create`.
    /// - Throws: ``HaulError`` `.fileSystem` when it is missing (and not created) or not a folder.
    package static func open(_ path: String, create: Bool) throws -> Directory {
        if create { try FileSystem.createDirectory(path) }
        let fd = Glibc_open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw HaulError.fileSystem("open folder", path: path, Errno(rawValue: errno)) }
        return Directory(descriptor: FileDescriptor(rawValue: fd), path: path)
    }

    /// The folder `relative` (one or more `/`-separated components) below this one, reached component by component
    /// without following a link; missing folders are made when `create`.
    /// - Throws: ``HaulError`` `.fileSystem` when a component is a symlink, not a folder, or missing (and not made).
    package func folder(_ relative: String, create: Bool = false) throws -> Directory {
        var current = self
        for component in relative.split(separator: "/") {
            current = try current.child(String(component), create: create)
        }
        return current
    }

    private func child(_ name: String, create: Bool) throws -> Directory {
        let entry = try Self.checked(name, in: self)
        var fd = openat(descriptor.rawValue, entry, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        if fd < 0, errno == ENOENT, create {
            if mkdirat(descriptor.rawValue, entry, 0o755) != 0, errno != EEXIST {
                throw HaulError.fileSystem("create folder", path: "\(path)/\(name)", Errno(rawValue: errno))
            }
            fd = openat(descriptor.rawValue, entry, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        }
        guard fd >= 0 else { throw openFailure("open folder", name, errno, folder: true) }
        return Directory(descriptor: FileDescriptor(rawValue: fd), path: "\(path)/\(name)")
    }

    /// Opens the file `name` in this folder without following a link. A file it creates gets `permissions`.
    /// - Throws: ``HaulError`` `.fileSystem` (a symlink at `name` fails with `ELOOP`).
    package func openFile(
        _ name: String, _ mode: FileDescriptor.AccessMode, options: FileDescriptor.OpenOptions = [],
        permissions: FilePermissions = [.ownerReadWrite, .groupRead, .otherRead]
    ) throws -> OpenFile {
        let entry = try Self.checked(name, in: self)
        let flags = mode.rawValue | options.rawValue | O_NOFOLLOW | O_CLOEXEC
        let fd = openat(descriptor.rawValue, entry, flags, permissions.rawValue)
        guard fd >= 0 else { throw openFailure("open", name, errno, folder: false) }
        return OpenFile(descriptor: FileDescriptor(rawValue: fd), path: "\(path)/\(name)")
    }

    /// The error for a failed `openat` of `name`: a link (or, for a folder, a non-folder) in the way says so.
    private func openFailure(_ operation: String, _ name: String, _ code: Int32, folder: Bool) -> HaulError {
        guard code == ELOOP || (folder && code == ENOTDIR) else {
            return HaulError.fileSystem(operation, path: "\(path)/\(name)", Errno(rawValue: code))
        }
        return HaulError(
            .fileSystem,
            "\(path)/\(name) is a symlink\(folder ? " or not a folder" : ""); Haul never follows links inside the folders it manages (its store and state, a repository it publishes to). Remove it and retry.",
            context: ["path": "\(path)/\(name)"])
    }

    /// What is at `name`, without following a link; nil when nothing is.
    package func status(_ name: String) -> Status? {
        guard let entry = try? Self.checked(name, in: self) else { return nil }
        var info = stat()
        guard fstatat(descriptor.rawValue, entry, &info, AT_SYMLINK_NOFOLLOW) == 0 else { return nil }
        return Status(info)
    }

    /// Size of the regular file `name`, or nil (missing, a folder, a link).
    package func fileSize(_ name: String) -> Int64? {
        guard let status = status(name), status.kind == .file else { return nil }
        return status.size
    }

    /// Removes the entry `name`: a file or link is unlinked (a link's target is never touched), a folder is
    /// emptied the same way and removed. Missing is not an error.
    package func remove(_ name: String) throws {
        let entry = try Self.checked(name, in: self)
        if unlinkat(descriptor.rawValue, entry, 0) == 0 || errno == ENOENT { return }
        let code = errno
        guard code == EISDIR || code == EPERM, status(name)?.kind == .folder else {
            throw HaulError.fileSystem("remove", path: "\(path)/\(name)", Errno(rawValue: code))
        }
        let sub = try child(name, create: false)
        for inner in sub.entries() { try sub.remove(inner) }
        if unlinkat(descriptor.rawValue, entry, AT_REMOVEDIR) != 0, errno != ENOENT {
            throw HaulError.fileSystem("remove folder", path: "\(path)/\(name)", Errno(rawValue: errno))
        }
    }

    /// Removes the folder `name` only if it is empty (an install may be filling it right now); otherwise, or if it
    /// is missing, does nothing.
    package func removeIfEmpty(_ name: String) {
        guard let entry = try? Self.checked(name, in: self) else { return }
        _ = unlinkat(descriptor.rawValue, entry, AT_REMOVEDIR)
    }

    /// Renames the entry `name` to `newName` in `target`, replacing a file there (atomic).
    package func rename(_ name: String, to newName: String, in target: Directory) throws {
        let from = try Self.checked(name, in: self)
        let to = try Self.checked(newName, in: target)
        if renameat(descriptor.rawValue, from, target.descriptor.rawValue, to) != 0 {
            throw HaulError.fileSystem(
                "rename to \(target.path)/\(newName)", path: "\(path)/\(name)", Errno(rawValue: errno))
        }
    }

    /// Hard-links the file `name` as `newName` in `target` (the link itself if `name` is one: never its target).
    /// - Returns: false when the file system cannot link there (another volume, no hard links); the caller copies.
    /// - Throws: ``HaulError`` `.fileSystem` on any other failure (an existing `newName` among them).
    package func link(_ name: String, as newName: String, in target: Directory) throws -> Bool {
        let from = try Self.checked(name, in: self)
        let to = try Self.checked(newName, in: target)
        if linkat(descriptor.rawValue, from, target.descriptor.rawValue, to, 0) == 0 { return true }
        let code = errno
        if code == EXDEV || code == EPERM || code == EMLINK || code == ENOTSUP { return false }
        throw HaulError.fileSystem("link \(path)/\(name) at", path: "\(target.path)/\(newName)", Errno(rawValue: code))
    }

    /// Copies the file `name` to a new file `newName` in `target` (where a hard link is impossible), then fsyncs it.
    package func copy(_ name: String, as newName: String, in target: Directory) throws {
        let source = try openFile(name, .readOnly)
        defer { try? source.close() }
        let destination = try target.openFile(
            newName, .writeOnly, options: [.create, .exclusiveCreate],
            permissions: [.ownerRead, .groupRead, .otherRead])
        defer { try? destination.close() }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 4 << 20, alignment: 64)
        defer { buffer.deallocate() }
        var offset: Int64 = 0
        while true {
            let count = try source.read(into: buffer, at: offset)
            if count == 0 { break }
            try destination.write(UnsafeRawBufferPointer(rebasing: buffer[..<count]), at: offset)
            offset += Int64(count)
        }
        try destination.sync()
    }

    /// Writes `data` as `name` atomically: a new temp file beside it, fsync, rename over `name`, fsync the folder.
    package func writeAtomically(
        _ data: some Sequence<UInt8>, to name: String,
        permissions: FilePermissions = [.ownerReadWrite, .groupRead, .otherRead]
    ) throws {
        let temp = ".\(name).tmp-\(String(UInt64.random(in: 0...UInt64.max), radix: 16))"
        do {
            let file = try openFile(temp, .writeOnly, options: [.create, .exclusiveCreate], permissions: permissions)
            defer { try? file.close() }
            let bytes = Array(data)
            try bytes.withUnsafeBytes { try file.write($0, at: 0) }
            try file.sync()
            try rename(temp, to: name, in: self)
            try sync()
        } catch {
            try? remove(temp)
            throw error
        }
    }

    /// Reads the whole small file `name`, refusing more than `limit` bytes.
    package func read(_ name: String, limit: Int) throws -> [UInt8] {
        let file = try openFile(name, .readOnly)
        defer { try? file.close() }
        let size = try file.size()
        guard size <= Int64(limit) else {
            throw HaulError(
                .invalidArgument, "\(path)/\(name) is \(size) bytes, more than the \(limit) expected.",
                context: ["path": "\(path)/\(name)"])
        }
        var bytes = [UInt8](repeating: 0, count: Int(size))
        let count = try bytes.withUnsafeMutableBytes { try file.readFully(into: $0, at: 0) }
        return Array(bytes.prefix(count))
    }

    /// Names in this folder (not `.` or `..`); empty when it cannot be read.
    package func entries() -> [String] {
        let fd = openat(descriptor.rawValue, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return [] }
        guard let stream = fdopendir(fd) else {
            Glibc_close(fd)
            return []
        }
        defer { closedir(stream) }
        var names: [String] = []
        while let entry = readdir(stream) {
            let name = withUnsafePointer(to: &entry.pointee.d_name) {
                String(cString: UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self))
            }
            if name != ".", name != ".." { names.append(name) }
        }
        return names
    }

    /// Flushes the folder's entries to stable storage (after a rename or link into it).
    package func sync() throws {
        if fsync(descriptor.rawValue) != 0 {
            throw HaulError.fileSystem("fsync", path: path, Errno(rawValue: errno))
        }
    }

    /// A single entry name: never empty, `.`, `..`, or containing `/` or NUL.
    private static func checked(_ name: String, in directory: Directory) throws -> String {
        guard !name.isEmpty, name != ".", name != "..", !name.utf8.contains(UInt8(ascii: "/")),
            !name.utf8.contains(0)
        else {
            throw HaulError(
                .invalidArgument, "\(name.debugDescription) is not a single entry name in \(directory.path).",
                context: ["path": directory.path])
        }
        return name
    }
}

extension Directory {
    /// What an entry is, as `fstatat` without following links saw it.
    package struct Status: Sendable, Hashable {
        /// The kinds of entry the store cares about.
        package enum Kind: Sendable, Hashable { case file, folder, link, other }
        /// The entry's kind (a link is reported as a link, never as its target).
        package var kind: Kind
        /// Size in bytes.
        package var size: Int64
        /// Last modification, in seconds since 1970.
        package var modified: Int64
        /// Device and inode, to tell whether two names are one file.
        package var identity: FileIdentity
        /// How many names the file has (hard links).
        package var links: UInt64
        /// The owner's user id.
        package var owner: UInt32
        /// Content and metadata stamps: what changes whenever the file's bytes (or its metadata) change.
        package var stamp: ChangeStamp

        /// A status of these values.
        package init(
            kind: Kind, size: Int64, modified: Int64 = 0, identity: FileIdentity = FileIdentity(device: 0, inode: 0),
            links: UInt64 = 1, owner: UInt32, stamp: ChangeStamp = ChangeStamp(modified: 0, changed: 0)
        ) {
            (self.kind, self.size, self.modified, self.identity) = (kind, size, modified, identity)
            (self.links, self.owner, self.stamp) = (links, owner, stamp)
        }

        init(_ info: stat) {
            switch info.st_mode & S_IFMT {
            case S_IFREG: kind = .file
            case S_IFDIR: kind = .folder
            case S_IFLNK: kind = .link
            default: kind = .other
            }
            size = Int64(info.st_size)
            #if canImport(Darwin)
                let (mtime, ctime) = (info.st_mtimespec, info.st_ctimespec)
            #else
                let (mtime, ctime) = (info.st_mtim, info.st_ctim)
            #endif
            modified = Int64(mtime.tv_sec)
            identity = FileIdentity(device: UInt64(info.st_dev), inode: UInt64(info.st_ino))
            links = UInt64(info.st_nlink)
            owner = UInt32(info.st_uid)
            stamp = ChangeStamp(
                modified: Int64(mtime.tv_sec) &* 1_000_000_000 &+ Int64(mtime.tv_nsec),
                changed: Int64(ctime.tv_sec) &* 1_000_000_000 &+ Int64(ctime.tv_nsec))
        }

        /// Whether this is a regular file with one name, owned by the user running Haul: a file only Haul made and
        /// only this user can change, so its bytes may be resumed (a hard link's other name could be anyone's).
        package var isPrivateFile: Bool { kind == .file && links == 1 && owner == UInt32(geteuid()) }
    }

    /// A file's modification and status-change times, in nanoseconds since 1970. The status-change time (`ctime`)
    /// cannot be set by any user: writing, truncating, renaming over, linking or chmodding the file moves it.
    package struct ChangeStamp: Sendable, Hashable {
        /// Last modification of the bytes.
        package var modified: Int64
        /// Last change of the bytes or the metadata.
        package var changed: Int64
    }

    /// A file's device and inode.
    package struct FileIdentity: Sendable, Hashable {
        /// The device.
        package var device: UInt64
        /// The inode.
        package var inode: UInt64
    }
}

extension OpenFile {
    /// The device and inode of the open file.
    package func identity() throws -> Directory.FileIdentity { try status().identity }

    /// What the open file is (its kind, size, links, owner, stamps), from `fstat`.
    package func status() throws -> Directory.Status {
        var info = stat()
        guard fstat(descriptor.rawValue, &info) == 0 else {
            throw HaulError.fileSystem("stat", path: path, Errno(rawValue: errno))
        }
        return Directory.Status(info)
    }

    /// A second descriptor of the same open file (for reads on another thread), closed by its own owner.
    package func duplicate() throws -> OpenFile {
        let fd = dup(descriptor.rawValue)
        guard fd >= 0 else {
            throw HaulError.fileSystem("duplicate the descriptor of", path: path, Errno(rawValue: errno))
        }
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        return OpenFile(descriptor: FileDescriptor(rawValue: fd), path: path)
    }
}

// Glibc's and Darwin's `open`/`close` collide with our methods' names inside the type.
private func Glibc_open(_ path: String, _ flags: Int32) -> Int32 { open(path, flags) }
private func Glibc_close(_ fd: Int32) { _ = close(fd) }
