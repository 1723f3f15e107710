/* Turning an attack's options and registry into a run: the engine's
 * configuration, the plan, and the empty results it will fill. */
#include "attack.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

static char *dup_or_empty(const char *s)
{
    return strdup(s ? s : "");
}

int goose__results_prepare(goose_attack *a, const goose_plan *plan, size_t threads)
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
    if (o->threshold_abort && !o->nthresholds)
        return goose__fail(a, GOOSE_ECONFIG,
                           "--threshold-abort needs a --threshold to watch");
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
    cfg->local_addrs = o->local_addrs;
    cfg->nlocal_addrs = o->nlocal_addrs;
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

static const char *const LOG_FLAGS[GOOSE_LOGFILES] = {"--request-log", "--transaction-log",
                                                      "--error-log"};

/* A log that cannot be created is bad configuration, found before any user
 * starts. */
static int open_logs(goose_attack *a, goose_run_config *cfg)
{
    for (int i = 0; i < GOOSE_LOGFILES; i++) {
        const char *path = a->opt.log_paths[i];
        if (!path)
            continue;
        cfg->log_formats[i] = a->opt.log_formats[i];
        cfg->log_sinks[i] = goose__sink_open(path, goose__log_header(i, cfg->log_formats[i]));
        if (!cfg->log_sinks[i])
            return goose__fail(a, GOOSE_ECONFIG, "cannot create %s %s: %s", LOG_FLAGS[i],
                               path, strerror(errno));
    }
    return GOOSE_OK;
}

int goose__run_setup(goose_attack *a, goose_run_config *cfg, goose_plan *plan)
{
    memset(cfg, 0, sizeof *cfg);
    memset(plan, 0, sizeof *plan);
    int rc = resolve_config(a, cfg);
    if (rc == GOOSE_OK)
        rc = goose__plan_build(a, plan);
    if (rc != GOOSE_OK)
        return rc;
    cfg->scenarios = plan->scenarios;
    cfg->nscenarios = plan->nscenarios;
    cfg->ntransactions = plan->ntxs;
    cfg->user_scenario = plan->user_scenario;
    if (goose__results_prepare(a, plan, cfg->threads) < 0)
        return goose__fail(a, GOOSE_ENOMEM, "out of memory");
    if (!a->opt.manager) /* a Manager's users run on its Workers */
        check_fd_limit(a, cfg->users);
    goose__baseline_free(a->baseline);
    a->baseline = NULL;
    if (a->opt.baseline_file && (rc = goose__baseline_load(a, &a->baseline)) != GOOSE_OK)
        return rc;
    return open_logs(a, cfg);
}

int goose__run_teardown(goose_attack *a, goose_run_config *cfg, goose_plan *plan)
{
    int rc = GOOSE_OK;
    for (int i = 0; i < GOOSE_LOGFILES; i++) {
        if (goose__sink_close(cfg->log_sinks[i]) < 0 && rc == GOOSE_OK)
            rc = goose__fail(a, GOOSE_EIO, "cannot write %s %s: %s", LOG_FLAGS[i],
                             a->opt.log_paths[i], strerror(errno));
        cfg->log_sinks[i] = NULL;
    }
    curl_slist_free_all(cfg->resolve);
    cfg->resolve = NULL;
    goose__plan_free(plan);
    return rc;
}
