import Foundation
import HaulCore

/// The served folder, opened once; every request path is opened beneath its descriptor one component at a time,
/// never following a symbolic link, and what was opened is checked afterwards (open first, then check).
///
/// A symlink swapped in for a file or folder after any check cannot redirect the server: `openat` with `O_NOFOLLOW`
/// refuses a link in every component, and the final descriptor is `fstat`ed to be a regular file before one byte is
/// read. Bytes are then read from that descriptor, never by path again.
package final class RootDirectory: Sendable {
    /// The folder's descriptor (`O_DIRECTORY`), open for the server's lifetime.
    let descriptor: Int32
    /// The path it was opened at, for messages.
    let path: String

    /// Opens the folder at `path` (the root itself may be reached through links: the operator chose it).
    /// - Throws: ``HaulError`` `.invalidArgument` when `path` is not a folder that can be opened.
    init(path: String) throws {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else {
            throw HaulError(
                .invalidArgument,
                "\(path) is not a folder that can be opened (\(String(cString: strerror(errno)))). Pass the repository "
                    + "folder `haul publish --repo` wrote.",
                context: ["path": path])
        }
        self.descriptor = fd
        self.path = path
    }

    deinit { close(descriptor) }

    /// Whether `component` may appear in a served path: not empty, not hidden (`.`, `..`, `.staging`…), no `/` or NUL.
    package static func isServable(_ component: String) -> Bool {
        !component.isEmpty && !component.hasPrefix(".") && !component.contains("/") && !component.contains("\0")
            && component.utf8.count <= 255
    }

    /// Opens the regular file at `components` beneath the root: folders with `O_DIRECTORY | O_NOFOLLOW`, the file with
    /// `O_RDONLY | O_NOFOLLOW | O_NONBLOCK` (a FIFO cannot block the server), then `fstat` must say regular file.
    /// Returns nil for anything missing, hidden, linked, special or not a file.
    func openFile(_ components: [String]) -> OpenedFile? {
        guard let name = components.last, components.count <= 64, components.allSatisfy(Self.isServable) else {
            return nil
        }
        var folder = descriptor
        defer { if folder != descriptor { close(folder) } }
        for component in components.dropLast() {
            let next = openat(folder, component, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            guard next >= 0 else { return nil }
            if folder != descriptor { close(folder) }
            folder = next
        }
        let fd = openat(folder, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        var status = stat()
        guard fstat(fd, &status) == 0, (status.st_mode & S_IFMT) == S_IFREG, status.st_size >= 0 else {
            close(fd)
            return nil
        }
        return OpenedFile(
            descriptor: fd, size: Int64(status.st_size), modifiedSeconds: Int64(status.modificationTime.seconds),
            modifiedNanoseconds: Int64(status.modificationTime.nanoseconds))
    }
}

/// A regular file opened beneath the root; closed when the last response using it is gone.
final class OpenedFile: Sendable {
    /// The descriptor, read with `pread` only.
    let descriptor: Int32
    /// Size at open (`fstat`).
    let size: Int64
    /// Modification time at open, seconds since 1970.
    let modifiedSeconds: Int64
    /// The sub-second part of the modification time.
    let modifiedNanoseconds: Int64

    init(descriptor: Int32, size: Int64, modifiedSeconds: Int64, modifiedNanoseconds: Int64) {
        self.descriptor = descriptor
        self.size = size
        self.modifiedSeconds = modifiedSeconds
        self.modifiedNanoseconds = modifiedNanoseconds
    }

    deinit { close(descriptor) }

    /// Fills `buffer` from `offset`; returns how many bytes were read (fewer only at end of file).
    func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int64) throws -> Int {
        var done = 0
        while done < buffer.count {
            let n = pread(descriptor, buffer.baseAddress! + done, buffer.count - done, off_t(offset + Int64(done)))
            if n < 0 {
                if errno == EINTR { continue }
                throw HaulError(.fileSystem, "A served file could not be read: \(String(cString: strerror(errno))).")
            }
            if n == 0 { break }
            done += n
        }
        return done
    }
}
