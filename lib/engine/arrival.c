/* The open model (--arrival-rate, --arrival-plan): iterations start at a
 * rate, whether or not earlier ones have finished, like k6's arrival-rate
 * executors.  Arrivals are numbered over the whole test, arrival k due
 * when the area under the rate reaches k and running the scenario user k
 * would; each scenario's arrivals go to its users in turn, so they are
 * spread over the threads and Workers as those users are.  A thread hands
 * an arrival to a free user of that scenario; when none is free the
 * arrival is counted as dropped, never silently skipped. */
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

/* The thread that takes arrival k: the j-th arrival of a scenario goes
 * to that scenario's user j (mod their number), wherever that user runs, so
 * every thread and Worker gets arrivals for the users it has.  An arrival of
 * a scenario with no user at all falls to the first thread of process 0,
 * which counts it dropped.  *s is the arrival's scenario. */
static int is_mine(const goose_thread *t, uint64_t k, unsigned *s)
{
    const goose_engine *e = t->engine;
    const goose_run_config *cfg = &e->cfg;
    uint64_t procs = cfg->processes ? cfg->processes : 1;
    uint64_t j = goose__scenario_ordinal(cfg->alloc, k, s);
    uint64_t n = goose__scenario_users(cfg->alloc, *s, cfg->total_users);
    if (n == 0)
        return cfg->process_index == 0 && t->id == 0;
    uint64_t user = goose__scenario_user(cfg->alloc, *s, j % n);
    return user % procs == cfg->process_index && (user / procs) % e->nthreads == t->id;
}

static void hand_over(goose_thread *t, unsigned s)
{
    t->local.arrivals[s]++;
    if (t->nfree[s] == 0) {
        t->local.dropped[s]++;
        return;
    }
    goose__user_arrive(t->free_users[s][--t->nfree[s]]);
}

static void wait_until(goose_thread *t, uint64_t due, uint64_t now)
{
    uint64_t wait = due > now ? due - now : 1;
    struct timeval tv = {(time_t)(wait / 1000000), (suseconds_t)(wait % 1000000)};
    evtimer_add(t->arrival_timer, &tv);
}

/* Runs the arrivals due that are this thread's, then sleeps until its next
 * one.  Others' arrivals are passed over without waiting for them; a long
 * run of them is passed over a slice at a time, to let other events in. */
static void on_arrival(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    goose_thread *t = arg;
    const goose_shape *rate = &t->engine->cfg.arrivals;
    uint64_t now = goose__now_us() - t->engine->t0_us;
    for (int slice = 0; slice < 4096 && !t->stopping; slice++) {
        unsigned s;
        if (!is_mine(t, t->next_arrival, &s)) {
            t->next_arrival++;
            continue;
        }
        uint64_t due = goose__shape_when_area(rate, (double)t->next_arrival);
        if (due == GOOSE_NEVER)
            return;
        if (due > now) {
            wait_until(t, due, now);
            return;
        }
        t->next_arrival++;
        hand_over(t, s);
    }
    if (!t->stopping)
        wait_until(t, now, now); /* more to look at: go on at once */
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
