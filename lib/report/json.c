/* The JSON report of the last run (keys in DESIGN.md, "The JSON report"),
 * and writing it to the --report-file paths. */
#include "report/report.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "metrics/co.h"
#include "metrics/histogram.h"
#include "metrics/stats.h"

/* Each builder returns NULL when out of memory.  json_object_set_new and
 * json_array_append_new take their value even on failure and fail on a
 * NULL value, so errors are collected with |= and checked once. */

static json_t *jint(uint64_t v)
{
    return json_integer(v > INT64_MAX ? INT64_MAX : (json_int_t)v);
}

/* Rounded to the µs / ms; NaN and infinities are not JSON. */
static json_t *jreal(double v, double scale)
{
    if (!isfinite(v))
        v = 0;
    return json_real(round(v * scale) / scale);
}

static json_t *jstr(const char *s)
{
    return json_string(s ? s : "");
}

static json_t *checked(json_t *v, int rc)
{
    if (rc) {
        json_decref(v);
        return NULL;
    }
    return v;
}

static json_t *times_json(const goose_hist *h)
{
    json_t *o = json_object();
    int rc = json_object_set_new(o, "min", jint(h->count ? h->min : 0));
    rc |= json_object_set_new(o, "mean", jreal(goose__hist_mean(h), 1000));
    rc |= json_object_set_new(o, "max", jint(h->max));
    rc |= json_object_set_new(o, "p50", jint(goose__hist_percentile(h, 0.5)));
    rc |= json_object_set_new(o, "p90", jint(goose__hist_percentile(h, 0.9)));
    rc |= json_object_set_new(o, "p95", jint(goose__hist_percentile(h, 0.95)));
    rc |= json_object_set_new(o, "p99", jint(goose__hist_percentile(h, 0.99)));
    rc |= json_object_set_new(o, "p999",
                              jint(goose__hist_percentile(h, 0.999)));
    return checked(o, rc);
}

static double rate(uint64_t n, double seconds)
{
    return seconds > 0 ? (double)n / seconds : 0.0;
}

/* Adds status counts into a JSON object keyed by the code as text. */
static int add_statuses(json_t *o, const goose_status_count *v, size_t n)
{
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        char key[16];
        snprintf(key, sizeof key, "%d", v[i].status);
        json_t *old = json_object_get(o, key);
        uint64_t prev = old ? (uint64_t)json_integer_value(old) : 0;
        rc |= json_object_set_new(o, key, jint(prev + v[i].count));
    }
    return rc;
}

/* With --co-mitigation: the synthetic samples and the times adjusted with
 * them, beside the measured ones (scratch: a histogram's worth, heap). */
static int adjusted_json(json_t *o, const goose_hist *adjusted, uint64_t synthetic)
{
    int rc = json_object_set_new(o, "synthetic", jint(synthetic));
    rc |= json_object_set_new(o, "response_time_us_adjusted", times_json(adjusted));
    return rc;
}

/* {"HTTP/1.1": n, ...}: the protocols requests were answered over, only
 * those seen (a request no answer came to is in none). */
static json_t *protocols_json(const uint64_t *p)
{
    json_t *o = json_object();
    int rc = o ? 0 : -1;
    for (size_t i = 0; o && i < GOOSE_PROTOCOLS; i++)
        if (p[i])
            rc |= json_object_set_new(o, goose__protocol_names[i], jint(p[i]));
    return checked(o, rc);
}

static json_t *request_json(const goose_req_stat *q, double secs, int co,
                            goose_hist *scratch)
{
    json_t *o = json_object();
    json_t *codes = json_object();
    int rc = codes ? add_statuses(codes, q->statuses, q->nstatuses) : -1;
    rc |= json_object_set_new(o, "method", jstr(q->method));
    rc |= json_object_set_new(o, "name", jstr(q->name));
    rc |= json_object_set_new(o, "count", jint(goose__req_count(q)));
    rc |= json_object_set_new(o, "success", jint(q->success));
    rc |= json_object_set_new(o, "fail", jint(q->fail));
    rc |= json_object_set_new(o, "rps",
                              jreal(rate(goose__req_count(q), secs), 1000));
    rc |= json_object_set_new(o, "response_time_us", times_json(&q->hist));
    if (co) {
        goose__req_adjusted(q, scratch);
        rc |= adjusted_json(o, scratch, goose__req_synthetic(q));
    }
    rc |= json_object_set_new(o, "status_codes", codes);
    rc |= json_object_set_new(o, "protocols", protocols_json(q->protocols));
    rc |= json_object_set_new(o, "bytes", jint(q->bytes));
    return checked(o, rc);
}

static json_t *requests_json(const goose_results *r, goose_hist *scratch)
{
    json_t *v = json_array();
    int rc = 0;
    for (size_t i = 0; i < r->totals.nreqs; i++)
        rc |= json_array_append_new(v, request_json(r->totals.reqs[i], r->duration_s,
                                                    r->co_mode, scratch));
    return checked(v, rc);
}

/* The adjusted times of every request row, merged. */
static int adjusted_totals(json_t *o, const goose_stats *s, goose_hist *all)
{
    uint64_t synthetic = 0;
    goose__hist_free(all);
    for (size_t i = 0; i < s->nreqs; i++) {
        goose__hist_merge(all, &s->reqs[i]->hist);
        if (s->reqs[i]->co)
            goose__hist_merge(all, s->reqs[i]->co);
        synthetic += goose__req_synthetic(s->reqs[i]);
    }
    return adjusted_json(o, all, synthetic);
}

/* Every request row summed; `all` is scratch space (its chunks on the heap). */
static json_t *totals_json(const goose_results *r, goose_hist *all)
{
    const goose_stats *s = &r->totals;
    uint64_t success = 0, fail = 0;
    json_t *o = json_object();
    json_t *codes = json_object();
    int rc = codes ? 0 : -1;
    goose__hist_free(all);
    for (size_t i = 0; i < s->nreqs; i++) {
        success += s->reqs[i]->success;
        fail += s->reqs[i]->fail;
        goose__hist_merge(all, &s->reqs[i]->hist);
        if (codes)
            rc |= add_statuses(codes, s->reqs[i]->statuses,
                               s->reqs[i]->nstatuses);
    }
    rc |= json_object_set_new(o, "count", jint(success + fail));
    rc |= json_object_set_new(o, "success", jint(success));
    rc |= json_object_set_new(o, "fail", jint(fail));
    rc |= json_object_set_new(o, "rps",
                              jreal(rate(success + fail, r->duration_s), 1000));
    rc |= json_object_set_new(o, "response_time_us", times_json(all));
    if (r->co_mode)
        rc |= adjusted_totals(o, s, all);
    rc |= json_object_set_new(o, "status_codes", codes);
    uint64_t p[GOOSE_PROTOCOLS];
    goose__stats_protocols(s, p);
    rc |= json_object_set_new(o, "protocols", protocols_json(p));
    return checked(o, rc);
}

/* Every transaction, run or not. */
static json_t *transactions_json(const goose_results *r, goose_hist *empty)
{
    json_t *v = json_array();
    int rc = 0;
    goose__hist_free(empty);
    for (size_t i = 0; i < r->ntxs; i++) {
        const goose_tx_stat *x = i < r->totals.ntxs ? &r->totals.txs[i] : NULL;
        uint64_t success = x ? x->success : 0, fail = x ? x->fail : 0;
        json_t *o = json_object();
        int orc = json_object_set_new(o, "scenario", jstr(r->txs[i].scenario));
        orc |= json_object_set_new(o, "name", jstr(r->txs[i].name));
        orc |= json_object_set_new(o, "count", jint(success + fail));
        orc |= json_object_set_new(o, "success", jint(success));
        orc |= json_object_set_new(o, "fail", jint(fail));
        orc |= json_object_set_new(o, "response_time_us",
                                   times_json(x ? &x->hist : empty));
        rc |= json_array_append_new(v, checked(o, orc));
    }
    return checked(v, rc);
}

static json_t *errors_json(const goose_stats *s)
{
    json_t *v = json_array();
    int rc = 0;
    for (size_t i = 0; i < s->nerrs; i++) {
        const goose_err_stat *e = &s->errs[i];
        json_t *o = json_object();
        int orc = json_object_set_new(o, "method", jstr(e->method));
        orc |= json_object_set_new(o, "name", jstr(e->name));
        orc |= json_object_set_new(o, "error", jstr(e->error));
        orc |= json_object_set_new(o, "count", jint(e->count));
        rc |= json_array_append_new(v, checked(o, orc));
    }
    return checked(v, rc);
}

/* The reasons transactions failed for, in the order first seen. */
static json_t *tx_errors_json(const goose_results *r)
{
    const goose_stats *s = &r->totals;
    json_t *v = json_array();
    int rc = 0;
    for (size_t i = 0; i < s->ntxerrs; i++) {
        const goose_txerr_stat *e = &s->txerrs[i];
        int known = e->tx < r->ntxs;
        json_t *o = json_object();
        int orc = json_object_set_new(o, "scenario", jstr(known ? r->txs[e->tx].scenario : ""));
        orc |= json_object_set_new(o, "name", jstr(known ? r->txs[e->tx].name : ""));
        orc |= json_object_set_new(o, "error", jstr(e->error));
        orc |= json_object_set_new(o, "count", jint(e->count));
        rc |= json_array_append_new(v, checked(o, orc));
    }
    return checked(v, rc);
}

static const char *host_of(const goose_results *r, size_t i)
{
    return r->hosts && r->hosts[i] ? r->hosts[i] : "";
}

static json_t *jstr_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

static json_t *jrate_or_null(double v)
{
    return v > 0 ? jreal(v, 1000) : json_null();
}

/* The open model's arrivals over the whole run. */
static json_t *arrivals_json(const goose_results *r)
{
    uint64_t due, dropped;
    goose__stats_arrivals(&r->totals, &due, &dropped);
    json_t *o = json_object();
    int rc = json_object_set_new(o, "due", jint(due));
    rc |= json_object_set_new(o, "started", jint(due - dropped));
    rc |= json_object_set_new(o, "dropped", jint(dropped));
    rc |= json_object_set_new(o, "started_per_s",
                              jreal(r->duration_s > 0 ? (double)(due - dropped) / r->duration_s
                                                      : 0, 1000));
    return checked(o, rc);
}

/* How the load was shaped: the model and its options. */
static json_t *load_json(const goose_results *r)
{
    const goose_load_info *l = &r->load;
    json_t *o = json_object();
    int rc = json_object_set_new(o, "model", json_string(l->open_model ? "open" : "closed"));
    rc |= json_object_set_new(o, "test_plan", jstr_or_null(l->test_plan));
    rc |= json_object_set_new(o, "arrival_rate", jrate_or_null(l->arrival_rate));
    rc |= json_object_set_new(o, "arrival_plan", jstr_or_null(l->arrival_plan));
    rc |= json_object_set_new(o, "throttle_requests", jrate_or_null(l->throttle_rps));
    if (l->open_model)
        rc |= json_object_set_new(o, "arrivals", arrivals_json(r));
    return checked(o, rc);
}

static json_t *scenarios_json(const goose_results *r)
{
    json_t *v = json_array();
    int rc = 0;
    for (size_t i = 0; i < r->nscenarios; i++) {
        json_t *o = json_object();
        const char *name = r->scenario_names ? r->scenario_names[i] : NULL;
        int orc = json_object_set_new(o, "name", jstr(name));
        orc |= json_object_set_new(
            o, "users", jint(r->scenario_users ? r->scenario_users[i] : 0));
        orc |= json_object_set_new(o, "iterations",
                                   jint(i < r->totals.nscenarios
                                            ? r->totals.iterations[i]
                                            : 0));
        if (r->load.open_model && i < r->totals.nscenarios) {
            orc |= json_object_set_new(o, "arrivals", jint(r->totals.arrivals[i]));
            orc |= json_object_set_new(o, "dropped", jint(r->totals.dropped[i]));
        }
        orc |= json_object_set_new(o, "host", jstr(host_of(r, i)));
        rc |= json_array_append_new(v, checked(o, orc));
    }
    return checked(v, rc);
}

/* Target hosts, each once, in scenario order. */
static json_t *hosts_json(const goose_results *r)
{
    json_t *v = json_array();
    int rc = 0;
    for (size_t i = 0; i < r->nscenarios; i++) {
        const char *h = host_of(r, i);
        int dup = !*h;
        for (size_t j = 0; !dup && j < i; j++)
            dup = strcmp(host_of(r, j), h) == 0;
        if (!dup)
            rc |= json_array_append_new(v, jstr(h));
    }
    return checked(v, rc);
}

static json_t *phases_json(const goose_results *r)
{
    json_t *v = json_array();
    int rc = 0;
    for (size_t i = 0; i < r->nphases; i++) {
        const goose_phase *p = &r->phases[i];
        json_t *o = json_object();
        int orc = json_object_set_new(o, "name", jstr(p->name));
        orc |= json_object_set_new(o, "start_s", jreal(p->start_s, 1000));
        orc |= json_object_set_new(o, "end_s", jreal(p->end_s, 1000));
        orc |= json_object_set_new(o, "users_from", jint(p->users_from));
        orc |= json_object_set_new(o, "users_to", jint(p->users_to));
        rc |= json_array_append_new(v, checked(o, orc));
    }
    return checked(v, rc);
}

static json_t *u64_array(const uint64_t *p, size_t n)
{
    json_t *v = json_array();
    int rc = 0;
    for (size_t i = 0; p && i < n; i++)
        rc |= json_array_append_new(v, jint(p[i]));
    return checked(v, rc);
}

static json_t *timeseries_json(const goose_series *s)
{
    json_t *o = json_object();
    json_t *rps = json_array();
    int rrc = 0;
    for (size_t i = 0; s->rps && i < s->n; i++)
        rrc |= json_array_append_new(rps, jreal(s->rps[i], 1000));
    int rc = json_object_set_new(o, "interval_s", json_integer(1));
    /* the run ends mid-second: its last point is this long, rps per second of it */
    rc |= json_object_set_new(o, "last_interval_s", jreal(s->n ? s->last_s : 0, 1000));
    rc |= json_object_set_new(o, "users", u64_array(s->users, s->n));
    rc |= json_object_set_new(o, "rps", checked(rps, rrc));
    rc |= json_object_set_new(o, "p50_us", u64_array(s->p50_us, s->n));
    rc |= json_object_set_new(o, "p95_us", u64_array(s->p95_us, s->n));
    rc |= json_object_set_new(o, "p99_us", u64_array(s->p99_us, s->n));
    rc |= json_object_set_new(o, "fails", u64_array(s->fails, s->n));
    json_t *keys = json_array();
    for (size_t i = 0; i < s->nkeys; i++) {
        json_t *k = json_object();
        int krc = json_object_set_new(k, "method", jstr(s->keys[i].method));
        krc |= json_object_set_new(k, "name", jstr(s->keys[i].name));
        krc |= json_object_set_new(k, "counts", u64_array(s->keys[i].counts, s->n));
        rc |= json_array_append_new(keys, checked(k, krc));
    }
    rc |= json_object_set_new(o, "requests", keys);
    return checked(o, rc);
}

/* Samples the results miss (out of memory): all zero when complete. */
static json_t *lost_json(const goose_results *r)
{
    json_t *o = json_object();
    int rc = json_object_set_new(o, "samples", jint(goose__results_lost(r)));
    rc |= json_object_set_new(o, "requests", jint(r->totals.lost));
    rc |= json_object_set_new(o, "details", jint(r->totals.lost_details));
    rc |= json_object_set_new(o, "series", jint(r->series_lost));
    return checked(o, rc);
}

static json_t *workers_json(const goose_results *r)
{
    json_t *a = json_array();
    int rc = 0;
    for (size_t i = 0; i < r->nworkers; i++) {
        const goose_worker_info *w = &r->workers[i];
        json_t *o = json_object();
        int orc = json_object_set_new(o, "name", jstr(w->name));
        orc |= json_object_set_new(o, "users", jint(w->users));
        orc |= json_object_set_new(o, "requests", jint(w->requests));
        orc |= json_object_set_new(o, "state", jstr(w->state));
        orc |= json_object_set_new(o, "start_offset_ms", jreal(w->start_offset_ms, 1000));
        rc |= json_array_append_new(a, checked(o, orc));
    }
    return checked(a, rc);
}

static json_t *baseline_json(const goose_results *r, const goose_baseline *base)
{
    goose_compare *v;
    size_t n = goose__baseline_compare(r, base, &v);
    if (!v)
        return NULL;
    json_t *o = json_object(), *rows = json_array();
    int rc = json_object_set_new(o, "file", jstr(goose__baseline_file(base)));
    for (size_t i = 0; i < n; i++) {
        const goose_compare *c = &v[i];
        json_t *q = json_object();
        int qrc = json_object_set_new(q, "method", jstr(c->method));
        qrc |= json_object_set_new(q, "name", jstr(c->name));
        qrc |= json_object_set_new(q, "in_run", json_boolean(c->in_run));
        qrc |= json_object_set_new(q, "in_baseline", json_boolean(c->in_baseline));
        qrc |= json_object_set_new(q, "count", jint(c->now_count));
        qrc |= json_object_set_new(q, "count_then", jint(c->then_count));
        qrc |= json_object_set_new(q, "rps", jreal(c->now_rps, 1000));
        qrc |= json_object_set_new(q, "rps_then", jreal(c->then_rps, 1000));
        qrc |= json_object_set_new(q, "p95_ms", jreal(c->now_p95_ms, 1000));
        qrc |= json_object_set_new(q, "p95_ms_then", jreal(c->then_p95_ms, 1000));
        qrc |= json_object_set_new(q, "fail_pct", jreal(c->now_fail_pct, 1000));
        qrc |= json_object_set_new(q, "fail_pct_then", jreal(c->then_fail_pct, 1000));
        rc |= json_array_append_new(rows, checked(q, qrc));
    }
    free(v);
    rc |= json_object_set_new(o, "requests", rows);
    return checked(o, rc);
}

/* Counts stay integers; times (us), fractions and rates are reals. */
static json_t *threshold_value(const goose_threshold *t, double v)
{
    if (t->kind == GOOSE_TH_COUNT || t->kind == GOOSE_TH_FAILS)
        return jint((uint64_t)llround(v));
    return jreal(v, 1e6);
}

static json_t *thresholds_json(const goose_results *r)
{
    json_t *v = json_array();
    int rc = 0;
    for (size_t i = 0; i < r->nthresholds; i++) {
        const goose_threshold_result *x = &r->thresholds[i];
        const goose_threshold *t = &x->t;
        json_t *o = json_object();
        int orc = json_object_set_new(o, "expression", jstr(t->expr));
        orc |= json_object_set_new(o, "key", t->key ? jstr(t->key) : json_null());
        orc |= json_object_set_new(o, "metric", jstr(t->metric));
        orc |= json_object_set_new(o, "op", jstr(goose__threshold_op(t->op)));
        orc |= json_object_set_new(o, "limit", threshold_value(t, t->limit));
        orc |= json_object_set_new(o, "observed",
                                   x->measured ? threshold_value(t, x->observed) : json_null());
        orc |= json_object_set_new(o, "unit", jstr(goose__threshold_unit(t)));
        orc |= json_object_set_new(o, "pass", json_boolean(x->pass));
        orc |= json_object_set_new(o, "aborted", json_boolean(x->aborted));
        orc |= json_object_set_new(o, "reason", x->reason[0] ? jstr(x->reason) : json_null());
        rc |= json_array_append_new(v, checked(o, orc));
    }
    return checked(v, rc);
}

static json_t *report_object(const goose_results *r, goose_hist *scratch)
{
    json_t *o = json_object();
    int rc = json_object_set_new(o, "goose_version",
                                 json_string(GOOSE_VERSION_STRING));
    rc |= json_object_set_new(o, "mode",
                              json_string(r->manager ? "manager" : "standalone"));
    rc |= json_object_set_new(o, "started", jstr(r->started));
    rc |= json_object_set_new(o, "duration_s", jreal(r->duration_s, 1000));
    rc |= json_object_set_new(o, "elapsed_s", jreal(r->elapsed_s, 1000));
    rc |= json_object_set_new(o, "users", jint(r->users));
    rc |= json_object_set_new(o, "abandoned_users", jint(r->abandoned_users));
    if (r->manager) {
        rc |= json_object_set_new(o, "workers", workers_json(r));
        rc |= json_object_set_new(o, "start_spread_ms", jreal(r->start_spread_ms, 1000));
        rc |= json_object_set_new(o, "gaggle_authenticated",
                                  json_boolean(r->gaggle_authenticated));
        rc |= json_object_set_new(o, "gaggle_tls", json_boolean(r->gaggle_tls));
    } else {
        rc |= json_object_set_new(o, "threads", jint(r->threads));
    }
    if (r->has_seed) { /* a string: JSON readers hold numbers as doubles, exact
                          only to 2^53, and jansson's integers stop at 2^63 */
        char seed[24];
        snprintf(seed, sizeof seed, "%llu", (unsigned long long)r->seed);
        rc |= json_object_set_new(o, "seed", jstr(seed));
        rc |= json_object_set_new(o, "seed_drawn", json_boolean(r->seed_drawn));
    }
    rc |= json_object_set_new(o, "hosts", hosts_json(r));
    rc |= json_object_set_new(o, "metrics_reset",
                              json_boolean(r->metrics_reset));
    rc |= json_object_set_new(o, "reset_at_s", jreal(r->reset_at_s, 1000));
    rc |= json_object_set_new(o, "hatch_requests", jint(r->hatch_requests));
    rc |= json_object_set_new(o, "metrics_lost", lost_json(r));
    rc |= json_object_set_new(o, "load", load_json(r));
    if (r->co_mode)
        rc |= json_object_set_new(o, "co_mitigation", jstr(goose__co_mode_name(r->co_mode)));
    if (r->accept_invalid_certs) /* absent: every certificate was checked */
        rc |= json_object_set_new(o, "accept_invalid_certs", json_true());
    rc |= json_object_set_new(o, "phases", phases_json(r));
    rc |= json_object_set_new(o, "scenarios", scenarios_json(r));
    rc |= json_object_set_new(o, "requests", requests_json(r, scratch));
    rc |= json_object_set_new(o, "transactions",
                              transactions_json(r, scratch));
    rc |= json_object_set_new(o, "errors", errors_json(&r->totals));
    rc |= json_object_set_new(o, "transaction_errors", tx_errors_json(r));
    json_t *names = json_object();
    rc |= json_object_set_new(names, "max", jint(r->max_request_names));
    rc |= json_object_set_new(names, "folded", jint(r->names_folded));
    rc |= json_object_set_new(names, "folded_exact", json_boolean(r->folded_exact));
    rc |= json_object_set_new(names, "errors_folded", jint(r->errors_folded));
    rc |= json_object_set_new(names, "transaction_errors_folded", jint(r->tx_errors_folded));
    rc |= json_object_set_new(o, "request_names", names);
    rc |= json_object_set_new(o, "totals", totals_json(r, scratch));
    rc |= json_object_set_new(o, "thresholds", thresholds_json(r));
    rc |= json_object_set_new(o, "aborted_by",
                              r->aborted && r->aborted_by < r->nthresholds
                                  ? jstr(r->thresholds[r->aborted_by].t.expr)
                                  : json_null());
    rc |= json_object_set_new(o, "timeseries", timeseries_json(&r->series));
    return checked(o, rc);
}

char *goose__report_json(const goose_results *r, const goose_report_ctx *ctx)
{
    if (!r)
        return NULL;
    goose_hist *scratch = goose__hists_new(1);
    if (!scratch)
        return NULL;
    json_t *o = report_object(r, scratch);
    goose__hists_delete(scratch, 1);
    if (!o)
        return NULL;
    if (ctx->baseline &&
        json_object_set_new(o, "baseline", baseline_json(r, ctx->baseline)) < 0) {
        json_decref(o);
        return NULL;
    }
    /* %.12g: rounded reals print as 33.333, not 33.332999999999998 */
    char *s = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER |
                                JSON_REAL_PRECISION(12));
    json_decref(o);
    return s;
}

