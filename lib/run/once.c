/* test_start and test_stop: each runs once, on an engine of its own (one
 * user on one thread, the run's configuration otherwise: its scenario, one
 * iteration, no metrics reset), its metrics a shard of the run's
 * collector that no reset drops.  Standalone runs them around the load's
 * engine; a Gaggle Manager polls them from its own loop. */
#include "run/run.h"

#include <stdlib.h>
#include <string.h>

#include "util/clock.h"

#define TICK_MS 50

static const char *once_name(int kind)
{
    return kind == GOOSE_ONCE_START ? "test_start" : "test_stop";
}

/* Test data of mode UNIQUE belongs to a user of the load: test_start and
 * test_stop see the others only. */
static int shared_datasets(goose_once *o, const goose_run_config *run)
{
    o->cfg.datasets = NULL;
    o->cfg.ndatasets = 0;
    if (!run->ndatasets)
        return 0;
    o->datasets = calloc(run->ndatasets, sizeof *o->datasets);
    if (!o->datasets)
        return -1;
    for (size_t i = 0; i < run->ndatasets; i++)
        if (run->datasets[i].mode != GOOSE_DATA_UNIQUE)
            o->datasets[o->cfg.ndatasets++] = run->datasets[i];
    o->cfg.datasets = o->datasets;
    return 0;
}

/* The run's configuration, for one user of scenario `scenario` that runs
 * its one transaction once, at once. */
static int once_config(goose_once *o, const goose_run_config *run)
{
    o->cfg = *run;
    o->cfg.user_scenario = &o->scenario;
    o->cfg.user_index = NULL; /* user 0 of its engine */
    o->cfg.users = o->cfg.total_users = 1;
    o->cfg.threads = o->cfg.threads_wanted = 1;
    o->cfg.iterations = 1;
    o->cfg.reset_on_launch = 0;
    o->cfg.hatch_rate = 0;
    o->cfg.open_model = 0;
    o->cfg.arrivals = (goose_shape){0};
    o->cfg.process_index = o->cfg.processes = 0;
    o->cfg.once = o->kind;
    o->cfg.once_result = &o->result;
    o->cfg.once_index = (unsigned)(run->total_users ? run->total_users : run->users);
    o->cfg.shape = (goose_shape){0};
    if (goose__shape_add(&o->shape, 1.0, 0) < 0)
        return -1;
    o->cfg.shape = o->shape;
    return shared_datasets(o, run);
}

int goose__once_start(goose_once *o, goose_attack *a, const goose_run_config *run,
                      const goose_plan *plan, int kind, size_t shard)
{
    memset(o, 0, sizeof *o);
    o->kind = kind;
    o->shard = shard;
    o->scenario = (unsigned)(plan->once[kind] - 1);
    if (once_config(o, run) < 0)
        return goose__fail(a, GOOSE_ENOMEM, "out of memory");
    char err[256];
    goose__log(a, GOOSE_LOG_INFO, "%s: running", once_name(kind));
    o->started_us = goose__now_us();
    if (kind == GOOSE_ONCE_STOP)
        o->clock.since_us = o->started_us;
    if (!(o->e = goose__engine_start(&o->cfg, err, sizeof err)))
        return goose__fail(a, GOOSE_ESYS, "%s: %s", once_name(kind), err);
    return GOOSE_OK;
}

int goose__once_poll(goose_once *o, goose_attack *a, unsigned wait_ms)
{
    if (goose__engine_wait(o->e, wait_ms))
        return 1;
    uint64_t now = goose__now_us();
    int stop = atomic_load(&a->stop);
    if (o->kind == GOOSE_ONCE_START && stop && !o->stopped) {
        o->stopped = 1; /* its requests are refused; it finishes */
        goose__engine_stop(o->e);
    }
    /* test_stop runs while the test stops: --stop-timeout bounds it from
       its start, as it bounds the users from the stop */
    if (o->stopped || o->kind == GOOSE_ONCE_STOP)
        goose__stop_clock_tick(&o->clock, a, o->e, now, goose__stop_urgent(a));
    return 0;
}

typedef struct into_shard {
    goose_collector *c;
    size_t shard;
} into_shard;

/* Never a reset: test_start's and test_stop's metrics always count. */
static int add_shard(void *arg, size_t thread, int reset, const goose_stats *before,
                     const goose_stats *delta)
{
    (void)thread, (void)reset;
    into_shard *s = arg;
    return goose__collector_add(s->c, s->shard, 0, before, delta);
}

int goose__once_finish(goose_once *o, goose_attack *a, goose_collector *c)
{
    const char *name = once_name(o->kind);
    into_shard s = {c, o->shard};
    int no_retry = c->no_retry;
    c->no_retry = 1; /* its last collect: what cannot be merged is counted lost */
    goose__engine_collect_each(o->e, add_shard, &s);
    c->no_retry = no_retry;
    int abandoned = goose__engine_abandoned(o->e) > 0;
    goose__engine_free(o->e);
    o->e = NULL;
    double secs = (double)(goose__now_us() - o->started_us) / 1e6;
    if (o->result.ran && !o->result.failed) {
        goose__log(a, GOOSE_LOG_INFO, "%s: done in %.2fs", name, secs);
        return GOOSE_OK;
    }
    const char *why = o->result.ran ? o->result.why
                      : o->stopped  ? NULL /* the test was stopped: no failure */
                      : abandoned   ? "abandoned at --stop-timeout"
                                    : "it did not run to its end (out of memory?)";
    if (!why) {
        goose__log(a, GOOSE_LOG_INFO, "%s: stopped after %.2fs", name, secs);
        return GOOSE_OK;
    }
    if (o->kind == GOOSE_ONCE_STOP) { /* its rows say so; the status stays */
        goose__log(a, GOOSE_LOG_WARN, "test_stop failed: %s", why);
        return GOOSE_OK;
    }
    goose__log(a, GOOSE_LOG_ERROR, "test_start failed: %s", why);
    return goose__fail(a, GOOSE_EFAILED, "test_start failed: %s", why);
}

void goose__once_free(goose_once *o)
{
    goose__engine_free(o->e);
    goose__shape_free(&o->shape);
    goose__buf_free(&o->result.data);
    free(o->datasets);
    memset(o, 0, sizeof *o);
}

int goose__once_run(goose_once *o, goose_attack *a, goose_collector *c,
                    const goose_run_config *run, const goose_plan *plan, int kind,
                    size_t shard)
{
    int rc = goose__once_start(o, a, run, plan, kind, shard);
    if (rc != GOOSE_OK)
        return rc;
    while (!goose__once_poll(o, a, TICK_MS))
        ;
    return goose__once_finish(o, a, c);
}
