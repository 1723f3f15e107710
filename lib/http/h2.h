/* The own HTTP/2 client (h2.c), on libnghttp2's framing: one connection
 * per user and origin (the own row of the transport table keeps it beside
 * the HTTP/1.1 ones, h1_transport.c), requests as streams that may run at
 * once, each with its own capture and its own done().  Prior-knowledge
 * h2c over http://; h2 over TLS when ALPN chose it (the HTTP/1.1
 * connection that found out hands its socket and TLS over).
 *
 * GOAWAY and REFUSED_STREAM: a stream the server did not process goes
 * again, once, on a new connection; a reused connection that dies before
 * any answer sends an idempotent request again, once (as h1.c).  Every
 * request ends in one done() (or one result of goose__h2_send). */
#ifndef GOOSE_HTTP_H2_H
#define GOOSE_HTTP_H2_H

#include <event2/event.h>
#include <stddef.h>

#include "http/h1.h"

typedef struct goose_h2 goose_h2;

/* A client for one origin (goose__h2_aim); done(arg, capture, ...) reports
 * every request that went on after goose__h2_send returned. */
goose_h2 *goose__h2_new(struct event_base *base, const goose_http_setup *setup,
                        unsigned index, goose_transport_done_fn done, void *arg);
/* Closes its connections; requests under way are not reported.  Safe
 * from inside done(). */
void goose__h2_free(goose_h2 *h);
/* Points h at an origin (https: its connections speak TLS, ALPN h2). */
void goose__h2_aim(goose_h2 *h, const goose_h1_origin *origin);
int goose__h2_serves(const goose_h2 *h, const goose_url_parts *url);
/* 1 when no request is under way on h (it may be re-aimed or freed). */
int goose__h2_idle(const goose_h2 *h);
/* Sends req on the origin's connection (opened when there is none):
 * GOOSE_TE_AGAIN while under way (done() follows), else the result at
 * once.  req and capture stay valid until then. */
goose_terr goose__h2_send(goose_h2 *h, const goose_http_request *req,
                          goose_http_capture *capture);
struct goose_tls;
struct goose_tls_session;
/* Keeps the user's TLS session with the origin in *slot (a hand-over's
 * HTTP/1.1 slot, which outlives h) instead of h's own: its reconnects
 * resume the session the first connection got. */
void goose__h2_session_slot(goose_h2 *h, struct goose_tls_session **slot);
/* Takes over a connection to the origin aimed at, connected (and, for
 * https, its TLS handshake done with ALPN h2): fd and tls are h's now,
 * and new requests go on it.  0, or -1 when out of memory (fd and tls
 * stay the caller's). */
int goose__h2_adopt(goose_h2 *h, int fd, struct goose_tls *tls);

/* ---- fuzzing (tests/fuzz/h2.h): the session without a socket ---- */

/* A connection of h that reads from nothing and writes nowhere: its
 * requests wait for goose__h2_fuzz_input. */
int goose__h2_fuzz_open(goose_h2 *h);
/* Server bytes into that connection, as if read; what the client would
 * answer is thrown away.  0 while the connection lives, -1 once it ended. */
int goose__h2_fuzz_input(goose_h2 *h, const void *data, size_t len);

#endif
