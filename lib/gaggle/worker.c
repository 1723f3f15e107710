/* The Gaggle Worker: dials the Manager, proves it runs the same load test,
 * takes its user slots, starts when told, streams metric deltas every
 * second, flushes the last of them when its users are done, and leaves.
 * A Manager that goes silent stops the Worker's users. */
#include "gaggle/gaggle.h"

#include <openssl/crypto.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/clock.h"
#include "util/sigpipe.h"

#define TICK_MS 50
#define FLUSH_GRACE_US 100000
#define CONNECT_RETRY_US 250000

/* S_ROWS: welcomed, taking its rows of the data sets before "ready". */
enum { S_HELLO, S_AUTH, S_ROWS, S_READY, S_RUNNING, S_DRAINING, S_LEAVING, S_GONE };

/* What one engine thread's deltas added up to, as the Manager merges them
 * (a reset drops what came before), for this Worker's own log. */
typedef struct sent_tally {
    uint64_t requests;
    uint64_t synthetic;
} sent_tally;

typedef struct worker {
    goose_attack *a;
    struct event_base *base;
    struct event *timer;
    struct event *start_timer;
    goose_lag lag;              /* of the timer: how late this loop runs */
    int lag_warned;
    gaggle_peer *peer;
    int state;
    int rc;
    goose_run_config cfg;
    goose_plan plan;
    int planned;
    gaggle_welcome welcome;
    gaggle_data data;           /* its share of the data sets, for the run */
    goose_engine *engine;
    sent_tally *sent;          /* per engine thread */
    size_t nsent;
    uint64_t start_at_us;
    uint64_t maintain_at_us;
    uint64_t stop_at_us;
    uint64_t run_start_us;      /* the users' time 0 */
    int reshaped;               /* the Manager's controller changed the users */
    uint64_t end_us;            /* then: when the run ends (0: the Manager says) */
    uint64_t last_beat_us;
    uint64_t last_flush_us;
    goose_stop_clock stop_clock; /* --stop-timeout, the Manager's */
    int stop_now;              /* the Manager was asked twice to stop */
    uint64_t unsent;           /* requests of metrics that could not be sent */
    uint64_t unsent_hatch;     /* (out of memory), and of their hatch: the next
                                  message tells the Manager they are lost */
    int has_test_data;         /* "test_data" came (once, before "start") */
    goose_buf test_data;       /* test_start's data, for every user */
    gaggle_key key;
    SSL_CTX *tls;
    char hash[65];
    unsigned char nonce_w[GAGGLE_NONCE];
} worker;

static int fail(worker *w, int code, const char *fmt, const char *detail)
{
    if (w->rc == GOOSE_OK)
        w->rc = goose__fail(w->a, code, fmt, detail);
    goose__log(w->a, GOOSE_LOG_ERROR, fmt, detail);
    return w->rc;
}

static void leave(worker *w)
{
    w->state = S_GONE;
    event_base_loopbreak(w->base);
}

static void send_pong(worker *w, uint64_t t)
{
    gaggle_out o;
    goose__out_begin(&o, "pong", 1);
    goose__out_u64(&o, "t", t);
    goose__peer_send(w->peer, &o);
    goose__out_free(&o);
}

/* Every slot's scenario is one this Worker planned (of --scenarios), and
 * none is test_start's or test_stop's. */
static int slots_planned(const gaggle_welcome *wl, const goose_plan *plan)
{
    for (size_t i = 0; i < wl->nslots; i++)
        if (wl->scenarios[i] >= plan->nload)
            return 0;
    return 1;
}

/* Its users' rows came from the Manager into the run's tables (setup
 * read no file on a Worker), which cfg.datasets already points at. */
static void become_ready(worker *w)
{
    w->state = S_READY;
    gaggle_out o;
    goose__out_begin(&o, "ready", 0);
    goose__peer_send(w->peer, &o);
    goose__out_free(&o);
    size_t rows = 0;
    for (size_t i = 0; i < w->data.n; i++)
        rows += w->data.tables[i].nrows;
    if (w->data.n)
        goose__log(w->a, GOOSE_LOG_INFO, "took %zu rows of %zu data sets from the manager",
                   rows, w->data.n);
}

/* The sets the welcome announces, against this Worker's registrations
 * (the run's data sets, their tables empty until the rows come). */
static int take_announced(worker *w, const msgpack_object *msg, char *why, size_t len)
{
    return goose__rows_announced(&w->data, msg, w->plan.datasets, w->plan.tables,
                                 w->plan.ndatasets, w->welcome.nslots, why, len);
}

static void on_welcome(worker *w, const msgpack_object *msg)
{
    if (goose__welcome_read(msg, w->a->nscenarios, &w->welcome, &w->a->opt) < 0) {
        fail(w, GOOSE_EFAILED, "%s", "the manager sent a configuration this worker cannot use");
        { leave(w); return; }
    }
    int rc = goose__run_setup(w->a, &w->cfg, &w->plan);
    w->planned = 1;
    if (rc != GOOSE_OK) {
        fail(w, rc, "cannot run the manager's configuration: %s", goose_attack_error(w->a));
        { leave(w); return; }
    }
    if (!slots_planned(&w->welcome, &w->plan)) {
        fail(w, GOOSE_EFAILED, "%s", "the manager sent a configuration this worker cannot use");
        { leave(w); return; }
    }
    w->cfg.user_scenario = w->welcome.scenarios;
    w->cfg.user_index = w->welcome.slots;
    w->cfg.total_users = (size_t)w->welcome.total;
    w->cfg.throttle_rps = w->welcome.throttle_rps;
    if (w->welcome.controller) /* users may be added: every thread is there for them */
        w->cfg.threads = w->cfg.threads_wanted;
    w->cfg.process_index = (size_t)w->welcome.index;
    w->cfg.processes = (size_t)w->welcome.workers;
    w->cfg.open_model = w->welcome.arrivals.n > 0;
    if (goose__shape_copy(&w->cfg.shape, &w->welcome.shape) < 0 ||
        goose__shape_copy(&w->cfg.arrivals, &w->welcome.arrivals) < 0) {
        fail(w, GOOSE_ENOMEM, "%s", "out of memory");
        { leave(w); return; }
    }
    char why[256];
    if (take_announced(w, msg, why, sizeof why) < 0) {
        fail(w, GOOSE_EFAILED, "the manager's data sets: %s", why);
        { leave(w); return; }
    }
    goose__log(w->a, GOOSE_LOG_INFO, "joined as worker %llu: %zu of %llu users",
               (unsigned long long)w->welcome.index + 1, w->welcome.nslots,
               (unsigned long long)w->welcome.total);
    w->state = S_ROWS;
    if (goose__rows_complete(&w->data))
        become_ready(w);
}

/* One frame of its rows; "ready" once every announced row is here. */
static void on_rows(worker *w, const msgpack_object *msg)
{
    char why[256];
    if (goose__rows_take(&w->data, msg, why, sizeof why) < 0) {
        fail(w, GOOSE_EFAILED, "the manager sent bad data rows: %s", why);
        { leave(w); return; }
    }
    if (goose__rows_complete(&w->data))
        become_ready(w);
}

/* ---- running ---- */

static void start_engine(worker *w)
{
    char err[256];
    if (w->has_test_data) { /* what test_start set, on the Manager */
        w->cfg.test_data = w->test_data.data;
        w->cfg.test_data_len = w->test_data.len;
    }
    w->engine = goose__engine_start(&w->cfg, err, sizeof err);
    if (!w->engine) {
        fail(w, GOOSE_ESYS, "%s", err);
        { leave(w); return; }
    }
    w->nsent = goose__engine_threads(w->engine);
    if (!(w->sent = calloc(w->nsent, sizeof *w->sent))) {
        fail(w, GOOSE_ENOMEM, "%s", "out of memory");
        { leave(w); return; }
    }
    uint64_t now = goose__now_us();
    goose__log(w->a, GOOSE_LOG_INFO, "START: running %zu users", w->welcome.nslots);
    w->state = S_RUNNING;
    w->last_flush_us = w->engine->t0_us; /* the seconds its threads publish at */
    w->run_start_us = now;
    uint64_t last = goose__engine_start_offset(&w->cfg, w->cfg.total_users - 1);
    w->maintain_at_us = last == GOOSE_NEVER ? GOOSE_NEVER : now + last;
    if (w->a->opt.run_time_us && last != GOOSE_NEVER)
        w->stop_at_us = w->maintain_at_us + w->a->opt.run_time_us;
    if (w->welcome.end_us)
        w->stop_at_us = now + w->welcome.end_us;
    if (w->reshaped) /* changed before the start */
        w->stop_at_us = w->end_us ? now + w->end_us : 0;
    gaggle_out o;
    goose__out_begin(&o, "started", 0);
    goose__peer_send(w->peer, &o);
    goose__out_free(&o);
}

static void tally(worker *w, size_t thread, int reset, const goose_stats *delta)
{
    if (thread >= w->nsent)
        return;
    sent_tally *t = &w->sent[thread];
    if (reset)
        *t = (sent_tally){0, 0};
    t->requests += delta->requests;
    for (size_t i = 0; i < delta->nreqs; i++)
        t->synthetic += goose__req_synthetic(delta->reqs[i]);
}

typedef struct shard_out {
    worker *w;
    msgpack_packer *pk;
    uint64_t requests;         /* in the message, lost ones too */
    uint64_t hatch;
} shard_out;

static int pack_shard(void *arg, size_t thread, int reset, const goose_stats *before,
                      const goose_stats *delta)
{
    shard_out *so = arg;
    msgpack_packer *pk = so->pk;
    int has_before = !goose__stats_empty(before);
    tally(so->w, thread, reset, delta);
    so->requests += delta->requests + delta->lost;
    so->hatch += before->requests + before->lost;
    msgpack_pack_map(pk, 3 + has_before);
    goose__pack_str(pk, "thread");
    msgpack_pack_uint64(pk, thread);
    goose__pack_str(pk, "reset");
    if (reset)
        msgpack_pack_true(pk);
    else
        msgpack_pack_false(pk);
    goose__pack_str(pk, "stats");
    goose__pack_stats(pk, delta);
    if (has_before) { /* measured before the reset: the Manager's time series only */
        goose__pack_str(pk, "before");
        goose__pack_stats(pk, before);
    }
    return 0;
}

/* Every engine thread's delta since the last message, one shard each. */
static void send_metrics(worker *w, const char *type)
{
    gaggle_out o;
    int done = !strcmp(type, "done");
    int lost = w->unsent || w->unsent_hatch;
    goose_names *names = goose__engine_names(w->engine);
    goose__names_warn(w->a, names, NULL);
    goose__out_begin(&o, type, 3 + done + 2 * lost);
    goose__out_u64(&o, "active", goose__engine_active(w->engine));
    if (done)
        goose__out_u64(&o, "abandoned", goose__engine_abandoned(w->engine));
    if (lost) {
        goose__out_u64(&o, "lost", w->unsent);
        goose__out_u64(&o, "lost_hatch", w->unsent_hatch);
    }
    goose__out_key(&o, "folded");
    msgpack_pack_array(&o.pk, GOOSE_NAMES_KINDS);
    for (int k = 0; k < GOOSE_NAMES_KINDS; k++)
        msgpack_pack_uint64(&o.pk,
                            names ? goose__names_folded(names, (goose_names_kind)k, NULL) : 0);
    goose__out_key(&o, "shards");
    msgpack_pack_array(&o.pk, goose__engine_threads(w->engine));
    shard_out so = {w, &o.pk, 0, 0};
    goose__engine_collect_each(w->engine, pack_shard, &so);
    if (goose__peer_send(w->peer, &o) < 0) { /* the outboxes are empty now */
        w->unsent += so.requests;
        w->unsent_hatch += so.hatch;
    } else {
        w->unsent = w->unsent_hatch = 0;
    }
    goose__out_free(&o);
}

static void stop_users(worker *w, const char *why)
{
    if (w->state != S_RUNNING)
        return;
    goose__log(w->a, GOOSE_LOG_INFO, "stopping users: %s", why);
    w->state = S_DRAINING;
    goose__engine_stop(w->engine);
}

static void on_start_time(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    worker *w = arg;
    if (w->state == S_READY)
        start_engine(w);
}

/* A timer of its own: every Worker starts at the moment the Manager chose. */
static void on_start(worker *w, const msgpack_object *msg)
{
    uint64_t in_us;
    if (goose__get_u64(msg, "in_us", &in_us) < 0 || in_us > 60000000) {
        fail(w, GOOSE_EFAILED, "%s", "the manager sent a bad start time");
        { leave(w); return; }
    }
    w->start_at_us = goose__now_us() + in_us;
    struct timeval tv = {(time_t)(in_us / 1000000), (suseconds_t)(in_us % 1000000)};
    w->start_timer = evtimer_new(w->base, on_start_time, w);
    if (!w->start_timer || event_priority_set(w->start_timer, GAGGLE_PRI_TIMER) < 0 ||
        evtimer_add(w->start_timer, &tv) < 0) {
        fail(w, GOOSE_ENOMEM, "%s", "out of memory");
        leave(w);
    }
}

/* test_start's data: once, before "start", at most GOOSE_TEST_DATA_MAX
 * bytes; anything else is a protocol error. */
static void on_test_data(worker *w, const msgpack_object *msg)
{
    const msgpack_object *d = goose__map_get(msg, "data");
    const char *bad = NULL;
    if (w->state != S_READY || w->start_at_us)
        bad = "protocol error: test_data outside the wait for start";
    else if (w->has_test_data)
        bad = "protocol error: a second test_data message";
    else if (!d || d->type != MSGPACK_OBJECT_BIN)
        bad = "protocol error: test_data without its bytes";
    else if (d->via.bin.size > GOOSE_TEST_DATA_MAX)
        bad = "protocol error: test_data over GOOSE_TEST_DATA_MAX (16 MiB)";
    if (!bad && goose__buf_add(&w->test_data, d->via.bin.ptr, d->via.bin.size) < 0)
        bad = "out of memory for test_data";
    if (bad) {
        goose__peer_close(w->peer, bad);
        return;
    }
    w->has_test_data = 1;
}

/* Which check of the Manager's key failed, or NULL when it proved it. */
static const char *manager_key_failure(worker *w, const msgpack_object *msg,
                                       const unsigned char *nonce_m)
{
    int has_key = 0;
    goose__get_bool(msg, "key", &has_key);
    if (!w->key.set)
        return has_key ? "the manager requires a gaggle key and this worker has none "
                         "(--gaggle-key-file or GOOSE_GAGGLE_KEY)" : NULL;
    if (!has_key)
        return "the manager has no gaggle key: refusing an unauthenticated manager";
    if (!goose__gaggle_proof_ok(&w->key, "manager", w->nonce_w, nonce_m,
                                goose__map_get(msg, "proof")))
        return "the manager cannot prove the gaggle key: refusing it";
    return NULL;
}

/* The Manager proved the key (or neither side has one): prove ours, and
 * only now say which test this is. */
static void on_challenge(worker *w, const msgpack_object *msg)
{
    unsigned char nonce_m[GAGGLE_NONCE];
    char name[128];
    const char *bad = goose__get_nonce(msg, "nonce", nonce_m) < 0
                          ? "the manager's challenge has no nonce"
                          : manager_key_failure(w, msg, nonce_m);
    if (bad) { /* tell the Manager why, so its log says it too */
        fail(w, GOOSE_EFAILED, "%s", bad);
        gaggle_out o;
        goose__out_begin(&o, "refuse", 1);
        goose__out_str(&o, "reason", bad);
        goose__peer_send(w->peer, &o);
        goose__out_free(&o);
        goose__peer_finish(w->peer);
        w->state = S_LEAVING;
        return;
    }
    goose__peer_set_max_frame(w->peer, GAGGLE_FRAME_MAX);
    goose__gaggle_name(name, sizeof name);
    gaggle_out o;
    goose__out_begin(&o, "auth", w->key.set ? 3 : 2);
    goose__out_str(&o, "hash", w->hash);
    goose__out_str(&o, "name", name);
    if (w->key.set) {
        unsigned char proof[GAGGLE_PROOF];
        goose__gaggle_proof(&w->key, "worker", nonce_m, w->nonce_w, proof);
        goose__out_bin(&o, "proof", proof, sizeof proof);
    }
    goose__peer_send(w->peer, &o);
    goose__out_free(&o);
    w->state = S_AUTH;
}

/* The Manager's controller changed the users: from now on they follow
 * this shape, and the run ends when the Manager says (or at end_us). */
static void on_shape(worker *w, const msgpack_object *msg)
{
    goose_shape shape = {0};
    uint64_t end_us;
    if (goose__unpack_shape(goose__map_get(msg, "shape"), &shape) < 0 || shape.n == 0 ||
        goose__get_u64(msg, "end_us", &end_us) < 0) {
        goose__shape_free(&shape);
        goose__peer_close(w->peer, "a bad shape message from the manager");
        return;
    }
    int rc = w->state == S_RUNNING ? goose__engine_reshape(w->engine, &shape)
                                   : goose__shape_copy(&w->cfg.shape, &shape);
    if (rc < 0)
        goose__log(w->a, GOOSE_LOG_WARN, "out of memory changing the users");
    else
        goose__log(w->a, GOOSE_LOG_INFO, "the manager changes the users of the test to %.0f",
                   shape.steps[shape.n - 1].to);
    w->end_us = end_us;
    w->reshaped = 1;
    if (w->state == S_RUNNING)
        w->stop_at_us = end_us ? w->run_start_us + end_us : 0;
    goose__shape_free(&shape);
}

static void on_msg(gaggle_peer *p, const char *type, const msgpack_object *msg)
{
    worker *w = p->owner;
    uint64_t t;
    char reason[512];
    if (!strcmp(type, "ping") && goose__get_u64(msg, "t", &t) == 0) {
        send_pong(w, t);
    } else if (!strcmp(type, "pong")) {
        /* its arrival is the heartbeat */
    } else if (!strcmp(type, "challenge") && w->state == S_HELLO) {
        on_challenge(w, msg);
    } else if (!strcmp(type, "welcome") && w->state == S_AUTH) {
        on_welcome(w, msg);
    } else if (!strcmp(type, "rows") && w->state == S_ROWS) {
        on_rows(w, msg);
    } else if (!strcmp(type, "test_data")) {
        on_test_data(w, msg);
    } else if (!strcmp(type, "start") && w->state == S_READY && !w->start_at_us) {
        on_start(w, msg);
    } else if (!strcmp(type, "shape") &&
               (w->state == S_ROWS || w->state == S_READY || w->state == S_RUNNING)) {
        on_shape(w, msg);
    } else if (!strcmp(type, "shape") && w->state == S_DRAINING) {
        /* the test is ending: the users stop whatever the shape */
    } else if (!strcmp(type, "stop")) {
        int now = 0;
        w->stop_now |= goose__get_bool(msg, "now", &now) == 0 && now;
        if (w->state == S_ROWS || w->state == S_READY)
            leave(w);
        stop_users(w, "the manager says the test is over");
    } else if (!strcmp(type, "reject")) {
        if (goose__get_str(msg, "reason", reason, sizeof reason) < 0)
            snprintf(reason, sizeof reason, "no reason given");
        fail(w, GOOSE_EFAILED, "the manager refused this worker: %s", reason);
        leave(w);
    } else {
        goose__peer_close(p, "unexpected message from the manager");
    }
}

static void on_close(gaggle_peer *p, const char *why)
{
    worker *w = p->owner;
    if (w->state == S_LEAVING || w->state == S_GONE)
        return;
    if (w->state == S_HELLO && strncmp(why, "connection ", 11) == 0)
        why = w->tls ? "TLS: the manager closed the connection after the TLS handshake "
                       "(does it want a client certificate? --tls-cert/--tls-key)"
                     : "the manager closed the handshake (a TLS manager? give --tls-ca)";
    fail(w, GOOSE_EFAILED, "lost the manager: %s", why);
    if (w->state == S_RUNNING)
        stop_users(w, "the manager is gone");
    else if (w->state != S_DRAINING)
        leave(w);
}

/* Heartbeats start once the handshake is over: before it, only hello and
 * auth may reach the Manager (a ping would break the handshake over a long
 * round trip).  Silence is still caught by --gaggle-timeout. */
static void heartbeat(worker *w, uint64_t now)
{
    uint64_t silence = goose__peer_silence_us(w->peer, now);
    if (w->state == S_HELLO || w->state == S_AUTH) {
        if (silence > w->a->opt.gaggle_timeout_us)
            goose__peer_close(w->peer, "the manager did not answer the handshake "
                                       "within --gaggle-timeout");
        return;
    }
    if (now - w->last_beat_us < GAGGLE_HEARTBEAT_US || w->peer->closed)
        return;
    w->last_beat_us = now;
    gaggle_out o;
    goose__out_begin(&o, "ping", 1);
    goose__out_u64(&o, "t", now);
    goose__peer_send(w->peer, &o);
    goose__out_free(&o);
    if (silence > w->a->opt.gaggle_timeout_us)
        goose__peer_close(w->peer, "no heartbeat within --gaggle-timeout");
}

/* What this Worker measured, once its users are done: a log shipper can
 * add the Workers up and find the Manager's totals. */
static void log_measured(worker *w)
{
    sent_tally sum = {0, 0};
    for (size_t i = 0; i < w->nsent; i++) {
        sum.requests += w->sent[i].requests;
        sum.synthetic += w->sent[i].synthetic;
    }
    if (w->cfg.co_mode != GOOSE_CO_DISABLED)
        goose__log(w->a, GOOSE_LOG_INFO, "users done: %llu requests measured, %llu "
                   "synthetic samples (--co-mitigation %s)", (unsigned long long)sum.requests,
                   (unsigned long long)sum.synthetic, goose__co_mode_name(w->cfg.co_mode));
    else
        goose__log(w->a, GOOSE_LOG_INFO, "users done: %llu requests measured",
                   (unsigned long long)sum.requests);
}

static void drive(worker *w, uint64_t now)
{
    if (w->state != S_RUNNING && w->state != S_DRAINING)
        return;
    if (atomic_load(&w->a->stop))
        stop_users(w, "asked to stop");
    if (w->stop_at_us && now >= w->stop_at_us)
        stop_users(w, "run time is up");
    if (w->state == S_DRAINING ||
        (w->cfg.iterations && goose__engine_iterations_done(w->engine) >= w->cfg.users))
        goose__stop_clock_tick(&w->stop_clock, w->a, w->engine, now,
                               w->stop_now || goose__stop_urgent(w->a));
    int finished = goose__engine_wait(w->engine, 0);
    /* a little after the whole second its threads published at */
    if (!w->peer->closed && (finished || now >= w->last_flush_us + 1000000 + FLUSH_GRACE_US)) {
        w->last_flush_us += 1000000;
        send_metrics(w, finished ? "done" : "metrics");
    }
    if (finished) {
        goose__stop_clock_record(w->a, goose__engine_abandoned(w->engine));
        log_measured(w);
        w->state = S_LEAVING;
        goose__peer_finish(w->peer);
    }
}

/* This process was stopped or starved of CPU: the Manager's silence
 * meanwhile is not the Manager's (goose__peer_silence_us leaves it out). */
static void note_lag(worker *w, uint64_t now)
{
    goose__gaggle_note_lag(w->a, &w->lag, &w->lag_warned, now, "this worker",
                           "the manager's silence meanwhile is not held against it");
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    worker *w = arg;
    uint64_t now = goose__now_us();
    note_lag(w, now);
    if (w->state == S_GONE)
        return;
    /* The Manager closes once it has read our last words, and a busy one
     * may take long to: leaving first would reset the connection and throw
     * them away.  Its pings say it is still there. */
    if (w->state == S_LEAVING) {
        if (w->peer->closed ||
            goose__peer_silence_us(w->peer, now) > w->a->opt.gaggle_timeout_us)
            leave(w);
        return;
    }
    if (w->state != S_DRAINING && atomic_load(&w->a->stop) && w->state != S_RUNNING) {
        fail(w, GOOSE_EFAILED, "%s", "stopped before the test started");
        { leave(w); return; }
    }
    if (!w->peer->closed)
        heartbeat(w, now);
    drive(w, now);
}

/* A Manager may start after its Workers: keep dialing for a while. */
static int connect_manager(worker *w)
{
    const goose_options *o = &w->a->opt;
    const char *host = o->manager_host ? o->manager_host : "127.0.0.1";
    uint64_t give_up = goose__now_us() + 2 * o->gaggle_timeout_us;
    char err[256] = "";
    while (!(w->peer = goose__peer_connect(w->base, host, o->manager_port, w->tls, on_msg,
                                           on_close, w, err, sizeof err))) {
        if (goose__now_us() >= give_up || atomic_load(&w->a->stop))
            return goose__fail(w->a, GOOSE_EFAILED, "%s", err);
        usleep(CONNECT_RETRY_US);
    }
    return GOOSE_OK;
}

static int send_hello(worker *w)
{
    if (goose__gaggle_nonce(w->nonce_w) < 0)
        return goose__fail(w->a, GOOSE_ESYS, "no random bytes for the handshake nonce");
    gaggle_out o;
    goose__out_begin(&o, "hello", 2);
    goose__out_u64(&o, "version", GAGGLE_PROTOCOL_VERSION);
    goose__out_bin(&o, "nonce", w->nonce_w, GAGGLE_NONCE);
    goose__peer_send(w->peer, &o);
    goose__out_free(&o);
    return GOOSE_OK;
}

static int prepare(worker *w)
{
    int rc = goose__gaggle_check_options(w->a, 0);
    if (rc != GOOSE_OK)
        return rc;
    if (w->a->config_error)
        return goose__fail(w->a, w->a->config_code, "%s", w->a->config_error);
    if (w->a->nscenarios == 0)
        return goose__fail(w->a, GOOSE_ECONFIG, "no scenarios: register at least one "
                           "with goose_attack_add_scenario()");
    if (goose__test_hash(w->a, w->hash) < 0)
        return goose__fail(w->a, GOOSE_ESYS, "cannot compute the load-test hash");
    rc = goose__gaggle_load_key(w->a, &w->key);
    if (rc != GOOSE_OK)
        return rc;
    w->tls = goose__tls_context(w->a, 0, &rc);
    if (rc != GOOSE_OK)
        return rc;
    w->base = goose__gaggle_base();
    w->timer = w->base ? event_new(w->base, -1, EV_PERSIST, on_tick, w) : NULL;
    if (!w->timer || event_priority_set(w->timer, GAGGLE_PRI_TIMER) < 0)
        return goose__fail(w->a, GOOSE_ENOMEM, "out of memory");
    rc = connect_manager(w);
    if (rc != GOOSE_OK)
        return rc;
    goose__peer_watch(w->peer, &w->lag);
    return send_hello(w);
}

static void worker_free(worker *w)
{
    goose__engine_free(w->engine);
    free(w->sent);
    goose__peer_free(w->peer);
    if (w->base) /* libevent finishes freeing a TLS bufferevent in its loop */
        event_base_loop(w->base, EVLOOP_NONBLOCK);
    if (w->timer)
        event_free(w->timer);
    if (w->start_timer)
        event_free(w->start_timer);
    if (w->base)
        event_base_free(w->base);
    if (w->planned && goose__run_teardown(w->a, &w->cfg, &w->plan) != GOOSE_OK &&
        w->rc == GOOSE_OK)
        w->rc = GOOSE_EIO; /* a log could not be written */
    goose__welcome_free(&w->welcome);
    goose__rows_free(&w->data);
    goose__buf_free(&w->test_data);
    OPENSSL_cleanse(&w->key, sizeof w->key);
    SSL_CTX_free(w->tls);
}

int gaggle_worker_run(goose_attack *a)
{
    /* a stop asked before this thread got here still counts */
    int rc = goose__run_begin(a, GOOSE_ROLE_WORKER);
    if (rc != GOOSE_OK)
        return rc;
    worker w = {.a = a, .rc = GOOSE_OK};
    sigset_t mask;
    goose__sigpipe_block(&mask);
    rc = prepare(&w);
    if (rc == GOOSE_OK) {
        struct timeval tick = {0, TICK_MS * 1000};
        goose__lag_start(&w.lag, TICK_MS * 1000, goose__now_us());
        event_add(w.timer, &tick);
        event_base_dispatch(w.base);
    }
    worker_free(&w);
    goose__sigpipe_restore(&mask);
    if (rc == GOOSE_OK)
        rc = w.rc;
    if (rc == GOOSE_OK)
        goose__log(a, GOOSE_LOG_INFO, "test over: this worker is done");
    goose__run_end(a);
    return rc;
}

/* ---- a Worker on its own thread, for embedding ---- */

struct gaggle_worker {
    goose_attack *attack;
    pthread_t thread;
    int rc;
    atomic_int done;
};

static void *worker_thread(void *arg)
{
    gaggle_worker *gw = arg;
    gw->rc = gaggle_worker_run(gw->attack);
    atomic_store(&gw->done, 1);
    return NULL;
}

/* 1 once the run has ended: gaggle_worker_join() will not wait. */
int gaggle_worker_done(const gaggle_worker *gw)
{
    return gw ? atomic_load(&((gaggle_worker *)gw)->done) : 1;
}

gaggle_worker *gaggle_worker_start(goose_attack *a)
{
    if (!a)
        return NULL;
    gaggle_worker *gw = calloc(1, sizeof *gw);
    if (!gw)
        return NULL;
    gw->attack = a;
    atomic_store(&a->stop, 0);
    if (pthread_create(&gw->thread, NULL, worker_thread, gw) != 0) {
        free(gw);
        return NULL;
    }
    return gw;
}

int gaggle_worker_stop(gaggle_worker *gw)
{
    if (!gw)
        return GOOSE_EINVAL;
    return goose_attack_stop(gw->attack);
}

int gaggle_worker_join(gaggle_worker *gw)
{
    if (!gw)
        return GOOSE_EINVAL;
    pthread_join(gw->thread, NULL);
    int rc = gw->rc;
    free(gw);
    return rc;
}
