#if canImport(Darwin)
    import Darwin
    import SystemPackage

    extension OpenFile {
        /// Flushes the file's data and metadata to stable storage (F_FULLFSYNC where supported).
        package func sync() throws {
            if fcntl(descriptor.rawValue, F_FULLFSYNC) == 0 { return }
            if fsync(descriptor.rawValue) != 0 {
                throw HaulError.fileSystem("fsync", path: path, Errno(rawValue: errno))
            }
        }

        /// Starts writing the file's dirty pages to disk without waiting; on Apple platforms the system schedules
        /// writeback itself, so this does nothing.
        package func startWriteback() {}

        /// Copies bytes of `self` to `output` inside the kernel where the platform can; here it cannot (nil: the
        /// caller copies through user space).
        package func copyRange(to output: OpenFile, at offset: Int64, count: Int64) throws -> Int64? { nil }

        /// Reserves `size` bytes on disk so a full disk is found now rather than mid-transfer.
        package func preallocate(_ size: Int64) throws {
            guard size > 0 else { return }
            var store = fstore_t(
                fst_flags: UInt32(F_ALLOCATEALL), fst_posmode: F_PEOFPOSMODE, fst_offset: 0, fst_length: off_t(size),
                fst_bytesalloc: 0)
            if fcntl(descriptor.rawValue, F_PREALLOCATE, &store) == -1, errno == ENOSPC {
                throw HaulError.fileSystem("preallocate", path: path, Errno.noSpace)
            }
            try resize(to: size)
        }

        /// Darwin cannot link by descriptor; the caller falls back to rename.
        package func link(into directory: Directory, as name: String) throws -> Bool { false }

        /// Takes an advisory lock (exclusive, or `shared`); returns false at once if another holder prevents it.
        package func tryLock(shared: Bool = false) throws -> Bool {
            if flock(descriptor.rawValue, (shared ? LOCK_SH : LOCK_EX) | LOCK_NB) == 0 { return true }
            if errno == EWOULDBLOCK { return false }
            throw HaulError.fileSystem("lock", path: path, Errno(rawValue: errno))
        }
    }
#endif
