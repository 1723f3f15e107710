/* The transports behind one table, as curl's vtls backends: each row is
 * one HTTP client (one file or a few), and the engine reaches all of them
 * the same way, never knowing which one carries a request.  For each
 * request the engine asks the rows in order and the first that takes it
 * carries it: the own HTTP/1.1 client (h1_transport.c) for plain http://
 * origins it reaches without DNS, libcurl (curl.c) for everything else.
 * A new client (TLS, HTTP/2) is a new row in transport.c, before libcurl.
 *
 * State lives at three levels, each made by its row and opaque to the
 * engine: once per run (configuration built once: a CA store, default
 * header lists), once per engine thread (what drives sockets on that
 * thread's event_base: curl's multi handle), once per user (its
 * connections; made when the user first needs the row).  No transport's
 * own types (CURLcode, SSL *, nghttp2_session *) cross this table: results
 * are goose_terr, with the words in the capture's errbuf. */
#ifndef GOOSE_HTTP_TRANSPORT_H
#define GOOSE_HTTP_TRANSPORT_H

#include <event2/event.h>
#include <stddef.h>
#include <stdint.h>

#include "http/http.h"

/* What became of a request.  The text for the errors table is in the
 * capture's errbuf, worded alike by every transport; goose__terr_text is
 * for a result that came without one. */
typedef enum goose_terr {
    GOOSE_TE_OK = 0,
    GOOSE_TE_AGAIN,        /* under way: done() follows */
    GOOSE_TE_NOT_SENT,     /* refused before anything went out: not counted */
    GOOSE_TE_RESOLVE,      /* the host name has no address */
    GOOSE_TE_CONNECT,      /* no connection to the origin */
    GOOSE_TE_TLS,          /* the TLS handshake or the certificate failed */
    GOOSE_TE_TIMEOUT,      /* --timeout passed */
    GOOSE_TE_SEND,         /* writing the request failed */
    GOOSE_TE_RECV,         /* reading the response failed, or its framing */
    GOOSE_TE_PROTOCOL,     /* the server's answer is no valid HTTP */
    GOOSE_TE_VERSION,      /* an HTTP version the transport does not speak */
    GOOSE_TE_EMPTY,        /* the connection closed before any answer */
    GOOSE_TE_PARTIAL,      /* the connection closed inside the body */
    GOOSE_TE_NOMEM,        /* out of memory */
    GOOSE_TE_ABORTED,      /* cancelled (the stop timeout) */
    GOOSE_TE_OTHER,        /* anything else the transport met */
    GOOSE_TE_BUSY          /* not sent: every connection the row may use
                              for the user is busy (a user's requests at
                              once: goose_batch); start it again once one
                              of the user's requests ended */
    /* only grows: new transports add their failures here */
} goose_terr;

/* Words for a result that came without any (never NULL). */
const char *goose__terr_text(goose_terr e);

/* A request that was under way ended: the one that fills capture (a user
 * may have several under way: a batch); done_us: when (goose__now_us). */
typedef void (*goose_transport_done_fn)(void *arg, goose_http_capture *capture,
                                        goose_terr result, uint64_t done_us);

typedef struct goose_transport {
    const char *name;
    /* Once per run, before the threads start: 0, or -1 with a message
     * in err.  *run may stay NULL. */
    int (*run_new)(void **run, const goose_http_setup *setup, char *err, size_t errlen);
    void (*run_free)(void *run);
    /* Once per engine thread, on its event_base: 0 or -1.  Optional
     * (NULL): the row keeps nothing per thread. */
    int (*thread_new)(void **thread, void *run, struct event_base *base);
    void (*thread_free)(void *thread);
    /* The thread holds this many users now (a connection cache may size
     * itself by it).  Optional. */
    void (*thread_users)(void *thread, size_t users);
    /* A user's state: its connections.  index: the user's number in the
     * test (it picks the user's turn of the local addresses); done(arg,
     * ...) reports every request that was under way.  NULL when out of
     * memory.  Freeing it closes the user's connections. */
    void *(*user_new)(void *run, void *thread, struct event_base *base, unsigned index,
                      goose_transport_done_fn done, void *arg);
    void (*user_free)(void *user);
    /* 1 when this row carries req; user is the user's state of this row,
     * or NULL when it has none yet.  Cheap: asked for every request. */
    int (*takes)(void *run, void *user, const goose_http_request *req);
    /* Sends req, reusing the user's connection when it can: GOOSE_TE_AGAIN
     * while under way (done() follows, once), else the result at once
     * (done() is not called).  The response goes to capture (status, head,
     * body, errbuf); req and capture stay valid until it ends.  Several of
     * a user's requests may be under way at once: GOOSE_TE_BUSY (nothing
     * written to capture) when the row's connections for the user are all
     * busy, which it says only while one of them is under way. */
    goose_terr (*start)(void *user, const goose_http_request *req, goose_http_capture *capture);
    /* The user is abandoned with requests under way: done() need not
     * follow for any.  Optional: without it done() may still come, and the
     * engine ignores it for an abandoned user. */
    void (*cancel)(void *user);
} goose_transport;

/* The rows, in the order they are asked. */
#define GOOSE_TRANSPORTS 2
extern const goose_transport *const goose__transports[GOOSE_TRANSPORTS];

extern const goose_transport goose__transport_h1;
extern const goose_transport goose__transport_curl;

#endif
