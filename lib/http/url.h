/* Absolute http(s) URLs split in place (url.c), as the transports, the
 * cookie jar and redirects need them. */
#ifndef GOOSE_HTTP_URL_H
#define GOOSE_HTTP_URL_H

#include <stddef.h>

#include "util/buf.h"

/* An absolute http(s) URL, split in place (slices of the URL). */
typedef struct goose_url_parts {
    int secure;              /* https */
    const char *authority;   /* host[:port], as written */
    size_t authority_len;
    const char *host;        /* without brackets or port */
    size_t host_len;
    unsigned port;
    const char *path;        /* from the first '/' or '?', up to '#'; may be empty */
    size_t path_len;
} goose_url_parts;

/* Whether url starts with http:// or https:// (any case). */
int goose__url_is_absolute(const char *url);
/* 0, or -1 when url is not http(s)://AUTHORITY[/...]. */
int goose__url_split(const char *url, goose_url_parts *out);
/* Whether two URLs are of one origin: scheme, host (any case) and port. */
int goose__url_same_origin(const goose_url_parts *a, const goose_url_parts *b);
/* The host in lower case and the path without its query ("/" when empty),
 * as cookies need them; -1 when out of memory. */
int goose__url_cookie_scope(const goose_url_parts *p, goose_buf *host, goose_buf *path);
/* Plain printable characters and no dot segments: a path every transport
 * sends as written. */
int goose__url_plain_path(const char *path, size_t len);

#endif
