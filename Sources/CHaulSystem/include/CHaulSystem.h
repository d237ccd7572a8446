#ifndef CHAUL_SYSTEM_H
#define CHAUL_SYSTEM_H

/// Starts writing the dirty pages of the open file `fd` to disk without waiting for them (Linux
/// `sync_file_range` with `SYNC_FILE_RANGE_WRITE`, which Glibc's Swift module does not expose).
/// Returns 0 on success, -1 with `errno` set on failure; does nothing and returns 0 elsewhere.
int chaul_start_writeback(int fd);

#endif
