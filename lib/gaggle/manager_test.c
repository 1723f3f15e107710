/* One test's Workers on the Manager: each slot's welcome, rows and
 * test_start's data as its connection drains, START for all at once, the
 * metric deltas merged as shards, and the test's verdict and report. */
#include "gaggle/manager.h"

#include <event2/buffer.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/clock.h"

#define START_LEAD_US 100000 /* beyond the slowest half round trip */

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

void goose__slot_ping(mworker *w)
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
void goose__slot_feed(manager *m, mworker *w)
{
    if (m->t.stop_told) /* no START: the Worker was told to stop */
        return;
    ship_rows(m, w);
    ship_test_data(m, w);
}

static void on_drain(gaggle_peer *p)
{
    manager *m = p->owner;
    mworker *w = goose__slot_of(m, p);
    if (w)
        goose__slot_feed(m, w);
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

/* Slot w of the test goes to the Worker on p: its welcome, its rows. */
void goose__slot_seat(manager *m, mworker *w, gaggle_peer *p, const char *name)
{
    memset(w, 0, sizeof *w);
    w->state = W_JOINED;
    w->peer = p;
    snprintf(w->name, sizeof w->name, "%s", name);
    send_welcome(m, p, (size_t)(w - m->t.workers));
    goose__slot_ping(w); /* before the rows: the round trip is the link's, not theirs */
    p->on_drain = on_drain;
    goose__slot_feed(m, w);
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
        size_t index = goose__slot_shard(m, (size_t)(w - m->t.workers), (size_t)thread);
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
void goose__test_maybe_start(manager *m)
{
    if (m->t.started || !m->t.start_done || goose__test_stopping(m) || !m->t.expected ||
        goose__slots_in(m, W_READY) != m->t.expected)
        return;
    for (size_t i = 0; i < m->t.expected; i++) {
        mworker *w = &m->t.workers[i];
        if (!w->rtt_known || (m->t.start.result.has_data && !w->test_data_taken) ||
            unsent_bytes(w))
            return;
    }
    start_all(m);
}

void goose__slot_msg(manager *m, mworker *w, const char *type,
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
            goose__send_type(w->peer, "idle");
        else
            goose__peer_finish(w->peer);
    } else if (!strcmp(type, "refuse") && w->state == W_JOINED) {
        char reason[256];
        if (goose__get_str(msg, "reason", reason, sizeof reason) < 0)
            snprintf(reason, sizeof reason, "no reason given");
        goose__log(m->a, GOOSE_LOG_WARN, "worker %zu (%s) cannot run the test: %s",
                   (size_t)(w - m->t.workers) + 1, w->name, reason);
        goose__peer_close(w->peer, "it cannot run the test");
    } else {
        goose__peer_close(w->peer, "unexpected message");
    }
    goose__test_maybe_start(m);
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
            info->requests += goose__collector_shard_requests(&m->t.col, goose__slot_shard(m, i, t));
        if (i == 0 || w->offset_ms < lo)
            lo = w->offset_ms;
        if (i == 0 || w->offset_ms > hi)
            hi = w->offset_ms;
    }
    res->start_spread_ms = hi - lo;
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

int goose__test_finish(manager *m)
{
    if (m->t.start_failed)
        return finish_failed_start(m);
    if (!m->t.started)
        return goose__fail(m->a, GOOSE_EFAILED, "stopped before START (%zu of %zu workers "
                           "had joined)", m->t.expected - goose__slots_in(m, W_FREE), m->t.expected);
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
    size_t lost = goose__slots_in(m, W_LOST);
    if (rc == GOOSE_OK && lost)
        rc = goose__fail(m->a, GOOSE_EFAILED, "%zu of %zu workers were lost", lost,
                         m->t.expected);
    return goose__thresholds_verdict(m->a, rc);
}
