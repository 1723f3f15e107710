/* What every transport and the engine share, in their own words: a
 * request (method, URL, the request's own header lines, body), the bounded
 * capture a response fills, the run's HTTP settings, and helpers on
 * headers.  No transport's types appear here (see transport.h). */
#ifndef GOOSE_HTTP_HTTP_H
#define GOOSE_HTTP_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "http/url.h"
#include "util/buf.h"
#include <goose/version.h>

#define GOOSE_HTTP_USER_AGENT "User-Agent: libgoose/" GOOSE_VERSION_STRING

/* Strings kept one after another in one buffer, each ending in '\0': a
 * request's own header lines, the --resolve entries. */
typedef struct goose_lines {
    goose_buf buf;
    size_t n;
} goose_lines;

/* 0, or -1 when out of memory (the list is unchanged). */
int goose__lines_add(goose_lines *l, const char *s);
/* The line after prev (the first when prev is NULL); NULL after the last. */
static inline const char *goose__lines_next(const goose_lines *l, const char *prev);
void goose__lines_free(goose_lines *l);

/* Response bodies beyond this are read but not kept. */
#define GOOSE_HTTP_BODY_CAP (16u * 1024 * 1024)
/* The most a transport's error text takes (libcurl's CURL_ERROR_SIZE). */
#define GOOSE_HTTP_ERROR_SIZE 256

/* The protocol a request went over, as the reports name it. */
typedef enum goose_http_protocol {
    GOOSE_PROTO_NONE = 0,    /* no answer came: no protocol to count */
    GOOSE_PROTO_HTTP_1_0,
    GOOSE_PROTO_HTTP_1_1,
    GOOSE_PROTO_HTTP_2,
    GOOSE_PROTO_COUNT
} goose_http_protocol;

/* "HTTP/1.0", "HTTP/1.1", "HTTP/2"; NULL for GOOSE_PROTO_NONE. */
const char *goose__http_protocol_name(goose_http_protocol p);

typedef struct goose_http_capture {
    goose_buf body;
    goose_buf headers;   /* raw header lines of the last response */
    size_t body_seen;    /* every body byte, kept or not */
    int set_cookie;      /* the response's head has a Set-Cookie line */
    int status;          /* of the last response; 0 if none arrived */
    goose_http_protocol protocol; /* of the last response */
    char errbuf[GOOSE_HTTP_ERROR_SIZE]; /* why the request failed */
} goose_http_capture;

/* --http-version */
typedef enum goose_http_version {
    GOOSE_HTTP_AUTO = 0,  /* HTTP/2 when TLS's ALPN offers it, else HTTP/1.1 */
    GOOSE_HTTP_1_1,       /* never HTTP/2 */
    GOOSE_HTTP_2          /* only HTTP/2: h2 over TLS, prior-knowledge h2c */
} goose_http_version;

/* How the run trusts and shows itself to https:// targets: the same for
 * every transport. */
typedef struct goose_tls_setup {
    int accept_invalid_certs;    /* no certificate or host-name check */
    const char *ca_pem;          /* --ca-file's contents (PEM), or NULL: */
    size_t ca_pem_len;           /*   the system's store */
    const char *client_cert;     /* --client-cert, --client-key: paths */
    const char *client_key;      /*   each process reads, or NULL */
} goose_tls_setup;

struct goose_tls_ctx;

/* The run's settings every transport reads. */
typedef struct goose_http_setup {
    long timeout_ms;             /* whole request; 0 = none */
    goose_http_version version;
    goose_tls_setup tls;
    struct goose_tls_ctx *tls_ctx; /* built once per run from tls (tls.h) */
    const goose_lines *resolve;  /* HOST:PORT:ADDR entries, or NULL */
    int no_env_proxy;            /* no *_proxy variable: skip curl's lookups */
    char **local_addrs;          /* source addresses, taken in turn */
    size_t nlocal_addrs;
} goose_http_setup;

/* One request as the engine hands it to a transport.  Header lines are
 * "Name: value", "Name;" (sent with an empty value) or "Name:" (only
 * takes a default header away), as curl reads them; every transport adds
 * its defaults (User-Agent unless the lines name one, Host, ...). */
typedef struct goose_http_request {
    const char *method;
    const char *url;
    const goose_url_parts *parts; /* url split, or NULL when it does not split */
    const goose_lines *headers;  /* the request's own lines, or NULL */
    const char *cookie;          /* a Cookie value from the user's jar, or NULL */
    const void *body;
    size_t body_len;
    int has_body;
    long timeout_ms;             /* its own limit in ms; 0: the run's */
    uint64_t started_us;         /* when another client began it (goose__now_us: an
                                    HTTP/1.1 connection ALPN handed to HTTP/2), its
                                    time limit counting from then; 0: from now */
} goose_http_request;

/* The whole request's time limit in ms (0: none): its own, else the
 * run's --timeout. */
static inline long goose__http_timeout_ms(const goose_http_setup *setup,
                                          const goose_http_request *req)
{
    return req->timeout_ms > 0 ? req->timeout_ms : setup->timeout_ms;
}

/* The value the lines send for header `name` ("Name: value", or "Name;"
 * for an empty one), with its length; NULL when they send none. */
const char *goose__http_list_value(const goose_lines *list, const char *name, size_t *len);
/* 1 when one line ("Name: value", "Name;", "Name:") is of header name. */
int goose__http_line_names(const char *line, const char *name);
/* 1 when the lines name header `name` at all (any of the three forms). */
int goose__http_list_names(const goose_lines *list, const char *name);
/* 1 when the environment names no proxy, so curl need not look each time. */
int goose__http_no_env_proxy(void);

void goose__http_capture_init(goose_http_capture *c);
void goose__http_capture_free(goose_http_capture *c);
void goose__http_capture_reset(goose_http_capture *c);
/* Whether a header line is a Set-Cookie one. */
int goose__http_is_set_cookie(const char *line, size_t len);
/* Body bytes: all are counted, the first GOOSE_HTTP_BODY_CAP kept; -1
 * when out of memory. */
int goose__http_capture_body(goose_http_capture *c, const char *data, size_t len);
/* The words every transport uses for the commonest transport errors, free
 * of timings, so that each makes one row of the errors table whichever
 * transport met it: "Failed to connect to HOST:PORT: Connection refused",
 * "Operation timed out after 200 milliseconds" (the request's limit). */
void goose__http_connect_error(goose_http_capture *c, const char *authority, size_t len,
                               int err);
void goose__http_timeout_error(goose_http_capture *c, long timeout_ms);
/* --http-version 2 met a server without HTTP/2. */
#define GOOSE_HTTP_H2_REQUIRED "HTTP/2 required (--http-version 2) but the server does not speak it"
/* --http-version 2 and the answer came over another protocol (got), or
 * (GOOSE_PROTO_NONE) the server did not speak HTTP/2 at all: "HTTP/2
 * required (--http-version 2) but the server answered HTTP/1.1". */
void goose__http_h2_required_error(goose_http_capture *c, goose_http_protocol got);
/* The absolute URL of a Location value, relative to base, into out
 * (which may hold base); -1 when it is no URL.  RFC 3986 reference
 * resolution by libcurl's URL parser (in curl.c). */
int goose__http_resolve(const char *base, const char *location, goose_buf *out);
/* The value of header `name` in raw header lines, copied into out. */
const char *goose__http_header(const goose_buf *headers, const char *name,
                               goose_buf *out);
const char *goose__http_reason(int status);

static inline const char *goose__lines_next(const goose_lines *l, const char *prev)
{
    const char *next = prev ? prev + strlen(prev) + 1 : l->buf.data;
    return next && next < l->buf.data + l->buf.len ? next : NULL;
}

#endif
