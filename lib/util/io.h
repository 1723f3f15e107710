/* Writing a whole buffer to a file descriptor, through EINTR and short
 * writes. */
#ifndef GOOSE_UTIL_IO_H
#define GOOSE_UTIL_IO_H

#include <stddef.h>

/* 0, or -1 with errno set. */
int goose__write_all(int fd, const char *p, size_t n);

#endif
