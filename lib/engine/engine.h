/* The engine: N threads, each with its own event_base, its transports'
 * state (http/transport.h), users (coroutines) and metrics shard.  No lock
 * on the request path: a thread publishes its shard into an outbox once a
 * second, and the run loop (lib/run/: standalone.c, or a Gaggle Worker)
 * collects the outboxes. */
#ifndef GOOSE_ENGINE_ENGINE_H
#define GOOSE_ENGINE_ENGINE_H

#include <goose.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "content/table.h"
#include "coro/coro.h"
#include "engine/shape.h"
#include "engine/throttle.h"
#include "http/cache.h"
#include "http/cookie.h"
#include "http/http.h"
#include "http/transport.h"
#include "metrics/co.h"
#include "metrics/stats.h"
#include "util/buf.h"
#include "util/lag.h"
#include "util/rng.h"
#include "util/sink.h"

/* How users are given to scenarios (--scheduler; allocate.c). */
typedef enum goose_scheduler {
    GOOSE_SCHEDULER_SERIAL,      /* the default: the allocation before 0.2.0 */
    GOOSE_SCHEDULER_ROUND_ROBIN,
    GOOSE_SCHEDULER_RANDOM,
    GOOSE_SCHEDULERS
} goose_scheduler;

/* The random scheduler keeps one turn as tables (12 bytes a slot). */
#define GOOSE_RANDOM_CYCLE_MAX (1u << 20)

/* The independent streams a run's seed gives (util/rng.h). */
enum { GOOSE_STREAM_USER = 1, GOOSE_STREAM_WAIT = 2, GOOSE_STREAM_SCHEDULER = 3,
       GOOSE_STREAM_DATA = 4 };

/* One allocation: the weights (divided by their greatest common divisor)
 * and the scheduler's order of a turn of slots. */
typedef struct goose_alloc {
    unsigned *w;               /* per scenario */
    uint64_t *first;           /* per scenario: its first slot in serial order */
    size_t n;
    uint64_t cycle;            /* slots in a turn: the sum of w; 0: none */
    unsigned top;              /* the largest of w */
    int scheduler;             /* goose_scheduler */
    unsigned *order;           /* random: the scenario of each slot of a turn */
    uint32_t *rank;            /* random: which of its scenario's slots it is */
    uint32_t *pos;             /* random: from first[s], scenario s's slots */
} goose_alloc;

/* What the engine needs of one transaction. */
typedef struct goose_tx_plan {
    const char *name;
    goose_transaction_fn fn;
    size_t id; /* index into the run's transaction stats */
} goose_tx_plan;

/* One scenario, its transactions laid out in the order a user runs them. */
typedef struct goose_scenario_plan {
    const char *name;
    const char *host;        /* base URL used for relative paths */
    unsigned wait_min_ms;
    unsigned wait_max_ms;
    goose_tx_plan *on_start;
    size_t non_start;
    goose_tx_plan *loop;     /* one iteration, weights expanded */
    size_t nloop;
    goose_tx_plan *on_stop;
    size_t non_stop;
} goose_scenario_plan;

/* Test data (goose_attack_add_data) as the engine reads it. */
typedef struct goose_dataset {
    const char *name;
    int mode;                  /* GOOSE_DATA_* */
    const goose_table *table;  /* this process's rows: all of them, or a
                                  Gaggle Worker's share (UNIQUE: the row of
                                  its k-th user is row k) */
} goose_dataset;

/* test_start and test_stop (goose_attack_set_test_start): each runs on an
 * engine of its own, one user on one thread (run/once.c). */
enum { GOOSE_ONCE_NONE, GOOSE_ONCE_START, GOOSE_ONCE_STOP };

/* What test_start or test_stop's one user did, written by its thread and
 * read once its engine has finished. */
typedef struct goose_once_result {
    int ran;                   /* its transaction returned (a stop did not
                                  cut it short) */
    int failed;                /* non-zero return or goose_transaction_fail */
    char why[256];             /* then: its reason, or "returned N" */
    int has_data;              /* test_start: goose_test_set_data was called */
    goose_buf data;            /* ... with these bytes */
} goose_once_result;

/* The logs a run may write, and their line formats. */
enum { GOOSE_LOGFILE_REQUESTS, GOOSE_LOGFILE_TRANSACTIONS, GOOSE_LOGFILE_ERRORS, GOOSE_LOGFILES };
enum { GOOSE_FORMAT_JSON, GOOSE_FORMAT_CSV, GOOSE_FORMAT_RAW, GOOSE_FORMATS };

typedef struct goose_run_config {
    goose_attack *attack;
    goose_log_fn log_fn;          /* the attack's log, for the threads' warnings
                                     and misuse; NULL: none */
    void *log_arg;
    const goose_scenario_plan *scenarios;
    size_t nscenarios;
    size_t ntransactions;
    const unsigned *user_scenario; /* user i -> scenario index */
    const unsigned *user_index;   /* user i -> index in the whole test
                                     (a Gaggle Worker's slots); NULL: i */
    size_t users;
    size_t total_users;           /* of the whole test; 0: users */
    double hatch_rate;            /* users per second (for the logs) */
    goose_shape shape;            /* users over time: user i runs while
                                     the level is above i */
    uint64_t iterations;          /* per user; 0 = no limit */
    long timeout_ms;
    size_t threads;
    size_t threads_wanted;        /* --threads before the cap at the users */
    size_t stack_size;
    goose_lines resolve;          /* --resolve entries and pinned hosts */
    char **local_addrs;
    size_t nlocal_addrs;
    int reset_on_launch;          /* drop what was measured while hatching */
    double throttle_rps;          /* of the whole test; 0: no throttle */
    int sticky_follow;            /* a redirect of the base URL moves the user */
    int assets_cross_origin;      /* goose_load_assets: other origins too */
    int no_cache;                 /* goose_load_assets: no per-user cache */
    int open_model;               /* users wait for arrivals (--arrival-rate) */
    goose_shape arrivals;         /* iterations started per second over time */
    const goose_alloc *alloc;     /* user (and arrival) k -> scenario */
    uint64_t seed;                /* the run's (--seed, or drawn): users'
                                     generators and wait times */
    size_t process_index;         /* a Gaggle Worker's number, from 0 */
    size_t processes;             /* Workers in the Gaggle; 0: standalone */
    int co_mode;                  /* --co-mitigation: goose_co_mode */
    size_t max_request_names;     /* --max-request-names; 0: no bound */
    goose_http_version http_version; /* --http-version */
    goose_tls_setup tls;          /* --accept-invalid-certs, --ca-file's contents,
                                     --client-cert/--client-key (the options' memory) */
    struct goose_sink *log_sinks[GOOSE_LOGFILES]; /* NULL: that log is off */
    int log_formats[GOOSE_LOGFILES];
    const goose_dataset *datasets; /* goose_attack_add_data's; NULL: none */
    size_t ndatasets;
    const void *test_data;        /* test_start's goose_test_set_data, for
                                     every user; NULL: none */
    size_t test_data_len;
    int once;                     /* GOOSE_ONCE_*: test_start's or test_stop's
                                     engine (one user), or the load's */
    goose_once_result *once_result; /* that engine's: its user's outcome */
    unsigned once_index;          /* goose_user_index of that user */
} goose_run_config;

typedef struct goose_engine goose_engine;
typedef struct goose_thread goose_thread;
typedef struct goose_reading goose_reading;

/* Starts the threads; hatching begins at once.  NULL on failure, with a
 * message in err. */
goose_engine *goose__engine_start(const goose_run_config *cfg, char *err,
                                  size_t errlen);
/* Asks every thread to stop gracefully: no new transaction starts. */
void goose__engine_stop(goose_engine *e);
/* The stop timeout is up, or a second stop came: the users still running
 * are abandoned (never resumed; a request in flight is cancelled and
 * counted as failed) and the threads finish at once. */
void goose__engine_abandon(goose_engine *e);
size_t goose__engine_abandoned(goose_engine *e);
/* Users that ran all their --iterations, or that goose_user_stop ended
 * (and went on to on_stop). */
size_t goose__engine_iterations_done(goose_engine *e);
/* Waits up to timeout_ms for every thread to finish; 1 if they all have. */
int goose__engine_wait(goose_engine *e, unsigned timeout_ms);
size_t goose__engine_threads(const goose_engine *e);
/* Hands each thread's published metrics to fn (reset: that thread dropped
 * its metrics since the last call; before: what it measured until then, for
 * the time series only), then empties them.  When fn fails (out of memory),
 * they stay for the next call. */
typedef int (*goose_shard_fn)(void *arg, size_t thread, int reset,
                              const goose_stats *before, const goose_stats *delta);
int goose__engine_collect_each(goose_engine *e, goose_shard_fn fn, void *arg);
/* When user `index` of the whole test first starts, in µs after the start. */
uint64_t goose__engine_start_offset(const goose_run_config *cfg, size_t index);
/* The users follow `shape` (times since the start) from now on: a live
 * change, such as a controller's "users N" or a new test plan.  Threads
 * make the users a higher level needs.  -1 when out of memory. */
int goose__engine_reshape(goose_engine *e, const goose_shape *shape);
size_t goose__engine_launched(goose_engine *e);
/* The bound the threads share on request keys and error rows, or NULL. */
goose_names *goose__engine_names(goose_engine *e);
/* Users running now (not those finishing because the level fell). */
size_t goose__engine_active(goose_engine *e);
/* Joins the threads (stopping them first) and frees everything. */
void goose__engine_free(goose_engine *e);

/* allocate.c: user i -> scenario by weight and --scheduler (see goose(7)).
 * GOOSE_EINVAL for a weight of 0 or no scenario, GOOSE_ECONFIG for a
 * random turn above GOOSE_RANDOM_CYCLE_MAX slots, GOOSE_ENOMEM. */
int goose__alloc_init(goose_alloc *al, const unsigned *weights, size_t nweights,
                      int scheduler, uint64_t seed);
void goose__alloc_free(goose_alloc *al);
/* "round-robin", "serial", "random"; parse: -1 for another name. */
const char *goose__scheduler_name(int scheduler);
int goose__scheduler_parse(const char *name);
int goose__allocate_users(const goose_alloc *al, size_t users, unsigned *out);
/* The scenario of user (or arrival) `index`. */
unsigned goose__scenario_at(const goose_alloc *al, uint64_t index);
/* Its scenario, and which of that scenario's users (or arrivals) it is:
 * a scenario's users are numbered in the order of their indexes. */
uint64_t goose__scenario_ordinal(const goose_alloc *al, uint64_t index, unsigned *scenario);
/* The index of the m-th user of scenario s. */
uint64_t goose__scenario_user(const goose_alloc *al, unsigned s, uint64_t m);
/* How many of the first `users` users run scenario s. */
uint64_t goose__scenario_users(const goose_alloc *al, unsigned s, uint64_t users);

/* ---- inside the engine ---- */

typedef enum goose_user_wait {
    GOOSE_WAIT_NONE,
    GOOSE_WAIT_HTTP,   /* inside a transaction, for a response */
    GOOSE_WAIT_SLEEP,  /* inside a transaction, in goose_sleep() */
    GOOSE_WAIT_THROTTLE, /* inside a transaction, for a request slot */
    GOOSE_WAIT_PAUSE,  /* between transactions: the scenario's wait time */
    GOOSE_WAIT_ARRIVAL, /* free in the pool, for an iteration to start */
    GOOSE_WAIT_BATCH,  /* inside a transaction, for a batch's requests */
    GOOSE_WAIT_CONN,   /* a batch's request, for a free connection */
    GOOSE_WAIT_FD      /* inside a transaction, in goose_wait_fd() */
} goose_user_wait;

typedef struct goose_reply goose_reply;
typedef struct goose_lane goose_lane;

/* What one request under way needs: a user sends on its own lane (in
 * goose_user), and a batch (batch.c) sends each of its requests on a lane
 * of its own, on a coroutine of its own, so that they go at once.  Every
 * lane of a user shares its cookie jar and its transports' connections. */
struct goose_lane {
    goose_user *user;
    goose_coro *coro;          /* a batch's coroutine; NULL: the user's own */
    struct event *timer;       /* passed turns and throttle waits */
    goose_user_wait *waiting;  /* the user's, or own_wait (a batch's lane) */
    goose_user_wait own_wait;
    goose_reply *reply;        /* being sent: waiting for its throttle slot
                                  or a connection, or in flight */
    int inflight;              /* reply is with a transport */
    goose_terr result;         /* of the last exchange */
    uint64_t done_us;          /* when it finished */
    goose_lane *next_waiter;   /* in the user's list of lanes waiting for
                                  a free connection */
    goose_buf url;             /* scratch for building URLs */
    goose_buf path;            /* scratch for redirect paths */
    goose_buf cookie_value;    /* the request's Cookie value (a transport
                                  may read it again on a retry) */
};

typedef enum goose_user_state {
    GOOSE_USER_IDLE,      /* not started, or retired: may start (again) */
    GOOSE_USER_RUNNING,
    GOOSE_USER_RETIRING,  /* the level fell below it: finishing */
    GOOSE_USER_DONE       /* its iterations are done, or it could not start */
} goose_user_state;

typedef enum goose_user_phase {
    GOOSE_PHASE_START,
    GOOSE_PHASE_LOOP,
    GOOSE_PHASE_STOP,
    GOOSE_PHASE_DONE
} goose_user_phase;

struct goose_user {
    goose_thread *thread;
    const goose_scenario_plan *scenario;
    unsigned index;
    unsigned scenario_index;
    goose_user_state state;
    int relaunch;              /* retiring, but wanted again */
    goose_coro *coro;          /* borrowed while a transaction runs */
    const goose_tx_plan *tx;   /* the transaction running */
    goose_user_phase phase;
    size_t pos;                /* next transaction of the phase's list */
    uint64_t iterations;
    int arrived;               /* open model: an iteration was handed over */
    int pass_cut;              /* a transaction of this loop pass was cut short */
    uint64_t pass_us;          /* this loop pass's transactions so far */
    goose_cadence cadence;     /* of the loop passes (--co-mitigation) */
    void *transport[GOOSE_TRANSPORTS]; /* each row's state: the user's
                                  connections (made when first needed) */
    goose_cookie_jar cookies;  /* every transport's */
    goose_buf cookie_host, cookie_path; /* scratch (never across a yield) */
    struct event *timer;       /* goose_sleep and wait time */
    goose_user_wait waiting;
    goose_lane lane;           /* the user's own requests */
    goose_lane *waiters;       /* batch lanes waiting for a free connection */
    goose_lane *waiters_last;
    goose_batch *batches;      /* of the running transaction */
    goose_lane *slot_holder;   /* --throttle-requests: the lane with a claimed
                                  slot it waits for (one at a time) ... */
    uint64_t slot_due;         /* ... and when it is due (since the start) */
    goose_xoshiro wait_rng;    /* its wait times */
    goose_xoshiro rng;         /* goose_user_random */
    goose_xoshiro data_rng;    /* its GOOSE_DATA_RANDOM rows */
    struct goose_user_row *rows; /* goose_user_value's row of each data set
                                  (data.c); NULL until one is asked for */
    void *data;
    void (*data_free)(void *);
    goose_reply *open;         /* replies of the running transaction */
    goose_reply *spare;        /* freed replies, for reuse */
    goose_response *handles;   /* spare handles, oldest first */
    goose_response *handles_last;
    size_t nhandles;
    goose_response *freed;     /* handles freed in this transaction: kept
                                  out of reuse until it returns */
    goose_response *freed_first;
    size_t nfreed;
    int abandoned;             /* left suspended by the stop timeout */
    int iterations_counted;    /* its --iterations are done (counted once) */
    int stopping_tx;           /* a request was refused: the test is stopping */
    int tx_failed;             /* goose_transaction_fail: the transaction
                                  running fails, whatever it returns, ... */
    goose_buf tx_failure;      /* ... for this reason (the first one given) */
    int stop_asked;            /* goose_user_stop: on_stop next, then done
                                  for the test */
    goose_buf base;            /* --sticky-follow: the host a redirect
                                  moved this user to; empty: the scenario's */
    goose_cache cache;         /* goose_load_assets' (browser) cache */
    struct event *fd_event;    /* goose_wait_fd's (made when first needed) */
    int fd_ready;              /* what it found: GOOSE_READ|GOOSE_WRITE, 0 on
                                  its timeout, -1 while it waits */
};

struct goose_request {
    goose_user *user;
    char *method;
    char *path;
    char *name;
    goose_lines headers;       /* the request's own header lines */
    char *body;
    size_t body_len;
    int has_body;
    int body_kind;             /* how the body was given: GOOSE_BODY_* */
    long timeout_ms;           /* its own limit; 0: --timeout's */
    const char *refused;       /* the first builder call it refused: the
                                  request is not sent (static text) */
    int expected[8];
    size_t nexpected;
    int owned;                 /* strings are ours to free */
};

/* A request's body is given one way (request.c). */
enum { GOOSE_BODY_NONE, GOOSE_BODY_RAW, GOOSE_BODY_FORM, GOOSE_BODY_JSON };

/* What a request got: recycled as soon as it is freed, so a request costs
 * no allocation. */
struct goose_reply {
    goose_user *user;
    goose_lane *lane;          /* that sent it: done() resumes that lane */
    goose_reply *next;
    goose_response *handle;    /* the user's, or NULL (a redirect's hop) */
    goose_buf method;
    goose_buf name;
    int status;
    goose_terr result;
    uint64_t elapsed_us;
    uint64_t sent_us;          /* when it was handed to its transport */
    int expected[8];
    size_t nexpected;
    int recorded;              /* the metric is final */
    int any_protocol;          /* goose_record's: no HTTP status to show */
    int not_sent;              /* refused before sending: never counted */
    goose_buf failure;         /* set by goose_response_set_failure */
    goose_buf scratch;         /* header values handed to the user */
    goose_buf url;             /* of the transfer, kept for the logs */
    char why[96];              /* failure text built from the status */
    goose_http_capture capture;
    int fields_parsed;         /* the head's fields are in fields (check.c) */
    goose_buf fields;          /* "name\0value\0" for each header field */
    goose_buf field_at;        /* a size_t offset into fields for each */
    goose_reading *reading;    /* the body as read (read.c); NULL until asked */
};

/* What a user holds: a small handle on a reply.  A handle freed during a
 * transaction is not handed out again before the transaction returns, so
 * a second free (or a use after free) of it finds no reply and is refused,
 * never reaching another response of the user. */
struct goose_response {
    goose_user *user;
    goose_reply *reply;        /* NULL once freed */
    goose_response *next;
};

struct goose_thread {
    goose_engine *engine;
    size_t id;
    pthread_t tid;
    int started;
    struct event_base *base;
    void *transport[GOOSE_TRANSPORTS]; /* each row's: what drives its sockets */
    struct event *steer_timer; /* the next change of the users level */
    struct event *flush_timer;
    struct event *wake_event;
    struct event *reset_timer;
    struct event *arrival_timer;
    struct event *lag_timer;   /* notes how late the loop runs */
    goose_lag lag;
    int runq_fd;               /* this thread's schedstat, or -1 */
    int64_t runq_us;           /* its run-queue time at the last lag tick */
    int blocked_warned;        /* "thread N was blocked" is said once */
    uint64_t next_arrival;     /* the first arrival of the test not yet seen */
    goose_user ***free_users;  /* per scenario: users waiting for arrivals */
    size_t *nfree;
    int wake_fd;
    goose_coro **spare_coros;  /* finished coroutines, stacks kept for reuse */
    size_t nspare_coros;
    goose_user **users;        /* this thread's users, by index */
    size_t nusers, users_cap;
    size_t nwanted;            /* users[0..nwanted) are below the level */
    size_t nlaunched;          /* launches so far */
    size_t nrunning;           /* GOOSE_USER_RUNNING */
    size_t nlive;              /* running or retiring */
    size_t ndone;              /* GOOSE_USER_DONE */
    goose_shape shape;         /* the engine's, as of shape_version */
    unsigned shape_version;
    int stopping;
    int finished;
    goose_stats local;         /* written only by this thread */
    goose_buf logs[GOOSE_LOGFILES]; /* lines not yet handed to their writers */
    pthread_mutex_t outbox_lock;
    goose_stats outbox;        /* published once a second */
    goose_stats before;        /* measured before the metrics reset and not
                                  yet collected: for the time series only */
    unsigned resets;           /* metric resets, under outbox_lock */
    unsigned resets_seen;      /* by the run loop */
    atomic_size_t pub_launched;
    atomic_size_t pub_active;
    atomic_int stop_requested;
    atomic_int abandon_requested;
    size_t nabandoned;         /* users left suspended by the stop timeout */
    size_t niterations_done;   /* users that ran their --iterations */
    atomic_size_t pub_abandoned;
    atomic_size_t pub_iterations_done;
};

struct goose_engine {
    goose_run_config cfg;
    goose_thread *threads;
    size_t nthreads;
    uint64_t t0_us;
    goose_http_setup http;
    void *transport[GOOSE_TRANSPORTS]; /* each row's, for the run */
    pthread_mutex_t lock;
    pthread_cond_t done_cond;
    size_t nfinished;
    goose_throttle throttle;
    goose_shape shape;         /* under lock: the users over time */
    atomic_uint shape_version;
    atomic_uint misuse;        /* responses misused by transactions */
    goose_names *names;        /* request keys and error rows every thread
                                  keeps by name (NULL: no bound) */
    atomic_uint_fast64_t *data_next; /* per data set: the next GOOSE_DATA_CIRCULAR
                                  row of the test (data.c) */
};

/* user.c */
goose_user *goose__user_new(goose_thread *t, unsigned index,
                            unsigned scenario_index);
void goose__user_free(goose_user *u);
void goose__user_resume(goose_user *u);
void goose__user_wake(goose_user *u);
/* Open model: an iteration for a user waiting in the pool. */
void goose__user_arrive(goose_user *u);
/* Lets the thread's other users and events run before this one goes on:
 * a request that ended at once (refused, or failed before any I/O) must
 * not let a user without wait time loop without the loop ever running. */
void goose__user_pass_turn(goose_user *u);
/* The level rose above the user, or fell to it. */
void goose__user_want(goose_user *u);
void goose__user_retire(goose_user *u);
/* Leaves the user where it is, for good: see goose__engine_abandon. */
void goose__user_abandon(goose_user *u);
/* What the lane was sending ends with the user abandoned. */
void goose__lane_abandon(goose_lane *l);
/* No new transaction starts: the test or this user is stopping. */
static inline int goose__user_stopping(const goose_user *u);
/* The transaction u runs fails for this reason (the first one given
 * stays), whatever it returns: goose_transaction_fail without its checks,
 * for the library's own helpers (a response's bad pattern).  GOOSE_OK,
 * GOOSE_EINVAL (no transaction running, or no reason) or GOOSE_ENOMEM. */
int goose__transaction_fail(goose_user *u, const char *why);

/* once.c: test_start's or test_stop's transaction returned (into the
 * engine's once_result, when it has one). */
void goose__once_note(goose_user *u, int success, int rc);

/* thread.c */
int goose__thread_init(goose_thread *t, goose_engine *e, size_t id);
void goose__thread_cleanup(goose_thread *t);
void *goose__thread_main(void *arg);
/* The user ended: it retired, stopped, or ran all its iterations. */
void goose__thread_user_done(goose_thread *t, goose_user *u);
void goose__thread_user_started(goose_thread *t);
void goose__thread_user_retiring(goose_thread *t);
void goose__thread_wake(goose_thread *t);
goose_coro *goose__thread_borrow_coro(goose_thread *t, goose_coro_fn fn, void *arg);
void goose__thread_return_coro(goose_thread *t, goose_coro *c);

/* response.c */
goose_reply *goose__response_get(goose_user *u);
void goose__response_finalize(goose_reply *r);
void goose__response_recycle(goose_reply *r);
/* The user's handle on r; NULL (r recycled) when out of memory. */
goose_response *goose__response_hand_out(goose_reply *r);
/* The reply of a handle its own user's transaction may use, or NULL
 * (a freed handle, another user's: logged as misuse, naming fn). */
goose_reply *goose__response_own(goose_response *h, const char *fn);
/* The transaction returned: its replies are final, its handles reusable. */
void goose__responses_close(goose_user *u);
void goose__responses_free_spares(goose_user *u);
/* Misuse by a transaction, logged the first few times of a run. */
void goose__response_misuse(goose_user *u, const char *what);

/* read.c: the body of a reply read as HTML, JSON or by patterns, parsed
 * when first asked; freed when the reply is recycled. */
void goose__reading_free(goose_reading *rd);
/* The reply's body as an HTML document (parsed once, owned by the
 * reply); NULL when out of memory. */
struct goose_html *goose__reply_html(goose_reply *r);

/* data.c: the engine's counters of the data sets (-1: out of memory);
 * a user's drawn rows, freed when it ends or starts again. */
int goose__data_start(goose_engine *e);
void goose__data_stop(goose_engine *e);
void goose__user_rows_free(goose_user *u);

/* logs.c */
const char *goose__log_header(int log, int format);
void goose__log_request(goose_user *u, const goose_reply *r, const char *error);
void goose__log_transaction(goose_user *u, int success, uint64_t elapsed_us);
void goose__logs_handover(goose_thread *t);

/* arrival.c: the open model */
int goose__arrivals_init(goose_thread *t);
void goose__arrivals_start(goose_thread *t);
void goose__arrivals_free(goose_thread *t);
void goose__arrival_wait(goose_user *u);

/* exchange.c: sends one request and waits for its answer; NULL, or why
 * it was not sent.  It fills in req's parts and cookie. */
const char *goose__exchange(goose_lane *l, goose_reply *r, goose_http_request *req);

/* assets.c: a reference of the page at URL page (split in parts) resolved
 * without libcurl when it is a plain path: 1, or 0 when it needs
 * goose__http_resolve, -1 when out of memory. */
int goose__assets_resolve(const char *page, const goose_url_parts *parts, const char *ref,
                          goose_buf *out);

/* send.c */
goose_reply *goose__send(goose_request *req);
/* The same on a lane (a batch's), from its coroutine. */
goose_reply *goose__send_on(goose_lane *l, goose_request *req);
void goose__lane_init(goose_lane *l, goose_user *u);
void goose__lane_free(goose_lane *l);
/* A request that ended at once lets the thread's other users run first
 * (the user's own lane; a batch does it once for all, batch.c). */
void goose__lane_pass_turn(goose_lane *l);
/* --throttle-requests: waits for the lane's next request slot (a request,
 * or a goose_record); 0, or -1 when the test stopped meanwhile. */
int goose__lane_await_slot(goose_lane *l);

/* batch.c */
/* Back into a batch's lane that waited; when it was the batch's last
 * request, the user waiting for the batch goes on. */
void goose__batch_resume(goose_lane *l);
/* The lanes waiting for a free connection try again: one of the user's
 * requests ended. */
void goose__lanes_retry(goose_user *u);
/* The test stops, or the user retires: lanes waiting for a throttle slot
 * wake to hear it. */
void goose__batches_wake(goose_user *u);
/* The user is abandoned: what its batches' lanes were sending is marked
 * (never sent, or cancelled and failed) as goose__user_abandon does. */
void goose__batches_abandon(goose_user *u);
/* The transaction returned (or the user was abandoned): its batches are
 * freed. */
void goose__batches_close(goose_user *u);

/* check.c: a check on h (its own user's, not freed) did not hold: the
 * request fails for why unless it failed already (the first reason
 * stays).  GOOSE_EFAILED, or GOOSE_ENOMEM. */
int goose__response_check_failed(goose_response *h, const char *why);

/* request.c: the Content-Type line of a form or JSON body, added before
 * sending unless the request has its own; -1 when out of memory. */
int goose__request_content_type(goose_request *req);

static inline int goose__user_stopping(const goose_user *u)
{
    return u->thread->stopping || u->state == GOOSE_USER_RETIRING;
}

#endif
