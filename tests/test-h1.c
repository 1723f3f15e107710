/* Unit tests for the pure parts of the own HTTP/1.1 client: the response
 * parser (lib/http/h1_response.c) fed in every split and fuzzed, URLs and
 * origins (lib/http/url.c), pinning a loopback name, which row of the
 * transport table takes a URL, header lines.  The connection on the wire
 * is tested in tests/test-http.c.
 *
 * The tests named bug_* show library bugs found while writing these; they
 * fail until the library is fixed.  They come last, so that running the
 * binary without a name runs the others first. */
#include "test.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>

#include "http/h1.h"
#include "http/tls.h"

#define HEAD_CAP (256u * 1024) /* as in lib/http/h1_response.c */
#define CAP GOOSE_HTTP_BODY_CAP

/* xorshift64, fixed seed: every run sees the same inputs. */
static uint64_t rng_state = UINT64_C(0x9e3779b97f4a7c15);

static uint64_t rng(void)
{
    return test_rng(&rng_state);
}

/* ---- feeding the parser ---- */

typedef struct outcome {
    goose_h1_state state;
    goose_terr code;
    const char *error;
    int status, keep_alive;
    size_t used; /* bytes the parser took before it stopped */
    goose_http_capture c;
} outcome;

static void outcome_free(outcome *o)
{
    goose__http_capture_free(&o->c);
}

static int finished(goose_h1_state s)
{
    return s == GOOSE_H1_DONE || s == GOOSE_H1_ERROR;
}

/* Feeds data in pieces that end at cuts[] (ascending), as the connection
 * does: nothing more once the response is done or failed; then, with eof,
 * the connection closes.  Checks what holds for any input. */
static void feed(outcome *o, const char *data, size_t len, int no_body, const size_t *cuts,
                 size_t ncuts, int eof)
{
    goose_h1_parser p;
    goose__h1_parser_start(&p, no_body);
    goose__http_capture_init(&o->c);
    o->used = 0;
    size_t at = 0;
    for (size_t i = 0; i <= ncuts && at < len && !finished(p.state); i++) {
        size_t end = i < ncuts && cuts[i] < len ? cuts[i] : len;
        if (end <= at)
            continue;
        size_t n = goose__h1_parse(&p, &o->c, data + at, end - at);
        ASSERT_LE(n, end - at);
        if (n < end - at && !finished(p.state))
            TEST_FAIL("took %zu of %zu bytes in state %d", n, end - at, (int)p.state);
        o->used += n;
        at = end;
    }
    if (!finished(p.state)) /* waiting for more: it took everything */
        ASSERT_EQ(o->used, len);
    if (p.state == GOOSE_H1_ERROR) {
        ASSERT_NE(p.code, GOOSE_TE_OK);
        ASSERT_NOT_NULL(p.error);
    }
    if (eof) {
        goose_h1_state s = goose__h1_parse_eof(&p);
        ASSERT_EQ(s, p.state);
        ASSERT(finished(s));
    }
    ASSERT_LE(o->c.headers.len, HEAD_CAP);
    ASSERT_LE(o->c.body.len, CAP);
    ASSERT_LE(o->c.body.len, o->c.body_seen);
    o->state = p.state;
    o->code = p.code;
    o->error = p.error;
    o->status = p.status;
    o->keep_alive = p.keep_alive;
}

static int same_buf(const goose_buf *a, const goose_buf *b)
{
    return a->len == b->len && (a->len == 0 || memcmp(a->data, b->data, a->len) == 0);
}

/* The same result; a failure may have got there by another way. */
static void assert_same(const outcome *want, const outcome *got, const char *how, size_t at)
{
    if (want->state != got->state || want->code != got->code ||
        (want->state != GOOSE_H1_ERROR &&
         (want->status != got->status || want->keep_alive != got->keep_alive ||
          want->used != got->used || !same_buf(&want->c.headers, &got->c.headers) ||
          !same_buf(&want->c.body, &got->c.body) || want->c.body_seen != got->c.body_seen)))
        TEST_FAIL("%s %zu: state %d/%d code %d/%d status %d/%d keep_alive %d/%d used %zu/%zu "
                  "headers %zu/%zu body %zu/%zu",
                  how, at, (int)want->state, (int)got->state, (int)want->code,
                  (int)got->code, want->status, got->status, want->keep_alive,
                  got->keep_alive, want->used, got->used, want->c.headers.len,
                  got->c.headers.len, want->c.body.len, got->c.body.len);
}

/* ref: the outcome of the whole input.  Fed byte by byte, and cut in two
 * at every place (in three too, with `three`), it must come out the same. */
static void all_splits(outcome *ref, const char *data, size_t len, int no_body, int eof,
                       int three)
{
    outcome o;
    feed(ref, data, len, no_body, NULL, 0, eof);
    size_t *cuts = calloc(len + 1, sizeof *cuts);
    ASSERT_NOT_NULL(cuts);
    for (size_t i = 0; i + 1 < len; i++)
        cuts[i] = i + 1;
    feed(&o, data, len, no_body, cuts, len ? len - 1 : 0, eof);
    assert_same(ref, &o, "byte by byte, length", len);
    outcome_free(&o);
    free(cuts);
    for (size_t k = 1; k < len; k++) {
        feed(&o, data, len, no_body, &k, 1, eof);
        assert_same(ref, &o, "cut at", k);
        outcome_free(&o);
    }
    for (size_t k = 1; three && k < len; k++) {
        for (size_t m = k + 1; m < len; m++) {
            size_t two[2] = {k, m};
            feed(&o, data, len, no_body, two, 2, eof);
            assert_same(ref, &o, "cut in three, second cut at", m);
            outcome_free(&o);
        }
    }
}

static void check(outcome *ref, const char *text, int no_body, int eof, int three)
{
    all_splits(ref, text, strlen(text), no_body, eof, three);
}

#define ASSERT_BUF(buf, want)                                                    \
    do {                                                                         \
        const goose_buf *b_ = (buf);                                             \
        const char *w_ = (want);                                                 \
        if (b_->len != strlen(w_) || (b_->len && memcmp(b_->data, w_, b_->len))) \
            TEST_FAIL("%s: \"%.*s\" (%zu bytes), want \"%s\"", #buf,             \
                      (int)b_->len, b_->len ? b_->data : "", b_->len, w_);       \
    } while (0)

/* interim heads, head, body, then `extra` (not part of the response):
 * done, with the final head as curl's header callback gives it, and the
 * extra bytes not taken. */
static void expect_interim(const char *interim, const char *head, const char *body,
                           const char *extra, int no_body, int three, int status,
                           int keep_alive, const char *want_body)
{
    size_t n = strlen(interim) + strlen(head) + strlen(body) + strlen(extra);
    char *text = malloc(n + 1);
    ASSERT_NOT_NULL(text);
    snprintf(text, n + 1, "%s%s%s%s", interim, head, body, extra);
    outcome ref;
    check(&ref, text, no_body, 0, three);
    if (ref.state != GOOSE_H1_DONE)
        TEST_FAIL("state %d (code %d, %s) for %s", (int)ref.state, (int)ref.code,
                  ref.error ? ref.error : "-", text);
    ASSERT_EQ(ref.status, status);
    ASSERT_EQ(ref.keep_alive, keep_alive);
    ASSERT_EQ(ref.used, strlen(interim) + strlen(head) + strlen(body));
    /* the final head, then a chunked body's trailers (the body's tail,
     * without its final empty line) */
    size_t hlen = strlen(head), blen = strlen(body), tlen = ref.c.headers.len - hlen;
    size_t last = blen >= 2 && body[blen - 2] == '\r' ? 2 : 1; /* CRLF or LF */
    const char *tail = body + blen - tlen - last;
    ASSERT(ref.c.headers.len >= hlen && memcmp(ref.c.headers.data, head, hlen) == 0);
    if (tlen && (tlen + last > blen || memcmp(ref.c.headers.data + hlen, tail, tlen) != 0))
        TEST_FAIL("headers after the head are not the body's trailers: \"%s\"",
                  ref.c.headers.data + hlen);
    ASSERT_BUF(&ref.c.body, want_body);
    ASSERT_EQ(ref.c.body_seen, strlen(want_body));
    outcome_free(&ref);
    free(text);
}

static void expect_response(const char *head, const char *body, const char *extra,
                            int no_body, int three, int status, int keep_alive,
                            const char *want_body)
{
    expect_interim("", head, body, extra, no_body, three, status, keep_alive, want_body);
}

/* Refused, with this code and these words, however the bytes arrive. */
static void expect_refused(const char *text, size_t len, goose_terr code, const char *why)
{
    outcome ref;
    all_splits(&ref, text, len, 0, 0, 0);
    if (ref.state != GOOSE_H1_ERROR || ref.code != code || strcmp(ref.error, why) != 0)
        TEST_FAIL("state %d code %d \"%s\", want code %d \"%s\", for %.*s", (int)ref.state,
                  (int)ref.code, ref.error ? ref.error : "-", (int)code, why, (int)len, text);
    outcome_free(&ref);
}

static void expect_error(const char *text, int no_body, goose_terr code)
{
    outcome ref;
    check(&ref, text, no_body, 0, 0);
    if (ref.state != GOOSE_H1_ERROR || ref.code != code)
        TEST_FAIL("state %d code %d, want an error with code %d, for %s", (int)ref.state,
                  (int)ref.code, (int)code, text);
    outcome_free(&ref);
}

/* ---- the parser ---- */

TEST(content_length_in_every_split)
{
    expect_response("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 11\r\n\r\n",
                    "hello world", "HTTP/1.1 200 OK\r\n", 0, 1, 200, 1, "hello world");
    expect_response("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n", "", "junk", 0, 1,
                    404, 1, "");
    expect_response("HTTP/1.1 200\r\nContent-Length: 1\r\n\r\n", "x", "", 0, 1, 200, 1, "x");
    /* no reason phrase, spaces around the value, a body with CR LF in it */
    expect_response("HTTP/1.1 500 \r\nContent-Length:   4  \r\n\r\n", "\r\n\r\n", "\r\n", 0, 1,
                    500, 1, "\r\n\r\n");
}

TEST(chunked_in_every_split)
{
    /* extensions, upper and lower case hex, a trailer, then more bytes */
    expect_response("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
                    "5;name=value\r\nhello\r\n"
                    "1A;a=\"b c\";d\r\nabcdefghijklmnopqrstuvwxyz\r\n"
                    "1a\r\nABCDEFGHIJKLMNOPQRSTUVWXYZ\r\n"
                    "0\r\nX-Trailer: yes\r\nX-Other: 1\r\n\r\n",
                    "HTTP/1.1", 0, 1, 200, 1,
                    "helloabcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ");
    /* no trailer; "0000" ends it too; leading zeros in a size */
    expect_response("HTTP/1.1 201 Created\r\nTransfer-Encoding: Chunked\r\n\r\n",
                    "003\r\nabc\r\n0000\r\n\r\n", "x", 0, 1, 201, 1, "abc");
}

/* Trailer lines join the header lines, as curl's header callback has them. */
TEST(trailers_join_the_headers)
{
    outcome ref;
    check(&ref, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                "2\r\nok\r\n0\r\nX-Trailer: yes\r\n\r\n", 0, 0, 0);
    ASSERT_EQ(ref.state, GOOSE_H1_DONE);
    ASSERT_BUF(&ref.c.headers, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                               "X-Trailer: yes\r\n");
    ASSERT_BUF(&ref.c.body, "ok");
    outcome_free(&ref);
    check(&ref, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 0, 0, 0);
    ASSERT_BUF(&ref.c.headers, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
    outcome_free(&ref);
}

TEST(chunked_variants)
{
    char line[256], body[300];
    /* a chunk-size line longer than the parser keeps */
    memset(line, 'x', sizeof line);
    snprintf(body, sizeof body, "3;ext=%.150s\r\nabc\r\n0;%.100s\r\n\r\n", line, line);
    expect_response("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", body, "", 0, 0,
                    200, 1, "abc");
    /* a size with leading zeros, as long a line as the parser keeps */
    snprintf(body, sizeof body, "%064d\r\nhello\r\n0\r\n\r\n", 5);
    expect_response("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", body, "", 0, 0,
                    200, 1, "hello");
    /* Transfer-Encoding wins over Content-Length */
    expect_response("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
                    "2\r\nab\r\n0\r\n\r\n", "", 0, 1, 200, 1, "ab");
    /* the largest size that fits 64 bits: waits for the data */
    outcome o;
    check(&o, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffff\r\nabc", 0,
          0, 0);
    ASSERT_EQ(o.state, GOOSE_H1_CHUNK_DATA);
    ASSERT_BUF(&o.c.body, "abc");
    outcome_free(&o);
}

TEST(bad_chunks_fail)
{
    static const char *const bodies[] = {
        "zz\r\nab\r\n0\r\n\r\n",                /* no hex */
        "\r\nab\r\n0\r\n\r\n",                  /* empty size line */
        ";x\r\nab\r\n0\r\n\r\n",                /* only an extension */
        "10000000000000000\r\nab\r\n",          /* 17 hex digits: past 64 bits */
        "5\r\nhelloX\r\n0\r\n\r\n",             /* no CR LF after the data */
        "5\r\nhello0\r\n\r\n",                  /* the next size line instead */
    };
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        char text[200];
        snprintf(text, sizeof text, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n%s",
                 bodies[i]);
        expect_error(text, 0, GOOSE_TE_RECV);
    }
}

TEST(chunked_must_be_the_last_coding)
{
    expect_response("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
                    "2\r\nab\r\n0\r\n\r\n", "more", 0, 1, 200, 1, "ab");
    expect_response("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n"
                    "Transfer-Encoding: chunked\r\n\r\n",
                    "2\r\nab\r\n0\r\n\r\n", "", 0, 0, 200, 1, "ab");
    expect_response("HTTP/1.1 200 OK\r\nTransfer-Encoding: , chunked ,\r\n\r\n",
                    "2\r\nab\r\n0\r\n\r\n", "", 0, 0, 200, 1, "ab");
    /* chunked, then another coding (or chunked again): refused */
    static const char *const refused[] = {
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked , identity\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: CHUNKED\r\nTransfer-Encoding: chunked\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        char text[200];
        snprintf(text, sizeof text, "%s2\r\nab\r\n0\r\n\r\n", refused[i]);
        expect_refused(text, strlen(text), GOOSE_TE_PROTOCOL,
                       "Transfer-Encoding with chunked not last in the response");
    }
    /* no chunked at all: the body ends with the connection (RFC 9112 6.3) */
    static const char *const until_close[] = {
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunkedx\r\n\r\n",
        /* chunked not last: the length does not count either */
        "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: identity\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof until_close / sizeof until_close[0]; i++) {
        char text[200];
        snprintf(text, sizeof text, "%s2\r\nab\r\n0\r\n\r\n", until_close[i]);
        outcome o;
        check(&o, text, 0, 0, 0);
        ASSERT_EQ(o.state, GOOSE_H1_UNTIL_CLOSE);
        ASSERT_EQ(o.used, strlen(text));
        ASSERT_EQ(o.keep_alive, 0);
        ASSERT_BUF(&o.c.headers, until_close[i]);
        outcome_free(&o);
        check(&o, text, 0, 1, 0);
        ASSERT_EQ(o.state, GOOSE_H1_DONE);
        ASSERT_EQ(o.keep_alive, 0);
        ASSERT_BUF(&o.c.body, "2\r\nab\r\n0\r\n\r\n");
        outcome_free(&o);
    }
}

TEST(head_request_ends_after_the_head)
{
    static const char *const heads[] = {
        "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n", /* not until close */
        "HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof heads / sizeof heads[0]; i++)
        expect_response(heads[i], "", "HTTP/1.1 200 OK\r\n\r\n", 1, 1, i == 3 ? 404 : 200, 1,
                        "");
    /* the same length on a GET is a body */
    outcome o;
    check(&o, heads[0], 0, 0, 0);
    ASSERT_EQ(o.state, GOOSE_H1_BODY);
    outcome_free(&o);
}

TEST(no_body_for_204_and_304)
{
    expect_response("HTTP/1.1 204 No Content\r\n\r\n", "", "HTTP/1.1 200 OK\r\n\r\n", 0, 1,
                    204, 1, "");
    expect_response("HTTP/1.1 304 Not Modified\r\nContent-Length: 100\r\n\r\n", "", "abc", 0, 1,
                    304, 1, "");
    expect_response("HTTP/1.1 204 No Content\r\nTransfer-Encoding: chunked\r\n\r\n", "",
                    "0\r\n\r\n", 0, 0, 204, 1, "");
    expect_response("HTTP/1.1 304 Not Modified\r\nConnection: close\r\n\r\n", "", "", 0, 0,
                    304, 0, "");
    /* 205 and 200 with no length read until the close */
    outcome o;
    check(&o, "HTTP/1.1 205 Reset Content\r\n\r\n", 0, 0, 0);
    ASSERT_EQ(o.state, GOOSE_H1_UNTIL_CLOSE);
    outcome_free(&o);
}

TEST(interim_responses_are_dropped)
{
    static const char interim[] =
        "HTTP/1.1 100 Continue\r\n\r\n"
        "HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n"
        "HTTP/1.1 102 Processing\r\nContent-Length: 5\r\n\r\n";
    expect_interim(interim, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n", "hi", "extra", 0,
                   1, 200, 1, "hi");
    expect_interim(interim, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n", "", "hi", 1, 0,
                   200, 1, "");
    expect_interim("HTTP/1.1 100 Continue\n\n", "HTTP/1.1 204 No Content\n\n", "", "", 0, 0,
                   204, 1, "");
    /* an interim head alone: still waiting for the response */
    outcome o;
    check(&o, interim, 0, 0, 0);
    ASSERT_EQ(o.state, GOOSE_H1_HEAD);
    ASSERT_EQ(o.used, strlen(interim));
    ASSERT_EQ(o.c.headers.len, 0);
    outcome_free(&o);
}

TEST(switching_protocols_is_an_error)
{
    expect_error("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n", 0,
                 GOOSE_TE_PROTOCOL);
    expect_error("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 101 Switching Protocols\r\n\r\n", 1,
                 GOOSE_TE_PROTOCOL);
}

TEST(keep_alive_rules)
{
    static const struct {
        const char *head;
        int keep_alive;
    } cases[] = {
        {"HTTP/1.0 200 OK\r\n", 0},
        {"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n", 1},
        {"HTTP/1.0 200 OK\r\nconnection:Keep-Alive\r\n", 1},
        {"HTTP/1.0 200 OK\r\nConnection: keep-alive, close\r\n", 0},
        {"HTTP/1.0 200 OK\r\nKeep-Alive: timeout=5\r\n", 0},
        {"HTTP/1.1 200 OK\r\n", 1},
        {"HTTP/1.1 200 OK\r\nConnection: close\r\n", 0},
        {"HTTP/1.1 200 OK\r\nConnection: CLOSE\r\n", 0},
        {"HTTP/1.1 200 OK\r\nConnection: Keep-Alive, close\r\n", 0},
        {"HTTP/1.1 200 OK\r\nConnection: Keep-Alive,close\r\n", 0},
        {"HTTP/1.1 200 OK\r\nConnection: upgrade , close \r\n", 0},
        {"HTTP/1.1 200 OK\r\nConnection: keep-alive\r\nConnection: close\r\n", 0},
        {"HTTP/1.1 200 OK\r\nConnection:\tclose\r\n", 0},
        {"HTTP/1.1 200 OK\r\nConnection: closed\r\n", 1},
        {"HTTP/1.1 200 OK\r\nConnection: upgrade\r\n", 1},
        {"HTTP/1.1 200 OK\r\nX-Connection: close\r\n", 1},
        {"HTTP/1.1 200 OK\r\nProxy-Connection: close\r\n", 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char head[200];
        snprintf(head, sizeof head, "%sContent-Length: 2\r\n\r\n", cases[i].head);
        outcome o;
        check(&o, head, 0, 0, 0);
        ASSERT_EQ(o.state, GOOSE_H1_BODY);
        if (o.keep_alive != cases[i].keep_alive)
            TEST_FAIL("keep_alive %d, want %d, for %s", o.keep_alive, cases[i].keep_alive,
                      head);
        outcome_free(&o);
        expect_response(head, "ok", "", 0, 0, 200, cases[i].keep_alive, "ok");
    }
}

TEST(until_close_ends_at_eof)
{
    static const char *const heads[] = {
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n",
        "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n\r\n",
    };
    for (size_t i = 0; i < 2; i++) {
        char text[200];
        snprintf(text, sizeof text, "%sabc\r\n\r\nHTTP/1.1 200 OK\r\n", heads[i]);
        outcome o;
        check(&o, text, 0, 0, 1);
        ASSERT_EQ(o.state, GOOSE_H1_UNTIL_CLOSE);
        ASSERT_EQ(o.used, strlen(text));
        ASSERT_EQ(o.keep_alive, 0);
        ASSERT_BUF(&o.c.headers, heads[i]);
        outcome_free(&o);
        check(&o, text, 0, 1, 0);
        ASSERT_EQ(o.state, GOOSE_H1_DONE);
        ASSERT_EQ(o.keep_alive, 0);
        ASSERT_BUF(&o.c.body, text + strlen(heads[i]));
        outcome_free(&o);
    }
    /* an empty body ending at once */
    outcome o;
    check(&o, heads[0], 0, 1, 0);
    ASSERT_EQ(o.state, GOOSE_H1_DONE);
    ASSERT_EQ(o.c.body_seen, 0);
    outcome_free(&o);
}

TEST(content_length_rules)
{
    expect_response("HTTP/1.1 200 OK\r\nContent-Length: 3\r\ncontent-length:3\r\n\r\n", "abc",
                    "d", 0, 0, 200, 1, "abc");
    expect_response("HTTP/1.1 200 OK\r\nContent-Length: 0003\r\n\r\n", "abc", "", 0, 0, 200, 1,
                    "abc");
    static const char *const bad[] = {
        "3\r\nContent-Length: 4", "3\r\nContent-Length: 0",  "abc", "12a", "-1", "+1",
        "",                       "1 2",                     "0x10", "1.0",
        "99999999999999999999999", "18446744073709551616", /* 2^64 */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char text[200];
        snprintf(text, sizeof text, "HTTP/1.1 200 OK\r\nContent-Length: %s\r\n\r\nabc", bad[i]);
        expect_error(text, 0, GOOSE_TE_PROTOCOL);
        expect_error(text, 1, GOOSE_TE_PROTOCOL); /* even for HEAD */
    }
    /* a huge length that fits: waits for the body */
    outcome o;
    check(&o, "HTTP/1.1 200 OK\r\nContent-Length: 1844674407370955160\r\n\r\nabc", 0, 0, 0);
    ASSERT_EQ(o.state, GOOSE_H1_BODY);
    ASSERT_BUF(&o.c.body, "abc");
    outcome_free(&o);
}

TEST(invalid_status_lines)
{
    static const char *const lines[] = {
        "HTTP/2 200 OK",    "HTTP/1.1 20",       "HELLO",           "HTTP/1.1 200x",
        "HTTP/1.1 2000 OK", "HTTP/1.1  200 OK",  "http/1.1 200 OK", "HTTP/1.1 099 Low",
        "HTTP/1.1 2x0 OK",  "HTTP/1.1\t200 OK",  "HTTP/1.x 200 OK", " HTTP/1.1 200 OK",
        "HTTP/1.1 200\tOK", "",                  "ICY 200 OK",      "HTTP/11 200 OK",
    };
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
        char text[200];
        snprintf(text, sizeof text, "%s\r\nContent-Length: 0\r\n\r\n", lines[i]);
        expect_error(text, 0, GOOSE_TE_PROTOCOL);
        snprintf(text, sizeof text, "%s\n\n", lines[i]);
        expect_error(text, 0, GOOSE_TE_PROTOCOL);
    }
    expect_response("HTTP/1.1 999 Whatever it is\r\nContent-Length: 0\r\n\r\n", "", "", 0, 0,
                    999, 1, "");
}

/* A bare LF ends the status line and a field line (RFC 9112 2.2 allows
 * it, curl takes it), but no line of the chunked framing: RFC 9112 7.1
 * has CRLF there, llhttp refuses a bare LF, curl 7.88 takes it. */
TEST(bare_lf_line_endings)
{
    expect_response("HTTP/1.1 200 OK\nContent-Length: 5\nX: y\n\n", "hello", "\n", 0, 1, 200, 1,
                    "hello");
    expect_response("HTTP/1.1 200 OK\nTransfer-Encoding: chunked\n\n",
                    "5\r\nhello\r\n0\r\nT: 1\n\n", "HTTP", 0, 1, 200, 1, "hello");
    expect_response("HTTP/1.1 200 OK\r\nA: b\nContent-Length: 2\r\n\n",
                    "ok", "", 0, 1, 200, 1, "ok");
    expect_response("HTTP/1.1 200 OK\nConnection: close\n\n", "", "", 1, 0, 200, 0, "");
    static const char *const bodies[] = {
        "5\nhello\n0\nT: 1\n\n", "5\nhello\r\n0\r\n\r\n", "5;a=b\nhello\r\n0\r\n\r\n",
        "5 \nhello\r\n0\r\n\r\n", "5\r\nhello\r\n0\n\r\n",
    };
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        char text[200];
        snprintf(text, sizeof text, "HTTP/1.1 200 OK\nTransfer-Encoding: chunked\n\n%s",
                 bodies[i]);
        expect_refused(text, strlen(text), GOOSE_TE_RECV,
                       "Chunk-size line not ended by CR LF in chunked-encoding");
    }
    expect_refused("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\n0\r\n\r\n",
                   61, GOOSE_TE_RECV, "Malformed encoding found in chunked-encoding");
}

/* ---- strict framing: every shape refused whole, byte by byte and cut
 * anywhere, with its words ---- */

#define CHUNKED_HEAD "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
#define OK_HEAD "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n"

typedef struct shape {
    const char *text;
    size_t len;
    goose_terr code;
    const char *why;
} shape;

#define SHAPE(lit, code, why) {lit, sizeof lit - 1, code, why}

static void expect_all_refused(const shape *shapes, size_t n)
{
    for (size_t i = 0; i < n; i++)
        expect_refused(shapes[i].text, shapes[i].len, shapes[i].code, shapes[i].why);
}

#define HEX_BAD "Illegal or missing hexadecimal sequence in chunked-encoding"
#define NO_CRLF "Chunk-size line not ended by CR LF in chunked-encoding"

/* The issue's case first: "0x" was the last chunk, and what followed
 * trailers taken unchecked: a 200 with an empty body. */
TEST(strict_chunk_size_lines)
{
    static const shape bad[] = {
        SHAPE(CHUNKED_HEAD "0x\r\n\r\n", GOOSE_TE_RECV, HEX_BAD),
        SHAPE(CHUNKED_HEAD "0x5\r\nhello\r\n0\r\n\r\n", GOOSE_TE_RECV, HEX_BAD),
        SHAPE(CHUNKED_HEAD "5x\r\nhello\r\n0\r\n\r\n", GOOSE_TE_RECV, HEX_BAD),
        SHAPE(CHUNKED_HEAD "5 x\r\nhello\r\n0\r\n\r\n", GOOSE_TE_RECV, HEX_BAD),
        SHAPE(CHUNKED_HEAD "0 0\r\n\r\n", GOOSE_TE_RECV, HEX_BAD),
        SHAPE(CHUNKED_HEAD " 5\r\nhello\r\n0\r\n\r\n", GOOSE_TE_RECV, HEX_BAD),
        SHAPE(CHUNKED_HEAD "+5\r\nhello\r\n0\r\n\r\n", GOOSE_TE_RECV, HEX_BAD),
        SHAPE(CHUNKED_HEAD "-5\r\nhello\r\n0\r\n\r\n", GOOSE_TE_RECV, HEX_BAD),
        SHAPE(CHUNKED_HEAD ";a=b\r\nhello\r\n0\r\n\r\n", GOOSE_TE_RECV, HEX_BAD),
        SHAPE(CHUNKED_HEAD "\r\nhello\r\n0\r\n\r\n", GOOSE_TE_RECV, HEX_BAD),
        SHAPE(CHUNKED_HEAD "5\x00\r\nhello\r\n0\r\n\r\n", GOOSE_TE_RECV, HEX_BAD),
        SHAPE(CHUNKED_HEAD "5=\r\nhello\r\n0\r\n\r\n", GOOSE_TE_RECV, HEX_BAD),
        SHAPE(CHUNKED_HEAD "10000000000000005\r\nhello\r\n0\r\n\r\n", GOOSE_TE_RECV,
              "Too long hexadecimal number in chunked-encoding"),
        SHAPE(CHUNKED_HEAD "5;a\x01" "b\r\nhello\r\n0\r\n\r\n", GOOSE_TE_RECV,
              "Invalid chunk extension in chunked-encoding"),
        SHAPE(CHUNKED_HEAD "5;a\x00" "b\r\nhello\r\n0\r\n\r\n", GOOSE_TE_RECV,
              "Invalid chunk extension in chunked-encoding"),
        SHAPE(CHUNKED_HEAD "5;a\x7f\r\nhello\r\n0\r\n\r\n", GOOSE_TE_RECV,
              "Invalid chunk extension in chunked-encoding"),
        SHAPE(CHUNKED_HEAD "5;a\rb\r\nhello\r\n0\r\n\r\n", GOOSE_TE_RECV,
              NO_CRLF),
        SHAPE(CHUNKED_HEAD "5\rhello\r\n0\r\n\r\n", GOOSE_TE_RECV, NO_CRLF),
        SHAPE(CHUNKED_HEAD "5\r\r\nhello\r\n0\r\n\r\n", GOOSE_TE_RECV, NO_CRLF),
        SHAPE(CHUNKED_HEAD "5;a\nhello\r\n0\r\n\r\n", GOOSE_TE_RECV, NO_CRLF),
        SHAPE(CHUNKED_HEAD "0\n\r\n", GOOSE_TE_RECV, NO_CRLF),
    };
    expect_all_refused(bad, sizeof bad / sizeof bad[0]);
    /* whitespace after the size (BWS, as llhttp takes it), extensions
     * with spaces, quotes, tabs and obs-text */
    static const char *const good[] = {
        "5 \r\nhello\r\n0\t\r\n\r\n",     "5\t;a=b\r\nhello\r\n0 ; last\r\n\r\n",
        "5; a = \"b;c\"\r\nhello\r\n0\r\n\r\n", "5;\xe9t\xe9\t\r\nhello\r\n0;\r\n\r\n",
        "05 ;\r\nhello\r\n000\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        expect_response(CHUNKED_HEAD, good[i], "", 0, 0, 200, 1, "hello");
}

TEST(chunk_data_ends_with_crlf)
{
    static const shape bad[] = {
        SHAPE(CHUNKED_HEAD "5\r\nhello\n0\r\n\r\n", GOOSE_TE_RECV, ""),
        SHAPE(CHUNKED_HEAD "5\r\nhello\r0\r\n\r\n", GOOSE_TE_RECV, ""),
        SHAPE(CHUNKED_HEAD "5\r\nhelloX\r\n0\r\n\r\n", GOOSE_TE_RECV, ""),
        SHAPE(CHUNKED_HEAD "5\r\nhello\r\r\n0\r\n\r\n", GOOSE_TE_RECV, ""),
        SHAPE(CHUNKED_HEAD "5\r\nhello \r\n0\r\n\r\n", GOOSE_TE_RECV, ""),
        SHAPE(CHUNKED_HEAD "5\r\nhello0\r\n\r\n", GOOSE_TE_RECV, ""),
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        expect_refused(bad[i].text, bad[i].len, bad[i].code,
                       "Malformed encoding found in chunked-encoding");
}

TEST(strict_trailers)
{
    static const shape bad[] = {
        SHAPE(CHUNKED_HEAD "0\r\nnocolon\r\n\r\n", GOOSE_TE_RECV, "Trailer without colon"),
        SHAPE(CHUNKED_HEAD "2\r\nok\r\n0\r\nhello\r\n0\r\n\r\n", GOOSE_TE_RECV,
              "Trailer without colon"),
        SHAPE(CHUNKED_HEAD "0\r\nX-T : v\r\n\r\n", GOOSE_TE_RECV, "Invalid trailer name"),
        SHAPE(CHUNKED_HEAD "0\r\n: v\r\n\r\n", GOOSE_TE_RECV, "Invalid trailer name"),
        SHAPE(CHUNKED_HEAD "0\r\nX\x01T: v\r\n\r\n", GOOSE_TE_RECV, "Invalid trailer name"),
        SHAPE(CHUNKED_HEAD "0\r\nX(T): v\r\n\r\n", GOOSE_TE_RECV, "Invalid trailer name"),
        SHAPE(CHUNKED_HEAD "0\r\nX-T: a\x00" "b\r\n\r\n", GOOSE_TE_RECV,
              "Nul byte in trailer"),
        SHAPE(CHUNKED_HEAD "0\r\nX-T: a\rb\r\n\r\n", GOOSE_TE_RECV, "Bare CR in trailer"),
        SHAPE(CHUNKED_HEAD "0\r\nX-T: a\r\r\n\r\n", GOOSE_TE_RECV, "Bare CR in trailer"),
        SHAPE(CHUNKED_HEAD "0\r\n\rX: 1\r\n\r\n", GOOSE_TE_RECV, "Bare CR in trailer"),
        SHAPE(CHUNKED_HEAD "0\r\n X-T: a\r\n\r\n", GOOSE_TE_RECV,
              "Whitespace before the first trailer"),
    };
    expect_all_refused(bad, sizeof bad / sizeof bad[0]);
    /* a fold continues a trailer (RFC 9112 5.2; curl takes it); other
     * control bytes and obs-text in a value are kept (RFC 9110 5.5) */
    expect_response(CHUNKED_HEAD, "2\r\nok\r\n0\r\nX-T: a\r\n b\r\nY:\x01\xff\tz\r\n\r\n", "", 0,
                    0, 200, 1, "ok");
}

#define FOLDED "Folded Content-Length, Transfer-Encoding or Connection in the response"
#define BAD_TE "Malformed Transfer-Encoding in the response"

TEST(strict_header_lines)
{
    static const shape bad[] = {
        SHAPE("HTTP/1.1 200 OK\r\nnocolon\r\nContent-Length: 2\r\n\r\nok",
              GOOSE_TE_PROTOCOL, "Header without colon"),
        SHAPE("HTTP/1.1 200 OK\r\nX-A : b\r\n" "Content-Length: 2\r\n\r\nok",
              GOOSE_TE_PROTOCOL, "Invalid header name"),
        SHAPE("HTTP/1.1 200 OK\r\nContent-Length : 2\r\n\r\nok", GOOSE_TE_PROTOCOL,
              "Invalid header name"),
        SHAPE("HTTP/1.1 200 OK\r\nContent-Length\t: 2\r\n\r\nok", GOOSE_TE_PROTOCOL,
              "Invalid header name"),
        SHAPE(OK_HEAD ": b\r\n\r\nok", GOOSE_TE_PROTOCOL, "Invalid header name"),
        SHAPE(OK_HEAD "X\x01" "A: b\r\n\r\nok", GOOSE_TE_PROTOCOL,
              "Invalid header name"),
        SHAPE(OK_HEAD "X\x7f" "A: b\r\n\r\nok", GOOSE_TE_PROTOCOL,
              "Invalid header name"),
        SHAPE(OK_HEAD "X-A: a\x00" "b\r\n\r\nok", GOOSE_TE_PROTOCOL,
              "Nul byte in header"),
        SHAPE(OK_HEAD "X-A: a\rb\r\n\r\nok", GOOSE_TE_PROTOCOL, "Bare CR in header"),
        SHAPE(OK_HEAD "X-A: ab\r\r\n\r\nok", GOOSE_TE_PROTOCOL, "Bare CR in header"),
        SHAPE("HTTP/1.1 200 OK\r\n X-A: a\r\nContent-Length: 2\r\n\r\nok",
              GOOSE_TE_PROTOCOL, "Whitespace before the first header"),
        SHAPE("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n 3\r\n\r\nok", GOOSE_TE_PROTOCOL,
              FOLDED),
        SHAPE("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip,\r\n chunked\r\n\r\nok",
              GOOSE_TE_PROTOCOL,
              FOLDED),
        SHAPE("HTTP/1.1 200 OK\r\nConnection: keep-alive,\r\n close\r\nContent-Length: 2\r\n"
              "\r\nok", GOOSE_TE_PROTOCOL, FOLDED),
        SHAPE("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked x\r\n\r\n0\r\n\r\n",
              GOOSE_TE_PROTOCOL, BAD_TE),
        SHAPE("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked;q=1\r\n\r\n0\r\n\r\n",
              GOOSE_TE_PROTOCOL, BAD_TE),
        SHAPE("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip x, chunked\r\n\r\n0\r\n\r\n",
              GOOSE_TE_PROTOCOL, BAD_TE),
        SHAPE("HTTP/1.1 200 OK\r\nTransfer-Encoding:\r\nContent-Length: 2\r\n\r\nok",
              GOOSE_TE_PROTOCOL, BAD_TE),
        SHAPE("HTTP/1.1 200 OK\r\nTransfer-Encoding: ,\r\nContent-Length: 2\r\n\r\nok",
              GOOSE_TE_PROTOCOL, BAD_TE),
        SHAPE("HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\n\r\nok", GOOSE_TE_PROTOCOL,
              "Invalid Content-Length: value"),
        SHAPE("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nokx",
              GOOSE_TE_PROTOCOL, "Invalid Content-Length: value"),
        SHAPE("HTTP/1.1 200 OK\r\nContent-Length: 2\v\r\n\r\nok", GOOSE_TE_PROTOCOL,
              "Invalid Content-Length: value"),
        /* an interim head is held to the same rules */
        SHAPE("HTTP/1.1 100 Continue\r\nX A: b\r\n\r\n" OK_HEAD "\r\nok",
              GOOSE_TE_PROTOCOL, "Invalid header name"),
    };
    expect_all_refused(bad, sizeof bad / sizeof bad[0]);
    /* parameters on a coding other than chunked, whitespace around */
    expect_response("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip;q=1 , chunked \r\n\r\n",
                    "2\r\nok\r\n0\r\n\r\n", "", 0, 0, 200, 1, "ok");
    /* a fold continues another field; control bytes and obs-text kept */
    expect_response("HTTP/1.1 200 OK\r\nX-A: a\r\n\tb\r\n c\r\nContent-Length: 2\r\n"
                    "X-B: \x01\x7f\xe9\t.\r\nX!#$%&'*+-.^_`|~9: v\r\n\r\n",
                    "ok", "", 0, 0, 200, 1, "ok");
}

TEST(strict_status_lines)
{
    static const shape bad[] = {
        SHAPE("HTTP/1.1 200 O\x01K\r\n" "Content-Length: 2\r\n\r\nok", GOOSE_TE_PROTOCOL,
              "Invalid status line in the response"),
        SHAPE("HTTP/1.1 200 O\rK\r\nContent-Length: 2\r\n\r\nok", GOOSE_TE_PROTOCOL,
              "Invalid status line in the response"),
        SHAPE("HTTP/1.1 200 OK\r\r\nContent-Length: 2\r\n\r\nok", GOOSE_TE_PROTOCOL,
              "Invalid status line in the response"),
        SHAPE("HTTP/1.1 200 O\x00K\r\nContent-Length: 2\r\n\r\nok", GOOSE_TE_PROTOCOL,
              "Invalid status line in the response"),
        SHAPE("HTTP/1.1 200 O\x7fK\r\nContent-Length: 2\r\n\r\nok", GOOSE_TE_PROTOCOL,
              "Invalid status line in the response"),
        SHAPE("HTTP/1.2 200 OK\r\nContent-Length: 2\r\n\r\nok", GOOSE_TE_VERSION,
              "Unsupported HTTP version (1.2) in response"),
        SHAPE("HTTP/1.9 200 OK\r\nContent-Length: 2\r\n\r\nok", GOOSE_TE_VERSION,
              "Unsupported HTTP version (1.9) in response"),
    };
    expect_all_refused(bad, sizeof bad / sizeof bad[0]);
    /* an empty reason, with or without its space; tabs and obs-text */
    expect_response("HTTP/1.1 200\r\nContent-Length: 2\r\n\r\n", "ok", "", 0, 0, 200, 1, "ok");
    expect_response("HTTP/1.1 200 \r\nContent-Length: 2\r\n\r\n", "ok", "", 0, 0, 200, 1, "ok");
    expect_response("HTTP/1.0 200 O\tK \xe9\r\nContent-Length: 2\r\n\r\n", "ok", "", 0, 0, 200,
                    0, "ok");
}

/* "HTTP/1.1 200 OK" ... padded with header lines to `size` bytes. */
static char *big_head(size_t size)
{
    static const char start[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n";
    char *h = malloc(size + 1);
    ASSERT_NOT_NULL(h);
    size_t at = strlen(start);
    memcpy(h, start, at);
    while (at < size - 2) {
        size_t line = size - 2 - at > 1000 ? 1000 : size - 2 - at;
        if (size - 2 - at - line < 12 && size - 2 - at > 1000) /* leave room for a line */
            line -= 12;
        memcpy(h + at, "X-Pad: ", 7);
        memset(h + at + 7, 'a', line - 9);
        memcpy(h + at + line - 2, "\r\n", 2);
        at += line;
    }
    memcpy(h + at, "\r\n", 3);
    return h;
}

TEST(head_size_limit)
{
    static const size_t pieces[] = {0, 1, 4096, 7};
    for (int over = 0; over < 2; over++) {
        size_t size = HEAD_CAP + (size_t)over;
        char *h = big_head(size);
        ASSERT_EQ(strlen(h), size);
        for (size_t i = 0; i < sizeof pieces / sizeof pieces[0]; i++) {
            size_t n = size / (pieces[i] ? pieces[i] : size) + 1, *cuts = malloc(n * sizeof *cuts);
            ASSERT_NOT_NULL(cuts);
            for (size_t k = 0; k < n; k++)
                cuts[k] = pieces[i] ? (k + 1) * pieces[i] : size;
            outcome o;
            feed(&o, h, size, 0, cuts, n, 0);
            if (over) {
                ASSERT_EQ(o.state, GOOSE_H1_ERROR);
                ASSERT_EQ(o.code, GOOSE_TE_RECV);
            } else {
                ASSERT_EQ(o.state, GOOSE_H1_DONE);
                ASSERT_EQ(o.used, size);
                ASSERT_EQ(o.c.headers.len, size);
            }
            outcome_free(&o);
            free(cuts);
        }
        free(h);
    }
    /* no line end at all */
    size_t size = HEAD_CAP + 4096;
    char *junk = malloc(size);
    ASSERT_NOT_NULL(junk);
    memset(junk, 'a', size);
    size_t cuts[] = {100, 200000};
    outcome o;
    feed(&o, junk, size, 0, cuts, 2, 0);
    ASSERT_EQ(o.state, GOOSE_H1_ERROR);
    ASSERT_EQ(o.code, GOOSE_TE_RECV);
    outcome_free(&o);
    feed(&o, junk, HEAD_CAP, 0, cuts, 2, 0); /* as much as allowed: waits */
    ASSERT_EQ(o.state, GOOSE_H1_HEAD);
    outcome_free(&o);
    free(junk);
}

/* Every prefix of head + rest, then the end of the connection. */
static void eof_at_every_byte(const char *head, const char *rest, int until_close)
{
    char text[300];
    snprintf(text, sizeof text, "%s%s", head, rest);
    size_t len = strlen(text), head_len = strlen(head);
    for (size_t k = 0; k <= len; k++) {
        for (int slow = 0; slow < 2; slow++) {
            size_t cuts[1] = {k / 2};
            outcome o;
            feed(&o, text, k, 0, cuts, (size_t)slow, 1);
            goose_terr want = k == 0          ? GOOSE_TE_EMPTY
                            : k < head_len  ? GOOSE_TE_RECV
                            : until_close || k == len ? GOOSE_TE_OK
                                            : GOOSE_TE_PARTIAL;
            if (o.state != (want == GOOSE_TE_OK ? GOOSE_H1_DONE : GOOSE_H1_ERROR) || o.code != want)
                TEST_FAIL("eof after %zu bytes of %s: state %d code %d, want code %d", k, text,
                          (int)o.state, (int)o.code, (int)want);
            outcome_free(&o);
        }
    }
}

TEST(eof_in_every_state)
{
    /* head, body, chunk-size line, chunk data, chunk end, trailer */
    eof_at_every_byte("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", "hello", 0);
    eof_at_every_byte("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
                      "5;x=1\r\nhello\r\n0\r\nT: 1\r\n\r\n", 0);
    eof_at_every_byte("HTTP/1.1 200 OK\r\nServer: x\r\n\r\n", "hello", 1);
    eof_at_every_byte("HTTP/1.1 204 No Content\r\n\r\n", "", 0);
    eof_at_every_byte("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n", "", 0);
    outcome o;
    feed(&o, "HTTP/1.1 200 OK\r\nServer: x\r\n\r\nhello", 35, 0, NULL, 0, 1);
    ASSERT_BUF(&o.c.body, "hello");
    outcome_free(&o);

    /* the end of a done or failed response changes nothing */
    goose_h1_parser p;
    goose_http_capture c;
    goose__http_capture_init(&c);
    goose__h1_parser_start(&p, 0);
    const char *ok = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
    ASSERT_EQ(goose__h1_parse(&p, &c, ok, strlen(ok)), strlen(ok));
    ASSERT_EQ(goose__h1_parse_eof(&p), GOOSE_H1_DONE);
    ASSERT_EQ(goose__h1_parse_eof(&p), GOOSE_H1_DONE);
    ASSERT_EQ(p.code, GOOSE_TE_OK);
    goose__http_capture_reset(&c);
    goose__h1_parser_start(&p, 0);
    ASSERT_EQ(goose__h1_parse_eof(&p), GOOSE_H1_ERROR);
    ASSERT_EQ(p.code, GOOSE_TE_EMPTY);
    goose__h1_parser_start(&p, 0);
    goose__h1_parse(&p, &c, "HTTP/1.1 101 Up\r\n\r\n", 19);
    ASSERT_EQ(p.state, GOOSE_H1_ERROR);
    ASSERT_EQ(goose__h1_parse_eof(&p), GOOSE_H1_ERROR);
    ASSERT_EQ(p.code, GOOSE_TE_PROTOCOL);
    /* a done parser takes nothing more */
    goose__http_capture_reset(&c);
    goose__h1_parser_start(&p, 0);
    ASSERT_EQ(goose__h1_parse(&p, &c, ok, strlen(ok)), strlen(ok));
    ASSERT_EQ(goose__h1_parse(&p, &c, "abc", 3), 0);
    ASSERT_EQ(c.body_seen, 0);
    goose__http_capture_free(&c);
}

/* Body bytes for offset `at`: a pattern that shows misplaced bytes. */
static void pattern(char *buf, size_t len, uint64_t at)
{
    static char period[23 + 4096];
    if (!period[0])
        for (size_t i = 0; i < sizeof period; i++)
            period[i] = (char)('a' + i % 23);
    for (size_t i = 0; i < len; i += 4096)
        memcpy(buf + i, period + (at + i) % 23, len - i < 4096 ? len - i : 4096);
}

static void assert_pattern(const goose_buf *b)
{
    static char want[65536];
    for (size_t at = 0; at < b->len; at += sizeof want) {
        size_t n = b->len - at < sizeof want ? b->len - at : sizeof want;
        pattern(want, n, at);
        if (memcmp(b->data + at, want, n) != 0)
            TEST_FAIL("body differs in the bytes from %zu", at);
    }
}

static void feed_all(goose_h1_parser *p, goose_http_capture *c, const char *s, size_t n)
{
    ASSERT_EQ(goose__h1_parse(p, c, s, n), n);
}

TEST(body_beyond_cap_is_counted_not_kept)
{
    static char piece[1u << 20];
    const uint64_t total = (uint64_t)CAP + 10;
    for (int chunked = 0; chunked < 2; chunked++) {
        goose_h1_parser p;
        goose_http_capture c;
        goose__http_capture_init(&c);
        goose__h1_parser_start(&p, 0);
        char head[100];
        if (chunked)
            snprintf(head, sizeof head, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
        else
            snprintf(head, sizeof head, "HTTP/1.1 200 OK\r\nContent-Length: %llu\r\n\r\n",
                     (unsigned long long)total);
        feed_all(&p, &c, head, strlen(head));
        for (uint64_t at = 0; at < total;) {
            size_t n = total - at < sizeof piece ? (size_t)(total - at) : sizeof piece;
            char size_line[32];
            if (chunked) {
                snprintf(size_line, sizeof size_line, "%zx\r\n", n);
                feed_all(&p, &c, size_line, strlen(size_line));
            }
            pattern(piece, n, at);
            /* in two pieces, the second ends with the response's last byte */
            feed_all(&p, &c, piece, n / 3);
            ASSERT_EQ(goose__h1_parse(&p, &c, piece + n / 3, n - n / 3), n - n / 3);
            at += n;
            if (chunked)
                feed_all(&p, &c, "\r\n", 2);
            if (chunked)
                ASSERT_EQ(p.state, GOOSE_H1_CHUNK_SIZE);
            else
                ASSERT_EQ(p.state, at < total ? GOOSE_H1_BODY : GOOSE_H1_DONE);
        }
        if (chunked)
            ASSERT_EQ(goose__h1_parse(&p, &c, "0\r\n\r\nHTTP", 9), 5);
        ASSERT_EQ(p.state, GOOSE_H1_DONE);
        ASSERT_EQ(p.keep_alive, 1);
        ASSERT_EQ(c.body_seen, total);
        ASSERT_EQ(c.body.len, CAP);
        assert_pattern(&c.body);
        goose__http_capture_free(&c);
    }
}

/* ---- robustness ---- */

static const char *const seeds[] = {
    "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: keep-alive\r\n\r\nhello",
    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;a=b\r\nhello\r\n1A\r\n"
    "abcdefghijklmnopqrstuvwxyz\r\n0\r\nT: v\r\n\r\n",
    "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early\r\nLink: x\r\n\r\n"
    "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi",
    "HTTP/1.0 200 OK\r\nServer: x\r\n\r\nuntil the close",
    "HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n",
    "HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n",
    "HTTP/1.1 200 OK\nTransfer-Encoding: gzip, chunked\n\n3\nabc\n0\n\n",
    "HTTP/1.1 200 OK\r\nContent-Length: 3\r\ncontent-length: 3\r\n\r\nabcHTTP/1.1 200 OK\r\n",
    "HTTP/1.1 500 Oops\r\nTransfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n",
    "HTTP/1.1 101 Switching\r\nUpgrade: h2c\r\n\r\n",
};

static const char alphabet[] = "\r\n\r\n:;, \t0123456789abcdefABCDEFHTP/1.chunkedCL-\x00\x7f\xff"
                               "Content-LengthTransfer-EncodingConnectioncloseHTTP/1.1 ";

static size_t mutate(char *s, size_t len, size_t cap)
{
    int n = 1 + (int)(rng() % 4);
    for (int i = 0; i < n; i++) {
        size_t at = len ? (size_t)(rng() % len) : 0;
        switch (rng() % 6) {
        case 0: /* replace */
            if (len)
                s[at] = alphabet[rng() % (sizeof alphabet - 1)];
            break;
        case 1: /* insert */
            if (len < cap) {
                memmove(s + at + 1, s + at, len - at);
                s[at] = alphabet[rng() % (sizeof alphabet - 1)];
                len++;
            }
            break;
        case 2: /* delete */
            if (len) {
                memmove(s + at, s + at + 1, len - at - 1);
                len--;
            }
            break;
        case 3: { /* repeat a stretch */
            size_t n2 = (size_t)(rng() % 40);
            if (at + n2 > len)
                n2 = len - at;
            if (len + n2 <= cap) {
                memmove(s + at + n2, s + at, len - at);
                len += n2;
            }
            break;
        }
        case 4: /* cut the end */
            len = at;
            break;
        default: /* a random byte */
            if (len)
                s[at] = (char)rng();
            break;
        }
    }
    return len;
}

/* Any input: no crash, never more bytes used than given, and the same
 * result whatever the pieces. */
static void robust(const char *s, size_t len)
{
    int no_body = rng() % 8 == 0, eof = (int)(rng() & 1);
    outcome whole, split;
    feed(&whole, s, len, no_body, NULL, 0, eof);
    if (whole.state == GOOSE_H1_DONE) {
        ASSERT_GE(whole.status, 200);
        ASSERT_LE(whole.status, 999);
    }
    if (whole.state != GOOSE_H1_ERROR && whole.state != GOOSE_H1_HEAD) {
        /* the head is complete: a status line, then lines, then an empty
         * line (a chunked body's trailers may follow) */
        const goose_buf *h = &whole.c.headers;
        ASSERT_GE(h->len, 14);
        ASSERT(memcmp(h->data, "HTTP/1.", 7) == 0);
        ASSERT(memmem(h->data, h->len, "\n\n", 2) || memmem(h->data, h->len, "\n\r\n", 3));
        ASSERT_LE(h->len + whole.c.body_seen, whole.used);
    }
    for (int round = 0; round < 2; round++) {
        size_t cuts[8], n = (size_t)(rng() % 9);
        for (size_t i = 0; i < n; i++)
            cuts[i] = len ? (size_t)(rng() % (len + 1)) : 0;
        for (size_t i = 1; i < n; i++) /* sorted */
            for (size_t j = i; j > 0 && cuts[j - 1] > cuts[j]; j--) {
                size_t t = cuts[j];
                cuts[j] = cuts[j - 1];
                cuts[j - 1] = t;
            }
        feed(&split, s, len, no_body, cuts, n, eof);
        assert_same(&whole, &split, "random pieces, length", len);
        outcome_free(&split);
    }
    outcome_free(&whole);
}

TEST(random_bytes_and_mutations)
{
    char s[2048];
    size_t states[GOOSE_H1_ERROR + 1] = {0};
    for (int round = 0; round < 6000; round++) {
        size_t len;
        if (round % 4 == 0) { /* random bytes, some after a status line */
            len = (size_t)(rng() % 300);
            for (size_t i = 0; i < len; i++)
                s[i] = alphabet[rng() % (sizeof alphabet - 1)];
            if (round % 8 == 0 && len > 17)
                memcpy(s, "HTTP/1.1 200 OK\r\n", 17);
        } else {
            const char *seed = seeds[rng() % (sizeof seeds / sizeof seeds[0])];
            len = strlen(seed);
            memcpy(s, seed, len);
            len = mutate(s, len, sizeof s);
        }
        robust(s, len);
        outcome o;
        feed(&o, s, len, 0, NULL, 0, 0);
        states[o.state]++;
        outcome_free(&o);
    }
    /* the inputs reached every outcome */
    ASSERT_GT(states[GOOSE_H1_DONE], 100);
    ASSERT_GT(states[GOOSE_H1_ERROR], 100);
    ASSERT_GT(states[GOOSE_H1_HEAD], 100);
    ASSERT_GT(states[GOOSE_H1_BODY] + states[GOOSE_H1_CHUNK_SIZE] +
                  states[GOOSE_H1_CHUNK_DATA] + states[GOOSE_H1_TRAILER] +
                  states[GOOSE_H1_UNTIL_CLOSE],
              100);
}

/* ---- URLs ---- */

static goose_url_parts split_ok(const char *url)
{
    goose_url_parts p;
    if (goose__url_split(url, &p) != 0)
        TEST_FAIL("%s: not split", url);
    return p;
}

#define ASSERT_SLICE(s, len, want)                                             \
    do {                                                                       \
        const char *w_ = (want);                                               \
        if ((len) != strlen(w_) || memcmp((s), w_, (len)) != 0)                \
            TEST_FAIL("%s: \"%.*s\", want \"%s\"", #s, (int)(len), (s), w_);   \
    } while (0)

static void expect_split(const char *url, int secure, const char *authority, const char *host,
                         unsigned port, const char *path)
{
    goose_url_parts p = split_ok(url);
    ASSERT_EQ(p.secure, secure);
    ASSERT_SLICE(p.authority, p.authority_len, authority);
    ASSERT_SLICE(p.host, p.host_len, host);
    if (p.port != port)
        TEST_FAIL("%s: port %u, want %u", url, p.port, port);
    ASSERT_SLICE(p.path, p.path_len, path);
}

static void expect_no_split(const char *url)
{
    goose_url_parts p;
    if (goose__url_split(url, &p) != -1)
        TEST_FAIL("%s: split, want -1", url);
}

TEST(url_split_schemes_and_ports)
{
    expect_split("http://127.0.0.1/a", 0, "127.0.0.1", "127.0.0.1", 80, "/a");
    expect_split("https://example.com/", 1, "example.com", "example.com", 443, "/");
    expect_split("HTTP://Example.COM:8080/x", 0, "Example.COM:8080", "Example.COM", 8080, "/x");
    expect_split("HttpS://h:8443", 1, "h:8443", "h", 8443, "");
    expect_split("http://h:1/", 0, "h:1", "h", 1, "/");
    expect_split("http://h:65535/", 0, "h:65535", "h", 65535, "/");
    expect_split("http://h:00080/", 0, "h:00080", "h", 80, "/");
    /* "host:" is the default port, as curl has it */
    expect_split("http://h:/x", 0, "h:", "h", 80, "/x");
    expect_split("https://h:?q", 1, "h:", "h", 443, "?q");
    static const char *const bad[] = {
        "ftp://h/",       "ws://h/",         "file:///etc/hosts", "http:/h/",  "http:h",
        "//h/",           "",                "h/",                "httpx://h", "http://h:0/",
        "http://h:65536/", "http://h:123456/", "http://h:8o/",     "http://h:-1/",
        "http://h:+80/",  "http://h: 80/",   "http://h:80:80/",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        expect_no_split(bad[i]);
}

TEST(url_split_hosts_and_paths)
{
    expect_split("http://[::1]:8080/p", 0, "[::1]:8080", "::1", 8080, "/p");
    expect_split("http://[::1]/p", 0, "[::1]", "::1", 80, "/p");
    expect_split("https://[2001:db8::1]:/", 1, "[2001:db8::1]:", "2001:db8::1", 443, "/");
    expect_no_split("http://[::1/");
    expect_no_split("http://[::1]x/");
    expect_no_split("http://[::1]8080/");
    expect_no_split("http://[]/");
    expect_no_split("http:///p");
    expect_no_split("http://:80/p");
    expect_no_split("http://?q");
    /* user info is skipped for the host; the authority keeps it */
    expect_split("http://u:p@127.0.0.1:8080/x", 0, "u:p@127.0.0.1:8080", "127.0.0.1", 8080,
                 "/x");
    expect_split("http://u@[::1]/", 0, "u@[::1]", "::1", 80, "/");
    /* the path: query kept, fragment dropped, may be empty */
    expect_split("http://h/a/b?x=1&y=2#frag", 0, "h", "h", 80, "/a/b?x=1&y=2");
    expect_split("http://h/a#f?x", 0, "h", "h", 80, "/a");
    expect_split("http://h", 0, "h", "h", 80, "");
    expect_split("http://h?q=1", 0, "h", "h", 80, "?q=1");
    expect_split("http://h:81?q", 0, "h:81", "h", 81, "?q");
    expect_split("http://h#f", 0, "h", "h", 80, "");
    expect_split("http://h/#", 0, "h", "h", 80, "/");
}

static void expect_scope(const char *url, const char *host, const char *path)
{
    goose_url_parts p = split_ok(url);
    goose_buf h, pa;
    goose__buf_init(&h);
    goose__buf_init(&pa);
    ASSERT_EQ(goose__url_cookie_scope(&p, &h, &pa), 0);
    ASSERT_STR_EQ(h.data, host);
    ASSERT_STR_EQ(pa.data, path);
    /* again into the same buffers: replaced, not appended */
    ASSERT_EQ(goose__url_cookie_scope(&p, &h, &pa), 0);
    ASSERT_STR_EQ(h.data, host);
    ASSERT_STR_EQ(pa.data, path);
    goose__buf_free(&h);
    goose__buf_free(&pa);
}

TEST(cookie_scope)
{
    expect_scope("http://Example.COM/a/B?x=1", "example.com", "/a/B");
    expect_scope("https://WWW.example.com:8443/", "www.example.com", "/");
    expect_scope("http://h", "h", "/");
    expect_scope("http://h?q=/x", "h", "/");
    expect_scope("http://h/p#frag?x", "h", "/p");
    expect_scope("http://h/p?", "h", "/p");
    expect_scope("http://[::1]:8080/x/y/", "::1", "/x/y/");
    expect_scope("http://u:P@HOST/a", "host", "/a");
}

/* ---- origins ---- */

static int origin_of(const char *url, const goose_http_setup *setup, goose_h1_origin *o)
{
    goose_url_parts p = split_ok(url);
    memset(o, 0xa5, sizeof *o); /* nothing left over from before counts */
    return goose__h1_origin(&p, setup, o);
}

static void assert_addr(const goose_h1_origin *o, unsigned i, const char *text, unsigned port)
{
    char got[INET6_ADDRSTRLEN] = "";
    unsigned got_port = 0;
    ASSERT_LT(i, o->naddrs);
    const struct sockaddr_storage *ss = &o->addrs[i];
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *v4 = (const struct sockaddr_in *)ss;
        ASSERT_EQ(o->addr_lens[i], sizeof *v4);
        inet_ntop(AF_INET, &v4->sin_addr, got, sizeof got);
        got_port = ntohs(v4->sin_port);
    } else if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *v6 = (const struct sockaddr_in6 *)ss;
        ASSERT_EQ(o->addr_lens[i], sizeof *v6);
        inet_ntop(AF_INET6, &v6->sin6_addr, got, sizeof got);
        got_port = ntohs(v6->sin6_port);
    } else {
        TEST_FAIL("address %u: family %d", i, ss->ss_family);
    }
    ASSERT_STR_EQ(got, text);
    ASSERT_EQ(got_port, port);
}

static void expect_origin(const char *url, const goose_http_setup *setup, const char *addr,
                          unsigned port, const char *authority, const char *host_header)
{
    goose_h1_origin o;
    if (origin_of(url, setup, &o) != 1)
        TEST_FAIL("%s: not taken by the own client", url);
    ASSERT_EQ(o.naddrs, 1);
    ASSERT_EQ(o.port, port);
    assert_addr(&o, 0, addr, port);
    ASSERT_STR_EQ(o.authority, authority);
    ASSERT_EQ(o.host_header_len, strlen(host_header));
    ASSERT_SLICE(o.host_header, o.host_header_len, host_header);
}

static void expect_curl(const char *url, const goose_http_setup *setup)
{
    goose_h1_origin o;
    if (origin_of(url, setup, &o) != 0)
        TEST_FAIL("%s: taken by the own client, want libcurl", url);
}

/* A --resolve list of these entries, for a goose_http_setup. */
static const goose_lines *list_of(const char *const *entries, size_t n)
{
    goose_lines *l = calloc(1, sizeof *l);
    ASSERT_NOT_NULL(l);
    for (size_t i = 0; i < n; i++)
        ASSERT_EQ(goose__lines_add(l, entries[i]), 0);
    return l;
}

static void list_free(const goose_lines *l)
{
    goose__lines_free((goose_lines *)l);
    free((void *)l);
}

TEST(origin_literals_and_host_header)
{
    goose_http_setup s = {.no_env_proxy = 1};
    expect_origin("http://127.0.0.1/", &s, "127.0.0.1", 80, "127.0.0.1", "Host: 127.0.0.1\r\n");
    expect_origin("http://127.0.0.1:80/a", &s, "127.0.0.1", 80, "127.0.0.1:80",
                  "Host: 127.0.0.1\r\n");
    expect_origin("http://127.0.0.1:8080/a?b=c", &s, "127.0.0.1", 8080, "127.0.0.1:8080",
                  "Host: 127.0.0.1:8080\r\n");
    expect_origin("http://10.1.2.3:443", &s, "10.1.2.3", 443, "10.1.2.3:443",
                  "Host: 10.1.2.3:443\r\n");
    expect_origin("http://[::1]:8080/", &s, "::1", 8080, "[::1]:8080", "Host: [::1]:8080\r\n");
    expect_origin("http://[::1]/", &s, "::1", 80, "[::1]", "Host: [::1]\r\n");
    /* an IPv6 address as curl writes it: lower case, zeros folded */
    expect_origin("http://[2001:DB8::7]:81/", &s, "2001:db8::7", 81, "[2001:DB8::7]:81",
                  "Host: [2001:db8::7]:81\r\n");
    /* an empty path or a bare query (the head then asks for "/?q") */
    expect_origin("http://127.0.0.1", &s, "127.0.0.1", 80, "127.0.0.1", "Host: 127.0.0.1\r\n");
    expect_origin("http://127.0.0.1?q=1", &s, "127.0.0.1", 80, "127.0.0.1",
                  "Host: 127.0.0.1\r\n");
    expect_origin("http://127.0.0.1:81#f", &s, "127.0.0.1", 81, "127.0.0.1:81",
                  "Host: 127.0.0.1:81\r\n");
    /* plain paths, dots that are not segments */
    static const char *const plain[] = {
        "http://127.0.0.1/a/b.c?x=1&y=%20z", "http://127.0.0.1/a..b/c.", "http://127.0.0.1/~u/",
        "http://127.0.0.1/a?b=/c", "http://127.0.0.1/a#/./../ x",
    };
    goose_h1_origin o;
    for (size_t i = 0; i < sizeof plain / sizeof plain[0]; i++)
        if (origin_of(plain[i], &s, &o) != 1)
            TEST_FAIL("%s: not taken by the own client", plain[i]);
    /* the longest authority that fits, and one byte more */
    char url[600], host[300];
    memset(host, 'a', sizeof host);
    snprintf(url, sizeof url, "http://%.*s:8080/", 263 - 5, host);
    goose_buf resolve_line;
    goose__buf_init(&resolve_line);
    ASSERT_EQ(goose__buf_printf(&resolve_line, "%.*s:8080:127.0.0.1", 263 - 5, host), 0);
    const char *line = resolve_line.data;
    const goose_lines *r = list_of(&line, 1);
    s.resolve = r;
    ASSERT_EQ(origin_of(url, &s, &o), 1);
    ASSERT_EQ(o.host_header_len, strlen("Host: \r\n") + 263);
    goose__buf_clear(&resolve_line);
    ASSERT_EQ(goose__buf_printf(&resolve_line, "%.*s:8080:127.0.0.1", 263 - 4, host), 0);
    list_free(r);
    line = resolve_line.data;
    r = list_of(&line, 1);
    s.resolve = r;
    snprintf(url, sizeof url, "http://%.*s:8080/", 263 - 4, host);
    ASSERT_EQ(origin_of(url, &s, &o), 0);
    list_free(r);
    goose__buf_free(&resolve_line);
}

TEST(origin_declines_what_curl_must_take)
{
    goose_http_setup s = {.no_env_proxy = 1};
    static const char *const urls[] = {
        "https://127.0.0.1/",          /* TLS */
        "https://[::1]:8443/",
        "http://u:p@127.0.0.1/",       /* user info */
        "http://u@127.0.0.1:8080/",
        "http://example.com/",         /* needs DNS */
        "http://localhost.example/",
        "http://127.1/",               /* IPv4 forms only curl reads */
        "http://2130706433/",
        "http://[fe80::1%25eth0]/",    /* a zone */
        "http://127.0.0.1/a b",        /* characters curl would encode */
        "http://127.0.0.1/caf\xc3\xa9",
        "http://127.0.0.1/a\tb",
        "http://127.0.0.1/a\x7f",
        "http://127.0.0.1/a\"b\x01",
        "http://127.0.0.1/./a",        /* dot segments curl would remove */
        "http://127.0.0.1/a/../b",
        "http://127.0.0.1/a/.",
        "http://127.0.0.1/a/..",
    };
    for (size_t i = 0; i < sizeof urls / sizeof urls[0]; i++)
        expect_curl(urls[i], &s);
    /* a proxy may be set in the environment: curl decides */
    s.no_env_proxy = 0;
    expect_curl("http://127.0.0.1/", &s);
    expect_curl("http://localhost:8080/", &s);
}

TEST(origin_localhost_two_addresses)
{
    goose_http_setup s = {.no_env_proxy = 1};
    static const char *const urls[] = {"http://localhost:8080/x", "http://LocalHost:8080"};
    for (size_t i = 0; i < 2; i++) {
        goose_h1_origin o;
        ASSERT_EQ(origin_of(urls[i], &s, &o), 1);
        ASSERT_EQ(o.naddrs, 2);
        assert_addr(&o, 0, "127.0.0.1", 8080);
        assert_addr(&o, 1, "::1", 8080);
        ASSERT_EQ(o.port, 8080);
    }
    goose_h1_origin o;
    ASSERT_EQ(origin_of("http://localhost/", &s, &o), 1);
    ASSERT_EQ(o.naddrs, 2);
    assert_addr(&o, 1, "::1", 80);
    ASSERT_STR_EQ(o.authority, "localhost");
    ASSERT_SLICE(o.host_header, o.host_header_len, "Host: localhost\r\n");
    /* only the name itself */
    expect_curl("http://localhost./", &s);
    expect_curl("http://my.localhost/", &s);
    expect_curl("http://localhostx/", &s);
}


TEST(origin_resolve_entries)
{
    static const char *const entries[] = {
        "example.test:9090:127.0.0.9",
        "-example.test:9090",            /* a removal of the one before */
        "other.test:8080:10.0.0.1",
        "example.test:8080:127.0.0.2",
        "+Example.Test:8081:127.0.0.3",  /* "+": also taken; names in any case */
        "example.test:8082:[::1]",
        "example.test:8083:::1",
        "example.test:8084:not-an-address",
        "example.test:80:127.0.0.4",
        "127.0.0.1:8085:127.0.0.5",      /* even for an IP literal */
    };
    goose_http_setup s = {.no_env_proxy = 1};
    s.resolve = list_of(entries, sizeof entries / sizeof entries[0]);
    expect_origin("http://example.test:8080/", &s, "127.0.0.2", 8080, "example.test:8080",
                  "Host: example.test:8080\r\n");
    expect_origin("http://EXAMPLE.test:8080/", &s, "127.0.0.2", 8080, "EXAMPLE.test:8080",
                  "Host: EXAMPLE.test:8080\r\n");
    expect_origin("http://example.test:8081/", &s, "127.0.0.3", 8081, "example.test:8081",
                  "Host: example.test:8081\r\n");
    expect_origin("http://example.test:8082/", &s, "::1", 8082, "example.test:8082",
                  "Host: example.test:8082\r\n");
    expect_origin("http://example.test:8083/", &s, "::1", 8083, "example.test:8083",
                  "Host: example.test:8083\r\n");
    expect_origin("http://example.test/", &s, "127.0.0.4", 80, "example.test",
                  "Host: example.test\r\n");
    expect_origin("http://127.0.0.1:8085/", &s, "127.0.0.5", 8085, "127.0.0.1:8085",
                  "Host: 127.0.0.1:8085\r\n");
    expect_origin("http://127.0.0.1:8086/", &s, "127.0.0.1", 8086, "127.0.0.1:8086",
                  "Host: 127.0.0.1:8086\r\n");
    expect_curl("http://example.test:9090/", &s);  /* removed */
    expect_curl("http://-example.test:9090/", &s); /* the "-" is no part of the name */
    expect_curl("http://example.test:8084/", &s);  /* no usable address */
    expect_curl("http://example.test:8079/", &s);  /* another port */
    expect_curl("http://example.test:18080/", &s);
    expect_curl("http://example.tes:8080/", &s);   /* another host */
    expect_curl("http://xexample.test:8080/", &s);
    expect_curl("http://example.test.:8080/", &s);
    expect_curl("https://example.test:8080/", &s); /* TLS */
    expect_curl("http://u@example.test:8080/", &s);
    s.no_env_proxy = 0;
    expect_curl("http://example.test:8080/", &s);
    list_free(s.resolve);

    /* a later entry replaces an earlier one, as in curl's DNS cache */
    static const char *const twice[] = {"a.test:80:127.0.0.8", "a.test:80:127.0.0.7"};
    goose_http_setup s2 = {.no_env_proxy = 1};
    s2.resolve = list_of(twice, 2);
    expect_origin("http://a.test/", &s2, "127.0.0.7", 80, "a.test", "Host: a.test\r\n");
    list_free(s2.resolve);
}

/* ---- pinning ---- */

static int is_loopback(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET)
        return ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr) >> 24 == 127;
    if (sa->sa_family == AF_INET6)
        return IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)sa)->sin6_addr);
    return 0;
}

/* Whether getaddrinfo gives `name` loopback addresses only; the first
 * one's text into first. */
static int resolves_to_loopback(const char *name, char *first, size_t size)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res;
    if (getaddrinfo(name, "8080", &hints, &res) != 0)
        return 0;
    int ok = res != NULL;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next)
        ok &= is_loopback(ai->ai_addr);
    if (ok) {
        const void *a = res->ai_family == AF_INET
                            ? (const void *)&((struct sockaddr_in *)res->ai_addr)->sin_addr
                            : (const void *)&((struct sockaddr_in6 *)res->ai_addr)->sin6_addr;
        ok = inet_ntop(res->ai_family, a, first, (socklen_t)size) != NULL;
    }
    freeaddrinfo(res);
    return ok;
}

/* A name other than localhost that /etc/hosts gives a loopback address
 * (ip6-localhost first), so that looking it up asks no DNS server. */
static int loopback_name(char *name, size_t size, char *addr, size_t addr_size)
{
    FILE *f = fopen("/etc/hosts", "r");
    char line[512];
    int found = 0;
    while (f && fgets(line, sizeof line, f)) {
        line[strcspn(line, "#")] = '\0';
        char *save, *field = strtok_r(line, " \t\r\n", &save);
        struct in6_addr a6;
        struct in_addr a4;
        if (!field || !((inet_pton(AF_INET, field, &a4) == 1 && ntohl(a4.s_addr) >> 24 == 127) ||
                        (inet_pton(AF_INET6, field, &a6) == 1 && IN6_IS_ADDR_LOOPBACK(&a6))))
            continue;
        while ((field = strtok_r(NULL, " \t\r\n", &save))) {
            if (strcasecmp(field, "localhost") == 0 || strlen(field) >= size ||
                strspn(field, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-") !=
                    strlen(field) ||
                !resolves_to_loopback(field, addr, addr_size))
                continue;
            if (!found || strcmp(field, "ip6-localhost") == 0) {
                snprintf(name, size, "%s", field);
                found = 1;
            }
        }
    }
    if (f)
        fclose(f);
    return found && resolves_to_loopback(name, addr, addr_size);
}

TEST(pin_loopback_name)
{
    char name[128], addr[INET6_ADDRSTRLEN], url[256], want[300];
    if (!loopback_name(name, sizeof name, addr, sizeof addr))
        TEST_SKIP("no name in /etc/hosts for a loopback address");
    goose_lines pins = {0};
    goose_http_setup s = {.no_env_proxy = 1, .resolve = &pins};
    snprintf(url, sizeof url, "http://%s:8080/x?y", name);
    expect_curl(url, &s); /* not before it is pinned */

    /* nothing to pin: literals, localhost, other schemes */
    static const char *const nothing[] = {
        "http://127.0.0.1:8080/", "http://[::1]/", "http://localhost:8080/",
        "ftp://x/",               "not a url",     "http://:80/",
    };
    for (size_t i = 0; i < sizeof nothing / sizeof nothing[0]; i++)
        ASSERT_EQ(goose__http_pin(&pins, nothing[i]), 0);
    ASSERT_EQ(goose__http_pin(&pins, NULL), 0);
    ASSERT_EQ(goose__http_pin(&pins, "https://127.0.0.1/"), 0);
    ASSERT_EQ(pins.n, 0);

    ASSERT_EQ(goose__http_pin(&pins, url), 0);
    ASSERT_EQ(pins.n, 1);
    snprintf(want, sizeof want, "%s:8080:", name);
    if (strncmp(pins.buf.data, want, strlen(want)) != 0)
        TEST_FAIL("pinned \"%s\", want it to start with \"%s\"", pins.buf.data, want);
    goose_h1_origin o;
    ASSERT_EQ(origin_of(url, &s, &o), 1);
    assert_addr(&o, 0, addr, 8080);
    snprintf(want, sizeof want, "Host: %s:8080\r\n", name);
    ASSERT_SLICE(o.host_header, o.host_header_len, want);
    /* once is enough; another port is another entry */
    ASSERT_EQ(goose__http_pin(&pins, url), 0);
    ASSERT_EQ(pins.n, 1);
    snprintf(url, sizeof url, "http://%s/", name);
    expect_curl(url, &s);
    ASSERT_EQ(goose__http_pin(&pins, url), 0);
    ASSERT_EQ(pins.n, 2);
    ASSERT_EQ(origin_of(url, &s, &o), 1);
    assert_addr(&o, 0, addr, 80);
    snprintf(want, sizeof want, "Host: %s\r\n", name);
    ASSERT_SLICE(o.host_header, o.host_header_len, want);
    snprintf(url, sizeof url, "http://%s:8081/", name);
    expect_curl(url, &s);

    /* https too, which the own client carries over TLS: SNI and the
     * certificate check get the name, Host no :443 */
    char err[160];
    s.tls_ctx = goose__tls_ctx_new(&s.tls, err, sizeof err);
    ASSERT_NOT_NULL(s.tls_ctx);
    snprintf(url, sizeof url, "https://%s/", name);
    expect_curl(url, &s);
    ASSERT_EQ(goose__http_pin(&pins, url), 0);
    ASSERT_EQ(pins.n, 3);
    ASSERT_EQ(origin_of(url, &s, &o), 1);
    assert_addr(&o, 0, addr, 443);
    ASSERT_EQ(o.secure, 1);
    ASSERT_STR_EQ(o.tls_host, name);
    snprintf(want, sizeof want, "Host: %s\r\n", name);
    ASSERT_SLICE(o.host_header, o.host_header_len, want);
    goose__tls_ctx_free(s.tls_ctx);
    goose__lines_free(&pins);

    /* a --resolve entry for the name: nothing to pin */
    snprintf(want, sizeof want, "%s:8080:127.0.0.1", name);
    goose_lines given = {0};
    ASSERT_EQ(goose__lines_add(&given, want), 0);
    snprintf(url, sizeof url, "http://%s:8080/", name);
    ASSERT_EQ(goose__http_pin(&given, url), 0);
    ASSERT_EQ(given.n, 1);
    goose__lines_free(&given);
}

/* ---- bugs these tests found (fixed) ---- */

/* Was a bug: "Connection: keep-alive,<TAB>close" -- a tab after the comma is
 * optional whitespace (RFC 9110 5.6.1), and curl sees "close" there, but
 * has_token() in h1_response.c skips only spaces before a list element:
 * the connection is kept although the server said it closes it. */
TEST(connection_close_after_a_tab)
{
    expect_response("HTTP/1.1 200 OK\r\nConnection: keep-alive,\tclose\r\n"
                    "Content-Length: 0\r\n\r\n",
                    "", "", 0, 0, 200, 0, "");
}

/* Was a bug: a --resolve entry "HOST:PORT:ADDR,ADDR" (and what goose__http_pin
 * writes for a name with two addresses) gives the own client only its
 * first address (resolve_entry() in url.c), while curl tries each and
 * localhost gets two: when the first refuses (a server on 127.0.0.1 only,
 * the name's first address ::1), the own client fails where curl would
 * have connected. */
TEST(resolve_entry_gives_every_address)
{
    static const char *const entries[] = {"two.test:8080:[::1],127.0.0.1"};
    goose_http_setup s = {.no_env_proxy = 1};
    s.resolve = list_of(entries, 1);
    goose_h1_origin o;
    ASSERT_EQ(origin_of("http://two.test:8080/", &s, &o), 1);
    assert_addr(&o, 0, "::1", 8080);
    list_free(s.resolve);
    ASSERT_EQ(o.naddrs, 2);
    assert_addr(&o, 1, "127.0.0.1", 8080);
}

/* ---- the transport table ---- */

/* The name of the first row that takes url, as the engine asks them. */
static const char *first_taker(void *const *runs, const char *url)
{
    goose_url_parts p;
    goose_http_request req = {.method = "GET", .url = url};
    if (goose__url_split(url, &p) == 0)
        req.parts = &p;
    for (size_t i = 0; i < GOOSE_TRANSPORTS; i++)
        if (goose__transports[i]->takes(runs[i], NULL, &req))
            return goose__transports[i]->name;
    return "none";
}

/* The own client takes what it carries; libcurl, the last row, takes
 * everything else, so no request is left without a transport. */
TEST(transport_rows_take_in_order)
{
    static const char *const own[] = {"http://127.0.0.1:8080/x?y", "http://localhost/",
                                      "http://[::1]:81/"};
    static const char *const curl[] = {"https://127.0.0.1/", "http://127.0.0.1/a/../b",
                                       "http://example.invalid/", "ftp://127.0.0.1/",
                                       "not a url", "HTTPS://localhost/"};
    goose_http_setup s = {.no_env_proxy = 1};
    void *runs[GOOSE_TRANSPORTS] = {0};
    char err[128];
    for (size_t i = 0; i < GOOSE_TRANSPORTS; i++)
        ASSERT_EQ(goose__transports[i]->run_new(&runs[i], &s, err, sizeof err), 0);
    for (size_t i = 0; i < sizeof own / sizeof own[0]; i++)
        ASSERT_STR_EQ(first_taker(runs, own[i]), "http/1.1");
    for (size_t i = 0; i < sizeof curl / sizeof curl[0]; i++)
        ASSERT_STR_EQ(first_taker(runs, curl[i]), "libcurl");
    s.no_env_proxy = 0; /* a proxy variable: libcurl decides */
    ASSERT_STR_EQ(first_taker(runs, own[0]), "libcurl");
    for (size_t i = 0; i < GOOSE_TRANSPORTS; i++)
        goose__transports[i]->run_free(runs[i]);
}

/* A request's own header lines, as curl reads a header list: "Name;" is
 * sent empty, "Name:" only takes a default away (sends nothing). */
TEST(header_lines)
{
    goose_lines l = {0};
    size_t len = 99;
    ASSERT_NULL(goose__http_list_value(NULL, "Host", &len));
    ASSERT_NULL(goose__lines_next(&l, NULL));
    ASSERT_EQ(goose__lines_add(&l, "X-Empty;"), 0);
    ASSERT_EQ(goose__lines_add(&l, "Accept:"), 0);
    ASSERT_EQ(goose__lines_add(&l, "host:  example.test"), 0);
    ASSERT_EQ(l.n, 3);
    const char *v = goose__http_list_value(&l, "Host", &len);
    ASSERT_NOT_NULL(v);
    ASSERT_SLICE(v, len, "example.test");
    v = goose__http_list_value(&l, "X-Empty", &len);
    ASSERT_NOT_NULL(v);
    ASSERT_EQ(len, 0);
    ASSERT_NULL(goose__http_list_value(&l, "Accept", &len));
    ASSERT_EQ(goose__http_list_names(&l, "Accept"), 1);
    ASSERT_EQ(goose__http_list_names(&l, "X-Emp"), 0);
    const char *line = NULL;
    size_t n = 0;
    while ((line = goose__lines_next(&l, line)))
        n++;
    ASSERT_EQ(n, 3);
    goose__lines_free(&l);
}

/* Was a bug: the parser keeps the first 64 bytes of a chunk-size line, so a
 * size written with more leading zeros than that ("000...0005") reads as
 * 0: the chunk's data and the rest are taken as trailers and the response
 * ends "done" with an empty body.  curl fails on such a line; either that
 * or the right size would do, not a wrong body. */
TEST(chunk_size_past_64_leading_zeros)
{
    char text[300];
    snprintf(text, sizeof text,
             "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n%070d\r\nhello\r\n0\r\n\r\n", 5);
    outcome o;
    check(&o, text, 0, 0, 0);
    int right = o.state == GOOSE_H1_DONE && o.c.body.len == 5;
    int refused = o.state == GOOSE_H1_ERROR;
    if (!right && !refused)
        TEST_FAIL("state %d, body \"%.*s\": neither the chunk nor an error", (int)o.state,
                  (int)o.c.body.len, o.c.body.len ? o.c.body.data : "");
    outcome_free(&o);
}

/* Was a bug: "http://[127.0.0.1]/" is no URL for curl ("URL using bad/illegal
 * format", CURLE_URL_MALFORMAT), but the own client takes it and connects
 * to 127.0.0.1: the two clients disagree on which URLs exist. */
TEST(bracketed_ipv4_goes_to_curl)
{
    goose_http_setup s = {.no_env_proxy = 1};
    expect_curl("http://[127.0.0.1]:8080/", &s);
}

/* ---- as curl does it ---- */

/* CURLOPT_RESOLVE(3): "This wildcard is resolved last so any resolve with
 * a specific host and port number is given priority." */
TEST(wildcard_resolve_entry_is_taken_last)
{
    static const char *const entries[] = {"a.test:80:127.0.0.2", "*:80:127.0.0.3"};
    goose_http_setup s = {.no_env_proxy = 1};
    s.resolve = list_of(entries, 2);
    goose_h1_origin o;
    ASSERT_EQ(origin_of("http://a.test/", &s, &o), 1);
    list_free(s.resolve);
    assert_addr(&o, 0, "127.0.0.2", 80);
}

/* curl 7.88 writes an IPv6 literal in its shortest form in the Host header
 * ("curl http://[0:0::1]:P/" sends "Host: [::1]:P"), and so does the own
 * client. */
TEST(ipv6_host_header_as_curl_writes_it)
{
    goose_http_setup s = {.no_env_proxy = 1};
    goose_h1_origin o;
    ASSERT_EQ(origin_of("http://[0:0::1]:8080/", &s, &o), 1);
    ASSERT_SLICE(o.host_header, o.host_header_len, "Host: [::1]:8080\r\n");
}

/* curl 7.88 rewrites an IPv4 address written short ("127.1", "0x7f000001")
 * and sends "Host: 127.0.0.1:8080": such hosts are not pinned and go to
 * curl, so the Host header is curl's.  A name whose last label happens to
 * be hex letters is still a name. */
TEST(short_ipv4_forms_are_left_to_curl)
{
    goose_lines pins = {0};
    goose_http_setup s = {.no_env_proxy = 1, .resolve = &pins};
    ASSERT_EQ(goose__http_pin(&pins, "http://127.1:8080"), 0);
    goose_h1_origin o;
    ASSERT_EQ(pins.n, 0); /* not pinned: curl rewrites it */
    ASSERT_EQ(origin_of("http://127.1:8080/", &s, &o), 0);
    ASSERT_EQ(goose__http_pin(&pins, "http://0x7f000001:8080"), 0);
    ASSERT_EQ(pins.n, 0);
    ASSERT_EQ(goose__http_pin(&pins, "http://api.beef:8080"), 0); /* a name (DNS may fail) */
    goose__lines_free(&pins);
}

TEST_MAIN(TEST_ENTRY(content_length_in_every_split), TEST_ENTRY(chunked_in_every_split),
          TEST_ENTRY(trailers_join_the_headers), TEST_ENTRY(chunked_variants), TEST_ENTRY(bad_chunks_fail),
          TEST_ENTRY(chunked_must_be_the_last_coding),
          TEST_ENTRY(head_request_ends_after_the_head), TEST_ENTRY(no_body_for_204_and_304),
          TEST_ENTRY(interim_responses_are_dropped), TEST_ENTRY(switching_protocols_is_an_error),
          TEST_ENTRY(keep_alive_rules), TEST_ENTRY(until_close_ends_at_eof),
          TEST_ENTRY(content_length_rules), TEST_ENTRY(invalid_status_lines),
          TEST_ENTRY(bare_lf_line_endings), TEST_ENTRY(strict_chunk_size_lines),
          TEST_ENTRY(chunk_data_ends_with_crlf), TEST_ENTRY(strict_trailers),
          TEST_ENTRY(strict_header_lines), TEST_ENTRY(strict_status_lines),
          TEST_ENTRY(head_size_limit),
          TEST_ENTRY(eof_in_every_state), TEST_ENTRY(body_beyond_cap_is_counted_not_kept),
          TEST_ENTRY(random_bytes_and_mutations), TEST_ENTRY(url_split_schemes_and_ports),
          TEST_ENTRY(url_split_hosts_and_paths), TEST_ENTRY(cookie_scope),
          TEST_ENTRY(origin_literals_and_host_header),
          TEST_ENTRY(origin_declines_what_curl_must_take),
          TEST_ENTRY(origin_localhost_two_addresses), TEST_ENTRY(origin_resolve_entries),
          TEST_ENTRY(pin_loopback_name), TEST_ENTRY(connection_close_after_a_tab),
          TEST_ENTRY(resolve_entry_gives_every_address),
          TEST_ENTRY(chunk_size_past_64_leading_zeros), TEST_ENTRY(bracketed_ipv4_goes_to_curl),
          TEST_ENTRY(wildcard_resolve_entry_is_taken_last),
          TEST_ENTRY(ipv6_host_header_as_curl_writes_it),
          TEST_ENTRY(transport_rows_take_in_order), TEST_ENTRY(header_lines),
          TEST_ENTRY(short_ipv4_forms_are_left_to_curl))
