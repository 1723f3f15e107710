#include "util/buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void goose__buf_init(goose_buf *b)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

void goose__buf_free(goose_buf *b)
{
    free(b->data);
    goose__buf_init(b);
}

void goose__buf_clear(goose_buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

int goose__buf_reserve(goose_buf *b, size_t extra)
{
    if (b->len + extra + 1 <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < b->len + extra + 1)
        cap *= 2;
    char *p = realloc(b->data, cap);
    if (!p)
        return -1;
    b->data = p;
    b->cap = cap;
    return 0;
}

int goose__buf_add(goose_buf *b, const void *p, size_t n)
{
    if (goose__buf_reserve(b, n) < 0)
        return -1;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

int goose__buf_adds(goose_buf *b, const char *s)
{
    return goose__buf_add(b, s, strlen(s));
}

int goose__buf_vprintf(goose_buf *b, const char *fmt, va_list ap)
{
    va_list copy;
    va_copy(copy, ap);
    int n = vsnprintf(NULL, 0, fmt, copy);
    va_end(copy);
    if (n < 0 || goose__buf_reserve(b, (size_t)n) < 0)
        return -1;
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
    return 0;
}

int goose__buf_printf(goose_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = goose__buf_vprintf(b, fmt, ap);
    va_end(ap);
    return rc;
}

char *goose__buf_steal(goose_buf *b)
{
    char *s = b->data;
    if (!s)
        s = calloc(1, 1);
    goose__buf_init(b);
    return s;
}
