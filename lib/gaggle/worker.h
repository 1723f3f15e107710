/* The Gaggle Worker, private to its files: worker.c speaks the protocol
 * on one connection, worker_serve.c dials (again, with --worker-reconnect)
 * and runs connection after connection, worker_embed.c hosts it on a
 * thread of an embedding program (gaggle_worker_start). */
#ifndef GOOSE_GAGGLE_WORKER_H
#define GOOSE_GAGGLE_WORKER_H

#include "gaggle/gaggle.h"

#define WORKER_TICK_MS 50

/* S_IDLE: joined, waiting for a test (a Manager that stays up said "idle");
 * S_ROWS: welcomed, taking its rows of the data sets before "ready";
 * S_DONE: a serving Worker's "done" is sent: it waits for "idle" (the
 * next test on this connection) or the Manager's close. */
enum { S_HELLO, S_AUTH, S_IDLE, S_ROWS, S_READY, S_RUNNING, S_DRAINING, S_DONE, S_LEAVING,
       S_GONE };

/* Where an embedded Worker stands, for its host's loop: the state
 * (GAGGLE_WORKER_*) and an eventfd written at every change (-1: none). */
typedef struct gaggle_watch {
    atomic_int state;
    int fd;
} gaggle_watch;

/* Stores state; writes the eventfd when it changed.  w may be NULL. */
void goose__watch_set(gaggle_watch *w, int state);

/* What one engine thread's deltas added up to, as the Manager merges them
 * (a reset drops what came before), for this Worker's own log. */
typedef struct sent_tally {
    uint64_t requests;
    uint64_t synthetic;
} sent_tally;

/* Everything of one test: freed and zeroed by goose__worker_test_free, so
 * that each test starts from nothing and nothing grows test after test. */
typedef struct worker_test {
    goose_run_config cfg;
    goose_plan plan;
    int planned;
    gaggle_welcome welcome;
    gaggle_data data;           /* its share of the data sets, for the run */
    goose_engine *engine;
    sent_tally *sent;           /* per engine thread */
    size_t nsent;
    struct event *start_timer;
    uint64_t start_at_us;
    uint64_t maintain_at_us;
    uint64_t stop_at_us;
    uint64_t run_start_us;      /* the users' time 0 */
    int reshaped;               /* the Manager's controller changed the users */
    uint64_t end_us;            /* then: when the run ends (0: the Manager says) */
    uint64_t last_flush_us;
    goose_stop_clock stop_clock; /* --stop-timeout, the Manager's */
    int stop_now;               /* the Manager was asked twice to stop */
    uint64_t unsent;            /* requests of metrics that could not be sent */
    uint64_t unsent_hatch;      /* (out of memory), and of their hatch: the next
                                   message tells the Manager they are lost */
    int has_test_data;          /* "test_data" came (once, before "start") */
    goose_buf test_data;        /* test_start's data, for every user */
} worker_test;

typedef struct worker {
    goose_attack *a;
    gaggle_watch *watch;        /* an embedding's, or NULL */
    unsigned tests;             /* welcomed so far: {n} of its log paths */
    int serving;                /* --worker-reconnect */
    /* for the whole run: connection after connection */
    struct event_base *base;
    struct event *timer;
    goose_lag lag;              /* of the timer: how late this loop runs */
    int lag_warned;
    gaggle_key key;
    SSL_CTX *tls;
    char hash[65];
    /* for one connection */
    gaggle_peer *peer;
    unsigned char nonce_w[GAGGLE_NONCE];
    int state;
    uint64_t last_beat_us;
    int rc;
    int fatal;                  /* the Manager failed the key or certificate check,
                                   or refused this Worker for good */
    int joined;                 /* it said "idle" or "welcome" */
    uint64_t leaving_us;        /* when it said its last words (S_LEAVING) */
    char why[600];              /* a serving Worker's: why the connection ended */
    worker_test t;
} worker;

/* worker.c */
int goose__worker_timer(worker *w);
/* Dials the Manager once, giving up after --gaggle-timeout or at a stop:
 * 0 with w->peer, or -1 with err (and errno; 0 when the name did not
 * resolve).  DIALING is published first. */
int goose__worker_connect(worker *w, char *err, size_t errlen);
/* The connection's loop, from "hello" to its end (w->peer stays for the
 * caller to free); GOOSE_OK, or the error of its "hello". */
int goose__worker_session(worker *w);
/* Frees the test's part; the teardown's code (GOOSE_EIO: a log could not
 * be written). */
int goose__worker_test_free(worker *w);

/* worker_serve.c: gaggle_worker_run, with an embedding's watch or NULL. */
int goose__worker_run(goose_attack *a, gaggle_watch *watch);

#endif
