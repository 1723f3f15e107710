/* goose_main(): the one place in libgoose that behaves like a program.  It
 * reads flags and GOOSE_* environment variables (a flag wins), prints logs
 * and the report, turns SIGINT/SIGTERM into a graceful stop, and returns
 * the exit status: 0 ran as configured, 1 a threshold failed or the run
 * could not complete, 2 bad configuration. */
#include "run/run.h"

#include "util/escape.h"

#include <ctype.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define EXIT_RAN 0
#define EXIT_FAILED 1
#define EXIT_CONFIG 2
#define PARSE_ONLY 1 /* goose_attack_parse_args: --help, --version, ... */

/* Installed before the options are read, so it follows them as they come
 * (-q, --log-format json, --running-metrics). */
typedef struct cli_log {
    const goose_options *opt;
    int tty;              /* stderr is a terminal: a live status line */
    int status_shown;     /* the status line is on screen */
    double last_plain_s;
    char host[64];
} cli_log;

static int max_level(const cli_log *log)
{
    return log->opt->quiet ? GOOSE_LOG_WARN
         : log->opt->verbose ? GOOSE_LOG_DEBUG : GOOSE_LOG_INFO;
}

static void timestamp(char *out, size_t len)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    struct tm tm;
    gmtime_r(&tv.tv_sec, &tm);
    char s[32];
    strftime(s, sizeof s, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, len, "%s.%03dZ", s, (int)(tv.tv_usec / 1000));
}

/* One JSON object per line, for a container's log shipper. */
static void print_json_line(const cli_log *log, const char *level, const char *line)
{
    char stamp[40];
    goose_buf b;
    timestamp(stamp, sizeof stamp);
    goose__buf_init(&b);
    goose__buf_printf(&b, "{\"time\":\"%s\",\"host\":", stamp);
    goose__buf_json_str(&b, log->host);
    goose__buf_printf(&b, ",\"level\":\"%s\",\"message\":", level);
    goose__buf_json_str(&b, line);
    goose__buf_adds(&b, "}\n");
    fputs(b.data ? b.data : "", stderr);
    goose__buf_free(&b);
}

static void clear_status(cli_log *log)
{
    if (log->status_shown)
        fputs("\r\033[K", stderr);
    log->status_shown = 0;
}

static void print_log(void *arg, goose_log_level level, const char *line)
{
    static const char *names[] = {"ERROR", "WARN", "INFO", "DEBUG"};
    cli_log *log = arg;
    if ((int)level > max_level(log))
        return;
    clear_status(log);
    if (log->opt->log_json) {
        print_json_line(log, names[level], line);
        return;
    }
    char stamp[40];
    timestamp(stamp, sizeof stamp);
    fprintf(stderr, "%s %s %s %s\n", stamp, log->host, names[level], line);
}

/* A terminal gets one status line, redrawn each second; a log file gets a
 * plain line every --running-metrics. */
static void print_progress(void *arg, const goose_progress *p)
{
    cli_log *log = arg;
    char line[200];
    snprintf(line, sizeof line, "%.0fs %s: %zu users, %.0f req/s, %.2f%% failed, p95 %.1f ms, "
             "%llu requests", p->elapsed_s, p->phase, p->users, p->rps, p->fail_pct,
             p->p95_ms, (unsigned long long)p->requests);
    uint64_t every_us = log->opt->running_metrics_us;
    if (log->tty && !log->opt->log_json && max_level(log) >= GOOSE_LOG_INFO) {
        fprintf(stderr, "\r\033[K%s", line);
        log->status_shown = 1;
    } else if (every_us && p->elapsed_s - log->last_plain_s >= (double)every_us / 1e6) {
        log->last_plain_s = p->elapsed_s;
        print_log(log, GOOSE_LOG_INFO, line);
    }
}

static void print_help(const char *prog)
{
    size_t n;
    const goose_option_info *opts = goose__option_list(&n);
    printf("Usage: %s [OPTIONS]\n\nA libgoose load test (libgoose %s).\n"
           "Every option can also be set as GOOSE_<NAME> in the environment\n"
           "(GOOSE_RUN_TIME=30s); a flag wins over the environment.\n\n",
           prog, goose_version());
    for (size_t i = 0; i < n; i++) {
        char left[64];
        snprintf(left, sizeof left, "%c%c%s--%s%s%s",
                 opts[i].short_name ? '-' : ' ',
                 opts[i].short_name ? opts[i].short_name : ' ',
                 opts[i].short_name ? ", " : "  ", opts[i].name,
                 opts[i].takes_value ? " " : "",
                 opts[i].takes_value ? opts[i].value_hint : "");
        printf("  %-34s %s\n", left, opts[i].help);
    }
    printf("\nExit status: 0 the test ran as configured, 1 a --threshold failed or it"
           "\ncould not complete, 2 bad configuration.  See goose(7).\n"
           "SIGINT or SIGTERM stops the test gracefully (users finish, at most\n"
           "--stop-timeout); a second one abandons them at once; the report is written.\n");
}

/* One option given on the command line or in the environment. */
typedef struct cli_opt {
    const goose_option_info *info;
    const char *value;
} cli_opt;

typedef struct cli_args {
    cli_opt *opts;
    size_t n;
} cli_args;

static int add_opt(cli_args *args, const goose_option_info *info,
                   const char *value)
{
    args->opts[args->n].info = info;
    args->opts[args->n].value = value;
    args->n++;
    return GOOSE_OK;
}

/* A mistake on the command line: the attack keeps it (a run refuses). */
static int refuse(goose_attack *a, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int refuse(goose_attack *a, int code, const char *fmt, ...)
{
    char line[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    goose__fail(a, code, "%s", line);
    goose__remember_mistake(a, GOOSE_ECONFIG);
    return code;
}

static int unknown_flag(goose_attack *a, const char *name)
{
    const char *meant = goose__option_suggest(name);
    if (meant)
        return refuse(a, GOOSE_EOPTION, "unknown option: --%s (did you mean --%s?)", name, meant);
    return refuse(a, GOOSE_EOPTION, "unknown option: --%s (see --help)", name);
}

static int parse_long(goose_attack *a, cli_args *args, int argc, char **argv, int *i)
{
    const char *arg = argv[*i] + 2;
    const char *eq = strchr(arg, '=');
    char name[64];
    size_t len = eq ? (size_t)(eq - arg) : strlen(arg);
    if (len == 0 || len >= sizeof name)
        return refuse(a, GOOSE_EOPTION, "unknown option: %s (see --help)", argv[*i]);
    memcpy(name, arg, len);
    name[len] = '\0';
    const goose_option_info *info = goose__option_find(name);
    if (!info)
        return unknown_flag(a, name);
    if (eq)
        return add_opt(args, info, eq + 1);
    if (!info->takes_value)
        return add_opt(args, info, NULL);
    if (*i + 1 >= argc)
        return refuse(a, GOOSE_EVALUE, "--%s needs a value (%s)", name, info->value_hint);
    return add_opt(args, info, argv[++*i]);
}

static int parse_short(goose_attack *a, cli_args *args, int argc, char **argv, int *i)
{
    for (const char *p = argv[*i] + 1; *p; p++) {
        const goose_option_info *info = goose__option_find_short(*p);
        char flag[3] = {'-', *p, '\0'};
        if (!info)
            return refuse(a, GOOSE_EOPTION, "unknown option: %s (see --help)", flag);
        if (!info->takes_value) {
            add_opt(args, info, NULL);
            continue;
        }
        if (p[1])
            return add_opt(args, info, p + 1);
        if (*i + 1 >= argc)
            return refuse(a, GOOSE_EVALUE, "%s needs a value (%s)", flag, info->value_hint);
        return add_opt(args, info, argv[++*i]);
    }
    return GOOSE_OK;
}

static int parse_argv(goose_attack *a, cli_args *args, int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        int rc;
        if (!arg)
            break; /* argv[argc] */
        if (strncmp(arg, "--", 2) == 0 && arg[2])
            rc = parse_long(a, args, argc, argv, &i);
        else if (arg[0] == '-' && arg[1] && arg[1] != '-')
            rc = parse_short(a, args, argc, argv, &i);
        else
            rc = refuse(a, GOOSE_EOPTION, "unexpected argument \"%s\" (see --help)", arg);
        if (rc != GOOSE_OK)
            return rc;
    }
    return GOOSE_OK;
}

static int given(const cli_args *args, const goose_option_info *info)
{
    for (size_t i = 0; i < args->n; i++)
        if (args->opts[i].info == info)
            return 1;
    return 0;
}

/* GOOSE_RUN_TIME for --run-time; an empty variable counts as unset. */
static void env_name(const char *option, char *out, size_t len)
{
    snprintf(out, len, "GOOSE_%s", option);
    for (char *p = out; *p; p++)
        *p = *p == '-' ? '_' : (char)toupper((unsigned char)*p);
}

static int apply_all(goose_attack *a, const cli_args *args)
{
    size_t n;
    const goose_option_info *opts = goose__option_list(&n);
    for (size_t i = 0; i < n; i++) {
        char name[80];
        env_name(opts[i].name, name, sizeof name);
        const char *v = getenv(name);
        if (!v || !*v || given(args, goose__option_find(opts[i].name)))
            continue;
        char source[96];
        snprintf(source, sizeof source, " (from %s)", name);
        int rc = goose__set_option_from(a, opts[i].name, v, source);
        if (rc != GOOSE_OK)
            return rc;
    }
    for (size_t i = 0; i < args->n; i++) {
        /* every user of the machine can read a process's arguments */
        const goose_option_info *info = args->opts[i].info;
        if (info->show == GOOSE_SHOW_SECRET) {
            char env[80];
            env_name(info->name, env, sizeof env);
            return refuse(a, GOOSE_ECONFIG, "--%s on the command line is visible to every "
                          "user of this machine (ps): use --%s-file or %s", info->name,
                          info->name, env);
        }
        int rc = goose__set_option_from(a, info->name, args->opts[i].value, "");
        if (rc != GOOSE_OK)
            return rc;
    }
    return GOOSE_OK;
}

/* Variables of libgoose's own build and tests (Makefile, tests/), which
 * name no option. */
static const char *const NOT_OPTIONS[] = {"GOOSE_BUILD", "GOOSE_CHECK_SAN",
                                          "GOOSE_DOCKER_CHROOT", NULL};

/* A misspelt variable would be ignored: say so, with the name meant. */
static void warn_unknown_env(goose_attack *a)
{
    for (char **e = environ; e && *e; e++) {
        const char *eq = strchr(*e, '=');
        size_t len = eq ? (size_t)(eq - *e) : strlen(*e);
        char name[128];
        if (strncmp(*e, "GOOSE_", 6) != 0 || len <= 6 || len >= sizeof name)
            continue;
        memcpy(name, *e, len);
        name[len] = '\0';
        int known = 0;
        for (size_t i = 0; NOT_OPTIONS[i] && !known; i++)
            known = strcmp(name, NOT_OPTIONS[i]) == 0;
        char option[128], meant[160];
        for (size_t i = 6; i <= len; i++)
            option[i - 6] = name[i] == '_' ? '-' : (char)tolower((unsigned char)name[i]);
        const goose_option_info *info = goose__option_find(option);
        if (info) { /* GOOSE_RUN_TIME, not GOOSE_run_time */
            env_name(info->name, meant, sizeof meant);
            known = known || strcmp(meant, name) == 0;
        }
        if (known)
            continue;
        const char *close = goose__option_suggest(option);
        if (close) {
            env_name(close, meant, sizeof meant);
            goose__log(a, GOOSE_LOG_WARN, "unknown environment variable %s (did you mean "
                       "%s?)", name, meant);
        } else {
            goose__log(a, GOOSE_LOG_WARN, "unknown environment variable %s: no option has "
                       "this name (see --help)", name);
        }
    }
}

int goose_attack_parse_args(goose_attack *a, int argc, char **argv)
{
    if (!a)
        return GOOSE_EINVAL;
    if (atomic_load(&a->running))
        return goose__fail(a, GOOSE_ESTATE, "options cannot change while the attack runs");
    if (argc < 0 || (argc > 0 && !argv))
        return refuse(a, GOOSE_EINVAL, "goose_attack_parse_args: argc is %s",
                      argc < 0 ? "negative" : "above 0 but argv is NULL");
    cli_args args = {calloc((size_t)(argc > 0 ? argc : 1), sizeof(cli_opt)), 0};
    if (!args.opts)
        return goose__fail(a, GOOSE_ENOMEM, "out of memory");
    int rc = parse_argv(a, &args, argc, argv);
    if (rc == GOOSE_OK)
        rc = apply_all(a, &args);
    free(args.opts);
    if (rc != GOOSE_OK)
        return rc;
    warn_unknown_env(a);
    if (a->opt.help || a->opt.version || a->opt.scenarios_list) {
        goose__fail(a, GOOSE_OK, "%s was given: nothing to run", a->opt.help ? "--help"
                    : a->opt.version ? "--version" : "--scenarios-list");
        return PARSE_ONLY;
    }
    return GOOSE_OK;
}

static goose_attack *volatile signalled_attack;
static volatile sig_atomic_t signals_seen;

/* SIGINT and SIGTERM alike: the first stops the test gracefully, the
 * second abandons the users still finishing (the report is still
 * written), a third ends the program at once. */
static void on_signal(int sig)
{
    (void)sig;
    goose_attack *a = signalled_attack;
    if (++signals_seen == 1) {
        if (a)
            goose_attack_stop(a);
        return;
    }
    if (a)
        atomic_store(&a->stop, 2); /* the stop ends at once */
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
}

static int exit_status(int rc)
{
    switch (rc) {
    case GOOSE_OK:
        return EXIT_RAN;
    case GOOSE_EINVAL:
    case GOOSE_EOPTION:
    case GOOSE_EVALUE:
    case GOOSE_EUNSUPPORTED:
    case GOOSE_ECONFIG:
    case GOOSE_EEXIST:
        return EXIT_CONFIG;
    default:
        return EXIT_FAILED;
    }
}

/* Each user holds a connection: a program may raise its own soft limit on
 * open files to the hard one. */
static void raise_fd_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

/* Gaggle options without --manager or --worker would be ignored: refuse. */
static int check_mode(goose_attack *a)
{
    if (a->opt.manager || a->opt.worker)
        return 0;
    for (int id = 0; id < GOOSE_NOPTIONS; id++) {
        const goose_option_info *info = goose__option_row(id);
        if (!(info->sides & GOOSE_SIDE_STANDALONE) && goose__option_given(&a->opt, id)) {
            fprintf(stderr, "error: --%s needs --manager or --worker\n", info->name);
            return EXIT_CONFIG;
        }
    }
    return 0;
}

/* --scenarios-list: what would run, then exit without running. */
static int list_scenarios(goose_attack *a)
{
    char *text = NULL;
    int rc = goose__scenarios_list(a, &text);
    if (rc != GOOSE_OK) {
        fprintf(stderr, "error: %s\n", goose_attack_error(a));
        return exit_status(rc);
    }
    fputs(text, stdout);
    fflush(stdout);
    free(text);
    return EXIT_RAN;
}

static int run(goose_attack *a)
{
    struct sigaction sa, old_int, old_term;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    signalled_attack = a;
    signals_seen = 0;
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    int rc = a->opt.manager ? gaggle_manager_run(a)
           : a->opt.worker  ? gaggle_worker_run(a)
                            : goose_attack_run(a);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    signalled_attack = NULL;
    return rc;
}

static void print_report(goose_attack *a)
{
    if (a->opt.no_print_metrics || !a->results.valid)
        return;
    char *text = goose__report_render(a, "text");
    if (text) {
        fputs(text, stdout);
        fflush(stdout);
    }
    free(text);
}

static void print_error(cli_log *log, const char *message)
{
    clear_status(log);
    if (log->opt->log_json) /* a JSON log stays JSON to its end */
        print_json_line(log, "error", message);
    else
        fprintf(stderr, "error: %s\n", message);
}

/* A Manager that stays up: each test's closing error line and report as
 * the test ends (the run's own end prints none again). */
static void print_test_end(void *arg, goose_attack *a, int rc)
{
    cli_log *log = arg;
    clear_status(log);
    if (rc != GOOSE_OK)
        print_error(log, goose_attack_error(a));
    print_report(a);
}

/* The run itself, its closing error line and the report. */
static int run_and_report(goose_attack *a, cli_log *log, int own_log)
{
    int staying = a->opt.manager && a->opt.no_autostart;
    if (own_log) {
        a->progress_fn = print_progress;
        a->progress_arg = log;
    }
    a->test_end_fn = print_test_end;
    a->test_end_arg = log;
    raise_fd_limit();
    int rc = run(a);
    clear_status(log);
    if (rc != GOOSE_OK)
        print_error(log, goose_attack_error(a));
    if (!staying)
        print_report(a);
    if (own_log)
        a->progress_fn = NULL;
    a->test_end_fn = NULL;
    a->test_end_arg = NULL;
    return exit_status(rc);
}

int goose_main(goose_attack *attack, int argc, char **argv)
{
    if (!attack) {
        fprintf(stderr, "error: goose_main: attack is NULL (goose_attack_new failed?)\n");
        return EXIT_CONFIG;
    }
    cli_log log = {.opt = &attack->opt, .tty = isatty(STDERR_FILENO)};
    gethostname(log.host, sizeof log.host - 1);
    int own_log = attack->log_fn == NULL;
    if (own_log) /* the warnings of reading the options are logged too */
        goose_attack_set_log(attack, print_log, &log);
    int status = EXIT_RAN;
    int rc = goose_attack_parse_args(attack, argc, argv);
    if (rc < 0) {
        fprintf(stderr, "error: %s\n", goose_attack_error(attack));
        status = exit_status(rc);
    } else if (attack->opt.help) {
        print_help(argc > 0 && argv[0] ? argv[0] : "loadtest");
    } else if (attack->opt.version) {
        printf("libgoose %s\n", goose_version());
    } else if (attack->opt.scenarios_list) {
        status = list_scenarios(attack);
    } else if (check_mode(attack)) {
        status = EXIT_CONFIG;
    } else {
        status = run_and_report(attack, &log, own_log);
    }
    if (own_log)
        goose_attack_set_log(attack, NULL, NULL);
    return status;
}
