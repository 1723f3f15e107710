/* The Gaggle with real processes on 127.0.0.1: one Manager, Workers, the
 * target; exact totals against the target's own counters, lost peers,
 * refused and late workers, an embedded Worker. */
#include "gaggle.h"

#include <math.h>

#include "util/clock.h"

/* The Manager's Prometheus page, scraped while the Gaggle runs: the sum of
 * the Workers' requests so far (-2 when its HTTP/1.1 series says else). */
static long long scrape_gaggle(int port)
{
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/metrics", port);
    for (int i = 0; i < 60; i++) {
        usleep(100000);
        char *page = http_fetch(url, NULL, 2000, NULL);
        const char *key = "goose_requests_total{method=\"GET\",name=\"/\"} ";
        const char *by = "goose_requests_by_protocol_total{method=\"GET\",name=\"/\","
                         "protocol=\"HTTP/1.1\"} ";
        const char *hit = page && strstr(page, "goose_phase{phase=\"maintain\"} 1")
                              ? strstr(page, key) : NULL;
        long long n = hit ? atoll(hit + strlen(key)) : -1;
        if (n > 0 && (!strstr(page, by) || atoll(strstr(page, by) + strlen(by)) != n))
            n = -2; /* the page's protocols disagree with its counts */
        free(page);
        if (n > 0 || n == -2)
            return n;
    }
    return -1;
}

TEST(three_workers_exact_totals)
{
    setup();
    char port[8], report[256], metrics[8];
    snprintf(port, sizeof port, "%d", free_port());
    snprintf(metrics, sizeof metrics, "%d", free_port());
    snprintf(report, sizeof report, "%s/report.json", dir);
    pid_t m = spawn("manager", NULL, "--manager", "--expect-workers", "3", PORT_ARGS(port),
                    "--host", tgt.url, "-u", "30", "-r", "60", "-t", "2s",
                    "--no-reset-metrics", "--report-file", report, "--metrics-listen", metrics,
                    NULL);
    pid_t w[3];
    for (int i = 0; i < 3; i++) {
        char name[24];
        snprintf(name, sizeof name, "worker%d", i);
        w[i] = spawn(name, NULL, "--worker", "--manager-port", port, NULL);
    }
    long long live = scrape_gaggle(atoi(metrics));
    ASSERT_GT(live, 0);
    ASSERT_EQ(wait_exit(m, 30), 0);
    for (int i = 0; i < 3; i++)
        ASSERT_EQ(wait_exit(w[i], 10), 0);
    json_t *r = load_report(report), *stats = target_json(&tgt, "/stats");
    ASSERT_STR_EQ(json_string_value(json_object_get(r, "mode")), "manager");
    ASSERT_EQ(report_total(r), target_total(stats));
    ASSERT_EQ(jint(json_object_get(r, "totals"), "count"), target_total(stats));
    ASSERT_EQ(workers_sum(r, NULL), target_total(stats));
    ASSERT_LE(live, jint(report_request(r, "GET", "/"), "count"));
    ASSERT_EQ(workers_sum(r, "done"), 3);
    /* every answer HTTP/1.1: each row's protocols, summed over the Workers */
    size_t i;
    json_t *q;
    json_array_foreach(json_object_get(r, "requests"), i, q)
        all_over(q, "HTTP/1.1");
    all_over(json_object_get(r, "totals"), "HTTP/1.1");
    ASSERT_EQ(jint(json_object_get(json_object_get(r, "totals"), "protocols"), "HTTP/1.1"),
              workers_sum(r, NULL));
    ASSERT_GT(target_total(stats), 100);
    /* the scenario split is the standalone one for 30 users */
    unsigned weights[] = {3, 1}, slots[30];
    goose_alloc al;
    ASSERT_EQ(goose__alloc_init(&al, weights, 2, GOOSE_SCHEDULER_SERIAL, 0), GOOSE_OK);
    goose__allocate_users(&al, 30, slots);
    goose__alloc_free(&al);
    long long readers = 0;
    for (int i = 0; i < 30; i++)
        readers += slots[i] == 0;
    json_t *sc = json_object_get(r, "scenarios");
    ASSERT_EQ(jint(json_array_get(sc, 0), "users"), readers);
    ASSERT_EQ(jint(json_array_get(sc, 1), "users"), 30 - readers);
    ASSERT_EQ(target_count(stats, "/login"), 30 - readers); /* on_start once each */
    ASSERT_EQ(target_count(stats, "/logout"), 30 - readers);
    json_decref(r);
    json_decref(stats);
    teardown();
}

TEST(lost_worker_is_reported)
{
    setup();
    char port[8], report[256];
    manager_spot(port, report);
    pid_t m = spawn("manager", NULL, "--manager", "--expect-workers", "3", PORT_ARGS(port),
                    "--host", tgt.url, "-u", "9", "-r", "90", "-t", "4s",
                    "--no-reset-metrics", "--gaggle-timeout", "2s", "--report-file", report,
                    NULL);
    pid_t w[3];
    for (int i = 0; i < 3; i++)
        w[i] = spawn(i == 1 ? "victim" : i ? "worker2" : "worker0", NULL, "--worker",
                     "--manager-port", port, NULL);
    ASSERT(wait_log("manager", "START in", 15));
    sleep(2); /* the victim has flushed metrics by now */
    kill(w[1], SIGKILL);
    ASSERT_EQ(wait_exit(m, 30), 1); /* the run did not complete as configured */
    ASSERT_EQ(wait_exit(w[0], 10), 0);
    ASSERT_EQ(wait_exit(w[2], 10), 0);
    wait_exit(w[1], 1);
    ASSERT(log_has("manager", "lost"));
    json_t *r = load_report(report), *stats = target_json(&tgt, "/stats");
    ASSERT_EQ(workers_sum(r, "lost"), 1);
    ASSERT_EQ(workers_sum(r, "done"), 2);
    /* what the lost worker flushed is kept; what it had not is missing */
    ASSERT_LE(report_total(r), target_total(stats));
    ASSERT_GT(report_total(r), target_total(stats) / 2);
    json_decref(r);
    json_decref(stats);
    teardown();
}

TEST(lost_manager_stops_workers)
{
    setup();
    char port[8];
    snprintf(port, sizeof port, "%d", free_port());
    pid_t m = spawn("manager", NULL, "--manager", "--expect-workers", "2", PORT_ARGS(port),
                    "--host", tgt.url, "-u", "4", "-r", "40", "-t", "60s", NULL);
    pid_t w0 = spawn("worker0", NULL, "--worker", "--manager-port", port,
                     "--gaggle-timeout", "2s", NULL);
    pid_t w1 = spawn("worker1", NULL, "--worker", "--manager-port", port,
                     "--gaggle-timeout", "2s", NULL);
    ASSERT(wait_log("manager", "START in", 15));
    sleep(1);
    kill(m, SIGKILL);
    wait_exit(m, 1);
    ASSERT_EQ(wait_exit(w0, 8), 1);
    ASSERT_EQ(wait_exit(w1, 8), 1);
    ASSERT(log_has("worker0", "lost the manager"));
    teardown();
}

TEST(other_load_test_is_refused)
{
    setup();
    char port[8];
    snprintf(port, sizeof port, "%d", free_port());
    pid_t m = spawn("manager", NULL, "--manager", "--expect-workers", "1", PORT_ARGS(port),
                    "--host", tgt.url, "-u", "2", "-r", "20", "-t", "1s", NULL);
    pid_t other = spawn("other", "1", "--worker", "--manager-port", port, NULL);
    ASSERT_EQ(wait_exit(other, 15), 1);
    ASSERT(log_has("other", "load test hash mismatch: manager "));
    ASSERT(log_has("manager", "hash mismatch"));
    pid_t same = spawn("same", NULL, "--worker", "--manager-port", port, NULL);
    ASSERT_EQ(wait_exit(m, 30), 0); /* the right worker still runs the test */
    ASSERT_EQ(wait_exit(same, 10), 0);
    teardown();
}

TEST(no_hash_check_accepts_it)
{
    setup();
    char port[8];
    snprintf(port, sizeof port, "%d", free_port());
    pid_t m = spawn("manager", NULL, "--manager", "--expect-workers", "1", PORT_ARGS(port),
                    "--no-hash-check", "--host", tgt.url, "-u", "2", "-r", "20", "-t", "1s",
                    NULL);
    pid_t other = spawn("other", "1", "--worker", "--manager-port", port, NULL);
    ASSERT_EQ(wait_exit(m, 30), 0);
    ASSERT_EQ(wait_exit(other, 10), 0);
    ASSERT(log_has("manager", "accepted: --no-hash-check"));
    teardown();
}

TEST(late_worker_is_refused)
{
    setup();
    char port[8], report[256];
    manager_spot(port, report);
    pid_t m = spawn("manager", NULL, "--manager", "--expect-workers", "1", PORT_ARGS(port),
                    "--host", tgt.url, "-u", "3", "-r", "30", "-t", "3s",
                    "--no-reset-metrics", "--report-file", report, NULL);
    pid_t w = spawn("worker", NULL, "--worker", "--manager-port", port, NULL);
    ASSERT(wait_log("manager", "START in", 15)); /* the test has started */
    pid_t late = spawn("late", NULL, "--worker", "--manager-port", port, NULL);
    ASSERT_EQ(wait_exit(late, 10), 1);
    ASSERT(log_has("late", "already started"));
    ASSERT_EQ(wait_exit(m, 30), 0);
    ASSERT_EQ(wait_exit(w, 10), 0);
    json_t *r = load_report(report), *stats = target_json(&tgt, "/stats");
    ASSERT_EQ(report_total(r), target_total(stats));
    json_decref(r);
    json_decref(stats);
    teardown();
}

TEST(ctrl_c_on_manager_stops_the_gaggle_gracefully)
{
    setup();
    char port[8], report[256];
    manager_spot(port, report);
    pid_t m = spawn("manager", NULL, "--manager", "--expect-workers", "2", PORT_ARGS(port),
                    "--host", tgt.url, "-u", "6", "-r", "60", "-t", "60s",
                    "--no-reset-metrics", "--report-file", report, NULL);
    pid_t w0 = spawn("worker0", NULL, "--worker", "--manager-port", port, NULL);
    pid_t w1 = spawn("worker1", NULL, "--worker", "--manager-port", port, NULL);
    ASSERT(wait_log("manager", "START in", 15));
    sleep(1);
    kill(m, SIGINT);
    ASSERT_EQ(wait_exit(m, 15), 0);
    ASSERT_EQ(wait_exit(w0, 10), 0);
    ASSERT_EQ(wait_exit(w1, 10), 0);
    json_t *r = load_report(report), *stats = target_json(&tgt, "/stats");
    ASSERT_EQ(workers_sum(r, "done"), 2);
    ASSERT_EQ(report_total(r), target_total(stats));
    ASSERT_EQ(target_count(stats, "/logout"), target_count(stats, "/login")); /* on_stop ran */
    json_decref(r);
    json_decref(stats);
    teardown();
}

static long health_status(int port)
{
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/health", port);
    long status = 0;
    char *page = http_fetch(url, NULL, 1000, &status);
    if (!page)
        return 0;
    free(page);
    return status;
}

/* examples/embedded_worker.c keeps answering its own health checks while
 * the Worker it hosts runs the test, follows the Worker's states through
 * its fd, dials again after the test, and ends on SIGTERM with status 0. */
TEST(embedded_worker_service_keeps_serving)
{
    setup();
    program = "examples/embedded_worker";
    char port[8], health[8], report[256];
    snprintf(port, sizeof port, "%d", free_port());
    int hport = free_port();
    snprintf(health, sizeof health, "%d", hport);
    snprintf(report, sizeof report, "%s/report.json", dir);
    pid_t m = spawn("manager", NULL, "--manager", "--expect-workers", "1", PORT_ARGS(port),
                    "--host", tgt.url, "-u", "4", "-r", "40", "-t", "3s",
                    "--no-reset-metrics", "--report-file", report, NULL);
    setenv("GOOSE_MANAGER_PORT", port, 1);
    pid_t svc = spawn("service", NULL, "serve", health, NULL);
    unsetenv("GOOSE_MANAGER_PORT");
    int answered = 0;
    for (int i = 0; i < 30 && answered < 10; i++) {
        usleep(100000);
        answered += health_status(hport) == 200;
    }
    ASSERT_GE(answered, 10);
    ASSERT_EQ(waitpid(m, NULL, WNOHANG), 0); /* the test was still running */
    ASSERT_EQ(waitpid(svc, NULL, WNOHANG), 0);
    ASSERT_EQ(wait_exit(m, 30), 0);
    ASSERT(wait_log("service", "worker: running\nworker: dialing", 10)); /* serving on */
    ASSERT_EQ(waitpid(svc, NULL, WNOHANG), 0);
    ASSERT_EQ(kill(svc, SIGTERM), 0);
    ASSERT_EQ(wait_exit(svc, 10), 0);
    ASSERT(log_has("service", "worker: joined\nworker: running\n"));
    ASSERT(log_has("service", "worker: stopped: success"));
    json_t *r = load_report(report), *stats = target_json(&tgt, "/stats");
    ASSERT_EQ(report_total(r), target_total(stats));
    ASSERT_GT(target_total(stats), 0);
    json_decref(r);
    json_decref(stats);
    teardown();
}

/* When a process's log says START, in ms of the day (the log's clock). */
static double start_ms(const char *name)
{
    char path[256], line[512];
    snprintf(path, sizeof path, "%s/%s.log", dir, name);
    FILE *f = fopen(path, "r");
    double ms = -1;
    int h, m;
    double sec;
    while (f && fgets(line, sizeof line, f))
        if (strstr(line, "START: running") && sscanf(line + 11, "%d:%d:%lfZ", &h, &m, &sec) == 3)
            ms = (h * 3600 + m * 60 + sec) * 1000;
    if (f)
        fclose(f);
    return ms;
}

/* A Worker 200 ms away (through tests/delay-proxy.py) and one next door:
 * the handshake survives the round trip, both start within a few ms of
 * each other, and the totals are exact. */
TEST(far_worker_starts_with_the_near_one)
{
    setup();
    char port[8], far[8], report[256];
    snprintf(port, sizeof port, "%d", free_port());
    snprintf(far, sizeof far, "%d", free_port());
    snprintf(report, sizeof report, "%s/report.json", dir);
    pid_t proxy = fork();
    ASSERT(proxy >= 0);
    if (proxy == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (!freopen("/dev/null", "w", stdout))
            _exit(127);
        execlp("python3", "python3", "tests/delay-proxy.py", far, port, "100", (char *)NULL);
        _exit(127);
    }
    pid_t m = spawn("manager", NULL, "--manager", "--expect-workers", "2", PORT_ARGS(port),
                    "--host", tgt.url, "-u", "6", "-r", "60", "-t", "2s", "--gaggle-timeout",
                    "10s", "--no-reset-metrics", "--report-file", report, NULL);
    pid_t w_far = spawn("far", NULL, "--worker", "--manager-port", far, "--gaggle-timeout",
                        "10s", NULL);
    pid_t w_near = spawn("near", NULL, "--worker", "--manager-port", port, "--gaggle-timeout",
                         "10s", NULL);
    ASSERT_EQ(wait_exit(m, 40), 0);
    ASSERT_EQ(wait_exit(w_far, 10), 0);
    ASSERT_EQ(wait_exit(w_near, 10), 0);
    kill(proxy, SIGKILL);
    waitpid(proxy, NULL, 0);
    json_t *r = load_report(report), *stats = target_json(&tgt, "/stats");
    ASSERT_EQ(report_total(r), target_total(stats));
    ASSERT_EQ(workers_sum(r, "done"), 2);
    double spread = json_real_value(json_object_get(r, "start_spread_ms"));
    double far_ms = start_ms("far"), near_ms = start_ms("near");
    printf("start spread with a 200 ms round trip: %.1f ms estimated, %.0f ms in the logs\n",
           spread, far_ms - near_ms);
    ASSERT(spread < 30);
    ASSERT(far_ms > 0 && near_ms > 0);
    ASSERT(fabs(far_ms - near_ms) < 40); /* without compensation: about 100 ms */
    json_decref(r);
    json_decref(stats);
    teardown();
}

/* What a Worker's log says it measured: "users done: N requests
 * measured, M synthetic samples"; 0 when the line is missing. */
static int worker_measured(const char *name, long long *requests, long long *synthetic)
{
    char path[256], line[1024];
    snprintf(path, sizeof path, "%s/%s.log", dir, name);
    FILE *f = fopen(path, "r");
    int found = 0;
    while (f && fgets(line, sizeof line, f)) {
        const char *p = strstr(line, "users done: ");
        found |= p && sscanf(p, "users done: %lld requests measured, %lld synthetic",
                             requests, synthetic) == 2;
    }
    if (f)
        fclose(f);
    return found;
}

/* --co-mitigation across a Gaggle: the Manager hands the mode to its
 * Workers, they measure and back-fill, and the Manager's synthetic samples
 * are exactly the sum of what each Worker says it measured, while the
 * request counts stay the target's. */
TEST(co_mitigation_sums_the_workers)
{
    setup();
    char port[8], report[256];
    manager_spot(port, report);
    pid_t m = spawn("manager", "stall", "--manager", "--expect-workers", "2", PORT_ARGS(port),
                    "--host", tgt.url, "-u", "4", "-r", "100", "--iterations", "12",
                    "--co-mitigation", "average", "--report-file", report, NULL);
    pid_t w0 = spawn("worker0", "stall", "--worker", "--manager-port", port, NULL);
    pid_t w1 = spawn("worker1", "stall", "--worker", "--manager-port", port, NULL);
    ASSERT_EQ(wait_exit(m, 30), 0);
    ASSERT_EQ(wait_exit(w0, 10), 0);
    ASSERT_EQ(wait_exit(w1, 10), 0);
    json_t *r = load_report(report), *stats = target_json(&tgt, "/stats");
    ASSERT_STR_EQ(json_string_value(json_object_get(r, "co_mitigation")), "average");
    ASSERT_EQ(report_total(r), target_total(stats));
    ASSERT_EQ(jint(report_request(r, "GET", "/"), "count"), 4 * 12);
    ASSERT_EQ(target_count(stats, "/"), 4 * 12);
    ASSERT_EQ(target_count(stats, "/slow"), 4);
    long long req[2], syn[2];
    ASSERT(worker_measured("worker0", &req[0], &syn[0]));
    ASSERT(worker_measured("worker1", &req[1], &syn[1]));
    ASSERT_GT(syn[0], 0); /* each Worker's users stalled once */
    ASSERT_GT(syn[1], 0);
    json_t *totals = json_object_get(r, "totals");
    ASSERT_EQ(jint(totals, "synthetic"), syn[0] + syn[1]);
    ASSERT_EQ(req[0] + req[1], target_total(stats));
    long long per_key = 0;
    size_t i;
    json_t *q;
    json_array_foreach(json_object_get(r, "requests"), i, q)
        per_key += jint(q, "synthetic");
    ASSERT_EQ(per_key, syn[0] + syn[1]);
    json_t *adj = json_object_get(report_request(r, "GET", "/"), "response_time_us_adjusted");
    ASSERT_GE(jint(adj, "max"), 300000);
    json_decref(r);
    json_decref(stats);
    teardown();
}

/* SIGSTOP then SIGCONT: the process was late for `seconds`, as a starved
 * or blocked one is, while its peers went on. */
static void pause_process(pid_t pid, int seconds)
{
    ASSERT_EQ(kill(pid, SIGSTOP), 0);
    sleep((unsigned)seconds);
    ASSERT_EQ(kill(pid, SIGCONT), 0);
}

/* Every Worker done and the totals the target's: nobody was lost. */
static void check_nobody_lost(const char *report, int workers)
{
    json_t *r = load_report(report), *stats = target_json(&tgt, "/stats");
    ASSERT_EQ(workers_sum(r, "done"), workers);
    ASSERT_EQ(report_total(r), target_total(stats));
    ASSERT_EQ(workers_sum(r, NULL), target_total(stats));
    ASSERT_GT(target_total(stats), 100);
    json_decref(r);
    json_decref(stats);
}

/* The Manager stopped for twice its --gaggle-timeout (its Workers allow
 * more) must not blame the Workers for its own lateness when it resumes:
 * their frames wait unread, and its loop knows it was late. */
TEST(late_manager_loses_no_worker)
{
    enum { WORKERS = 32 };
    setup();
    char port[8], report[256];
    manager_spot(port, report);
    pid_t m = spawn("manager", NULL, "--manager", "--expect-workers", "32", PORT_ARGS(port),
                    "--host", tgt.url, "-u", "64", "-r", "1000", "-t", "8s",
                    "--no-reset-metrics", "--gaggle-timeout", "3s", "--report-file", report,
                    NULL);
    pid_t w[WORKERS];
    for (int i = 0; i < WORKERS; i++) {
        char name[24];
        snprintf(name, sizeof name, "worker%d", i);
        w[i] = spawn(name, NULL, "--worker", "--manager-port", port, "--threads", "1",
                     "--gaggle-timeout", "60s", NULL);
    }
    ASSERT(wait_log("manager", "users started", 120));
    sleep(1);
    pause_process(m, 6);
    ASSERT_EQ(wait_exit(m, 120), 0);
    for (int i = 0; i < WORKERS; i++)
        ASSERT_EQ(wait_exit(w[i], 60), 0);
    ASSERT(!log_has("manager", "lost"));
    check_nobody_lost(report, WORKERS);
    teardown();
}

/* The whole Gaggle paused at once (a VM paused, a laptop asleep) for
 * twice everyone's --gaggle-timeout: nobody has heard anybody, and nobody
 * is to blame, as every loop knows it was late. */
TEST(paused_gaggle_loses_nobody)
{
    enum { WORKERS = 4 };
    setup();
    char port[8], report[256];
    manager_spot(port, report);
    pid_t all[WORKERS + 1];
    all[0] = spawn("manager", NULL, "--manager", "--expect-workers", "4", PORT_ARGS(port),
                   "--host", tgt.url, "-u", "8", "-r", "1000", "-t", "8s",
                   "--no-reset-metrics", "--gaggle-timeout", "3s", "--report-file", report,
                   NULL);
    for (int i = 1; i <= WORKERS; i++) {
        char name[24];
        snprintf(name, sizeof name, "worker%d", i);
        all[i] = spawn(name, NULL, "--worker", "--manager-port", port, "--threads", "1",
                       "--gaggle-timeout", "3s", NULL);
    }
    ASSERT(wait_log("manager", "users started", 60));
    sleep(1);
    for (int i = 0; i <= WORKERS; i++)
        ASSERT_EQ(kill(all[i], SIGSTOP), 0);
    sleep(6);
    for (int i = 0; i <= WORKERS; i++)
        ASSERT_EQ(kill(all[i], SIGCONT), 0);
    for (int i = 0; i <= WORKERS; i++)
        ASSERT_EQ(wait_exit(all[i], 120), 0);
    ASSERT(!log_has("manager", "lost"));
    ASSERT(!log_has("worker1", "lost the manager"));
    check_nobody_lost(report, WORKERS);
    teardown();
}

/* A Worker done while its Manager reads it late (its frames held 4 s on
 * the way, from 3 s into the connection; the Manager's pings come at
 * once): it waits for the Manager to read its last metrics, beyond its own
 * 2 s --gaggle-timeout, instead of resetting the connection under them. */
TEST(done_worker_waits_for_a_late_reader)
{
    setup();
    char port[8], slow[8], report[256];
    manager_spot(port, report);
    snprintf(slow, sizeof slow, "%d", free_port());
    pid_t proxy = fork();
    ASSERT(proxy >= 0);
    if (proxy == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (!freopen("/dev/null", "w", stdout))
            _exit(127);
        execlp("python3", "python3", "tests/delay-proxy.py", slow, port, "0", "4000", "3",
               (char *)NULL);
        _exit(127);
    }
    pid_t m = spawn("manager", NULL, "--manager", "--expect-workers", "1", PORT_ARGS(port),
                    "--host", tgt.url, "-u", "4", "-r", "1000", "-t", "3s",
                    "--no-reset-metrics", "--gaggle-timeout", "30s", "--report-file", report,
                    NULL);
    pid_t w = spawn("worker", NULL, "--worker", "--manager-port", slow, "--threads", "1",
                    "--gaggle-timeout", "2s", NULL);
    ASSERT_EQ(wait_exit(m, 120), 0);
    ASSERT_EQ(wait_exit(w, 60), 0);
    kill(proxy, SIGKILL);
    waitpid(proxy, NULL, 0);
    check_nobody_lost(report, 1);
    teardown();
}

static void ignore_msg(gaggle_peer *p, const char *type, const msgpack_object *msg)
{
    (void)p, (void)type, (void)msg;
}

static void ignore_close(gaggle_peer *p, const char *why)
{
    (void)p, (void)why;
}

/* A peer's silence leaves out the time its reader's loop ran late, and
 * bytes waiting unread in the socket are no silence at all. */
TEST(silence_leaves_out_the_readers_lateness)
{
    char digits[32];
    ASSERT_STR_EQ(goose__group_digits(1000, digits, sizeof digits), "1,000");
    ASSERT_STR_EQ(goose__group_digits(999, digits, sizeof digits), "999");
    ASSERT_STR_EQ(goose__group_digits(1234567, digits, sizeof digits), "1,234,567");
    struct event_base *base = goose__gaggle_base();
    ASSERT_NOT_NULL(base);
    int sv[2];
    ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    evutil_make_socket_nonblocking(sv[0]);
    goose_lag lag;
    uint64_t t0 = goose__now_us();
    goose__lag_start(&lag, 50000, t0);
    ASSERT_EQ(goose__lag_note(&lag, t0 + 50000), 0); /* on time */
    gaggle_peer *p = goose__peer_new(base, sv[0], NULL, ignore_msg, ignore_close, NULL);
    ASSERT_NOT_NULL(p);
    goose__peer_watch(p, &lag);
    uint64_t heard = p->last_rx_us;
    ASSERT_EQ(goose__peer_silence_us(p, heard + 10000000), 10000000);
    /* then the loop was 9 s late (its timer due at +100 ms fired 9 s after) */
    ASSERT_EQ(goose__lag_note(&lag, t0 + 100000 + 9000000), 9000000);
    ASSERT_EQ(goose__peer_silence_us(p, heard + 10000000), 1000000);
    ASSERT_EQ(write(sv[1], "x", 1), 1); /* said something, not read yet */
    ASSERT_EQ(goose__peer_silence_us(p, heard + 10000000), 0);
    goose__peer_free(p);
    close(sv[1]);
    event_base_free(base);
}

/* A Manager out of memory while it takes the Workers' metrics loses those
 * metrics, counted, never the Workers: they finish, and the report's total
 * and what it lost add up to what the target saw (exit status 1). */
TEST(manager_out_of_memory_keeps_its_workers)
{
    setup();
    char port[8], report[256];
    manager_spot(port, report);
    program = "tests/gaggle-loadtest-faults";
    setenv("LOADTEST_FAULT", "1000", 1);
    pid_t m = spawn("manager", "paths", "--manager", "--expect-workers", "2", PORT_ARGS(port),
                    "--host", tgt.url, "-u", "8", "-r", "100", "-t", "3s", "--no-reset-metrics",
                    "--report-file", report, NULL);
    unsetenv("LOADTEST_FAULT");
    program = "tests/gaggle-loadtest";
    pid_t w0 = spawn("worker0", "paths", "--worker", "--manager-port", port, NULL);
    pid_t w1 = spawn("worker1", "paths", "--worker", "--manager-port", port, NULL);
    ASSERT_EQ(wait_exit(m, 60), 1);
    ASSERT_EQ(wait_exit(w0, 10), 0);
    ASSERT_EQ(wait_exit(w1, 10), 0);
    json_t *r = load_report(report), *stats = target_json(&tgt, "/stats");
    long long lost = jint(json_object_get(r, "metrics_lost"), "requests");
    ASSERT_GT(lost, 0); /* the faults did hit */
    ASSERT_EQ(report_total(r) + lost, target_total(stats));
    ASSERT_EQ(workers_sum(r, "done"), 2);
    ASSERT(log_has("manager", "metrics incomplete"));
    json_decref(r);
    json_decref(stats);
    teardown();
}

TEST_MAIN(TEST_ENTRY(co_mitigation_sums_the_workers),
          TEST_ENTRY(manager_out_of_memory_keeps_its_workers),
          TEST_ENTRY(far_worker_starts_with_the_near_one), TEST_ENTRY(three_workers_exact_totals),
          TEST_ENTRY(embedded_worker_service_keeps_serving),
          TEST_ENTRY(lost_worker_is_reported), TEST_ENTRY(lost_manager_stops_workers),
          TEST_ENTRY(ctrl_c_on_manager_stops_the_gaggle_gracefully),
          TEST_ENTRY(other_load_test_is_refused), TEST_ENTRY(no_hash_check_accepts_it),
          TEST_ENTRY(late_worker_is_refused), TEST_ENTRY(late_manager_loses_no_worker),
          TEST_ENTRY(paused_gaggle_loses_nobody),
          TEST_ENTRY(silence_leaves_out_the_readers_lateness),
          TEST_ENTRY(done_worker_waits_for_a_late_reader))
