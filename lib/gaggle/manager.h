/* The Gaggle Manager's state, shared by its files: manager.c (the loop,
 * the controller, test after test), manager_join.c (connections, the
 * handshake, members) and manager_test.c (one test's Workers: welcome,
 * rows, START, metrics, verdict).  Private to lib/gaggle. */
#ifndef GOOSE_GAGGLE_MANAGER_H
#define GOOSE_GAGGLE_MANAGER_H

#include "gaggle/gaggle.h"
#include "run/control.h"

enum { W_FREE, W_JOINED, W_READY, W_RUNNING, W_DONE, W_LOST };

typedef struct mworker {
    int state;
    gaggle_peer *peer;
    char name[128];
    size_t users;
    size_t active;
    size_t max_thread;      /* shards seen: threads 0..max_thread-1 */
    uint64_t folded[GOOSE_NAMES_KINDS]; /* request keys, error rows and
                               transaction error rows it folded so far */
    uint64_t ping_sent_us;
    uint64_t rtt_us;
    int rtt_known;
    double offset_ms;
    uint64_t abandoned;     /* its users left at --stop-timeout */
    gaggle_shipping ship;   /* its rows of the data sets */
    int shipped;            /* all of them written */
    int test_data_sent;     /* test_start's data, after its rows ... */
    uint64_t data_ping_us;  /* ... and a ping behind it, whose pong ... */
    int test_data_taken;    /* ... says the Worker has read it */
} mworker;

/* A connection, and where it is in the handshake. */
typedef struct conn {
    gaggle_peer *peer;
    struct conn *next;
    int challenged;                       /* "challenge" sent, "auth" due */
    unsigned char nonce_w[GAGGLE_NONCE];  /* the Worker's */
    unsigned char nonce_m[GAGGLE_NONCE];  /* ours */
    int member;             /* --no-autostart: authenticated, it waits for
                               a test (or runs in one) */
    size_t slot;            /* 1 + its slot in the test under way; 0: none */
    uint64_t fence;         /* a ping sent after a called-off test's "stop":
                               until its pong, that test's messages may
                               still come, and no test takes it; 0: none */
    char name[128];
} conn;

/* What lives for one test: set up by test_setup, freed by test_free, so
 * each test of a Manager that stays up starts clean and nothing grows. */
typedef struct mtest {
    int set;                /* set up (a --no-autostart Manager: from its
                               start to its report) */
    unsigned number;        /* from 1 */
    mworker *workers;       /* its Worker slots */
    size_t expected;
    size_t wanted;          /* --no-autostart: members to wait for */
    int taken;              /* --no-autostart: its members were taken */
    int cancelled;          /* --no-autostart: stopped before START */
    goose_run_config cfg;
    goose_plan plan;
    goose_collector col;
    goose_names *names;     /* --max-request-names over every Worker's names */
    int names_warned;       /* the one warning that names fold is out (a
                               Worker folded them, or the Manager did) */
    int started;
    uint64_t start_at_us;
    int stop_asked;         /* the controller's stop (staying up) */
    int stop_now_sent;      /* asked again: the Workers abandon their users */
    goose_once start;       /* test_start: runs while the Workers join ... */
    int start_running;
    int start_done;         /* ... and START waits for its end (1: none) */
    int start_failed;       /* the Workers were told to stop, then */
    int stop_told;          /* no START: its Workers were told to stop */
    size_t opt_users;       /* --users as given, restored after the test
                               (setup writes a plan's or the default in) */
    uint64_t start_failed_us;
    goose_once stop;        /* test_stop: after every Worker ended */
    int stop_running;
    uint64_t end_us;        /* when the last Worker ended; 0: not yet */
} mtest;

/* What lives as long as the Manager. */
typedef struct manager {
    goose_attack *a;
    struct event_base *base;
    struct evconnlistener *listener;
    struct event *timer;
    goose_lag lag;          /* of the timer: how late this loop runs */
    int lag_warned;
    conn *conns;            /* every open connection */
    char hash[65];
    gaggle_key key;
    SSL_CTX *tls;
    uint64_t last_beat_us;
    goose_control *control;  /* --controller, or NULL */
    int stays;              /* --no-autostart: test after test */
    goose_metrics_server *metrics; /* --metrics-listen across tests */
    unsigned tests;         /* ended (reported) so far */
    int verdict;            /* the first failing test's code */
    char verdict_why[512];  /* and its message */
    mtest t;                /* the test, when t.set */
} manager;

/* manager.c */
/* The collector's shard of thread `thread` of the Worker of slot i. */
size_t goose__slot_shard(const manager *m, size_t i, size_t thread);
/* The test ends before START or its Workers are told to stop. */
int goose__test_stopping(const manager *m);
/* The test's slot whose Worker is on p, or NULL. */
mworker *goose__slot_of(manager *m, const gaggle_peer *p);
/* The test's slots in state W_*. */
size_t goose__slots_in(const manager *m, int state);
/* A message of its type alone ("stop", "idle"). */
void goose__send_type(gaggle_peer *p, const char *type);

/* manager_join.c */
/* --no-autostart: members waiting for a test, and all of them. */
size_t goose__members_waiting(const manager *m);
size_t goose__members_count(const manager *m);
/* --no-autostart: the test takes the members waiting, once enough do. */
void goose__members_take(manager *m);
/* Silent connections closed, closed ones freed (outside their callbacks). */
void goose__conns_sweep(manager *m, uint64_t now);
/* --manager-bind-host:--manager-bind-port, accepting. */
int goose__manager_listen(manager *m);

/* manager_test.c */
/* A ping whose pong measures the round trip. */
void goose__slot_ping(mworker *w);
/* What a Worker is owed before START (rows, test data), as it drains. */
void goose__slot_feed(manager *m, mworker *w);
/* Slot w goes to the Worker on p: its welcome, its rows. */
void goose__slot_seat(manager *m, mworker *w, gaggle_peer *p, const char *name);
/* START for every Worker once all are ready and owed nothing. */
void goose__test_maybe_start(manager *m);
/* A message of a Worker seated in the test. */
void goose__slot_msg(manager *m, mworker *w, const char *type,
                     const msgpack_object *msg);
/* The test's results, report and verdict (a GOOSE_* code). */
int goose__test_finish(manager *m);

#endif
