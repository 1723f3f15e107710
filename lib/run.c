/* The standalone run: the controller starts the engine, watches the phases,
 * collects the threads' metrics once a second into the totals and the time
 * series, and stops the engine when the run time is up. */
#include "attack.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/resource.h>
#include <unistd.h>

#include "util/clock.h"

#define TICK_MS 50

typedef struct run_state {
    goose_attack *a;
    goose_engine *engine;
    goose_stats *totals;     /* per engine thread, merged for reports */
    size_t nthreads;
    goose_stats interval;
    uint64_t start_us;
    uint64_t measure_from_us;
    uint64_t last_tick_us;
    uint64_t last_running_us;
    uint64_t maintain_from_us;
    uint64_t stop_at_us;     /* 0: not yet known, or no run time */
    uint64_t decrease_from_us;
    size_t users;
    int reset_on_launch;
} run_state;

static double since(uint64_t from_us, uint64_t to_us)
{
    return (double)(to_us - from_us) / 1e6;
}

static int series_push(goose_series *s, uint64_t users, double rps,
                       uint64_t p95, uint64_t fails)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        uint64_t *u = realloc(s->users, cap * sizeof *u);
        if (u)
            s->users = u;
        double *r = realloc(s->rps, cap * sizeof *r);
        if (r)
            s->rps = r;
        uint64_t *p = realloc(s->p95_us, cap * sizeof *p);
        if (p)
            s->p95_us = p;
        uint64_t *f = realloc(s->fails, cap * sizeof *f);
        if (f)
            s->fails = f;
        if (!u || !r || !p || !f)
            return -1;
        s->cap = cap;
    }
    s->users[s->n] = users;
    s->rps[s->n] = rps;
    s->p95_us[s->n] = p95;
    s->fails[s->n] = fails;
    s->n++;
    return 0;
}

/* Once a second: the threads' new metrics become one point of the time
 * series and join the totals. */
static void tick(run_state *st, uint64_t now)
{
    goose_results *res = &st->a->results;
    goose__engine_collect(st->engine, st->totals, &st->interval);
    double dt = since(st->last_tick_us, now);
    series_push(&res->series, goose__engine_active(st->engine),
                dt > 0 ? (double)st->interval.requests / dt : 0,
                goose__hist_percentile(&st->interval.all, 0.95),
                st->interval.failures);
    goose__stats_reset(&st->interval);
    st->last_tick_us = now;
}

/* The totals of the run so far: the sum of the threads' totals. */
static void merge_totals(run_state *st)
{
    goose_stats *all = &st->a->results.totals;
    goose__stats_reset(all);
    for (size_t i = 0; i < st->nthreads; i++)
        goose__stats_merge(all, &st->totals[i]);
}

static void print_running(run_state *st, uint64_t now)
{
    uint64_t every = st->a->opt.running_metrics_us;
    if (!every || now - st->last_running_us < every)
        return;
    st->last_running_us = now;
    merge_totals(st);
    char *text = goose__report_running(st->a, &st->a->results.totals,
                                       since(st->measure_from_us, now),
                                       goose__engine_active(st->engine));
    if (text)
        goose__log(st->a, GOOSE_LOG_INFO, "%s", text);
    free(text);
}

static void add_phase(goose_results *res, const char *name, double from,
                      double to, size_t users_from, size_t users_to)
{
    goose_phase *p = &res->phases[res->nphases++];
    p->name = name;
    p->start_s = from;
    p->end_s = to;
    p->users_from = users_from;
    p->users_to = users_to;
}

/* Every user launched: the increase phase is over. */
static void enter_maintain(run_state *st, uint64_t now)
{
    goose_attack *a = st->a;
    goose_results *res = &a->results;
    st->maintain_from_us = now;
    add_phase(res, "increase", 0, since(st->start_us, now), 0, st->users);
    if (a->opt.run_time_us)
        st->stop_at_us = now + a->opt.run_time_us;
    goose__log(a, GOOSE_LOG_INFO, "all %zu users started in %.1fs", st->users,
               since(st->start_us, now));
    if (st->reset_on_launch) {
        res->metrics_reset = 1;
        res->reset_at_s = since(st->start_us, now);
        st->measure_from_us = now;
        goose__log(a, GOOSE_LOG_INFO, "metrics reset (--no-reset-metrics keeps them)");
    }
}

static void control_loop(run_state *st)
{
    goose_attack *a = st->a;
    for (;;) {
        int finished = goose__engine_wait(st->engine, TICK_MS);
        uint64_t now = goose__now_us();
        if (!st->maintain_from_us &&
            goose__engine_launched(st->engine) == st->users)
            enter_maintain(st, now);
        if (now - st->last_tick_us >= 1000000)
            tick(st, now);
        print_running(st, now);
        if (finished)
            return;
        if (!st->decrease_from_us &&
            (atomic_load(&a->stop) || (st->stop_at_us && now >= st->stop_at_us))) {
            st->decrease_from_us = now;
            goose__log(a, GOOSE_LOG_INFO, "stopping: %zu users finishing",
                       goose__engine_active(st->engine));
            goose__engine_stop(st->engine);
        }
    }
}

static void record_phases(run_state *st, uint64_t end)
{
    goose_results *res = &st->a->results;
    uint64_t maintain = st->maintain_from_us ? st->maintain_from_us : end;
    uint64_t decrease = st->decrease_from_us ? st->decrease_from_us : end;
    if (!st->maintain_from_us)
        add_phase(res, "increase", 0, since(st->start_us, end), 0,
                  goose__engine_launched(st->engine));
    else
        add_phase(res, "maintain", since(st->start_us, maintain),
                  since(st->start_us, decrease), st->users, st->users);
    if (st->maintain_from_us || st->decrease_from_us)
        add_phase(res, "decrease", since(st->start_us, decrease),
                  since(st->start_us, end), goose__engine_launched(st->engine), 0);
}

static char *dup_or_empty(const char *s)
{
    return strdup(s ? s : "");
}

static int results_prepare(goose_attack *a, const goose_plan *plan, size_t threads)
{
    goose_results *res = &a->results;
    goose__results_free(res);
    if (goose__stats_init(&res->totals, plan->ntxs, plan->nscenarios) < 0)
        return -1;
    res->txs = calloc(plan->ntxs + 1, sizeof *res->txs);
    res->scenario_names = calloc(plan->nscenarios, sizeof *res->scenario_names);
    res->hosts = calloc(plan->nscenarios, sizeof *res->hosts);
    res->scenario_users = calloc(plan->nscenarios, sizeof *res->scenario_users);
    if (!res->txs || !res->scenario_names || !res->hosts || !res->scenario_users)
        return -1;
    res->nscenarios = plan->nscenarios;
    for (size_t i = 0; i < plan->nscenarios; i++) {
        res->scenario_names[i] = dup_or_empty(plan->scenarios[i].name);
        res->hosts[i] = dup_or_empty(plan->scenarios[i].host);
    }
    for (size_t i = 0; i < a->opt.users; i++)
        res->scenario_users[plan->user_scenario[i]]++;
    for (size_t i = 0; i < plan->ntxs; i++, res->ntxs++) {
        res->txs[i].scenario = dup_or_empty(plan->txs[i].scenario);
        res->txs[i].name = dup_or_empty(plan->txs[i].name);
    }
    res->users = a->opt.users;
    res->threads = threads;
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(res->started, sizeof res->started, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return 0;
}

/* A report path that cannot be created is bad configuration: found before
 * any user starts. */
static int check_report_paths(goose_attack *a)
{
    for (size_t i = 0; i < a->opt.nreport_files; i++) {
        const char *path = a->opt.report_files[i];
        int existed = access(path, F_OK) == 0;
        FILE *f = fopen(path, "a");
        if (!f)
            return goose__fail(a, GOOSE_ECONFIG, "cannot create report file %s: %s",
                               path, strerror(errno));
        fclose(f);
        if (!existed)
            unlink(path);
    }
    return GOOSE_OK;
}

static size_t online_cpus(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (size_t)n : 1;
}

static int resolve_config(goose_attack *a, goose_run_config *cfg)
{
    goose_options *o = &a->opt;
    if (a->config_error)
        return goose__fail(a, a->config_code, "%s", a->config_error);
    if (o->hatch_rate > 0 && o->startup_us)
        return goose__fail(a, GOOSE_ECONFIG,
                           "give --hatch-rate or --startup-time, not both");
    if (!o->users)
        o->users = online_cpus();
    cfg->attack = a;
    cfg->users = o->users;
    cfg->threads = o->threads ? o->threads : online_cpus();
    if (cfg->threads > cfg->users)
        cfg->threads = cfg->users;
    if (o->startup_us)
        cfg->hatch_rate = (double)o->users / ((double)o->startup_us / 1e6);
    else
        cfg->hatch_rate = o->hatch_rate > 0 ? o->hatch_rate : 1.0;
    cfg->iterations = o->iterations;
    cfg->timeout_ms = o->timeout_ms;
    cfg->stack_size = o->stack_size;
    /* a test defined by its iterations counts every one of them */
    cfg->reset_on_launch = !o->no_reset_metrics && !o->iterations;
    for (size_t i = 0; i < o->nresolve; i++) {
        struct curl_slist *l = curl_slist_append(cfg->resolve, o->resolve[i]);
        if (!l)
            return goose__fail(a, GOOSE_ENOMEM, "out of memory");
        cfg->resolve = l;
    }
    return check_report_paths(a);
}

static void free_totals(run_state *st)
{
    for (size_t i = 0; st->totals && i < st->nthreads; i++)
        goose__stats_free(&st->totals[i]);
    free(st->totals);
    goose__stats_free(&st->interval);
}

static int init_totals(run_state *st, const goose_run_config *cfg)
{
    st->nthreads = cfg->threads;
    st->totals = calloc(st->nthreads, sizeof *st->totals);
    if (!st->totals)
        return -1;
    for (size_t i = 0; i < st->nthreads; i++)
        if (goose__stats_init(&st->totals[i], cfg->ntransactions, cfg->nscenarios) < 0)
            return -1;
    return goose__stats_init(&st->interval, cfg->ntransactions, cfg->nscenarios);
}

/* Every user keeps a connection open: say so before the sockets run out. */
static void check_fd_limit(goose_attack *a, size_t users)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
        (rlim_t)users + 64 > rl.rlim_cur)
        goose__log(a, GOOSE_LOG_WARN,
                   "%zu users need about %zu open files but the limit is %llu: "
                   "raise it (ulimit -n %zu, or LimitNOFILE= for a service)",
                   users, users + 64, (unsigned long long)rl.rlim_cur, users + 64);
}

static int run_engine(goose_attack *a, goose_run_config *cfg)
{
    run_state st = {.a = a, .users = cfg->users,
                    .reset_on_launch = cfg->reset_on_launch};
    char err[256];
    if (init_totals(&st, cfg) < 0) {
        free_totals(&st);
        return goose__fail(a, GOOSE_ENOMEM, "out of memory");
    }
    st.start_us = st.measure_from_us = st.last_tick_us = st.last_running_us =
        goose__now_us();
    check_fd_limit(a, cfg->users);
    st.engine = goose__engine_start(cfg, err, sizeof err);
    if (!st.engine) {
        free_totals(&st);
        return goose__fail(a, GOOSE_ESYS, "%s", err);
    }
    goose__log(a, GOOSE_LOG_INFO, "starting %zu users on %zu threads at %.3g users/s",
               cfg->users, cfg->threads, cfg->hatch_rate);
    control_loop(&st);
    uint64_t end = goose__now_us();
    tick(&st, end);
    merge_totals(&st);
    record_phases(&st, end);
    a->results.duration_s = since(st.measure_from_us, end);
    a->results.elapsed_s = since(st.start_us, end);
    a->results.valid = 1;
    goose__engine_free(st.engine);
    free_totals(&st);
    return GOOSE_OK;
}

int goose_attack_run(goose_attack *a)
{
    if (!a)
        return GOOSE_EINVAL;
    if (atomic_exchange(&a->running, 1))
        return goose__fail(a, GOOSE_ESTATE, "the attack is already running");
    atomic_store(&a->stop, 0);
    a->error[0] = '\0';
    goose_run_config cfg = {0};
    goose_plan plan = {0};
    int rc = resolve_config(a, &cfg);
    if (rc == GOOSE_OK)
        rc = goose__plan_build(a, &plan);
    if (rc == GOOSE_OK) {
        cfg.scenarios = plan.scenarios;
        cfg.nscenarios = plan.nscenarios;
        cfg.ntransactions = plan.ntxs;
        cfg.user_scenario = plan.user_scenario;
        if (results_prepare(a, &plan, cfg.threads) < 0)
            rc = goose__fail(a, GOOSE_ENOMEM, "out of memory");
    }
    if (rc == GOOSE_OK)
        rc = run_engine(a, &cfg);
    if (rc == GOOSE_OK)
        rc = goose__report_write_files(a);
    curl_slist_free_all(cfg.resolve);
    goose__plan_free(&plan);
    atomic_store(&a->running, 0);
    return rc;
}
