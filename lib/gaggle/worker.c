/* The Gaggle Worker on one connection: proves it runs the same load test,
 * takes its user slots, starts when told, streams metric deltas every
 * second, flushes the last of them when its users are done, and leaves;
 * a serving Worker (--worker-reconnect) stays for the Manager's "idle"
 * and its next test instead.  A Manager that goes silent stops the
 * Worker's users. */
#include "gaggle/worker.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/clock.h"

#define FLUSH_GRACE_US 100000
#define LEAVING_STOPPED_US 1000000 /* asked to stop: its last words get a second */

static int fail(worker *w, int code, const char *fmt, const char *detail)
{
    char copy[sizeof w->a->error]; /* detail may be the attack's error itself */
    snprintf(copy, sizeof copy, "%s", detail);
    detail = copy;
    if (w->rc == GOOSE_OK)
        w->rc = goose__fail(w->a, code, fmt, detail);
    if (!w->why[0]) /* a serving Worker says it as it dials again */
        snprintf(w->why, sizeof w->why, fmt, detail);
    goose__log(w->a, GOOSE_LOG_ERROR, fmt, detail);
    return w->rc;
}

static void leave(worker *w)
{
    w->state = S_GONE;
    event_base_loopbreak(w->base);
}

/* Its last words are written: it waits for the Manager to close (a
 * reset would throw them away), for --gaggle-timeout at most. */
static void finish_leaving(worker *w)
{
    goose__peer_finish(w->peer);
    w->state = S_LEAVING;
    w->leaving_us = goose__now_us();
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
    for (size_t i = 0; i < w->t.data.n; i++)
        rows += w->t.data.tables[i].nrows;
    if (w->t.data.n)
        goose__log(w->a, GOOSE_LOG_INFO, "took %zu rows of %zu data sets from the manager",
                   rows, w->t.data.n);
}

/* The sets the welcome announces, against this Worker's registrations
 * (the run's data sets, their tables empty until the rows come). */
static int take_announced(worker *w, const msgpack_object *msg, char *why, size_t len)
{
    return goose__rows_announced(&w->t.data, msg, w->t.plan.datasets, w->t.plan.tables,
                                 w->t.plan.ndatasets, w->t.welcome.nslots, why, len);
}

/* This Worker cannot run the Manager's test: it says why (the Manager's
 * log shows it) and goes; a serving one backs off before it dials again,
 * as from a Manager it could not join. */
static void cannot_run(worker *w, int code, const char *fmt, const char *detail)
{
    fail(w, code, fmt, detail);
    gaggle_out o;
    goose__out_begin(&o, "refuse", 1);
    goose__out_str(&o, "reason", w->why);
    goose__peer_send(w->peer, &o);
    goose__out_free(&o);
    w->joined = 0;
    finish_leaving(w);
}

static void on_welcome(worker *w, const msgpack_object *msg)
{
    if (goose__welcome_read(msg, w->a->nscenarios, &w->t.welcome, &w->a->opt) < 0) {
        cannot_run(w, GOOSE_EFAILED, "%s", "the manager sent a configuration this worker cannot use");
        return;
    }
    w->a->test_number = ++w->tests; /* {n} of its log paths */
    int rc = goose__run_setup(w->a, &w->t.cfg, &w->t.plan);
    w->t.planned = 1;
    if (rc != GOOSE_OK) {
        cannot_run(w, rc, "cannot run the manager's configuration: %s", goose_attack_error(w->a));
        return;
    }
    if (!slots_planned(&w->t.welcome, &w->t.plan)) {
        cannot_run(w, GOOSE_EFAILED, "%s", "the manager sent a configuration this worker cannot use");
        return;
    }
    w->t.cfg.user_scenario = w->t.welcome.scenarios;
    w->t.cfg.user_index = w->t.welcome.slots;
    w->t.cfg.total_users = (size_t)w->t.welcome.total;
    w->t.cfg.throttle_rps = w->t.welcome.throttle_rps;
    if (w->t.welcome.controller) /* users may be added: every thread is there for them */
        w->t.cfg.threads = w->t.cfg.threads_wanted;
    w->t.cfg.process_index = (size_t)w->t.welcome.index;
    w->t.cfg.processes = (size_t)w->t.welcome.workers;
    w->t.cfg.open_model = w->t.welcome.arrivals.n > 0;
    if (goose__shape_copy(&w->t.cfg.shape, &w->t.welcome.shape) < 0 ||
        goose__shape_copy(&w->t.cfg.arrivals, &w->t.welcome.arrivals) < 0) {
        cannot_run(w, GOOSE_ENOMEM, "%s", "out of memory");
        return;
    }
    char why[256];
    if (take_announced(w, msg, why, sizeof why) < 0) {
        cannot_run(w, GOOSE_EFAILED, "the manager's data sets: %s", why);
        return;
    }
    goose__log(w->a, GOOSE_LOG_INFO, "joined as worker %llu: %zu of %llu users",
               (unsigned long long)w->t.welcome.index + 1, w->t.welcome.nslots,
               (unsigned long long)w->t.welcome.total);
    w->joined = 1;
    goose__watch_set(w->watch, GAGGLE_WORKER_JOINED);
    w->state = S_ROWS;
    if (goose__rows_complete(&w->t.data))
        become_ready(w);
}

/* One frame of its rows; "ready" once every announced row is here. */
static void on_rows(worker *w, const msgpack_object *msg)
{
    char why[256];
    if (goose__rows_take(&w->t.data, msg, why, sizeof why) < 0) {
        fail(w, GOOSE_EFAILED, "the manager sent bad data rows: %s", why);
        { leave(w); return; }
    }
    if (goose__rows_complete(&w->t.data))
        become_ready(w);
}

/* ---- running ---- */

static void start_engine(worker *w)
{
    char err[256];
    if (w->t.has_test_data) { /* what test_start set, on the Manager */
        w->t.cfg.test_data = w->t.test_data.data;
        w->t.cfg.test_data_len = w->t.test_data.len;
    }
    w->t.engine = goose__engine_start(&w->t.cfg, err, sizeof err);
    if (!w->t.engine) {
        fail(w, GOOSE_ESYS, "%s", err);
        { leave(w); return; }
    }
    w->t.nsent = goose__engine_threads(w->t.engine);
    if (!(w->t.sent = calloc(w->t.nsent, sizeof *w->t.sent))) {
        fail(w, GOOSE_ENOMEM, "%s", "out of memory");
        { leave(w); return; }
    }
    uint64_t now = goose__now_us();
    goose__log(w->a, GOOSE_LOG_INFO, "START: running %zu users", w->t.welcome.nslots);
    w->state = S_RUNNING;
    goose__watch_set(w->watch, GAGGLE_WORKER_RUNNING);
    w->t.last_flush_us = w->t.engine->t0_us; /* the seconds its threads publish at */
    w->t.run_start_us = now;
    uint64_t last = goose__engine_start_offset(&w->t.cfg, w->t.cfg.total_users - 1);
    w->t.maintain_at_us = last == GOOSE_NEVER ? GOOSE_NEVER : now + last;
    if (w->a->opt.run_time_us && last != GOOSE_NEVER)
        w->t.stop_at_us = w->t.maintain_at_us + w->a->opt.run_time_us;
    if (w->t.welcome.end_us)
        w->t.stop_at_us = now + w->t.welcome.end_us;
    if (w->t.reshaped) /* changed before the start */
        w->t.stop_at_us = w->t.end_us ? now + w->t.end_us : 0;
    gaggle_out o;
    goose__out_begin(&o, "started", 0);
    goose__peer_send(w->peer, &o);
    goose__out_free(&o);
}

static void tally(worker *w, size_t thread, int reset, const goose_stats *delta)
{
    if (thread >= w->t.nsent)
        return;
    sent_tally *t = &w->t.sent[thread];
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
    int lost = w->t.unsent || w->t.unsent_hatch;
    goose_names *names = goose__engine_names(w->t.engine);
    goose__names_warn(w->a, names, NULL);
    goose__out_begin(&o, type, 3 + done + 2 * lost);
    goose__out_u64(&o, "active", goose__engine_active(w->t.engine));
    if (done)
        goose__out_u64(&o, "abandoned", goose__engine_abandoned(w->t.engine));
    if (lost) {
        goose__out_u64(&o, "lost", w->t.unsent);
        goose__out_u64(&o, "lost_hatch", w->t.unsent_hatch);
    }
    goose__out_key(&o, "folded");
    msgpack_pack_array(&o.pk, GOOSE_NAMES_KINDS);
    for (int k = 0; k < GOOSE_NAMES_KINDS; k++)
        msgpack_pack_uint64(&o.pk,
                            names ? goose__names_folded(names, (goose_names_kind)k, NULL) : 0);
    goose__out_key(&o, "shards");
    msgpack_pack_array(&o.pk, goose__engine_threads(w->t.engine));
    shard_out so = {w, &o.pk, 0, 0};
    goose__engine_collect_each(w->t.engine, pack_shard, &so);
    if (goose__peer_send(w->peer, &o) < 0) { /* the outboxes are empty now */
        w->t.unsent += so.requests;
        w->t.unsent_hatch += so.hatch;
    } else {
        w->t.unsent = w->t.unsent_hatch = 0;
    }
    goose__out_free(&o);
}

static void stop_users(worker *w, const char *why)
{
    if (w->state != S_RUNNING)
        return;
    goose__log(w->a, GOOSE_LOG_INFO, "stopping users: %s", why);
    w->state = S_DRAINING;
    goose__engine_stop(w->t.engine);
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
    w->t.start_at_us = goose__now_us() + in_us;
    struct timeval tv = {(time_t)(in_us / 1000000), (suseconds_t)(in_us % 1000000)};
    w->t.start_timer = evtimer_new(w->base, on_start_time, w);
    if (!w->t.start_timer || event_priority_set(w->t.start_timer, GAGGLE_PRI_TIMER) < 0 ||
        evtimer_add(w->t.start_timer, &tv) < 0) {
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
    if (w->state != S_READY || w->t.start_at_us)
        bad = "protocol error: test_data outside the wait for start";
    else if (w->t.has_test_data)
        bad = "protocol error: a second test_data message";
    else if (!d || d->type != MSGPACK_OBJECT_BIN)
        bad = "protocol error: test_data without its bytes";
    else if (d->via.bin.size > GOOSE_TEST_DATA_MAX)
        bad = "protocol error: test_data over GOOSE_TEST_DATA_MAX (16 MiB)";
    if (!bad && goose__buf_add(&w->t.test_data, d->via.bin.ptr, d->via.bin.size) < 0)
        bad = "out of memory for test_data";
    if (bad) {
        goose__peer_close(w->peer, bad);
        return;
    }
    w->t.has_test_data = 1;
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
        w->fatal = 1; /* another try would meet the same key */
        fail(w, GOOSE_EFAILED, "%s", bad);
        gaggle_out o;
        goose__out_begin(&o, "refuse", 1);
        goose__out_str(&o, "reason", bad);
        goose__peer_send(w->peer, &o);
        goose__out_free(&o);
        finish_leaving(w);
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
    int rc = w->state == S_RUNNING ? goose__engine_reshape(w->t.engine, &shape)
                                   : goose__shape_copy(&w->t.cfg.shape, &shape);
    if (rc < 0)
        goose__log(w->a, GOOSE_LOG_WARN, "out of memory changing the users");
    else
        goose__log(w->a, GOOSE_LOG_INFO, "the manager changes the users of the test to %.0f",
                   shape.steps[shape.n - 1].to);
    w->t.end_us = end_us;
    w->t.reshaped = 1;
    if (w->state == S_RUNNING)
        w->t.stop_at_us = end_us ? w->t.run_start_us + end_us : 0;
    goose__shape_free(&shape);
}

/* The test is over (or never started): its every part goes. */
static void end_test(worker *w)
{
    if (goose__worker_test_free(w) != GOOSE_OK) /* a log could not be written */
        goose__log(w->a, GOOSE_LOG_ERROR, "%s", goose_attack_error(w->a));
}

/* A Manager that stays up: joined after the handshake with no test to
 * take, or the test is over and the next one comes on this connection.
 * Said again while waiting, it changes nothing. */
static void on_idle(worker *w)
{
    if (w->state == S_IDLE)
        return;
    if (w->state == S_AUTH) {
        goose__log(w->a, GOOSE_LOG_INFO, "joined the manager at %s: waiting for a test",
                   w->peer->addr);
    } else {
        end_test(w);
        goose__log(w->a, GOOSE_LOG_INFO, "test over: waiting for the next one");
    }
    w->joined = 1;
    w->state = S_IDLE;
    goose__watch_set(w->watch, GAGGLE_WORKER_JOINED);
}

static void on_stop(worker *w, const msgpack_object *msg)
{
    int now = 0;
    w->t.stop_now |= goose__get_bool(msg, "now", &now) == 0 && now;
    if ((w->state == S_ROWS || w->state == S_READY) && w->serving) {
        end_test(w); /* stopped before it started: wait for the next */
        w->state = S_IDLE;
        goose__log(w->a, GOOSE_LOG_INFO, "the manager stopped the test before it started: "
                   "waiting for the next one");
        return;
    }
    if (w->state == S_ROWS || w->state == S_READY)
        leave(w);
    stop_users(w, "the manager says the test is over");
}

/* "retry": a later try may succeed (a serving Worker dials again); a
 * missing one means no. */
static void on_reject(worker *w, const msgpack_object *msg)
{
    char reason[512];
    int retry = 0;
    if (goose__get_str(msg, "reason", reason, sizeof reason) < 0)
        snprintf(reason, sizeof reason, "no reason given");
    goose__get_bool(msg, "retry", &retry);
    if (w->serving && retry) {
        snprintf(w->why, sizeof w->why, "the manager refused this worker: %s", reason);
    } else {
        w->fatal = 1;
        fail(w, GOOSE_EFAILED, "the manager refused this worker: %s", reason);
    }
    leave(w);
}

/* A peer's word for a log line: letters, digits and '_' only. */
static const char *printable(const char *s, char *out, size_t len)
{
    size_t i = 0;
    for (; s[i] && i + 1 < len; i++)
        out[i] = isalnum((unsigned char)s[i]) || s[i] == '_' ? s[i] : '?';
    out[i] = '\0';
    return out;
}

/* Messages of the handshake and between tests. */
static int on_joining(worker *w, const char *type, const msgpack_object *msg)
{
    if (!strcmp(type, "challenge") && w->state == S_HELLO)
        on_challenge(w, msg);
    else if (!strcmp(type, "idle") &&
             (w->state == S_AUTH || w->state == S_IDLE || w->state == S_DONE))
        on_idle(w);
    else if (!strcmp(type, "welcome") && (w->state == S_AUTH || w->state == S_IDLE))
        on_welcome(w, msg);
    else if (!strcmp(type, "reject") && w->state != S_IDLE && w->state != S_DONE)
        on_reject(w, msg);
    else if (!strcmp(type, "stop") && (w->state == S_IDLE || w->state == S_DONE))
        ; /* no test to stop */
    else
        return 0;
    return 1;
}

static void on_msg(gaggle_peer *p, const char *type, const msgpack_object *msg)
{
    worker *w = p->owner;
    uint64_t t;
    if (!strcmp(type, "ping") && goose__get_u64(msg, "t", &t) == 0) {
        send_pong(w, t);
    } else if (!strcmp(type, "pong")) {
        /* its arrival is the heartbeat */
    } else if (on_joining(w, type, msg)) {
        /* taken */
    } else if (!strcmp(type, "rows") && w->state == S_ROWS) {
        on_rows(w, msg);
    } else if (!strcmp(type, "test_data")) {
        on_test_data(w, msg);
    } else if (!strcmp(type, "start") && w->state == S_READY && !w->t.start_at_us) {
        on_start(w, msg);
    } else if (!strcmp(type, "shape") &&
               (w->state == S_ROWS || w->state == S_READY || w->state == S_RUNNING)) {
        on_shape(w, msg);
    } else if (!strcmp(type, "shape") && (w->state == S_DRAINING || w->state == S_DONE)) {
        /* the test is ending: the users stop whatever the shape */
    } else if (!strcmp(type, "stop") && w->state != S_IDLE && w->state != S_DONE) {
        on_stop(w, msg);
    } else {
        char name[32];
        snprintf(w->why, sizeof w->why, "unexpected message \"%s\" from the manager",
                 printable(type, name, sizeof name));
        goose__peer_close(p, "unexpected message from the manager");
    }
}

/* A serving Worker's Manager that went away is no error: it dials again
 * (unless the certificate failed: then it would meet it again). */
static void on_close(gaggle_peer *p, const char *why)
{
    worker *w = p->owner;
    if (w->state == S_LEAVING || w->state == S_GONE)
        return;
    if (w->state == S_HELLO && strncmp(why, "connection ", 11) == 0)
        why = w->tls ? "TLS: the manager closed the connection after the TLS handshake "
                       "(does it want a client certificate? --tls-cert/--tls-key)"
                     : "the manager closed the handshake (a TLS manager? give --tls-ca)";
    if (w->tls && goose__tls_verify_failed(p->bev))
        w->fatal = 1;
    if (!w->serving || w->fatal) {
        fail(w, GOOSE_EFAILED, "lost the manager: %s", why);
    } else if (!w->why[0]) {
        snprintf(w->why, sizeof w->why, "%s", why);
        if (w->state > S_IDLE && w->state < S_DONE) /* during a test */
            goose__log(w->a, GOOSE_LOG_WARN, "lost the manager: %s", why);
    }
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
    for (size_t i = 0; i < w->t.nsent; i++) {
        sum.requests += w->t.sent[i].requests;
        sum.synthetic += w->t.sent[i].synthetic;
    }
    if (w->t.cfg.co_mode != GOOSE_CO_DISABLED)
        goose__log(w->a, GOOSE_LOG_INFO, "users done: %llu requests measured, %llu "
                   "synthetic samples (--co-mitigation %s)", (unsigned long long)sum.requests,
                   (unsigned long long)sum.synthetic, goose__co_mode_name(w->t.cfg.co_mode));
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
    if (w->t.stop_at_us && now >= w->t.stop_at_us)
        stop_users(w, "run time is up");
    if (w->state == S_DRAINING ||
        (w->t.cfg.iterations && goose__engine_iterations_done(w->t.engine) >= w->t.cfg.users))
        goose__stop_clock_tick(&w->t.stop_clock, w->a, w->t.engine, now,
                               w->t.stop_now || goose__stop_urgent(w->a));
    int finished = goose__engine_wait(w->t.engine, 0);
    /* a little after the whole second its threads published at */
    if (!w->peer->closed && (finished || now >= w->t.last_flush_us + 1000000 + FLUSH_GRACE_US)) {
        w->t.last_flush_us += 1000000;
        send_metrics(w, finished ? "done" : "metrics");
    }
    if (finished) {
        goose__stop_clock_record(w->a, goose__engine_abandoned(w->t.engine));
        log_measured(w);
        if (w->serving && !atomic_load(&w->a->stop) && !w->peer->closed) {
            w->state = S_DONE; /* "idle" or the Manager's close comes next */
            return;
        }
        finish_leaving(w);
    }
}

/* This process was stopped or starved of CPU: the Manager's silence
 * meanwhile is not the Manager's (goose__peer_silence_us leaves it out). */
static void note_lag(worker *w, uint64_t now)
{
    goose__gaggle_note_lag(w->a, &w->lag, &w->lag_warned, now, "this worker",
                           "the manager's silence meanwhile is not held against it");
}

/* Asked to stop with no users running: a one-shot Worker did not run
 * its test; a serving one is done (its last "done" reaches the Manager
 * first: leaving at once could reset the connection under it). */
static void stop_between_tests(worker *w)
{
    if (!w->serving) {
        fail(w, GOOSE_EFAILED, "%s", "stopped before the test started");
        leave(w);
    } else if (w->state == S_DONE) {
        finish_leaving(w);
    } else {
        leave(w);
    }
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
     * them away. */
    if (w->state == S_LEAVING) {
        /* a busy Manager's pings say it is there; one that talks on but
           never closes holds it 3 x --gaggle-timeout, a stopped one 1 s */
        uint64_t waited = now - w->leaving_us, timeout = w->a->opt.gaggle_timeout_us;
        if (w->peer->closed || goose__peer_silence_us(w->peer, now) > timeout ||
            waited > 3 * timeout || (atomic_load(&w->a->stop) && waited > LEAVING_STOPPED_US))
            leave(w);
        return;
    }
    if (w->state == S_READY && w->t.start_at_us && atomic_load(&w->a->stop)) {
        start_engine(w); /* START came: the Manager counts this Worker in, */
        stop_users(w, "asked to stop"); /* so its test runs, stopping at once */
        return;
    }
    if (w->state != S_DRAINING && atomic_load(&w->a->stop) && w->state != S_RUNNING) {
        stop_between_tests(w);
        return;
    }
    if (!w->peer->closed)
        heartbeat(w, now);
    drive(w, now);
}

/* Dials the Manager once, giving up after --gaggle-timeout or at a stop;
 * -1 with err (and errno, 0 when the host did not resolve). */
int goose__worker_connect(worker *w, char *err, size_t errlen)
{
    const goose_options *o = &w->a->opt;
    const char *host = o->manager_host ? o->manager_host : "127.0.0.1";
    goose__watch_set(w->watch, GAGGLE_WORKER_DIALING);
    w->peer = goose__peer_connect(w->base, host, o->manager_port, w->tls, on_msg, on_close, w,
                                  &w->a->stop, o->gaggle_timeout_us, err, errlen);
    return w->peer ? 0 : -1;
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

int goose__worker_session(worker *w)
{
    w->state = S_HELLO;
    w->joined = w->fatal = 0;
    w->why[0] = '\0';
    w->last_beat_us = 0;
    uint64_t now = goose__now_us();
    goose__lag_start(&w->lag, WORKER_TICK_MS * 1000, now);
    goose__peer_watch(w->peer, &w->lag);
    int rc = send_hello(w);
    if (rc != GOOSE_OK)
        return rc;
    struct timeval tick = {0, WORKER_TICK_MS * 1000};
    event_add(w->timer, &tick);
    event_base_dispatch(w->base);
    event_del(w->timer); /* its lag would count the time spent dialing */
    return GOOSE_OK;
}

/* The timer of the connection's loop. */
int goose__worker_timer(worker *w)
{
    w->timer = event_new(w->base, -1, EV_PERSIST, on_tick, w);
    return w->timer && event_priority_set(w->timer, GAGGLE_PRI_TIMER) == 0 ? 0 : -1;
}

int goose__worker_test_free(worker *w)
{
    worker_test *t = &w->t;
    int rc = GOOSE_OK;
    goose__engine_free(t->engine);
    free(t->sent);
    if (t->start_timer)
        event_free(t->start_timer);
    if (t->planned)
        rc = goose__run_teardown(w->a, &t->cfg, &t->plan);
    goose__welcome_free(&t->welcome);
    goose__rows_free(&t->data);
    goose__buf_free(&t->test_data);
    memset(t, 0, sizeof *t);
    return rc;
}
