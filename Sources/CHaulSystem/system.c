#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "CHaulSystem.h"

int chaul_start_writeback(int fd) {
#ifdef __linux__
    return sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE);
#else
    (void)fd;
    return 0;
#endif
}

long long chaul_copy_range(int in, long long in_offset, int out, long long out_offset, long long length) {
#ifdef __linux__
    off64_t from = (off64_t)in_offset;
    off64_t to = (off64_t)out_offset;
    return (long long)copy_file_range(in, &from, out, &to, (size_t)length, 0);
#else
    (void)in; (void)in_offset; (void)out; (void)out_offset; (void)length;
    errno = ENOSYS;
    return -1;
#endif
}
