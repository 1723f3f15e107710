/* The Gaggle Manager: runs no users.  It listens, checks each Worker's
 * protocol version and load-test hash, hands out user slots from the one
 * weighted allocation of the whole test, starts every Worker at the same
 * moment (compensating each one's round trip), merges their metric deltas
 * as shards, and writes the report as if one machine had run the test.
 * With --no-autostart it stays up: its members wait between tests and the
 * controller's start runs the next.  This file: the loop, heartbeats,
 * test_start/test_stop, the controller, test after test. */
#include "gaggle/manager.h"

#include <event2/listener.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/clock.h"
#include "util/sigpipe.h"

#define TICK_MS 50
/* A point of the time series is taken this long after its second: Workers
 * send a little after each whole second of their run, up to 300 ms away. */
#define SERIES_GRACE_US 500000

/* test_start's and test_stop's shards follow every Worker's; a Manager
 * that stays up learns how many Workers a test has only once test_start
 * runs: its shards come first there, and the Workers' after them. */
static size_t once_shard(const manager *m, int kind)
{
    return (m->stays ? 0 : m->t.expected * GAGGLE_MAX_THREADS) + (size_t)kind - 1;
}

/* The collector's shard of thread `thread` of the Worker of slot i. */
size_t goose__slot_shard(const manager *m, size_t i, size_t thread)
{
    return (i + (size_t)m->stays) * GAGGLE_MAX_THREADS + thread;
}

/* The test is ending before START, or its Workers are told to stop: the
 * Manager was asked to stop, or (staying up) the test was. */
int goose__test_stopping(const manager *m)
{
    return atomic_load(&m->a->stop) || m->t.cancelled;
}

mworker *goose__slot_of(manager *m, const gaggle_peer *p)
{
    for (size_t i = 0; i < m->t.expected; i++)
        if (m->t.workers[i].peer == p && m->t.workers[i].state != W_FREE)
            return &m->t.workers[i];
    return NULL;
}

size_t goose__slots_in(const manager *m, int state)
{
    size_t n = 0;
    for (size_t i = 0; i < m->t.expected; i++)
        n += m->t.workers[i].state == state;
    return n;
}

void goose__send_type(gaggle_peer *p, const char *type)
{
    gaggle_out o;
    goose__out_begin(&o, type, 0);
    goose__peer_send(p, &o);
    goose__out_free(&o);
}

static void send_stop_now(gaggle_peer *p)
{
    gaggle_out o;
    goose__out_begin(&o, "stop", 1);
    goose__out_bool(&o, "now", 1);
    goose__peer_send(p, &o);
    goose__out_free(&o);
}

static size_t active_users(const manager *m)
{
    size_t n = 0;
    for (size_t i = 0; i < m->t.expected; i++)
        n += m->t.workers[i].active;
    return n;
}

static void heartbeat(manager *m, uint64_t now)
{
    if (now - m->last_beat_us < GAGGLE_HEARTBEAT_US)
        return;
    m->last_beat_us = now;
    for (size_t i = 0; i < m->t.expected; i++)
        if (m->t.workers[i].peer && !m->t.workers[i].peer->closed &&
            m->t.workers[i].state != W_DONE && m->t.workers[i].rtt_known)
            goose__slot_ping(&m->t.workers[i]);
    for (conn *c = m->conns; c; c = c->next) { /* members between tests, or done */
        const mworker *w = c->slot ? &m->t.workers[c->slot - 1] : NULL;
        if (c->member && !c->peer->closed && (!w || w->state == W_DONE)) {
            gaggle_out o;
            goose__out_begin(&o, "ping", 1);
            goose__out_u64(&o, "t", now);
            goose__peer_send(c->peer, &o);
            goose__out_free(&o);
        }
    }
}

static void drive_test(manager *m, uint64_t now)
{
    goose_collector *c = &m->t.col;
    if (now < m->t.start_at_us)
        return;
    if (now >= m->t.start_at_us + goose__engine_start_offset(&m->t.cfg, m->t.cfg.users - 1))
        goose__collector_maintain(c, now);
    /* after the Workers' metrics of that second had time to arrive */
    if (now >= c->last_tick_us + 1000000 + SERIES_GRACE_US) {
        goose__collector_tick(c, c->last_tick_us + 1000000, active_users(m));
        if (!m->t.names_warned)
            m->t.names_warned = goose__names_warn(m->a, m->t.names, "the workers sent ");
    }
    goose__collector_running(c, now, active_users(m));
    if (m->t.stop_asked && !c->decrease_from_us)
        c->stop_at_us = now; /* as if its run time were up */
    if (goose__collector_stop_due(c, now)) {
        goose__log(m->a, GOOSE_LOG_INFO, "stopping: telling %zu workers",
                   goose__slots_in(m, W_RUNNING));
        for (size_t i = 0; i < m->t.expected; i++)
            if (m->t.workers[i].state == W_RUNNING && m->t.workers[i].peer)
                goose__send_type(m->t.workers[i].peer, "stop");
    }
    if (c->decrease_from_us && goose__stop_urgent(m->a) && !m->t.stop_now_sent) {
        m->t.stop_now_sent = 1;
        goose__log(m->a, GOOSE_LOG_WARN, "asked again to stop: the workers abandon their users");
        for (size_t i = 0; i < m->t.expected; i++)
            if (m->t.workers[i].state == W_RUNNING && m->t.workers[i].peer)
                send_stop_now(m->t.workers[i].peer);
    }
}

/* The controller's users change, for every running Worker. */
static int send_shape(void *arg, const goose_shape *shape, uint64_t end_us)
{
    manager *m = arg;
    for (size_t i = 0; i < m->t.expected; i++) {
        mworker *w = &m->t.workers[i];
        if (w->state != W_RUNNING || !w->peer)
            continue;
        gaggle_out o;
        goose__out_begin(&o, "shape", 2);
        goose__out_key(&o, "shape");
        goose__pack_shape(&o.pk, shape);
        goose__out_u64(&o, "end_us", end_us);
        goose__peer_send(w->peer, &o);
        goose__out_free(&o);
    }
    return GOOSE_OK;
}

static const char *state_name(const manager *m)
{
    return !m->t.set ? "idle" : m->t.started ? "running" : "waiting";
}

static int control_start(void *arg, char *answer, size_t len);
static int control_stop(void *arg, char *answer, size_t len);

static void poll_controller(manager *m)
{
    char waiting[96];
    uint64_t now = goose__now_us();
    goose_control_stay stay = {m->a, state_name(m), m->t.number, goose__members_count(m), m->tests,
                               control_start, control_stop, m};
    if (!m->t.set) { /* a Manager that stays up, between tests */
        goose_control_run idle = {NULL, NULL, "no test is set up", 0, send_shape, m, &stay};
        goose__control_poll(m->control, &idle);
        return;
    }
    if (m->t.started && now < m->t.start_at_us)
        snprintf(waiting, sizeof waiting, "it starts in %llu ms",
                 (unsigned long long)((m->t.start_at_us - now) / 1000 + 1));
    else if (m->stays && !m->t.taken)
        snprintf(waiting, sizeof waiting, "%zu of %zu workers wait for it", goose__members_waiting(m),
                 m->t.wanted);
    else
        snprintf(waiting, sizeof waiting, "%zu of %zu workers have joined",
                 m->t.expected - goose__slots_in(m, W_FREE), m->t.expected);
    int running = m->t.started && now >= m->t.start_at_us;
    goose_control_run run = {&m->t.col, &m->t.cfg, running ? NULL : waiting, active_users(m),
                             send_shape, m, m->stays ? &stay : NULL};
    goose__control_poll(m->control, &run);
}

/* ---- test_start and test_stop: on the Manager, never on Workers ---- */

/* test_start runs at once, its engine's threads beside this loop. */
static int begin_test_start(manager *m)
{
    if (!m->t.plan.once[GOOSE_ONCE_START]) {
        m->t.start_done = 1;
        return GOOSE_OK;
    }
    int rc = goose__once_start(&m->t.start, m->a, &m->t.cfg, &m->t.plan, GOOSE_ONCE_START,
                               once_shard(m, GOOSE_ONCE_START));
    m->t.start_running = rc == GOOSE_OK;
    return rc;
}

/* A ping behind a called-off test's "stop": the Worker answers in order,
 * so once its pong is in, nothing of that test is still on its way (a
 * "ready" the next test would take for its own). */
static void fence(manager *m, gaggle_peer *p)
{
    for (conn *c = m->conns; c; c = c->next) {
        if (c->peer != p)
            continue;
        c->fence = goose__now_us() | 1ull << 63; /* no heartbeat's time */
        gaggle_out o;
        goose__out_begin(&o, "ping", 1);
        goose__out_u64(&o, "t", c->fence);
        goose__peer_send(p, &o);
        goose__out_free(&o);
    }
}

/* No START for this test (test_start failed, or a stop before START):
 * the Workers it took are told, once.  A one-shot Manager lets them go; a
 * staying one keeps them as members, waiting for the next test. */
static void tell_joined_to_stop(manager *m)
{
    if (m->t.stop_told)
        return;
    m->t.stop_told = 1;
    for (size_t i = 0; i < m->t.expected; i++) {
        mworker *w = &m->t.workers[i];
        if ((w->state == W_JOINED || w->state == W_READY) && w->peer) {
            goose__send_type(w->peer, "stop");
            if (!m->stays)
                goose__peer_finish(w->peer);
            else
                fence(m, w->peer);
        }
    }
}

static void end_before_start(manager *m)
{
    m->t.start_failed = 1;
    m->t.start_failed_us = goose__now_us();
    tell_joined_to_stop(m);
}

/* Polled from the tick, never waited for: the loop goes on meanwhile. */
static void poll_test_start(manager *m)
{
    if (!m->t.start_running || !goose__once_poll(&m->t.start, m->a, 0))
        return;
    m->t.start_running = 0;
    if (goose__once_finish(&m->t.start, m->a, &m->t.col) != GOOSE_OK) {
        end_before_start(m);
        return;
    }
    m->t.start_done = 1;
    if (m->t.start.result.has_data) { /* test_stop reads it too */
        m->t.cfg.test_data = m->t.start.result.data.data;
        m->t.cfg.test_data_len = m->t.start.result.data.len;
    }
    for (size_t i = 0; i < m->t.expected; i++)
        if (m->t.workers[i].peer)
            goose__slot_feed(m, &m->t.workers[i]);
}

/* Once test_start failed: 1 when every Worker told has gone (or had a
 * second to read it). */
static int workers_gone(const manager *m, uint64_t now)
{
    if (m->stays || now - m->t.start_failed_us > 1000000) /* members stay */
        return 1;
    for (size_t i = 0; i < m->t.expected; i++)
        if (m->t.workers[i].peer && !m->t.workers[i].peer->closed)
            return 0;
    return 1;
}

/* 1 while test_stop runs: after every Worker finished or was lost (a
 * second stop skips it). */
static int test_stop_runs(manager *m)
{
    if (!m->t.end_us) {
        m->t.end_us = goose__now_us();
        if (m->t.plan.once[GOOSE_ONCE_STOP] && !goose__stop_urgent(m->a)) {
            if (goose__once_start(&m->t.stop, m->a, &m->t.cfg, &m->t.plan, GOOSE_ONCE_STOP,
                                  once_shard(m, GOOSE_ONCE_STOP)) == GOOSE_OK)
                m->t.stop_running = 1;
            else
                goose__log(m->a, GOOSE_LOG_ERROR, "%s", goose_attack_error(m->a));
        }
    }
    if (m->t.stop_running && goose__once_poll(&m->t.stop, m->a, 0)) {
        m->t.stop_running = 0;
        goose__once_finish(&m->t.stop, m->a, &m->t.col);
    }
    return m->t.stop_running;
}

/* This process was stopped or starved of CPU: its peers' silence meanwhile
 * is not theirs (goose__peer_silence_us leaves it out). */
static void note_lag(manager *m, uint64_t now)
{
    goose__gaggle_note_lag(m->a, &m->lag, &m->lag_warned, now, "the manager",
                           "the workers' silence meanwhile is not held against them");
}

static void test_over(manager *m);

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    manager *m = arg;
    uint64_t now = goose__now_us();
    note_lag(m, now);
    goose__conns_sweep(m, now);
    heartbeat(m, now);
    if (!m->t.set) { /* a Manager that stays up, between tests */
        poll_controller(m);
        if (atomic_load(&m->a->stop))
            event_base_loopbreak(m->base);
        return;
    }
    if (!m->t.started) {
        poll_test_start(m);
        goose__members_take(m);
        poll_controller(m); /* before: a stop it takes is told this tick */
        if (goose__test_stopping(m)) /* no START now */
            tell_joined_to_stop(m);
        goose__test_maybe_start(m);
        /* stopped before START: test_start ends first, test_stop runs */
        if (m->t.start_failed ? workers_gone(m, now)
                            : goose__test_stopping(m) && !m->t.start_running &&
                                  !test_stop_runs(m))
            test_over(m);
        return;
    }
    if (!m->t.end_us) /* the run's time ends with its last Worker, not test_stop */
        drive_test(m, now);
    poll_controller(m); /* after: a reset is seen before a change */
    if (goose__slots_in(m, W_RUNNING) == 0 && !test_stop_runs(m))
        test_over(m);
}

/* Everything of one test, so the next starts clean; its members wait. */
static void test_free(manager *m)
{
    mtest *t = &m->t;
    for (conn *c = m->conns; c; c = c->next)
        c->slot = 0;
    free(t->workers);
    goose__once_free(&t->start);
    goose__once_free(&t->stop);
    goose__collector_free(&t->col);
    goose__names_free(t->names);
    goose__run_teardown(m->a, &t->cfg, &t->plan);
    if (t->set) /* the next test's users are the options', not what setup made of them */
        m->a->opt.users = t->opt_users;
    memset(t, 0, sizeof *t);
}

static void manager_free(manager *m)
{
    goose__control_stop(m->control);
    if (m->timer) /* first: the loop below must not tick over freed peers */
        event_free(m->timer);
    while (m->conns) {
        conn *c = m->conns;
        m->conns = c->next;
        goose__peer_free(c->peer);
        free(c);
    }
    if (m->listener)
        evconnlistener_free(m->listener);
    if (m->base) /* libevent finishes freeing a TLS bufferevent in its loop */
        event_base_loop(m->base, EVLOOP_NONBLOCK);
    if (m->base)
        event_base_free(m->base);
    OPENSSL_cleanse(&m->key, sizeof m->key);
    SSL_CTX_free(m->tls);
    test_free(m);
    goose__metrics_stop(m->metrics);
}

/* The test's configuration, plan and collector from the options as they
 * are now; its Workers join (one-shot) or are taken (staying up) next. */
static int test_setup(manager *m)
{
    mtest *t = &m->t;
    t->set = 1;
    t->number = m->tests + 1;
    m->a->test_number = t->number;
    t->opt_users = m->a->opt.users;
    int rc = goose__run_setup(m->a, &t->cfg, &t->plan);
    if (rc != GOOSE_OK)
        return rc;
    t->wanted = m->a->opt.expect_workers;
    if (t->cfg.users < t->wanted)
        return goose__fail(m->a, GOOSE_ECONFIG, "%zu users cannot be shared by %zu workers",
                           t->cfg.users, t->wanted);
    char err[256];
    if (goose__rows_check(&t->cfg, err, sizeof err) < 0)
        return goose__fail(m->a, GOOSE_ECONFIG, "%s", err);
    if (!m->stays) {
        t->expected = t->wanted;
        t->workers = calloc(t->expected, sizeof *t->workers);
    }
    t->names = goose__names_new(m->a->opt.max_request_names);
    if ((!m->stays && !t->workers) || !t->names)
        return goose__fail(m->a, GOOSE_ENOMEM, "out of memory");
    rc = goose__collector_init_with(&t->col, m->a, &t->cfg, m->metrics);
    if (rc != GOOSE_OK)
        return rc;
    t->col.lag_us = GAGGLE_HEARTBEAT_US; /* Workers send their metrics every second */
    t->col.no_retry = 1; /* a Worker's delta cannot be asked for again */
    return goose__control_reset(m->control, &t->cfg) < 0
               ? goose__fail(m->a, GOOSE_ENOMEM, "out of memory") : GOOSE_OK;
}

/* What lives as long as the Manager: its options checked, the key, TLS,
 * the load test's hash, its loop. */
static int prepare_manager(manager *m)
{
    int rc = goose__gaggle_check_options(m->a, 1);
    if (rc != GOOSE_OK)
        return rc;
    if (m->stays && !m->a->opt.controller)
        return goose__fail(m->a, GOOSE_ECONFIG, "--no-autostart needs --controller "
                           "HOST:PORT: its start runs each test");
    rc = goose__gaggle_load_key(m->a, &m->key);
    if (rc != GOOSE_OK)
        return rc;
    m->tls = goose__tls_context(m->a, 1, &rc);
    if (rc != GOOSE_OK)
        return rc;
    if (goose__test_hash(m->a, m->hash) < 0)
        return goose__fail(m->a, GOOSE_ESYS, "cannot compute the load-test hash");
    return GOOSE_OK;
}

static int make_loop(manager *m)
{
    m->base = goose__gaggle_base();
    m->timer = m->base ? event_new(m->base, -1, EV_PERSIST, on_tick, m) : NULL;
    if (!m->timer || event_priority_set(m->timer, GAGGLE_PRI_TIMER) < 0)
        return goose__fail(m->a, GOOSE_ENOMEM, "out of memory");
    return GOOSE_OK;
}

/* The one-shot Manager: its one test is set up before any Worker joins. */
static int prepare(manager *m)
{
    int rc = prepare_manager(m);
    if (rc == GOOSE_OK)
        rc = test_setup(m);
    if (rc == GOOSE_OK)
        rc = make_loop(m);
    if (rc != GOOSE_OK)
        return rc;
    if (m->a->opt.controller &&
        !(m->control = goose__control_start(m->a, m->a->opt.controller, &m->t.cfg)))
        return GOOSE_ECONFIG; /* the message is set */
    rc = goose__manager_listen(m);
    return rc == GOOSE_OK ? begin_test_start(m) : rc;
}

/* A Manager that stays up: no test until the controller's start. */
static int prepare_staying(manager *m)
{
    int rc = prepare_manager(m);
    if (rc == GOOSE_OK)
        rc = make_loop(m);
    if (rc != GOOSE_OK)
        return rc;
    goose__warn_unnumbered_paths(m->a);
    const char *listen = m->a->opt.metrics_listen;
    if (listen && !(m->metrics = goose__metrics_start(m->a, listen)))
        return GOOSE_ECONFIG; /* the message is set */
    if (!(m->control = goose__control_start(m->a, m->a->opt.controller, NULL)))
        return GOOSE_ECONFIG;
    rc = goose__manager_listen(m);
    if (rc == GOOSE_OK)
        goose__log(m->a, GOOSE_LOG_INFO, "no test runs until the controller's start "
                   "(--no-autostart)");
    return rc;
}

/* ---- a Manager that stays up: test after test ---- */

/* A test ended: its verdict and report (as the one-shot Manager's), the
 * host program told, then everything of it freed; the members wait. */
static void end_test(manager *m)
{
    mtest *t = &m->t;
    if (!t->started)
        tell_joined_to_stop(m);
    if (!t->started && !t->start_failed) {
        goose__log(m->a, GOOSE_LOG_INFO, "test %u was stopped before START: no report",
                   t->number);
    } else {
        int rc = goose__test_finish(m);
        m->tests++;
        if (rc != GOOSE_OK && m->verdict == GOOSE_OK) {
            m->verdict = rc;
            snprintf(m->verdict_why, sizeof m->verdict_why, "test %u: %s", t->number,
                     goose_attack_error(m->a));
        }
        if (rc == GOOSE_OK)
            goose__log(m->a, GOOSE_LOG_INFO, "test %u passed", t->number);
        else
            goose__log(m->a, GOOSE_LOG_ERROR, "test %u failed: %s", t->number,
                       goose_attack_error(m->a));
        if (m->a->test_end_fn)
            m->a->test_end_fn(m->a->test_end_arg, m->a, rc);
    }
    test_free(m);
    goose__control_reset(m->control, NULL);
    if (!atomic_load(&m->a->stop))
        goose__log(m->a, GOOSE_LOG_INFO, "idle: %zu workers wait for the next start",
                   goose__members_count(m));
}

/* The one-shot Manager's loop ends with its test; one that stays up goes
 * on until asked to stop. */
static void test_over(manager *m)
{
    if (!m->stays) {
        event_base_loopbreak(m->base);
        return;
    }
    end_test(m);
    if (atomic_load(&m->a->stop))
        event_base_loopbreak(m->base);
}

/* The controller's start: the next test is set up from the options as
 * they are now; its Workers are taken at once when enough wait. */
static int control_start(void *arg, char *answer, size_t len)
{
    manager *m = arg;
    if (m->t.set) {
        snprintf(answer, len, "test %u is %s: stop ends it", m->t.number, state_name(m));
        return 0;
    }
    if (atomic_load(&m->a->stop)) {
        snprintf(answer, len, "the manager is shutting down");
        return 0;
    }
    int rc = test_setup(m);
    if (rc == GOOSE_OK)
        rc = begin_test_start(m);
    if (rc != GOOSE_OK) {
        snprintf(answer, len, "%s", goose_attack_error(m->a));
        test_free(m);
        goose__control_reset(m->control, NULL);
        return 0;
    }
    goose__members_take(m);
    if (m->t.taken)
        snprintf(answer, len, "test %u starts on %zu workers", m->t.number, m->t.expected);
    else
        snprintf(answer, len, "test %u: waiting for %zu workers (%zu have joined)",
                 m->t.number, m->t.wanted, goose__members_waiting(m));
    goose__log(m->a, GOOSE_LOG_INFO, "controller: start: %s", answer);
    return 1;
}

/* The controller's stop: the test ends as its run time would end it (the
 * users finish, its report); before START it is cancelled. */
static int control_stop(void *arg, char *answer, size_t len)
{
    manager *m = arg;
    mtest *t = &m->t;
    if (!t->set) {
        snprintf(answer, len, "no test is running: start runs the next one");
        return 0;
    }
    if (t->cancelled || t->stop_asked || t->col.decrease_from_us) {
        snprintf(answer, len, "test %u is already stopping", t->number);
        return 0;
    }
    if (!t->started) {
        t->cancelled = 1;
        snprintf(answer, len, "test %u is cancelled before START", t->number);
    } else {
        t->stop_asked = 1; /* the next tick tells the Workers */
        snprintf(answer, len, "stopping test %u: users finish, then its report", t->number);
    }
    goose__log(m->a, GOOSE_LOG_INFO, "controller: stop: %s", answer);
    return 1;
}

/* Every test passed: GOOSE_OK; else the first failing test's code. */
static int staying_verdict(manager *m)
{
    if (m->verdict == GOOSE_OK)
        return GOOSE_OK;
    return goose__fail(m->a, m->verdict, "%s", m->verdict_why);
}

int gaggle_manager_run(goose_attack *a)
{
    int rc = goose__run_begin(a, GOOSE_ROLE_MANAGER);
    if (rc != GOOSE_OK)
        return rc;
    manager m = {.a = a, .stays = a->opt.no_autostart};
    sigset_t mask;
    goose__sigpipe_block(&mask);
    rc = m.stays ? prepare_staying(&m) : prepare(&m);
    if (rc == GOOSE_OK) {
        struct timeval tick = {0, TICK_MS * 1000};
        goose__lag_start(&m.lag, TICK_MS * 1000, goose__now_us());
        event_add(m.timer, &tick);
        event_base_dispatch(m.base);
        goose__control_stop(m.control); /* no commands while reporting */
        m.control = NULL;
        rc = m.stays ? staying_verdict(&m) : goose__test_finish(&m);
    }
    manager_free(&m);
    goose__sigpipe_restore(&mask);
    goose__run_end(a);
    return rc;
}
