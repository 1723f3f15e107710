/* The own HTTP/1.1 client's response parser driven by arbitrary bytes, as
 * a server's stream would arrive: the first byte picks a HEAD request and
 * how the rest is cut into pieces; then the connection ends.  Aborts when
 * the parser breaks its contract (uses more than it was given, takes
 * bytes after it is done, ends in a state that is neither done nor an
 * error).  Used by `make fuzz-http`. */
#ifndef GOOSE_FUZZ_HTTP_H
#define GOOSE_FUZZ_HTTP_H

#include <stdint.h>
#include <stdlib.h>

#include "http/h1.h"

/* The parser's verdict on the whole input, the connection closed after
 * it: GOOSE_H1_DONE or GOOSE_H1_ERROR (GOOSE_H1_HEAD for no input). */
static inline goose_h1_state goose_fuzz_http_end(const uint8_t *data, size_t size)
{
    if (size == 0)
        return GOOSE_H1_HEAD;
    unsigned knobs = data[0];
    size_t piece = (knobs >> 1) + 1; /* 1 to 128 bytes at a time */
    goose_h1_parser p;
    goose_http_capture c;
    goose__http_capture_init(&c);
    goose__h1_parser_start(&p, knobs & 1);
    const char *s = (const char *)data + 1;
    size_t left = size - 1;
    while (left && p.state != GOOSE_H1_DONE && p.state != GOOSE_H1_ERROR) {
        size_t n = left < piece ? left : piece;
        size_t used = goose__h1_parse(&p, &c, s, n);
        if (used > n || (used < n && p.state != GOOSE_H1_DONE && p.state != GOOSE_H1_ERROR))
            abort();
        s += n;
        left -= n;
    }
    goose_h1_state end = goose__h1_parse_eof(&p);
    if (end != GOOSE_H1_DONE && end != GOOSE_H1_ERROR)
        abort();
    if (end == GOOSE_H1_ERROR && !p.error)
        abort();
    goose__http_capture_free(&c);
    return end;
}

static inline int goose_fuzz_http(const uint8_t *data, size_t size)
{
    goose_fuzz_http_end(data, size);
    return 0;
}

#endif
