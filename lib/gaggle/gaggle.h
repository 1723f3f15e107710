/* The Gaggle: one Manager and Workers over TCP.  Private to lib/. */
#ifndef GOOSE_GAGGLE_GAGGLE_H
#define GOOSE_GAGGLE_GAGGLE_H

#include <event2/bufferevent.h>
#include <event2/event.h>
#include <openssl/ssl.h>

#include "run/run.h"
#include "gaggle/wire.h"
#include "util/lag.h"

#define GAGGLE_HEARTBEAT_US 1000000
#define GAGGLE_MAX_THREADS 1024 /* per Worker: shard index = worker * this + thread */
#define GAGGLE_HANDSHAKE_FRAME_MAX 4096 /* before a peer has proven itself */

/* One TCP connection carrying frames.  Callbacks never free the peer: they
 * close it, and its owner frees closed peers from its own timer. */
typedef struct gaggle_peer gaggle_peer;
typedef void (*gaggle_msg_fn)(gaggle_peer *p, const char *type,
                              const msgpack_object *msg);
typedef void (*gaggle_close_fn)(gaggle_peer *p, const char *why);
typedef void (*gaggle_drain_fn)(gaggle_peer *p);

struct gaggle_peer {
    struct bufferevent *bev;
    gaggle_msg_fn on_msg;
    gaggle_close_fn on_close;
    gaggle_drain_fn on_drain; /* its output is written out; NULL: nothing to say */
    void *owner;
    uint64_t last_rx_us;  /* heard from it last (a fresh clock, not the loop's) */
    const goose_lag *lag; /* of the loop reading it, or NULL */
    uint64_t lag_at_rx_us;  /* that loop's lateness so far, then */
    uint64_t opened_us;
    int closed;           /* no more callbacks; free it */
    int flushing;         /* closing once the output is written */
    int draining;         /* written and shut down: waiting for the peer's EOF */
    uint32_t max_frame;   /* small until the peer has proven the key */
    int tls;              /* 1: manager side of TLS, 2: worker side */
    char addr[64];
};

/* The event loop of a Manager or a Worker: two priorities, its timer (the
 * heartbeats) above the connections, and libevent looks at the timers
 * again after a few callbacks, so no pass of reading and merging keeps the
 * heartbeats waiting. */
#define GAGGLE_PRI_TIMER 0
struct event_base *goose__gaggle_base(void);

/* An accepted connection; TLS when tls is not NULL. */
gaggle_peer *goose__peer_new(struct event_base *base, evutil_socket_t fd,
                             SSL_CTX *tls, gaggle_msg_fn on_msg,
                             gaggle_close_fn on_close, void *owner);
/* Connects to host:port (a name is resolved first, blocking), waiting
 * at most timeout_us for the connection and giving up when *stop is set
 * (looked at every 50 ms; stop may be NULL).  NULL with err, and errno
 * (0 when the name did not resolve). */
gaggle_peer *goose__peer_connect(struct event_base *base, const char *host,
                                 unsigned port, SSL_CTX *tls, gaggle_msg_fn on_msg,
                                 gaggle_close_fn on_close, void *owner,
                                 const atomic_int *stop, uint64_t timeout_us,
                                 char *err, size_t errlen);
int goose__peer_send(gaggle_peer *p, gaggle_out *o);
void goose__peer_set_max_frame(gaggle_peer *p, uint32_t max);
/* Its silence is judged on the time this loop was watching (see lag.h). */
void goose__peer_watch(gaggle_peer *p, const goose_lag *lag);
/* How long it has been silent, less the lateness of the loop reading it
 * meanwhile; 0 while its bytes wait unread in the socket. */
uint64_t goose__peer_silence_us(const gaggle_peer *p, uint64_t now);
/* Notes the tick at now on lag; the first time the loop ran a second or
 * more late, logs "<self> ran N ms late (stopped, or short of CPU): <peers>
 * silence meanwhile is not held against <them>" and sets *warned. */
void goose__gaggle_note_lag(goose_attack *a, goose_lag *lag, int *warned, uint64_t now,
                            const char *self, const char *peers);
/* Writes what is queued, shuts down the sending side, and reads (and
 * drops) until the peer closes too; on_close is not called. */
void goose__peer_finish(gaggle_peer *p);
/* Closes now and calls on_close(why). */
void goose__peer_close(gaggle_peer *p, const char *why);
void goose__peer_free(gaggle_peer *p);


/* auth.c: the pre-shared key and the mutual challenge-response. */
#define GAGGLE_NONCE 32
#define GAGGLE_PROOF 32
typedef struct gaggle_key {
    int set;
    size_t len;
    unsigned char bytes[1024];
} gaggle_key;

int goose__gaggle_load_key(goose_attack *a, gaggle_key *k);
int goose__gaggle_nonce(unsigned char out[GAGGLE_NONCE]);
/* HMAC-SHA256(key, "libgoose gaggle vN ROLE" || first || second) */
void goose__gaggle_proof(const gaggle_key *k, const char *role,
                         const unsigned char *first, const unsigned char *second,
                         unsigned char out[GAGGLE_PROOF]);
/* 1 when proof (a msgpack bin) is right; compared in constant time. */
int goose__gaggle_proof_ok(const gaggle_key *k, const char *role,
                           const unsigned char *first, const unsigned char *second,
                           const msgpack_object *proof);
int goose__get_nonce(const msgpack_object *map, const char *key,
                     unsigned char out[GAGGLE_NONCE]);
void goose__out_bin(gaggle_out *o, const char *key, const void *p, size_t n);

/* welcome.c: a Worker's slots and the run's options, from the Manager. */
typedef struct gaggle_welcome {
    uint64_t index;          /* this Worker's number, from 0 */
    uint64_t total;          /* users of the whole test */
    uint64_t workers;        /* in the Gaggle */
    double throttle_rps;     /* of the whole Gaggle; 0: none */
    unsigned *slots;         /* user indexes in the whole test */
    unsigned *scenarios;     /* the scenario of each slot */
    size_t nslots;
    goose_shape shape;       /* the users of the whole test over time */
    goose_shape arrivals;    /* open model: iterations started per second */
    uint64_t end_us;         /* a test or arrival plan ends the run then */
    int controller;          /* the Manager's controller may add users */
} gaggle_welcome;

int goose__welcome_read(const msgpack_object *msg, size_t nscenarios, gaggle_welcome *w,
                        goose_options *o);
void goose__welcome_free(gaggle_welcome *w);

/* data.c: test data across the Gaggle.  The Manager announces each data
 * set in the welcome and sends a Worker its share in "rows" frames of
 * about GAGGLE_ROWS_FRAME bytes of cells, as its connection drains. */
#define GAGGLE_ROWS_FRAME (1u << 20)
#define GAGGLE_ROW_MAX (8u << 20)       /* one row's cells */
#define GAGGLE_COLUMNS_MAX (1u << 20)   /* every set's names and column names */
#define GAGGLE_DATA_NAME_MAX 256
#define GAGGLE_DATA_ROWS_MAX 4294967295ull

/* The rows first, first + step, ... (count of them) of a set's table. */
typedef struct gaggle_share {
    size_t first, step, count;
} gaggle_share;
void goose__rows_share(size_t rows, int mode, size_t w, size_t workers, size_t limit,
                       gaggle_share *s);
/* The most users the test may have (a controller: as many as rows). */
size_t goose__rows_limit(const goose_run_config *cfg, int controller);
/* The Manager, before any Worker joins: -1 when a row or the column names
 * are too big to send. */
int goose__rows_check(const goose_run_config *cfg, char *err, size_t errlen);
/* The welcome's "data": [{name, mode, ncols, columns, rows}, ...]. */
void goose__rows_announce(msgpack_packer *pk, const goose_run_config *cfg, size_t w,
                          size_t workers, size_t limit);
/* Where a Worker's rows stand. */
typedef struct gaggle_shipping {
    size_t set;           /* the set being sent */
    size_t sent;          /* rows of its share sent */
    const char *row;      /* the next one, in the table */
} gaggle_shipping;
/* Sends frames while the output holds less than GAGGLE_ROWS_FRAME: 1 when
 * every row is sent, 0 when more wait for the output to drain, -1 when
 * the connection is closing. */
int goose__rows_ship(gaggle_peer *p, const goose_run_config *cfg, size_t w, size_t workers,
                     size_t limit, gaggle_shipping *st);

/* A Worker taking its share into the run's tables (empty until then). */
typedef struct gaggle_data {
    const goose_dataset *sets; /* the run's: this Worker's registrations */
    goose_table *tables;       /* theirs, filled here */
    size_t n;
    size_t *of;                /* announced set i is sets[of[i]] */
    uint64_t *due;             /* rows announced of each */
} gaggle_data;
/* Reads the welcome's announcement: exactly the n sets registered here,
 * each once and with the same mode, columns well formed, rows enough for
 * the nslots users.  0, or -1 with why in err. */
int goose__rows_announced(gaggle_data *d, const msgpack_object *welcome,
                          const goose_dataset *sets, goose_table *tables, size_t n,
                          size_t nslots, char *err, size_t errlen);
/* One "rows" frame: 0, or -1 with why in err (an unknown set, more rows
 * than announced, cells that are not what they claim). */
int goose__rows_take(gaggle_data *d, const msgpack_object *msg, char *err, size_t errlen);
/* 1 once every announced row has arrived. */
int goose__rows_complete(const gaggle_data *d);
void goose__rows_free(gaggle_data *d);

/* tls.c */
SSL_CTX *goose__tls_context(goose_attack *a, int manager, int *rc);
struct bufferevent *goose__tls_bufferevent(struct event_base *base, evutil_socket_t fd,
                                           SSL_CTX *ctx, const char *host);
const char *goose__tls_error(struct bufferevent *bev, int manager, char *buf, size_t len);
/* 1 when the peer's certificate failed verification (its name, too). */
int goose__tls_verify_failed(struct bufferevent *bev);

/* Options that make sense on one side only. */
int goose__gaggle_check_options(goose_attack *a, int manager);
void goose__gaggle_name(char *out, size_t len);

#endif
