/* The run loop's side of the metrics: the totals of every shard (an
 * engine thread, or a Worker's thread in a Gaggle) merged by addition, the
 * per-second time series, running metrics, and the phases of the run. */
#include "run/run.h"

#include <stdlib.h>
#include <string.h>

#include "util/clock.h"

static double since(uint64_t from_us, uint64_t to_us)
{
    return (double)(to_us - from_us) / 1e6;
}

static int grow_series(goose_series *s)
{
    size_t cap = s->cap ? s->cap * 2 : 64;
#define GROW(field)                                                            \
    do {                                                                       \
        void *q_ = realloc(s->field, cap * sizeof *s->field);                  \
        if (!q_)                                                               \
            return -1;                                                         \
        s->field = q_;                                                         \
    } while (0)
    GROW(users);
    GROW(rps);
    GROW(p50_us);
    GROW(p95_us);
    GROW(p99_us);
    GROW(fails);
    for (size_t i = 0; i < s->nkeys; i++)
        GROW(keys[i].counts);
#undef GROW
    s->cap = cap;
    return 0;
}

static size_t *key_slot(const goose_series *s, const char *method, const char *name)
{
    size_t h = 1469598103934665603ULL; /* FNV-1a of "method name" */
    for (const char *p = method; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    h = (h ^ ' ') * 1099511628211ULL;
    for (const char *p = name; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    size_t mask = s->key_slot_cap - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        size_t *slot = &s->key_slots[i];
        if (!*slot || (!strcmp(s->keys[*slot - 1].name, name) &&
                       !strcmp(s->keys[*slot - 1].method, method)))
            return slot;
    }
}

/* Keeps the index at most half full. */
static int grow_key_slots(goose_series *s)
{
    size_t cap = s->key_slot_cap ? s->key_slot_cap * 2 : 64;
    size_t *slots = calloc(cap, sizeof *slots);
    if (!slots)
        return -1;
    free(s->key_slots);
    s->key_slots = slots;
    s->key_slot_cap = cap;
    for (size_t i = 0; i < s->nkeys; i++)
        *key_slot(s, s->keys[i].method, s->keys[i].name) = i + 1;
    return 0;
}

/* The series of a request key, created (zero so far) on first sight;
 * found through a hash index, not a walk over every key. */
static goose_key_series *key_series(goose_series *s, const goose_req_stat *q)
{
    if (s->key_slot_cap) {
        size_t *slot = key_slot(s, q->method, q->name);
        if (*slot)
            return &s->keys[*slot - 1];
    }
    if ((s->nkeys + 1) * 2 > s->key_slot_cap && grow_key_slots(s) < 0)
        return NULL;
    goose_key_series *k = realloc(s->keys, (s->nkeys + 1) * sizeof *k);
    if (!k)
        return NULL;
    s->keys = k;
    k = &s->keys[s->nkeys];
    k->method = strdup(q->method);
    k->name = strdup(q->name);
    k->counts = calloc(s->cap ? s->cap : 1, sizeof *k->counts);
    if (!k->method || !k->name || !k->counts) {
        free(k->method);
        free(k->name);
        free(k->counts);
        return NULL;
    }
    s->nkeys++;
    *key_slot(s, k->method, k->name) = s->nkeys;
    return k;
}

/* One point of every series: what arrived since the last tick, over dt
 * seconds.  Returns the requests it could not place (out of memory). */
static uint64_t series_push(goose_series *s, uint64_t users, double rps, double dt,
                            const goose_stats *d)
{
    uint64_t lost = 0;
    if (s->n == s->cap && grow_series(s) < 0) {
        for (size_t r = 0; r < d->nreqs; r++) /* those the point's keys would hold */
            lost += goose__req_count(d->reqs[r]);
        return lost;
    }
    s->last_s = dt;
    size_t i = s->n;
    s->users[i] = users;
    s->rps[i] = rps;
    s->p50_us[i] = goose__hist_percentile(&d->all, 0.5);
    s->p95_us[i] = goose__hist_percentile(&d->all, 0.95);
    s->p99_us[i] = goose__hist_percentile(&d->all, 0.99);
    s->fails[i] = d->failures;
    for (size_t k = 0; k < s->nkeys; k++)
        s->keys[k].counts[i] = 0;
    s->n++;
    for (size_t r = 0; r < d->nreqs; r++) {
        goose_key_series *k = key_series(s, d->reqs[r]);
        if (k)
            k->counts[i] = goose__req_count(d->reqs[r]);
        else
            lost += goose__req_count(d->reqs[r]);
    }
    return lost;
}

int goose__collector_init(goose_collector *c, goose_attack *a,
                          const goose_run_config *cfg)
{
    return goose__collector_init_with(c, a, cfg, NULL);
}

int goose__collector_init_with(goose_collector *c, goose_attack *a,
                               const goose_run_config *cfg, goose_metrics_server *metrics)
{
    memset(c, 0, sizeof *c);
    c->a = a;
    c->ntx = cfg->ntransactions;
    c->nscenarios = cfg->nscenarios;
    c->users = cfg->total_users ? cfg->total_users : cfg->users;
    c->reset_on_launch = cfg->reset_on_launch;
    c->start_us = c->measure_from_us = c->last_tick_us = c->last_running_us =
        goose__now_us();
    if (goose__stats_init(&c->interval, c->ntx, c->nscenarios) < 0)
        return goose__fail(a, GOOSE_ENOMEM, "out of memory");
    if (a->opt.test_plan && goose__collector_reshape(c, &cfg->shape) < 0)
        return goose__fail(a, GOOSE_ENOMEM, "out of memory");
    if (a->opt.test_plan)
        c->plan_end_us = goose__shape_end(&cfg->shape);
    else if (cfg->open_model && a->opt.arrival_plan)
        c->plan_end_us = goose__shape_end(&cfg->arrivals);
    c->metrics_shared = metrics != NULL;
    c->metrics = metrics;
    if (!metrics && a->opt.metrics_listen &&
        !(c->metrics = goose__metrics_start(a, a->opt.metrics_listen)))
        return GOOSE_ECONFIG; /* the message is set */
    return GOOSE_OK;
}

void goose__collector_free(goose_collector *c)
{
    if (!c->metrics_shared)
        goose__metrics_stop(c->metrics);
    for (size_t i = 0; i < c->nshards; i++) {
        if (c->shards[i])
            goose__stats_free(c->shards[i]);
        free(c->shards[i]);
    }
    free(c->shards);
    goose__stats_free(&c->interval);
    goose__shape_free(&c->shape);
    memset(c, 0, sizeof *c);
}

static goose_stats *shard(goose_collector *c, size_t index)
{
    if (index >= c->nshards) {
        size_t n = index + 1;
        goose_stats **p = realloc(c->shards, n * sizeof *p);
        if (!p)
            return NULL;
        memset(p + c->nshards, 0, (n - c->nshards) * sizeof *p);
        c->shards = p;
        c->nshards = n;
    }
    if (!c->shards[index]) {
        goose_stats *s = calloc(1, sizeof *s);
        if (!s || goose__stats_init(s, c->ntx, c->nscenarios) < 0) {
            free(s);
            return NULL;
        }
        c->shards[index] = s;
    }
    return c->shards[index];
}

/* The time series takes every request, the hatch's too; those it misses
 * (keys it could not take, requests lost before) are counted, so that its
 * counts and series_lost add up to the totals, their lost and the hatch. */
static void into_interval(goose_collector *c, const goose_stats *d)
{
    uint64_t lost = c->interval.lost;
    goose__stats_merge_lossy(&c->interval, d);
    c->series_lost += c->interval.lost - lost;
}

int goose__collector_add(goose_collector *c, size_t index, int reset,
                         const goose_stats *before, const goose_stats *delta)
{
    goose_stats *s = shard(c, index);
    if (s && reset) { /* the hatch leaves the totals; the series has it */
        c->hatch_requests += s->requests + s->lost;
        goose__stats_reset(s);
    }
    if (!s || goose__stats_merge(s, delta) < 0) {
        if (!c->no_retry)
            return -1; /* the engine keeps it for the next tick */
        if (!s) {
            c->lost_requests += delta->requests + delta->lost;
            c->lost_details += delta->lost_details;
        } else {
            goose__stats_merge_lossy(s, delta);
        }
    }
    into_interval(c, delta); /* lossy itself, and counts what it misses */
    if (before && !goose__stats_empty(before)) {
        into_interval(c, before);
        c->hatch_requests += before->requests + before->lost;
    }
    return 0;
}

void goose__collector_lost(goose_collector *c, uint64_t requests, uint64_t hatch)
{
    c->lost_requests += requests;
    c->hatch_requests += hatch;
    c->series_lost += requests + hatch;
}

uint64_t goose__collector_shard_requests(const goose_collector *c, size_t index)
{
    return index < c->nshards && c->shards[index] ? c->shards[index]->requests : 0;
}

/* Once a second: what arrived since the last tick is one point of the
 * time series. */
static const char *phase_kind(double from, double to);

static const char *phase_now(const goose_collector *c, uint64_t now)
{
    if (c->decrease_from_us)
        return "decrease";
    if (!c->shaped)
        return c->maintain_from_us ? "maintain" : "increase";
    uint64_t t = now - c->start_us;
    double before = goose__shape_level(&c->shape, t > 1000000 ? t - 1000000 : 0);
    return phase_kind(before, goose__shape_level(&c->shape, t));
}

static void progress(goose_collector *c, uint64_t now, size_t active, double rps,
                     uint64_t p95_us)
{
    goose_attack *a = c->a;
    if (!a->progress_fn)
        return;
    goose_progress p = {
        .elapsed_s = since(c->start_us, now),
        .phase = phase_now(c, now),
        .users = active, .rps = rps, .p95_ms = (double)p95_us / 1000.0,
        .fail_pct = c->requests ? 100.0 * (double)c->failures / (double)c->requests : 0,
        .requests = c->requests};
    a->progress_fn(a->progress_arg, &p);
}

void goose__collector_tick(goose_collector *c, uint64_t now, size_t active)
{
    double dt = since(c->last_tick_us, now);
    double rps = dt > 0 ? (double)c->interval.requests / dt : 0;
    uint64_t p95 = goose__hist_percentile(&c->interval.all, 0.95);
    c->series_lost += series_push(&c->a->results.series, active, rps, dt, &c->interval);
    c->requests += c->interval.requests;
    c->failures += c->interval.failures;
    progress(c, now, active, rps, p95);
    goose__stats_reset(&c->interval);
    c->last_tick_us = now;
    if (c->metrics) {
        goose__collector_totals(c);
        goose__metrics_update(c->metrics,
                              goose__metrics_render(&c->a->results.totals, active,
                                                    phase_now(c, now)));
    }
}

/* The totals of the run so far: the sum of the shards. */
void goose__collector_totals(goose_collector *c)
{
    goose_stats *all = &c->a->results.totals;
    goose__stats_reset(all);
    for (size_t i = 0; i < c->nshards; i++) {
        if (c->shards[i])
            goose__stats_merge_lossy(all, c->shards[i]);
    }
    all->lost += c->lost_requests;
    all->lost_details += c->lost_details;
    c->a->results.series_lost = c->series_lost;
    c->a->results.hatch_requests = c->hatch_requests;
}

void goose__collector_running(goose_collector *c, uint64_t now, size_t active)
{
    uint64_t every = c->a->opt.running_metrics_us;
    if (!every || now - c->last_running_us < every)
        return;
    c->last_running_us = now;
    goose__collector_totals(c);
    char *text = goose__report_running(&c->a->results.totals,
                                       since(c->measure_from_us, now), active);
    if (text)
        goose__log(c->a, GOOSE_LOG_INFO, "%s", text);
    free(text);
}

static void add_phase(goose_collector *c, const char *name, double from,
                      double to, size_t users_from, size_t users_to)
{
    goose_results *res = &c->a->results;
    goose_phase *grown = realloc(res->phases, (res->nphases + 1) * sizeof *grown);
    if (!grown) {
        c->lost_details++; /* out of memory: said in the report */
        return;
    }
    res->phases = grown;
    goose_phase *p = &res->phases[res->nphases++];
    p->name = name;
    p->start_s = from;
    p->end_s = to;
    p->users_from = users_from;
    p->users_to = users_to;
}

/* Every user launched: the increase phase is over. */
void goose__collector_maintain(goose_collector *c, uint64_t now)
{
    goose_attack *a = c->a;
    goose_results *res = &a->results;
    if (c->maintain_from_us || c->shaped)
        return;
    c->maintain_from_us = now;
    add_phase(c, "increase", 0, since(c->start_us, now), 0, c->users);
    if (a->opt.run_time_us)
        c->stop_at_us = now + a->opt.run_time_us;
    goose__log(a, GOOSE_LOG_INFO, "all %zu users started in %.1fs", c->users,
               since(c->start_us, now));
    if (c->reset_on_launch) {
        res->metrics_reset = 1;
        res->reset_at_s = since(c->start_us, now);
        c->measure_from_us = now;
        goose__log(a, GOOSE_LOG_INFO, "metrics reset (--no-reset-metrics keeps them)");
    }
}

/* --threshold-abort: after each tick, once every user has started (a
 * shaped run: once its users first reach their peak, so a ramp is not
 * judged) and a second of data has been measured, the totals so far
 * against each threshold.  A Manager's
 * data trails by lag_us (Workers send every second), which rps must not
 * count as seconds without requests. */
static int threshold_abort_due(goose_collector *c)
{
    goose_attack *a = c->a;
    uint64_t tick = c->last_tick_us;
    if (!a->opt.threshold_abort || !(c->maintain_from_us || c->shaped) ||
        tick == c->threshold_tick_us ||
        tick < c->measure_from_us + c->lag_us + 1000000)
        return 0;
    if (c->shaped && !c->maintain_from_us) {
        double peak = goose__shape_max(&c->shape);
        uint64_t at = goose__shape_when_above(&c->shape, 0, peak - 1e-9 * (peak + 1));
        if (at == GOOSE_NEVER || tick < c->start_us + at + 1000000)
            return 0;
    }
    c->threshold_tick_us = tick;
    goose__collector_totals(c);
    return goose__thresholds_abort_due(a, since(c->measure_from_us, tick - c->lag_us),
                                       since(c->start_us, tick));
}

/* 1 once the run should stop: its run time is up, it was asked to, or a
 * threshold failed with --threshold-abort. */
int goose__collector_stop_due(goose_collector *c, uint64_t now)
{
    if (c->decrease_from_us)
        return 0;
    int plan_over = c->plan_end_us && now >= c->start_us + c->plan_end_us;
    if (!atomic_load(&c->a->stop) && !(c->stop_at_us && now >= c->stop_at_us) && !plan_over &&
        !threshold_abort_due(c))
        return 0;
    c->decrease_from_us = now;
    return 1;
}

/* A live change.  Before every user had started, it also cancels the
 * metrics reset still to come (the engine drops its reset timer) and the
 * run time then counts from when the users reach the new level. */
int goose__collector_reshape(goose_collector *c, const goose_shape *shape)
{
    if (!c->shaped && c->maintain_from_us) { /* the ramp so far is history */
        c->a->results.nphases = 0;
        c->maintain_from_us = 0;
    }
    c->reset_on_launch = 0;
    if (goose__shape_copy(&c->shape, shape) < 0)
        return -1;
    if (!c->shaped && !c->stop_at_us && c->a->opt.run_time_us && !c->plan_end_us)
        c->stop_at_us = c->start_us + goose__shape_end(shape) + c->a->opt.run_time_us;
    c->shaped = 1;
    return 0;
}

static const char *phase_kind(double from, double to)
{
    return to > from ? "increase" : to < from ? "decrease" : "maintain";
}

/* A shaped run's phases are its steps up to the stop (times since the
 * start), the last level held until then, and the users finishing after. */
static void shape_phases(goose_collector *c, uint64_t stop, uint64_t end)
{
    const goose_shape *s = &c->shape;
    for (size_t i = 0; i < s->n && s->steps[i].start_us < stop; i++) {
        const goose_step *st = &s->steps[i];
        uint64_t until = st->end_us < stop ? st->end_us : stop;
        if (until == st->start_us)
            continue;
        double to = until == st->end_us ? st->to : goose__shape_level(s, until);
        add_phase(c, phase_kind(st->from, to), (double)st->start_us / 1e6,
                  (double)until / 1e6, (size_t)st->from, (size_t)to);
    }
    double held = goose__shape_level(s, stop);
    if (goose__shape_end(s) < stop && !c->plan_end_us)
        add_phase(c, "maintain", (double)goose__shape_end(s) / 1e6, (double)stop / 1e6,
                  (size_t)held, (size_t)held);
    if (held > 0 && end > stop)
        add_phase(c, "decrease", (double)stop / 1e6, (double)end / 1e6, (size_t)held, 0);
}

int goose__collector_finish(goose_collector *c, uint64_t end, size_t launched)
{
    goose_results *res = &c->a->results;
    uint64_t maintain = c->maintain_from_us ? c->maintain_from_us : end;
    uint64_t decrease = c->decrease_from_us ? c->decrease_from_us : end;
    goose__collector_tick(c, end, 0);
    if (c->shaped)
        shape_phases(c, decrease - c->start_us, end - c->start_us);
    else if (!c->maintain_from_us)
        add_phase(c, "increase", 0, since(c->start_us, end), 0, launched);
    else
        add_phase(c, "maintain", since(c->start_us, maintain),
                  since(c->start_us, decrease), c->users, c->users);
    if (!c->shaped && (c->maintain_from_us || c->decrease_from_us))
        add_phase(c, "decrease", since(c->start_us, decrease),
                  since(c->start_us, end), launched, 0);
    goose__collector_totals(c); /* after the phases: one that could not be kept counts */
    res->duration_s = since(c->measure_from_us, end);
    res->elapsed_s = since(c->start_us, end);
    res->valid = 1;
    return goose__thresholds_evaluate(c->a);
}
