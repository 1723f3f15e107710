/* The open model (--arrival-rate, --arrival-plan): iterations start at a
 * rate, whether or not earlier ones have finished, like k6's arrival-rate
 * executors.  Arrivals are numbered over the whole test, arrival k due
 * when the area under the rate reaches k; Worker w of W takes k = w mod W
 * and its threads take turns, as with users, so arrival k runs where user
 * k would and on that user's scenario.  A thread hands an arrival to a
 * free user of that scenario; when none is free the arrival is counted as
 * dropped, never silently skipped. */
#include "engine/engine.h"

#include <event2/event.h>
#include <stdlib.h>

#include "util/clock.h"

static void on_arrival(evutil_socket_t fd, short what, void *arg);

int goose__arrivals_init(goose_thread *t)
{
    const goose_run_config *cfg = &t->engine->cfg;
    if (!cfg->open_model)
        return 0;
    t->free_users = calloc(cfg->nscenarios, sizeof *t->free_users);
    t->nfree = calloc(cfg->nscenarios, sizeof *t->nfree);
    t->arrival_timer = evtimer_new(t->base, on_arrival, t);
    if (!t->free_users || !t->nfree || !t->arrival_timer)
        return -1;
    for (size_t s = 0; s < cfg->nscenarios; s++)
        if (!(t->free_users[s] = calloc(t->nusers ? t->nusers : 1, sizeof **t->free_users)))
            return -1;
    return 0;
}

void goose__arrivals_free(goose_thread *t)
{
    for (size_t s = 0; t->free_users && s < t->engine->cfg.nscenarios; s++)
        free(t->free_users[s]);
    free(t->free_users);
    free(t->nfree);
    if (t->arrival_timer)
        event_free(t->arrival_timer);
}

/* The number of this thread's i-th arrival in the whole test. */
static uint64_t arrival_number(const goose_thread *t, uint64_t i)
{
    const goose_engine *e = t->engine;
    uint64_t procs = e->cfg.processes ? e->cfg.processes : 1;
    return e->cfg.process_index + procs * (t->id + e->nthreads * i);
}

static void hand_over(goose_thread *t, uint64_t k)
{
    const goose_run_config *cfg = &t->engine->cfg;
    unsigned s = goose__scenario_at(cfg->scenario_weights, cfg->nscenarios, k);
    t->local.arrivals[s]++;
    if (t->nfree[s] == 0) {
        t->local.dropped[s]++;
        return;
    }
    goose__user_arrive(t->free_users[s][--t->nfree[s]]);
}

static void on_arrival(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    goose_thread *t = arg;
    const goose_shape *rate = &t->engine->cfg.arrivals;
    uint64_t now = goose__now_us() - t->engine->t0_us;
    while (!t->stopping) {
        uint64_t due = goose__shape_when_area(rate, (double)arrival_number(t, t->arrivals_taken));
        if (due == GOOSE_NEVER)
            return;
        if (due > now) {
            uint64_t wait = due - now;
            struct timeval tv = {(time_t)(wait / 1000000), (suseconds_t)(wait % 1000000)};
            evtimer_add(t->arrival_timer, &tv);
            return;
        }
        t->arrivals_taken++;
        hand_over(t, arrival_number(t, t->arrivals_taken - 1));
    }
}

void goose__arrivals_start(goose_thread *t)
{
    if (t->engine->cfg.open_model)
        on_arrival(-1, 0, t);
}

/* A user done with its on_start or an iteration joins the free pool. */
void goose__arrival_wait(goose_user *u)
{
    goose_thread *t = u->thread;
    u->waiting = GOOSE_WAIT_ARRIVAL;
    t->free_users[u->scenario_index][t->nfree[u->scenario_index]++] = u;
}
