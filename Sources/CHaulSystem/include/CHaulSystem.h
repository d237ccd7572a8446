#ifndef CHAUL_SYSTEM_H
#define CHAUL_SYSTEM_H

/// Starts writing the dirty pages of the open file `fd` to disk without waiting for them (Linux
/// `sync_file_range` with `SYNC_FILE_RANGE_WRITE`, which Glibc's Swift module does not expose).
/// Returns 0 on success, -1 with `errno` set on failure; does nothing and returns 0 elsewhere.
int chaul_start_writeback(int fd);

/// Copies up to `length` bytes from `in` at `in_offset` to `out` at `out_offset` inside the kernel (Linux
/// `copy_file_range`: no pass through user space, a reflink where the file system has them). Returns the bytes
/// copied (0 at the end of `in`), or -1 with `errno` set; elsewhere -1 with `ENOSYS`.
long long chaul_copy_range(int in, long long in_offset, int out, long long out_offset, long long length);

#endif
