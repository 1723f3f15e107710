/* One engine thread: an event_base driving the transports' sockets (each
 * row of the transport table keeps its own state per thread), a steer
 * timer starting and retiring users as the users level of the test plan
 * moves, and a one-second timer publishing its metrics. */
#include "engine/engine.h"

#include <errno.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "util/clock.h"

/* A transaction must never block its thread: the loop notes how late it
 * runs and says so once when it was blocked this long. */
#define LAG_PERIOD_US 50000
#define BLOCKED_WARN_US 500000
static uint64_t since_start(const goose_thread *t);

/* The metrics since the last publish go to the outbox, for the run loop.
 * Out of memory, they stay and go with the next publish; only the last
 * publish, at the thread's end, counts them as lost. */
static void publish(goose_thread *t, int last)
{
    goose__logs_handover(t);
    pthread_mutex_lock(&t->outbox_lock);
    if (goose__stats_move(&t->outbox, &t->local) < 0 && last) {
        t->outbox.lost += t->local.requests + t->local.lost;
        t->outbox.lost_details += t->local.lost_details;
        goose__stats_reset(&t->local);
    }
    pthread_mutex_unlock(&t->outbox_lock);
}

/* At the next whole second of the run: every thread publishes at the same
 * moments, so a point of the time series is one second of every thread
 * (the run loop takes them a little after). */
static void arm_flush(goose_thread *t)
{
    uint64_t wait = 1000000 - since_start(t) % 1000000;
    struct timeval tv = {(time_t)(wait / 1000000), (suseconds_t)(wait % 1000000)};
    evtimer_add(t->flush_timer, &tv);
}

static uint64_t since_start(const goose_thread *t)
{
    return goose__now_us() - t->engine->t0_us;
}

static void publish_counts(goose_thread *t)
{
    atomic_store(&t->pub_launched, t->nlaunched);
    atomic_store(&t->pub_active, t->nrunning);
}

/* The index in the whole test of this thread's next user to make: its
 * n-th user is user p + P*(id + T*n) (process p of P, thread id of T), as
 * the first ones were dealt. */
static uint64_t next_new_index(const goose_thread *t)
{
    const goose_engine *e = t->engine;
    uint64_t procs = e->cfg.processes ? e->cfg.processes : 1;
    return e->cfg.process_index + procs * (t->id + e->nthreads * t->nusers);
}

/* The transports that size themselves by the thread's users learn how
 * many it holds. */
static void tell_users(goose_thread *t)
{
    for (size_t i = 0; i < GOOSE_TRANSPORTS; i++)
        if (t->transport[i] && goose__transports[i]->thread_users)
            goose__transports[i]->thread_users(t->transport[i], t->nusers);
}

/* Makes the users a level needs (those below it), as it gets there: a
 * controller's "users 1000000" at 10/s allocates ten users a second, not a
 * million at once. */
static int grow_users(goose_thread *t, double level)
{
    const goose_run_config *cfg = &t->engine->cfg;
    for (uint64_t index; (double)(index = next_new_index(t)) < level && index < UINT32_MAX;) {
        if (t->nusers == t->users_cap) {
            size_t cap = t->users_cap * 2 + 1;
            goose_user **p = realloc(t->users, cap * sizeof *p);
            if (!p)
                return -1;
            t->users = p;
            t->users_cap = cap;
        }
        unsigned s = goose__scenario_at(cfg->alloc, index);
        goose_user *u = goose__user_new(t, (unsigned)index, s);
        if (!u)
            return -1;
        t->users[t->nusers++] = u;
        tell_users(t);
    }
    return 0;
}

/* The index of the first user above the level (made or still to make). */
static uint64_t first_unwanted(const goose_thread *t)
{
    return t->nwanted < t->nusers ? t->users[t->nwanted]->index : next_new_index(t);
}

/* Done when stopped, or when no user can ever run again: the users made
 * are all done (they ran their iterations or goose_user_stop ended them)
 * or, with --iterations, idle, and no other user will ever be below the
 * level (one the ramp has not reached yet still will). */
static void finish_if_idle(goose_thread *t)
{
    if (t->finished || t->nlive > 0)
        return;
    int over = t->stopping;
    if (!over && ((t->nusers && t->ndone == t->nusers) || t->engine->cfg.iterations))
        over = goose__shape_when_above(&t->shape, since_start(t), (double)first_unwanted(t)) ==
               GOOSE_NEVER;
    if (!over)
        return;
    t->finished = 1;
    event_base_loopbreak(t->base);
}

static void on_reset(evutil_socket_t fd, short what, void *arg);

/* The last user's own first requests belong to the measured part: reset
 * before it starts, not a moment later by another timer. */
static void reset_before_last(goose_thread *t, const goose_user *u)
{
    if (u->index + 1 == t->engine->cfg.total_users && evtimer_pending(t->reset_timer, NULL)) {
        evtimer_del(t->reset_timer);
        on_reset(-1, 0, t);
    }
}

/* When the level next passes one of this thread's users, either way. */
static uint64_t next_change(const goose_thread *t, uint64_t now)
{
    uint64_t next = goose__shape_when_above(&t->shape, now, (double)first_unwanted(t));
    if (t->nwanted > 0) {
        uint64_t down = goose__shape_when_at_most(&t->shape, now,
                                                  t->users[t->nwanted - 1]->index);
        next = down < next ? down : next;
    }
    return next;
}

/* Users below the level run, the others retire; then sleep until the
 * level next passes one of ours. */
static void steer(goose_thread *t)
{
    if (t->stopping)
        return;
    uint64_t now = since_start(t);
    double level = goose__shape_level(&t->shape, now);
    int short_of_memory = grow_users(t, level) < 0; /* run the users made so far */
    while (t->nwanted < t->nusers && t->users[t->nwanted]->index < level) {
        goose_user *u = t->users[t->nwanted++];
        reset_before_last(t, u);
        goose__user_want(u);
    }
    while (t->nwanted > 0 && t->users[t->nwanted - 1]->index >= level)
        goose__user_retire(t->users[--t->nwanted]);
    publish_counts(t);
    uint64_t next = next_change(t, now);
    if (short_of_memory && next < now + 1000000)
        next = now + 1000000; /* try again in a second, not in a tight loop */
    if (next != GOOSE_NEVER) {
        uint64_t wait = next > now ? next - now : 1;
        struct timeval tv = {(time_t)(wait / 1000000), (suseconds_t)(wait % 1000000)};
        evtimer_add(t->steer_timer, &tv);
    }
    finish_if_idle(t);
}

static void on_steer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    steer(arg);
}

void goose__thread_user_started(goose_thread *t)
{
    t->nlaunched++;
    t->nrunning++;
    t->nlive++;
}

void goose__thread_user_done(goose_thread *t, goose_user *u)
{
    if (u->state == GOOSE_USER_RUNNING)
        t->nrunning--;
    t->nlive--;
    /* a user goose_user_stop ended is done for the test, as one that ran
       its --iterations: never launched again, and once all of a thread's
       are done the thread is (finish_if_idle) */
    if (u->state == GOOSE_USER_RETIRING && !t->stopping && !u->stop_asked) {
        u->state = GOOSE_USER_IDLE;
        if (u->relaunch)
            goose__user_want(u);
    } else {
        u->state = GOOSE_USER_DONE;
        t->ndone++;
    }
    publish_counts(t);
    finish_if_idle(t);
}

void goose__thread_user_retiring(goose_thread *t)
{
    t->nrunning--;
    publish_counts(t);
}

static void on_flush(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    publish(arg, 0);
    arm_flush(arg);
}

/* What was measured before the reset leaves the totals but stays in the
 * time series: it waits in `before` for the run loop.  Out of memory, the
 * series misses it (counted in before.lost). */
static void keep_before(goose_thread *t, goose_stats *s)
{
    if (goose__stats_move(&t->before, s) < 0) {
        t->before.lost += s->requests + s->lost;
        goose__stats_reset(s);
    }
}

/* Late by more than the threshold, and not because the machine kept the
 * thread waiting for a CPU (its run-queue time): something on this thread
 * blocked it, a sleep() or blocking I/O in a transaction most likely.  The
 * other users of the thread waited all that time. */
static void on_lag(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    goose_thread *t = arg;
    uint64_t late = goose__lag_note(&t->lag, goose__now_us());
    int64_t runq = goose__runq_us(t->runq_fd);
    uint64_t waited = runq > t->runq_us && t->runq_us >= 0 ? (uint64_t)(runq - t->runq_us) : 0;
    t->runq_us = runq;
    uint64_t blocked = late > waited ? late - waited : 0;
    if (blocked < BLOCKED_WARN_US || t->blocked_warned)
        return;
    t->blocked_warned = 1;
    const goose_run_config *cfg = &t->engine->cfg;
    char ms[32], line[128];
    goose__group_digits((blocked + 50000) / 100000 * 100, ms, sizeof ms);
    snprintf(line, sizeof line, "thread %zu was blocked %s ms: a blocking call in a "
             "transaction?", t->id, ms);
    if (cfg->log_fn)
        cfg->log_fn(cfg->log_arg, GOOSE_LOG_WARN, line);
}

static void start_lag(goose_thread *t)
{
    struct timeval period = {0, LAG_PERIOD_US};
    t->runq_fd = goose__runq_open();
    t->runq_us = goose__runq_us(t->runq_fd);
    goose__lag_start(&t->lag, LAG_PERIOD_US, goose__now_us());
    event_add(t->lag_timer, &period);
}

/* Every thread drops its metrics at the moment the last user (of any
 * thread) is launched, so the reset is exact whatever the publishing. */
static void on_reset(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    goose_thread *t = arg;
    pthread_mutex_lock(&t->outbox_lock);
    keep_before(t, &t->outbox);
    keep_before(t, &t->local);
    t->resets++;
    pthread_mutex_unlock(&t->outbox_lock);
}

static void schedule_reset(goose_thread *t)
{
    goose_engine *e = t->engine;
    if (!e->cfg.reset_on_launch || e->cfg.total_users == 0)
        return;
    uint64_t due = e->t0_us +
                   goose__shape_when_above(&t->shape, 0, (double)(e->cfg.total_users - 1));
    uint64_t now = goose__now_us();
    uint64_t wait = due > now ? due - now : 0;
    struct timeval tv = {(time_t)(wait / 1000000), (suseconds_t)(wait % 1000000)};
    evtimer_add(t->reset_timer, &tv);
}

static void begin_stop(goose_thread *t)
{
    if (t->stopping)
        return;
    t->stopping = 1;
    evtimer_del(t->steer_timer);
    for (size_t i = 0; i < t->nusers; i++) {
        goose_user_wait w = t->users[i]->waiting;
        if (w == GOOSE_WAIT_SLEEP || w == GOOSE_WAIT_PAUSE || w == GOOSE_WAIT_THROTTLE ||
            w == GOOSE_WAIT_ARRIVAL || w == GOOSE_WAIT_FD)
            goose__user_wake(t->users[i]);
        else if (w == GOOSE_WAIT_BATCH)
            goose__batches_wake(t->users[i]);
    }
    finish_if_idle(t);
}

/* Past the stop timeout: every user still running is left as it is. */
static void abandon_users(goose_thread *t)
{
    begin_stop(t);
    for (size_t i = 0; i < t->nusers; i++) {
        goose_user *u = t->users[i];
        if (u->state == GOOSE_USER_RUNNING || u->state == GOOSE_USER_RETIRING)
            goose__user_abandon(u);
    }
    atomic_store(&t->pub_abandoned, t->nabandoned);
    finish_if_idle(t);
}

/* A new shape from the run loop (a test plan or --controller): 1 when this
 * thread took it. */
static int take_shape(goose_thread *t)
{
    goose_engine *e = t->engine;
    unsigned v = atomic_load(&e->shape_version);
    if (v == t->shape_version)
        return 0;
    pthread_mutex_lock(&e->lock);
    int rc = goose__shape_copy(&t->shape, &e->shape);
    t->shape_version = atomic_load(&e->shape_version);
    pthread_mutex_unlock(&e->lock);
    if (t->shape_version > 1) /* changed live: the ramp of the reset is gone */
        evtimer_del(t->reset_timer);
    return rc == 0;
}

static void on_wake(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    goose_thread *t = arg;
    uint64_t n;
    while (read(fd, &n, sizeof n) < 0 && errno == EINTR)
        ;
    if (atomic_load(&t->abandon_requested))
        abandon_users(t);
    else if (atomic_load(&t->stop_requested))
        begin_stop(t);
    else if (take_shape(t))
        steer(t);
}

void goose__thread_wake(goose_thread *t)
{
    uint64_t one = 1;
    while (write(t->wake_fd, &one, sizeof one) < 0 && errno == EINTR)
        ;
}

static int setup_transports(goose_thread *t)
{
    for (size_t i = 0; i < GOOSE_TRANSPORTS; i++) {
        const goose_transport *row = goose__transports[i];
        if (row->thread_new &&
            row->thread_new(&t->transport[i], t->engine->transport[i], t->base) < 0)
            return -1;
    }
    tell_users(t);
    return 0;
}

int goose__thread_init(goose_thread *t, goose_engine *e, size_t id)
{
    t->engine = e;
    t->id = id;
    t->wake_fd = -1;
    pthread_mutex_init(&t->outbox_lock, NULL);
    if (goose__stats_init(&t->local, e->cfg.ntransactions, e->cfg.nscenarios) < 0 ||
        goose__stats_init(&t->outbox, e->cfg.ntransactions, e->cfg.nscenarios) < 0 ||
        goose__stats_init(&t->before, e->cfg.ntransactions, e->cfg.nscenarios) < 0)
        return -1;
    t->local.names = e->names; /* the outbox only takes what local kept */
    struct event_config *cfg = event_config_new();
    if (!cfg)
        return -1;
    event_config_set_flag(cfg, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
    t->base = event_base_new_with_config(cfg);
    event_config_free(cfg);
    if (!t->base || setup_transports(t) < 0)
        return -1;
    t->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (t->wake_fd < 0)
        return -1;
    t->steer_timer = evtimer_new(t->base, on_steer, t);
    t->flush_timer = evtimer_new(t->base, on_flush, t);
    t->wake_event = event_new(t->base, t->wake_fd, EV_READ | EV_PERSIST, on_wake, t);
    t->reset_timer = evtimer_new(t->base, on_reset, t);
    t->lag_timer = event_new(t->base, -1, EV_PERSIST, on_lag, t);
    if (goose__arrivals_init(t) < 0)
        return -1;
    if (!t->steer_timer || !t->flush_timer || !t->wake_event ||
        !t->reset_timer || !t->lag_timer)
        return -1;
    return 0;
}

void *goose__thread_main(void *arg)
{
    goose_thread *t = arg;
    event_add(t->wake_event, NULL);
    arm_flush(t);
    start_lag(t);
    take_shape(t);
    schedule_reset(t);
    steer(t);
    goose__arrivals_start(t);
    if (atomic_load(&t->abandon_requested))
        abandon_users(t);
    else if (atomic_load(&t->stop_requested))
        begin_stop(t);
    if (!t->finished)
        event_base_dispatch(t->base);
    publish(t, 1);
    goose_engine *e = t->engine;
    pthread_mutex_lock(&e->lock);
    e->nfinished++;
    pthread_cond_broadcast(&e->done_cond);
    pthread_mutex_unlock(&e->lock);
    return NULL;
}

/* Stacks of finished transactions, kept for the next ones: as many as
 * were ever running at once, up to this many. */
#define SPARE_CORO_MAX 4096

goose_coro *goose__thread_borrow_coro(goose_thread *t, goose_coro_fn fn, void *arg)
{
    if (t->nspare_coros) {
        goose_coro *c = t->spare_coros[--t->nspare_coros];
        goose__coro_restart(c, fn, arg);
        return c;
    }
    if (!t->spare_coros) {
        t->spare_coros = calloc(SPARE_CORO_MAX, sizeof *t->spare_coros);
        if (!t->spare_coros)
            return NULL;
    }
    return goose__coro_new(t->engine->cfg.stack_size, fn, arg);
}

void goose__thread_return_coro(goose_thread *t, goose_coro *c)
{
    if (t->nspare_coros < SPARE_CORO_MAX)
        t->spare_coros[t->nspare_coros++] = c;
    else
        goose__coro_free(c);
}

void goose__thread_cleanup(goose_thread *t)
{
    for (size_t i = 0; i < t->nspare_coros; i++)
        goose__coro_free(t->spare_coros[i]);
    free(t->spare_coros);
    for (size_t i = 0; i < t->nusers; i++)
        goose__user_free(t->users[i]);
    free(t->users);
    for (size_t i = 0; i < GOOSE_TRANSPORTS; i++)
        if (t->transport[i])
            goose__transports[i]->thread_free(t->transport[i]);
    if (t->steer_timer)
        event_free(t->steer_timer);
    goose__shape_free(&t->shape);
    if (t->flush_timer)
        event_free(t->flush_timer);
    if (t->wake_event)
        event_free(t->wake_event);
    if (t->reset_timer)
        event_free(t->reset_timer);
    if (t->lag_timer)
        event_free(t->lag_timer);
    if (t->runq_fd >= 0)
        close(t->runq_fd);
    goose__arrivals_free(t);
    if (t->base)
        event_base_free(t->base);
    if (t->wake_fd >= 0)
        close(t->wake_fd);
    goose__stats_free(&t->local);
    goose__stats_free(&t->outbox);
    goose__stats_free(&t->before);
    for (int i = 0; i < GOOSE_LOGFILES; i++)
        goose__buf_free(&t->logs[i]);
    pthread_mutex_destroy(&t->outbox_lock);
}
