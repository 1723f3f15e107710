/* A Gaggle's time series: the Workers' requests of the hatch, measured
 * before the metrics reset, reach the Manager's series too ("before" in
 * their metrics), so its counts add up to what the target saw. */
#include "gaggle.h"

static long long series_sum(json_t *report)
{
    long long n = 0;
    size_t k, i;
    json_t *key, *c;
    json_array_foreach(json_object_get(json_object_get(report, "timeseries"), "requests"), k,
                       key)
        json_array_foreach(json_object_get(key, "counts"), i, c)
            n += json_integer_value(c);
    return n;
}

TEST(manager_series_keeps_the_hatch)
{
    setup();
    char port[8], report[256];
    manager_spot(port, report);
    pid_t m = spawn("manager", NULL, "--manager", "--expect-workers", "2", PORT_ARGS(port),
                    "--host", tgt.url, "-u", "8", "-r", "4", "-t", "2s", "--report-file", report,
                    NULL);
    pid_t w0 = spawn("worker0", NULL, "--worker", "--manager-port", port, NULL);
    pid_t w1 = spawn("worker1", NULL, "--worker", "--manager-port", port, NULL);
    ASSERT_EQ(wait_exit(m, 60), 0);
    ASSERT_EQ(wait_exit(w0, 10), 0);
    ASSERT_EQ(wait_exit(w1, 10), 0);
    json_t *r = load_report(report), *stats = target_json(&tgt, "/stats");
    ASSERT(json_is_true(json_object_get(r, "metrics_reset")));
    long long hatch = jint(r, "hatch_requests"), total = report_total(r);
    ASSERT_GT(hatch, 0);
    ASSERT_EQ(total + hatch, target_total(stats));
    ASSERT_EQ(series_sum(r), total + hatch);
    ASSERT_EQ(jint(json_object_get(r, "metrics_lost"), "samples"), 0);
    json_decref(r);
    json_decref(stats);
    teardown();
}

TEST_MAIN(TEST_ENTRY(manager_series_keeps_the_hatch))
