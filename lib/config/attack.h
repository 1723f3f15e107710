/* The attack: its options, the registry of scenarios, task sets and
 * transactions, the plan the engine runs from them, and the results of its
 * last run. */
#ifndef GOOSE_CONFIG_ATTACK_H
#define GOOSE_CONFIG_ATTACK_H

#include <goose.h>

#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "config/options.h"
#include "engine/engine.h"
#include "metrics/results.h"

/* ---- registry (registry.c) ---- */

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

/* Test data registered with goose_attack_add_data (data.c): the file is
 * read when a run sets up, never at registration (a Worker has none). */
typedef struct goose_data_reg {
    char *name;
    char *path;
    int mode;               /* GOOSE_DATA_* */
} goose_data_reg;

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
    goose_data_reg *datasets;      /* goose_attack_add_data's, in order */
    size_t ndatasets;
    goose_progress_fn progress_fn; /* goose_main's; NULL for embedders */
    void *progress_arg;
    goose_transaction_fn test_start; /* goose_attack_set_test_start; NULL: none */
    goose_transaction_fn test_stop;
    atomic_int stop;
    atomic_int running;
    int role;                /* of the run under way: goose_run_role */
    unsigned test_number;    /* of the test under way, from 1 ({n} of --report-file) */
    time_t test_time;        /* its UTC start ({time}) */
    /* goose_main's: each test of a Manager that stays up (--no-autostart),
       as it ends, its report written; rc is its verdict.  NULL: none. */
    void (*test_end_fn)(void *arg, goose_attack *a, int rc);
    void *test_end_arg;
    goose_results results;
};

/* What a run does: set by goose__run_begin, whoever called it (goose_main
 * with --manager or --worker, or an embedder's gaggle_*_run or
 * gaggle_worker_start). */
typedef enum goose_run_role {
    GOOSE_ROLE_STANDALONE,
    GOOSE_ROLE_MANAGER,      /* no users of its own; reads the test data */
    GOOSE_ROLE_WORKER        /* its test data comes from the Manager */
} goose_run_role;

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
/* registry.c: its transactions, task sets expanded in place, in
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
    goose_alloc alloc;      /* users to scenarios (--scheduler, the seed) */
    goose_dataset *datasets; /* the test data, as the engine reads it, ... */
    goose_table *tables;    /* ... in these tables the run owns (a Worker's:
                               empty until its share comes) */
    size_t ndatasets;
    size_t nload;           /* the scenarios users are given to: the first
                               nload; test_start's and test_stop's follow */
    size_t once[3];         /* [GOOSE_ONCE_START], [GOOSE_ONCE_STOP]: 1 +
                               the index of its scenario; 0: not set */
} goose_plan;

/* plan.c: with a->opt.scheduler and a->opt.seed (the run's: setup.c
 * draws one when --seed was not given). */

int goose__plan_build(goose_attack *a, goose_plan *plan);
void goose__plan_free(goose_plan *plan);

/* data.c: the registry of test data.  The file a data set is read from
 * (its --data, else its registered path); every --data NAME registered
 * (else GOOSE_ECONFIG and the attack's error); "unique", "circular",
 * "random". */
void goose__data_free(goose_attack *a);
const char *goose__data_path(const goose_attack *a, const goose_data_reg *d);
int goose__data_check(goose_attack *a);
const char *goose__data_mode_name(int mode);

/* hash.c: SHA-256 (hex) over what shapes the test: the registry. */
int goose__test_hash(const goose_attack *a, char out[65]);

#endif
