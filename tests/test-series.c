/* The per-second time series against what really happened: the request
 * log bucketed by second and the target's own count.  Every request of the
 * run is in it (the hatch before a metrics reset too), and the last point,
 * the part of a second the run ended in, counts per second of that part. */
#include "e2e.h"

#include <math.h>

static target tgt;

static int page(goose_user *u)
{
    goose_response_free(goose_get(u, "/"));
    return GOOSE_OK;
}

static goose_attack *attack(const char *users, const char *hatch_rate, const char *run_time)
{
    goose_attack *a = goose_attack_new();
    goose_scenario *s = goose_scenario_new("Reader");
    goose_scenario_set_wait_time(s, 2, 4);
    goose_scenario_add_transaction(s, "page", page);
    goose_attack_add_scenario(a, s);
    set(a, "host", tgt.url);
    set(a, "users", users);
    set(a, "hatch-rate", hatch_rate);
    set(a, "run-time", run_time);
    return a;
}

/* The series' requests in point i: the sum over its request keys. */
static long long point_count(json_t *series, size_t i)
{
    long long n = 0;
    size_t k;
    json_t *key;
    json_array_foreach(json_object_get(series, "requests"), k, key)
        n += json_integer_value(json_array_get(json_object_get(key, "counts"), i));
    return n;
}

/* The request log's lines (JSON) per second of the run, by when each
 * response arrived; returns the seconds. */
static size_t log_seconds(const char *path, long long *per_s, size_t max)
{
    FILE *f = fopen(path, "r");
    ASSERT_NOT_NULL(f);
    char line[4096];
    size_t n = 0;
    memset(per_s, 0, max * sizeof *per_s);
    while (fgets(line, sizeof line, f)) {
        json_error_t err;
        json_t *j = json_loads(line, 0, &err);
        ASSERT_NOT_NULL(j);
        long long at_us = jint(j, "elapsed_ms") * 1000 + jint(j, "response_time_us");
        size_t s = (size_t)(at_us / 1000000);
        ASSERT_LT(s, max);
        per_s[s]++;
        if (s + 1 > n)
            n = s + 1;
        json_decref(j);
    }
    fclose(f);
    return n;
}

/* Hatching over two seconds, then the reset: the series keeps the hatch's
 * requests (hatch_requests), second by second as the request log has them. */
TEST(series_keeps_the_hatch_across_the_reset)
{
    target_start(&tgt);
    char log[64];
    snprintf(log, sizeof log, "/tmp/goose-series-%d.log", (int)getpid());
    goose_attack *a = attack("6", "3", "2s");
    set(a, "request-log", log);
    ASSERT_EQ(goose_attack_run(a), GOOSE_OK);
    json_t *report = report_of(a), *stats = target_json(&tgt, "/stats");
    json_t *series = json_object_get(report, "timeseries");
    ASSERT(json_is_true(json_object_get(report, "metrics_reset")));
    long long hatch = jint(report, "hatch_requests"), total = report_total(report);
    ASSERT_GT(hatch, 0);
    ASSERT_EQ(total + hatch, target_total(stats));
    size_t n = json_array_size(json_object_get(series, "rps"));
    long long sum = 0, logged[64];
    for (size_t i = 0; i < n; i++)
        sum += point_count(series, i);
    ASSERT_EQ(sum, total + hatch);
    size_t seconds = log_seconds(log, logged, 64);
    ASSERT_EQ(seconds, n);
    for (size_t i = 0; i < n; i++) {
        /* a thread's publish may come a little after its second ends (a busy box) */
        long long d = llabs(point_count(series, i) - logged[i]);
        if (d > 10 + logged[i] * 15 / 100)
            TEST_FAIL("second %zu: the series has %lld requests, the log %lld", i + 1,
                      point_count(series, i), logged[i]);
    }
    json_t *lost = json_object_get(report, "metrics_lost");
    ASSERT_EQ(jint(lost, "samples"), 0);
    unlink(log);
    json_decref(report);
    json_decref(stats);
    goose_attack_free(a);
    target_stop(&tgt);
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    ASSERT_NOT_NULL(f);
    static char text[1 << 16];
    size_t n = fread(text, 1, sizeof text - 1, f);
    text[n] = '\0';
    fclose(f);
    return text;
}

/* A run that ends 0.3 s into its third second: the last point covers that
 * 0.3 s (last_interval_s), and its rate is per second of it, no spike. */
TEST(last_partial_second_is_a_rate_of_its_length)
{
    target_start(&tgt);
    char dir[] = "/tmp/goose-series-XXXXXX", csv[80], hist[80];
    ASSERT_NOT_NULL(mkdtemp(dir));
    snprintf(csv, sizeof csv, "%s/r.csv", dir);
    snprintf(hist, sizeof hist, "%s/r_history.csv", dir);
    goose_attack *a = attack("4", "1000", "2300ms");
    set(a, "no-reset-metrics", NULL);
    set(a, "report-file", csv);
    ASSERT_EQ(goose_attack_run(a), GOOSE_OK);
    json_t *report = report_of(a), *stats = target_json(&tgt, "/stats");
    json_t *series = json_object_get(report, "timeseries");
    json_t *rps = json_object_get(series, "rps");
    size_t n = json_array_size(rps);
    ASSERT_EQ(n, 3);
    double last_s = json_number_value(json_object_get(series, "last_interval_s"));
    if (!(last_s > 0.2 && last_s < 0.6))
        TEST_FAIL("last_interval_s %.3f, not 0.3 or so", last_s);
    long long sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += point_count(series, i);
    ASSERT_EQ(sum, report_total(report));
    ASSERT_EQ(sum, target_total(stats));
    double whole = json_number_value(json_array_get(rps, 1));
    double last = json_number_value(json_array_get(rps, n - 1));
    ASSERT_GT(whole, 50);
    if (last > whole * 2 || last < whole / 2)
        TEST_FAIL("the last point: %.1f req/s, the one before %.1f req/s", last, whole);
    ASSERT(fabs(last - (double)point_count(series, n - 1) / last_s) < 0.01 * last + 1);
    /* the history says the same, its last row at the end of the run */
    char *text = slurp(hist), want[120];
    size_t len = strlen(text);
    while (len && text[len - 1] == '\n')
        text[--len] = '\0';
    char *row = strrchr(text, '\n');
    ASSERT_NOT_NULL(row);
    row++;
    snprintf(want, sizeof want, "%.3f,", 2 + last_s);
    if (strncmp(row, want, strlen(want)))
        TEST_FAIL("history row \"%s\", wanted it to start \"%s\"", row, want);
    double hist_rps = 0;
    ASSERT_EQ(sscanf(strchr(strchr(row, ',') + 1, ',') + 1, "%lf", &hist_rps), 1);
    ASSERT(fabs(hist_rps - last) < 0.01);
    json_decref(report);
    json_decref(stats);
    goose_attack_free(a);
    target_stop(&tgt);
    char cmd[120];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    ASSERT_EQ(system(cmd), 0);
}

TEST_MAIN(TEST_ENTRY(series_keeps_the_hatch_across_the_reset),
          TEST_ENTRY(last_partial_second_is_a_rate_of_its_length))
