/* Our own HTTP/1.1 client for plain http://, the hot path of a load test.
 *
 * libcurl spends about 55,000 instructions on each keep-alive request
 * (option handling, header matching, connection checks): most of a
 * request's cost, and more than wrk's whole request.  A user's requests to
 * a plain http:// origin take this path instead: one keep-alive connection
 * per user, a persistent read event (no epoll_ctl per request), the request
 * head written in one send, the response parsed as it arrives.  Anything it
 * does not take -- https, proxies, host names that need DNS, unusual URLs --
 * goes to the next row of the transport table (transport.h); every row
 * fills the same capture.  url.c: origins; h1_response.c: the parser;
 * h1.c: one connection; h1_transport.c: a user's connections as a row of
 * the table. */
#ifndef GOOSE_HTTP_H1_H
#define GOOSE_HTTP_H1_H

#include <event2/event.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "http/transport.h"

/* ---- origins (url.c) ---- */

/* Where the own client connects: addresses it knows without DNS. */
typedef struct goose_h1_origin {
    char authority[264];     /* the URL's host[:port]: the connection's key */
    char host_header[272];   /* "Host: ...\r\n" */
    size_t host_header_len;
    struct sockaddr_storage addrs[2];
    socklen_t addr_lens[2];
    unsigned naddrs;
    unsigned port;
    int secure;              /* https: TLS to tls_host */
    char tls_host[256];      /* the host without brackets: SNI, the name checked */
} goose_h1_origin;

/* The host of an http(s) URL that needs DNS is looked up once, before
 * the run (as wrk does), and added to resolve as a --resolve entry, so
 * that every transport uses that address and the own client takes its
 * requests.  0 (also when it cannot be looked up: libcurl will then say
 * why), -1 when out of memory.  It blocks. */
int goose__http_pin(goose_lines *resolve, const char *url);
/* 1 when the own client takes this URL (http, or https when the run has
 * a TLS context; an IP literal, localhost or a
 * --resolve entry; a path of plain characters), with o filled; 0 when it
 * is for another transport (libcurl). */
int goose__h1_origin(const goose_url_parts *p, const goose_http_setup *setup,
                     goose_h1_origin *o);

/* ---- responses (h1_response.c) ---- */

typedef enum goose_h1_state {
    GOOSE_H1_HEAD,          /* status line and headers */
    GOOSE_H1_BODY,          /* Content-Length bytes */
    GOOSE_H1_CHUNK_SIZE,
    GOOSE_H1_CHUNK_DATA,
    GOOSE_H1_CHUNK_END,     /* the CRLF after a chunk */
    GOOSE_H1_TRAILER,
    GOOSE_H1_UNTIL_CLOSE,   /* no length: the body ends with the connection */
    GOOSE_H1_DONE,
    GOOSE_H1_ERROR
} goose_h1_state;

typedef struct goose_h1_parser {
    goose_h1_state state;
    int no_body;             /* a HEAD request */
    int status;
    int keep_alive;          /* the connection may carry the next request */
    uint64_t remaining;      /* of the body or of the chunk */
    uint64_t received;       /* bytes of this response so far */
    size_t line_start;       /* where the head's current line starts */
    int step;                /* where in a chunk-size line or chunk end */
    int trailers;            /* trailer fields so far (a fold needs one) */
    goose_terr code;           /* on error */
    const char *error;
} goose_h1_parser;

void goose__h1_parser_start(goose_h1_parser *p, int no_body);
/* Feeds bytes; the head goes to c->headers (its version to c->protocol),
 * the body to c->body.  Returns
 * how many bytes it used: fewer than len only when the response is done
 * (the rest was not asked for) or failed (state GOOSE_H1_ERROR). */
size_t goose__h1_parse(goose_h1_parser *p, goose_http_capture *c,
                       const char *data, size_t len);
/* The connection closed: GOOSE_H1_DONE when that ends the response,
 * GOOSE_H1_ERROR (code and error set) when it cut it short. */
goose_h1_state goose__h1_parse_eof(goose_h1_parser *p);

/* ---- dialling (dial.c) ---- */

/* A non-blocking TCP socket to o's address `at` (for user `index`: its
 * local address) in *fd: 0 when connected, EINPROGRESS when under way
 * (wait for writability, then goose__dial_result), else the errno (and
 * *fd is -1). */
int goose__dial(const goose_http_setup *setup, unsigned index, const goose_h1_origin *o,
                unsigned at, int *fd);
/* Once writable: 0 when the connection is made, else its errno. */
int goose__dial_result(int fd);

/* ---- connections (h1.c) ---- */

typedef struct goose_h1 goose_h1;

/* done() reports a request that ended after goose__h1_send returned:
 * GOOSE_TE_OK, or an error with the capture's errbuf filled. */
goose_h1 *goose__h1_new(struct event_base *base, const goose_http_setup *setup,
                        unsigned index, goose_transport_done_fn done, void *arg);
void goose__h1_free(goose_h1 *c);
/* Points c at another origin (from goose__h1_origin), closing its
 * connection to the old one. */
void goose__h1_aim(goose_h1 *c, const goose_h1_origin *origin);
/* 1 when c is aimed at this URL's origin. */
int goose__h1_serves(const goose_h1 *c, const goose_url_parts *url);
/* 1 while a request is under way on c (an HTTP/1.1 request, or one
 * handed over to its HTTP/2 client: goose__h2_idle says about that). */
int goose__h1_busy(const goose_h1 *c);
/* goose__h1_serves and not busy: c may carry a request to url now. */
int goose__h1_free_for(const goose_h1 *c, const goose_url_parts *url);
/* Sends req (split: req->parts) to the origin aimed at, reusing the open
 * connection.  Returns GOOSE_TE_AGAIN while the request is under way
 * (done() is called once it ends), or the result when it ended at once
 * (done() is not called).  req and the capture must stay valid until
 * then; the capture gets the status of a response that came whole. */
goose_terr goose__h1_send(goose_h1 *c, const goose_http_request *req,
                          goose_http_capture *capture);
struct goose_h2;
/* The HTTP/2 client that carries c's requests since ALPN chose h2 on
 * its connection, or NULL (h1_transport.c sends there instead). */
struct goose_h2 *goose__h1_h2(const goose_h1 *c);

#endif
