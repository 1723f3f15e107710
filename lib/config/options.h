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

/* What the option table knows of one option (for goose_main). */
typedef struct goose_option_info {
    const char *name;
    char short_name;
    int takes_value;   /* 0: a flag */
    int repeatable;
    const char *value_hint;
    const char *help;
    int supported;     /* 0: refused with "not supported yet" */
} goose_option_info;

const goose_option_info *goose__option_find(const char *name);
/* The option a misspelt name meant ("run_tme", "RUNTIME"), or NULL when
 * none is close. */
const char *goose__option_suggest(const char *name);
/* The pre-shared Gaggle key: its bounds, and reading it from a file (a
 * trailing newline dropped; GOOSE_EVALUE and a message when unreadable or
 * out of bounds). */
#define GOOSE_KEY_MIN 16
#define GOOSE_KEY_MAX 1024
int goose__key_file_read(const char *path, unsigned char out[GOOSE_KEY_MAX], size_t *len,
                         char *err, size_t errlen);
const goose_option_info *goose__option_find_short(char c);
const goose_option_info *goose__option_list(size_t *n);
int goose__option_given(const goose_options *o, const char *name);

/* shape_parse.c: "level,duration;..." (GOOSE_PLAN_USERS: levels are whole
 * users; GOOSE_PLAN_FROM_NOW: a plan that continues from a running level,
 * which may be all zeros).  A one-line message naming the bad step on
 * error; out may be NULL to only check. */
enum { GOOSE_PLAN_USERS = 1, GOOSE_PLAN_FROM_NOW = 2 };
int goose__loadplan_parse(const char *flag, const char *spec, int flags, double max,
                          goose_shape *out, char *err, size_t errlen);

#endif
