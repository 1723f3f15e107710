/* The options of an attack and the one option table that parses them. */
#ifndef GOOSE_CONFIG_OPTIONS_H
#define GOOSE_CONFIG_OPTIONS_H

#include <stddef.h>
#include <stdint.h>

#include "engine/shape.h"
#include "metrics/threshold.h"
#include "util/parse.h"

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
    int scheduler;          /* --scheduler: goose_scheduler (engine.h) */
    uint64_t seed;          /* --seed, or on a Worker the Manager's */
    int seed_set;           /* seed holds one; else each run draws its own */
    char **data;            /* --data: "NAME=PATH", one per name (the last
                               given wins) */
    size_t ndata;
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
    int no_autostart;        /* a Manager that waits for the controller's start, test after test */
    int worker_reconnect;    /* a Worker that serves test after test, Manager after Manager */
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
    int accept_invalid_certs; /* no certificate or host-name check of targets */
    char *ca_file;          /* --ca-file: its path (the Manager's, standalone) */
    char *ca_pem;           /* its contents, read once when set (a Worker: */
    size_t ca_pem_len;      /*   the Manager's, from the welcome) */
    char *client_cert;      /* --client-cert, --client-key: paths each */
    char *client_key;       /*   process reads (never on the wire) */
    int http_version;       /* --http-version: goose_http_version */
    int assets_cross_origin; /* goose_load_assets fetches other origins too */
    int no_cache;           /* goose_load_assets keeps no cache */
    goose_threshold *thresholds;
    size_t nthresholds;
    int threshold_abort;
    uint64_t set_mask[2];   /* bit i % 64 of word i / 64: option i of the
                               table was given */
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
    GOOSE_OPT_SCENARIOS_LIST, GOOSE_OPT_SCHEDULER, GOOSE_OPT_SEED, GOOSE_OPT_DATA, GOOSE_OPT_TEST_PLAN, GOOSE_OPT_THROTTLE_REQUESTS,
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
    GOOSE_OPT_NO_HASH_CHECK, GOOSE_OPT_NO_AUTOSTART, GOOSE_OPT_MANAGER_BIND_HOST, GOOSE_OPT_MANAGER_BIND_PORT,
    GOOSE_OPT_MANAGER_HOST, GOOSE_OPT_MANAGER_PORT, GOOSE_OPT_WORKER_RECONNECT,
    GOOSE_OPT_GAGGLE_TIMEOUT,
    GOOSE_OPT_GAGGLE_KEY, GOOSE_OPT_GAGGLE_KEY_FILE, GOOSE_OPT_TLS_CERT, GOOSE_OPT_TLS_KEY,
    GOOSE_OPT_TLS_CA, GOOSE_OPT_ACCEPT_INVALID_CERTS, GOOSE_OPT_CA_FILE,
    GOOSE_OPT_CLIENT_CERT, GOOSE_OPT_CLIENT_KEY, GOOSE_OPT_HTTP_VERSION,
    GOOSE_OPT_ASSETS_CROSS_ORIGIN, GOOSE_OPT_NO_CACHE,
    GOOSE_OPT_HELP, GOOSE_OPT_VERSION,
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
    GOOSE_SHOW_THRESHOLDS,  /* goose_threshold *, with its count at `count` */
    GOOSE_SHOW_HTTP_VERSION, /* int goose_http_version: auto, 1.1 or 2 */
    GOOSE_SHOW_SCHEDULER    /* int goose_scheduler: round-robin, serial, random */
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

/* ---- option values (options.c) ---- */

/* The pre-shared Gaggle key: its bounds, and reading it from a file (a
 * trailing newline dropped; GOOSE_EVALUE and a message when unreadable or
 * out of bounds). */
#define GOOSE_KEY_MIN 16
#define GOOSE_KEY_MAX 1024
int goose__key_file_read(const char *path, unsigned char out[GOOSE_KEY_MAX], size_t *len,
                         char *err, size_t errlen);

/* The target's TLS files (--ca-file, --client-cert, --client-key).  A CA
 * file is read once, whole, and shipped to a Gaggle's Workers: at most
 * GOOSE_CA_FILE_MAX bytes, and it must hold a PEM certificate. */
#define GOOSE_CA_FILE_MAX (1024 * 1024)
/* 0 when pem (len bytes, not NUL-terminated) holds at least one PEM
 * certificate OpenSSL reads; -1 and why in err otherwise. */
int goose__ca_pem_check(const char *pem, size_t len, char *err, size_t errlen);
/* The client certificate and key the run will use, checked again before
 * anything starts: a key needs its certificate (a certificate alone must
 * hold its key, as curl reads it), each file readable and PEM, and the
 * key the certificate's.  GOOSE_ECONFIG and a one-line message, or
 * GOOSE_OK. */
int goose__client_cert_check(const goose_options *o, char *err, size_t errlen);
/* "auto", "1.1", "2" */
const char *goose__http_version_name(int version);

/* shape_parse.c: "level,duration;..." (GOOSE_PLAN_USERS: levels are whole
 * users; GOOSE_PLAN_FROM_NOW: a plan that continues from a running level,
 * which may be all zeros).  A one-line message naming the bad step on
 * error; out may be NULL to only check. */
enum { GOOSE_PLAN_USERS = 1, GOOSE_PLAN_FROM_NOW = 2 };
int goose__shape_parse(const char *flag, const char *spec, int flags, double max,
                          goose_shape *out, char *err, size_t errlen);

#endif
