#if os(Linux)
    import CHaulSystem
    import Glibc
    import SystemPackage

    extension OpenFile {
        /// Flushes the file's data and metadata to stable storage.
        package func sync() throws {
            if fsync(descriptor.rawValue) != 0 {
                throw HaulError.fileSystem("fsync", path: path, Errno(rawValue: errno))
            }
        }

        /// Starts writing the file's dirty pages to disk without waiting, so that a later ``sync()`` has little
        /// left to do, while the pages stay cached for whoever reads the file next. A hint: a failure is ignored,
        /// since the later ``sync()`` reports real I/O errors.
        package func startWriteback() {
            _ = chaul_start_writeback(descriptor.rawValue)
        }

        /// Copies bytes of `self` from `offset` on to `output` at the same offset inside the kernel
        /// (`copy_file_range`); returns the bytes copied (0 at the end), or nil where the kernel cannot do it for
        /// these files (the caller copies through user space then).
        /// - Throws: ``HaulError`` `.fileSystem` on a real I/O error (a full disk, say).
        package func copyRange(to output: OpenFile, at offset: Int64, count: Int64) throws -> Int64? {
            while true {
                let copied = chaul_copy_range(descriptor.rawValue, offset, output.descriptor.rawValue, offset, count)
                if copied >= 0 { return copied }
                switch errno {
                case EINTR: continue
                case EXDEV, ENOSYS, EINVAL, EOPNOTSUPP, EBADF, ETXTBSY, EPERM: return nil
                default: throw HaulError.fileSystem("copy to", path: output.path, Errno(rawValue: errno))
                }
            }
        }

        /// Reserves `size` bytes on disk so a full disk is found now rather than mid-transfer.
        /// Falls back to a plain resize on file systems without fallocate.
        package func preallocate(_ size: Int64) throws {
            guard size > 0 else { return }
            let code = posix_fallocate(descriptor.rawValue, 0, off_t(size))
            if code == 0 { return }
            if code == ENOSPC { throw HaulError.fileSystem("preallocate", path: path, Errno.noSpace) }
            if code == EOPNOTSUPP || code == ENOSYS || code == EINVAL { return try resize(to: size) }
            throw HaulError.fileSystem("preallocate", path: path, Errno(rawValue: code))
        }

        /// Gives this open file (its inode, whatever its path is now) the name `name` in `directory`, failing if the
        /// name exists.
        /// - Returns: false where the platform cannot link by descriptor (no `/proc`); the caller falls back to rename.
        package func link(into directory: Directory, as name: String) throws -> Bool {
            if linkat(AT_FDCWD, "/proc/self/fd/\(descriptor.rawValue)", directory.descriptor.rawValue, name, AT_SYMLINK_FOLLOW)
                == 0
            {
                return true
            }
            let code = errno
            if code == ENOENT, !FileSystem.exists("/proc/self/fd") { return false }
            throw HaulError.fileSystem("link to \(directory.path)/\(name)", path: self.path, Errno(rawValue: code))
        }

        /// Takes an advisory lock (exclusive, or `shared`); returns false at once if another holder prevents it.
        package func tryLock(shared: Bool = false) throws -> Bool {
            if flock(descriptor.rawValue, (shared ? LOCK_SH : LOCK_EX) | LOCK_NB) == 0 { return true }
            if errno == EWOULDBLOCK { return false }
            throw HaulError.fileSystem("lock", path: path, Errno(rawValue: errno))
        }
    }
#endif
