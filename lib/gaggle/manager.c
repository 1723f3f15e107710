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
} conn;

typedef struct manager {
    goose_attack *a;
    struct event_base *base;
    struct evconnlistener *listener;
    struct event *timer;
    goose_lag lag;          /* of the timer: how late this loop runs */
    int lag_warned;
    conn *conns;            /* every open connection */
    mworker *workers;       /* expect_workers slots */
    size_t expected;
    goose_run_config cfg;
    goose_plan plan;
    goose_collector col;
    goose_names *names;     /* --max-request-names over every Worker's names */
    int names_warned;       /* the one warning that names fold is out (a
                               Worker folded them, or the Manager did) */
    char hash[65];
    gaggle_key key;
    SSL_CTX *tls;
    int started;
    uint64_t start_at_us;
    uint64_t last_beat_us;
    int stop_sent;
    int stop_now_sent;      /* asked again: the Workers abandon their users */
    goose_control *control;  /* --controller, or NULL */
    goose_once start;       /* test_start: runs while the Workers join ... */
    int start_running;
    int start_done;         /* ... and START waits for its end (1: none) */
    int start_failed;       /* the Workers were told to stop, then */
    int stop_told;          /* stopped before START: so were they */
    uint64_t start_failed_us;
    goose_once stop;        /* test_stop: after every Worker ended */
    int stop_running;
    uint64_t end_us;        /* when the last Worker ended; 0: not yet */
} manager;

/* test_start's and test_stop's shards follow every Worker's. */
static size_t once_shard(const manager *m, int kind)
{
    return m->expected * GAGGLE_MAX_THREADS + (size_t)kind - 1;
}

static mworker *worker_of(manager *m, const gaggle_peer *p)
{
    for (size_t i = 0; i < m->expected; i++)
        if (m->workers[i].peer == p && m->workers[i].state != W_FREE)
            return &m->workers[i];
    return NULL;
}

static size_t count_state(const manager *m, int state)
{
    size_t n = 0;
    for (size_t i = 0; i < m->expected; i++)
        n += m->workers[i].state == state;
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

static void reject(manager *m, gaggle_peer *p, const char *why)
{
    goose__log(m->a, GOOSE_LOG_WARN, "refused a worker from %s: %s", p->addr, why);
    gaggle_out o;
    goose__out_begin(&o, "reject", 1);
    goose__out_str(&o, "reason", why);
    goose__peer_send(p, &o);
    goose__out_free(&o);
    goose__peer_finish(p);
}

static size_t data_limit(const manager *m)
{
    return goose__rows_limit(&m->cfg, m->a->opt.controller != NULL);
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
    size_t index = (size_t)(w - m->workers);
    int rc = goose__rows_ship(w->peer, &m->cfg, index, m->expected, data_limit(m), &w->ship);
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
    const goose_once_result *data = &m->start.result;
    if (w->test_data_sent || !w->shipped || !m->start_done || !data->has_data ||
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
    goose__out_u64(&out, "workers", m->expected);
    goose__out_u64(&out, "users", m->cfg.users);
    goose__out_f64(&out, "hatch_rate", m->cfg.hatch_rate);
    goose__out_u64(&out, "run_time_us", o->run_time_us);
    goose__out_u64(&out, "iterations", o->iterations);
    goose__out_u64(&out, "timeout_ms", (uint64_t)o->timeout_ms);
    goose__out_bool(&out, "reset", m->cfg.reset_on_launch);
    goose__out_str(&out, "co_mitigation", goose__co_mode_name(o->co_mitigation));
    goose__out_str(&out, "host", o->host ? o->host : "");
    goose__out_u64(&out, "end_us", m->col.plan_end_us);
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
    goose__pack_shape(&out.pk, &m->cfg.shape);
    goose__out_key(&out, "arrivals");
    goose__pack_shape(&out.pk, &m->cfg.arrivals);
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
    for (size_t u = w; u < m->cfg.users; u += m->expected)
        n++;
    goose__out_key(&out, "slots");
    msgpack_pack_array(&out.pk, n);
    for (size_t u = w; u < m->cfg.users; u += m->expected)
        msgpack_pack_uint64(&out.pk, u);
    goose__out_key(&out, "scenarios");
    msgpack_pack_array(&out.pk, n);
    for (size_t u = w; u < m->cfg.users; u += m->expected)
        msgpack_pack_uint64(&out.pk, m->plan.user_scenario[u]);
    /* the data sets; their rows follow in "rows" frames */
    goose__out_key(&out, "data");
    goose__rows_announce(&out.pk, &m->cfg, w, m->expected, data_limit(m));
    goose__peer_send(p, &out);
    goose__out_free(&out);
    m->workers[w].users = n;
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
        reject(m, c->peer, why);
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

static void on_auth(manager *m, conn *c, const msgpack_object *msg)
{
    gaggle_peer *p = c->peer;
    char hash[80] = "", name[128] = "", why[256];
    const char *bad_key = key_failure(m, c, msg);
    if (bad_key) {
        goose__log(m->a, GOOSE_LOG_WARN, "worker from %s failed the key check: %s",
                   p->addr, bad_key);
        reject(m, p, "authentication failed: the gaggle keys differ");
        return;
    }
    goose__peer_set_max_frame(p, GAGGLE_FRAME_MAX); /* a proven peer */
    goose__get_str(msg, "hash", hash, sizeof hash);
    if (goose__get_str(msg, "name", name, sizeof name) < 0 || !name[0])
        snprintf(name, sizeof name, "%s", p->addr);
    if (m->started) {
        reject(m, p, "the test has already started: wait for the next one");
        return;
    }
    if (m->start_failed) {
        reject(m, p, "test_start failed: the test is over");
        return;
    }
    mworker *w = NULL;
    for (size_t i = 0; i < m->expected && !w; i++)
        if (m->workers[i].state == W_FREE)
            w = &m->workers[i];
    if (!w) {
        snprintf(why, sizeof why, "the gaggle is full (%zu workers expected)", m->expected);
        reject(m, p, why);
        return;
    }
    if (strcmp(hash, m->hash) != 0) {
        snprintf(why, sizeof why, "load test hash mismatch: manager %s, worker %s",
                 m->hash, hash[0] ? hash : "(none)");
        if (!m->a->opt.no_hash_check) {
            reject(m, p, why);
            return;
        }
        goose__log(m->a, GOOSE_LOG_WARN, "%s (accepted: --no-hash-check)", why);
    }
    memset(w, 0, sizeof *w);
    w->state = W_JOINED;
    w->peer = p;
    snprintf(w->name, sizeof w->name, "%s", name);
    size_t index = (size_t)(w - m->workers);
    send_welcome(m, p, index);
    send_ping(w); /* before the rows: the round trip is the link's, not theirs */
    p->on_drain = on_drain;
    feed_worker(m, w);
    goose__log(m->a, GOOSE_LOG_INFO, "worker %zu joined: %s from %s, %zu users (%zu of %zu)",
               index + 1, w->name, p->addr, w->users,
               m->expected - count_state(m, W_FREE), m->expected);
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
    if (w->folded[0] && !m->names_warned) {
        m->names_warned = 1;
        goose__log(m->a, GOOSE_LOG_WARN, "worker %zu (%s) has more than %zu request names "
                   "(--max-request-names): new ones are counted under \"" GOOSE_OTHER_NAME
                   "\" (its log names a few); give dynamic paths one name with "
                   "goose_request_set_name()", (size_t)(w - m->workers) + 1, w->name,
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
    goose__collector_lost(&m->col, lost, lost_hatch); /* metrics the Worker could not send */
    goose_stats delta, before;
    int ok = goose__stats_init(&delta, m->cfg.ntransactions, m->cfg.nscenarios) == 0;
    if (!ok || goose__stats_init(&before, m->cfg.ntransactions, m->cfg.nscenarios) < 0) {
        if (ok)
            goose__stats_free(&delta);
        for (uint32_t i = 0; i < shards->via.array.size; i++) { /* out of memory: lost */
            const msgpack_object *s = &shards->via.array.ptr[i];
            goose__collector_lost(&m->col, shard_requests(goose__map_get(s, "stats")),
                                  shard_requests(goose__map_get(s, "before")));
        }
        return 0;
    }
    delta.names = before.names = m->names; /* a Worker's names past the bound fold here */
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
            goose__collector_lost(&m->col, rd ? shard_requests(d) : 0, rb ? shard_requests(b) : 0);
            if (rd)
                goose__stats_reset(&delta);
            if (rb)
                goose__stats_reset(&before);
        }
        size_t index = (size_t)(w - m->workers) * GAGGLE_MAX_THREADS + (size_t)thread;
        rc = goose__collector_add(&m->col, index, reset, &before, &delta);
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
    for (size_t i = 0; i < m->expected; i++)
        if (m->workers[i].rtt_us > max_rtt)
            max_rtt = m->workers[i].rtt_us;
    uint64_t lead = max_rtt / 2 + START_LEAD_US;
    uint64_t now = goose__now_us();
    m->started = 1;
    m->start_at_us = now + lead;
    for (size_t i = 0; i < m->expected; i++) {
        mworker *w = &m->workers[i];
        gaggle_out o;
        goose__out_begin(&o, "start", 1);
        goose__out_u64(&o, "in_us", lead - w->rtt_us / 2);
        goose__peer_send(w->peer, &o);
        goose__out_free(&o);
        w->state = W_RUNNING;
    }
    m->col.start_us = m->col.measure_from_us = m->col.last_tick_us =
        m->col.last_running_us = m->start_at_us;
    goose__log(m->a, GOOSE_LOG_INFO, "all %zu workers ready: START in %llu ms",
               m->expected, (unsigned long long)(lead / 1000));
}

/* Every Worker ready, test_start over (not stopped), and all they were
 * owed written out: "start" then reaches each half a round trip later. */
static void maybe_start(manager *m)
{
    if (m->started || !m->start_done || atomic_load(&m->a->stop) ||
        count_state(m, W_READY) != m->expected)
        return;
    for (size_t i = 0; i < m->expected; i++) {
        mworker *w = &m->workers[i];
        if (!w->rtt_known || (m->start.result.has_data && !w->test_data_taken) ||
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
    } else if (!strcmp(type, "started") && m->started) {
        /* it started half a round trip before this arrived */
        uint64_t at = goose__now_us() - w->rtt_us / 2;
        w->offset_ms = ((double)at - (double)m->start_at_us) / 1000.0;
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
                   (size_t)(w - m->workers) + 1, w->name);
        goose__peer_finish(w->peer);
    } else {
        goose__peer_close(w->peer, "unexpected message");
    }
    maybe_start(m);
}

static void on_msg(gaggle_peer *p, const char *type, const msgpack_object *msg)
{
    manager *m = p->owner;
    mworker *w = worker_of(m, p);
    conn *c = w ? NULL : conn_of(m, p);
    if (w)
        on_worker_msg(m, w, type, msg);
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
    if (!w) { /* a TLS mix-up deserves a word; the noise of strangers does not */
        int tls = strstr(why, "TLS") != NULL;
        goose__log(m->a, tls ? GOOSE_LOG_WARN : GOOSE_LOG_DEBUG,
                   "connection from %s closed: %s", p->addr, why);
        return;
    }
    size_t index = (size_t)(w - m->workers) + 1;
    if (!m->started) { /* its place is free for another worker */
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
        if (c->peer->closed || worker_of(m, c->peer))
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
        for (size_t i = 0; i < m->expected; i++)
            if (m->workers[i].peer == c->peer)
                m->workers[i].peer = NULL;
        *cp = c->next;
        goose__peer_free(c->peer);
        free(c);
    }
}

static size_t active_users(const manager *m)
{
    size_t n = 0;
    for (size_t i = 0; i < m->expected; i++)
        n += m->workers[i].active;
    return n;
}

static void heartbeat(manager *m, uint64_t now)
{
    if (now - m->last_beat_us < GAGGLE_HEARTBEAT_US)
        return;
    m->last_beat_us = now;
    for (size_t i = 0; i < m->expected; i++)
        if (m->workers[i].peer && !m->workers[i].peer->closed &&
            m->workers[i].state != W_DONE && m->workers[i].rtt_known)
            send_ping(&m->workers[i]);
}

static void drive_test(manager *m, uint64_t now)
{
    goose_collector *c = &m->col;
    if (now < m->start_at_us)
        return;
    if (now >= m->start_at_us + goose__engine_start_offset(&m->cfg, m->cfg.users - 1))
        goose__collector_maintain(c, now);
    /* after the Workers' metrics of that second had time to arrive */
    if (now >= c->last_tick_us + 1000000 + SERIES_GRACE_US) {
        goose__collector_tick(c, c->last_tick_us + 1000000, active_users(m));
        if (!m->names_warned)
            m->names_warned = goose__names_warn(m->a, m->names, "the workers sent ");
    }
    goose__collector_running(c, now, active_users(m));
    if (goose__collector_stop_due(c, now)) {
        goose__log(m->a, GOOSE_LOG_INFO, "stopping: telling %zu workers",
                   count_state(m, W_RUNNING));
        for (size_t i = 0; i < m->expected; i++)
            if (m->workers[i].state == W_RUNNING && m->workers[i].peer)
                send_simple(m->workers[i].peer, "stop");
    }
    if (c->decrease_from_us && goose__stop_urgent(m->a) && !m->stop_now_sent) {
        m->stop_now_sent = 1;
        goose__log(m->a, GOOSE_LOG_WARN, "asked again to stop: the workers abandon their users");
        for (size_t i = 0; i < m->expected; i++)
            if (m->workers[i].state == W_RUNNING && m->workers[i].peer)
                send_stop_now(m->workers[i].peer);
    }
}

/* The controller's users change, for every running Worker. */
static int send_shape(void *arg, const goose_shape *shape, uint64_t end_us)
{
    manager *m = arg;
    for (size_t i = 0; i < m->expected; i++) {
        mworker *w = &m->workers[i];
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

static void poll_controller(manager *m)
{
    char waiting[96];
    uint64_t now = goose__now_us();
    if (m->started && now < m->start_at_us)
        snprintf(waiting, sizeof waiting, "it starts in %llu ms",
                 (unsigned long long)((m->start_at_us - now) / 1000 + 1));
    else
        snprintf(waiting, sizeof waiting, "%zu of %zu workers have joined",
                 m->expected - count_state(m, W_FREE), m->expected);
    int running = m->started && now >= m->start_at_us;
    goose_control_run run = {&m->col, &m->cfg, running ? NULL : waiting, active_users(m),
                             send_shape, m};
    goose__control_poll(m->control, &run);
}

/* ---- test_start and test_stop: on the Manager, never on Workers ---- */

/* test_start runs at once, its engine's threads beside this loop. */
static int begin_test_start(manager *m)
{
    if (!m->plan.once[GOOSE_ONCE_START]) {
        m->start_done = 1;
        return GOOSE_OK;
    }
    int rc = goose__once_start(&m->start, m->a, &m->cfg, &m->plan, GOOSE_ONCE_START,
                               once_shard(m, GOOSE_ONCE_START));
    m->start_running = rc == GOOSE_OK;
    return rc;
}

/* test_start failed: the Workers that joined are told the test is over
 * (as a stop before START tells them), and no other may join. */
static void tell_joined_to_stop(manager *m)
{
    for (size_t i = 0; i < m->expected; i++) {
        mworker *w = &m->workers[i];
        if ((w->state == W_JOINED || w->state == W_READY) && w->peer) {
            send_simple(w->peer, "stop");
            goose__peer_finish(w->peer);
        }
    }
}

static void end_before_start(manager *m)
{
    m->start_failed = 1;
    m->start_failed_us = goose__now_us();
    tell_joined_to_stop(m);
}

/* Polled from the tick, never waited for: the loop goes on meanwhile. */
static void poll_test_start(manager *m)
{
    if (!m->start_running || !goose__once_poll(&m->start, m->a, 0))
        return;
    m->start_running = 0;
    if (goose__once_finish(&m->start, m->a, &m->col) != GOOSE_OK) {
        end_before_start(m);
        return;
    }
    m->start_done = 1;
    if (m->start.result.has_data) { /* test_stop reads it too */
        m->cfg.test_data = m->start.result.data.data;
        m->cfg.test_data_len = m->start.result.data.len;
    }
    for (size_t i = 0; i < m->expected; i++)
        if (m->workers[i].peer)
            feed_worker(m, &m->workers[i]);
}

/* Once test_start failed: 1 when every Worker told has gone (or had a
 * second to read it). */
static int workers_gone(const manager *m, uint64_t now)
{
    if (now - m->start_failed_us > 1000000)
        return 1;
    for (size_t i = 0; i < m->expected; i++)
        if (m->workers[i].peer && !m->workers[i].peer->closed)
            return 0;
    return 1;
}

/* 1 while test_stop runs: after every Worker finished or was lost (a
 * second stop skips it). */
static int test_stop_runs(manager *m)
{
    if (!m->end_us) {
        m->end_us = goose__now_us();
        if (m->plan.once[GOOSE_ONCE_STOP] && !goose__stop_urgent(m->a)) {
            if (goose__once_start(&m->stop, m->a, &m->cfg, &m->plan, GOOSE_ONCE_STOP,
                                  once_shard(m, GOOSE_ONCE_STOP)) == GOOSE_OK)
                m->stop_running = 1;
            else
                goose__log(m->a, GOOSE_LOG_ERROR, "%s", goose_attack_error(m->a));
        }
    }
    if (m->stop_running && goose__once_poll(&m->stop, m->a, 0)) {
        m->stop_running = 0;
        goose__once_finish(&m->stop, m->a, &m->col);
    }
    return m->stop_running;
}

/* This process was stopped or starved of CPU: its peers' silence meanwhile
 * is not theirs (goose__peer_silence_us leaves it out). */
static void note_lag(manager *m, uint64_t now)
{
    goose__gaggle_note_lag(m->a, &m->lag, &m->lag_warned, now, "the manager",
                           "the workers' silence meanwhile is not held against them");
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    manager *m = arg;
    uint64_t now = goose__now_us();
    note_lag(m, now);
    sweep(m, now);
    heartbeat(m, now);
    if (!m->started) {
        poll_test_start(m);
        if (atomic_load(&m->a->stop) && !m->stop_told) { /* no START now */
            m->stop_told = 1;
            tell_joined_to_stop(m);
        }
        maybe_start(m);
        poll_controller(m);
        /* stopped before START: test_start ends first, test_stop runs */
        if (m->start_failed ? workers_gone(m, now)
                            : atomic_load(&m->a->stop) && !m->start_running &&
                                  !test_stop_runs(m))
            event_base_loopbreak(m->base);
        return;
    }
    if (!m->end_us) /* the run's time ends with its last Worker, not test_stop */
        drive_test(m, now);
    poll_controller(m); /* after: a reset is seen before a change */
    if (count_state(m, W_RUNNING) == 0 && !test_stop_runs(m))
        event_base_loopbreak(m->base);
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
               host, o->manager_bind_port, m->expected, m->hash);
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
    res->workers = calloc(m->expected, sizeof *res->workers);
    if (!res->workers)
        return;
    double lo = 0, hi = 0;
    for (size_t i = 0; i < m->expected; i++) {
        mworker *w = &m->workers[i];
        goose_worker_info *info = &res->workers[res->nworkers++];
        snprintf(info->name, sizeof info->name, "%s", w->name);
        info->users = w->users;
        info->state = w->state == W_DONE ? "done" : "lost";
        info->start_offset_ms = w->offset_ms;
        for (size_t t = 0; t < w->max_thread; t++)
            info->requests += goose__collector_shard_requests(&m->col, i * GAGGLE_MAX_THREADS + t);
        if (i == 0 || w->offset_ms < lo)
            lo = w->offset_ms;
        if (i == 0 || w->offset_ms > hi)
            hi = w->offset_ms;
    }
    res->start_spread_ms = hi - lo;
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
    free(m->workers);
    OPENSSL_cleanse(&m->key, sizeof m->key);
    SSL_CTX_free(m->tls);
    goose__once_free(&m->start);
    goose__once_free(&m->stop);
    goose__collector_free(&m->col);
    goose__names_free(m->names);
    goose__run_teardown(m->a, &m->cfg, &m->plan);
}

static int prepare(manager *m)
{
    int rc = goose__gaggle_check_options(m->a, 1);
    if (rc != GOOSE_OK)
        return rc;
    m->expected = m->a->opt.expect_workers;
    rc = goose__gaggle_load_key(m->a, &m->key);
    if (rc != GOOSE_OK)
        return rc;
    m->tls = goose__tls_context(m->a, 1, &rc);
    if (rc != GOOSE_OK)
        return rc;
    if (goose__test_hash(m->a, m->hash) < 0)
        return goose__fail(m->a, GOOSE_ESYS, "cannot compute the load-test hash");
    rc = goose__run_setup(m->a, &m->cfg, &m->plan);
    if (rc != GOOSE_OK)
        return rc;
    if (m->cfg.users < m->expected)
        return goose__fail(m->a, GOOSE_ECONFIG, "%zu users cannot be shared by %zu workers",
                           m->cfg.users, m->expected);
    char err[256];
    if (goose__rows_check(&m->cfg, err, sizeof err) < 0)
        return goose__fail(m->a, GOOSE_ECONFIG, "%s", err);
    m->workers = calloc(m->expected, sizeof *m->workers);
    m->base = goose__gaggle_base();
    m->timer = m->base ? event_new(m->base, -1, EV_PERSIST, on_tick, m) : NULL;
    m->names = goose__names_new(m->a->opt.max_request_names);
    if (!m->workers || !m->timer || !m->names ||
        event_priority_set(m->timer, GAGGLE_PRI_TIMER) < 0)
        return goose__fail(m->a, GOOSE_ENOMEM, "out of memory");
    rc = goose__collector_init(&m->col, m->a, &m->cfg);
    if (rc != GOOSE_OK)
        return rc;
    m->col.lag_us = GAGGLE_HEARTBEAT_US; /* Workers send their metrics every second */
    m->col.no_retry = 1; /* a Worker's delta cannot be asked for again */
    if (m->a->opt.controller &&
        !(m->control = goose__control_start(m->a, m->a->opt.controller, &m->cfg)))
        return GOOSE_ECONFIG; /* the message is set */
    rc = listen_on(m);
    return rc == GOOSE_OK ? begin_test_start(m) : rc;
}

/* test_start failed: its report, and its reason as the error. */
static int finish_failed_start(manager *m)
{
    char why[sizeof m->a->error];
    snprintf(why, sizeof why, "%s", m->a->error);
    m->a->results.manager = 1;
    int rc = goose__collector_finish(&m->col, goose__now_us(), 0);
    if (rc == GOOSE_OK)
        rc = goose__report_write_files(m->a);
    return rc == GOOSE_OK ? goose__fail(m->a, GOOSE_EFAILED, "%s", why) : rc;
}

static int finish(manager *m)
{
    if (m->start_failed)
        return finish_failed_start(m);
    if (!m->started)
        return goose__fail(m->a, GOOSE_EFAILED, "stopped before START (%zu of %zu workers "
                           "had joined)", m->expected - count_state(m, W_FREE), m->expected);
    uint64_t abandoned = 0;
    for (size_t i = 0; i < m->expected; i++)
        abandoned += m->workers[i].abandoned;
    goose__stop_clock_record(m->a, (size_t)abandoned);
    uint64_t folded[GOOSE_NAMES_KINDS] = {0}; /* a name two Workers folded counts twice */
    int any = 0;
    for (size_t i = 0; i < m->expected; i++)
        for (int k = 0; k < GOOSE_NAMES_KINDS; k++) {
            folded[k] += m->workers[i].folded[k];
            any |= folded[k] > 0;
        }
    if (!m->names_warned)
        m->names_warned = goose__names_warn(m->a, m->names, "the workers sent ");
    goose__names_report(m->a, m->names, folded);
    if (any)
        m->a->results.folded_exact = 0;
    int rc = goose__collector_finish(&m->col, m->end_us ? m->end_us : goose__now_us(),
                                     m->cfg.users);
    record_workers(m);
    goose__log(m->a, GOOSE_LOG_INFO, "workers started within %.1f ms of each other",
               m->a->results.start_spread_ms);
    if (rc == GOOSE_OK)
        rc = goose__report_write_files(m->a);
    rc = goose__lost_verdict(m->a, rc);
    size_t lost = count_state(m, W_LOST);
    if (rc == GOOSE_OK && lost)
        rc = goose__fail(m->a, GOOSE_EFAILED, "%zu of %zu workers were lost", lost,
                         m->expected);
    return goose__thresholds_verdict(m->a, rc);
}

int gaggle_manager_run(goose_attack *a)
{
    int rc = goose__run_begin(a, GOOSE_ROLE_MANAGER);
    if (rc != GOOSE_OK)
        return rc;
    manager m = {.a = a};
    sigset_t mask;
    goose__sigpipe_block(&mask);
    rc = prepare(&m);
    if (rc == GOOSE_OK) {
        struct timeval tick = {0, TICK_MS * 1000};
        goose__lag_start(&m.lag, TICK_MS * 1000, goose__now_us());
        event_add(m.timer, &tick);
        event_base_dispatch(m.base);
        goose__control_stop(m.control); /* no commands while reporting */
        m.control = NULL;
        rc = finish(&m);
    }
    manager_free(&m);
    goose__sigpipe_restore(&mask);
    goose__run_end(a);
    return rc;
}
