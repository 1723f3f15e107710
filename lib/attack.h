/* The attack: options, the scenario registry and the results of a run.
 * Private to lib/. */
#ifndef GOOSE_ATTACK_H
#define GOOSE_ATTACK_H

#include <goose.h>

#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/engine.h"
#include "metrics/stats.h"

/* ---- registry (scenario.c) ---- */

struct goose_transaction {
    char *name;
    goose_transaction_fn fn;
    unsigned weight;
    unsigned sequence;  /* 0: not sequenced */
    int on_start;
    int on_stop;
    char *error;        /* first mistake made with it, or NULL */
};

struct goose_taskset {
    char *name;
    goose_transaction **txs;
    size_t ntxs;
    unsigned refs;      /* scenarios holding it */
    char *error;
};

typedef struct goose_scenario_item {
    goose_transaction *tx; /* either a transaction of its own ... */
    goose_taskset *ts;     /* ... or a shared task set */
} goose_scenario_item;

struct goose_scenario {
    char *name;
    unsigned weight;
    unsigned wait_min_ms;
    unsigned wait_max_ms;
    char *host;
    goose_scenario_item *items;
    size_t nitems;
    char *error;
};

/* The first registration mistake of an object: kept so that goose_main and
 * goose_attack_run can refuse the configuration with a clear message. */
void goose__set_error(char **slot, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int goose__valid_url(const char *url);

/* ---- thresholds (threshold.c): "[KEY:]METRIC OP VALUE", see goose(7) ---- */

typedef enum goose_th_metric {
    GOOSE_TH_PERCENTILE,
    GOOSE_TH_MIN,
    GOOSE_TH_MAX,
    GOOSE_TH_AVG,
    GOOSE_TH_COUNT,
    GOOSE_TH_FAILS,
    GOOSE_TH_FAIL_RATE,
    GOOSE_TH_RPS
} goose_th_metric;

typedef enum goose_th_op {
    GOOSE_TH_LT,
    GOOSE_TH_LE,
    GOOSE_TH_GT,
    GOOSE_TH_GE,
    GOOSE_TH_EQ,
    GOOSE_TH_NE
} goose_th_op;

typedef struct goose_threshold {
    char *expr;             /* as given, trimmed */
    char *key;              /* a request or transaction; NULL: every request */
    char metric[16];        /* "p95", "p99.9", "avg", "fail_rate", ... */
    goose_th_metric kind;
    double quantile;        /* of a percentile, in (0, 1] */
    goose_th_op op;
    double limit;           /* us for times, a fraction for fail_rate */
} goose_threshold;

/* A threshold as the end of a run found it. */
typedef struct goose_threshold_result {
    goose_threshold t;      /* a copy: the report outlives option changes */
    int measured;           /* 0: nothing to measure, see reason */
    double observed;        /* in the unit of t.limit */
    int pass;
    int aborted;            /* it stopped the run (--threshold-abort) */
    char reason[200];       /* why it failed without a measurement, or the abort */
} goose_threshold_result;

/* ---- options (options.c) ---- */

typedef struct goose_options {
    char *host;
    size_t users;
    double hatch_rate;      /* users per second; 0 = not set */
    uint64_t startup_us;    /* 0 = not set */
    uint64_t run_time_us;   /* 0 = until stopped */
    uint64_t stop_timeout_us; /* --stop-timeout: users may finish this long */
    uint64_t iterations;
    char *scenarios;        /* --scenarios: the list as given; NULL = all */
    int scenarios_list;     /* --scenarios-list (goose_main) */
    long timeout_ms;
    int co_mitigation;      /* goose_co_mode (metrics/co.h); 0 = disabled */
    int no_reset_metrics;
    uint64_t running_metrics_us;
    int no_print_metrics;
    int status_codes;
    char **report_files;
    size_t nreport_files;
    int verbose;
    int quiet;
    int log_json;           /* --log-format json */
    char *metrics_listen;   /* HOST:PORT of the Prometheus endpoint */
    char *controller;       /* HOST:PORT of the live controller */
    char *baseline_file;
    size_t threads;         /* 0 = online CPUs */
    size_t stack_size;
    size_t max_request_names; /* request keys (and error rows) kept by name */
    char **resolve;
    size_t nresolve;
    char *log_paths[3];     /* --request-log, --transaction-log, --error-log */
    int log_formats[3];     /* GOOSE_FORMAT_* */
    char *test_plan;        /* "users,duration;..." (--test-plan) */
    double throttle_rps;    /* --throttle-requests; 0: none */
    int sticky_follow;
    double arrival_rate;    /* --arrival-rate; 0: closed model */
    char *arrival_plan;     /* --arrival-plan */
    char **local_addrs;     /* users take them in turn (--local-address) */
    size_t nlocal_addrs;
    int help;
    int version;
    int manager;
    int worker;
    size_t expect_workers;
    int no_hash_check;
    char *manager_bind_host;
    unsigned manager_bind_port;
    char *manager_host;
    unsigned manager_port;
    uint64_t gaggle_timeout_us;
    char *gaggle_key;
    char *gaggle_key_file;
    char *tls_cert;
    char *tls_key;
    char *tls_ca;
    goose_threshold *thresholds;
    size_t nthresholds;
    int threshold_abort;
    uint64_t set_mask;      /* bit i: option i of the table was given */
} goose_options;

void goose__options_init(goose_options *o);
void goose__options_free(goose_options *o);
/* Parses one option by long name; on error writes a one-line message. */
int goose__option_set(goose_options *o, const char *name, const char *value,
                      char *err, size_t errlen);

/* ---- the option table (options.c): each row carries its rules ---- */

/* Every option, in the order of the table (and of --help): a check names
 * its option by id, so a misspelt one does not compile. */
typedef enum goose_option_id {
    GOOSE_OPT_HOST, GOOSE_OPT_USERS, GOOSE_OPT_HATCH_RATE, GOOSE_OPT_STARTUP_TIME,
    GOOSE_OPT_RUN_TIME, GOOSE_OPT_ITERATIONS, GOOSE_OPT_STOP_TIMEOUT, GOOSE_OPT_SCENARIOS,
    GOOSE_OPT_SCENARIOS_LIST, GOOSE_OPT_TEST_PLAN, GOOSE_OPT_THROTTLE_REQUESTS,
    GOOSE_OPT_ARRIVAL_RATE, GOOSE_OPT_ARRIVAL_PLAN, GOOSE_OPT_TIMEOUT,
    GOOSE_OPT_CO_MITIGATION, GOOSE_OPT_NO_RESET_METRICS, GOOSE_OPT_RUNNING_METRICS,
    GOOSE_OPT_NO_PRINT_METRICS, GOOSE_OPT_STATUS_CODES, GOOSE_OPT_STICKY_FOLLOW,
    GOOSE_OPT_REPORT_FILE, GOOSE_OPT_BASELINE_FILE, GOOSE_OPT_REQUEST_LOG,
    GOOSE_OPT_REQUEST_FORMAT, GOOSE_OPT_TRANSACTION_LOG, GOOSE_OPT_TRANSACTION_FORMAT,
    GOOSE_OPT_ERROR_LOG, GOOSE_OPT_ERROR_FORMAT, GOOSE_OPT_LOG_FORMAT,
    GOOSE_OPT_METRICS_LISTEN, GOOSE_OPT_CONTROLLER, GOOSE_OPT_THRESHOLD,
    GOOSE_OPT_THRESHOLD_ABORT, GOOSE_OPT_VERBOSE, GOOSE_OPT_QUIET, GOOSE_OPT_THREADS,
    GOOSE_OPT_MAX_REQUEST_NAMES, GOOSE_OPT_STACK_SIZE, GOOSE_OPT_LOCAL_ADDRESS,
    GOOSE_OPT_RESOLVE, GOOSE_OPT_MANAGER, GOOSE_OPT_WORKER, GOOSE_OPT_EXPECT_WORKERS,
    GOOSE_OPT_NO_HASH_CHECK, GOOSE_OPT_MANAGER_BIND_HOST, GOOSE_OPT_MANAGER_BIND_PORT,
    GOOSE_OPT_MANAGER_HOST, GOOSE_OPT_MANAGER_PORT, GOOSE_OPT_GAGGLE_TIMEOUT,
    GOOSE_OPT_GAGGLE_KEY, GOOSE_OPT_GAGGLE_KEY_FILE, GOOSE_OPT_TLS_CERT, GOOSE_OPT_TLS_KEY,
    GOOSE_OPT_TLS_CA, GOOSE_OPT_HELP, GOOSE_OPT_VERSION,
    GOOSE_NOPTIONS
} goose_option_id;

/* The sides of a Gaggle an option may be set on; elsewhere it is refused
 * (goose_main without --manager or --worker, gaggle/options.c). */
enum {
    GOOSE_SIDE_STANDALONE = 1,
    GOOSE_SIDE_MANAGER = 2,
    GOOSE_SIDE_WORKER = 4,
    GOOSE_SIDES_ALL = 7
};

/* How the reports show the value of a given option: the type at `field`
 * of goose_options, and its unit. */
typedef enum goose_option_show {
    GOOSE_SHOW_GIVEN,       /* "(given)" */
    GOOSE_SHOW_SECRET,      /* never shown, nor taken as a flag (ps shows flags) */
    GOOSE_SHOW_FLAG,        /* int: on or off */
    GOOSE_SHOW_TEXT,        /* char * */
    GOOSE_SHOW_SIZE,        /* size_t */
    GOOSE_SHOW_KIB,         /* size_t bytes, in k */
    GOOSE_SHOW_PORT,        /* unsigned */
    GOOSE_SHOW_INT,         /* int */
    GOOSE_SHOW_COUNT,       /* uint64_t */
    GOOSE_SHOW_RATE,        /* double, users/s */
    GOOSE_SHOW_DURATION,    /* uint64_t us */
    GOOSE_SHOW_DURATION_MS, /* long ms */
    GOOSE_SHOW_LIST,        /* char **, with its count at `count` */
    GOOSE_SHOW_ADDRESSES,   /* a list, folded past 4 */
    GOOSE_SHOW_LOG_FORMAT,  /* int GOOSE_FORMAT_*: json, csv or raw */
    GOOSE_SHOW_TEXT_OR_JSON, /* int: 1 json, 0 text */
    GOOSE_SHOW_CO_MODE,     /* int goose_co_mode */
    GOOSE_SHOW_THRESHOLDS   /* goose_threshold *, with its count at `count` */
} goose_option_show;

/* Given with the option of its row, `other` is refused with `why` (the
 * second one set; the run says so again). */
typedef struct goose_option_excl {
    goose_option_id other;
    const char *why;
} goose_option_excl;

/* One row of the option table. */
typedef struct goose_option_info {
    const char *name;
    char short_name;
    int takes_value;   /* 0: a flag, an int at `field` */
    int repeatable;
    const char *value_hint;
    const char *help;
    unsigned sides;    /* GOOSE_SIDE_* */
    goose_option_show show;
    size_t field;      /* offsetof its value in goose_options */
    size_t count;      /* of a list: offsetof its length */
    const goose_option_excl *excludes; /* up to why == NULL; NULL: none */
} goose_option_info;

const goose_option_info *goose__option_find(const char *name);
const goose_option_info *goose__option_find_short(char c);
const goose_option_info *goose__option_list(size_t *n);
/* The row of an option; NULL past the table. */
const goose_option_info *goose__option_row(goose_option_id id);
/* The id of a long name, or GOOSE_EOPTION when no option has it. */
int goose__option_id(const char *name);
/* 1: the option was given, 0: not; GOOSE_EOPTION for an id past the table,
 * which a check taking it as "given" refuses rather than skips. */
int goose__option_given(const goose_options *o, goose_option_id id);
/* The first option of the row's exclusions that o was given: its message
 * in err and GOOSE_ECONFIG, or GOOSE_OK. */
int goose__option_excluded(const goose_options *o, goose_option_id id, char *err,
                           size_t errlen);
/* The option a misspelt name meant ("run_tme", "RUNTIME"), or NULL when
 * none is close. */
const char *goose__option_suggest(const char *name);
/* Edits between two names (a swap of two letters is one edit); SIZE_MAX
 * past 63 bytes.  A name is a slip of another within goose__slip_limit()
 * edits: one in three letters, two at most. */
size_t goose__edit_distance(const char *a, const char *b);
size_t goose__slip_limit(const char *name);

/* ---- option values (options.c) ---- */

/* The pre-shared Gaggle key: its bounds, and reading it from a file (a
 * trailing newline dropped; GOOSE_EVALUE and a message when unreadable or
 * out of bounds). */
#define GOOSE_KEY_MIN 16
#define GOOSE_KEY_MAX 1024
int goose__key_file_read(const char *path, unsigned char out[GOOSE_KEY_MAX], size_t *len,
                         char *err, size_t errlen);
/* A bare number is bare_us microseconds; goose__parse_duration_us: seconds. */
int goose__parse_duration(const char *s, double bare_us, uint64_t *out);
int goose__parse_duration_us(const char *s, uint64_t *out);
/* Digits with at most one '.': returns the end, or NULL. */
const char *goose__parse_decimal(const char *s, double *out);

/* loadplan.c: "level,duration;..." (GOOSE_PLAN_USERS: levels are whole
 * users; GOOSE_PLAN_FROM_NOW: a plan that continues from a running level,
 * which may be all zeros).  A one-line message naming the bad step on
 * error; out may be NULL to only check. */
enum { GOOSE_PLAN_USERS = 1, GOOSE_PLAN_FROM_NOW = 2 };
int goose__loadplan_parse(const char *flag, const char *spec, int flags, double max,
                          goose_shape *out, char *err, size_t errlen);

/* ---- results of a run ---- */

typedef struct goose_tx_info {
    const char *scenario;
    const char *name;
} goose_tx_info;

typedef struct goose_phase {
    const char *name;      /* "increase", "maintain", "decrease" */
    double start_s;        /* since the start of the run */
    double end_s;
    size_t users_from;
    size_t users_to;
} goose_phase;

/* One request key's requests in each second of the run. */
typedef struct goose_key_series {
    char *method;
    char *name;
    uint64_t *counts;        /* [series.n]; zero where the key had none */
} goose_key_series;

/* The run second by second, for graphs. */
typedef struct goose_series {
    size_t n, cap;
    uint64_t *users;
    double *rps;
    uint64_t *p50_us;
    uint64_t *p95_us;
    uint64_t *p99_us;
    uint64_t *fails;
    goose_key_series *keys;
    size_t nkeys;
    size_t *key_slots;       /* open addressing: index+1 into keys, 0 free */
    size_t key_slot_cap;     /* a power of two, at least twice nkeys */
    double last_s;           /* the seconds the last point covers: a whole
                                one, or the part of one the run ended in */
} goose_series;

typedef struct goose_worker_info {
    char name[128];
    size_t users;
    uint64_t requests;
    const char *state;       /* "done" or "lost" */
    double start_offset_ms;  /* against the planned start */
} goose_worker_info;

/* How the load was shaped, for the reports. */
typedef struct goose_load_info {
    char *test_plan;         /* NULL: none */
    int open_model;
    double arrival_rate;     /* constant rate, or 0 */
    char *arrival_plan;      /* NULL: none */
    double throttle_rps;     /* 0: none */
} goose_load_info;

typedef struct goose_results {
    int valid;
    goose_load_info load;
    char started[40];        /* RFC 3339 */
    double duration_s;       /* of the measured part */
    double elapsed_s;        /* of the whole run */
    int metrics_reset;
    double reset_at_s;
    uint64_t hatch_requests; /* measured before the reset: in the series,
                                not in the totals */
    uint64_t series_lost;    /* requests measured (in the totals, their lost
                                or the hatch) that the series misses (out of
                                memory): series + series_lost = totals.requests
                                + totals.lost + hatch_requests */
    int co_mode;             /* --co-mitigation: adjusted times when not 0 */
    goose_stats totals;
    goose_series series;
    goose_phase *phases;     /* increase/maintain/decrease, in order */
    size_t nphases;
    goose_tx_info *txs;
    size_t ntxs;
    char **scenario_names;
    size_t *scenario_users;
    size_t nscenarios;
    size_t users;
    size_t threads;
    char **hosts;            /* per scenario */
    int manager;             /* a Gaggle Manager's report */
    goose_worker_info *workers;
    size_t nworkers;
    double start_spread_ms;
    int gaggle_authenticated;  /* the Workers proved a gaggle key */
    int gaggle_tls;
    goose_threshold_result *thresholds; /* one per --threshold, in order */
    size_t nthresholds;
    int aborted;             /* --threshold-abort stopped the run ... */
    size_t aborted_by;       /* ... on this threshold */
    double aborted_at_s;     /* since the start of the run */
    double aborted_observed; /* what it measured then */
    size_t abandoned_users;  /* left unfinished at the stop timeout */
    size_t max_request_names; /* the bound on request keys and error rows */
    uint64_t names_folded;   /* distinct request keys counted under (other) */
    uint64_t errors_folded;  /* distinct error rows counted under (other errors) */
    int folded_exact;        /* 0: the two counts are lower bounds (more than
                                GOOSE_NAMES_TRACK folded) or a Gaggle's sums */
} goose_results;

void goose__results_free(goose_results *r);

typedef struct goose_baseline goose_baseline; /* report/baseline.c */

/* Once a second, for goose_main's status line. */
typedef struct goose_progress {
    double elapsed_s;
    const char *phase;       /* "increase", "maintain", "decrease" */
    size_t users;
    double rps;              /* over the last second */
    double fail_pct;         /* of every request so far */
    double p95_ms;           /* over the last second */
    uint64_t requests;       /* so far */
} goose_progress;

typedef void (*goose_progress_fn)(void *arg, const goose_progress *p);

/* ---- the attack ---- */

struct goose_attack {
    goose_options opt;
    goose_scenario **scenarios;
    size_t nscenarios;
    char *config_error;      /* first registration mistake */
    int config_code;
    char error[512];         /* goose_attack_error() */
    void *data;
    void (*data_free)(void *);
    goose_log_fn log_fn;
    void *log_arg;
    goose_baseline *baseline;      /* --baseline-file, read before the run */
    goose_progress_fn progress_fn; /* goose_main's; NULL for embedders */
    void *progress_arg;
    atomic_int stop;
    atomic_int running;
    goose_results results;
};

void goose__log(goose_attack *a, goose_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int goose__fail(goose_attack *a, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The message of goose__fail() becomes the attack's first mistake, unless
 * it has one: every run then refuses with code (see goose__run_begin). */
void goose__remember_mistake(goose_attack *a, int code);
/* goose_attack_set_option(), source added to a message ("(from GOOSE_X)"). */
int goose__set_option_from(goose_attack *a, const char *name, const char *value,
                           const char *source);

/* select.c: which scenarios run (--scenarios) and their listing. */
#define GOOSE_SCENARIOS_MAX 4096 /* bytes of a --scenarios list */
/* 1 when the pattern (plen bytes, '*' a wildcard) matches the name, both
 * compared as machine names (see goose(7)). */
int goose__scenario_match(const char *pattern, size_t plen, const char *name);
/* Checks a --scenarios list: no empty item, not too long. */
int goose__scenarios_check(const char *list, char *err, size_t errlen);
/* selected[i] for each registered scenario, *count of them; an item that
 * matches no scenario is GOOSE_ECONFIG. */
int goose__scenarios_select(goose_attack *a, unsigned char *selected, size_t *count);
/* --scenarios-list: one line per selected scenario, in *out (free()). */
int goose__scenarios_list(goose_attack *a, char **out);
/* scenario.c: its transactions, task sets expanded in place, in
 * registration order; out may be NULL to count them. */
size_t goose__scenario_txs(const goose_scenario *s, const goose_transaction **out);

/* plan.c: the engine's view of the registered scenarios. */
typedef struct goose_plan {
    goose_scenario_plan *scenarios;
    size_t nscenarios;
    goose_tx_info *txs;
    size_t ntxs;
    unsigned *user_scenario;
    unsigned *weights;      /* per scenario */
} goose_plan;

int goose__plan_build(goose_attack *a, goose_plan *plan);
void goose__plan_free(goose_plan *plan);

/* attack.c: a run holds the attack; stop requests end with it. */
int goose__run_begin(goose_attack *a, int clear_stop);
void goose__run_end(goose_attack *a);

/* run.c: the graceful stop, bounded by --stop-timeout. */
typedef struct goose_stop_clock {
    uint64_t since_us;       /* when the users began to finish; 0: not yet */
    int abandoned;
} goose_stop_clock;

/* Called every tick while the users finish (the engine was asked to stop,
 * or every user ran its iterations): past --stop-timeout, or at once when
 * urgent (a second stop), abandons the users still running. */
void goose__stop_clock_tick(goose_stop_clock *sc, goose_attack *a, goose_engine *e,
                            uint64_t now, int urgent);
/* 1 when goose_main got a second signal (a->stop is 2): the stop ends at
 * once.  goose_attack_stop() only ever sets 1. */
int goose__stop_urgent(const goose_attack *a);
/* The users abandoned, into the results, with a warning when there are. */
void goose__stop_clock_record(goose_attack *a, size_t abandoned);

/* hash.c: SHA-256 (hex) over what shapes the test: the registry. */
int goose__test_hash(const goose_attack *a, char out[65]);

/* setup.c: options and registry -> engine configuration, plan, results. */
int goose__run_setup(goose_attack *a, goose_run_config *cfg, goose_plan *plan);
/* Closes the logs (GOOSE_EIO if one could not be written) and frees. */
int goose__run_teardown(goose_attack *a, goose_run_config *cfg, goose_plan *plan);
int goose__results_prepare(goose_attack *a, const goose_plan *plan, size_t threads);

/* collect.c: shards merged by addition, time series, phases. */
typedef struct goose_collector {
    goose_attack *a;
    goose_stats **shards;     /* totals per shard (engine thread) */
    size_t nshards;
    goose_stats interval;     /* since the last tick */
    size_t ntx;
    size_t nscenarios;
    size_t users;             /* of the whole test */
    int reset_on_launch;
    uint64_t start_us;
    uint64_t measure_from_us;
    uint64_t last_tick_us;
    uint64_t last_running_us;
    uint64_t maintain_from_us;
    uint64_t stop_at_us;      /* 0: not known yet, or no run time */
    uint64_t decrease_from_us;
    int shaped;               /* users follow `shape` (a test plan or a
                                 controller's change), not one ramp */
    uint64_t plan_end_us;     /* a test or arrival plan ends the run then
                                 (since the start); 0: no plan */
    goose_shape shape;
    uint64_t requests;        /* so far, for the progress line */
    uint64_t failures;
    uint64_t lag_us;          /* how far behind its shards' data may be */
    int no_retry;             /* a delta that cannot be merged is lost (a
                                 Worker's, or the last collect's), counted */
    uint64_t lost_requests;   /* in deltas that could not be merged */
    uint64_t lost_details;
    uint64_t series_lost;     /* see goose_results */
    uint64_t hatch_requests;
    uint64_t threshold_tick_us; /* the tick --threshold-abort last saw */
    struct goose_metrics_server *metrics; /* --metrics-listen, or NULL */
} goose_collector;

int goose__collector_init(goose_collector *c, goose_attack *a,
                          const goose_run_config *cfg);
void goose__collector_free(goose_collector *c);
/* 0, or -1 when out of memory with nothing merged (to be tried again);
 * with no_retry it counts what it could not merge and returns 0. */
int goose__collector_add(goose_collector *c, size_t shard, int reset,
                         const goose_stats *before, const goose_stats *delta);
/* Requests measured, and of them measured before the reset, whose metrics
 * never reached the collector (a Worker could not send them). */
void goose__collector_lost(goose_collector *c, uint64_t requests, uint64_t hatch);
/* Samples the results miss (out of memory): 0 when they are complete. */
uint64_t goose__results_lost(const goose_results *r);
/* rc, or GOOSE_EFAILED when the results miss samples (rc was GOOSE_OK). */
int goose__lost_verdict(goose_attack *a, int rc);
uint64_t goose__collector_shard_requests(const goose_collector *c, size_t shard);
void goose__collector_tick(goose_collector *c, uint64_t now, size_t active);
void goose__collector_totals(goose_collector *c);
void goose__collector_running(goose_collector *c, uint64_t now, size_t active);
void goose__collector_maintain(goose_collector *c, uint64_t now);
/* The users follow `shape` from now on (times since the start). */
int goose__collector_reshape(goose_collector *c, const goose_shape *shape);
int goose__collector_stop_due(goose_collector *c, uint64_t now);
/* The results of the run, thresholds evaluated; GOOSE_ENOMEM or GOOSE_OK. */
int goose__collector_finish(goose_collector *c, uint64_t end, size_t launched);
/* run.c: the one warning when request keys first fold (with a few of
 * them), and what the reports say: what n (the engine's bound, or a
 * Manager's) folded, plus what others (the Workers) did. */
int goose__names_warn(goose_attack *a, goose_names *n, const char *where);
void goose__names_report(goose_attack *a, goose_names *n, uint64_t names_folded,
                         uint64_t errors_folded);

/* threshold.c */
int goose__threshold_parse(const char *expr, goose_threshold *out, char *err,
                           size_t errlen);
int goose__threshold_copy(goose_threshold *dst, const goose_threshold *src);
void goose__threshold_free(goose_threshold *t);
/* t against s, the totals of secs measured seconds; scratch: any histogram. */
void goose__threshold_check(const goose_threshold *t, const goose_stats *s,
                            const goose_tx_info *txs, size_t ntxs, double secs,
                            goose_hist *scratch, goose_threshold_result *out);
const char *goose__threshold_op(goose_th_op op);
/* The unit of limit and observed: "us", "fraction", "count" or "per_s". */
const char *goose__threshold_unit(const goose_threshold *t);
/* A value for people: "212.4ms", "1.5%", "1234", "523.1/s". */
void goose__threshold_format(const goose_threshold *t, double v, char *out, size_t len);
/* --threshold-abort: 1 when the totals so far (secs measured, at_s into the
 * run) fail a threshold for good; the run's results say which. */
int goose__thresholds_abort_due(goose_attack *a, double secs, double at_s);
/* Every threshold against the final totals, into the results. */
int goose__thresholds_evaluate(goose_attack *a);
/* rc, or GOOSE_ETHRESHOLD when rc is GOOSE_OK and a threshold failed. */
int goose__thresholds_verdict(goose_attack *a, int rc);

/* report/baseline.c: --baseline-file, set against this run. */
typedef struct goose_compare {
    const char *method;
    const char *name;
    int in_baseline;
    int in_run;
    uint64_t then_count, now_count;
    double then_rps, now_rps;
    double then_p95_ms, now_p95_ms;
    double then_fail_pct, now_fail_pct;
    char count_change[24];   /* "+12.5%", "new", "gone", ... */
    char rps_change[24];
    char p95_change[24];
} goose_compare;

int goose__baseline_load(goose_attack *a, goose_baseline **out);
void goose__baseline_free(goose_baseline *b);
const char *goose__baseline_file(const goose_baseline *b);
/* One row per request key of either; *out is freed by the caller. */
size_t goose__baseline_compare(const goose_attack *a, goose_compare **out);

/* report/prometheus.c: --metrics-listen */
typedef struct goose_metrics_server goose_metrics_server;
goose_metrics_server *goose__metrics_start(goose_attack *a, const char *hostport);
char *goose__metrics_render(const goose_stats *s, size_t users, const char *phase);
void goose__metrics_update(goose_metrics_server *m, char *page);
void goose__metrics_stop(goose_metrics_server *m);

/* report/: console text and JSON of the last run. */
char *goose__report_text(const goose_attack *a);
char *goose__report_json(const goose_attack *a);
char *goose__report_markdown(const goose_attack *a);
char *goose__report_html(const goose_attack *a);
char *goose__report_csv(const goose_attack *a);
char *goose__report_csv_history(const goose_attack *a);
char *goose__report_csv_thresholds(const goose_attack *a);
char *goose__report_running(const goose_attack *a, const goose_stats *s,
                            double elapsed_s, size_t users);
int goose__report_write_files(goose_attack *a);

#endif
