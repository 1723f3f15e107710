/* The results of a run: totals, the time series, phases, Workers and
 * thresholds, as the collector leaves them for the reports. */
#ifndef GOOSE_METRICS_RESULTS_H
#define GOOSE_METRICS_RESULTS_H

#include <stddef.h>
#include <stdint.h>

#include "metrics/stats.h"
#include "metrics/threshold.h"

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
    char test_hash[65];      /* the load-test hash (config/hash.c), or "-" */
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
    int accept_invalid_certs; /* no certificate of a target was checked */
    int has_seed;            /* a run's: seed is the one it ran with */
    int seed_drawn;          /* 0: given with --seed */
    uint64_t seed;           /* --seed, or the one drawn (a Gaggle: the Manager's) */
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
    uint64_t tx_errors_folded; /* distinct transaction errors, the same */
    int folded_exact;        /* 0: the counts are lower bounds (more than
                                GOOSE_NAMES_TRACK folded) or a Gaggle's sums */
} goose_results;

void goose__results_free(goose_results *r);
/* Samples the results miss (out of memory): 0 when they are complete. */
uint64_t goose__results_lost(const goose_results *r);

#endif
