/* The libcurl side of a virtual user: one easy handle per user, set up once
 * (keep-alive, cookie engine, no signals), then re-aimed for each request;
 * the response is captured into bounded buffers. */
#ifndef GOOSE_HTTP_HTTP_H
#define GOOSE_HTTP_HTTP_H

#include <curl/curl.h>
#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"
#include <goose/version.h>

#define GOOSE_HTTP_USER_AGENT "User-Agent: libgoose/" GOOSE_VERSION_STRING

/* The default header lists, shared read-only by every user. */
typedef struct goose_http_headers {
    struct curl_slist *plain;     /* User-Agent */
    struct curl_slist *with_body; /* User-Agent, and no "Expect: 100-continue" */
} goose_http_headers;

int goose__http_headers_init(goose_http_headers *h);
void goose__http_headers_free(goose_http_headers *h);
int goose__http_headers_complete(struct curl_slist *list, int has_body);

/* Response bodies beyond this are read but not kept. */
#define GOOSE_HTTP_BODY_CAP (16u * 1024 * 1024)

typedef struct goose_http_capture {
    goose_buf body;
    goose_buf headers;   /* raw header lines of the last response */
    size_t body_seen;    /* every body byte, kept or not */
    int set_cookie;      /* the response's head has a Set-Cookie line */
    char errbuf[CURL_ERROR_SIZE];
} goose_http_capture;

typedef struct goose_http_setup {
    long timeout_ms;             /* whole request; 0 = none */
    struct curl_slist *resolve;  /* HOST:PORT:ADDR entries, or NULL */
    int no_env_proxy;            /* no *_proxy variable: skip curl's lookups */
    char **local_addrs;          /* source addresses, taken in turn */
    size_t nlocal_addrs;
} goose_http_setup;

/* The value a request's header list sends for `name` ("Name: value", or
 * "Name;" for an empty one), with its length; NULL when it sends none. */
const char *goose__http_list_value(const struct curl_slist *list, const char *name,
                                   size_t *len);
/* 1 when the environment names no proxy, so curl need not look each time. */
int goose__http_no_env_proxy(void);

/* The URL a user's handle is aimed at, parsed once. */
typedef struct goose_http_target {
    CURLU *uh;
    goose_buf url;
} goose_http_target;

typedef struct goose_http_request {
    goose_http_target *target;
    const char *method;
    const char *url;
    struct curl_slist *headers;
    const void *body;
    size_t body_len;
    int has_body;
} goose_http_request;

/* A user's handle; user `index` binds to its turn of the local addresses;
 * share (goose__http_share_new) holds the user's own connections. */
CURL *goose__http_easy_new(const goose_http_setup *setup, void *owner, unsigned index,
                           CURLSH *share);
CURLSH *goose__http_share_new(void);
void goose__http_capture_init(goose_http_capture *c);
void goose__http_capture_free(goose_http_capture *c);
void goose__http_capture_reset(goose_http_capture *c);
/* Whether a header line is a Set-Cookie one. */
int goose__http_is_set_cookie(const char *line, size_t len);
/* Body bytes: all are counted, the first GOOSE_HTTP_BODY_CAP kept; -1
 * when out of memory. */
int goose__http_capture_body(goose_http_capture *c, const char *data, size_t len);
/* The words both clients use for the commonest transport errors, free
 * of timings, so that each makes one row of the errors table whichever
 * client met it: "Failed to connect to HOST:PORT: Connection refused",
 * "Operation timed out after 200 milliseconds" (the --timeout). */
void goose__http_connect_error(goose_http_capture *c, const char *authority, size_t len,
                               int err);
void goose__http_timeout_error(goose_http_capture *c, long timeout_ms);
/* Aims the handle at one request; the capture receives the response. */
int goose__http_prepare(CURL *easy, const goose_http_request *req,
                        goose_http_capture *capture);
int goose__http_aim(CURL *easy, goose_http_target *t, const char *url);
void goose__http_target_free(goose_http_target *t);
/* The status code of the finished transfer (0 if none arrived). */
int goose__http_status(CURL *easy);
/* The absolute URL of a Location value, relative to base, into out
 * (which may hold base); -1 when it is no URL. */
int goose__http_resolve(const char *base, const char *location, goose_buf *out);
/* The value of header `name` in raw header lines, copied into out. */
const char *goose__http_header(const goose_buf *headers, const char *name,
                               goose_buf *out);
const char *goose__http_reason(int status);

#endif
