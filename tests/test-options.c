/* Option parsing: durations, values, goose_main's flags and GOOSE_* env,
 * and every bad input giving exit status 2 without running anything. */
#include "test.h"

#include "run/run.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <sys/socket.h>
#include <unistd.h>

static int noop(goose_user *u)
{
    (void)u;
    return GOOSE_OK;
}

static uint64_t dur(const char *s)
{
    uint64_t us = 12345;
    ASSERT_EQ(goose__parse_duration_us(s, &us), 0);
    return us;
}

static void bad_dur(const char *s)
{
    uint64_t us;
    if (goose__parse_duration_us(s, &us) == 0)
        TEST_FAIL("duration \"%s\" was accepted", s);
}

TEST(durations)
{
    ASSERT_EQ(dur("90"), 90000000);
    ASSERT_EQ(dur("30s"), 30000000);
    ASSERT_EQ(dur("20m"), 1200000000);
    ASSERT_EQ(dur("3h"), 10800000000ull);
    ASSERT_EQ(dur("1h30m"), 5400000000ull);
    ASSERT_EQ(dur("1m30s"), 90000000);
    ASSERT_EQ(dur("1.5s"), 1500000);
    ASSERT_EQ(dur("250ms"), 250000);
    ASSERT_EQ(dur("0"), 0);
    const char *bad[] = {"5x", "-1s", "1h-5m", "", "s", "1 s", "1s ", "h1",
                         "1e3", "+1s", "1ss", "1m2", "nan", "inf", "0x10"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        bad_dur(bad[i]);
    bad_dur(NULL);
}

static goose_attack *new_attack(void)
{
    goose_attack *a = goose_attack_new();
    goose_scenario *s = goose_scenario_new("s");
    goose_scenario_add_transaction(s, "t", noop);
    goose_attack_add_scenario(a, s);
    return a;
}

static void set_ok(goose_attack *a, const char *name, const char *value)
{
    int rc = goose_attack_set_option(a, name, value);
    if (rc != GOOSE_OK)
        TEST_FAIL("--%s %s refused: %s", name, value ? value : "", goose_attack_error(a));
}

static void set_bad(goose_attack *a, const char *name, const char *value, int want)
{
    int rc = goose_attack_set_option(a, name, value);
    if (rc != want)
        TEST_FAIL("--%s \"%s\": got %d, want %d", name, value ? value : "(null)", rc, want);
    if (!goose_attack_error(a)[0])
        TEST_FAIL("--%s: no error message", name);
}

TEST(set_option_values)
{
    goose_attack *a = new_attack();
    set_ok(a, "users", "8");
    ASSERT_EQ(a->opt.users, 8);
    set_ok(a, "hatch-rate", "0.5");
    ASSERT(a->opt.hatch_rate == 0.5);
    set_ok(a, "run-time", "1m");
    ASSERT_EQ(a->opt.run_time_us, 60000000);
    set_ok(a, "timeout", "1.5");
    ASSERT_EQ(a->opt.timeout_ms, 1500);
    set_ok(a, "no-reset-metrics", NULL);
    ASSERT_EQ(a->opt.no_reset_metrics, 1);
    set_ok(a, "no-reset-metrics", "false");
    ASSERT_EQ(a->opt.no_reset_metrics, 0);
    set_ok(a, "report-file", "a.json");
    set_ok(a, "report-file", "b.json");
    set_ok(a, "report-file", "out.html");
    set_ok(a, "report-file", "out.htm");
    ASSERT_EQ(a->opt.nreport_files, 4);
    set_ok(a, "host", "https://example.test:8443/base");
    set_ok(a, "resolve", "example.test:8443:127.0.0.1");
    set_ok(a, "stack-size", "64k");
    ASSERT_EQ(a->opt.stack_size, 65536);
    set_ok(a, "threads", "3");
    ASSERT_EQ(a->opt.co_mitigation, 0); /* disabled by default */
    set_ok(a, "co-mitigation", "maximum");
    ASSERT_EQ(a->opt.co_mitigation, 3);
    set_ok(a, "co-mitigation", "disabled");
    ASSERT_EQ(a->opt.co_mitigation, 0);
    goose_attack_free(a);
}

TEST(set_option_refusals)
{
    goose_attack *a = new_attack();
    set_bad(a, "bogus", "1", GOOSE_EOPTION);
    set_bad(a, "users", "0", GOOSE_EVALUE);
    set_bad(a, "users", "-3", GOOSE_EVALUE);
    set_bad(a, "users", "ten", GOOSE_EVALUE);
    set_bad(a, "users", "", GOOSE_EVALUE);
    set_bad(a, "users", NULL, GOOSE_EVALUE);
    set_bad(a, "hatch-rate", "0", GOOSE_EVALUE);
    set_bad(a, "hatch-rate", "-1", GOOSE_EVALUE);
    set_bad(a, "hatch-rate", "fast", GOOSE_EVALUE);
    set_bad(a, "run-time", "5x", GOOSE_EVALUE);
    set_bad(a, "run-time", "-1s", GOOSE_EVALUE);
    set_bad(a, "run-time", "1h-5m", GOOSE_EVALUE);
    set_bad(a, "run-time", "", GOOSE_EVALUE);
    set_bad(a, "run-time", "0", GOOSE_EVALUE);
    set_bad(a, "host", "ftp://127.0.0.1/", GOOSE_EVALUE);
    set_bad(a, "host", "127.0.0.1:8080", GOOSE_EVALUE);
    set_bad(a, "host", "http://", GOOSE_EVALUE);
    set_bad(a, "host", "", GOOSE_EVALUE);
    set_bad(a, "threads", "0", GOOSE_EVALUE);
    set_bad(a, "iterations", "0", GOOSE_EVALUE);
    set_bad(a, "no-reset-metrics", "maybe", GOOSE_EVALUE);
    set_bad(a, "report-file", "out.txt", GOOSE_EVALUE);
    set_bad(a, "resolve", "nohost", GOOSE_EVALUE);
    set_bad(a, "stack-size", "1k", GOOSE_EVALUE);
    set_bad(a, "co-mitigation", "avg", GOOSE_EVALUE);
    ASSERT_STR_EQ(goose_attack_error(a), "--co-mitigation \"avg\" must be disabled, "
                                         "average, minimum or maximum");
    set_bad(a, "co-mitigation", "", GOOSE_EVALUE);
    set_bad(a, "co-mitigation", NULL, GOOSE_EVALUE);
    set_bad(a, "sticky-follow", "sometimes", GOOSE_EVALUE);
    set_bad(a, "assets-cross-origin", "sometimes", GOOSE_EVALUE);
    set_bad(a, "no-cache", "2", GOOSE_EVALUE);
    set_bad(a, "controller", "", GOOSE_EVALUE);
    set_bad(a, "test-plan", "10", GOOSE_EVALUE);
    ASSERT(strstr(goose_attack_error(a), "--test-plan: step \"10\" is not \"users,duration\""));
    set_bad(a, "test-plan", "10,forever", GOOSE_EVALUE);
    set_bad(a, "test-plan", "1.5,10s", GOOSE_EVALUE);
    set_bad(a, "arrival-plan", "5,1x", GOOSE_EVALUE);
    set_bad(a, "arrival-rate", "0", GOOSE_EVALUE);
    set_bad(a, "throttle-requests", "-1", GOOSE_EVALUE);
    set_bad(a, "threshold", "p95<abc", GOOSE_EVALUE);
    ASSERT(strstr(goose_attack_error(a), "--threshold \"p95<abc\": \"abc\" is not a duration"));
    set_bad(a, "threshold", "", GOOSE_EVALUE);
    set_bad(a, "threshold-abort", "maybe", GOOSE_EVALUE);
    set_bad(a, "gaggle-key", "", GOOSE_EVALUE);
    set_bad(a, "tls-ca", "", GOOSE_EVALUE);
    set_bad(a, "manager-bind-port", "0", GOOSE_EVALUE);
    set_bad(a, "manager-port", "70000", GOOSE_EVALUE);
    set_bad(a, "expect-workers", "0", GOOSE_EVALUE);
    set_bad(a, "gaggle-timeout", "500ms", GOOSE_EVALUE);
    set_bad(a, "manager-host", "", GOOSE_EVALUE);
    ASSERT_EQ(goose_attack_set_option(NULL, "users", "1"), GOOSE_EINVAL);
    ASSERT_EQ(goose_attack_set_option(a, NULL, "1"), GOOSE_EINVAL);
    goose_attack_free(a);
}

/* goose_main with the given arguments; must refuse before running. */
static int main_with(goose_attack *a, ...)
{
    char *argv[32] = {(char *)"loadtest"};
    int argc = 1;
    va_list ap;
    va_start(ap, a);
    for (char *s; (s = va_arg(ap, char *));)
        argv[argc++] = s;
    va_end(ap);
    return goose_main(a, argc, argv);
}

#define REFUSED(...)                                                           \
    do {                                                                       \
        goose_attack *a_ = new_attack();                                       \
        int rc_ = main_with(a_, __VA_ARGS__, NULL);                            \
        if (rc_ != 2)                                                          \
            TEST_FAIL("goose_main(%s) returned %d, want 2", #__VA_ARGS__, rc_);\
        goose_attack_free(a_);                                                 \
    } while (0)

TEST(main_refuses_bad_input)
{
    REFUSED("--bogus");
    REFUSED("-x");
    REFUSED("stray");
    REFUSED("--users");
    REFUSED("-u");
    REFUSED("-u", "0");
    REFUSED("--users=0");
    REFUSED("-r", "0", "--host", "http://127.0.0.1:1");
    REFUSED("-r", "-2");
    REFUSED("--run-time", "5x");
    REFUSED("-t", "-1s");
    REFUSED("-t", "1h-5m");
    REFUSED("-t", "");
    REFUSED("--host", "localhost:8080");
    REFUSED("--test-plan", "10,1s");
    REFUSED("--co-mitigation", "sometimes", "--host", "http://127.0.0.1:1");
    REFUSED("--co-mitigation", "Average", "--host", "http://127.0.0.1:1");
    REFUSED("--worker", "--co-mitigation", "average"); /* the Manager's option */
    REFUSED("--manager"); /* without --expect-workers */
    REFUSED("--manager", "--expect-workers", "2", "--manager-host", "x");
    REFUSED("--manager", "--worker");
    REFUSED("--worker", "-u", "5");
    REFUSED("--worker", "--run-time", "5s");
    REFUSED("--worker", "--host", "http://127.0.0.1:1");
    REFUSED("--worker", "--report-file", "x.json");
    REFUSED("--worker", "--resolve", "a:80:127.0.0.1");
    REFUSED("--expect-workers", "2"); /* Gaggle options need a mode */
    REFUSED("--manager-host", "127.0.0.1");
    REFUSED("--manager", "--expect-workers", "1", "--gaggle-key", "0123456789abcdef01");
    REFUSED("--tls-ca", "ca.pem"); /* TLS options need a mode */
    REFUSED("--threshold", "p95<abc");
    REFUSED("--threshold", "p95=1s", "--host", "http://127.0.0.1:1");
    REFUSED("--threshold-abort", "--host", "http://127.0.0.1:1"); /* no --threshold */
    REFUSED("--worker", "--threshold", "p95<1s");
    REFUSED("--report-file", "/nonexistent-dir/x.json", "--host", "http://127.0.0.1:1");
    REFUSED("--hatch-rate", "2", "--startup-time", "5s", "--host", "http://127.0.0.1:1");
    /* no host anywhere: found before any user starts */
    REFUSED("-u", "1", "-t", "1s");
}

TEST(main_refuses_bad_registrations)
{
    char *argv[] = {(char *)"loadtest", (char *)"--host",
                    (char *)"http://127.0.0.1:1", NULL};
    goose_attack *a = goose_attack_new();
    ASSERT_EQ(goose_main(a, 3, argv), 2); /* no scenarios */
    goose_attack_add_scenario(a, goose_scenario_new(""));
    ASSERT_EQ(goose_main(a, 3, argv), 2);
    goose_attack_free(a);
    a = new_attack();
    goose_scenario *dup = goose_scenario_new("s");
    goose_scenario_add_transaction(dup, "t", noop);
    goose_attack_add_scenario(a, dup);
    ASSERT_EQ(goose_main(a, 3, argv), 2);
    goose_attack_free(a);
    ASSERT_EQ(goose_main(NULL, 3, argv), 2);
}

TEST(env_and_flag_precedence)
{
    goose_attack *a = new_attack();
    setenv("GOOSE_USERS", "7", 1);
    setenv("GOOSE_RUN_TIME", "", 1); /* empty counts as unset */
    setenv("GOOSE_NO_RESET_METRICS", "1", 1);
    ASSERT_EQ(main_with(a, "--version", NULL), 0);
    ASSERT_EQ(a->opt.users, 7);
    ASSERT_EQ(a->opt.no_reset_metrics, 1);
    ASSERT_EQ(a->opt.run_time_us, 0);
    goose_attack_free(a);
    a = new_attack();
    ASSERT_EQ(main_with(a, "--version", "-u", "3", NULL), 0);
    ASSERT_EQ(a->opt.users, 3); /* the flag wins */
    goose_attack_free(a);
    setenv("GOOSE_USERS", "zero", 1);
    a = new_attack();
    ASSERT_EQ(main_with(a, "--version", NULL), 2);
    goose_attack_free(a);
    unsetenv("GOOSE_USERS");
    setenv("GOOSE_CO_MITIGATION", "minimum", 1);
    a = new_attack();
    ASSERT_EQ(main_with(a, "--version", NULL), 0);
    ASSERT_EQ(a->opt.co_mitigation, 2);
    goose_attack_free(a);
    setenv("GOOSE_CO_MITIGATION", "often", 1);
    a = new_attack();
    ASSERT_EQ(main_with(a, "--version", NULL), 2);
    goose_attack_free(a);
    unsetenv("GOOSE_CO_MITIGATION");
    setenv("GOOSE_STICKY_FOLLOW", "sometimes", 1);
    a = new_attack();
    ASSERT_EQ(main_with(a, "--version", NULL), 2);
    goose_attack_free(a);
    unsetenv("GOOSE_STICKY_FOLLOW");
}

TEST(short_flags_and_help)
{
    goose_attack *a = new_attack();
    ASSERT_EQ(main_with(a, "-u8", "-r", "2.5", "-t", "1m", "-vv", "--help", NULL), 0);
    ASSERT_EQ(a->opt.users, 8);
    ASSERT(a->opt.hatch_rate == 2.5);
    ASSERT_EQ(a->opt.verbose, 2);
    ASSERT_EQ(a->opt.help, 1);
    goose_attack_free(a);
}

TEST(strerror_and_version)
{
    ASSERT_STR_EQ(goose_strerror(GOOSE_OK), "success");
    ASSERT_STR_EQ(goose_strerror(GOOSE_EUNSUPPORTED), "not supported yet");
    ASSERT_STR_EQ(goose_strerror(GOOSE_ETHRESHOLD), "a threshold failed");
    ASSERT_NOT_NULL(strstr(goose_strerror(GOOSE_EFAILED), "a check did not hold")); /* goose_response_expect_* too */
    for (int code = GOOSE_OK; code >= GOOSE_ESTOPPING; code--) /* every code has a text */
        ASSERT(strcmp(goose_strerror(code), "unknown error") != 0);
    ASSERT_STR_EQ(goose_strerror(-999), "unknown error");
    ASSERT_STR_EQ(goose_version(), GOOSE_VERSION_STRING);
    ASSERT_EQ(goose_version_num(), GOOSE_VERSION_NUM);
    ASSERT(GOOSE_AT_LEAST_VERSION(0, 1, 0));
    ASSERT(!GOOSE_AT_LEAST_VERSION(99, 0, 0));
}

/* ---- unknown names say what was meant ---- */

TEST(unknown_names_suggest)
{
    ASSERT_STR_EQ(goose__option_suggest("run-tme"), "run-time");
    ASSERT_STR_EQ(goose__option_suggest("run_time"), "run-time");
    ASSERT_STR_EQ(goose__option_suggest("RUNTIME"), "run-time");
    ASSERT_STR_EQ(goose__option_suggest("usrs"), "users");
    ASSERT_STR_EQ(goose__option_suggest("hatchrate"), "hatch-rate");
    ASSERT_NULL(goose__option_suggest("bogus"));
    ASSERT_NULL(goose__option_suggest("xyzzy-plugh"));
    ASSERT_NULL(goose__option_suggest("u"));
    ASSERT_NULL(goose__option_suggest(""));
    goose_attack *a = new_attack();
    set_bad(a, "run_time", "1s", GOOSE_EOPTION);
    ASSERT_STR_EQ(goose_attack_error(a), "unknown option: --run_time (did you mean --run-time?)");
    set_bad(a, "bogus", "1", GOOSE_EOPTION);
    ASSERT_STR_EQ(goose_attack_error(a), "unknown option: --bogus");
    set_bad(a, "--users", "3", GOOSE_EOPTION);
    ASSERT_STR_EQ(goose_attack_error(a), "unknown option name \"--users\": names have no "
                                         "leading dashes (use \"users\")");
    set_bad(a, "-u", "3", GOOSE_EOPTION);
    ASSERT_STR_EQ(goose_attack_error(a), "unknown option name \"-u\": names have no "
                                         "leading dashes (use \"users\")");
    set_bad(a, "--run-tme", "3", GOOSE_EOPTION);
    ASSERT_STR_EQ(goose_attack_error(a), "unknown option: ----run-tme");
    set_bad(a, NULL, "3", GOOSE_EINVAL);
    goose_attack_free(a);
    a = new_attack();
    char *argv[] = {(char *)"loadtest", (char *)"--run-tme", (char *)"5", NULL};
    ASSERT_EQ(goose_attack_parse_args(a, 3, argv), GOOSE_EOPTION);
    ASSERT_STR_EQ(goose_attack_error(a), "unknown option: --run-tme (did you mean --run-time?)");
    goose_attack_free(a);
}

/* ---- a refused option sticks to the attack ---- */

static void run_refused(goose_attack *a, const char *why)
{
    ASSERT_EQ(goose_attack_run(a), GOOSE_ECONFIG);
    if (!strstr(goose_attack_error(a), why))
        TEST_FAIL("goose_attack_run: \"%s\" does not say \"%s\"", goose_attack_error(a), why);
    ASSERT_EQ(gaggle_manager_run(a), GOOSE_ECONFIG);
    ASSERT(strstr(goose_attack_error(a), why));
    ASSERT_EQ(gaggle_worker_run(a), GOOSE_ECONFIG);
    ASSERT(strstr(goose_attack_error(a), why));
    gaggle_worker *w = gaggle_worker_start(a);
    ASSERT_NOT_NULL(w);
    ASSERT_EQ(gaggle_worker_join(w), GOOSE_ECONFIG);
    ASSERT(strstr(goose_attack_error(a), why));
}

TEST(failed_option_sticks)
{
    goose_attack *a = new_attack();
    set_ok(a, "host", "http://127.0.0.1:1");
    set_ok(a, "users", "1");
    set_ok(a, "iterations", "1");
    set_bad(a, "run_time", "1s", GOOSE_EOPTION);
    set_ok(a, "run-time", "1s"); /* set right later: the mistake still sticks */
    run_refused(a, "unknown option: --run_time (did you mean --run-time?)");
    goose_attack_free(a);

    a = new_attack(); /* a bad value, then a good one: the first mistake wins */
    set_ok(a, "host", "http://127.0.0.1:1");
    set_bad(a, "users", "many", GOOSE_EVALUE);
    set_bad(a, "threads", "0", GOOSE_EVALUE);
    run_refused(a, "--users \"many\"");
    goose_attack_free(a);

    a = new_attack(); /* a flag refused by goose_attack_parse_args */
    char *argv[] = {(char *)"svc", (char *)"--manager-port", (char *)"99999", NULL};
    ASSERT_EQ(goose_attack_parse_args(a, 3, argv), GOOSE_EVALUE);
    run_refused(a, "--manager-port \"99999\"");
    goose_attack_free(a);

    a = new_attack(); /* options cannot change while running: not a mistake */
    set_ok(a, "host", "http://127.0.0.1:1");
    atomic_store(&a->running, 1);
    set_bad(a, "users", "2", GOOSE_ESTATE);
    atomic_store(&a->running, 0);
    ASSERT_NULL(a->config_error);
    goose_attack_free(a);
}

static char *write_file(const char *dir, const char *name, const char *text)
{
    static char path[8][512];
    static int next;
    char *p = path[next++ % 8];
    snprintf(p, 512, "%s/%s", dir, name);
    FILE *f = fopen(p, "w");
    ASSERT_NOT_NULL(f);
    fputs(text, f);
    fclose(f);
    return p;
}

TEST(values_checked_when_set)
{
    char dir[] = "/tmp/goose-options-XXXXXX";
    ASSERT_NOT_NULL(mkdtemp(dir));
    char *shortkey = write_file(dir, "short.key", "0123456789\n");
    char *goodkey = write_file(dir, "good.key", "0123456789abcdef0123\n");
    char *pem = write_file(dir, "ca.pem", "not checked here\n");
    char missing[600], nodir[600];
    snprintf(missing, sizeof missing, "%s/missing.pem", dir);
    snprintf(nodir, sizeof nodir, "%s/no/such/dir/report.json", dir);

    goose_attack *a = new_attack();
    set_bad(a, "gaggle-key", "short", GOOSE_EVALUE);
    ASSERT(strstr(goose_attack_error(a), "at least 16 bytes"));
    char long_key[1100];
    memset(long_key, 'k', sizeof long_key - 1);
    long_key[sizeof long_key - 1] = '\0';
    set_bad(a, "gaggle-key", long_key, GOOSE_EVALUE);
    ASSERT(strstr(goose_attack_error(a), "longer than 1024 bytes"));
    set_ok(a, "gaggle-key", "0123456789abcdef");
    set_bad(a, "gaggle-key-file", goodkey, GOOSE_ECONFIG); /* not both */
    ASSERT_STR_EQ(goose_attack_error(a), "give --gaggle-key-file or GOOSE_GAGGLE_KEY, not both");
    goose_attack_free(a);

    a = new_attack();
    set_bad(a, "gaggle-key-file", shortkey, GOOSE_EVALUE);
    ASSERT(strstr(goose_attack_error(a), "at least 16 bytes"));
    set_bad(a, "gaggle-key-file", missing, GOOSE_EVALUE);
    ASSERT(strstr(goose_attack_error(a), "cannot read --gaggle-key-file"));
    set_bad(a, "gaggle-key-file", dir, GOOSE_EVALUE);
    set_ok(a, "gaggle-key-file", goodkey);
    ASSERT_STR_EQ(a->opt.gaggle_key_file, goodkey);
    for (const char *const *f = (const char *const[]){"tls-ca", "tls-cert", "tls-key",
                                                       "baseline-file", NULL}; *f; f++) {
        set_bad(a, *f, missing, GOOSE_EVALUE);
        ASSERT(strstr(goose_attack_error(a), "No such file"));
        set_bad(a, *f, dir, GOOSE_EVALUE);
        ASSERT(strstr(goose_attack_error(a), "a directory"));
        set_ok(a, *f, pem);
    }
    set_bad(a, "report-file", nodir, GOOSE_EVALUE);
    ASSERT(strstr(goose_attack_error(a), "cannot create --report-file"));
    set_bad(a, "request-log", nodir, GOOSE_EVALUE);
    set_bad(a, "error-log", nodir, GOOSE_EVALUE);
    set_ok(a, "transaction-log", "relative.log"); /* the working directory */
    set_bad(a, "metrics-listen", "70000", GOOSE_EVALUE);
    set_bad(a, "controller", "127.0.0.1:0", GOOSE_EVALUE);
    set_ok(a, "controller", "[::1]:9000");
    set_ok(a, "manager", NULL);
    set_bad(a, "worker", NULL, GOOSE_ECONFIG);
    set_ok(a, "worker", "false"); /* off excludes nothing */
    goose_attack_free(a);

    a = new_attack();
    set_ok(a, "hatch-rate", "2");
    set_bad(a, "startup-time", "10s", GOOSE_ECONFIG);
    ASSERT_STR_EQ(goose_attack_error(a), "give --hatch-rate or --startup-time, not both");
    ASSERT_EQ(a->opt.startup_us, 0);
    set_ok(a, "users", "5");
    set_bad(a, "test-plan", "5,10s", GOOSE_ECONFIG);
    ASSERT_STR_EQ(goose_attack_error(a), "--test-plan sets the users over time: drop --users");
    ASSERT_NULL(a->opt.test_plan);
    goose_attack_free(a);

    a = new_attack();
    set_ok(a, "arrival-rate", "10");
    set_bad(a, "arrival-plan", "10,1m", GOOSE_ECONFIG);
    goose_attack_free(a);

    a = new_attack();
    set_ok(a, "arrival-plan", "10,1m");
    set_bad(a, "run-time", "1m", GOOSE_ECONFIG);
    ASSERT_STR_EQ(goose_attack_error(a), "--arrival-plan ends the run: drop --run-time");
    goose_attack_free(a);

    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    ASSERT_EQ(system(cmd), 0);
}

/* A self-signed certificate (until 2126), for --ca-file. */
#define TEST_CA_PEM                                                            \
    "-----BEGIN CERTIFICATE-----\n"                                            \
    "MIIBkTCCATegAwIBAgIUa6eb07opmudaDidRzWYbSYoLKswwCgYIKoZIzj0EAwIw\n"       \
    "HTEbMBkGA1UEAwwSZ29vc2Utb3B0aW9ucy10ZXN0MCAXDTI2MTIwNzA3MzMwMVoY\n"       \
    "DzIxMjYxMTEzMDczMzAxWjAdMRswGQYDVQQDDBJnb29zZS1vcHRpb25zLXRlc3Qw\n"       \
    "WTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAARBTnGcamkZ20gh6R9GBJpuXGgHoJA9\n"       \
    "+CteWZ1LbfMdUi1kJnTeS84cElCaAFMdVbAfoNepIcQRYNHuTohDLlbVo1MwUTAd\n"       \
    "BgNVHQ4EFgQUeVAjr0lCPmEPJZn2YSGS0pyX4WkwHwYDVR0jBBgwFoAUeVAjr0lC\n"       \
    "PmEPJZn2YSGS0pyX4WkwDwYDVR0TAQH/BAUwAwEB/zAKBggqhkjOPQQDAgNIADBF\n"       \
    "AiEAuBuucdigTmP9uPgJ/yfcHwN2dtd6n3H3mXGIK4pIsGcCIHBeBIbaJBnRiAKe\n"       \
    "xm+YsFMeBPX24SNOGUrh7k1u4Fhn\n"                                           \
    "-----END CERTIFICATE-----\n"

/* A refused value leaves the option as it was, whatever the option. */
TEST(refused_value_leaves_previous)
{
    static const char *const cases[][3] = {
        {"hatch-rate", "2", "0.00001"},   {"hatch-rate", "2", "20000000"},
        {"run-time", "5s", "0"},          {"startup-time", "5s", "0"},
        {"running-metrics", "5s", "0"},   {"timeout", "5s", "0"},
        {"gaggle-timeout", "3s", "500ms"}, {"arrival-rate", "5", "20000000"},
        {"throttle-requests", "5", "1000000000"}, {"users", "3", "0"},
        {"threads", "2", "2000"},         {"iterations", "2", "0"},
        {"stack-size", "64k", "1k"},      {"co-mitigation", "average", "avg"},
        {"local-address", "127.0.0.1", "127.0.0.2,127.0.0.300"},
        {"local-address", "127.0.0.1", "127.0.0.2-127.0.0.3,nothing"},
        {"resolve", "a:80:127.0.0.1", "a:99999:127.0.0.1"},
        {"report-file", "r.json", "r.txt"}, {"threshold", "p95<1s", "p95<fast"},
        {"test-plan", "5,10s", "5,10x"},  {"host", "http://127.0.0.1:1", "ftp://x"},
        {"manager-port", "6000", "0"},    {"metrics-listen", "9000", "9x"},
        {"gaggle-key", "0123456789abcdef", "short"}, {"verbose", NULL, "maybe"},
        {"no-reset-metrics", NULL, "maybe"}, {"scenarios", "s", ","},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        goose_attack *a = new_attack();
        set_ok(a, cases[i][0], cases[i][1]);
        goose_options before;
        memcpy(&before, &a->opt, sizeof before);
        int rc = goose_attack_set_option(a, cases[i][0], cases[i][2]);
        if (rc == GOOSE_OK)
            TEST_FAIL("--%s \"%s\" was taken", cases[i][0], cases[i][2]);
        if (memcmp(&before, &a->opt, sizeof before) != 0)
            TEST_FAIL("--%s \"%s\" was refused but changed the options", cases[i][0],
                      cases[i][2]);
        goose_attack_free(a);
    }
}

/* Every option refuses a bad value as if it had not been called: its value
 * and its given-bit stay, given before or not, while the mistake sticks. */
TEST(refused_value_changes_nothing)
{
    char dir[] = "/tmp/goose-refused-XXXXXX";
    ASSERT_NOT_NULL(mkdtemp(dir));
    char file[64], keyfile[64], log[64], missing[64];
    snprintf(file, sizeof file, "%s/f", dir);
    snprintf(keyfile, sizeof keyfile, "%s/key", dir);
    snprintf(log, sizeof log, "%s/x.log", dir);
    snprintf(missing, sizeof missing, "%s/none/x", dir);
    FILE *f = fopen(keyfile, "w");
    ASSERT_NOT_NULL(f);
    fputs("0123456789abcdef0123\n", f);
    fclose(f);
    ASSERT_EQ(link(keyfile, file), 0);
    char ca[64]; /* a CA file holds a PEM certificate (the key file does not) */
    snprintf(ca, sizeof ca, "%s/ca.pem", dir);
    f = fopen(ca, "w");
    ASSERT_NOT_NULL(f);
    fputs(TEST_CA_PEM, f);
    fclose(f);
    const char *const cases[][3] = {
        {"host", "http://127.0.0.1:1", "ftp://x"}, {"users", "3", "0"},
        {"hatch-rate", "2", "0.00001"}, {"startup-time", "5s", "0"}, {"run-time", "5s", "5x"},
        {"iterations", "2", "0"}, {"stop-timeout", "5s", "5x"}, {"scenarios", "s", ","},
        {"scenarios-list", NULL, "maybe"}, {"scheduler", "serial", "round_robin"},
        {"seed", "42", "-1"}, {"data", "accounts=a.csv", "accounts"},
        {"test-plan", "5,10s", "5,10x"},
        {"throttle-requests", "5", "-1"}, {"arrival-rate", "5", "0"},
        {"arrival-plan", "5,1m", "5,1x"}, {"timeout", "5s", "0"},
        {"co-mitigation", "average", "avg"}, {"no-reset-metrics", NULL, "maybe"},
        {"running-metrics", "5s", "0"}, {"no-print-metrics", NULL, "maybe"},
        {"status-codes", NULL, "maybe"}, {"sticky-follow", "true", "maybe"},
        {"report-file", "r.json", "r.txt"}, {"baseline-file", file, missing},
        {"request-log", log, missing}, {"request-format", "csv", "xml"},
        {"transaction-log", log, missing}, {"transaction-format", "raw", "xml"},
        {"error-log", log, missing}, {"error-format", "csv", "xml"},
        {"log-format", "json", "xml"}, {"metrics-listen", "9000", "9x"},
        {"controller", "9001", "9x"}, {"threshold", "p95<1s", "p95<fast"},
        {"threshold-abort", NULL, "maybe"}, {"verbose", NULL, "maybe"},
        {"quiet", NULL, "maybe"}, {"threads", "2", "2000"}, {"max-request-names", "10", "0"},
        {"stack-size", "64k", "1k"}, {"local-address", "127.0.0.1", "127.0.0.2,nothing"},
        {"resolve", "a:80:127.0.0.1", "a:99999:127.0.0.1"}, {"manager", NULL, "maybe"},
        {"worker", NULL, "maybe"}, {"expect-workers", "2", "0"},
        {"no-hash-check", NULL, "maybe"}, {"no-autostart", NULL, "maybe"},
        {"worker-reconnect", NULL, "maybe"}, {"manager-bind-host", "127.0.0.1", "a b"},
        {"manager-bind-port", "6000", "0"}, {"manager-host", "127.0.0.1", ""},
        {"manager-port", "6000", "99999"}, {"gaggle-timeout", "3s", "500ms"},
        {"gaggle-key", "0123456789abcdef", "short"}, {"gaggle-key-file", keyfile, missing},
        {"tls-cert", file, missing}, {"tls-key", file, missing}, {"tls-ca", file, missing},
        {"accept-invalid-certs", NULL, "maybe"}, {"ca-file", ca, file},
        {"client-cert", file, missing}, {"client-key", file, missing},
        {"http-version", "2", "2.0"}, {"assets-cross-origin", NULL, "maybe"},
        {"no-cache", "true", "maybe"},
        {"help", NULL, "maybe"}, {"version", NULL, "maybe"},
    };
    size_t ncases = sizeof cases / sizeof cases[0];
    for (int id = 0; id < GOOSE_NOPTIONS; id++) { /* a new option needs its case */
        size_t i = 0;
        while (i < ncases && strcmp(cases[i][0], goose__option_row(id)->name))
            i++;
        if (i == ncases)
            TEST_FAIL("--%s has no case here", goose__option_row(id)->name);
    }
    for (size_t i = 0; i < ncases; i++) {
        for (int before = 0; before < 2; before++) {
            goose_attack *a = new_attack();
            if (before)
                set_ok(a, cases[i][0], cases[i][1]);
            goose_options was;
            memcpy(&was, &a->opt, sizeof was);
            if (goose_attack_set_option(a, cases[i][0], cases[i][2]) == GOOSE_OK)
                TEST_FAIL("--%s \"%s\" was taken", cases[i][0], cases[i][2]);
            if (memcmp(&was, &a->opt, sizeof was) != 0)
                TEST_FAIL("--%s \"%s\" was refused but changed the options%s", cases[i][0],
                          cases[i][2], before ? " (set before)" : "");
            ASSERT_EQ(goose__option_given(&a->opt, goose__option_id(cases[i][0])), before);
            if (!a->config_error) /* it sticks, as goose_attack_set_option(3) says */
                TEST_FAIL("--%s \"%s\": the mistake did not stick", cases[i][0], cases[i][2]);
            goose_attack_free(a);
        }
    }
    /* refused as excluded: neither value nor given-bit of the second */
    goose_attack *a = new_attack();
    set_ok(a, "test-plan", "5,10s");
    set_bad(a, "run-time", "1m", GOOSE_ECONFIG);
    ASSERT_EQ(a->opt.run_time_us, 0);
    ASSERT_EQ(goose__option_given(&a->opt, GOOSE_OPT_RUN_TIME), 0);
    ASSERT_NOT_NULL(a->config_error);
    goose_attack_free(a);
    char cmd[100];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    ASSERT_EQ(system(cmd), 0);
}

/* Checks name their option by id; a name or an id that is no option is an
 * error, never "not given". */
TEST(unknown_option_is_an_error)
{
    goose_options o;
    goose__options_init(&o);
    ASSERT_EQ(goose__option_id("run-tme"), GOOSE_EOPTION);
    ASSERT_EQ(goose__option_id("--users"), GOOSE_EOPTION);
    ASSERT_EQ(goose__option_id(""), GOOSE_EOPTION);
    ASSERT_EQ(goose__option_id(NULL), GOOSE_EOPTION);
    ASSERT_EQ(goose__option_given(&o, GOOSE_NOPTIONS), GOOSE_EOPTION);
    ASSERT_EQ(goose__option_given(&o, (goose_option_id)-1), GOOSE_EOPTION);
    ASSERT_NULL(goose__option_row(GOOSE_NOPTIONS));
    ASSERT_EQ(goose__option_excluded(&o, GOOSE_NOPTIONS, NULL, 0), GOOSE_OK);
    ASSERT_EQ(goose__option_given(&o, GOOSE_OPT_RUN_TIME), 0);
    char err[200];
    ASSERT_EQ(goose__option_set(&o, "run-time", "5s", err, sizeof err), GOOSE_OK);
    ASSERT_EQ(goose__option_given(&o, GOOSE_OPT_RUN_TIME), 1);
    ASSERT_EQ(goose__option_given(&o, GOOSE_OPT_USERS), 0);
    goose__options_free(&o);
}

/* The table's rows are whole: each id has its row under its own name, and
 * what a row says of other options holds. */
TEST(option_rows)
{
    size_t n;
    const goose_option_info *list = goose__option_list(&n);
    ASSERT_EQ(n, GOOSE_NOPTIONS);
    for (int id = 0; id < GOOSE_NOPTIONS; id++) {
        const goose_option_info *r = goose__option_row(id);
        ASSERT_NOT_NULL(r);
        ASSERT_NOT_NULL(r->name);
        ASSERT_STR_EQ(list[id].name, r->name);
        ASSERT_EQ(goose__option_id(r->name), id);
        ASSERT_EQ(goose__option_find(r->name), r);
        if (!(r->sides & (GOOSE_SIDE_MANAGER | GOOSE_SIDE_WORKER)))
            TEST_FAIL("--%s: no side of a Gaggle takes it", r->name);
        if (r->field >= sizeof(goose_options) || r->count >= sizeof(goose_options))
            TEST_FAIL("--%s: its value is not in goose_options", r->name);
        int list_kind = r->show == GOOSE_SHOW_LIST || r->show == GOOSE_SHOW_ADDRESSES ||
                        r->show == GOOSE_SHOW_THRESHOLDS;
        if (list_kind != (r->count != 0) || list_kind != r->repeatable)
            TEST_FAIL("--%s: a list is repeatable and has a count, nothing else", r->name);
        if (!r->takes_value && r->show != GOOSE_SHOW_FLAG && r->show != GOOSE_SHOW_GIVEN &&
            r->show != GOOSE_SHOW_INT)
            TEST_FAIL("--%s: a flag is shown as an int", r->name);
        char file[80];
        snprintf(file, sizeof file, "%s-file", r->name);
        if (r->show == GOOSE_SHOW_SECRET && goose__option_id(file) < 0)
            TEST_FAIL("--%s: a secret names --%s, which is no option", r->name, file);
        for (const goose_option_excl *x = r->excludes; x && x->why; x++)
            if ((int)x->other == id || !goose__option_row(x->other))
                TEST_FAIL("--%s excludes no other option", r->name);
    }
}

/* The run refuses again what a row excludes, for options that came
 * another way than goose_attack_set_option (a Worker's welcome). */
TEST(run_refuses_excluded_again)
{
    static const struct {
        const char *set, *value;
        goose_option_id behind;
        const char *why;
    } cases[] = {
        {"test-plan", "1,1s", GOOSE_OPT_USERS, "--test-plan sets the users over time: drop --users"},
        {"arrival-plan", "1,1s", GOOSE_OPT_RUN_TIME, "--arrival-plan ends the run: drop --run-time"},
        {"arrival-rate", "1", GOOSE_OPT_ITERATIONS,
         "--arrival-rate starts iterations at a rate: drop --iterations"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        goose_attack *a = new_attack();
        set_ok(a, "host", "http://127.0.0.1:1");
        set_ok(a, "iterations", "1");
        set_ok(a, "users", "1");
        set_ok(a, "run-time", "1s");
        a->opt.set_mask[1] = 0;
        a->opt.set_mask[0] &= 1ull << GOOSE_OPT_HOST; /* as if never given */
        set_ok(a, cases[i].set, cases[i].value);
        a->opt.set_mask[0] |= 1ull << cases[i].behind;
        ASSERT_EQ(goose_attack_run(a), GOOSE_ECONFIG);
        ASSERT_STR_EQ(goose_attack_error(a), cases[i].why);
        goose_attack_free(a);
    }
}

/* Each side refuses what its row does not allow, with the words of
 * gaggle(7); goose_main without --manager or --worker refuses the Gaggle's
 * own options. */
TEST(sides_of_the_gaggle)
{
    static const char *const worker_refuses[] = {"users", "host", "stop-timeout",
                                                 "threshold-abort", "expect-workers"};
    static const char *const manager_refuses[] = {"threads", "manager-port", "error-format",
                                                  "local-address"};
    for (size_t i = 0; i < sizeof worker_refuses / sizeof *worker_refuses; i++) {
        goose_attack *a = new_attack();
        const goose_option_info *r = goose__option_find(worker_refuses[i]);
        set_ok(a, r->name, r->takes_value ? (r->show == GOOSE_SHOW_TEXT ? "http://127.0.0.1:1"
                                             : r->show == GOOSE_SHOW_GIVEN ? "5s" : "2")
                                          : NULL);
        ASSERT_EQ(gaggle_worker_run(a), GOOSE_ECONFIG);
        char want[200];
        snprintf(want, sizeof want, "--%s makes no sense on a Worker: set it on the Manager",
                 r->name);
        ASSERT_STR_EQ(goose_attack_error(a), want);
        goose_attack_free(a);
    }
    goose_attack *a = new_attack(); /* a flag turned off excludes nothing */
    set_ok(a, "worker", "false");
    set_ok(a, "manager", NULL);
    set_bad(a, "worker", NULL, GOOSE_ECONFIG);
    ASSERT_STR_EQ(goose_attack_error(a), "--manager and --worker exclude each other");
    goose_attack_free(a);
    for (size_t i = 0; i < sizeof manager_refuses / sizeof *manager_refuses; i++) {
        goose_attack *a = new_attack();
        const char *name = manager_refuses[i];
        set_ok(a, "expect-workers", "1");
        set_ok(a, name, !strcmp(name, "error-format") ? "csv"
                        : !strcmp(name, "local-address") ? "127.0.0.1" : "2");
        ASSERT_EQ(gaggle_manager_run(a), GOOSE_ECONFIG);
        char want[200];
        snprintf(want, sizeof want, "--%s makes no sense on a Manager: set it on the Workers",
                 name);
        ASSERT_STR_EQ(goose_attack_error(a), want);
        goose_attack_free(a);
    }
}

/* ---- goose_attack_parse_args and the environment ---- */

static char logged[4096];

static void keep_log(void *arg, goose_log_level level, const char *line)
{
    (void)arg;
    if (level == GOOSE_LOG_WARN && strlen(logged) + strlen(line) + 2 < sizeof logged) {
        strcat(logged, line);
        strcat(logged, "\n");
    }
}

TEST(unknown_environment_warns)
{
    setenv("GOOSE_RUNTIME", "1s", 1);
    setenv("GOOSE_run_time", "1s", 1);
    setenv("GOOSE_FROBNICATE", "1", 1);
    setenv("GOOSE_USERS", "2", 1);          /* an option */
    setenv("GOOSE_BUILD", "build", 1);      /* the tests' own */
    setenv("GOOSE_CHECK_SAN", "1", 1);
    setenv("XGOOSE_RUNTIME", "1", 1);       /* not ours */
    goose_attack *a = new_attack();
    goose_attack_set_log(a, keep_log, NULL);
    ASSERT_EQ(goose_attack_parse_args(a, 0, NULL), GOOSE_OK);
    ASSERT_EQ(a->opt.users, 2);
    ASSERT(strstr(logged, "unknown environment variable GOOSE_RUNTIME (did you mean "
                          "GOOSE_RUN_TIME?)\n"));
    ASSERT(strstr(logged, "unknown environment variable GOOSE_run_time (did you mean "
                          "GOOSE_RUN_TIME?)\n"));
    ASSERT(strstr(logged, "unknown environment variable GOOSE_FROBNICATE: no option has "
                          "this name (see --help)\n"));
    ASSERT_NULL(strstr(logged, "GOOSE_USERS"));
    ASSERT_NULL(strstr(logged, "GOOSE_BUILD"));
    ASSERT_NULL(strstr(logged, "GOOSE_CHECK_SAN"));
    ASSERT_NULL(strstr(logged, "XGOOSE"));
    int lines = 0;
    for (const char *p = logged; (p = strchr(p, '\n')); p++)
        lines++;
    ASSERT_EQ(lines, 3);
    goose_attack_free(a);
}

TEST(parse_args_without_running)
{
    goose_attack *a = new_attack();
    ASSERT_EQ(goose_attack_parse_args(NULL, 0, NULL), GOOSE_EINVAL);
    setenv("GOOSE_MANAGER_PORT", "5999", 1);
    setenv("GOOSE_USERS", "4", 1);
    ASSERT_EQ(goose_attack_parse_args(a, 0, NULL), GOOSE_OK);
    ASSERT_EQ(a->opt.manager_port, 5999);
    ASSERT_EQ(a->opt.users, 4);
    char *argv[] = {(char *)"svc", (char *)"--manager-port", (char *)"6001", (char *)"-t10s",
                    NULL};
    ASSERT_EQ(goose_attack_parse_args(a, 4, argv), GOOSE_OK);
    ASSERT_EQ(a->opt.manager_port, 6001); /* the flag wins */
    ASSERT_EQ(a->opt.run_time_us, 10000000);
    ASSERT_EQ(a->results.valid, 0);        /* nothing ran */
    ASSERT_NULL(a->config_error);
    char *help[] = {(char *)"svc", (char *)"--help", NULL};
    ASSERT_EQ(goose_attack_parse_args(a, 2, help), 1);
    ASSERT_STR_EQ(goose_attack_error(a), "--help was given: nothing to run");
    goose_attack_free(a);
    a = new_attack();
    char *version[] = {(char *)"svc", (char *)"-V", NULL};
    ASSERT_EQ(goose_attack_parse_args(a, 2, version), 1);
    goose_attack_free(a);
    a = new_attack();
    ASSERT_EQ(goose_attack_parse_args(a, -1, NULL), GOOSE_EINVAL);
    goose_attack_free(a);
    a = new_attack();
    char *key[] = {(char *)"svc", (char *)"--gaggle-key", (char *)"0123456789abcdef", NULL};
    ASSERT_EQ(goose_attack_parse_args(a, 3, key), GOOSE_ECONFIG);
    ASSERT_STR_EQ(goose_attack_error(a), "--gaggle-key on the command line is visible to "
                  "every user of this machine (ps): use --gaggle-key-file or GOOSE_GAGGLE_KEY");
    goose_attack_free(a);
    unsetenv("GOOSE_MANAGER_PORT");
    unsetenv("GOOSE_USERS");
}

/* An embedded Worker dials the Manager port of the environment. */
TEST(embedded_worker_reads_environment)
{
    int l = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof sa;
    ASSERT_EQ(bind(l, (struct sockaddr *)&sa, sizeof sa), 0);
    ASSERT_EQ(listen(l, 4), 0);
    ASSERT_EQ(getsockname(l, (struct sockaddr *)&sa, &len), 0);
    char port[16];
    snprintf(port, sizeof port, "%d", ntohs(sa.sin_port));
    setenv("GOOSE_MANAGER_PORT", port, 1);
    setenv("GOOSE_MANAGER_HOST", "127.0.0.1", 1);
    setenv("GOOSE_GAGGLE_TIMEOUT", "1s", 1);
    goose_attack *a = new_attack();
    ASSERT_EQ(goose_attack_parse_args(a, 0, NULL), GOOSE_OK);
    gaggle_worker *w = gaggle_worker_start(a);
    ASSERT_NOT_NULL(w);
    struct pollfd p = {.fd = l, .events = POLLIN};
    int ready = poll(&p, 1, 10000);
    gaggle_worker_stop(w);
    int c = ready == 1 ? accept(l, NULL, NULL) : -1;
    if (c >= 0)
        close(c);
    gaggle_worker_join(w);
    close(l);
    goose_attack_free(a);
    unsetenv("GOOSE_MANAGER_PORT");
    unsetenv("GOOSE_MANAGER_HOST");
    unsetenv("GOOSE_GAGGLE_TIMEOUT");
    if (ready != 1)
        TEST_FAIL("the worker did not dial GOOSE_MANAGER_PORT=%s within 10 s", port);
}

TEST_MAIN(TEST_ENTRY(durations), TEST_ENTRY(set_option_values),
          TEST_ENTRY(set_option_refusals), TEST_ENTRY(main_refuses_bad_input),
          TEST_ENTRY(main_refuses_bad_registrations),
          TEST_ENTRY(env_and_flag_precedence), TEST_ENTRY(short_flags_and_help),
          TEST_ENTRY(strerror_and_version), TEST_ENTRY(unknown_names_suggest),
          TEST_ENTRY(failed_option_sticks), TEST_ENTRY(values_checked_when_set),
          TEST_ENTRY(refused_value_leaves_previous), TEST_ENTRY(refused_value_changes_nothing),
          TEST_ENTRY(unknown_option_is_an_error), TEST_ENTRY(option_rows),
          TEST_ENTRY(sides_of_the_gaggle), TEST_ENTRY(run_refuses_excluded_again),
          TEST_ENTRY(unknown_environment_warns),
          TEST_ENTRY(parse_args_without_running), TEST_ENTRY(embedded_worker_reads_environment))
