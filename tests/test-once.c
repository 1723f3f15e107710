/* test_start and test_stop (goose_attack_set_test_start/_stop) and the
 * test's data (goose_test_set_data/goose_test_data), end to end against
 * the bundled target: test_start gets a token (POST /setup/token) that
 * every user's request carries (GET /setup/check?token=...), test_stop
 * calls /setup/teardown; the target counts valid and invalid checks and
 * notes when the token was made and when test_stop came. */
#include "e2e.h"

#include <pthread.h>
#include <stdatomic.h>
#include <sys/stat.h>

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
    void *mrc;
    pthread_join(mt, &mrc);
    if (*(int *)mrc != GOOSE_OK)
        fprintf(stderr, "manager: %s\n", goose_attack_error(m));
    for (int i = 0; i < WORKERS; i++) {
        if (wrc[i] != GOOSE_OK)
            fprintf(stderr, "worker %d: %s\n", i, goose_attack_error(w[i]));
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

/* The token test_start got on the Manager reaches every user of every
 * Worker; test_start and test_stop ran once, on the Manager, test_stop
 * after every Worker; the totals equal the target's count. */
TEST(gaggle_setup_data_reaches_every_worker)
{
    target_start(&tgt);
    goose_attack *m = gaggle_manager(setup, teardown);
    int wrc[WORKERS];
    ASSERT_EQ(run_gaggle(m, setup, teardown, wrc, NULL), GOOSE_OK);
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

TEST_MAIN(TEST_ENTRY(setup_data_reaches_every_user), TEST_ENTRY(test_stop_after_a_stop),
          TEST_ENTRY(failed_test_start_stops_the_test), TEST_ENTRY(bad_inputs),
          TEST_ENTRY(removed_do_not_run), TEST_ENTRY(gaggle_setup_data_reaches_every_worker),
          TEST_ENTRY(gaggle_failed_test_start))
