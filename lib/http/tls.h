/* TLS for the own clients (HTTP/1.1 and HTTP/2 over https://), on
 * OpenSSL, and the run's trust for every transport.
 *
 * Per run: one context, built once before the threads start from the
 * run's goose_tls_setup: the CA store (--ca-file's contents, else the
 * system's), the client certificate and key, the verification mode, the
 * ALPN offers.  libcurl's row puts the same store into its own contexts
 * (goose__tls_ctx_apply), so no transport parses a CA file per connection.
 *
 * Per connection: a TLS session over a non-blocking socket its owner
 * connected and watches; handshake, read and write say what they wait
 * for, and the owner re-arms its events.  A user keeps its own session
 * (goose_tls_session) to resume when it reconnects, as one browser does;
 * users never share sessions.
 *
 * Certificate problems are worded here, once, for every transport
 * (goose__tls_verify_error), so the errors table reads the same whichever
 * row made the request. */
#ifndef GOOSE_HTTP_TLS_H
#define GOOSE_HTTP_TLS_H

#include <stddef.h>
#include <sys/types.h>

#include "http/http.h"
#include "http/transport.h"

typedef struct goose_tls_ctx goose_tls_ctx;
typedef struct goose_tls goose_tls;
/* A user's resumable session with one origin (an SSL_SESSION). */
typedef struct goose_tls_session goose_tls_session;

/* ---- per run ---- */

/* The run's context; NULL with a one-line message in err (an unreadable
 * or unparsable CA, certificate or key).  The system's CAs (no ca_pem) are
 * read when the first connection needs them. */
goose_tls_ctx *goose__tls_ctx_new(const goose_tls_setup *setup, char *err, size_t errlen);
void goose__tls_ctx_free(goose_tls_ctx *ctx);
/* Reads the system's CAs now (else the first https connection does, and
 * its response time carries the 30-40 ms): for a run whose host is
 * https://, before the users start. */
void goose__tls_ctx_warm(goose_tls_ctx *ctx);
/* Puts the run's CA store, client certificate and verification into an
 * OpenSSL SSL_CTX of another transport (libcurl's CURLOPT_SSL_CTX_FUNCTION):
 * 0, or -1. */
int goose__tls_ctx_apply(goose_tls_ctx *ctx, void *ssl_ctx);

/* ---- per connection ---- */

typedef enum goose_tls_io {
    GOOSE_TLS_OK = 0,        /* done (handshake), or bytes moved */
    GOOSE_TLS_WANT_READ,     /* call again when the socket is readable */
    GOOSE_TLS_WANT_WRITE,    /* call again when the socket is writable */
    GOOSE_TLS_CLOSED,        /* the peer closed (close_notify or EOF) */
    GOOSE_TLS_FAILED         /* an error: words in the capture */
} goose_tls_io;

/* A TLS client on fd (connected, non-blocking) for host (SNI and the
 * name checked, an IP literal checked as an address); alpn: the version
 * whose protocols it offers (AUTO: h2 and http/1.1).  *session, when set,
 * is resumed; the session the server gives is kept there for the next
 * connection.  NULL when out of memory. */
goose_tls *goose__tls_new(goose_tls_ctx *ctx, int fd, const char *host,
                          goose_http_version alpn, goose_tls_session **session);
/* Frees t (the socket stays its owner's). */
void goose__tls_free(goose_tls *t);
void goose__tls_session_free(goose_tls_session *s);

/* Drives the handshake.  GOOSE_TLS_FAILED: the words for the errors table
 * in c->errbuf and *code (GOOSE_TE_TLS for a certificate or handshake
 * failure, GOOSE_TE_CONNECT when the peer closed). */
goose_tls_io goose__tls_handshake(goose_tls *t, goose_http_capture *c, goose_terr *code);
/* 1 when ALPN chose h2 (after the handshake). */
int goose__tls_is_h2(const goose_tls *t);
/* Reads up to len bytes into buf: GOOSE_TLS_OK with *n > 0, else why not
 * (FAILED: words in c->errbuf; CLOSED: errno is ECONNRESET when the peer
 * reset the connection, 0 after a close_notify or an EOF). */
goose_tls_io goose__tls_read(goose_tls *t, void *buf, size_t len, size_t *n,
                             goose_http_capture *c);
/* Writes up to len bytes: GOOSE_TLS_OK with *n > 0, else why not.  After a
 * WANT_*, the same bytes must be offered again (OpenSSL's rule). */
goose_tls_io goose__tls_write(goose_tls *t, const void *buf, size_t len, size_t *n,
                              goose_http_capture *c);
/* Not 0 when OpenSSL holds bytes it has read but not handed out yet (a
 * read event will not come for them): the count of decrypted ones, or 1. */
size_t goose__tls_pending(const goose_tls *t);
/* For a reader that reads all it can at each read event (h2.c): OpenSSL
 * then reads the socket in large chunks (read-ahead), not a record's
 * header and body in two calls each. */
void goose__tls_read_ahead(goose_tls *t);
/* 1 when the last read left nothing behind: its recv got less than it
 * asked for and OpenSSL holds no bytes (goose__tls_pending).  Another
 * read would only say "would block"; the next read event says when
 * there is more (the events are level-triggered). */
int goose__tls_drained(const goose_tls *t);

/* The words for a failed certificate check, the same for every
 * transport: "SSL certificate problem: certificate has expired" (OpenSSL's
 * X509 verify text for verify_result), "SSL: no alternative certificate
 * subject name matches target host name 'HOST'", "SSL: the server requires
 * a client certificate (TLS alert: certificate required)". */
void goose__tls_verify_error(goose_http_capture *c, long verify_result, const char *host);
/* verify_result for a server that wanted a client certificate.  With
 * verify_result 0 (X509_V_OK), c->errbuf holds another transport's words
 * for a TLS failure: OpenSSL's text for that alert there is reworded too
 * (libcurl reports it as a failed read). */
#define GOOSE_TLS_NEED_CLIENT_CERT (-1L)

#endif
