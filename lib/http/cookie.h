/* A virtual user's cookie jar, pure data: Set-Cookie headers in, a Cookie
 * header out, as RFC 6265 section 5 has a user agent do it (no public-suffix
 * list).  One per user, shared by every transport (transport.h). */
#ifndef GOOSE_HTTP_COOKIE_H
#define GOOSE_HTTP_COOKIE_H

#include <stddef.h>

#include "util/buf.h"

#define GOOSE_COOKIES_MAX 300         /* per jar; the oldest-created goes */
#define GOOSE_COOKIE_PAIR_MAX 4096    /* name + value bytes; bigger ones are ignored */

typedef struct goose_cookie goose_cookie;

/* Kept sorted in the order the Cookie header lists them: longer paths
 * first, then earlier creation.  All zeros is an empty jar. */
typedef struct goose_cookie_jar {
    goose_cookie *cookies;
    size_t n, cap;
    unsigned long long next_order; /* creation order, for the header order rule */
} goose_cookie_jar;

void goose__cookies_init(goose_cookie_jar *j);
/* Frees everything; the jar is then empty and can be used again. */
void goose__cookies_free(goose_cookie_jar *j);

static inline int goose__cookies_empty(const goose_cookie_jar *j)
{
    return j->n == 0;
}

/* Stores one Set-Cookie header value (leading spaces and a trailing CR/LF
 * allowed) received for http(s)://host/request_path; host has no port, an
 * IPv6 literal no brackets.  secure: the request was https; now: Unix
 * seconds.  Returns 0 (stored, replaced, deleted or ignored as invalid),
 * -1 when out of memory (the jar is unchanged). */
int goose__cookies_store(goose_cookie_jar *j, const char *host, const char *request_path,
                         int secure, const char *value, size_t len, long long now);

/* Stores every Set-Cookie line of a raw header block ("Name: value\r\n"
 * lines, a status line allowed).  Returns 0, or -1 when out of memory. */
int goose__cookies_store_headers(goose_cookie_jar *j, const char *host, const char *request_path,
                                 int secure, const char *headers, size_t len, long long now);

/* Appends the Cookie header value for host/path ("a=1; b=2") to out and
 * returns how many cookies it holds; -1 when out of memory (out unchanged).
 * Expired cookies are dropped from the jar on the way. */
int goose__cookies_header(goose_cookie_jar *j, const char *host, const char *path,
                          int secure, long long now, goose_buf *out);

#endif
