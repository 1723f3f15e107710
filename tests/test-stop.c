/* How a run ends, and what a careless transaction cannot break: a response
 * freed twice, the stop timeout (--stop-timeout) and goose_main's signals,
 * against the bundled target on 127.0.0.1. */
#include "gaggle.h"

#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

/* The attack's log lines, kept for the checks. */
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static char log_text[16384];

static void keep_log(void *arg, goose_log_level level, const char *line)
{
    (void)arg;
    pthread_mutex_lock(&log_lock);
    size_t n = strlen(log_text);
    snprintf(log_text + n, sizeof log_text - n, "%d %s\n", (int)level, line);
    pthread_mutex_unlock(&log_lock);
}

static int logged(const char *level_and_text)
{
    pthread_mutex_lock(&log_lock);
    int found = strstr(log_text, level_and_text) != NULL;
    pthread_mutex_unlock(&log_lock);
    return found;
}

static double seconds_since(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

static json_t *error_of(json_t *report, const char *name)
{
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(report, "errors"), i, e)
        if (!strcmp(json_string_value(json_object_get(e, "name")), name))
            return e;
    return NULL;
}

/* ---- a response freed twice ---- */

static atomic_int set_failure_rc = 1, stale_status = -1;

static int free_twice(goose_user *u)
{
    goose_response *r1 = goose_get(u, "/node/1");
    goose_response_free(r1);
    goose_response *r2 = goose_get(u, "/node/2"); /* may reuse r1's memory */
    goose_response_free(r1);                      /* refused: r2 lives on */
    atomic_store(&stale_status, goose_response_status(r1));
    atomic_store(&set_failure_rc, goose_response_set_failure(r2, "checked by r2"));
    goose_response_free(r2);
    return GOOSE_OK;
}

TEST(response_double_free_is_refused)
{
    target_start(&tgt);
    goose_attack *a = goose_attack_new();
    goose_scenario *s = goose_scenario_new("careless");
    goose_scenario_add_transaction(s, "free twice", free_twice);
    goose_attack_add_scenario(a, s);
    goose_attack_set_log(a, keep_log, NULL);
    set(a, "host", tgt.url);
    set(a, "users", "1");
    set(a, "iterations", "3");
    ASSERT_EQ(goose_attack_run(a), GOOSE_OK);
    ASSERT_EQ(atomic_load(&set_failure_rc), GOOSE_OK);
    ASSERT_EQ(atomic_load(&stale_status), 0);
    json_t *report = report_of(a), *stats = target_json(&tgt, "/stats");
    json_t *r1 = report_request(report, "GET", "/node/1");
    json_t *r2 = report_request(report, "GET", "/node/2");
    ASSERT_NOT_NULL(r1);
    ASSERT_NOT_NULL(r2);
    ASSERT_EQ(jint(r1, "count"), 3);
    ASSERT_EQ(jint(r1, "fail"), 0);
    ASSERT_EQ(jint(r2, "count"), 3);
    ASSERT_EQ(jint(r2, "fail"), 3); /* r2's failure reached the report */
    json_t *e = error_of(report, "/node/2");
    ASSERT_NOT_NULL(e);
    ASSERT_STR_EQ(json_string_value(json_object_get(e, "error")), "checked by r2");
    ASSERT_EQ(report_total(report), target_total(stats));
    ASSERT(logged("0 goose_response_free: the response was already freed"));
    json_decref(report);
    json_decref(stats);
    goose_attack_free(a);
    target_stop(&tgt);
}

/* One user frees a response of another user of its thread: refused, and
 * the owner still reads and fails it. */
static goose_response *_Atomic shared;
static atomic_int owner_rc = 1, owner_status;

static int owner_or_thief(goose_user *u)
{
    if (goose_user_index(u) == 0) {
        goose_response *r = goose_get(u, "/node/1");
        atomic_store(&shared, r);
        goose_sleep(u, 400);
        atomic_store(&shared, NULL);
        atomic_store(&owner_status, goose_response_status(r));
        atomic_store(&owner_rc, goose_response_set_failure(r, "still mine"));
        goose_response_free(r);
    } else {
        for (int i = 0; i < 20 && !atomic_load(&shared); i++)
            goose_sleep(u, 10);
        goose_response_free(atomic_load(&shared));
    }
    return GOOSE_OK;
}

TEST(response_of_another_user_is_not_freed)
{
    target_start(&tgt);
    goose_attack *a = goose_attack_new();
    goose_scenario *s = goose_scenario_new("neighbours");
    goose_scenario_add_transaction(s, "share", owner_or_thief);
    goose_attack_add_scenario(a, s);
    goose_attack_set_log(a, keep_log, NULL);
    set(a, "host", tgt.url);
    set(a, "users", "2");
    set(a, "hatch-rate", "100");
    set(a, "threads", "1");
    set(a, "iterations", "1");
    ASSERT_EQ(goose_attack_run(a), GOOSE_OK);
    ASSERT_EQ(atomic_load(&owner_status), 200);
    ASSERT_EQ(atomic_load(&owner_rc), GOOSE_OK);
    json_t *report = report_of(a);
    json_t *r1 = report_request(report, "GET", "/node/1");
    ASSERT_NOT_NULL(r1);
    ASSERT_EQ(jint(r1, "fail"), 1);
    ASSERT(logged("0 goose_response_free: the response belongs to another user"));
    json_decref(report);
    goose_attack_free(a);
    target_stop(&tgt);
}

/* ---- the stop timeout ---- */

/* Users that outlive the end of the test: half sleep an hour in on_stop,
 * half wait for an answer due in a minute. */
static int browse(goose_user *u)
{
    goose_response_free(goose_get(u, "/"));
    return GOOSE_OK;
}

static int hang(goose_user *u)
{
    goose_response *r = goose_get(u, "/node/1"); /* answered: counted as it is */
    if (goose_user_index(u) % 2)
        goose_response_free(goose_get(u, "/slow?ms=60000"));
    else
        goose_sleep(u, 3600 * 1000);
    goose_response_free(r);
    return GOOSE_OK;
}

static goose_attack *hanging_attack(const char *users)
{
    goose_attack *a = goose_attack_new();
    goose_scenario *s = goose_scenario_new("Hanger");
    goose_scenario_set_wait_time(s, 1, 5);
    goose_scenario_add_transaction(s, "browse", browse);
    goose_transaction_set_on_stop(goose_scenario_add_transaction(s, "hang", hang));
    goose_attack_add_scenario(a, s);
    goose_attack_set_log(a, keep_log, NULL);
    set(a, "host", tgt.url);
    set(a, "users", users);
    set(a, "hatch-rate", "100");
    set(a, "stop-timeout", "1s");
    set(a, "no-reset-metrics", NULL);
    return a;
}

static void report_says(goose_attack *a, const char *format, const char *text)
{
    char *r = goose_attack_report(a, format);
    ASSERT_NOT_NULL(r);
    if (!strstr(r, text))
        TEST_FAIL("the %s report does not say \"%s\"", format, text);
    goose_free(r);
}

TEST(stop_timeout_abandons_users)
{
    alarm(60); /* a stop that is not bounded fails here, not in an hour */
    target_start(&tgt);
    goose_attack *a = hanging_attack("4");
    set(a, "run-time", "1s");
    set(a, "threads", "2");
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    ASSERT_EQ(goose_attack_run(a), GOOSE_OK);
    ASSERT_LT(seconds_since(&t0), 10);
    json_t *report = report_of(a), *stats = target_json(&tgt, "/stats");
    ASSERT_EQ(jint(report, "abandoned_users"), 4);
    json_t *node = report_request(report, "GET", "/node/1");
    json_t *slow = report_request(report, "GET", "/slow?ms=60000");
    ASSERT_NOT_NULL(node);
    ASSERT_NOT_NULL(slow);
    ASSERT_EQ(jint(node, "count"), 4);
    ASSERT_EQ(jint(node, "fail"), 0);
    ASSERT_EQ(jint(slow, "count"), 2); /* cancelled in flight: failed */
    ASSERT_EQ(jint(slow, "fail"), 2);
    json_t *e = error_of(report, "/slow?ms=60000");
    ASSERT_NOT_NULL(e);
    ASSERT_STR_EQ(json_string_value(json_object_get(e, "error")),
                  "abandoned at --stop-timeout: no answer yet");
    ASSERT_EQ(target_count(stats, "/slow"), 0); /* never answered */
    ASSERT_EQ(report_total(report), target_total(stats) + 2);
    size_t i;
    json_t *tx;
    json_array_foreach(json_object_get(report, "transactions"), i, tx)
        if (!strcmp(json_string_value(json_object_get(tx, "name")), "hang"))
            ASSERT_EQ(jint(tx, "count"), 0); /* never returned: not counted */
    report_says(a, "text", "Abandoned:     4 users");
    report_says(a, "md", "Abandoned users: 4");
    report_says(a, "html", "4 users</span>, not finished within --stop-timeout");
    report_says(a, "csv", "\nAbandoned,users (--stop-timeout),4,");
    ASSERT(logged("1 the stop timeout (1s) is up"));
    ASSERT(logged("1 4 users abandoned"));
    json_decref(report);
    json_decref(stats);
    goose_attack_free(a);
    target_stop(&tgt);
}

/* With --iterations the users end on their own: their on_stop is the
 * end of the run, and the stop timeout bounds it as well. */
TEST(stop_timeout_bounds_iterations)
{
    alarm(60);
    target_start(&tgt);
    goose_attack *a = hanging_attack("2");
    set(a, "iterations", "3");
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    ASSERT_EQ(goose_attack_run(a), GOOSE_OK);
    ASSERT_LT(seconds_since(&t0), 10);
    json_t *report = report_of(a);
    ASSERT_EQ(jint(report, "abandoned_users"), 2);
    ASSERT_EQ(jint(report_request(report, "GET", "/"), "count"), 6);
    json_decref(report);
    goose_attack_free(a);
    target_stop(&tgt);
}

/* A request still waiting for its --throttle-requests slot when its user
 * is abandoned was never sent: it is not counted at all. */
static int throttled_goodbyes(goose_user *u)
{
    for (int i = 0; i < 20; i++)
        goose_response_free(goose_get(u, "/logout"));
    return GOOSE_OK;
}

TEST(stop_timeout_drops_requests_waiting_for_the_throttle)
{
    alarm(60);
    target_start(&tgt);
    goose_attack *a = goose_attack_new();
    goose_scenario *s = goose_scenario_new("Polite");
    goose_scenario_set_wait_time(s, 100, 100);
    goose_scenario_add_transaction(s, "browse", browse);
    goose_transaction_set_on_stop(goose_scenario_add_transaction(s, "bye", throttled_goodbyes));
    goose_attack_add_scenario(a, s);
    set(a, "host", tgt.url);
    set(a, "users", "1");
    set(a, "run-time", "1s");
    set(a, "throttle-requests", "2");
    set(a, "stop-timeout", "1500ms");
    set(a, "no-reset-metrics", NULL);
    ASSERT_EQ(goose_attack_run(a), GOOSE_OK);
    json_t *report = report_of(a), *stats = target_json(&tgt, "/stats");
    ASSERT_EQ(jint(report, "abandoned_users"), 1);
    json_t *bye = report_request(report, "GET", "/logout");
    ASSERT_NOT_NULL(bye);
    ASSERT_GT(jint(bye, "count"), 0);
    ASSERT_LT(jint(bye, "count"), 20);
    /* answered ones, and at most one cut off in flight (on a busy box) */
    ASSERT_EQ(jint(bye, "success"), target_count(stats, "/logout"));
    ASSERT_LE(jint(bye, "fail"), 1);
    ASSERT_EQ(report_total(report), target_total(stats) + jint(bye, "fail"));
    json_decref(report);
    json_decref(stats);
    goose_attack_free(a);
    target_stop(&tgt);
}

/* Every user may call goose_attack_stop(): the stop stays graceful. */
static int browse_then_stop(goose_user *u)
{
    goose_response_free(goose_get(u, "/"));
    goose_attack_stop(goose_user_attack(u));
    return GOOSE_OK;
}

static int slow_goodbye(goose_user *u)
{
    goose_sleep(u, 300);
    goose_response_free(goose_get(u, "/logout"));
    return GOOSE_OK;
}

TEST(goose_attack_stop_twice_stays_graceful)
{
    alarm(60);
    target_start(&tgt);
    goose_attack *a = goose_attack_new();
    goose_scenario *s = goose_scenario_new("Stoppers");
    goose_scenario_add_transaction(s, "browse", browse_then_stop);
    goose_transaction_set_on_stop(goose_scenario_add_transaction(s, "bye", slow_goodbye));
    goose_attack_add_scenario(a, s);
    set(a, "host", tgt.url);
    set(a, "users", "3");
    set(a, "hatch-rate", "100");
    ASSERT_EQ(goose_attack_run(a), GOOSE_OK);
    json_t *report = report_of(a), *stats = target_json(&tgt, "/stats");
    ASSERT_EQ(jint(report, "abandoned_users"), 0);
    ASSERT_EQ(target_count(stats, "/logout"), 3);
    json_decref(report);
    json_decref(stats);
    goose_attack_free(a);
    target_stop(&tgt);
}

/* A transaction that never waits (it fails at once, with no request and
 * no wait time) still lets its thread hear the stop: the run ends at its
 * run time, every user gracefully, never abandoned (before, the thread
 * looped on it and the run never ended). */
static int fail_at_once(goose_user *u)
{
    (void)u;
    return 1;
}

TEST(transaction_that_never_waits_still_stops)
{
    alarm(60);
    goose_attack *a = goose_attack_new();
    goose_scenario *s = goose_scenario_new("Spinners");
    goose_scenario_add_transaction(s, "fail", fail_at_once);
    goose_attack_add_scenario(a, s);
    set(a, "host", "http://127.0.0.1:1");
    set(a, "users", "2");
    set(a, "hatch-rate", "100");
    set(a, "run-time", "1");
    set(a, "stop-timeout", "30s");
    ASSERT_EQ(goose_attack_run(a), GOOSE_OK);
    json_t *report = report_of(a);
    ASSERT_EQ(jint(report, "abandoned_users"), 0);
    json_decref(report);
    goose_attack_free(a);
}

/* The open model with such a transaction: a user goes back to the pool at
 * once, so arrivals due in one pass of the loop all find a free user (a
 * pass of the loop between iterations made 95% of them dropped). */
TEST(open_model_transaction_that_never_waits_drops_nothing)
{
    alarm(60);
    goose_attack *a = goose_attack_new();
    goose_scenario *s = goose_scenario_new("Spinners");
    goose_scenario_add_transaction(s, "fail", fail_at_once);
    goose_attack_add_scenario(a, s);
    set(a, "host", "http://127.0.0.1:1");
    set(a, "arrival-rate", "20000");
    set(a, "users", "4");
    set(a, "threads", "1");
    set(a, "run-time", "1");
    ASSERT_EQ(goose_attack_run(a), GOOSE_OK);
    json_t *report = report_of(a);
    json_t *arrivals = json_object_get(json_object_get(report, "load"), "arrivals");
    ASSERT_GT(jint(arrivals, "due"), 1000);
    ASSERT_EQ(jint(arrivals, "dropped"), 0);
    json_decref(report);
    goose_attack_free(a);
}

/* --stop-timeout is a duration, 0 included, checked when it is set. */
TEST(stop_timeout_option_is_checked)
{
    goose_attack *a = goose_attack_new();
    ASSERT_EQ(goose_attack_set_option(a, "stop-timeout", "soon"), GOOSE_EVALUE);
    ASSERT(strstr(goose_attack_error(a), "--stop-timeout \"soon\" is not a duration"));
    ASSERT_EQ(goose_attack_set_option(a, "stop-timeout", "-1s"), GOOSE_EVALUE);
    ASSERT_EQ(goose_attack_set_option(a, "stop-timeout", "0"), GOOSE_OK);
    ASSERT_EQ(goose_attack_set_option(a, "stop-timeout", "1m30s"), GOOSE_OK);
    goose_attack_free(a);
}

/* ---- goose_main and its signals ---- */

/* Waits until the target counted at least n requests of path (NULL: of
 * any path). */
static void wait_target(const char *path, long long n)
{
    for (int i = 0; i < 200; i++) {
        json_t *stats = target_json(&tgt, "/stats");
        long long got = path ? target_count(stats, path) : target_total(stats);
        json_decref(stats);
        if (got >= n)
            return;
        usleep(50000);
    }
    TEST_FAIL("the target never counted %lld requests of %s", n, path ? path : "any path");
}

TEST(sigterm_stops_gracefully_with_a_report)
{
    setup();
    char report[256];
    snprintf(report, sizeof report, "%s/report.json", dir);
    pid_t pid = spawn("loadtest", NULL, "--host", tgt.url, "--users", "4", "--hatch-rate",
                      "100", "--no-reset-metrics", "--report-file", report, (char *)NULL);
    wait_target("/", 20);
    kill(pid, SIGTERM);
    ASSERT_EQ(wait_exit(pid, 20), 0);
    json_t *r = load_report(report), *stats = target_json(&tgt, "/stats");
    ASSERT_EQ(jint(r, "abandoned_users"), 0);
    ASSERT_EQ(target_count(stats, "/logout"), 1); /* the Writer's on_stop ran */
    ASSERT_EQ(report_total(r), target_total(stats));
    ASSERT(log_has("loadtest", "=== OVERVIEW ===")); /* the text report too */
    json_decref(r);
    json_decref(stats);
    teardown();
}

TEST(second_sigint_ends_the_stop_with_a_report)
{
    setup();
    char report[256];
    snprintf(report, sizeof report, "%s/report.json", dir);
    pid_t pid = spawn("loadtest", "hang", "--host", tgt.url, "--users", "2", "--hatch-rate",
                      "100", "--stop-timeout", "1h", "--report-file", report, (char *)NULL);
    wait_target("/", 10);
    kill(pid, SIGINT);
    wait_target("/logout", 2); /* both users sleep in on_stop now */
    usleep(300000);
    int status;
    ASSERT_EQ(waitpid(pid, &status, WNOHANG), 0); /* the stop waits for them */
    kill(pid, SIGINT);
    ASSERT_EQ(wait_exit(pid, 10), 0);
    json_t *r = load_report(report);
    ASSERT_EQ(jint(r, "abandoned_users"), 2);
    ASSERT(log_has("loadtest", "asked again to stop"));
    ASSERT(log_has("loadtest", "Abandoned:     2 users"));
    json_decref(r);
    teardown();
}

/* A Gaggle: the Manager's --stop-timeout reaches the Worker, which
 * abandons its users and still sends its final metrics. */
TEST(gaggle_worker_abandons_at_the_managers_stop_timeout)
{
    setup();
    char port[8], report[256];
    manager_spot(port, report);
    pid_t m = spawn("manager", "hang", "--manager", "--expect-workers", "1", PORT_ARGS(port),
                    "--host", tgt.url, "--users", "3", "--hatch-rate", "100", "--run-time",
                    "1s", "--stop-timeout", "1s", "--no-reset-metrics", "--report-file", report,
                    (char *)NULL);
    pid_t w = spawn("worker", "hang", "--worker", "--manager-port", port, (char *)NULL);
    ASSERT_EQ(wait_exit(w, 30), 0);
    ASSERT_EQ(wait_exit(m, 10), 0);
    json_t *r = load_report(report), *stats = target_json(&tgt, "/stats");
    ASSERT_EQ(jint(r, "abandoned_users"), 3);
    ASSERT_EQ(workers_sum(r, "done"), 1);
    ASSERT_EQ(target_count(stats, "/logout"), 3);
    ASSERT_EQ(report_total(r), target_total(stats)); /* the final metrics came */
    ASSERT(log_has("worker", "the stop timeout (1s) is up"));
    json_decref(r);
    json_decref(stats);
    teardown();
}

/* A Manager asked twice to stop tells its Workers to abandon their users
 * at once, and still writes the report. */
TEST(gaggle_manager_second_sigint_ends_the_stop)
{
    setup();
    char port[8], report[256];
    manager_spot(port, report);
    pid_t m = spawn("manager", "hang", "--manager", "--expect-workers", "1", PORT_ARGS(port),
                    "--host", tgt.url, "--users", "2", "--hatch-rate", "100", "--stop-timeout",
                    "1h", "--no-reset-metrics", "--report-file", report, (char *)NULL);
    pid_t w = spawn("worker", "hang", "--worker", "--manager-port", port, (char *)NULL);
    wait_target("/", 10);
    kill(m, SIGINT);
    wait_target("/logout", 2);
    kill(m, SIGINT);
    ASSERT_EQ(wait_exit(m, 15), 0);
    ASSERT_EQ(wait_exit(w, 10), 0);
    json_t *r = load_report(report), *stats = target_json(&tgt, "/stats");
    ASSERT_EQ(jint(r, "abandoned_users"), 2);
    ASSERT_EQ(report_total(r), target_total(stats));
    ASSERT(log_has("worker", "asked again to stop"));
    json_decref(r);
    json_decref(stats);
    teardown();
}

TEST_MAIN(TEST_ENTRY(response_double_free_is_refused),
          TEST_ENTRY(transaction_that_never_waits_still_stops),
          TEST_ENTRY(open_model_transaction_that_never_waits_drops_nothing),
          TEST_ENTRY(response_of_another_user_is_not_freed),
          TEST_ENTRY(stop_timeout_abandons_users), TEST_ENTRY(stop_timeout_bounds_iterations),
          TEST_ENTRY(stop_timeout_drops_requests_waiting_for_the_throttle),
          TEST_ENTRY(goose_attack_stop_twice_stays_graceful),
          TEST_ENTRY(stop_timeout_option_is_checked),
          TEST_ENTRY(sigterm_stops_gracefully_with_a_report),
          TEST_ENTRY(second_sigint_ends_the_stop_with_a_report),
          TEST_ENTRY(gaggle_worker_abandons_at_the_managers_stop_timeout),
          TEST_ENTRY(gaggle_manager_second_sigint_ends_the_stop))
