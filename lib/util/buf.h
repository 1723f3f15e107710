/* Growable byte buffer, always NUL-terminated. */
#ifndef GOOSE_UTIL_BUF_H
#define GOOSE_UTIL_BUF_H

#include <stdarg.h>
#include <stddef.h>

typedef struct goose_buf {
    char *data;
    size_t len;
    size_t cap;
} goose_buf;

void goose__buf_init(goose_buf *b);
void goose__buf_free(goose_buf *b);
void goose__buf_clear(goose_buf *b);
/* Each returns 0, or -1 when out of memory (the buffer is unchanged). */
int goose__buf_reserve(goose_buf *b, size_t extra);
int goose__buf_add(goose_buf *b, const void *p, size_t n);
int goose__buf_adds(goose_buf *b, const char *s);
int goose__buf_printf(goose_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int goose__buf_vprintf(goose_buf *b, const char *fmt, va_list ap);
/* Hands the string to the caller (free()), leaving the buffer empty. */
char *goose__buf_steal(goose_buf *b);

#endif
