/* The Gaggle Manager: runs no users.  It listens, checks each Worker's
 * protocol version and load-test hash, hands out user slots from the one
 * weighted allocation of the whole test, starts every Worker at the same
 * moment (compensating each one's round trip), merges their metric deltas
 * as shards, and writes the report as if one machine had run the test. */
#include "gaggle/gaggle.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/listener.h>
#include <netdb.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "run/control.h"
#include "util/clock.h"
#include "util/sigpipe.h"

#define TICK_MS 50
#define START_LEAD_US 100000 /* beyond the slowest half round trip */
/* A point of the time series is taken this long after its second: Workers
 * send a little after each whole second of their run, up to 300 ms away. */
#define SERIES_GRACE_US 500000
#define PENDING_MAX 512      /* connections still in the handshake */

enum { W_FREE, W_JOINED, W_READY, W_RUNNING, W_DONE, W_LOST };

typedef struct mworker {
    int state;
    gaggle_peer *peer;
    char name[128];
    size_t users;
    size_t active;
    size_t max_thread;      /* shards seen: threads 0..max_thread-1 */
    uint64_t folded[GOOSE_NAMES_KINDS]; /* request keys, error rows and
                               transaction error rows it folded so far */
    uint64_t ping_sent_us;
    uint64_t rtt_us;
    int rtt_known;
    double offset_ms;
    uint64_t abandoned;     /* its users left at --stop-timeout */
    gaggle_shipping ship;   /* its rows of the data sets */
    int shipped;            /* all of them written */
    int test_data_sent;     /* test_start's data, after its rows ... */
    uint64_t data_ping_us;  /* ... and a ping behind it, whose pong ... */
    int test_data_taken;    /* ... says the Worker has read it */
} mworker;

/* A connection, and where it is in the handshake. */
typedef struct conn {
    gaggle_peer *peer;
    struct conn *next;
    int challenged;                       /* "challenge" sent, "auth" due */
    unsigned char nonce_w[GAGGLE_NONCE];  /* the Worker's */
    unsigned char nonce_m[GAGGLE_NONCE];  /* ours */
    int member;             /* --no-autostart: authenticated, it waits for
                               a test (or runs in one) */
    size_t slot;            /* 1 + its slot in the test under way; 0: none */
    char name[128];
} conn;

/* What lives for one test: set up by test_setup, freed by test_free, so
 * each test of a Manager that stays up starts clean and nothing grows. */
typedef struct mtest {
    int set;                /* set up (a --no-autostart Manager: from its
                               start to its report) */
    unsigned number;        /* from 1 */
    mworker *workers;       /* its Worker slots */
    size_t expected;
    size_t wanted;          /* --no-autostart: members to wait for */
    int taken;              /* --no-autostart: its members were taken */
    int cancelled;          /* --no-autostart: stopped before START */
    goose_run_config cfg;
    goose_plan plan;
    goose_collector col;
    goose_names *names;     /* --max-request-names over every Worker's names */
    int names_warned;       /* the one warning that names fold is out (a
                               Worker folded them, or the Manager did) */
    int started;
    uint64_t start_at_us;
    int stop_asked;         /* the controller's stop (staying up) */
    int stop_now_sent;      /* asked again: the Workers abandon their users */
    goose_once start;       /* test_start: runs while the Workers join ... */
    int start_running;
    int start_done;         /* ... and START waits for its end (1: none) */
    int start_failed;       /* the Workers were told to stop, then */
    int stop_told;          /* stopped before START: so were they */
    uint64_t start_failed_us;
    goose_once stop;        /* test_stop: after every Worker ended */
    int stop_running;
    uint64_t end_us;        /* when the last Worker ended; 0: not yet */
} mtest;

/* What lives as long as the Manager. */
typedef struct manager {
    goose_attack *a;
    struct event_base *base;
    struct evconnlistener *listener;
    struct event *timer;
    goose_lag lag;          /* of the timer: how late this loop runs */
    int lag_warned;
    conn *conns;            /* every open connection */
    char hash[65];
    gaggle_key key;
    SSL_CTX *tls;
    uint64_t last_beat_us;
    goose_control *control;  /* --controller, or NULL */
    int stays;              /* --no-autostart: test after test */
    goose_metrics_server *metrics; /* --metrics-listen across tests */
    unsigned tests;         /* ended (reported) so far */
    int verdict;            /* the first failing test's code */
    char verdict_why[512];  /* and its message */
    mtest t;                /* the test, when t.set */
} manager;

/* test_start's and test_stop's shards follow every Worker's; a Manager
 * that stays up learns how many Workers a test has only once test_start
 * runs: its shards come first there, and the Workers' after them. */
static size_t once_shard(const manager *m, int kind)
{
    return (m->stays ? 0 : m->t.expected * GAGGLE_MAX_THREADS) + (size_t)kind - 1;
}

/* The collector's shard of thread `thread` of the Worker of slot i. */
static size_t worker_shard(const manager *m, size_t i, size_t thread)
{
    return (i + (size_t)m->stays) * GAGGLE_MAX_THREADS + thread;
}

/* The test is ending before START, or its Workers are told to stop: the
 * Manager was asked to stop, or (staying up) the test was. */
static int stopping(const manager *m)
{
    return atomic_load(&m->a->stop) || m->t.cancelled;
}

static mworker *worker_of(manager *m, const gaggle_peer *p)
{
    for (size_t i = 0; i < m->t.expected; i++)
        if (m->t.workers[i].peer == p && m->t.workers[i].state != W_FREE)
            return &m->t.workers[i];
    return NULL;
}

static size_t count_state(const manager *m, int state)
{
    size_t n = 0;
    for (size_t i = 0; i < m->t.expected; i++)
        n += m->t.workers[i].state == state;
    return n;
}

static void send_simple(gaggle_peer *p, const char *type)
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

/* retry: a later try may succeed (a serving Worker dials again). */
static void reject(manager *m, gaggle_peer *p, const char *why, int retry)
{
    goose__log(m->a, GOOSE_LOG_WARN, "refused a worker from %s: %s", p->addr, why);
    gaggle_out o;
    goose__out_begin(&o, "reject", 2);
    goose__out_str(&o, "reason", why);
    goose__out_bool(&o, "retry", retry);
    goose__peer_send(p, &o);
    goose__out_free(&o);
    goose__peer_finish(p);
}

static size_t data_limit(const manager *m)
{
    return goose__rows_limit(&m->t.cfg, m->a->opt.controller != NULL);
}

static void send_ping_at(mworker *w, uint64_t t)
{
    gaggle_out o;
    goose__out_begin(&o, "ping", 1);
    goose__out_u64(&o, "t", t);
    goose__peer_send(w->peer, &o);
    goose__out_free(&o);
}

static void send_ping(mworker *w)
{
    w->ping_sent_us = goose__now_us();
    send_ping_at(w, w->ping_sent_us);
}

/* A Worker's rows go as its connection drains: the output holds about one
 * frame, whatever the share, and this loop stays free for heartbeats. */
static void ship_rows(manager *m, mworker *w)
{
    if (w->shipped || w->state != W_JOINED)
        return;
    size_t index = (size_t)(w - m->t.workers);
    int rc = goose__rows_ship(w->peer, &m->t.cfg, index, m->t.expected, data_limit(m), &w->ship);
    if (rc == 1)
        w->shipped = 1;
}

static size_t unsent_bytes(const mworker *w)
{
    return evbuffer_get_length(bufferevent_get_output(w->peer->bev));
}

/* test_start's data (up to 16 MiB) goes once test_start ended, after the
 * Worker's rows and as its connection drains, never beside "start": a
 * Worker's START must not wait behind it (its users would start late by
 * the time the data takes), nor the Manager hold a copy per Worker. */
static void ship_test_data(manager *m, mworker *w)
{
    const goose_once_result *data = &m->t.start.result;
    if (w->test_data_sent || !w->shipped || !m->t.start_done || !data->has_data ||
        (w->state != W_JOINED && w->state != W_READY) || unsent_bytes(w))
        return;
    gaggle_out o;
    goose__out_begin(&o, "test_data", 1);
    goose__out_bin(&o, "data", data->data.data, data->data.len);
    goose__peer_send(w->peer, &o);
    goose__out_free(&o);
    w->test_data_sent = 1;
    w->data_ping_us = goose__now_us();
    send_ping_at(w, w->data_ping_us);
}

/* What a Worker is owed before START, as its connection drains. */
static void feed_worker(manager *m, mworker *w)
{
    ship_rows(m, w);
    ship_test_data(m, w);
}

static void on_drain(gaggle_peer *p)
{
    manager *m = p->owner;
    mworker *w = worker_of(m, p);
    if (w)
        feed_worker(m, w);
}

/* Worker w of E runs the users w, w+E, w+2E, ... of the whole test, each
 * with the scenario the single allocation gave it: an index into the
 * scenarios that run, which the Worker plans alike from "select". */
static void send_welcome(manager *m, gaggle_peer *p, size_t w)
{
    const goose_options *o = &m->a->opt;
    gaggle_out out;
    goose__out_begin(&out, "welcome", 30);
    goose__out_u64(&out, "worker", w);
    goose__out_u64(&out, "workers", m->t.expected);
    goose__out_u64(&out, "users", m->t.cfg.users);
    goose__out_f64(&out, "hatch_rate", m->t.cfg.hatch_rate);
    goose__out_u64(&out, "run_time_us", o->run_time_us);
    goose__out_u64(&out, "iterations", o->iterations);
    goose__out_u64(&out, "timeout_ms", (uint64_t)o->timeout_ms);
    goose__out_bool(&out, "reset", m->t.cfg.reset_on_launch);
    goose__out_str(&out, "co_mitigation", goose__co_mode_name(o->co_mitigation));
    goose__out_str(&out, "host", o->host ? o->host : "");
    goose__out_u64(&out, "end_us", m->t.col.plan_end_us);
    goose__out_bool(&out, "controller", o->controller != NULL);
    goose__out_f64(&out, "throttle", o->throttle_rps);
    goose__out_bool(&out, "sticky_follow", o->sticky_follow);
    goose__out_bool(&out, "assets_cross_origin", o->assets_cross_origin);
    goose__out_bool(&out, "no_cache", o->no_cache);
    goose__out_u64(&out, "stop_timeout_us", o->stop_timeout_us);
    goose__out_u64(&out, "max_request_names", o->max_request_names);
    /* the targets' trust: the CA file's contents, public, so a Worker needs
       no copy; a client certificate is a secret each Worker reads itself */
    goose__out_bool(&out, "accept_invalid_certs", o->accept_invalid_certs);
    goose__out_str(&out, "http_version", goose__http_version_name(o->http_version));
    goose__out_key(&out, "ca_pem");
    msgpack_pack_str(&out.pk, o->ca_pem_len);
    msgpack_pack_str_body(&out.pk, o->ca_pem ? o->ca_pem : "", o->ca_pem_len);
    goose__out_key(&out, "shape");
    goose__pack_shape(&out.pk, &m->t.cfg.shape);
    goose__out_key(&out, "arrivals");
    goose__pack_shape(&out.pk, &m->t.cfg.arrivals);
    goose__out_str(&out, "select", o->scenarios ? o->scenarios : "");
    /* users keep their index on any Worker: with the Manager's seed and
       scheduler they draw and grow exactly as standalone */
    goose__out_u64(&out, "seed", o->seed);
    goose__out_str(&out, "scheduler", goose__scheduler_name(o->scheduler));
    goose__out_key(&out, "resolve");
    msgpack_pack_array(&out.pk, o->nresolve);
    for (size_t i = 0; i < o->nresolve; i++)
        goose__pack_str(&out.pk, o->resolve[i]);
    size_t n = 0;
    for (size_t u = w; u < m->t.cfg.users; u += m->t.expected)
        n++;
    goose__out_key(&out, "slots");
    msgpack_pack_array(&out.pk, n);
    for (size_t u = w; u < m->t.cfg.users; u += m->t.expected)
        msgpack_pack_uint64(&out.pk, u);
    goose__out_key(&out, "scenarios");
    msgpack_pack_array(&out.pk, n);
    for (size_t u = w; u < m->t.cfg.users; u += m->t.expected)
        msgpack_pack_uint64(&out.pk, m->t.plan.user_scenario[u]);
    /* the data sets; their rows follow in "rows" frames */
    goose__out_key(&out, "data");
    goose__rows_announce(&out.pk, &m->t.cfg, w, m->t.expected, data_limit(m));
    goose__peer_send(p, &out);
    goose__out_free(&out);
    m->t.workers[w].users = n;
}

static conn *conn_of(manager *m, const gaggle_peer *p)
{
    for (conn *c = m->conns; c; c = c->next)
        if (c->peer == p)
            return c;
    return NULL;
}

/* hello: a version and the Worker's nonce.  Our answer proves the key
 * (when we have one) and says nothing about the test. */
static void on_hello(manager *m, conn *c, const msgpack_object *msg)
{
    uint64_t version = 0;
    char why[128];
    goose__get_u64(msg, "version", &version);
    if (version != GAGGLE_PROTOCOL_VERSION) {
        snprintf(why, sizeof why, "protocol version %llu, the manager speaks %d",
                 (unsigned long long)version, GAGGLE_PROTOCOL_VERSION);
        reject(m, c->peer, why, 1);
        return;
    }
    if (goose__get_nonce(msg, "nonce", c->nonce_w) < 0 || goose__gaggle_nonce(c->nonce_m) < 0) {
        goose__peer_close(c->peer, "hello without a nonce");
        return;
    }
    gaggle_out o;
    goose__out_begin(&o, "challenge", m->key.set ? 3 : 2);
    goose__out_bin(&o, "nonce", c->nonce_m, GAGGLE_NONCE);
    goose__out_bool(&o, "key", m->key.set);
    if (m->key.set) {
        unsigned char proof[GAGGLE_PROOF];
        goose__gaggle_proof(&m->key, "manager", c->nonce_w, c->nonce_m, proof);
        goose__out_bin(&o, "proof", proof, sizeof proof);
    }
    goose__peer_send(c->peer, &o);
    goose__out_free(&o);
    c->challenged = 1;
}

/* Which check of the key failed, for the Manager's log. */
static const char *key_failure(const manager *m, const conn *c, const msgpack_object *msg)
{
    const msgpack_object *proof = goose__map_get(msg, "proof");
    if (!m->key.set)
        return proof ? "the worker has a gaggle key but this manager has none" : NULL;
    if (!proof)
        return "the worker has no gaggle key";
    if (!goose__gaggle_proof_ok(&m->key, "worker", c->nonce_m, c->nonce_w, proof))
        return "the worker's key proof is wrong (another --gaggle-key?)";
    return NULL;
}

/* A Worker that would not take this Manager says why before it leaves. */
static void on_refuse(manager *m, conn *c, const msgpack_object *msg)
{
    char reason[256];
    if (goose__get_str(msg, "reason", reason, sizeof reason) < 0)
        snprintf(reason, sizeof reason, "no reason given");
    goose__log(m->a, GOOSE_LOG_WARN, "worker from %s refused this manager: %s",
               c->peer->addr, reason);
    goose__peer_close(c->peer, "refused by the worker");
}

/* 1 when the Worker runs this load test (or --no-hash-check lets it). */
static int same_test(manager *m, gaggle_peer *p, const char *hash)
{
    char why[256];
    if (strcmp(hash, m->hash) == 0)
        return 1;
    snprintf(why, sizeof why, "load test hash mismatch: manager %s, worker %s", m->hash,
             hash[0] ? hash : "(none)");
    if (!m->a->opt.no_hash_check) {
        reject(m, p, why, 1);
        return 0;
    }
    goose__log(m->a, GOOSE_LOG_WARN, "%s (accepted: --no-hash-check)", why);
    return 1;
}

/* Slot w of the test goes to the Worker on p: its welcome, its rows. */
static void seat(manager *m, mworker *w, gaggle_peer *p, const char *name)
{
    memset(w, 0, sizeof *w);
    w->state = W_JOINED;
    w->peer = p;
    snprintf(w->name, sizeof w->name, "%s", name);
    send_welcome(m, p, (size_t)(w - m->t.workers));
    send_ping(w); /* before the rows: the round trip is the link's, not theirs */
    p->on_drain = on_drain;
    feed_worker(m, w);
}

static void take_members(manager *m);

/* --no-autostart: an authenticated Worker is a member for as long as its
 * connection lasts; it waits for a test ("idle") unless one takes it now. */
static void join_member(manager *m, conn *c, const char *name)
{
    c->member = 1;
    snprintf(c->name, sizeof c->name, "%s", name);
    goose__log(m->a, GOOSE_LOG_INFO, "worker %s joined from %s", c->name, c->peer->addr);
    take_members(m);
    if (!c->slot)
        send_simple(c->peer, "idle");
}

static void on_auth(manager *m, conn *c, const msgpack_object *msg)
{
    gaggle_peer *p = c->peer;
    char hash[80] = "", name[128] = "", why[256];
    const char *bad_key = key_failure(m, c, msg);
    if (bad_key) {
        goose__log(m->a, GOOSE_LOG_WARN, "worker from %s failed the key check: %s",
                   p->addr, bad_key);
        reject(m, p, "authentication failed: the gaggle keys differ", 0);
        return;
    }
    goose__peer_set_max_frame(p, GAGGLE_FRAME_MAX); /* a proven peer */
    goose__get_str(msg, "hash", hash, sizeof hash);
    if (goose__get_str(msg, "name", name, sizeof name) < 0 || !name[0])
        snprintf(name, sizeof name, "%s", p->addr);
    if (m->stays) {
        if (same_test(m, p, hash))
            join_member(m, c, name);
        return;
    }
    if (m->t.started) {
        reject(m, p, "the test has already started: wait for the next one", 1);
        return;
    }
    if (m->t.start_failed) {
        reject(m, p, "test_start failed: the test is over", 1);
        return;
    }
    mworker *w = NULL;
    for (size_t i = 0; i < m->t.expected && !w; i++)
        if (m->t.workers[i].state == W_FREE)
            w = &m->t.workers[i];
    if (!w) {
        snprintf(why, sizeof why, "the gaggle is full (%zu workers expected)", m->t.expected);
        reject(m, p, why, 1);
        return;
    }
    if (!same_test(m, p, hash))
        return;
    seat(m, w, p, name);
    goose__log(m->a, GOOSE_LOG_INFO, "worker %zu joined: %s from %s, %zu users (%zu of %zu)",
               (size_t)(w - m->t.workers) + 1, w->name, p->addr, w->users,
               m->t.expected - count_state(m, W_FREE), m->t.expected);
}

/* A member with no part in the test under way (or none is), waiting. */
static int waiting_member(const conn *c)
{
    const gaggle_peer *p = c->peer;
    return c->member && !c->slot && !p->closed && !p->flushing && !p->draining;
}

static size_t count_waiting(const manager *m)
{
    size_t n = 0;
    for (const conn *c = m->conns; c; c = c->next)
        n += waiting_member(c);
    return n;
}

static size_t count_members(const manager *m)
{
    size_t n = 0;
    for (const conn *c = m->conns; c; c = c->next)
        n += c->member && !c->peer->closed;
    return n;
}

/* --no-autostart: once --expect-workers members wait, the test takes every
 * one waiting then (one per user at most; the others wait for the next
 * test); a slot whose Worker left before START goes to the next member. */
static void take_members(manager *m)
{
    mtest *t = &m->t;
    if (!m->stays || !t->set || t->started || t->start_failed || stopping(m))
        return;
    if (!t->taken) {
        size_t waiting = count_waiting(m);
        if (waiting < t->wanted)
            return;
        size_t n = waiting < t->cfg.users ? waiting : t->cfg.users;
        if (!(t->workers = calloc(n, sizeof *t->workers))) {
            goose__log(m->a, GOOSE_LOG_ERROR, "test %u: out of memory: cancelled", t->number);
            t->cancelled = 1;
            return;
        }
        t->expected = n;
        t->taken = 1;
        goose__log(m->a, GOOSE_LOG_INFO, "test %u takes %zu workers%s", t->number, n,
                   n < waiting ? " (one per user: the others wait for the next test)" : "");
    }
    conn *c = m->conns;
    for (size_t i = 0; i < t->expected; i++) {
        mworker *w = &t->workers[i];
        if (w->state != W_FREE)
            continue;
        while (c && !waiting_member(c))
            c = c->next;
        if (!c)
            return;
        c->slot = i + 1;
        seat(m, w, c->peer, c->name);
        goose__log(m->a, GOOSE_LOG_INFO, "test %u: worker %zu is %s from %s, %zu users",
                   t->number, i + 1, w->name, c->peer->addr, w->users);
    }
}

/* "folded": [request keys, error rows, transaction error rows] a Worker
 * folded so far (optional: a Worker that does not say folded none; the
 * third is newer than the first two). */
static void read_folded(manager *m, mworker *w, const msgpack_object *msg)
{
    const msgpack_object *f = goose__map_get(msg, "folded");
    if (!f || f->type != MSGPACK_OBJECT_ARRAY || f->via.array.size < 2 ||
        f->via.array.size > GOOSE_NAMES_KINDS)
        return;
    for (uint32_t k = 0; k < f->via.array.size; k++) {
        const msgpack_object *v = &f->via.array.ptr[k];
        if (v->type == MSGPACK_OBJECT_POSITIVE_INTEGER && v->via.u64 > w->folded[k])
            w->folded[k] = v->via.u64;
    }
    if (w->folded[0] && !m->t.names_warned) {
        m->t.names_warned = 1;
        goose__log(m->a, GOOSE_LOG_WARN, "worker %zu (%s) has more than %zu request names "
                   "(--max-request-names): new ones are counted under \"" GOOSE_OTHER_NAME
                   "\" (its log names a few); give dynamic paths one name with "
                   "goose_request_set_name()", (size_t)(w - m->t.workers) + 1, w->name,
                   m->a->opt.max_request_names);
    }
}

/* The requests a shard's stats map says it holds, lost ones included. */
static uint64_t shard_requests(const msgpack_object *stats)
{
    uint64_t count = 0, lost = 0;
    if (goose__get_u64(stats, "count", &count) < 0)
        count = 0;
    if (goose__get_u64(stats, "lost", &lost) < 0)
        lost = 0;
    return count + lost;
}

static int on_metrics(manager *m, mworker *w, const msgpack_object *msg)
{
    const msgpack_object *shards = goose__map_get(msg, "shards");
    uint64_t active = 0;
    if (!shards || shards->type != MSGPACK_OBJECT_ARRAY)
        return -1;
    if (goose__get_u64(msg, "active", &active) == 0 && active <= GAGGLE_LEVEL_MAX) {
        w->active = (size_t)active;
        if (w->active > w->users) /* the controller added users */
            w->users = w->active;
    }
    read_folded(m, w, msg);
    uint64_t lost = 0, lost_hatch = 0;
    if ((goose__map_get(msg, "lost") && goose__get_u64(msg, "lost", &lost) < 0) ||
        (goose__map_get(msg, "lost_hatch") && goose__get_u64(msg, "lost_hatch", &lost_hatch) < 0))
        return -1;
    goose__collector_lost(&m->t.col, lost, lost_hatch); /* metrics the Worker could not send */
    goose_stats delta, before;
    int ok = goose__stats_init(&delta, m->t.cfg.ntransactions, m->t.cfg.nscenarios) == 0;
    if (!ok || goose__stats_init(&before, m->t.cfg.ntransactions, m->t.cfg.nscenarios) < 0) {
        if (ok)
            goose__stats_free(&delta);
        for (uint32_t i = 0; i < shards->via.array.size; i++) { /* out of memory: lost */
            const msgpack_object *s = &shards->via.array.ptr[i];
            goose__collector_lost(&m->t.col, shard_requests(goose__map_get(s, "stats")),
                                  shard_requests(goose__map_get(s, "before")));
        }
        return 0;
    }
    delta.names = before.names = m->t.names; /* a Worker's names past the bound fold here */
    int rc = 0;
    for (uint32_t i = 0; i < shards->via.array.size && rc == 0; i++) {
        const msgpack_object *s = &shards->via.array.ptr[i];
        uint64_t thread;
        int reset = 0;
        const msgpack_object *b = goose__map_get(s, "before");
        const msgpack_object *d = goose__map_get(s, "stats");
        goose__stats_reset(&delta);
        goose__stats_reset(&before);
        int rd = -1, rb = 0;
        if (goose__get_u64(s, "thread", &thread) < 0 || thread >= GAGGLE_MAX_THREADS ||
            goose__get_bool(s, "reset", &reset) < 0 ||
            (rd = goose__unpack_stats(d, &delta)) == -1 ||
            (b && (rb = goose__unpack_stats(b, &before)) == -1)) {
            rc = -1;
            break;
        }
        if (rd == GOOSE_UNPACK_NOMEM || rb == GOOSE_UNPACK_NOMEM) {
            /* out of memory here: what could not be taken is lost, counted */
            goose__collector_lost(&m->t.col, rd ? shard_requests(d) : 0, rb ? shard_requests(b) : 0);
            if (rd)
                goose__stats_reset(&delta);
            if (rb)
                goose__stats_reset(&before);
        }
        size_t index = worker_shard(m, (size_t)(w - m->t.workers), (size_t)thread);
        rc = goose__collector_add(&m->t.col, index, reset, &before, &delta);
        if (thread + 1 > w->max_thread)
            w->max_thread = (size_t)thread + 1;
    }
    goose__stats_free(&delta);
    goose__stats_free(&before);
    return rc;
}

static void start_all(manager *m)
{
    uint64_t max_rtt = 0;
    for (size_t i = 0; i < m->t.expected; i++)
        if (m->t.workers[i].rtt_us > max_rtt)
            max_rtt = m->t.workers[i].rtt_us;
    uint64_t lead = max_rtt / 2 + START_LEAD_US;
    uint64_t now = goose__now_us();
    m->t.started = 1;
    m->t.start_at_us = now + lead;
    for (size_t i = 0; i < m->t.expected; i++) {
        mworker *w = &m->t.workers[i];
        gaggle_out o;
        goose__out_begin(&o, "start", 1);
        goose__out_u64(&o, "in_us", lead - w->rtt_us / 2);
        goose__peer_send(w->peer, &o);
        goose__out_free(&o);
        w->state = W_RUNNING;
    }
    m->t.col.start_us = m->t.col.measure_from_us = m->t.col.last_tick_us =
        m->t.col.last_running_us = m->t.start_at_us;
    goose__log(m->a, GOOSE_LOG_INFO, "all %zu workers ready: START in %llu ms",
               m->t.expected, (unsigned long long)(lead / 1000));
}

/* Every Worker ready, test_start over (not stopped), and all they were
 * owed written out: "start" then reaches each half a round trip later. */
static void maybe_start(manager *m)
{
    if (m->t.started || !m->t.start_done || stopping(m) || !m->t.expected ||
        count_state(m, W_READY) != m->t.expected)
        return;
    for (size_t i = 0; i < m->t.expected; i++) {
        mworker *w = &m->t.workers[i];
        if (!w->rtt_known || (m->t.start.result.has_data && !w->test_data_taken) ||
            unsent_bytes(w))
            return;
    }
    start_all(m);
}

static void on_worker_msg(manager *m, mworker *w, const char *type,
                          const msgpack_object *msg)
{
    uint64_t t;
    if (!strcmp(type, "ready") && w->state == W_JOINED) {
        if (!w->shipped) {
            goose__peer_close(w->peer, "ready before its data rows were sent");
            return;
        }
        w->state = W_READY;
    } else if (!strcmp(type, "pong") && goose__get_u64(msg, "t", &t) == 0) {
        uint64_t now = goose__now_us();
        if (t == w->ping_sent_us && !w->rtt_known) {
            w->rtt_us = now - t;
            w->rtt_known = 1;
        }
        if (w->test_data_sent && t == w->data_ping_us)
            w->test_data_taken = 1;
    } else if (!strcmp(type, "ping") && goose__get_u64(msg, "t", &t) == 0) {
        gaggle_out o;
        goose__out_begin(&o, "pong", 1);
        goose__out_u64(&o, "t", t);
        goose__peer_send(w->peer, &o);
        goose__out_free(&o);
    } else if (!strcmp(type, "started") && m->t.started) {
        /* it started half a round trip before this arrived */
        uint64_t at = goose__now_us() - w->rtt_us / 2;
        w->offset_ms = ((double)at - (double)m->t.start_at_us) / 1000.0;
    } else if (!strcmp(type, "metrics") && w->state == W_RUNNING) {
        if (on_metrics(m, w, msg) < 0)
            goose__peer_close(w->peer, "malformed metrics");
    } else if (!strcmp(type, "done") && w->state == W_RUNNING) {
        if (on_metrics(m, w, msg) < 0)
            { goose__peer_close(w->peer, "malformed final metrics"); return; }
        w->state = W_DONE;
        w->active = 0;
        if (goose__get_u64(msg, "abandoned", &w->abandoned) < 0 || w->abandoned > w->users)
            w->abandoned = 0;
        goose__log(m->a, GOOSE_LOG_INFO, "worker %zu (%s) is done",
                   (size_t)(w - m->t.workers) + 1, w->name);
        if (m->stays) /* it waits for the next test on this connection */
            send_simple(w->peer, "idle");
        else
            goose__peer_finish(w->peer);
    } else {
        goose__peer_close(w->peer, "unexpected message");
    }
    maybe_start(m);
}

static void send_pong(gaggle_peer *p, uint64_t t)
{
    gaggle_out o;
    goose__out_begin(&o, "pong", 1);
    goose__out_u64(&o, "t", t);
    goose__peer_send(p, &o);
    goose__out_free(&o);
}

/* Between tests a member and its Manager only trade heartbeats. */
static void on_member_msg(conn *c, const char *type, const msgpack_object *msg)
{
    uint64_t t;
    if (!strcmp(type, "ping") && goose__get_u64(msg, "t", &t) == 0)
        send_pong(c->peer, t);
    else if (strcmp(type, "pong") != 0)
        goose__peer_close(c->peer, "unexpected message between tests");
}

static void on_msg(gaggle_peer *p, const char *type, const msgpack_object *msg)
{
    manager *m = p->owner;
    mworker *w = worker_of(m, p);
    conn *c = w ? NULL : conn_of(m, p);
    if (w)
        on_worker_msg(m, w, type, msg);
    else if (c && c->member)
        on_member_msg(c, type, msg);
    else if (c && !c->challenged && !strcmp(type, "hello"))
        on_hello(m, c, msg);
    else if (c && c->challenged && !strcmp(type, "auth"))
        on_auth(m, c, msg);
    else if (c && c->challenged && !strcmp(type, "refuse"))
        on_refuse(m, c, msg);
    else
        goose__peer_close(p, "not the handshake (hello, then auth)");
}

static void on_close(gaggle_peer *p, const char *why)
{
    manager *m = p->owner;
    mworker *w = worker_of(m, p);
    conn *c = w ? NULL : conn_of(m, p);
    if (c && c->member) { /* between tests: simply gone */
        goose__log(m->a, GOOSE_LOG_INFO, "worker %s (from %s) left: %s", c->name, p->addr,
                   why);
        return;
    }
    if (!w) { /* a TLS mix-up deserves a word; the noise of strangers does not */
        int tls = strstr(why, "TLS") != NULL;
        goose__log(m->a, tls ? GOOSE_LOG_WARN : GOOSE_LOG_DEBUG,
                   "connection from %s closed: %s", p->addr, why);
        return;
    }
    size_t index = (size_t)(w - m->t.workers) + 1;
    if (!m->t.started) { /* its place is free for another worker */
        goose__log(m->a, GOOSE_LOG_WARN, "worker %zu (%s) left before the start: %s",
                   index, w->name, why);
        w->state = W_FREE;
        return;
    }
    if (w->state != W_DONE) {
        w->state = W_LOST;
        w->active = 0;
        goose__log(m->a, GOOSE_LOG_ERROR, "worker %zu (%s) lost: %s; the others go on",
                   index, w->name, why);
    }
}

/* Too many connections still in the handshake: the oldest goes, so a flood
 * cannot keep a real Worker out (it finishes its handshake in one round
 * trip). */
static void limit_pending(manager *m)
{
    size_t pending = 0;
    conn *oldest = NULL;
    for (conn *c = m->conns; c; c = c->next) {
        if (c->peer->closed || c->member || worker_of(m, c->peer))
            continue;
        pending++;
        oldest = c; /* the list is newest first */
    }
    if (pending >= PENDING_MAX && oldest)
        goose__peer_close(oldest->peer, "too many connections in the handshake");
}

static void on_accept(struct evconnlistener *l, evutil_socket_t fd,
                      struct sockaddr *sa, int len, void *arg)
{
    (void)l, (void)sa, (void)len;
    manager *m = arg;
    limit_pending(m);
    conn *c = calloc(1, sizeof *c);
    gaggle_peer *p = c ? goose__peer_new(m->base, fd, m->tls, on_msg, on_close, m) : NULL;
    if (!p) {
        free(c);
        evutil_closesocket(fd);
        return;
    }
    goose__peer_watch(p, &m->lag);
    c->peer = p;
    c->next = m->conns;
    m->conns = c;
}

/* Closed connections are freed here, outside their own callbacks. */
static void sweep(manager *m, uint64_t now)
{
    uint64_t timeout = m->a->opt.gaggle_timeout_us;
    for (conn **cp = &m->conns; *cp;) {
        conn *c = *cp;
        mworker *w = worker_of(m, c->peer);
        if (!c->peer->closed && goose__peer_silence_us(c->peer, now) > timeout)
            goose__peer_close(c->peer, w ? "no heartbeat within --gaggle-timeout"
                                         : "said nothing within --gaggle-timeout");
        if (!c->peer->closed) {
            cp = &c->next;
            continue;
        }
        for (size_t i = 0; i < m->t.expected; i++)
            if (m->t.workers[i].peer == c->peer)
                m->t.workers[i].peer = NULL;
        *cp = c->next;
        goose__peer_free(c->peer);
        free(c);
    }
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
            send_ping(&m->t.workers[i]);
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
                   count_state(m, W_RUNNING));
        for (size_t i = 0; i < m->t.expected; i++)
            if (m->t.workers[i].state == W_RUNNING && m->t.workers[i].peer)
                send_simple(m->t.workers[i].peer, "stop");
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
    goose_control_stay stay = {m->a, state_name(m), m->t.number, count_members(m), m->tests,
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
        snprintf(waiting, sizeof waiting, "%zu of %zu workers wait for it", count_waiting(m),
                 m->t.wanted);
    else
        snprintf(waiting, sizeof waiting, "%zu of %zu workers have joined",
                 m->t.expected - count_state(m, W_FREE), m->t.expected);
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

/* test_start failed: the Workers that joined are told the test is over
 * (as a stop before START tells them), and no other may join. */
static void tell_joined_to_stop(manager *m)
{
    for (size_t i = 0; i < m->t.expected; i++) {
        mworker *w = &m->t.workers[i];
        if ((w->state == W_JOINED || w->state == W_READY) && w->peer) {
            send_simple(w->peer, "stop");
            goose__peer_finish(w->peer);
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
            feed_worker(m, &m->t.workers[i]);
}

/* Once test_start failed: 1 when every Worker told has gone (or had a
 * second to read it). */
static int workers_gone(const manager *m, uint64_t now)
{
    if (now - m->t.start_failed_us > 1000000)
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
    sweep(m, now);
    heartbeat(m, now);
    if (!m->t.set) { /* a Manager that stays up, between tests */
        poll_controller(m);
        if (atomic_load(&m->a->stop))
            event_base_loopbreak(m->base);
        return;
    }
    if (!m->t.started) {
        poll_test_start(m);
        take_members(m);
        if (stopping(m) && !m->t.stop_told) { /* no START now */
            m->t.stop_told = 1;
            tell_joined_to_stop(m);
        }
        maybe_start(m);
        poll_controller(m);
        /* stopped before START: test_start ends first, test_stop runs */
        if (m->t.start_failed ? workers_gone(m, now)
                            : stopping(m) && !m->t.start_running &&
                                  !test_stop_runs(m))
            test_over(m);
        return;
    }
    if (!m->t.end_us) /* the run's time ends with its last Worker, not test_stop */
        drive_test(m, now);
    poll_controller(m); /* after: a reset is seen before a change */
    if (count_state(m, W_RUNNING) == 0 && !test_stop_runs(m))
        test_over(m);
}

static int is_loopback(const char *host)
{
    return !strcmp(host, "127.0.0.1") || !strcmp(host, "::1") || !strcmp(host, "localhost") ||
           !strncmp(host, "127.", 4);
}

static int listen_on(manager *m)
{
    const goose_options *o = &m->a->opt;
    const char *host = o->manager_bind_host ? o->manager_bind_host : "0.0.0.0";
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE};
    struct addrinfo *res = NULL;
    char port[8];
    snprintf(port, sizeof port, "%u", o->manager_bind_port);
    int rc = getaddrinfo(host, port, &hints, &res);
    if (rc != 0)
        return goose__fail(m->a, GOOSE_ECONFIG, "--manager-bind-host %s: %s", host,
                           gai_strerror(rc));
    m->listener = evconnlistener_new_bind(m->base, on_accept, m,
                                          LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE |
                                              LEV_OPT_CLOSE_ON_EXEC,
                                          128, res->ai_addr, (int)res->ai_addrlen);
    freeaddrinfo(res);
    if (!m->listener)
        return goose__fail(m->a, GOOSE_ESYS, "cannot listen on %s:%u: %s", host,
                           o->manager_bind_port, strerror(errno));
    goose__log(m->a, GOOSE_LOG_INFO, "manager listening on %s:%u for %zu workers (hash %.12s)",
               host, o->manager_bind_port, o->expect_workers, m->hash);
    if (m->tls)
        goose__log(m->a, GOOSE_LOG_INFO, "TLS on: Workers must verify this Manager%s",
                   m->a->opt.tls_ca ? " and present certificates of --tls-ca (mTLS)" : "");
    if (!m->key.set && !is_loopback(host))
        goose__log(m->a, GOOSE_LOG_WARN,
                   "WARNING: this Manager listens on %s without a gaggle key: anyone who "
                   "reaches port %u can join the test and read its configuration. Give "
                   "every side --gaggle-key-file (and --tls-cert/--tls-key), or bind "
                   "127.0.0.1", host, o->manager_bind_port);
    return GOOSE_OK;
}

static void record_workers(manager *m)
{
    goose_results *res = &m->a->results;
    res->manager = 1;
    res->gaggle_authenticated = m->key.set;
    res->gaggle_tls = m->tls != NULL;
    res->workers = calloc(m->t.expected, sizeof *res->workers);
    if (!res->workers)
        return;
    double lo = 0, hi = 0;
    for (size_t i = 0; i < m->t.expected; i++) {
        mworker *w = &m->t.workers[i];
        goose_worker_info *info = &res->workers[res->nworkers++];
        snprintf(info->name, sizeof info->name, "%s", w->name);
        info->users = w->users;
        info->state = w->state == W_DONE ? "done" : "lost";
        info->start_offset_ms = w->offset_ms;
        for (size_t t = 0; t < w->max_thread; t++)
            info->requests += goose__collector_shard_requests(&m->t.col, worker_shard(m, i, t));
        if (i == 0 || w->offset_ms < lo)
            lo = w->offset_ms;
        if (i == 0 || w->offset_ms > hi)
            hi = w->offset_ms;
    }
    res->start_spread_ms = hi - lo;
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
    rc = listen_on(m);
    return rc == GOOSE_OK ? begin_test_start(m) : rc;
}

/* A report path without {n} or {time} is the same file for every test. */
static void warn_report_paths(manager *m)
{
    for (size_t i = 0; i < m->a->opt.nreport_files; i++) {
        const char *path = m->a->opt.report_files[i];
        if (!strstr(path, "{n}") && !strstr(path, "{time}")) {
            goose__log(m->a, GOOSE_LOG_WARN, "--report-file %s has no {n} or {time}: each "
                       "test overwrites it", path);
            return;
        }
    }
}

/* A Manager that stays up: no test until the controller's start. */
static int prepare_staying(manager *m)
{
    int rc = prepare_manager(m);
    if (rc == GOOSE_OK)
        rc = make_loop(m);
    if (rc != GOOSE_OK)
        return rc;
    warn_report_paths(m);
    const char *listen = m->a->opt.metrics_listen;
    if (listen && !(m->metrics = goose__metrics_start(m->a, listen)))
        return GOOSE_ECONFIG; /* the message is set */
    if (!(m->control = goose__control_start(m->a, m->a->opt.controller, NULL)))
        return GOOSE_ECONFIG;
    rc = listen_on(m);
    if (rc == GOOSE_OK)
        goose__log(m->a, GOOSE_LOG_INFO, "no test runs until the controller's start "
                   "(--no-autostart)");
    return rc;
}

/* test_start failed: its report, and its reason as the error. */
static int finish_failed_start(manager *m)
{
    char why[sizeof m->a->error];
    snprintf(why, sizeof why, "%s", m->a->error);
    m->a->results.manager = 1;
    int rc = goose__collector_finish(&m->t.col, goose__now_us(), 0);
    if (rc == GOOSE_OK)
        rc = goose__report_write_files(m->a);
    return rc == GOOSE_OK ? goose__fail(m->a, GOOSE_EFAILED, "%s", why) : rc;
}

static int finish(manager *m)
{
    if (m->t.start_failed)
        return finish_failed_start(m);
    if (!m->t.started)
        return goose__fail(m->a, GOOSE_EFAILED, "stopped before START (%zu of %zu workers "
                           "had joined)", m->t.expected - count_state(m, W_FREE), m->t.expected);
    uint64_t abandoned = 0;
    for (size_t i = 0; i < m->t.expected; i++)
        abandoned += m->t.workers[i].abandoned;
    goose__stop_clock_record(m->a, (size_t)abandoned);
    uint64_t folded[GOOSE_NAMES_KINDS] = {0}; /* a name two Workers folded counts twice */
    int any = 0;
    for (size_t i = 0; i < m->t.expected; i++)
        for (int k = 0; k < GOOSE_NAMES_KINDS; k++) {
            folded[k] += m->t.workers[i].folded[k];
            any |= folded[k] > 0;
        }
    if (!m->t.names_warned)
        m->t.names_warned = goose__names_warn(m->a, m->t.names, "the workers sent ");
    goose__names_report(m->a, m->t.names, folded);
    if (any)
        m->a->results.folded_exact = 0;
    int rc = goose__collector_finish(&m->t.col, m->t.end_us ? m->t.end_us : goose__now_us(),
                                     m->t.cfg.users);
    record_workers(m);
    goose__log(m->a, GOOSE_LOG_INFO, "workers started within %.1f ms of each other",
               m->a->results.start_spread_ms);
    if (rc == GOOSE_OK)
        rc = goose__report_write_files(m->a);
    rc = goose__lost_verdict(m->a, rc);
    size_t lost = count_state(m, W_LOST);
    if (rc == GOOSE_OK && lost)
        rc = goose__fail(m->a, GOOSE_EFAILED, "%zu of %zu workers were lost", lost,
                         m->t.expected);
    return goose__thresholds_verdict(m->a, rc);
}

/* ---- a Manager that stays up: test after test ---- */

/* A test ended: its verdict and report (as the one-shot Manager's), the
 * host program told, then everything of it freed; the members wait. */
static void end_test(manager *m)
{
    mtest *t = &m->t;
    if (!t->started && !t->start_failed) {
        goose__log(m->a, GOOSE_LOG_INFO, "test %u was stopped before START: no report",
                   t->number);
    } else {
        int rc = finish(m);
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
                   count_members(m));
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
    take_members(m);
    if (m->t.taken)
        snprintf(answer, len, "test %u starts on %zu workers", m->t.number, m->t.expected);
    else
        snprintf(answer, len, "test %u: waiting for %zu workers (%zu have joined)",
                 m->t.number, m->t.wanted, count_waiting(m));
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
        rc = m.stays ? staying_verdict(&m) : finish(&m);
    }
    manager_free(&m);
    goose__sigpipe_restore(&mask);
    goose__run_end(a);
    return rc;
}
