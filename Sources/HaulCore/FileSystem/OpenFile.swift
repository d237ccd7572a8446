package import SystemPackage

/// An open file with positional reads and writes, owned by one scope.
///
/// Thin over swift-system's `FileDescriptor`; the few calls it lacks (fsync, fallocate, flock) live in
/// `OpenFile+Linux.swift` / `OpenFile+Darwin.swift`.
package struct OpenFile: Sendable {
    /// The descriptor.
    package let descriptor: FileDescriptor
    /// The path it was opened at, for error messages.
    package let path: String

    /// Opens `path`. A file it creates gets `permissions`, by default `rw-r--r--`.
    /// - Throws: ``HaulError`` `.fileSystem` naming the path and the system error.
    package static func open(
        _ path: String,
        _ mode: FileDescriptor.AccessMode,
        options: FileDescriptor.OpenOptions = [],
        permissions: FilePermissions? = nil
    ) throws -> OpenFile {
        do {
            let fd = try FileDescriptor.open(
                FilePath(path), mode, options: options.union(.closeOnExec),
                permissions: permissions
                    ?? (options.contains(.create) ? [.ownerReadWrite, .groupRead, .otherRead] : nil))
            return OpenFile(descriptor: fd, path: path)
        } catch {
            throw HaulError.fileSystem("open", path: path, error)
        }
    }

    /// Opens `path`, runs `body`, closes the file whatever happens.
    package static func with<R>(
        _ path: String,
        _ mode: FileDescriptor.AccessMode,
        options: FileDescriptor.OpenOptions = [],
        permissions: FilePermissions? = nil,
        _ body: (OpenFile) throws -> R
    ) throws -> R {
        let file = try open(path, mode, options: options, permissions: permissions)
        defer { try? file.descriptor.close() }
        return try body(file)
    }

    /// Closes the file.
    package func close() throws {
        do { try descriptor.close() } catch { throw HaulError.fileSystem("close", path: path, error) }
    }

    /// Reads up to `buffer.count` bytes at `offset`; returns how many were read (0 at end of file).
    package func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int64) throws -> Int {
        do { return try descriptor.read(fromAbsoluteOffset: offset, into: buffer, retryOnInterrupt: true) } catch {
            throw HaulError.fileSystem("read", path: path, error)
        }
    }

    /// Reads until `buffer` is full or the file ends; returns the count read.
    package func readFully(into buffer: UnsafeMutableRawBufferPointer, at offset: Int64) throws -> Int {
        var done = 0
        while done < buffer.count {
            let n = try read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[done...]), at: offset + Int64(done))
            if n == 0 { break }
            done += n
        }
        return done
    }

    /// Writes all of `bytes` at `offset`.
    package func write(_ bytes: UnsafeRawBufferPointer, at offset: Int64) throws {
        var done = 0
        while done < bytes.count {
            do {
                done += try descriptor.write(
                    toAbsoluteOffset: offset + Int64(done), UnsafeRawBufferPointer(rebasing: bytes[done...]),
                    retryOnInterrupt: true)
            } catch {
                throw HaulError.fileSystem("write", path: path, error)
            }
        }
    }

    /// The file's size.
    package func size() throws -> Int64 {
        do { return try descriptor.seek(offset: 0, from: .end) } catch {
            throw HaulError.fileSystem("stat", path: path, error)
        }
    }

    /// Sets the file's size (truncating or extending with a hole).
    package func resize(to size: Int64) throws {
        do { try descriptor.resize(to: size, retryOnInterrupt: true) } catch {
            throw HaulError.fileSystem("resize", path: path, error)
        }
    }
}

extension HaulError {
    /// A file-system failure of `operation` on `path`.
    package static func fileSystem(_ operation: String, path: String, _ error: any Error) -> HaulError {
        if let haul = error as? HaulError { return haul }
        var hint = "Check that the folder exists and is writable."
        if let errno = error as? Errno {
            if errno == .noSpace {
                return HaulError(
                    .insufficientSpace,
                    "The disk is full while writing \(path). Free some space and retry; completed work is kept.",
                    context: ["path": path])
            }
            hint = Self.hint(for: errno) ?? hint
        }
        return HaulError(
            .fileSystem, "Could not \(operation) \(path): \(error). \(hint)", context: ["path": path], underlying: error
        )
    }

    /// What to do about a system error, for people; nil for errors without a specific hint.
    static func hint(for errno: Errno) -> String? {
        switch errno {
        case .noSuchFileOrDirectory: return "Check the path: it (or a folder on the way) does not exist."
        case .permissionDenied, .notPermitted: return "Check the file's permissions."
        case .notDirectory: return "A part of the path is a file, not a folder; check the path."
        case .isDirectory: return "It is a folder; name a file."
        case .readOnlyFileSystem: return "The file system is read-only; choose another location."
        default: return nil
        }
    }
}
