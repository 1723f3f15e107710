/* The own HTTP/2 client's session (lib/http/h2.c) driven by arbitrary
 * bytes as the server side of a connection: a GET and a POST larger than
 * the first window are under way, the first byte picks how the rest is
 * cut into pieces, then the client is freed.  Aborts when a request is
 * reported twice or a capture outgrows its bounds.  Used by `make
 * fuzz-http` (tests/fuzz/h2-libfuzzer.c) and tests/test-fuzz.c. */
#ifndef GOOSE_FUZZ_H2_H
#define GOOSE_FUZZ_H2_H

#include <event2/event.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/h2.h"

#define GOOSE_FUZZ_H2_POST 100000

typedef struct goose_fuzz_h2_call {
    goose_http_capture cap; /* first: done() hands it back */
    int done;
} goose_fuzz_h2_call;

static inline void goose_fuzz_h2_done(void *arg, goose_http_capture *c, goose_terr r,
                                      uint64_t us)
{
    (void)us;
    goose_fuzz_h2_call *k = (goose_fuzz_h2_call *)c;
    if (k->done++ || r == GOOSE_TE_AGAIN)
        abort();
    if (c->headers.len > 256u * 1024 + 64 || c->body.len > GOOSE_HTTP_BODY_CAP)
        abort();
    (*(int *)arg)++;
}

/* How many of the two requests ended (were reported). */
static inline int goose_fuzz_h2_run(const uint8_t *data, size_t size)
{
    static char post[GOOSE_FUZZ_H2_POST];
    struct event_base *base = event_base_new();
    goose_http_setup setup = {.no_env_proxy = 1};
    goose_fuzz_h2_call k[2];
    int ended = 0;
    goose_url_parts parts;
    const char *url = "http://127.0.0.1:1/path?q=1";
    goose_h1_origin o;
    if (!base || goose__url_split(url, &parts) < 0 || !goose__h1_origin(&parts, &setup, &o))
        abort();
    goose_h2 *h = goose__h2_new(base, &setup, 0, goose_fuzz_h2_done, &ended);
    if (!h || (goose__h2_aim(h, &o), goose__h2_fuzz_open(h)) < 0)
        abort();
    goose_http_request req[2] = {
        {.method = "GET", .url = url, .parts = &parts},
        {.method = "POST", .url = url, .parts = &parts, .body = post,
         .body_len = sizeof post, .has_body = 1},
    };
    for (int i = 0; i < 2; i++) {
        memset(&k[i], 0, sizeof k[i]);
        goose__http_capture_init(&k[i].cap);
        if (goose__h2_send(h, &req[i], &k[i].cap) != GOOSE_TE_AGAIN)
            abort();
    }
    size_t piece = size ? (size_t)(data[0] >> 1) * 8 + 1 : 1; /* 1 to 1017 bytes */
    size_t at = size ? 1 : 0;
    while (at < size) {
        size_t n = size - at < piece ? size - at : piece;
        if (goose__h2_fuzz_input(h, data + at, n) < 0)
            break;
        at += n;
    }
    goose__h2_free(h);
    for (int i = 0; i < 2; i++)
        goose__http_capture_free(&k[i].cap);
    event_base_free(base);
    return ended;
}

static inline int goose_fuzz_h2(const uint8_t *data, size_t size)
{
    goose_fuzz_h2_run(data, size);
    return 0;
}

#endif
