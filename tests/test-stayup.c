/* A Manager that stays up (--no-autostart) with serving Workers
 * (--worker-reconnect), real processes on 127.0.0.1: test after test from
 * the controller's start, each report exact against the target's own
 * count, Workers lost and joining between tests, hostile peers while it
 * is idle, the controller's bad commands, and {n}/{time} in report
 * paths. */
#include "gaggle.h"

#include <dirent.h>

static char mport[8], cport[8];
static const char *variant; /* LOADTEST_VARIANT of the Manager and its Workers */

/* One line to the controller; its answer's first line. */
static void talk(const char *command, char *answer, size_t len)
{
    int fd = dial(cport);
    struct timeval tv = {15, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char line[256];
    snprintf(line, sizeof line, "%s\n", command);
    ASSERT_EQ(write(fd, line, strlen(line)), (ssize_t)strlen(line));
    size_t got = 0;
    for (ssize_t r; got + 1 < len && !memchr(answer, '\n', got) &&
                    (r = read(fd, answer + got, len - 1 - got)) > 0;)
        got += (size_t)r;
    answer[got] = '\0';
    close(fd);
}

/* The answer to command starts with `expect`. */
static void say_expect(const char *command, const char *expect)
{
    char answer[4096];
    talk(command, answer, sizeof answer);
    if (strncmp(answer, expect, strlen(expect)) != 0)
        TEST_FAIL("\"%s\" answered \"%s\", not \"%s...\"", command, answer, expect);
}

static int wait_count(const char *name, const char *text, int count, int seconds)
{
    for (int i = 0; i < seconds * 20; i++) {
        if (log_count(name, text) >= count)
            return 1;
        usleep(50000);
    }
    return 0;
}

/* A Manager that stays up, its controller on cport, expecting `expect`
 * Workers, with more arguments (up to a NULL). */
static pid_t stay_manager(const char *expect, ...)
{
    const char *args[46] = {"--manager", "--no-autostart", "--controller", cport,
                            "--expect-workers", expect, PORT_ARGS(mport), "--host", tgt.url,
                            "-u", "6", "-r", "60", "-t", "1s", "--no-reset-metrics"};
    size_t n = 19;
    va_list ap;
    va_start(ap, expect);
    for (const char *s; (s = va_arg(ap, const char *)) && n < 46;)
        args[n++] = s;
    va_end(ap);
    pid_t m = spawn_argv("manager", variant, args, n);
    ASSERT(wait_log("manager", "controller listening", 10));
    return m;
}

static pid_t serving_worker(const char *name, const char *key)
{
    return key ? spawn(name, variant, "--worker", "--worker-reconnect", "--manager-port", mport,
                       "--gaggle-key-file", key, NULL)
               : spawn(name, variant, "--worker", "--worker-reconnect", "--manager-port", mport,
                       NULL);
}

static void ports(void)
{
    snprintf(mport, sizeof mport, "%d", free_port());
    snprintf(cport, sizeof cport, "%d", free_port());
}

/* Test n ended, and passed. */
static void wait_test(int n)
{
    char passed[32], failed[32];
    snprintf(passed, sizeof passed, "test %d passed", n);
    snprintf(failed, sizeof failed, "test %d failed", n);
    for (int i = 0; i < 60 * 20 && !log_has("manager", passed); i++) {
        if (log_has("manager", failed))
            TEST_FAIL("%s (see the manager's log)", failed);
        usleep(50000);
    }
    ASSERT(log_has("manager", passed));
}

/* The target's total so far. */
static long long target_now(void)
{
    json_t *stats = target_json(&tgt, "/stats");
    long long n = target_total(stats);
    json_decref(stats);
    return n;
}

/* Report file r{n}.json of test n: its requests are what the target
 * answered since `before`, on `workers` Workers, all done, with `users`
 * users; returns the target's total now. */
static long long check_test(int n, long long before, int workers, int users)
{
    char path[256];
    snprintf(path, sizeof path, "%s/r%d.json", dir, n);
    json_t *r = load_report(path);
    long long now = target_now();
    ASSERT_GT(now - before, 0);
    ASSERT_EQ(report_total(r), now - before);
    /* the Manager's own requests: test_start's and test_stop's */
    long long own = variant && !strcmp(variant, "once") ? 2 : 0;
    ASSERT_EQ(workers_sum(r, NULL) + own, now - before);
    ASSERT_EQ(workers_sum(r, "done"), workers);
    ASSERT_EQ((long long)json_array_size(json_object_get(r, "workers")), workers);
    ASSERT_EQ(jint(r, "users"), users);
    json_decref(r);
    return now;
}

/* Open file descriptors of a process. */
static int fds_of(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/fd", (int)pid);
    DIR *d = opendir(path);
    ASSERT_NOT_NULL(d);
    int n = 0;
    for (struct dirent *e; (e = readdir(d));)
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

static void stop_workers(pid_t *w, int n)
{
    for (int i = 0; i < n; i++)
        kill(w[i], SIGTERM);
    for (int i = 0; i < n; i++)
        ASSERT_EQ(wait_exit(w[i], 15), 0);
}

/* Three tests in a row on three serving Workers, options changed between
 * them, each report exact, the Workers' connections kept throughout. */
TEST(three_tests_in_a_row)
{
    setup();
    ports();
    char report[256];
    snprintf(report, sizeof report, "%s/r{n}.json", dir);
    pid_t m = stay_manager("3", "--report-file", report, NULL);
    pid_t w[3];
    for (int i = 0; i < 3; i++) {
        char name[24];
        snprintf(name, sizeof name, "worker%d", i);
        w[i] = serving_worker(name, NULL);
    }
    ASSERT(wait_count("manager", "joined from", 3, 20));
    long long before = target_now();
    say_expect("start", "ok: test 1 starts on 3 workers");
    wait_test(1);
    before = check_test(1, before, 3, 6);
    int fds = fds_of(m); /* idle after a test */
    say_expect("users 9", "ok: the next test has --users 9");
    say_expect("run-time 2s", "ok");
    say_expect("start", "ok: test 2 starts on 3 workers");
    wait_test(2);
    before = check_test(2, before, 3, 9);
    say_expect("users 3", "ok");
    say_expect("hatch-rate 30", "ok");
    say_expect("start", "ok: test 3 starts on 3 workers");
    wait_test(3);
    check_test(3, before, 3, 3);
    ASSERT_EQ(fds_of(m), fds); /* nothing of a test stays open */
    ASSERT_EQ(log_count("manager", "joined from"), 3); /* no Worker dialled again */
    ASSERT_EQ(log_count("manager", "left"), 0);
    say_expect("shutdown", "ok: shutting down");
    ASSERT_EQ(wait_exit(m, 15), 0);
    ASSERT(log_has("manager", "each test overwrites") == 0);
    stop_workers(w, 3);
    teardown();
}

/* kill -9 of one of three Workers between tests: the next test runs on
 * the other two (--expect-workers 2); one that joins later takes part in
 * the test after. */
TEST(lost_and_new_workers_between_tests)
{
    setup();
    ports();
    char report[256];
    snprintf(report, sizeof report, "%s/r{n}.json", dir);
    pid_t m = stay_manager("2", "--report-file", report, NULL);
    pid_t w[3];
    for (int i = 0; i < 3; i++) {
        char name[24];
        snprintf(name, sizeof name, "worker%d", i);
        w[i] = serving_worker(name, NULL);
    }
    ASSERT(wait_count("manager", "joined from", 3, 20));
    long long before = target_now();
    say_expect("start", "ok: test 1 starts on 3 workers");
    wait_test(1);
    before = check_test(1, before, 3, 6);
    kill(w[1], SIGKILL);
    wait_exit(w[1], 5);
    ASSERT(wait_log("manager", "left: ", 10));
    say_expect("start", "ok: test 2 starts on 2 workers");
    wait_test(2);
    before = check_test(2, before, 2, 6);
    w[1] = serving_worker("late", NULL);
    ASSERT(wait_count("manager", "joined from", 4, 20));
    say_expect("start", "ok: test 3 starts on 3 workers");
    wait_test(3);
    check_test(3, before, 3, 6);
    ASSERT(log_has("late", "START"));
    ASSERT_EQ(log_count("manager", "lost:"), 0); /* gone between tests: no error */
    kill(m, SIGTERM); /* idle: the Manager ends at once */
    ASSERT_EQ(wait_exit(m, 15), 0);
    stop_workers(w, 3);
    teardown();
}

/* A test stopped after it took its Workers but before START (one of them
 * frozen, so it cannot start): both are told and stay members (no new
 * join), and the next start, given at once, runs on them, exact: the
 * frozen one's late "ready" of the first is neither a protocol error nor
 * taken for the second's. */
TEST(cancel_before_start_keeps_the_workers)
{
    setup();
    ports();
    char report[256];
    snprintf(report, sizeof report, "%s/r{n}.json", dir);
    pid_t m = stay_manager("2", "--report-file", report, NULL);
    pid_t w[2] = {serving_worker("worker0", NULL), serving_worker("worker1", NULL)};
    ASSERT(wait_count("manager", "joined from", 2, 20));
    kill(w[1], SIGSTOP);
    say_expect("start", "ok: test 1 starts on 2 workers");
    ASSERT(wait_log("worker0", "joined as worker", 10));
    say_expect("stop", "ok: test 1 is cancelled before START");
    long long before = target_now();
    /* at once: the frozen one's "ready" of the cancelled test is still to
       come, and must not count for this one */
    say_expect("start", "ok: test 1");
    kill(w[1], SIGCONT);
    ASSERT(wait_log("worker0", "stopped the test before it started", 10));
    ASSERT(wait_log("worker1", "stopped the test before it started", 10));
    wait_test(1);
    check_test(1, before, 2, 6);
    ASSERT_EQ(log_count("manager", "joined from"), 2); /* nobody dialed again */
    ASSERT_EQ(log_count("worker0", "dialing again") + log_count("worker1", "dialing again"), 0);
    kill(m, SIGTERM);
    ASSERT_EQ(wait_exit(m, 15), 0);
    stop_workers(w, 2);
    teardown();
}

/* A test plan's users are that test's: --users of the next test is as the
 * options say (setup derives a plan's maximum; it must not stick). */
TEST(plan_users_do_not_stick)
{
    setup();
    ports();
    pid_t m = stay_manager("1", NULL);
    pid_t w[1] = {serving_worker("worker0", NULL)};
    ASSERT(wait_count("manager", "joined from", 1, 20));
    say_expect("users none", "ok");
    say_expect("run-time none", "ok");
    say_expect("hatch-rate none", "ok");
    say_expect("test-plan 4,1s;0,1s", "ok");
    say_expect("start", "ok: test 1 starts on 1 workers");
    wait_test(1);
    say_expect("test-plan none", "ok");
    char answer[4096];
    talk("config", answer, sizeof answer);
    json_t *c = json_loads(answer + strcspn(answer, "{"), JSON_DISABLE_EOF_CHECK, NULL);
    ASSERT_NOT_NULL(c);
    ASSERT_EQ(jint(c, "users"), 0); /* "none": the default again, not the plan's 4 */
    json_decref(c);
    kill(m, SIGTERM);
    ASSERT_EQ(wait_exit(m, 15), 0);
    stop_workers(w, 1);
    teardown();
}

/* A Worker that cannot run the test (its request log's folder is gone)
 * says why, and the Manager's log shows it; once it can (the folder is
 * back) the test runs on it, exact. */
TEST(a_worker_that_cannot_run_says_why)
{
    setup();
    ports();
    char report[256], gone[256], log[300];
    snprintf(report, sizeof report, "%s/r{n}.json", dir);
    snprintf(gone, sizeof gone, "%s/gone", dir);
    snprintf(log, sizeof log, "%s/requests-{n}.json", gone);
    ASSERT_EQ(mkdir(gone, 0755), 0);
    pid_t m = stay_manager("1", "--report-file", report, NULL);
    pid_t w[1] = {spawn("worker0", variant, "--worker", "--worker-reconnect", "--manager-port",
                        mport, "--request-log", log, NULL)};
    ASSERT(wait_count("manager", "joined from", 1, 20));
    ASSERT_EQ(rmdir(gone), 0);
    long long before = target_now();
    say_expect("start", "ok: test 1 starts on 1 workers");
    ASSERT(wait_log("manager", "cannot run the test: cannot run the manager's configuration: "
                               "cannot create --request-log", 20));
    ASSERT_EQ(mkdir(gone, 0755), 0);
    wait_test(1);
    check_test(1, before, 1, 6);
    kill(m, SIGTERM);
    ASSERT_EQ(wait_exit(m, 15), 0);
    stop_workers(w, 1);
    teardown();
}

/* A test stopped while its test_start runs (2 s, then it sets test
 * data): the Workers it took are told at once and get neither rows nor
 * test data after that (as idle members they would take them for a
 * protocol error and dial again). */
TEST(cancel_during_test_start_sends_nothing_after)
{
    setup();
    ports();
    variant = "slowdata";
    pid_t m = stay_manager("1", NULL);
    pid_t w[1] = {serving_worker("worker0", NULL)};
    ASSERT(wait_count("manager", "joined from", 1, 20));
    say_expect("start", "ok: test 1 starts on 1 workers");
    ASSERT(wait_log("worker0", "joined as worker", 10));
    say_expect("stop", "ok: test 1 is cancelled before START");
    ASSERT(wait_log("worker0", "stopped the test before it started", 10));
    ASSERT(wait_log("manager", "test 1 was stopped before START", 10));
    sleep(1);
    ASSERT_EQ(log_count("worker0", "dialing again"), 0);
    ASSERT_EQ(log_count("manager", "joined from"), 1);
    variant = NULL;
    kill(m, SIGTERM);
    ASSERT_EQ(wait_exit(m, 15), 0);
    stop_workers(w, 1);
    teardown();
}

/* A Worker lost during a test fails that test, as a one-shot Manager's;
 * the next one runs on the others, and the Manager's exit status is the
 * failed test's. */
TEST(lost_during_a_test_fails_that_test)
{
    setup();
    ports();
    char report[256];
    snprintf(report, sizeof report, "%s/r{n}.json", dir);
    pid_t m = stay_manager("2", "--report-file", report, "--run-time", "4s", NULL);
    pid_t w[3];
    for (int i = 0; i < 3; i++) {
        char name[24];
        snprintf(name, sizeof name, "worker%d", i);
        w[i] = serving_worker(name, NULL);
    }
    ASSERT(wait_count("manager", "joined from", 3, 20));
    say_expect("start", "ok: test 1 starts on 3 workers");
    ASSERT(wait_log("manager", "START in", 15));
    sleep(2);
    kill(w[1], SIGKILL);
    wait_exit(w[1], 5);
    ASSERT(wait_log("manager", "test 1 failed: 1 of 3 workers were lost", 30));
    char path[256];
    snprintf(path, sizeof path, "%s/r1.json", dir);
    json_t *r = load_report(path);
    ASSERT_EQ(workers_sum(r, "lost"), 1);
    ASSERT_EQ(workers_sum(r, "done"), 2);
    json_decref(r);
    say_expect("run-time 1s", "ok");
    long long before = target_now();
    say_expect("start", "ok: test 2 starts on 2 workers");
    wait_test(2);
    check_test(2, before, 2, 6);
    say_expect("shutdown", "ok");
    ASSERT_EQ(wait_exit(m, 15), 1);
    ASSERT(log_has("manager", "error: test 1: 1 of 3 workers were lost"));
    w[1] = w[2];
    stop_workers(w, 2);
    teardown();
}

/* "started" of a report (2026-12-07T16:15:00Z) as {time} writes it
 * (20261207T161500Z). */
static void stamp_of(json_t *r, char *out, size_t len)
{
    const char *s = json_string_value(json_object_get(r, "started"));
    ASSERT_NOT_NULL(s);
    size_t n = 0;
    for (; *s && n + 1 < len; s++)
        if (*s != '-' && *s != ':')
            out[n++] = *s;
    out[n] = '\0';
}

/* While the Manager is idle: 400 hostile connections (silent and random
 * bytes), a Worker with the wrong key and one of another load test are
 * refused; the next test runs exact on the real Workers, which never
 * left. */
TEST(hostile_peers_between_tests)
{
    setup();
    ports();
    write_key("a.key", "0123456789abcdef0123456789abcdef");
    write_key("b.key", "fedcba9876543210fedcba9876543210");
    char report[256], stamped[256], ka[256], kb[256];
    snprintf(report, sizeof report, "%s/r{n}.json", dir);
    snprintf(stamped, sizeof stamped, "%s/t{n}-{time}.json", dir);
    snprintf(ka, sizeof ka, "%s/a.key", dir);
    snprintf(kb, sizeof kb, "%s/b.key", dir);
    pid_t m = stay_manager("2", "--report-file", report, "--report-file", stamped,
                           "--gaggle-key-file", ka, NULL);
    pid_t w[2] = {serving_worker("worker0", ka), serving_worker("worker1", ka)};
    ASSERT(wait_count("manager", "joined from", 2, 20));
    long long before = target_now();
    say_expect("start", "ok: test 1 starts on 2 workers");
    wait_test(1);
    before = check_test(1, before, 2, 6);
    static int fds[400];
    unsigned char junk[300];
    unsigned seed = 7;
    for (int i = 0; i < 400; i++) {
        fds[i] = dial(mport);
        if (i < 200)
            continue;
        for (size_t j = 0; j < sizeof junk; j++) {
            seed = seed * 1103515245u + 12345u;
            junk[j] = (unsigned char)(seed >> 16);
        }
        ssize_t n = write(fds[i], junk, 8 + seed % (sizeof junk - 8));
        (void)n;
    }
    pid_t wrong = spawn("wrong", NULL, "--worker", "--manager-port", mport,
                        "--gaggle-key-file", kb, NULL);
    pid_t other = spawn("other", "1", "--worker", "--manager-port", mport,
                        "--gaggle-key-file", ka, NULL);
    ASSERT_EQ(wait_exit(wrong, 15), 1);
    ASSERT_EQ(wait_exit(other, 15), 1);
    ASSERT(log_has("wrong", "the manager cannot prove the gaggle key"));
    ASSERT(log_has("other", "load test hash mismatch"));
    ASSERT(wait_log("manager", "hash mismatch", 5));
    say_expect("start", "ok: test 2 starts on 2 workers");
    wait_test(2);
    check_test(2, before, 2, 6);
    for (int i = 0; i < 400; i++)
        close(fds[i]);
    ASSERT_EQ(log_count("manager", "joined from"), 2);
    for (int n = 1; n <= 2; n++) { /* {time}: the test's start, as its report says */
        char path[256], stamp[32], tpath[300];
        snprintf(path, sizeof path, "%s/r%d.json", dir, n);
        json_t *r = load_report(path);
        stamp_of(r, stamp, sizeof stamp);
        snprintf(tpath, sizeof tpath, "%s/t%d-%s.json", dir, n, stamp);
        json_t *t = load_report(tpath);
        ASSERT_EQ(report_total(t), report_total(r));
        json_decref(t);
        json_decref(r);
    }
    say_expect("shutdown", "ok");
    ASSERT_EQ(wait_exit(m, 15), 0);
    stop_workers(w, 2);
    teardown();
}

/* Bad commands get one-line answers and leave the Manager usable: a bad
 * value, a start with fewer users than Workers, host during a test; then
 * SIGTERM during a test writes its report and ends the Manager. */
TEST(bad_commands_then_sigterm)
{
    setup();
    ports();
    pid_t bad = spawn("bad", NULL, "--manager", "--no-autostart", "--expect-workers", "1",
                      PORT_ARGS(mport), "--host", tgt.url, NULL);
    ASSERT_EQ(wait_exit(bad, 10), 2);
    ASSERT(log_has("bad", "--no-autostart needs --controller HOST:PORT: its start runs "
                          "each test"));
    char report[256], answer[4096], command[300];
    snprintf(report, sizeof report, "%s/r1.json", dir);
    pid_t m = stay_manager("2", "--report-file", report, NULL);
    ASSERT(wait_log("manager", "each test overwrites it", 5));
    pid_t w[2] = {serving_worker("worker0", NULL), serving_worker("worker1", NULL)};
    ASSERT(wait_count("manager", "joined from", 2, 20));
    say_expect("users 0", "error: --users \"0\" must be a whole number from 1 to 10000000");
    say_expect("users 1", "ok");
    /* options that exclude each other, as goose_attack_set_option has them */
    say_expect("test-plan 4,1s;0,1s", "error: --test-plan sets the users over time: drop "
                                      "--users");
    say_expect("users none", "ok");
    say_expect("run-time none", "ok");
    say_expect("hatch-rate none", "ok");
    say_expect("test-plan 4,1s;0,1s", "ok");
    say_expect("users 1", "error: --test-plan sets the users over time: drop --users");
    say_expect("test-plan none", "ok");
    say_expect("hatch-rate 60", "ok");
    say_expect("users 1", "ok");
    say_expect("start", "error: 1 users cannot be shared by 2 workers");
    say_expect("test-plan 4,1s;x", "error: ");
    say_expect("report-file /nonexistent-dir/x.json", "error: cannot create --report-file");
    snprintf(command, sizeof command, "report-file %s", report); /* the same file */
    talk(command, answer, sizeof answer);
    ASSERT(strstr(answer, "ok: the next test has --report-file "));
    ASSERT(strstr(answer, "(no {n} or {time}: each test overwrites it)"));
    say_expect("stop", "error: no test is running");
    say_expect("metrics", "error: no test is running");
    say_expect("fly", "error: unknown command \"fly\"");
    talk("config", answer, sizeof answer);
    ASSERT(strstr(answer, "\"state\": \"idle\""));
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%s/users", cport);
    char *text = http_fetch(url, "{\"value\": 4}", 15000, NULL);
    ASSERT_NOT_NULL(text);
    ASSERT(strstr(text, "\"ok\":true"));
    free(text);
    say_expect("run-time 60s", "ok");
    snprintf(url, sizeof url, "http://127.0.0.1:%s/start", cport);
    text = http_fetch(url, "", 15000, NULL);
    ASSERT_NOT_NULL(text);
    ASSERT(strstr(text, "test 1 starts on 2 workers"));
    free(text);
    ASSERT(wait_log("manager", "START in", 15));
    say_expect("start", "error: test 1 is ");
    say_expect("host http://127.0.0.1:1", "error: host is for the next test");
    say_expect("workers 5", "error: workers is for the next test");
    sleep(1);
    long long before = target_now();
    (void)before;
    kill(m, SIGTERM);
    ASSERT_EQ(wait_exit(m, 30), 0);
    json_t *r = load_report(report), *stats = target_json(&tgt, "/stats");
    ASSERT_EQ(report_total(r), target_total(stats));
    ASSERT_EQ(workers_sum(r, "done"), 2);
    ASSERT_EQ(jint(r, "users"), 4);
    json_decref(r);
    json_decref(stats);
    stop_workers(w, 2);
    teardown();
}

static long metrics_status(const char *port)
{
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%s/metrics", port);
    long status = 0;
    char *page = http_fetch(url, NULL, 2000, &status);
    free(page);
    return page ? status : 0;
}

/* What lives as long as the Manager and what each test rebuilds:
 * test_start and test_stop run once per test, --metrics-listen serves
 * between tests too, and the controller steers each test from its own
 * users. */
TEST(each_test_its_own_once_and_controller)
{
    setup();
    ports();
    variant = "once";
    char report[256], metrics[8], answer[256];
    snprintf(report, sizeof report, "%s/r{n}.json", dir);
    snprintf(metrics, sizeof metrics, "%d", free_port());
    pid_t m = stay_manager("2", "--report-file", report, "--metrics-listen", metrics, NULL);
    pid_t w[2] = {serving_worker("worker0", NULL), serving_worker("worker1", NULL)};
    ASSERT(wait_count("manager", "joined from", 2, 20));
    ASSERT_EQ(metrics_status(metrics), 200);
    long long before = target_now();
    say_expect("start", "ok: test 1 starts on 2 workers");
    wait_test(1);
    before = check_test(1, before, 2, 6);
    ASSERT_EQ(metrics_status(metrics), 200); /* idle: still served */
    say_expect("run-time 3s", "ok");
    say_expect("start", "ok: test 2 starts on 2 workers");
    ASSERT(wait_count("manager", "START in", 2, 20));
    usleep(1500000);
    talk("users 8", answer, sizeof answer);
    ASSERT_STR_EQ(answer, "ok: users 6 -> 8 at 60/s\n");
    wait_test(2);
    check_test(2, before, 2, 8);
    json_t *stats = target_json(&tgt, "/stats");
    ASSERT_EQ(target_count(stats, "/once/start"), 2);
    ASSERT_EQ(target_count(stats, "/once/stop"), 2);
    json_decref(stats);
    for (int n = 1; n <= 2; n++) {
        char path[256];
        snprintf(path, sizeof path, "%s/r%d.json", dir, n);
        json_t *r = load_report(path);
        ASSERT_EQ(jint(report_request(r, "GET", "/once/start"), "count"), 1);
        ASSERT_EQ(jint(report_request(r, "GET", "/once/stop"), "count"), 1);
        json_decref(r);
    }
    say_expect("shutdown", "ok");
    ASSERT_EQ(wait_exit(m, 15), 0);
    stop_workers(w, 2);
    variant = NULL;
    teardown();
}

/* {n} and {time} of a report path: the test's number and UTC start. */
TEST(report_path_placeholders)
{
    goose_attack *a = goose_attack_new();
    ASSERT_NOT_NULL(a);
    struct tm tm = {.tm_year = 2026 - 1900, .tm_mon = 11, .tm_mday = 7, .tm_hour = 16,
                    .tm_min = 15};
    a->test_time = timegm(&tm);
    a->test_number = 12;
    char *p = goose__report_path(a, "out/{n}-{time}-{n}.json");
    ASSERT_STR_EQ(p, "out/12-20261207T161500Z-12.json");
    free(p);
    p = goose__report_path(a, "{x}{n");
    ASSERT_STR_EQ(p, "{x}{n");
    free(p);
    a->test_number = 0; /* none set: the first */
    p = goose__report_path(a, "r{n}.csv");
    ASSERT_STR_EQ(p, "r1.csv");
    free(p);
    goose_attack_free(a);
    /* standalone: {n} is 1, {time} its start */
    setup();
    char report[256], path[600], stamp[32];
    snprintf(report, sizeof report, "%s/s{n}-{time}.json", dir);
    pid_t s = spawn("standalone", NULL, "--host", tgt.url, "-u", "2", "-r", "20", "-t", "1s",
                    "--no-reset-metrics", "--report-file", report, NULL);
    ASSERT_EQ(wait_exit(s, 30), 0);
    DIR *d = opendir(dir);
    ASSERT_NOT_NULL(d);
    path[0] = '\0';
    for (struct dirent *e; (e = readdir(d));)
        if (!strncmp(e->d_name, "s1-", 3))
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    closedir(d);
    ASSERT(path[0]);
    json_t *r = load_report(path), *stats = target_json(&tgt, "/stats");
    stamp_of(r, stamp, sizeof stamp);
    char want[600];
    snprintf(want, sizeof want, "%s/s1-%s.json", dir, stamp);
    ASSERT_STR_EQ(path, want);
    ASSERT_EQ(report_total(r), target_total(stats));
    json_decref(r);
    json_decref(stats);
    /* checked before the start as the test will write it: d1.json is a
       directory, d{n}.json cannot be created */
    char taken[300];
    snprintf(taken, sizeof taken, "%s/d1.json", dir);
    ASSERT_EQ(mkdir(taken, 0755), 0);
    snprintf(report, sizeof report, "%s/d{n}.json", dir);
    s = spawn("refused", NULL, "--host", tgt.url, "-u", "2", "-t", "1s", "--report-file", report,
              NULL);
    ASSERT_EQ(wait_exit(s, 30), 2);
    ASSERT(log_has("refused", "cannot create report file"));
    ASSERT(log_has("refused", "/d1.json"));
    teardown();
}

TEST_MAIN(TEST_ENTRY(three_tests_in_a_row), TEST_ENTRY(cancel_before_start_keeps_the_workers),
          TEST_ENTRY(cancel_during_test_start_sends_nothing_after),
          TEST_ENTRY(plan_users_do_not_stick), TEST_ENTRY(a_worker_that_cannot_run_says_why), TEST_ENTRY(lost_and_new_workers_between_tests),
          TEST_ENTRY(hostile_peers_between_tests), TEST_ENTRY(bad_commands_then_sigterm),
          TEST_ENTRY(each_test_its_own_once_and_controller),
          TEST_ENTRY(lost_during_a_test_fails_that_test),
          TEST_ENTRY(report_path_placeholders))
