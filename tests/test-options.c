/* Option parsing: durations, values, goose_main's flags and GOOSE_* env,
 * and every bad input giving exit status 2 without running anything. */
#include "test.h"

#include "attack.h"

#include <stdarg.h>

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
    size_t n; /* every option of the table is built: none is refused */
    const goose_option_info *all = goose__option_list(&n);
    for (size_t i = 0; i < n; i++)
        if (!all[i].supported)
            TEST_FAIL("--%s is still \"not supported yet\"", all[i].name);
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
    for (int code = GOOSE_OK; code >= GOOSE_ETHRESHOLD; code--) /* every code has a text */
        ASSERT(strcmp(goose_strerror(code), "unknown error") != 0);
    ASSERT_STR_EQ(goose_strerror(-999), "unknown error");
    ASSERT_STR_EQ(goose_version(), GOOSE_VERSION_STRING);
    ASSERT_EQ(goose_version_num(), GOOSE_VERSION_NUM);
    ASSERT(GOOSE_AT_LEAST_VERSION(0, 1, 0));
    ASSERT(!GOOSE_AT_LEAST_VERSION(99, 0, 0));
}

TEST_MAIN(TEST_ENTRY(durations), TEST_ENTRY(set_option_values),
          TEST_ENTRY(set_option_refusals), TEST_ENTRY(main_refuses_bad_input),
          TEST_ENTRY(main_refuses_bad_registrations),
          TEST_ENTRY(env_and_flag_precedence), TEST_ENTRY(short_flags_and_help),
          TEST_ENTRY(strerror_and_version))
