/* The standalone run: the run loop starts the engine, watches the phases,
 * collects the threads' metrics once a second, and stops the engine when the
 * run time is up. */
#include "run/run.h"

#include <stdlib.h>

#include "run/control.h"
#include "util/clock.h"

#define TICK_MS 50
/* The threads publish at each whole second of the run; their metrics are
 * taken this long after, so that a point of the series is that second. */
#define SERIES_GRACE_US 150000

static int into_collector(void *arg, size_t thread, int reset, const goose_stats *before,
                          const goose_stats *delta)
{
    return goose__collector_add(arg, thread, reset, before, delta);
}

static int reshape_engine(void *arg, const goose_shape *shape, uint64_t plan_end_us)
{
    (void)plan_end_us; /* the collector ends the run */
    return goose__engine_reshape(arg, shape) < 0 ? GOOSE_ENOMEM : GOOSE_OK;
}

/* The users are finishing: the run time is up, a stop was asked, or every
 * user ran its iterations (and runs its on_stop). */
static int users_finishing(const goose_collector *c, goose_engine *e,
                           const goose_run_config *cfg)
{
    return c->decrease_from_us ||
           (cfg->iterations && goose__engine_iterations_done(e) >= cfg->users);
}

static void control_loop(goose_collector *c, goose_engine *e, goose_control *ctl,
                         const goose_run_config *cfg)
{
    goose_stop_clock sc = {0, 0};
    for (;;) {
        int finished = goose__engine_wait(e, TICK_MS);
        uint64_t now = goose__now_us();
        if (goose__engine_launched(e) == c->users)
            goose__collector_maintain(c, now);
        goose_control_run run = {c, cfg, NULL, goose__engine_active(e), reshape_engine, e, NULL};
        goose__control_poll(ctl, &run); /* after: a reset is seen before a change */
        if (now >= c->last_tick_us + 1000000 + SERIES_GRACE_US) {
            goose__engine_collect_each(e, into_collector, c);
            goose__collector_tick(c, c->last_tick_us + 1000000, goose__engine_active(e));
            goose__names_warn(c->a, goose__engine_names(e), NULL);
        }
        goose__collector_running(c, now, goose__engine_active(e));
        if (finished)
            return;
        if (goose__collector_stop_due(c, now)) {
            goose__log(c->a, GOOSE_LOG_INFO, "stopping: %zu users finishing",
                       goose__engine_active(e));
            goose__engine_stop(e);
        }
        if (users_finishing(c, e, cfg))
            goose__stop_clock_tick(&sc, c->a, e, now, goose__stop_urgent(c->a));
    }
}

/* The load: the engine of the users, from start to its last collect;
 * *launched says how many users it started. */
static int run_load(goose_attack *a, goose_collector *c, goose_run_config *cfg,
                    size_t *launched)
{
    char err[256];
    goose_control *ctl = NULL;
    if (a->opt.controller && !(ctl = goose__control_start(a, a->opt.controller, cfg)))
        return GOOSE_ECONFIG; /* the message is set */
    goose_engine *e = goose__engine_start(cfg, err, sizeof err);
    if (!e) {
        goose__control_stop(ctl);
        return goose__fail(a, GOOSE_ESYS, "%s", err);
    }
    /* the run's seconds are the engine's, which its threads publish at */
    if (c->stop_at_us)
        c->stop_at_us += e->t0_us - c->start_us;
    c->start_us = c->measure_from_us = c->last_tick_us = c->last_running_us = e->t0_us;
    if (cfg->hatch_rate > 0)
        goose__log(a, GOOSE_LOG_INFO, "starting %zu users on %zu threads at %.3g users/s",
                   cfg->users, cfg->threads, cfg->hatch_rate);
    else
        goose__log(a, GOOSE_LOG_INFO, "starting up to %zu users on %zu threads (%s)", cfg->users,
                   cfg->threads, cfg->open_model ? "the open model's pool" : "the test plan");
    control_loop(c, e, ctl, cfg);
    goose__control_stop(ctl);
    int no_retry = c->no_retry;
    c->no_retry = 1; /* the last collect: what cannot be merged is counted as lost */
    goose__engine_collect_each(e, into_collector, c);
    c->no_retry = no_retry;
    goose__stop_clock_record(a, goose__engine_abandoned(e));
    goose__names_warn(a, goose__engine_names(e), NULL);
    goose__names_report(a, goose__engine_names(e), NULL);
    *launched = goose__engine_launched(e);
    goose__engine_free(e);
    return GOOSE_OK;
}

/* test_start, the load, test_stop, all under one collector.  A failed
 * test_start is GOOSE_EFAILED with its results (*reported); a stop during
 * it skips the load; a second stop skips test_stop. */
static int run_engine(goose_attack *a, goose_run_config *cfg, const goose_plan *plan,
                      int *reported)
{
    goose_collector c;
    goose_once start = {0};
    size_t launched = 0, shard = cfg->threads ? cfg->threads : 1; /* after the load's */
    int rc = goose__collector_init(&c, a, cfg);
    if (rc == GOOSE_OK && plan->once[GOOSE_ONCE_START]) {
        rc = goose__once_run(&start, a, &c, cfg, plan, GOOSE_ONCE_START, shard);
        if (start.result.has_data) { /* every user of the test reads it */
            cfg->test_data = start.result.data.data;
            cfg->test_data_len = start.result.data.len;
        }
    }
    int failed = rc == GOOSE_EFAILED; /* test_start failed: no user starts */
    if (rc == GOOSE_OK && !atomic_load(&a->stop))
        rc = run_load(a, &c, cfg, &launched);
    uint64_t end = goose__now_us();
    if (rc == GOOSE_OK && plan->once[GOOSE_ONCE_STOP] && !goose__stop_urgent(a)) {
        goose_once stop;
        rc = goose__once_run(&stop, a, &c, cfg, plan, GOOSE_ONCE_STOP, shard + 1);
        goose__once_free(&stop);
    }
    if (rc == GOOSE_OK || failed) {
        int done = goose__collector_finish(&c, end, launched);
        *reported = 1;
        rc = failed ? GOOSE_EFAILED : done;
    }
    cfg->test_data = NULL;
    goose__once_free(&start);
    goose__collector_free(&c);
    return rc;
}

int goose_attack_run(goose_attack *a)
{
    int rc = goose__run_begin(a, GOOSE_ROLE_STANDALONE);
    if (rc != GOOSE_OK)
        return rc;
    goose_run_config cfg;
    goose_plan plan;
    rc = goose__run_setup(a, &cfg, &plan);
    int reported = 0;
    if (rc == GOOSE_OK)
        rc = run_engine(a, &cfg, &plan, &reported);
    int logs = goose__run_teardown(a, &cfg, &plan); /* the logs are complete */
    if (rc == GOOSE_OK)
        rc = logs;
    if (reported && (rc == GOOSE_OK || rc == GOOSE_EFAILED)) { /* a failed test_start's too */
        int files = goose__report_write_files(a);
        if (rc == GOOSE_OK)
            rc = files;
    }
    rc = goose__lost_verdict(a, rc);
    rc = goose__thresholds_verdict(a, rc);
    goose__run_end(a);
    return rc;
}
