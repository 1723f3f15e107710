/* Turning an attack's options and registry into a run: the engine's
 * configuration, the plan, and the empty results it will fill. */
#include "run/run.h"
#include "http/h1.h"
#include "util/clock.h"
#include "util/rng.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
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
    if (goose__test_hash(a, res->test_hash) < 0)
        strcpy(res->test_hash, "-");
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
    for (int k = GOOSE_ONCE_START; k <= GOOSE_ONCE_STOP; k++)
        if (plan->once[k]) /* test_start's, test_stop's own user */
            res->scenario_users[plan->once[k] - 1] = 1;
    for (size_t i = 0; i < plan->ntxs; i++, res->ntxs++) {
        res->txs[i].scenario = dup_or_empty(plan->txs[i].scenario);
        res->txs[i].name = dup_or_empty(plan->txs[i].name);
    }
    res->users = a->opt.users;
    res->threads = threads;
    res->co_mode = a->opt.co_mitigation;
    res->accept_invalid_certs = a->opt.accept_invalid_certs;
    res->seed = a->opt.seed;
    res->has_seed = 1;
    res->seed_drawn = !a->opt.seed_set;
    struct tm tm;
    gmtime_r(&a->test_time, &tm);
    strftime(res->started, sizeof res->started, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return 0;
}

static int describe_load(goose_attack *a, const goose_run_config *cfg)
{
    goose_load_info *l = &a->results.load;
    const goose_options *o = &a->opt;
    l->open_model = cfg->open_model;
    l->arrival_rate = o->arrival_plan ? 0 : o->arrival_rate;
    l->throttle_rps = o->throttle_rps;
    if (o->test_plan && !(l->test_plan = strdup(o->test_plan)))
        return -1;
    if (o->arrival_plan && !(l->arrival_plan = strdup(o->arrival_plan)))
        return -1;
    return 0;
}

/* A report path that cannot be created is bad configuration: found before
 * any user starts (the test's own path: {n} and {time} filled in). */
static int check_report_paths(goose_attack *a)
{
    for (size_t i = 0; i < a->opt.nreport_files; i++) {
        char *path = goose__report_path(a, a->opt.report_files[i]);
        if (!path)
            return goose__fail(a, GOOSE_ENOMEM, "out of memory");
        int existed = access(path, F_OK) == 0;
        FILE *f = fopen(path, "a");
        int rc = f ? GOOSE_OK
                   : goose__fail(a, GOOSE_ECONFIG, "cannot create report file %s: %s", path,
                                 strerror(errno));
        if (f)
            fclose(f);
        if (f && !existed)
            unlink(path);
        free(path);
        if (rc != GOOSE_OK)
            return rc;
    }
    return GOOSE_OK;
}

static size_t online_cpus(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (size_t)n : 1;
}

/* The options the row of `id` excludes (a test plan says how many users
 * run when; the open model starts its pool at once and iterations follow
 * the arrivals): refused again here for the Gaggle's own settings. */
static int refuse_excluded(goose_attack *a, goose_option_id id)
{
    char err[256];
    int rc = goose__option_excluded(&a->opt, id, err, sizeof err);
    return rc == GOOSE_OK ? GOOSE_OK : goose__fail(a, rc, "%s", err);
}

static int plan_users(goose_attack *a, goose_run_config *cfg)
{
    goose_options *o = &a->opt;
    int rc = refuse_excluded(a, GOOSE_OPT_TEST_PLAN);
    if (rc != GOOSE_OK)
        return rc;
    char err[256];
    rc = goose__shape_parse("--test-plan", o->test_plan, GOOSE_PLAN_USERS, 10000000,
                               &cfg->shape, err, sizeof err);
    if (rc != GOOSE_OK)
        return goose__fail(a, rc, "%s", err);
    if (!o->worker) /* a Worker has its slots of the Manager's plan */
        o->users = (size_t)goose__shape_max(&cfg->shape);
    cfg->hatch_rate = 0;
    return GOOSE_OK;
}

/* The open model: a pool of --users, started at once, and a rate. */
static int open_model(goose_attack *a, goose_run_config *cfg)
{
    goose_options *o = &a->opt;
    int rc = refuse_excluded(a, o->arrival_plan ? GOOSE_OPT_ARRIVAL_PLAN
                                                : GOOSE_OPT_ARRIVAL_RATE);
    if (rc == GOOSE_OK && o->arrival_plan && o->arrival_rate > 0)
        rc = goose__fail(a, GOOSE_ECONFIG, "give --arrival-rate or --arrival-plan, not both");
    if (rc != GOOSE_OK)
        return rc;
    char err[256];
    goose__shape_free(&cfg->arrivals);
    if (o->arrival_plan)
        rc = goose__shape_parse("--arrival-plan", o->arrival_plan, 0, 1e7, &cfg->arrivals,
                                   err, sizeof err);
    else if (goose__shape_add(&cfg->arrivals, o->arrival_rate, 0) < 0)
        rc = GOOSE_ENOMEM;
    if (rc != GOOSE_OK)
        return goose__fail(a, rc, "%s", rc == GOOSE_ENOMEM ? "out of memory" : err);
    cfg->open_model = 1;
    if (!o->users)
        o->users = online_cpus();
    cfg->hatch_rate = 0;
    size_t total = cfg->total_users ? cfg->total_users : o->users;
    return goose__shape_add(&cfg->shape, (double)total, 0) < 0
               ? goose__fail(a, GOOSE_ENOMEM, "out of memory") : GOOSE_OK;
}

/* The users level over time: a test plan, or --users started at the hatch
 * rate (user i at i / rate seconds) and held. */
static int users_over_time(goose_attack *a, goose_run_config *cfg)
{
    goose_options *o = &a->opt;
    goose__shape_free(&cfg->shape);
    if (o->arrival_rate > 0 || o->arrival_plan)
        return open_model(a, cfg);
    if (o->test_plan)
        return plan_users(a, cfg);
    if (!o->users)
        o->users = online_cpus();
    if (o->startup_us)
        cfg->hatch_rate = (double)o->users / ((double)o->startup_us / 1e6);
    else
        cfg->hatch_rate = o->hatch_rate > 0 ? o->hatch_rate : 1.0;
    size_t total = cfg->total_users ? cfg->total_users : o->users;
    uint64_t ramp = (uint64_t)((double)total / cfg->hatch_rate * 1e6);
    if (goose__shape_add(&cfg->shape, (double)total, ramp) < 0)
        return goose__fail(a, GOOSE_ENOMEM, "out of memory");
    return GOOSE_OK;
}

/* The client certificate's files may have changed since they were set:
 * read again before anything starts (a Worker: before it joins). */
int goose__run_check_tls(goose_attack *a)
{
    char err[600];
    int rc = goose__client_cert_check(&a->opt, err, sizeof err);
    return rc == GOOSE_OK ? GOOSE_OK : goose__fail(a, rc, "%s", err);
}

/* Said once as the run begins, on every side that runs with it (a
 * Manager, and each Worker its welcome told), so no log hides it. */
static void warn_tls(goose_attack *a)
{
    if (a->opt.accept_invalid_certs)
        goose__log(a, GOOSE_LOG_WARN, "--accept-invalid-certs: certificates and host names "
                   "of https:// targets are not checked");
}

/* Each run without --seed draws its own, which every report prints so
 * that --seed can repeat the run. */
static uint64_t draw_seed(void)
{
    uint64_t seed;
    if (getrandom(&seed, sizeof seed, GRND_NONBLOCK) == (ssize_t)sizeof seed)
        return seed;
    uint64_t x = goose__now_us() ^ (uint64_t)getpid() << 40; /* no entropy yet */
    return goose__splitmix64(&x);
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
    int rc = users_over_time(a, cfg);
    if (rc != GOOSE_OK)
        return rc;
    if (!o->seed_set)
        o->seed = draw_seed();
    cfg->seed = o->seed;
    cfg->attack = a;
    cfg->log_fn = a->log_fn;
    cfg->log_arg = a->log_arg;
    cfg->users = o->users;
    cfg->threads = cfg->threads_wanted = o->threads ? o->threads : online_cpus();
    /* a controller may add users: then every thread is there for them */
    if (cfg->threads > cfg->users && !o->controller)
        cfg->threads = cfg->users;
    cfg->iterations = o->iterations;
    cfg->throttle_rps = o->throttle_rps;
    cfg->sticky_follow = o->sticky_follow;
    cfg->assets_cross_origin = o->assets_cross_origin;
    cfg->no_cache = o->no_cache;
    cfg->timeout_ms = o->timeout_ms;
    cfg->co_mode = o->co_mitigation;
    cfg->stack_size = o->stack_size;
    cfg->max_request_names = o->max_request_names;
    cfg->local_addrs = o->local_addrs;
    cfg->nlocal_addrs = o->nlocal_addrs;
    cfg->http_version = (goose_http_version)o->http_version;
    cfg->tls = (goose_tls_setup){o->accept_invalid_certs, o->ca_pem, o->ca_pem_len,
                                 o->client_cert, o->client_key};
    /* a test defined by its iterations counts every one of them; a test
       plan measures all of its steps */
    cfg->reset_on_launch = !o->no_reset_metrics && !o->iterations && !o->test_plan &&
                           !cfg->open_model;
    for (size_t i = 0; i < o->nresolve; i++)
        if (goose__lines_add(&cfg->resolve, o->resolve[i]) < 0)
            return goose__fail(a, GOOSE_ENOMEM, "out of memory");
    rc = goose__run_check_tls(a);
    return rc == GOOSE_OK ? check_report_paths(a) : rc;
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

/* The option of each log file, for its messages. */
static const goose_option_id LOG_OPTIONS[GOOSE_LOGFILES] = {
    GOOSE_OPT_REQUEST_LOG, GOOSE_OPT_TRANSACTION_LOG, GOOSE_OPT_ERROR_LOG};

static const char *log_option(int i)
{
    return goose__option_row(LOG_OPTIONS[i])->name;
}

static int numbered(const char *path)
{
    return strstr(path, "{n}") || strstr(path, "{time}");
}

/* Test after test (a Manager that stays up, a serving Worker), a report or
 * log path without {n} or {time} is one file each test overwrites. */
void goose__warn_unnumbered_paths(goose_attack *a)
{
    for (size_t i = 0; i < a->opt.nreport_files; i++)
        if (!numbered(a->opt.report_files[i]))
            goose__log(a, GOOSE_LOG_WARN, "--report-file %s has no {n} or {time}: each test "
                       "overwrites it", a->opt.report_files[i]);
    for (int i = 0; i < GOOSE_LOGFILES; i++)
        if (a->opt.log_paths[i] && !numbered(a->opt.log_paths[i]))
            goose__log(a, GOOSE_LOG_WARN, "--%s %s has no {n} or {time}: each test "
                       "overwrites it", log_option(i), a->opt.log_paths[i]);
}

/* A log that cannot be created is bad configuration, found before any user
 * starts. */
static int open_logs(goose_attack *a, goose_run_config *cfg)
{
    for (int i = 0; i < GOOSE_LOGFILES; i++) {
        if (!a->opt.log_paths[i])
            continue;
        char *path = goose__report_path(a, a->opt.log_paths[i]); /* {n}, {time} */
        if (!path)
            return goose__fail(a, GOOSE_ENOMEM, "out of memory");
        cfg->log_formats[i] = a->opt.log_formats[i];
        cfg->log_sinks[i] = goose__sink_open(path, goose__log_header(i, cfg->log_formats[i]));
        int rc = cfg->log_sinks[i] ? GOOSE_OK
                                   : goose__fail(a, GOOSE_ECONFIG, "cannot create --%s %s: %s",
                                                 log_option(i), path, strerror(errno));
        free(path);
        if (rc != GOOSE_OK)
            return rc;
    }
    return GOOSE_OK;
}

/* Scenario hosts that need DNS are looked up now, once, and pinned for
 * both HTTP clients (see goose__http_pin). */
static int pin_hosts(goose_run_config *cfg)
{
    int rc = 0;
    for (size_t i = 0; i < cfg->nscenarios && rc == 0; i++)
        rc = goose__http_pin(&cfg->resolve, cfg->scenarios[i].host);
    return rc;
}

/* The table of each data set, read now, before anything starts; a
 * Worker reads no file (its share comes from the Manager): its tables
 * stay empty until then. */
static int read_data(goose_attack *a, goose_run_config *cfg, goose_plan *plan)
{
    int rc = goose__data_check(a); /* a --data name not registered, too */
    if (rc != GOOSE_OK || !a->ndatasets)
        return rc;
    plan->datasets = calloc(a->ndatasets, sizeof *plan->datasets);
    plan->tables = calloc(a->ndatasets, sizeof *plan->tables);
    if (!plan->datasets || !plan->tables)
        return goose__fail(a, GOOSE_ENOMEM, "out of memory");
    plan->ndatasets = a->ndatasets;
    for (size_t i = 0; i < a->ndatasets; i++) {
        const goose_data_reg *d = &a->datasets[i];
        plan->datasets[i] = (goose_dataset){d->name, d->mode, &plan->tables[i]};
    }
    cfg->datasets = plan->datasets;
    cfg->ndatasets = plan->ndatasets;
    for (size_t i = 0; i < a->ndatasets && a->role != GOOSE_ROLE_WORKER; i++) {
        const goose_data_reg *d = &a->datasets[i];
        const char *path = goose__data_path(a, d);
        const goose_table *t = &plan->tables[i];
        char err[600];
        if (goose__table_load(&plan->tables[i], path, err, sizeof err) < 0)
            return goose__fail(a, GOOSE_ECONFIG, "data \"%s\": %s", d->name, err);
        if (d->mode == GOOSE_DATA_UNIQUE && t->nrows < cfg->users)
            return goose__fail(a, GOOSE_ECONFIG, "data \"%s\" (%s) has %zu row%s for %zu "
                               "users: GOOSE_DATA_UNIQUE gives each user its own row", d->name,
                               path, t->nrows, t->nrows == 1 ? "" : "s", cfg->users);
        goose__log(a, GOOSE_LOG_DEBUG, "data \"%s\": %zu rows of %zu columns from %s (%s)",
                   d->name, t->nrows, t->ncols, path, goose__data_mode_name(d->mode));
    }
    return GOOSE_OK;
}

int goose__run_setup(goose_attack *a, goose_run_config *cfg, goose_plan *plan)
{
    memset(cfg, 0, sizeof *cfg);
    memset(plan, 0, sizeof *plan);
    a->test_time = time(NULL); /* the report's start, and {time} of its path */
    int rc = resolve_config(a, cfg);
    if (rc == GOOSE_OK)
        rc = goose__plan_build(a, plan);
    if (rc != GOOSE_OK)
        return rc;
    cfg->scenarios = plan->scenarios;
    cfg->nscenarios = plan->nscenarios;
    cfg->ntransactions = plan->ntxs;
    cfg->user_scenario = plan->user_scenario;
    cfg->alloc = &plan->alloc;
    if ((rc = read_data(a, cfg, plan)) != GOOSE_OK)
        return rc;
    /* a Manager sends no requests but test_start's and test_stop's */
    int requests = a->role != GOOSE_ROLE_MANAGER || plan->once[GOOSE_ONCE_START] || plan->once[GOOSE_ONCE_STOP];
    if (goose__results_prepare(a, plan, cfg->threads) < 0 || describe_load(a, cfg) < 0 ||
        (requests && pin_hosts(cfg) < 0))
        return goose__fail(a, GOOSE_ENOMEM, "out of memory");
    if (a->role != GOOSE_ROLE_MANAGER) /* a Manager's users run on its Workers */
        check_fd_limit(a, cfg->users);
    warn_tls(a);
    goose__baseline_free(a->baseline);
    a->baseline = NULL;
    char err[600];
    if (a->opt.baseline_file &&
        (rc = goose__baseline_load(a->opt.baseline_file, &a->baseline, err, sizeof err)) != GOOSE_OK)
        return goose__fail(a, rc, "%s", err);
    return open_logs(a, cfg);
}

int goose__run_teardown(goose_attack *a, goose_run_config *cfg, goose_plan *plan)
{
    int rc = GOOSE_OK;
    for (int i = 0; i < GOOSE_LOGFILES; i++) {
        if (goose__sink_close(cfg->log_sinks[i]) < 0 && rc == GOOSE_OK)
            rc = goose__fail(a, GOOSE_EIO, "cannot write --%s %s: %s", log_option(i),
                             a->opt.log_paths[i], strerror(errno));
        cfg->log_sinks[i] = NULL;
    }
    goose__lines_free(&cfg->resolve);
    goose__shape_free(&cfg->shape);
    goose__shape_free(&cfg->arrivals);
    goose__plan_free(plan);
    return rc;
}

/* Every run (standalone, Manager, Worker) holds the attack for its length. */
int goose__run_begin(goose_attack *a, int role)
{
    if (!a)
        return GOOSE_EINVAL;
    if (atomic_exchange(&a->running, 1))
        return goose__fail(a, GOOSE_ESTATE, "the attack is already running");
    if (role != GOOSE_ROLE_WORKER)
        atomic_store(&a->stop, 0);
    a->role = role;
    a->test_number = 1; /* a Manager that stays up numbers its own */
    a->error[0] = '\0';
    if (a->config_error) { /* a refused option or registration */
        int code = a->config_code;
        goose__fail(a, code, "%s", a->config_error);
        goose__run_end(a);
        return code;
    }
    return GOOSE_OK;
}

void goose__run_end(goose_attack *a)
{
    atomic_store(&a->stop, 0); /* the next run starts afresh */
    atomic_store(&a->running, 0);
}
