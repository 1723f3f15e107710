/* A virtual user: a small state machine on its engine thread.  It runs its
 * scenario's on_start transactions, then iterations of the loop, then
 * on_stop; each transaction runs on a coroutine borrowed from the thread's
 * pool for just that transaction.  Between transactions (the scenario's
 * wait time) a user holds no stack at all, so thousands of waiting users
 * cost a few KiB each and a handful of stacks. */
#include "engine/engine.h"

#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/clock.h"

#define ABANDONED "abandoned at --stop-timeout: no answer yet"
/* A transaction's reason is cut to this many bytes: the errors table and
 * a Worker's messages stay bounded whatever a script passes. */
#define TX_REASON_MAX 1024

static void drive(goose_user *u);

/* What next_transaction() says when an open-model user must wait for an
 * arrival before its next iteration. */
static const goose_tx_plan AWAIT_ARRIVAL;

static void on_user_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    goose_user *u = arg;
    if (u->abandoned)
        return;
    if (u->waiting == GOOSE_WAIT_SLEEP || u->waiting == GOOSE_WAIT_THROTTLE ||
        u->waiting == GOOSE_WAIT_FD) {
        goose__user_resume(u);
    } else if (u->waiting == GOOSE_WAIT_PAUSE || u->waiting == GOOSE_WAIT_ARRIVAL) {
        u->waiting = GOOSE_WAIT_NONE;
        drive(u);
    }
}

goose_user *goose__user_new(goose_thread *t, unsigned index,
                            unsigned scenario_index)
{
    goose_user *u = calloc(1, sizeof *u);
    if (!u)
        return NULL;
    u->thread = t;
    u->index = index;
    u->scenario_index = scenario_index;
    u->scenario = &t->engine->cfg.scenarios[scenario_index];
    goose__lane_init(&u->lane, u);
    u->lane.waiting = &u->waiting;
    return u;
}

static void release_resources(goose_user *u)
{
    goose__batches_close(u);
    goose__responses_close(u);
    goose__responses_free_spares(u);
    if (u->fd_event) /* an abandoned user's wait ends here, before its data's
                        free function may close the fd */
        event_free(u->fd_event);
    u->fd_event = NULL;
    if (u->data_free)
        u->data_free(u->data);
    u->data = NULL;
    u->data_free = NULL;
    for (size_t i = 0; i < GOOSE_TRANSPORTS; i++) { /* closes its connections */
        if (u->transport[i])
            goose__transports[i]->user_free(u->transport[i]);
        u->transport[i] = NULL;
    }
    goose__cookies_free(&u->cookies);
    goose__buf_free(&u->cookie_host);
    goose__buf_free(&u->cookie_path);
    if (u->timer)
        event_free(u->timer);
    u->timer = u->lane.timer = NULL;
    goose__lane_free(&u->lane);
    goose__buf_free(&u->base);
    goose__buf_free(&u->tx_failure);
    goose__cache_free(&u->cache); /* a user started again starts cold */
    goose__user_rows_free(u);     /* and draws its rows anew */
}

void goose__user_free(goose_user *u)
{
    if (!u)
        return;
    release_resources(u);
    goose__coro_free(u->coro);
    free(u);
}

/* A failed transaction's row in the errors table for transactions: its
 * reason, or what it returned when it gave none. */
static void record_failure(goose_user *u, const goose_tx_plan *tx, int rc)
{
    char returned[32];
    const char *why = u->tx_failure.len ? u->tx_failure.data
                                        : "goose_transaction_fail (out of memory for its reason)";
    if (!u->tx_failed) {
        snprintf(returned, sizeof returned, "returned %d", rc);
        why = returned;
    }
    if (goose__stats_add_tx_error(&u->thread->local, tx->id, why, 1) < 0)
        u->thread->local.lost_details++; /* counted, never dropped quietly */
}

/* The body of a borrowed coroutine: one transaction. */
static void transaction_main(void *arg)
{
    goose_user *u = arg;
    const goose_tx_plan *tx = u->tx;
    u->stopping_tx = 0;
    u->tx_failed = 0;
    goose__buf_clear(&u->tx_failure);
    uint64_t start = goose__now_us();
    int rc = tx->fn(u);
    uint64_t elapsed = goose__now_us() - start;
    if (u->batches)
        goose__batches_close(u);
    goose__responses_close(u);
    /* a transaction cut short by the end of the test is not counted */
    if (!u->stopping_tx) {
        int success = rc == 0 && !u->tx_failed;
        if (goose__stats_record_tx(&u->thread->local, tx->id, success, elapsed) == 0 &&
            !success)
            record_failure(u, tx, rc);
        goose__log_transaction(u, success, elapsed);
        goose__once_note(u, success, rc);
        u->pass_us += elapsed;
    } else {
        u->pass_cut = 1;
    }
}

/* The next transaction to run, or NULL when the user is done. */
static const goose_tx_plan *next_transaction(goose_user *u)
{
    const goose_scenario_plan *s = u->scenario;
    uint64_t limit = u->thread->engine->cfg.iterations;
    for (;;) {
        switch (u->phase) {
        case GOOSE_PHASE_START:
            if (!goose__user_stopping(u) && !u->stop_asked && u->pos < s->non_start)
                return &s->on_start[u->pos++];
            u->phase = GOOSE_PHASE_LOOP;
            u->pos = 0;
            break;
        case GOOSE_PHASE_LOOP:
            if (!goose__user_stopping(u) && !u->stop_asked && s->nloop &&
                (!limit || u->iterations < limit)) {
                if (u->thread->engine->cfg.open_model && u->pos == 0 && !u->arrived)
                    return &AWAIT_ARRIVAL;
                return &s->loop[u->pos++];
            }
            if (limit && !goose__user_stopping(u) && !u->iterations_counted) {
                /* its on_stop is the end of the run (a user goose_user_stop
                   ended is done with its iterations too) */
                u->iterations_counted = 1;
                atomic_store(&u->thread->pub_iterations_done, ++u->thread->niterations_done);
            }
            u->phase = GOOSE_PHASE_STOP;
            u->pos = 0;
            break;
        case GOOSE_PHASE_STOP:
            if (u->pos < s->non_stop)
                return &s->on_stop[u->pos++];
            u->phase = GOOSE_PHASE_DONE;
            return NULL;
        default:
            return NULL;
        }
    }
}

static int start_transaction(goose_user *u, const goose_tx_plan *tx)
{
    u->tx = tx;
    u->coro = goose__thread_borrow_coro(u->thread, transaction_main, u);
    if (!u->coro)
        return -1;
    goose__coro_resume(u->coro);
    return 0;
}

/* A complete loop pass is the user's cadence: the time its transactions
 * took, wait time not counted (as Goose); a pass cut short by the end of
 * the test says nothing about it. */
static void end_pass(goose_user *u)
{
    int mode = u->thread->engine->cfg.co_mode;
    if (mode != GOOSE_CO_DISABLED && !u->pass_cut)
        goose__cadence_pass(&u->cadence, mode, u->pass_us);
    else
        u->cadence.stall_us = 0;
    u->pass_us = 0;
}

/* A transaction ended: its stack goes back; a loop pass may be complete. */
static void end_transaction(goose_user *u)
{
    goose__thread_return_coro(u->thread, u->coro);
    u->coro = NULL;
    if (u->phase == GOOSE_PHASE_LOOP && u->pos == u->scenario->nloop) {
        if (!u->pass_cut)
            u->thread->local.iterations[u->scenario_index]++;
        end_pass(u);
        u->iterations++;
        u->pos = 0;
        u->pass_cut = 0;
        u->arrived = 0;
    } else if (u->phase != GOOSE_PHASE_LOOP) {
        u->pass_us = 0; /* on_start and on_stop are not part of a pass */
    }
}

/* The scenario's wait time after a transaction (not after on_stop ones). */
static int pause_between(goose_user *u)
{
    const goose_scenario_plan *s = u->scenario;
    if (s->wait_max_ms == 0 || goose__user_stopping(u) || u->stop_asked ||
        u->phase == GOOSE_PHASE_STOP)
        return 0;
    if (u->arrived == 0 && u->thread->engine->cfg.open_model && u->phase == GOOSE_PHASE_LOOP)
        return 0; /* an iteration of the open model ended: the user is free */
    uint64_t span = (uint64_t)s->wait_max_ms - s->wait_min_ms + 1;
    unsigned ms = s->wait_min_ms + (unsigned)(goose__xoshiro_next(&u->wait_rng) % span);
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    if (ms == 0 || evtimer_add(u->timer, &tv) < 0)
        return 0;
    u->waiting = GOOSE_WAIT_PAUSE;
    return 1;
}

static void finish_user(goose_user *u)
{
    release_resources(u);
    goose__thread_user_done(u->thread, u);
}

/* Runs the user until it waits: for a response, a sleep, or its pause. */
/* A transaction that returned without ever waiting (no request, no
 * sleep: it failed at once, or only computed) lets the thread's loop run
 * before the user's next one, as a zero wait time: else a user without
 * wait time would loop on it and the thread would never hear the stop. */
static int pass_turn_between(goose_user *u)
{
    static const struct timeval now = {0, 0};
    if (evtimer_add(u->timer, &now) < 0)
        return 0;
    u->waiting = GOOSE_WAIT_PAUSE;
    return 1;
}

/* The open model's user between iterations: it goes back to the pool at
 * once (its wait for an arrival lets the loop run), or arrivals due in
 * this same pass find no free user and are dropped. */
static int awaits_arrival(const goose_user *u)
{
    return u->thread->engine->cfg.open_model && u->phase == GOOSE_PHASE_LOOP && !u->arrived;
}

static void drive(goose_user *u)
{
    int at_once = 0; /* the transaction ended inside start_transaction */
    for (;;) {
        if (u->coro) {
            if (!goose__coro_finished(u->coro))
                return; /* the transaction waits inside */
            end_transaction(u);
            if (pause_between(u) || (at_once && !awaits_arrival(u) && pass_turn_between(u)))
                return;
        }
        const goose_tx_plan *tx = next_transaction(u);
        if (tx == &AWAIT_ARRIVAL) {
            goose__arrival_wait(u);
            return;
        }
        if (!tx || start_transaction(u, tx) < 0) {
            finish_user(u);
            return;
        }
        at_once = goose__coro_finished(u->coro);
    }
}

static int launch(goose_user *u)
{
    u->timer = u->lane.timer = evtimer_new(u->thread->base, on_user_timer, u);
    if (!u->timer) {
        release_resources(u);
        return -1;
    }
    drive(u);
    return 0;
}

/* A user's generators start over with each start: the values of user i
 * do not depend on how long it ran before the level fell below it. */
static void seed_streams(goose_user *u)
{
    uint64_t seed = u->thread->engine->cfg.seed;
    goose__xoshiro_seed(&u->rng, seed, GOOSE_STREAM_USER, goose_user_index(u));
    goose__xoshiro_seed(&u->wait_rng, seed, GOOSE_STREAM_WAIT, goose_user_index(u));
    goose__xoshiro_seed(&u->data_rng, seed, GOOSE_STREAM_DATA, goose_user_index(u));
}

/* A fresh start: on_start again, iterations from zero, no data, the
 * generators from their first value. */
void goose__user_want(goose_user *u)
{
    if (u->state == GOOSE_USER_RETIRING) {
        u->relaunch = 1;
        return;
    }
    if (u->state != GOOSE_USER_IDLE)
        return;
    u->state = GOOSE_USER_RUNNING;
    u->relaunch = 0;
    u->phase = GOOSE_PHASE_START;
    u->pos = 0;
    u->iterations = 0;
    u->pass_cut = 0;
    u->arrived = 0;
    seed_streams(u);
    u->stop_asked = 0;
    u->slot_holder = NULL;
    goose__thread_user_started(u->thread);
    if (launch(u) < 0) /* it could not start: it ends for good */
        goose__thread_user_done(u->thread, u);
}

/* The user finishes its transaction and runs its on_stop ones. */
void goose__user_retire(goose_user *u)
{
    if (u->state == GOOSE_USER_RETIRING)
        u->relaunch = 0;
    if (u->state != GOOSE_USER_RUNNING)
        return;
    u->state = GOOSE_USER_RETIRING;
    goose__thread_user_retiring(u->thread);
    if (u->waiting == GOOSE_WAIT_SLEEP || u->waiting == GOOSE_WAIT_PAUSE ||
        u->waiting == GOOSE_WAIT_THROTTLE || u->waiting == GOOSE_WAIT_FD)
        goose__user_wake(u);
    else if (u->waiting == GOOSE_WAIT_BATCH)
        goose__batches_wake(u);
}

/* What a lane was sending when its user was abandoned: a request that
 * waited for its throttle slot or a connection was never sent; one in
 * flight is cancelled and counted as a failure, since the server may have
 * seen it. */
void goose__lane_abandon(goose_lane *l)
{
    goose_reply *r = l->reply;
    if (!r)
        return;
    if (*l->waiting == GOOSE_WAIT_THROTTLE || *l->waiting == GOOSE_WAIT_CONN) {
        r->not_sent = 1;
    } else if (l->inflight) {
        r->status = 0;
        r->result = GOOSE_TE_ABORTED; /* if the words do not fit */
        r->elapsed_us = goose__now_us() - r->sent_us;
        goose__buf_clear(&r->failure);
        goose__buf_adds(&r->failure, ABANDONED);
    }
    l->reply = NULL;
    l->inflight = 0;
}

/* Its transaction is never resumed (its stack is freed with the user),
 * nor are its batches' lanes; the requests they were sending end as
 * goose__lane_abandon says; the replies it got are counted as they are. */
void goose__user_abandon(goose_user *u)
{
    for (size_t i = 0; i < GOOSE_TRANSPORTS; i++)
        if (u->transport[i] && goose__transports[i]->cancel)
            goose__transports[i]->cancel(u->transport[i]);
    goose__lane_abandon(&u->lane);
    goose__batches_abandon(u);
    u->abandoned = 1;
    u->thread->nabandoned++;
    finish_user(u);
}

/* Back into the transaction that waited for a response or a sleep. */
void goose__user_resume(goose_user *u)
{
    if (u->abandoned)
        return;
    u->waiting = GOOSE_WAIT_NONE;
    goose__coro_resume(u->coro);
    drive(u);
}

void goose__user_arrive(goose_user *u)
{
    u->waiting = GOOSE_WAIT_NONE;
    u->arrived = 1;
    drive(u);
}

void goose__user_wake(goose_user *u)
{
    event_del(u->timer);
    event_active(u->timer, EV_TIMEOUT, 1);
}

void goose__user_pass_turn(goose_user *u)
{
    static const struct timeval now = {0, 0};
    if (evtimer_add(u->timer, &now) < 0)
        return;
    u->waiting = GOOSE_WAIT_SLEEP;
    goose__coro_yield();
}

int goose_sleep(goose_user *u, unsigned ms)
{
    if (!u || !u->coro || goose__coro_current() != u->coro)
        return GOOSE_EINVAL;
    int in_on_stop = u->phase == GOOSE_PHASE_STOP;
    if (goose__user_stopping(u) && !in_on_stop)
        return GOOSE_ESTATE;
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    if (evtimer_add(u->timer, &tv) < 0)
        return GOOSE_ESYS;
    u->waiting = GOOSE_WAIT_SLEEP;
    goose__coro_yield();
    return goose__user_stopping(u) && !in_on_stop ? GOOSE_ESTATE : GOOSE_OK;
}

/* Inside a transaction of u (its coroutine is the one running). */
static int in_transaction(const goose_user *u)
{
    return u && u->coro && goose__coro_current() == u->coro;
}

int goose__transaction_fail(goose_user *u, const char *why)
{
    if (!u || !u->coro || !why || !*why)
        return GOOSE_EINVAL;
    if (u->tx_failed)
        return GOOSE_OK; /* the first reason is the cause; later ones follow from it */
    size_t n = strlen(why);
    if (n > TX_REASON_MAX) { /* cut before a UTF-8 character, not inside one */
        n = TX_REASON_MAX;
        while (n > 0 && ((unsigned char)why[n] & 0xc0) == 0x80)
            n--;
    }
    u->tx_failed = 1; /* it fails even when its reason cannot be kept */
    return goose__buf_add(&u->tx_failure, why, n) < 0 ? GOOSE_ENOMEM : GOOSE_OK;
}

int goose_transaction_fail(goose_user *u, const char *why)
{
    if (!in_transaction(u))
        return GOOSE_EINVAL;
    return goose__transaction_fail(u, why);
}

int goose_user_stop(goose_user *u)
{
    if (!in_transaction(u))
        return GOOSE_EINVAL;
    u->stop_asked = 1;
    return GOOSE_OK;
}

int goose_user_set_data(goose_user *u, void *data, void (*free_fn)(void *))
{
    if (!u)
        return GOOSE_EINVAL;
    if (u->data_free && u->data != data)
        u->data_free(u->data);
    u->data = data;
    u->data_free = free_fn;
    return GOOSE_OK;
}

void *goose_user_data(const goose_user *u)
{
    return u ? u->data : NULL;
}

uint64_t goose_user_random(goose_user *u)
{
    return u ? goose__xoshiro_next(&u->rng) : 0;
}

unsigned goose_user_index(const goose_user *u)
{
    if (u && u->thread->engine->cfg.once) /* test_start's, test_stop's: no user of the load */
        return u->thread->engine->cfg.once_index;
    return u ? u->index : 0;
}

goose_attack *goose_user_attack(const goose_user *u)
{
    return u ? u->thread->engine->cfg.attack : NULL;
}
