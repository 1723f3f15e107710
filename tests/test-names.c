/* --max-request-names: request keys and error rows past the bound fold
 * into (other) rows, exactly counted, in one process (every engine thread
 * sharing one bound) and on a Gaggle Manager decoding a Worker's delta. */
#include "gaggle.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


#define CAP 50
#define USERS 4
#define ITERATIONS 5000 /* per user: 20,000 requests, about 17,000 paths */

/* ---- the registry and the stats, without a run ---- */

/* Two shards (two engine threads) share one bound: a name is the same row
 * in both, and merging them keeps at most CAP named rows. */
TEST(shards_share_one_bound)
{
    goose_names *n = goose__names_new(3);
    goose_stats a, b, total;
    ASSERT_NOT_NULL(n);
    ASSERT_EQ(goose__stats_init(&a, 1, 1), 0);
    ASSERT_EQ(goose__stats_init(&b, 1, 1), 0);
    ASSERT_EQ(goose__stats_init(&total, 1, 1), 0);
    a.names = b.names = n;
    char path[32];
    for (int i = 0; i < 100; i++) {
        snprintf(path, sizeof path, "/a/%d", i);
        ASSERT_EQ(goose__stats_record(i % 2 ? &a : &b, "GET", path, 200, 100, NULL), 0);
        /* the first name again, on the other shard, after the bound filled */
        ASSERT_EQ(goose__stats_record(i % 2 ? &b : &a, "GET", "/a/0", 200, 100, NULL), 0);
    }
    ASSERT_EQ(goose__stats_record(&a, "POST", "/a/77", 500, 100, "500 x"), 0);
    ASSERT_EQ(goose__stats_merge(&total, &a), 0);
    ASSERT_EQ(goose__stats_merge(&total, &b), 0);
    ASSERT_EQ(total.requests, 201);
    ASSERT_EQ(goose__req_count(goose__stats_find(&total, "GET", "/a/0")), 101);
    ASSERT_EQ(goose__req_count(goose__stats_find(&total, "GET", "/a/1")), 1);
    ASSERT_EQ(goose__req_count(goose__stats_find(&total, "GET", "/a/2")), 1);
    ASSERT_NULL(goose__stats_find(&total, "GET", "/a/3"));
    ASSERT_EQ(goose__req_count(goose__stats_find(&total, "GET", GOOSE_OTHER_NAME)), 97);
    /* (other) is per method */
    ASSERT_EQ(goose__req_count(goose__stats_find(&total, "POST", GOOSE_OTHER_NAME)), 1);
    ASSERT_EQ(total.nreqs, 5);
    ASSERT_EQ(total.nerrs, 1);
    ASSERT_STR_EQ(total.errs[0].name, GOOSE_OTHER_NAME); /* under its request's row */
    ASSERT_EQ(goose__names_folded(n, GOOSE_NAMES_REQUESTS, NULL), 98); /* /a/3../a/99, POST */
    char some[256];
    ASSERT_EQ(goose__names_warning_due(n, some, sizeof some), 1);
    ASSERT_STR_EQ(some, "GET /a/3, GET /a/4, GET /a/5");
    ASSERT_EQ(goose__names_warning_due(n, some, sizeof some), 0); /* once */
    goose__stats_free(&a);
    goose__stats_free(&b);
    goose__stats_free(&total);
    goose__names_free(n);
}

/* Error texts: past the bound a new (method, name, text) row counts under
 * (other errors) of its request row; the failures all stay counted. */
TEST(error_rows_are_bounded)
{
    goose_names *n = goose__names_new(5);
    goose_stats s;
    ASSERT_NOT_NULL(n);
    ASSERT_EQ(goose__stats_init(&s, 1, 1), 0);
    s.names = n;
    char why[32];
    for (int i = 0; i < 1000; i++) {
        snprintf(why, sizeof why, "bad %d", i % 400);
        ASSERT_EQ(goose__stats_record(&s, "GET", "/x", 0, 10, why), 0);
    }
    ASSERT_EQ(s.nerrs, 6); /* 5 texts + (other errors) */
    uint64_t sum = 0, other = 0;
    for (size_t i = 0; i < s.nerrs; i++) {
        sum += s.errs[i].count;
        if (!strcmp(s.errs[i].error, GOOSE_OTHER_ERRORS))
            other = s.errs[i].count;
    }
    ASSERT_EQ(sum, 1000);
    ASSERT_EQ(other, 1000 - 5 * 3); /* "bad 0".."bad 4" came 3 times each */
    ASSERT_EQ(goose__names_folded(n, GOOSE_NAMES_ERRORS, NULL), 395);
    goose__stats_free(&s);
    goose__names_free(n);
}

/* A Worker that sends more names than the Manager's bound: the Manager's
 * decoded delta keeps CAP named rows and the rest in (other), totals
 * exact, however many names arrive. */
TEST(manager_folds_a_workers_names)
{
    goose_stats w, m;
    goose_names *n = goose__names_new(CAP);
    ASSERT_NOT_NULL(n);
    ASSERT_EQ(goose__stats_init(&w, 1, 1), 0);
    ASSERT_EQ(goose__stats_init(&m, 1, 1), 0);
    char path[32], why[32];
    for (int i = 0; i < 3000; i++) {
        snprintf(path, sizeof path, "/w/%d", i);
        snprintf(why, sizeof why, "e%d", i);
        ASSERT_EQ(goose__stats_record(&w, "GET", path, i % 3 ? 200 : 503, 100 + (uint64_t)i,
                                      i % 3 ? NULL : why), 0);
    }
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    goose__pack_stats(&pk, &w);
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    size_t off = 0;
    ASSERT_EQ(msgpack_unpack_next(&u, sb.data, sb.size, &off), MSGPACK_UNPACK_SUCCESS);
    m.names = n;
    ASSERT_EQ(goose__unpack_stats(&u.data, &m), 0);
    ASSERT_EQ(m.nreqs, CAP + 1);
    ASSERT_LE(m.nerrs, CAP + 1);
    ASSERT_EQ(m.requests, 3000);
    ASSERT_EQ(m.failures, 1000);
    uint64_t count = 0, fails = 0, errors = 0;
    for (size_t i = 0; i < m.nreqs; i++) {
        count += goose__req_count(m.reqs[i]);
        fails += m.reqs[i]->fail;
    }
    for (size_t i = 0; i < m.nerrs; i++)
        errors += m.errs[i].count;
    ASSERT_EQ(count, 3000);
    ASSERT_EQ(fails, 1000);
    ASSERT_EQ(errors, 1000);
    ASSERT_EQ(goose__req_count(goose__stats_find(&m, "GET", GOOSE_OTHER_NAME)), 3000 - CAP);
    ASSERT_EQ(goose__names_folded(n, GOOSE_NAMES_REQUESTS, NULL), 3000 - CAP);
    msgpack_unpacked_destroy(&u);
    msgpack_sbuffer_destroy(&sb);
    goose__stats_free(&w);
    goose__stats_free(&m);
    goose__names_free(n);
}

/* ---- the option ---- */

static int noop(goose_user *u)
{
    (void)u;
    return GOOSE_OK;
}

static goose_attack *new_attack(void)
{
    goose_attack *a = goose_attack_new();
    goose_scenario *s = goose_scenario_new("s");
    goose_scenario_add_transaction(s, "t", noop);
    goose_attack_add_scenario(a, s);
    return a;
}

static int main_with(const char *flag, const char *value)
{
    char *argv[] = {(char *)"names", (char *)"--version", (char *)flag, (char *)value, NULL};
    goose_attack *a = new_attack();
    int rc = goose_main(a, flag ? 4 : 2, argv);
    goose_attack_free(a);
    return rc;
}

TEST(option_is_checked)
{
    goose_attack *a = new_attack();
    ASSERT_EQ(a->opt.max_request_names, 2000); /* the default */
    static const char *const bad[] = {"0", "-1", "", "12x", "abc", "1000001", " 5", "5 "};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (goose_attack_set_option(a, "max-request-names", bad[i]) != GOOSE_EVALUE)
            TEST_FAIL("max-request-names \"%s\" was taken", bad[i]);
        ASSERT_NOT_NULL(strstr(goose_attack_error(a), "--max-request-names"));
    }
    ASSERT_EQ(goose_attack_set_option(a, "max-request-names", "7"), GOOSE_OK);
    ASSERT_EQ(a->opt.max_request_names, 7);
    goose_attack_free(a);

    ASSERT_EQ(main_with("--max-request-names", "0"), 2);
    ASSERT_EQ(main_with("--max-request-names", "many"), 2);
    ASSERT_EQ(main_with("--max-request-names", "10"), 0);
    setenv("GOOSE_MAX_REQUEST_NAMES", "-3", 1);
    ASSERT_EQ(main_with(NULL, NULL), 2);
    setenv("GOOSE_MAX_REQUEST_NAMES", "30", 1);
    ASSERT_EQ(main_with(NULL, NULL), 0);
    unsetenv("GOOSE_MAX_REQUEST_NAMES");
}

/* ---- a real run against the bundled target ---- */

static atomic_uint next_request;

/* Every tenth request goes to one of 7 fixed paths (seen by every thread
 * from the start), every other to a path of its own; every fifth fails
 * with a text of its own. */
static int dynamic_paths(goose_user *u)
{
    unsigned n = atomic_fetch_add(&next_request, 1);
    char path[32], why[32];
    snprintf(path, sizeof path, "/node/%u", n % 10 == 0 ? n % 7 : 100 + n);
    goose_response *r = goose_get(u, path);
    if (n % 5 == 0) {
        snprintf(why, sizeof why, "odd %u", n);
        goose_response_set_failure(r, why);
    }
    goose_response_free(r);
    return GOOSE_OK;
}

typedef struct log_lines {
    atomic_int folded_warnings;
    char first[512];
} log_lines;

static void on_log(void *arg, goose_log_level level, const char *line)
{
    log_lines *l = arg;
    if (level == GOOSE_LOG_WARN && strstr(line, "--max-request-names") &&
        atomic_fetch_add(&l->folded_warnings, 1) == 0)
        snprintf(l->first, sizeof l->first, "%s", line);
}

static long vm_kib(const char *field)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long v = -1;
    size_t n = strlen(field);
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, field, n) && line[n] == ':')
            v = atol(line + n + 1);
    if (f)
        fclose(f);
    return v;
}

/* The bound against a real run: at most CAP named rows plus (other); the
 * total is what the target counted, each named row exactly its path's
 * count, the folded count the paths that got no row; one warning; and the
 * memory the run took does not grow with the paths. */
TEST(run_folds_past_the_bound)
{
    target t;
    target_start(&t);
    goose_attack *a = goose_attack_new();
    goose_scenario *s = goose_scenario_new("dyn");
    goose_scenario_add_transaction(s, "t", dynamic_paths);
    goose_attack_add_scenario(a, s);
    log_lines logs = {0};
    goose_attack_set_log(a, on_log, &logs);
    char n[16];
    snprintf(n, sizeof n, "%d", CAP);
    set(a, "host", t.url);
    set(a, "users", "4");
    set(a, "hatch-rate", "1000");
    set(a, "threads", "2");
    snprintf(n, sizeof n, "%d", ITERATIONS);
    set(a, "iterations", n);
    snprintf(n, sizeof n, "%d", CAP);
    set(a, "max-request-names", n);
    long rss_before = vm_kib("VmRSS");
    ASSERT_EQ(goose_attack_run(a), GOOSE_OK);
    long grew = vm_kib("VmHWM") - rss_before;

    json_t *stats = target_json(&t, "/stats");
    json_t *report = report_of(a);
    long long total = USERS * ITERATIONS;
    ASSERT_EQ(target_total(stats), total);
    ASSERT_EQ(report_total(report), total);

    size_t named = 0, i;
    long long other = -1, fails = 0, errors = 0;
    json_t *r;
    json_array_foreach(json_object_get(report, "requests"), i, r) {
        const char *name = json_string_value(json_object_get(r, "name"));
        fails += jint(r, "fail");
        if (!strcmp(name, GOOSE_OTHER_NAME)) {
            ASSERT_EQ(other, -1); /* one (other) row: every request is a GET */
            other = jint(r, "count");
            continue;
        }
        named++;
        /* never counted as itself on one thread and (other) on the other */
        if (jint(r, "count") != target_count(stats, name))
            TEST_FAIL("%s: %lld in the report, %lld at the target", name, jint(r, "count"),
                      target_count(stats, name));
    }
    ASSERT_EQ(named, CAP);
    size_t paths = json_object_size(json_object_get(stats, "paths"));
    ASSERT_GT(other, 0);
    json_t *names = json_object_get(report, "request_names");
    ASSERT_EQ(jint(names, "max"), CAP);
    ASSERT_EQ(jint(names, "folded"), (long long)(paths - named));

    /* error rows: at most CAP texts of their own, the rest in (other errors) */
    size_t error_rows = 0, other_rows = 0;
    json_array_foreach(json_object_get(report, "errors"), i, r) {
        errors += jint(r, "count");
        if (!strcmp(json_string_value(json_object_get(r, "error")), GOOSE_OTHER_ERRORS))
            other_rows++;
        else
            error_rows++;
    }
    ASSERT_EQ(fails, total / 5);
    ASSERT_EQ(errors, fails);
    ASSERT_EQ(error_rows, CAP);
    ASSERT_GE(other_rows, 1);
    ASSERT_LE(other_rows, CAP + 1);
    /* every failure's text was its own, so all but CAP folded */
    ASSERT_EQ(jint(names, "errors_folded"), fails - CAP);

    ASSERT_EQ(atomic_load(&logs.folded_warnings), 1);
    ASSERT_NOT_NULL(strstr(logs.first, "goose_request_set_name"));
    ASSERT_NOT_NULL(strstr(logs.first, "GET /node/"));
    /* 17,000 paths of their own: at the ~1 KiB each that three of a run's
       copies of a key cost without the bound, 50 MiB; with it, a few */
    if (grew > 24 * 1024)
        TEST_FAIL("the run grew the process by %ld KiB", grew);
    json_decref(report);
    json_decref(stats);
    goose_attack_free(a);
    target_stop(&t);
}

/* A Gaggle: the Manager's bound (10) goes to the Workers, each folds its
 * own paths past it, and the Manager folds what the Workers kept beyond
 * its own 10: its report has 10 named rows, each exactly the target's
 * count, the rest in (other), and the total the target's. */
TEST(gaggle_manager_keeps_the_bound)
{
    setup();
    char port[8], report[256];
    manager_spot(port, report);
    pid_t m = spawn("manager", "paths", "--manager", "--expect-workers", "2", PORT_ARGS(port),
                    "--host", tgt.url, "-u", "2", "-r", "100", "--iterations", "300",
                    "--max-request-names", "10", "--report-file", report, NULL);
    pid_t w0 = spawn("worker0", "paths", "--worker", "--manager-port", port, "--threads", "1",
                     NULL);
    pid_t w1 = spawn("worker1", "paths", "--worker", "--manager-port", port, "--threads", "1",
                     NULL);
    ASSERT_EQ(wait_exit(m, 60), 0);
    ASSERT_EQ(wait_exit(w0, 10), 0);
    ASSERT_EQ(wait_exit(w1, 10), 0);
    json_t *r = load_report(report), *stats = target_json(&tgt, "/stats");
    long long total = target_total(stats);
    ASSERT_EQ(total, 2 * 300 * 2);
    ASSERT_EQ(report_total(r), total);
    size_t named = 0, i;
    long long in_named = 0, other = 0;
    json_t *q;
    json_array_foreach(json_object_get(r, "requests"), i, q) {
        const char *name = json_string_value(json_object_get(q, "name"));
        if (!strcmp(name, GOOSE_OTHER_NAME)) {
            other += jint(q, "count");
            continue;
        }
        named++;
        in_named += jint(q, "count");
        if (jint(q, "count") != target_count(stats, name))
            TEST_FAIL("%s: %lld in the report, %lld at the target", name, jint(q, "count"),
                      target_count(stats, name));
    }
    ASSERT_EQ(named, 10);
    ASSERT_EQ(other, total - in_named);
    for (int k = 0; k < 5; k++) { /* the shared paths came first everywhere */
        char path[24];
        snprintf(path, sizeof path, "/node/%d", k);
        ASSERT_NOT_NULL(report_request(r, "GET", path));
    }
    json_t *names = json_object_get(r, "request_names");
    size_t paths = json_object_size(json_object_get(stats, "paths"));
    ASSERT_EQ(jint(names, "max"), 10);
    ASSERT_EQ(jint(names, "folded"), (long long)(paths - named));
    ASSERT(json_is_false(json_object_get(names, "folded_exact"))); /* a Gaggle's sum */
    ASSERT(log_has("worker0", "goose_request_set_name"));
    ASSERT(log_has("worker1", "goose_request_set_name"));
    ASSERT_EQ(log_count("manager", "request names (--max-request-names)"), 1); /* once */
    json_decref(r);
    json_decref(stats);
    teardown();
}

TEST_MAIN(TEST_ENTRY(shards_share_one_bound), TEST_ENTRY(error_rows_are_bounded),
          TEST_ENTRY(manager_folds_a_workers_names), TEST_ENTRY(option_is_checked),
          TEST_ENTRY(run_folds_past_the_bound), TEST_ENTRY(gaggle_manager_keeps_the_bound))
