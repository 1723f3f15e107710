/* test_start and test_stop (goose_attack_set_test_start/_stop) and the
 * test's data (goose_test_set_data/goose_test_data), end to end against
 * the bundled target: test_start gets a token (POST /setup/token) that
 * every user's request carries (GET /setup/check?token=...), test_stop
 * calls /setup/teardown; the target counts valid and invalid checks and
 * notes when the token was made and when test_stop came. */
#include "e2e.h"

#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/stat.h>

#include "gaggle/gaggle.h"

/* The library's own (config/attack.h): the load-test hash. */
int goose__test_hash(const goose_attack *a, char out[65]);

static target tgt;
static atomic_int starts, stops;        /* test_start, test_stop runs */
static atomic_int start_index = -1;     /* goose_user_index in test_start */
static atomic_int set_rc[8];            /* API results seen inside transactions */
static atomic_int log_misuse;

enum { RC_OUTSIDE, RC_NULL_DATA, RC_TOO_BIG, RC_IN_STOP, RC_REGISTER, RC_STOP_DATA };

static void on_log(void *arg, goose_log_level level, const char *line)
{
    (void)arg, (void)level;
    if (strstr(line, "goose_test_set_data") && strstr(line, "GOOSE_TEST_DATA_MAX"))
        atomic_fetch_add(&log_misuse, 1);
}

static void get_token(goose_user *u, const char **why)
{
    goose_request *req = goose_request_new(u, "POST", "/setup/token");
    goose_response *r = goose_request_send(req);
    size_t len = 0;
    const char *body = goose_response_body(r, &len);
    *why = NULL;
    if (goose_response_status(r) != 200 || !body || len == 0)
        *why = "no token";
    else if (goose_test_set_data(u, "stale", 5) != GOOSE_OK || /* replaced below */
             goose_test_set_data(u, body, len) != GOOSE_OK)
        *why = "goose_test_set_data refused the token";
    goose_response_free(r);
}

static int setup(goose_user *u)
{
    const char *why;
    atomic_fetch_add(&starts, 1);
    atomic_store(&start_index, (int)goose_user_index(u));
    atomic_store(&set_rc[RC_NULL_DATA], goose_test_set_data(u, NULL, 3));
    atomic_store(&set_rc[RC_TOO_BIG], goose_test_set_data(u, "x", GOOSE_TEST_DATA_MAX + 1u));
    atomic_store(&set_rc[RC_REGISTER], goose_attack_set_test_start(goose_user_attack(u), NULL));
    get_token(u, &why);
    size_t len = 0;
    const char *data = goose_test_data(u, &len); /* what it set so far */
    if (why)
        return goose_transaction_fail(u, why) == GOOSE_OK ? 1 : 2;
    if (!data || len != 24 || strlen(data) != 24)
        return goose_transaction_fail(u, "goose_test_data in test_start") == GOOSE_OK ? 1 : 2;
    return GOOSE_OK;
}

/* A test_start whose API says no. */
static int setup_fails(goose_user *u)
{
    atomic_fetch_add(&starts, 1);
    goose_response_free(goose_get(u, "/"));
    goose_transaction_fail(u, "the API said no");
    return GOOSE_OK;
}

static int setup_returns(goose_user *u)
{
    (void)u;
    atomic_fetch_add(&starts, 1);
    return 3;
}

static int check(goose_user *u)
{
    size_t len = 0;
    const char *token = goose_test_data(u, &len);
    char path[96];
    snprintf(path, sizeof path, "/setup/check?token=%.*s", token ? (int)len : 0,
             token ? token : "");
    atomic_store(&set_rc[RC_OUTSIDE], goose_test_set_data(u, "x", 1));
    goose_request *req = goose_request_new(u, "GET", path);
    goose_request_set_name(req, "/setup/check");
    goose_response_free(goose_request_send(req));
    return GOOSE_OK;
}

static int teardown(goose_user *u)
{
    atomic_fetch_add(&stops, 1);
    atomic_store(&set_rc[RC_IN_STOP], goose_test_set_data(u, "x", 1));
    size_t len = 0;
    if (!goose_test_data(u, &len) || len != 24)
        miss("test_stop does not see the test data (%zu bytes)", len);
    goose_response_free(goose_get(u, "/setup/teardown"));
    return GOOSE_OK;
}

static int teardown_fails(goose_user *u)
{
    atomic_fetch_add(&stops, 1);
    goose_response_free(goose_get(u, "/setup/teardown"));
    return 5;
}

static void reset_counts(void)
{
    atomic_store(&starts, 0);
    atomic_store(&stops, 0);
    atomic_store(&start_index, -1);
    atomic_store(&bad, 0);
    atomic_store(&log_misuse, 0);
    for (int i = 0; i < 8; i++)
        atomic_store(&set_rc[i], 99);
}

/* The load test as every side registers it. */
static goose_attack *registered(goose_transaction_fn start, goose_transaction_fn stop)
{
    goose_attack *a = goose_attack_new();
    goose_attack_set_log(a, on_log, NULL);
    goose_scenario *s = goose_scenario_new("Checker");
    goose_scenario_add_transaction(s, "check", check);
    ASSERT_EQ(goose_attack_add_scenario(a, s), GOOSE_OK);
    ASSERT_EQ(goose_attack_set_test_start(a, start), GOOSE_OK);
    ASSERT_EQ(goose_attack_set_test_stop(a, stop), GOOSE_OK);
    return a;
}

static goose_attack *attack_of(goose_transaction_fn start, goose_transaction_fn stop,
                               const char *iterations)
{
    reset_counts();
    goose_attack *a = registered(start, stop);
    set(a, "host", tgt.url);
    set(a, "users", "4");
    set(a, "hatch-rate", "1000");
    if (iterations)
        set(a, "iterations", iterations);
    set(a, "threads", "2");
    return a;
}

static goose_attack *attack(goose_transaction_fn start, goose_transaction_fn stop)
{
    return attack_of(start, stop, "5");
}

static json_t *by_key(json_t *report, const char *list, const char *key, const char *value)
{
    size_t i;
    json_t *r;
    json_array_foreach(json_object_get(report, list), i, r) {
        if (!strcmp(json_string_value(json_object_get(r, key)), value))
            return r;
    }
    return NULL;
}

static json_t *setup_stats(void)
{
    json_t *stats = target_json(&tgt, "/stats");
    ASSERT_NOT_NULL(stats);
    return stats;
}

static long long setup_count(json_t *stats, const char *key)
{
    return jint(json_object_get(stats, "setup"), key);
}

/* The token test_start got reaches every user; test_start ran before any
 * user's request and test_stop after the last; their rows are in the
 * report with their requests. */
TEST(setup_data_reaches_every_user)
{
    target_start(&tgt);
    goose_attack *a = attack(setup, teardown);
    ASSERT_EQ(goose_attack_run(a), GOOSE_OK);
    ASSERT_EQ(atomic_load(&bad), 0);
    ASSERT_EQ(atomic_load(&starts), 1);
    ASSERT_EQ(atomic_load(&stops), 1);
    ASSERT_EQ(atomic_load(&start_index), 4); /* the test's users: an index none has */
    json_t *st = setup_stats();
    ASSERT_EQ(setup_count(st, "tokens"), 1);
    ASSERT_EQ(setup_count(st, "valid"), 20);
    ASSERT_EQ(setup_count(st, "invalid"), 0);
    ASSERT_EQ(setup_count(st, "checks_before_token"), 0);
    ASSERT_EQ(setup_count(st, "teardowns"), 1);
    ASSERT_EQ(setup_count(st, "valid_at_teardown"), 20);
    json_decref(st);

    json_t *r = report_of(a);
    ASSERT_EQ(jint(report_request(r, "GET", "/setup/check"), "success"), 20);
    ASSERT_EQ(jint(report_request(r, "POST", "/setup/token"), "count"), 1);
    ASSERT_EQ(jint(report_request(r, "GET", "/setup/teardown"), "count"), 1);
    ASSERT_EQ(report_total(r), 22);
    json_t *s = by_key(r, "scenarios", "name", "test_start");
    ASSERT_NOT_NULL(s);
    ASSERT_EQ(jint(s, "users"), 1);
    ASSERT_EQ(jint(s, "iterations"), 1);
    ASSERT_NOT_NULL(by_key(r, "scenarios", "name", "test_stop"));
    ASSERT_EQ(jint(by_key(r, "scenarios", "name", "Checker"), "users"), 4);
    json_t *t = by_key(r, "transactions", "name", "test_start");
    ASSERT_NOT_NULL(t);
    ASSERT_STR_EQ(json_string_value(json_object_get(t, "scenario")), "test_start");
    ASSERT_EQ(jint(t, "success"), 1);
    ASSERT_EQ(jint(by_key(r, "transactions", "name", "test_stop"), "success"), 1);
    json_decref(r);

    /* the API's refusals inside the run */
    ASSERT_EQ(atomic_load(&set_rc[RC_OUTSIDE]), GOOSE_ESTATE);
    ASSERT_EQ(atomic_load(&set_rc[RC_IN_STOP]), GOOSE_ESTATE);
    ASSERT_EQ(atomic_load(&set_rc[RC_NULL_DATA]), GOOSE_EINVAL);
    ASSERT_EQ(atomic_load(&set_rc[RC_TOO_BIG]), GOOSE_EINVAL);
    ASSERT_EQ(atomic_load(&log_misuse), 1);
    ASSERT_EQ(atomic_load(&set_rc[RC_REGISTER]), GOOSE_ESTATE);
    goose_attack_free(a);
    target_stop(&tgt);
}

/* test_stop runs after a stop too (goose_attack_stop), after the users
 * ended; a failed test_stop is in its rows and the run is still GOOSE_OK. */
static int check_slowly(goose_user *u)
{
    check(u);
    goose_sleep(u, 50);
    return GOOSE_OK;
}

static void *stop_soon(void *arg)
{
    usleep(600000);
    goose_attack_stop(arg);
    return NULL;
}

TEST(test_stop_after_a_stop)
{
    target_start(&tgt);
    goose_attack *a = attack_of(setup, teardown_fails, NULL);
    goose_scenario *s = goose_scenario_new("Slow");
    goose_scenario_add_transaction(s, "check slowly", check_slowly);
    ASSERT_EQ(goose_attack_add_scenario(a, s), GOOSE_OK);
    set(a, "scenarios", "Slow");
    set(a, "run-time", "60s");
    pthread_t t;
    ASSERT_EQ(pthread_create(&t, NULL, stop_soon, a), 0);
    ASSERT_EQ(goose_attack_run(a), GOOSE_OK); /* test_stop's failure is no run failure */
    pthread_join(t, NULL);
    ASSERT_EQ(atomic_load(&stops), 1);
    json_t *st = setup_stats();
    ASSERT_GT(setup_count(st, "valid"), 4);
    ASSERT_EQ(setup_count(st, "invalid"), 0);
    ASSERT_EQ(setup_count(st, "valid_at_teardown"), setup_count(st, "valid"));
    json_decref(st);
    json_t *r = report_of(a);
    json_t *tx = by_key(r, "transactions", "name", "test_stop");
    ASSERT_EQ(jint(tx, "fail"), 1);
    /* the metrics reset (no --iterations) never drops test_start's */
    ASSERT(json_is_true(json_object_get(r, "metrics_reset")));
    ASSERT_EQ(jint(report_request(r, "POST", "/setup/token"), "count"), 1);
    ASSERT_EQ(jint(by_key(r, "transactions", "name", "test_start"), "success"), 1);
    ASSERT_EQ(jint(report_request(r, "GET", "/setup/teardown"), "count"), 1);
    json_decref(r);
    goose_attack_free(a);
    target_stop(&tgt);
}

static int run_main(goose_attack *a, const char *report)
{
    char arg[300];
    snprintf(arg, sizeof arg, "--report-file=%s", report);
    char prog[] = "once", quiet[] = "-q", no_print[] = "--no-print-metrics";
    char *argv[] = {prog, quiet, no_print, arg, NULL};
    return goose_main(a, 4, argv);
}

/* A failed test_start: exit status 1, no user request reached the target,
 * test_stop did not run, and the report (with test_start's row) is
 * written; its reason is the error. */
TEST(failed_test_start_stops_the_test)
{
    target_start(&tgt);
    char dir[] = "/tmp/goose-once-XXXXXX", report[80];
    ASSERT_NOT_NULL(mkdtemp(dir));
    snprintf(report, sizeof report, "%s/r.json", dir);
    goose_attack *a = attack(setup_fails, teardown);
    ASSERT_EQ(run_main(a, report), 1);
    ASSERT_STR_EQ(goose_attack_error(a), "test_start failed: the API said no");
    ASSERT_EQ(atomic_load(&starts), 1);
    ASSERT_EQ(atomic_load(&stops), 0);
    json_t *st = setup_stats();
    ASSERT_EQ(setup_count(st, "valid") + setup_count(st, "invalid"), 0);
    ASSERT_EQ(target_count(st, "/"), 1);
    json_decref(st);
    json_error_t err;
    json_t *r = json_load_file(report, 0, &err);
    ASSERT_NOT_NULL(r);
    json_t *t = by_key(r, "transactions", "name", "test_start");
    ASSERT_EQ(jint(t, "fail"), 1);
    ASSERT_NULL(report_request(r, "GET", "/setup/check"));
    ASSERT_EQ(jint(report_request(r, "GET", "/"), "count"), 1);
    json_decref(r);
    goose_attack_free(a);

    /* a non-zero return, standalone through goose_attack_run */
    a = attack(setup_returns, teardown);
    ASSERT_EQ(goose_attack_run(a), GOOSE_EFAILED);
    ASSERT_STR_EQ(goose_attack_error(a), "test_start failed: returned 3");
    ASSERT_EQ(atomic_load(&stops), 0);
    goose_attack_free(a);
    target_stop(&tgt);
    char cmd[120];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    ASSERT_EQ(system(cmd), 0);
}

/* The bad inputs of each API, and the hash. */
TEST(bad_inputs)
{
    reset_counts();
    size_t len = 7;
    ASSERT_EQ(goose_attack_set_test_start(NULL, setup), GOOSE_EINVAL);
    ASSERT_EQ(goose_attack_set_test_stop(NULL, teardown), GOOSE_EINVAL);
    ASSERT_EQ(goose_test_set_data(NULL, "x", 1), GOOSE_EINVAL);
    ASSERT_NULL(goose_test_data(NULL, &len));
    ASSERT_EQ(len, 0);
    ASSERT_NULL(goose_test_data(NULL, NULL));

    goose_attack *a = goose_attack_new();
    goose_scenario *s = goose_scenario_new("S");
    goose_scenario_add_transaction(s, "check", check);
    ASSERT_EQ(goose_attack_add_scenario(a, s), GOOSE_OK);
    char none[65], with[65], both[65], removed[65];
    ASSERT_EQ(goose__test_hash(a, none), 0);
    ASSERT_EQ(goose_attack_set_test_start(a, setup), GOOSE_OK);
    ASSERT_EQ(goose__test_hash(a, with), 0);
    ASSERT_EQ(goose_attack_set_test_stop(a, teardown), GOOSE_OK);
    ASSERT_EQ(goose__test_hash(a, both), 0);
    ASSERT_EQ(goose_attack_set_test_start(a, NULL), GOOSE_OK); /* removes it */
    ASSERT_EQ(goose_attack_set_test_stop(a, NULL), GOOSE_OK);
    ASSERT_EQ(goose__test_hash(a, removed), 0);
    ASSERT(strcmp(none, with) != 0);
    ASSERT(strcmp(with, both) != 0);
    ASSERT_STR_EQ(none, removed);
    goose_attack_free(a);
}

/* Removed, they do not run, and the report has no row of them. */
TEST(removed_do_not_run)
{
    target_start(&tgt);
    goose_attack *a = attack(setup, teardown);
    ASSERT_EQ(goose_attack_set_test_start(a, NULL), GOOSE_OK);
    ASSERT_EQ(goose_attack_set_test_stop(a, NULL), GOOSE_OK);
    ASSERT_EQ(goose_attack_run(a), GOOSE_OK);
    ASSERT_EQ(atomic_load(&starts) + atomic_load(&stops), 0);
    json_t *st = setup_stats();
    ASSERT_EQ(setup_count(st, "invalid"), 20); /* no token: every check refused */
    json_decref(st);
    json_t *r = report_of(a);
    ASSERT_NULL(by_key(r, "scenarios", "name", "test_start"));
    ASSERT_NULL(by_key(r, "transactions", "name", "test_stop"));
    json_decref(r);
    goose_attack_free(a);
    target_stop(&tgt);
}

/* ---- in a Gaggle: on the Manager, never on Workers ---- */

#define WORKERS 3

static char worker_error[WORKERS][512];
static atomic_int worker_errors;

static void *manager_main(void *arg)
{
    static int rc;
    rc = gaggle_manager_run(arg);
    return &rc;
}

/* The Manager m (its options set) and WORKERS Workers in threads of this
 * process, their ports through `relay` when it is not NULL (it gets the
 * Manager's port and gives the one to dial); each Worker's result in
 * wrc, the Manager's returned. */
static int run_gaggle(goose_attack *m, goose_transaction_fn start, goose_transaction_fn stop,
                      int wrc[WORKERS], int (*relay)(int manager_port))
{
    char mport[8], wport[8];
    int port = free_port();
    snprintf(mport, sizeof mport, "%d", port);
    snprintf(wport, sizeof wport, "%d", relay ? relay(port) : port);
    set(m, "manager", NULL);
    set(m, "expect-workers", "3");
    set(m, "manager-bind-host", "127.0.0.1");
    set(m, "manager-bind-port", mport);
    set(m, "gaggle-timeout", "10s");
    goose_attack *w[WORKERS];
    gaggle_worker *gw[WORKERS];
    pthread_t mt;
    ASSERT_EQ(pthread_create(&mt, NULL, manager_main, m), 0);
    for (int i = 0; i < WORKERS; i++) {
        w[i] = registered(start, stop);
        set(w[i], "worker", NULL);
        set(w[i], "manager-host", "127.0.0.1");
        set(w[i], "manager-port", wport);
        set(w[i], "gaggle-timeout", "10s");
        gw[i] = gaggle_worker_start(w[i]);
        ASSERT_NOT_NULL(gw[i]);
    }
    for (int i = 0; i < WORKERS; i++)
        wrc[i] = gaggle_worker_join(gw[i]);
    if (relay) /* its Workers broke off: the Manager may still wait for them */
        goose_attack_stop(m);
    void *mrc;
    pthread_join(mt, &mrc);
    if (*(int *)mrc != GOOSE_OK)
        fprintf(stderr, "manager: %s\n", goose_attack_error(m));
    for (int i = 0; i < WORKERS; i++) {
        snprintf(worker_error[i], sizeof worker_error[i], "%s", goose_attack_error(w[i]));
        if (wrc[i] != GOOSE_OK)
            atomic_fetch_add(&worker_errors, 1);
        goose_attack_free(w[i]);
    }
    return *(int *)mrc;
}

static goose_attack *gaggle_manager(goose_transaction_fn start, goose_transaction_fn stop)
{
    reset_counts();
    goose_attack *m = registered(start, stop);
    set(m, "host", tgt.url);
    set(m, "users", "6");
    set(m, "hatch-rate", "1000");
    set(m, "iterations", "2");
    return m;
}

/* test_start takes longer than the Workers to join: START waits. */
static int setup_late(goose_user *u)
{
    goose_sleep(u, 1000);
    return setup(u);
}

/* The token test_start got on the Manager reaches every user of every
 * Worker; test_start and test_stop ran once, on the Manager, test_stop
 * after every Worker; the totals equal the target's count. */
TEST(gaggle_setup_data_reaches_every_worker)
{
    target_start(&tgt);
    goose_attack *m = gaggle_manager(setup_late, teardown);
    int wrc[WORKERS];
    atomic_store(&worker_errors, 0);
    ASSERT_EQ(run_gaggle(m, setup_late, teardown, wrc, NULL), GOOSE_OK);
    for (int i = 0; i < WORKERS; i++)
        ASSERT_EQ(wrc[i], GOOSE_OK);
    ASSERT_EQ(atomic_load(&bad), 0);
    ASSERT_EQ(atomic_load(&starts), 1); /* the Workers registered it too */
    ASSERT_EQ(atomic_load(&stops), 1);
    json_t *st = setup_stats();
    ASSERT_EQ(setup_count(st, "tokens"), 1);
    ASSERT_EQ(setup_count(st, "valid"), 12);
    ASSERT_EQ(setup_count(st, "invalid"), 0);
    ASSERT_EQ(setup_count(st, "checks_before_token"), 0);
    ASSERT_EQ(setup_count(st, "teardowns"), 1);
    ASSERT_EQ(setup_count(st, "valid_at_teardown"), 12);
    json_t *r = report_of(m);
    ASSERT_EQ(report_total(r), target_total(st));
    ASSERT_EQ(jint(report_request(r, "POST", "/setup/token"), "count"), 1);
    ASSERT_EQ(jint(report_request(r, "GET", "/setup/check"), "success"), 12);
    ASSERT_EQ(jint(report_request(r, "GET", "/setup/teardown"), "count"), 1);
    ASSERT_EQ(jint(by_key(r, "transactions", "name", "test_start"), "success"), 1);
    ASSERT_EQ(jint(by_key(r, "transactions", "name", "test_stop"), "success"), 1);
    ASSERT_EQ(jint(by_key(r, "scenarios", "name", "test_start"), "iterations"), 1);
    json_decref(r);
    json_decref(st);
    goose_attack_free(m);
    target_stop(&tgt);
}

/* The Manager is stopped while test_start runs and every Worker is ready:
 * no Worker gets START (no user request), they are told to stop and end
 * well, test_stop still runs once (before, START went out as soon as
 * test_start ended, and test_stop ran beside the Workers' users). */
static int setup_then_stop(goose_user *u)
{
    goose_sleep(u, 1000); /* the Workers join meanwhile */
    int rc = setup(u);
    goose_attack_stop(goose_user_attack(u));
    return rc;
}

TEST(gaggle_stop_during_test_start)
{
    target_start(&tgt);
    goose_attack *m = gaggle_manager(setup_then_stop, teardown);
    int wrc[WORKERS];
    ASSERT_EQ(run_gaggle(m, setup_then_stop, teardown, wrc, NULL), GOOSE_EFAILED);
    ASSERT(strstr(goose_attack_error(m), "stopped before START (3 of 3 workers had joined)"));
    for (int i = 0; i < WORKERS; i++)
        ASSERT_EQ(wrc[i], GOOSE_OK);
    ASSERT_EQ(atomic_load(&starts), 1);
    ASSERT_EQ(atomic_load(&stops), 1);
    json_t *st = setup_stats();
    ASSERT_EQ(setup_count(st, "tokens"), 1);
    ASSERT_EQ(setup_count(st, "valid") + setup_count(st, "invalid"), 0); /* no user ran */
    ASSERT_EQ(setup_count(st, "teardowns"), 1);
    json_decref(st);
    goose_attack_free(m);
    target_stop(&tgt);
}

/* A test_stop that outlasts a second on the Manager is not part of the
 * run's time: the last interval of the series is the run's own (before,
 * the collector kept ticking meanwhile and the last interval wrapped
 * around to 1.8e13 s). */
static int teardown_slowly(goose_user *u)
{
    goose_sleep(u, 2500);
    return teardown(u);
}

TEST(gaggle_slow_test_stop_keeps_the_series)
{
    target_start(&tgt);
    goose_attack *m = gaggle_manager(setup, teardown_slowly);
    int wrc[WORKERS];
    ASSERT_EQ(run_gaggle(m, setup, teardown_slowly, wrc, NULL), GOOSE_OK);
    ASSERT_EQ(atomic_load(&stops), 1);
    json_t *r = report_of(m);
    json_t *series = json_object_get(r, "timeseries");
    double last = json_number_value(json_object_get(series, "last_interval_s"));
    ASSERT(last > 0 && last <= 1.0);
    ASSERT(json_number_value(json_object_get(r, "duration_s")) < 60);
    ASSERT_EQ(jint(by_key(r, "transactions", "name", "test_stop"), "success"), 1);
    json_decref(r);
    goose_attack_free(m);
    target_stop(&tgt);
}

/* test_start fails while the Workers wait: they are told to stop and end
 * well, no user starts, the Manager fails with its reason. */
static int setup_fails_late(goose_user *u)
{
    goose_sleep(u, 1500); /* the Workers join meanwhile */
    return setup_fails(u);
}

TEST(gaggle_failed_test_start)
{
    target_start(&tgt);
    goose_attack *m = gaggle_manager(setup_fails_late, teardown);
    int wrc[WORKERS];
    ASSERT_EQ(run_gaggle(m, setup_fails_late, teardown, wrc, NULL), GOOSE_EFAILED);
    ASSERT_STR_EQ(goose_attack_error(m), "test_start failed: the API said no");
    for (int i = 0; i < WORKERS; i++)
        ASSERT_EQ(wrc[i], GOOSE_OK);
    ASSERT_EQ(atomic_load(&starts), 1);
    ASSERT_EQ(atomic_load(&stops), 0);
    json_t *st = setup_stats();
    ASSERT_EQ(target_total(st), 1);
    ASSERT_EQ(target_count(st, "/"), 1);
    json_decref(st);
    json_t *r = report_of(m);
    ASSERT_EQ(jint(by_key(r, "transactions", "name", "test_start"), "fail"), 1);
    ASSERT_EQ(report_total(r), 1);
    json_decref(r);
    goose_attack_free(m);
    target_stop(&tgt);
}

/* ---- a Worker's checks of "test_data": through a relay that changes
 * what the Manager sends ---- */

enum { RELAY_TWICE, RELAY_LATE, RELAY_BIG };
static int relay_mode;
static int relay_listen_fd, relay_manager_port;
static pthread_t relay_thread, relay_pairs[WORKERS];
static int relay_npairs;

static int frame_is(const unsigned char *f, size_t n, const char *type)
{
    char want[24];
    size_t len = strlen(type);
    want[0] = (char)0xa4;
    memcpy(want + 1, "type", 4);
    want[5] = (char)(0xa0 | len);
    memcpy(want + 6, type, len);
    return memmem(f, n < 24 ? n : 24, want, 6 + len) != NULL;
}

static int send_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n > 0) {
        ssize_t k = send(fd, c, n, MSG_NOSIGNAL);
        if (k <= 0)
            return -1;
        c += k;
        n -= (size_t)k;
    }
    return 0;
}

/* A frame from the Manager, as the mode wants it passed on. */
static int pass_frame(int to, const unsigned char *f, size_t n, unsigned char **held,
                      size_t *nheld)
{
    if (frame_is(f + 4, n - 4, "test_data")) {
        if (relay_mode == RELAY_TWICE)
            return send_all(to, f, n) < 0 ? -1 : send_all(to, f, n);
        if (relay_mode == RELAY_LATE) { /* after "start" */
            *held = malloc(n);
            memcpy(*held, f, n);
            *nheld = n;
            return 0;
        }
        gaggle_out o; /* RELAY_BIG: one byte over the cap */
        char *big = calloc(1, GOOSE_TEST_DATA_MAX + 1u);
        goose__out_begin(&o, "test_data", 1);
        goose__out_bin(&o, "data", big, GOOSE_TEST_DATA_MAX + 1u);
        goose__out_finish(&o);
        int rc = send_all(to, o.sb.data, o.sb.size);
        goose__out_free(&o);
        free(big);
        return rc;
    }
    if (send_all(to, f, n) < 0)
        return -1;
    if (*held && frame_is(f + 4, n - 4, "start")) {
        int rc = send_all(to, *held, *nheld);
        free(*held);
        *held = NULL;
        return rc;
    }
    return 0;
}

/* One Worker's connection, both ways, for at most 20 s. */
static void *relay_pair(void *arg)
{
    int w = (int)(intptr_t)arg;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)relay_manager_port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    unsigned char *buf = malloc(GAGGLE_FRAME_MAX + 4), *held = NULL;
    size_t have = 0, nheld = 0;
    int m = -1, up = -1;
    for (int tries = 0; tries < 100 && up < 0; tries++) { /* the Manager may not listen yet */
        if (m >= 0) {
            close(m);
            usleep(50000);
        }
        m = socket(AF_INET, SOCK_STREAM, 0);
        up = connect(m, (struct sockaddr *)&sa, sizeof sa);
    }
    if (up == 0) {
        for (int rounds = 0; rounds < 400; rounds++) {
            struct pollfd p[2] = {{w, POLLIN, 0}, {m, POLLIN, 0}};
            if (poll(p, 2, 50) < 0)
                break;
            char chunk[65536];
            ssize_t n;
            if (p[0].revents) {
                if ((n = recv(w, chunk, sizeof chunk, 0)) <= 0 || send_all(m, chunk, (size_t)n) < 0)
                    break;
            }
            if (!p[1].revents)
                continue;
            if ((n = recv(m, buf + have, GAGGLE_FRAME_MAX + 4 - have, 0)) <= 0)
                break;
            have += (size_t)n;
            int ok = 1;
            while (ok && have >= 4) {
                size_t len = 4 + ((size_t)buf[0] << 24 | (size_t)buf[1] << 16 |
                                  (size_t)buf[2] << 8 | buf[3]);
                if (have < len)
                    break;
                ok = pass_frame(w, buf, len, &held, &nheld) == 0;
                memmove(buf, buf + len, have - len);
                have -= len;
            }
            if (!ok)
                break;
        }
    }
    free(held);
    free(buf);
    close(m);
    close(w);
    return NULL;
}

static void *relay_accept(void *arg)
{
    (void)arg;
    while (relay_npairs < WORKERS) {
        struct pollfd p = {relay_listen_fd, POLLIN, 0};
        if (poll(&p, 1, 10000) <= 0)
            break;
        int w = accept(relay_listen_fd, NULL, NULL);
        if (w < 0 || pthread_create(&relay_pairs[relay_npairs], NULL, relay_pair,
                                    (void *)(intptr_t)w) != 0)
            break;
        relay_npairs++;
    }
    return NULL;
}

static int relay_start(int manager_port)
{
    relay_manager_port = manager_port;
    relay_npairs = 0;
    relay_listen_fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof sa;
    ASSERT_EQ(bind(relay_listen_fd, (struct sockaddr *)&sa, sizeof sa), 0);
    ASSERT_EQ(listen(relay_listen_fd, 8), 0);
    ASSERT_EQ(getsockname(relay_listen_fd, (struct sockaddr *)&sa, &len), 0);
    ASSERT_EQ(pthread_create(&relay_thread, NULL, relay_accept, NULL), 0);
    return ntohs(sa.sin_port);
}

static void relay_join(void)
{
    pthread_join(relay_thread, NULL);
    for (int i = 0; i < relay_npairs; i++)
        pthread_join(relay_pairs[i], NULL);
    close(relay_listen_fd);
}

/* Each Worker refuses a "test_data" that comes twice, after "start", or
 * over the cap: a protocol error, and it ends. */
TEST(worker_checks_test_data)
{
    static const char *const why[] = {"a second test_data message",
                                      "test_data outside the wait for start",
                                      "test_data over GOOSE_TEST_DATA_MAX"};
    target_start(&tgt);
    for (relay_mode = RELAY_TWICE; relay_mode <= RELAY_BIG; relay_mode++) {
        goose_attack *m = gaggle_manager(setup, teardown);
        int wrc[WORKERS];
        atomic_store(&worker_errors, 0);
        run_gaggle(m, setup, teardown, wrc, relay_start);
        relay_join();
        for (int i = 0; i < WORKERS; i++)
            ASSERT_EQ(wrc[i], GOOSE_EFAILED);
        ASSERT_EQ(atomic_load(&worker_errors), WORKERS);
        for (int i = 0; i < WORKERS; i++)
            if (!strstr(worker_error[i], why[relay_mode]))
                TEST_FAIL("worker %d: \"%s\", not \"%s\"", i, worker_error[i], why[relay_mode]);
        goose_attack_free(m);
    }
    target_stop(&tgt);
}

TEST_MAIN(TEST_ENTRY(setup_data_reaches_every_user), TEST_ENTRY(test_stop_after_a_stop),
          TEST_ENTRY(failed_test_start_stops_the_test), TEST_ENTRY(bad_inputs),
          TEST_ENTRY(removed_do_not_run), TEST_ENTRY(gaggle_setup_data_reaches_every_worker),
          TEST_ENTRY(gaggle_failed_test_start), TEST_ENTRY(gaggle_stop_during_test_start),
          TEST_ENTRY(gaggle_slow_test_stop_keeps_the_series), TEST_ENTRY(worker_checks_test_data))
