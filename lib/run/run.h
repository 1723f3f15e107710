/* A run of the attack: setting the engine up from the options, the
 * collector that merges the threads' metrics into results, the graceful
 * stop, thresholds and the verdict, the live metrics endpoint. */
#ifndef GOOSE_RUN_RUN_H
#define GOOSE_RUN_RUN_H

#include "config/attack.h"
#include "report/report.h"

/* setup.c: a run holds the attack, in a goose_run_role; stop requests end
 * with it (a Worker's stop may come before its run begins). */
int goose__run_begin(goose_attack *a, int role);
void goose__run_end(goose_attack *a);

/* stop.c: the graceful stop, bounded by --stop-timeout. */
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

/* setup.c: options and registry -> engine configuration, plan, results. */
int goose__run_setup(goose_attack *a, goose_run_config *cfg, goose_plan *plan);
/* --client-cert and --client-key checked again (readable, PEM, a pair):
 * GOOSE_ECONFIG with the attack's error, or GOOSE_OK. */
int goose__run_check_tls(goose_attack *a);
/* Closes the logs (GOOSE_EIO if one could not be written) and frees. */
int goose__run_teardown(goose_attack *a, goose_run_config *cfg, goose_plan *plan);
/* Warns of each report or log path without {n} or {time} (one file that
 * every test of a run that stays up overwrites). */
void goose__warn_unnumbered_paths(goose_attack *a);
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
    int metrics_shared;       /* the server outlives the collector */
} goose_collector;

int goose__collector_init(goose_collector *c, goose_attack *a,
                          const goose_run_config *cfg);
/* With a --metrics-listen server that outlives it (a Manager that stays
 * up, test after test); NULL: as goose__collector_init. */
int goose__collector_init_with(goose_collector *c, goose_attack *a,
                               const goose_run_config *cfg,
                               struct goose_metrics_server *metrics);
void goose__collector_free(goose_collector *c);
/* 0, or -1 when out of memory with nothing merged (to be tried again);
 * with no_retry it counts what it could not merge and returns 0. */
int goose__collector_add(goose_collector *c, size_t shard, int reset,
                         const goose_stats *before, const goose_stats *delta);
/* Requests measured, and of them measured before the reset, whose metrics
 * never reached the collector (a Worker could not send them). */
void goose__collector_lost(goose_collector *c, uint64_t requests, uint64_t hatch);
/* Samples the results miss (out of memory): 0 when they are complete. */
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
/* names.c: the one warning when request keys first fold (with a few of
 * them), and what the reports say: what n (the engine's bound, or a
 * Manager's) folded, plus what others (the Workers) did. */
int goose__names_warn(goose_attack *a, goose_names *n, const char *where);
void goose__names_report(goose_attack *a, goose_names *n,
                         const uint64_t others[GOOSE_NAMES_KINDS]);

/* once.c: test_start or test_stop (kind GOOSE_ONCE_*) on an engine of its
 * own, one user on one thread, into shard `shard` of the run's collector. */
typedef struct goose_once {
    int kind;
    size_t shard;
    unsigned scenario;        /* its user's: the plan's scenario of it */
    goose_run_config cfg;     /* the run's, for that one user */
    goose_shape shape;
    goose_dataset *datasets;  /* the run's but UNIQUE ones */
    goose_once_result result; /* its outcome; test_start's data */
    goose_engine *e;
    goose_stop_clock clock;
    uint64_t started_us;
    int stopped;              /* test_start: a stop came while it ran */
} goose_once;

/* Starts its engine: GOOSE_OK, or an error with the attack's message. */
int goose__once_start(goose_once *o, goose_attack *a, const goose_run_config *run,
                      const goose_plan *plan, int kind, size_t shard);
/* Waits up to wait_ms for its end: 1 when it has ended.  A stop ends
 * test_start (its requests are refused); --stop-timeout from its start
 * bounds test_stop, and a second stop abandons either at once. */
int goose__once_poll(goose_once *o, goose_attack *a, unsigned wait_ms);
/* Its metrics into the collector, its engine freed: GOOSE_OK, or
 * GOOSE_EFAILED with "test_start failed: <why>" (a failed test_stop is
 * logged, its rows say it, and it returns GOOSE_OK). */
int goose__once_finish(goose_once *o, goose_attack *a, goose_collector *c);
void goose__once_free(goose_once *o);
/* Start, poll and finish: the standalone run's. */
int goose__once_run(goose_once *o, goose_attack *a, goose_collector *c,
                    const goose_run_config *run, const goose_plan *plan, int kind,
                    size_t shard);

/* verdict.c: --threshold-abort: 1 when the totals so far (secs measured, at_s into the
 * run) fail a threshold for good; the run's results say which. */
int goose__thresholds_abort_due(goose_attack *a, double secs, double at_s);
/* Every threshold against the final totals, into the results. */
int goose__thresholds_evaluate(goose_attack *a);
/* rc, or GOOSE_ETHRESHOLD when rc is GOOSE_OK and a threshold failed. */
int goose__thresholds_verdict(goose_attack *a, int rc);
/* rc, or GOOSE_EFAILED when the results miss samples (rc was GOOSE_OK). */
int goose__lost_verdict(goose_attack *a, int rc);

/* report_files.c: what the reports show of the attack besides its results,
 * the report of its last run in a format of goose_attack_report(3) (NULL
 * for another), and --report-file (each format by its extension). */
goose_report_ctx goose__report_ctx(const goose_attack *a);
char *goose__report_render(const goose_attack *a, const char *format);
int goose__report_write_files(goose_attack *a);
/* A --report-file path of the test under way: "{n}" is its number (from
 * 1) and "{time}" its UTC start (20261207T161500Z); NULL when out of
 * memory (free()). */
char *goose__report_path(const goose_attack *a, const char *pattern);

/* metrics_server.c: --metrics-listen */
typedef struct goose_metrics_server goose_metrics_server;
goose_metrics_server *goose__metrics_start(goose_attack *a, const char *hostport);
void goose__metrics_update(goose_metrics_server *m, char *page);
void goose__metrics_stop(goose_metrics_server *m);

#endif
