/* Load shapes and live control (issue 7): the level arithmetic, test
 * plans, the open model, the throttle and the controller, standalone and
 * in a Gaggle of one Manager and two Workers, each checked against the
 * target's own counters. */
#include "gaggle.h"

#include <arpa/inet.h>
#include <math.h>
#include <pthread.h>

#include "run/run.h"
#include "engine/shape.h"
#include "engine/throttle.h"

/* ---- the arithmetic ---- */

TEST(shape_levels_and_crossings)
{
    goose_shape s = {0};
    char err[256];
    ASSERT_EQ(goose__shape_parse("--test-plan", "10,2s;10,2s;0,1s", GOOSE_PLAN_USERS, 1e7, &s, err,
                                    sizeof err), GOOSE_OK);
    ASSERT_EQ(s.n, 3);
    ASSERT_EQ(goose__shape_end(&s), 5000000);
    ASSERT_EQ(goose__shape_level(&s, 0), 0);
    ASSERT(fabs(goose__shape_level(&s, 1000000) - 5) < 1e-9);
    ASSERT_EQ(goose__shape_level(&s, 3000000), 10);
    ASSERT(fabs(goose__shape_level(&s, 4500000) - 5) < 1e-9);
    ASSERT_EQ(goose__shape_level(&s, 9000000), 0);
    /* user 4 starts just after 0.8 s and stops at 4.6 s */
    ASSERT_EQ(goose__shape_when_above(&s, 0, 4), 800001);
    ASSERT_EQ(goose__shape_when_at_most(&s, 900000, 4), 4600000);
    ASSERT_EQ(goose__shape_when_above(&s, 4600000, 4), GOOSE_NEVER);
    ASSERT_EQ(goose__shape_when_above(&s, 0, 10), GOOSE_NEVER);
    /* area: 10 over the ramp, 20 held, 5 down */
    ASSERT_EQ(goose__shape_when_area(&s, 10), 2000000);
    ASSERT_EQ(goose__shape_when_area(&s, 35), 5000000);
    ASSERT_EQ(goose__shape_when_area(&s, 20), 3000000);
    ASSERT_EQ(goose__shape_when_area(&s, 36), GOOSE_NEVER);
    /* a live change: from 10 users at 3 s down to 4 at 2 users/s */
    ASSERT_EQ(goose__shape_retarget(&s, 3000000, 4, 2), 0);
    ASSERT_EQ(goose__shape_end(&s), 6000000);
    ASSERT_EQ(goose__shape_level(&s, 2500000), 10); /* history kept */
    ASSERT(fabs(goose__shape_level(&s, 4500000) - 7) < 1e-9);
    ASSERT_EQ(goose__shape_level(&s, 7000000), 4);
    goose__shape_free(&s);
    const char *bad[] = {"", "10", "x,1s", "10,1x", "1.5,1s", "-1,1s", "0,0s", "10,1s;;", NULL};
    for (int i = 0; bad[i]; i++)
        ASSERT_NE(goose__shape_parse("--test-plan", bad[i], GOOSE_PLAN_USERS, 1e7, NULL, err,
                                        sizeof err),
                  GOOSE_OK);
    ASSERT_EQ(goose__shape_parse("--arrival-plan", "2.5,1s;0,1s", 0, 1e7, NULL, err,
                                    sizeof err), GOOSE_OK);
    /* from a running level, "down to 0 over 30 s" is a plan */
    ASSERT_EQ(goose__shape_parse("test-plan", "0,30s", GOOSE_PLAN_USERS | GOOSE_PLAN_FROM_NOW,
                                    1e7, NULL, err, sizeof err), GOOSE_OK);
}

TEST(throttle_slots)
{
    goose_throttle t;
    goose__throttle_init(&t, 100, 0, 1);
    for (int k = 0; k < 5; k++) /* back to back: 10 ms apart, and 0.5% */
        ASSERT_EQ(goose__throttle_claim(&t, 0), (uint64_t)k * 10050);
    /* after an idle second the past slots are gone: no burst */
    ASSERT_EQ(goose__throttle_claim(&t, 1000001), 1005000);
    ASSERT_EQ(goose__throttle_claim(&t, 1000001), 1015050);
    /* Worker 1 of 2 owns the odd slots of 100/s: 20 ms apart, from 10 ms */
    goose__throttle_free(&t);
    goose__throttle_init(&t, 100, 1, 2);
    ASSERT_EQ(goose__throttle_claim(&t, 0), 10050);
    ASSERT_EQ(goose__throttle_claim(&t, 0), 30150);
    goose__throttle_free(&t);
    /* late timers cannot crowd a second: 2/s, the third waits a window */
    uint64_t until = 0;
    ASSERT_EQ(goose__throttle_init(&t, 2, 0, 1), 0);
    ASSERT_EQ(goose__throttle_pace(&t, 700000, &until), 1);
    ASSERT_EQ(goose__throttle_pace(&t, 800000, &until), 1);
    ASSERT_EQ(goose__throttle_pace(&t, 900000, &until), 0);
    ASSERT_EQ(until, 700000 + 1005000);
    ASSERT_EQ(goose__throttle_pace(&t, until, &until), 1);
    goose__throttle_free(&t);
}

/* ---- standalone runs ---- */

static target tgt2;

static int front(goose_user *u)
{
    goose_response_free(goose_get(u, "/"));
    return GOOSE_OK;
}

static int slow(goose_user *u)
{
    goose_response_free(goose_get(u, "/slow?ms=200"));
    return GOOSE_OK;
}

static goose_attack *one_page(goose_transaction_fn fn, unsigned wait_ms)
{
    goose_attack *a = goose_attack_new();
    goose_scenario *s = goose_scenario_new("Visitor");
    goose_scenario_add_transaction(s, "page", fn);
    if (wait_ms)
        goose_scenario_set_wait_time(s, wait_ms, wait_ms);
    goose_attack_add_scenario(a, s);
    set(a, "host", tgt2.url);
    set(a, "threads", "2");
    set(a, "quiet", NULL);
    return a;
}

static long long series_at(json_t *r, const char *name, size_t i)
{
    json_t *v = json_array_get(json_object_get(json_object_get(r, "timeseries"), name), i);
    return json_is_integer(v) ? json_integer_value(v) : (long long)json_number_value(v);
}

static const char *phase_name(json_t *r, size_t i)
{
    return json_string_value(
        json_object_get(json_array_get(json_object_get(r, "phases"), i), "name"));
}

/* Users second by second follow the plan within one hatch step. */
static void assert_follows(json_t *r, const long long *want, size_t n, long long slack)
{
    for (size_t i = 0; i < n; i++) {
        long long got = series_at(r, "users", i);
        if (llabs(got - want[i]) > slack)
            TEST_FAIL("second %zu: %lld users, the plan says %lld", i + 1, got, want[i]);
    }
}

TEST(test_plan_standalone)
{
    target_start(&tgt2);
    goose_attack *a = one_page(front, 50);
    set(a, "test-plan", "8,2s;8,1s;2,1s;0,1s");
    ASSERT_EQ(goose_attack_run(a), GOOSE_OK);
    json_t *r = report_of(a), *stats = target_json(&tgt2, "/stats");
    long long want[] = {4, 8, 8, 2, 0};
    assert_follows(r, want, 5, 1);
    ASSERT_STR_EQ(phase_name(r, 0), "increase");
    ASSERT_STR_EQ(phase_name(r, 1), "maintain");
    ASSERT_STR_EQ(phase_name(r, 2), "decrease");
    ASSERT_STR_EQ(phase_name(r, 3), "decrease");
    ASSERT(json_real_value(json_object_get(r, "duration_s")) < 5.5);
    ASSERT_EQ(jint(r, "users"), 8);
    ASSERT_EQ(report_total(r), target_total(stats));
    ASSERT_STR_EQ(json_string_value(json_object_get(json_object_get(r, "load"), "test_plan")),
                  "8,2s;8,1s;2,1s;0,1s");
    json_decref(r);
    json_decref(stats);
    goose_attack_free(a);
    target_stop(&tgt2);
}

TEST(test_plan_conflicts)
{
    target_start(&tgt2);
    goose_attack *a = one_page(front, 0);
    set(a, "test-plan", "2,1s");
    /* refused when set, and the refusal sticks: the run refuses too */
    ASSERT_EQ(goose_attack_set_option(a, "users", "3"), GOOSE_ECONFIG);
    ASSERT(strstr(goose_attack_error(a), "--test-plan sets the users over time: drop --users"));
    ASSERT_EQ(goose_attack_run(a), GOOSE_ECONFIG);
    ASSERT(strstr(goose_attack_error(a), "--test-plan sets the users over time: drop --users"));
    goose_attack_free(a);
    a = one_page(front, 0);
    set(a, "arrival-rate", "10");
    ASSERT_EQ(goose_attack_set_option(a, "iterations", "3"), GOOSE_ECONFIG);
    ASSERT_EQ(goose_attack_run(a), GOOSE_ECONFIG);
    ASSERT(strstr(goose_attack_error(a), "drop --iterations"));
    goose_attack_free(a);
    json_t *stats = target_json(&tgt2, "/stats");
    ASSERT_EQ(target_total(stats), 0);
    json_decref(stats);
    target_stop(&tgt2);
}

static json_t *arrivals_of(json_t *r)
{
    return json_object_get(json_object_get(r, "load"), "arrivals");
}

TEST(arrival_rate_is_achieved)
{
    target_start(&tgt2);
    goose_attack *a = one_page(front, 0);
    set(a, "arrival-rate", "200");
    set(a, "users", "20");
    set(a, "run-time", "3s");
    ASSERT_EQ(goose_attack_run(a), GOOSE_OK);
    json_t *r = report_of(a), *stats = target_json(&tgt2, "/stats");
    json_t *arr = arrivals_of(r);
    double rate = json_real_value(json_object_get(arr, "started_per_s"));
    if (fabs(rate - 200) > 4)
        TEST_FAIL("%.1f iterations/s started, 200 asked", rate);
    ASSERT_EQ(jint(arr, "dropped"), 0);
    ASSERT_EQ(jint(arr, "due"), jint(arr, "started"));
    /* every started iteration is one request the target saw */
    ASSERT_EQ(target_total(stats), jint(arr, "started"));
    ASSERT_EQ(report_total(r), target_total(stats));
    json_decref(r);
    json_decref(stats);
    goose_attack_free(a);
    target_stop(&tgt2);
}

static int node_page(goose_user *u)
{
    goose_response_free(goose_get(u, "/node/1"));
    return GOOSE_OK;
}

/* Each scenario's arrivals go to its own users, on whichever thread they
 * run: with users enough for both, none is dropped (they once went to the
 * thread of user k, which may have had no user of that scenario). */
TEST(arrivals_follow_each_scenario)
{
    unsigned w[] = {2, 1};
    unsigned s;
    goose_alloc al;
    ASSERT_EQ(goose__alloc_init(&al, w, 2, GOOSE_SCHEDULER_SERIAL, 0), GOOSE_OK);
    ASSERT_EQ(goose__scenario_ordinal(&al, 5, &s), 1); /* A A B A A B: the 2nd B */
    ASSERT_EQ(s, 1);
    ASSERT_EQ(goose__scenario_user(&al, 0, 3), 4);
    ASSERT_EQ(goose__scenario_users(&al, 1, 4), 1);
    ASSERT_EQ(goose__scenario_users(&al, 0, 4), 3);
    goose__alloc_free(&al);
    target_start(&tgt2);
    goose_attack *a = one_page(front, 0);
    goose_scenario *b = goose_scenario_new("Other");
    goose_scenario_add_transaction(b, "node", node_page);
    goose_scenario_set_weight(b, 2); /* 1:2, users V O O V O O V O */
    goose_attack_add_scenario(a, b);
    set(a, "users", "8"); /* thread 1 of 4 has no Visitor, yet arrivals 9, 21, ... */
    set(a, "threads", "4");
    set(a, "arrival-rate", "50");
    set(a, "run-time", "2s");
    ASSERT_EQ(goose_attack_run(a), GOOSE_OK);
    json_t *r = report_of(a), *stats = target_json(&tgt2, "/stats");
    json_t *arr = arrivals_of(r);
    ASSERT_EQ(jint(arr, "dropped"), 0);
    ASSERT_EQ(target_count(stats, "/node/1"), jint(json_array_get(json_object_get(r, "scenarios"), 1),
                                                    "arrivals"));
    ASSERT_EQ(report_total(r), target_total(stats));
    json_decref(r);
    json_decref(stats);
    goose_attack_free(a);
    target_stop(&tgt2);
}

TEST(arrival_drops_are_counted)
{
    target_start(&tgt2);
    goose_attack *a = one_page(slow, 0); /* 200 ms each: 2 users take 10/s */
    set(a, "arrival-plan", "50,0s;50,2s");
    set(a, "users", "2");
    ASSERT_EQ(goose_attack_run(a), GOOSE_OK);
    json_t *r = report_of(a), *stats = target_json(&tgt2, "/stats");
    json_t *arr = arrivals_of(r), *sc = json_array_get(json_object_get(r, "scenarios"), 0);
    long long due = jint(arr, "due"), dropped = jint(arr, "dropped");
    if (due < 98 || due > 102)
        TEST_FAIL("%lld arrivals due in 2 s at 50/s", due);
    ASSERT_GT(dropped, 60);
    ASSERT_EQ(jint(arr, "started") + dropped, due);
    ASSERT_EQ(jint(sc, "dropped"), dropped);
    ASSERT_EQ(target_count(stats, "/slow"), jint(arr, "started"));
    ASSERT_EQ(report_total(r), target_total(stats));
    json_decref(r);
    json_decref(stats);
    goose_attack_free(a);
    target_stop(&tgt2);
}

/* The most requests sent in any one second, from request logs (json
 * lines: elapsed_ms is when each was sent). */
static long long busiest_second(const char *const *paths, size_t n, long long *total)
{
    static long long t[20000];
    size_t k = 0;
    for (size_t p = 0; p < n; p++) {
        FILE *f = fopen(paths[p], "r");
        ASSERT_NOT_NULL(f);
        char line[4096];
        while (fgets(line, sizeof line, f) && k < 20000) {
            const char *e = strstr(line, "\"elapsed_ms\":");
            if (e)
                t[k++] = atoll(e + 13);
        }
        fclose(f);
    }
    long long most = 0;
    for (size_t i = 0; i < k; i++) {
        long long in = 0;
        for (size_t j = 0; j < k; j++)
            in += t[j] >= t[i] && t[j] < t[i] + 1000;
        most = in > most ? in : most;
    }
    *total = (long long)k;
    return most;
}

TEST(throttle_caps_every_second)
{
    target_start(&tgt2);
    char log[256];
    snprintf(log, sizeof log, "%s/throttle-%d.json", build_dir(), (int)getpid());
    goose_attack *a = one_page(front, 0);
    set(a, "users", "20");
    set(a, "hatch-rate", "1000");
    set(a, "run-time", "3s");
    set(a, "no-reset-metrics", NULL);
    set(a, "throttle-requests", "100");
    set(a, "request-log", log);
    ASSERT_EQ(goose_attack_run(a), GOOSE_OK);
    long long total;
    const char *paths[] = {log};
    long long most = busiest_second(paths, 1, &total);
    if (most > 100)
        TEST_FAIL("%lld requests in one second, the throttle is 100", most);
    ASSERT_GT(most, 90); /* it is a cap, not a slowdown */
    json_t *stats = target_json(&tgt2, "/stats");
    ASSERT_EQ(total, target_total(stats));
    json_decref(stats);
    unlink(log);
    goose_attack_free(a);
    target_stop(&tgt2);
}

/* ---- the controller ---- */

static int dial_port(int port)
{
    char p[8];
    snprintf(p, sizeof p, "%d", port);
    return dial(p);
}

/* Bytes to the controller; what came back (up to len - 1 bytes), until a
 * newline when one_line, else until it closed, or secs passed. */
static size_t exchange(int port, const void *bytes, size_t n, char *out, size_t len, int secs,
                       int one_line)
{
    int fd = dial_port(port);
    struct timeval tv = {secs, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ASSERT_EQ(write(fd, bytes, n), (ssize_t)n);
    size_t got = 0;
    for (ssize_t r; got + 1 < len && !(one_line && memchr(out, '\n', got)) &&
                    (r = read(fd, out + got, len - 1 - got)) > 0;)
        got += (size_t)r;
    out[got] = '\0';
    close(fd);
    return got;
}

/* One telnet-style exchange: the answer's first line. */
static void talk(int port, const char *command, char *answer, size_t len)
{
    exchange(port, command, strlen(command), answer, len, 15, 1);
}

/* POST /command with a JSON body; the answer's body. */
static json_t *post(int port, const char *command, const char *payload)
{
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/%s", port, command);
    char *text = http_fetch(url, payload, 15000, NULL);
    ASSERT_NOT_NULL(text);
    json_t *j = json_loads(text, 0, NULL);
    free(text);
    ASSERT_NOT_NULL(j);
    return j;
}

static void *run_attack(void *a)
{
    static int rc;
    rc = goose_attack_run(a);
    return &rc;
}

/* Runs the attack on a thread, its controller on a free port (*port). */
static pthread_t run_controlled(goose_attack *a, int *port)
{
    char hostport[32];
    *port = free_port();
    snprintf(hostport, sizeof hostport, "127.0.0.1:%d", *port);
    set(a, "controller", hostport);
    pthread_t th;
    ASSERT_EQ(pthread_create(&th, NULL, run_attack, a), 0);
    return th;
}

/* The attack's return code once its thread ends. */
static int joined(pthread_t th)
{
    void *rc;
    pthread_join(th, &rc);
    return *(int *)rc;
}

static long long series_max(json_t *r)
{
    long long most = 0;
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(json_object_get(r, "timeseries"), "users"), i, v)
        most = json_integer_value(v) > most ? json_integer_value(v) : most;
    return most;
}

TEST(controller_standalone)
{
    target_start(&tgt2);
    int port;
    char answer[4096];
    goose_attack *a = one_page(front, 50);
    set(a, "users", "2");
    set(a, "hatch-rate", "100");
    set(a, "run-time", "4s");
    set(a, "no-reset-metrics", NULL); /* every request, as the target saw them */
    pthread_t th = run_controlled(a, &port);
    usleep(1200000);
    talk(port, "users 7\n", answer, sizeof answer);
    ASSERT(strstr(answer, "ok: users 2 -> 7"));
    talk(port, "users many\n", answer, sizeof answer);
    ASSERT(strstr(answer, "error: users takes a whole number"));
    talk(port, "fly\n", answer, sizeof answer);
    ASSERT(strstr(answer, "error: unknown command \"fly\""));
    usleep(1200000);
    json_t *j = post(port, "users", "{\"value\": 3}");
    ASSERT(json_is_true(json_object_get(j, "ok")));
    json_decref(j);
    j = post(port, "config", "");
    ASSERT_EQ(jint(json_object_get(j, "data"), "users_target"), 3);
    json_decref(j);
    ASSERT_EQ(joined(th), GOOSE_OK);
    json_t *r = report_of(a), *stats = target_json(&tgt2, "/stats");
    ASSERT_EQ(series_max(r), 7);
    ASSERT_EQ(jint(r, "users"), 7);
    ASSERT_EQ(series_at(r, "users", 0), 2);
    ASSERT_EQ(report_total(r), target_total(stats));
    json_decref(r);
    json_decref(stats);
    goose_attack_free(a);
    target_stop(&tgt2);
}

/* Fewer users while each runs its --iterations: the ones retired never
 * come back, and the test ends when the others are done (it once waited
 * for them forever). */
TEST(iterations_end_after_fewer_users)
{
    target_start(&tgt2);
    int port;
    char answer[4096];
    goose_attack *a = one_page(front, 300);
    set(a, "users", "4");
    set(a, "hatch-rate", "100");
    set(a, "iterations", "3");
    pthread_t th = run_controlled(a, &port);
    talk(port, "users 2\n", answer, sizeof answer);
    ASSERT(strstr(answer, "ok: users"));
    time_t t0 = time(NULL);
    ASSERT_EQ(joined(th), GOOSE_OK);
    ASSERT(time(NULL) - t0 < 10);
    json_t *r = report_of(a), *stats = target_json(&tgt2, "/stats");
    ASSERT_EQ(report_total(r), target_total(stats));
    json_decref(r);
    json_decref(stats);
    goose_attack_free(a);
    target_stop(&tgt2);
}

/* Raw bytes to the controller; what came back until it closed or a
 * second passed. */
static size_t raw(int port, const void *bytes, size_t n, char *out, size_t len)
{
    return exchange(port, bytes, n, out, len, 1, 0);
}

/* Junk, floods and half-finished requests on the controller's port: each
 * gets a one-line refusal or is closed, and the run ends on time with
 * exact counts. */
TEST(controller_survives_junk)
{
    target_start(&tgt2);
    int port;
    char out[4096];
    goose_attack *a = one_page(front, 50);
    set(a, "users", "2");
    set(a, "run-time", "8s");
    set(a, "no-reset-metrics", NULL);
    pthread_t th = run_controlled(a, &port);
    talk(port, "help\n", out, sizeof out); /* up and answering */
    static char flood[20000];
    memset(flood, 'x', sizeof flood);
    raw(port, flood, sizeof flood, out, sizeof out);
    ASSERT(strstr(out, "error: line longer than 8192 bytes"));
    const unsigned char junk[] = {0, 1, 2, 0xff, 0xfe, '\n', 'u', 's', 'e', 'r', 's', ' ',
                                  '9', '9', '9', '9', '9', '9', '9', '9', '9', '\n'};
    raw(port, junk, sizeof junk, out, sizeof out); /* the server closes after quiet */
    const char big[] = "POST /users HTTP/1.1\r\nContent-Length: 99999999\r\n\r\n";
    raw(port, big, sizeof big - 1, out, sizeof out);
    ASSERT(strstr(out, "413"));
    const char bad_json[] = "POST / HTTP/1.1\r\nContent-Length: 9\r\n\r\n{\"users\":";
    raw(port, bad_json, sizeof bad_json - 1, out, sizeof out);
    ASSERT(strstr(out, "200 OK")); /* no command: the help */
    int held[70];
    size_t nheld = 0;
    for (; nheld < 70; nheld++) { /* more connections than the server keeps */
        held[nheld] = dial_port(port);
    }
    usleep(200000);
    char busy[128] = "";
    struct timeval tv = {2, 0};
    setsockopt(held[69], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ASSERT_GT(read(held[69], busy, sizeof busy - 1), 0);
    ASSERT(strstr(busy, "too many controller connections"));
    for (size_t i = 0; i < nheld; i++)
        close(held[i]);
    ASSERT_EQ(joined(th), GOOSE_OK); /* held sockets do not keep the run alive */
    json_t *r = report_of(a), *stats = target_json(&tgt2, "/stats");
    ASSERT(json_real_value(json_object_get(r, "duration_s")) < 10); /* 1 s hatch + 8 s */
    ASSERT_EQ(report_total(r), target_total(stats));
    ASSERT_EQ(jint(r, "users"), 2); /* "users 999999999" was refused */
    json_decref(r);
    json_decref(stats);
    goose_attack_free(a);
    target_stop(&tgt2);
}

/* ---- a Gaggle of one Manager and two Workers ---- */

static void gaggle_run(const char *const *margs, size_t n, json_t **report, int worker_logs)
{
    char port[8], path[256], log[2][256];
    snprintf(port, sizeof port, "%d", free_port());
    snprintf(path, sizeof path, "%s/report.json", dir);
    const char *args[40] = {"--manager", "--expect-workers", "2", PORT_ARGS(port), "--host",
                            tgt.url, "--report-file", path};
    size_t k = 11;
    for (size_t i = 0; i < n; i++)
        args[k++] = margs[i];
    pid_t m = spawn_argv("manager", NULL, args, k), w[2];
    for (int i = 0; i < 2; i++) {
        char name[24];
        snprintf(name, sizeof name, "worker%d", i);
        snprintf(log[i], sizeof log[i], "%s/requests%d.json", dir, i);
        w[i] = worker_logs ? spawn(name, NULL, "--worker", "--manager-port", port,
                                   "--request-log", log[i], NULL)
                           : spawn(name, NULL, "--worker", "--manager-port", port, NULL);
    }
    ASSERT_EQ(wait_exit(m, 40), 0);
    for (int i = 0; i < 2; i++)
        ASSERT_EQ(wait_exit(w[i], 10), 0);
    *report = load_report(path);
}

TEST(test_plan_gaggle)
{
    setup();
    const char *args[] = {"--test-plan", "6,1s;6,2s;0,1s"};
    json_t *r;
    gaggle_run(args, 2, &r, 0);
    json_t *stats = target_json(&tgt, "/stats");
    ASSERT_EQ(series_max(r), 6);
    ASSERT_STR_EQ(phase_name(r, 0), "increase");
    ASSERT_STR_EQ(phase_name(r, 1), "maintain");
    ASSERT_STR_EQ(phase_name(r, 2), "decrease");
    ASSERT_EQ(report_total(r), target_total(stats));
    ASSERT_EQ(workers_sum(r, "done"), 2);
    ASSERT_EQ(target_count(stats, "/login"), target_count(stats, "/logout"));
    json_decref(r);
    json_decref(stats);
    teardown();
}

TEST(arrival_rate_gaggle)
{
    setup();
    const char *args[] = {"--arrival-rate", "50", "-u", "20", "-t", "3s"};
    json_t *r;
    gaggle_run(args, 6, &r, 0);
    json_t *stats = target_json(&tgt, "/stats"), *arr = arrivals_of(r);
    double rate = json_real_value(json_object_get(arr, "started_per_s"));
    if (fabs(rate - 50) > 2.5)
        TEST_FAIL("%.1f iterations/s started across the Gaggle, 50 asked", rate);
    ASSERT_EQ(jint(arr, "started") + jint(arr, "dropped"), jint(arr, "due"));
    ASSERT_EQ(report_total(r), target_total(stats));
    json_decref(r);
    json_decref(stats);
    teardown();
}

TEST(throttle_gaggle)
{
    setup();
    const char *args[] = {"-u", "20", "-r", "1000", "-t", "3s", "--no-reset-metrics",
                          "--throttle-requests", "100"};
    json_t *r;
    gaggle_run(args, 9, &r, 1);
    char a[256], b[256];
    snprintf(a, sizeof a, "%s/requests0.json", dir);
    snprintf(b, sizeof b, "%s/requests1.json", dir);
    const char *paths[] = {a, b};
    long long total, most = busiest_second(paths, 2, &total);
    json_t *stats = target_json(&tgt, "/stats");
    if (most > 100)
        TEST_FAIL("%lld requests in one second across the Gaggle, the throttle is 100", most);
    ASSERT_GT(most, 85);
    ASSERT_EQ(total, target_total(stats));
    ASSERT_EQ(report_total(r), target_total(stats));
    json_decref(r);
    json_decref(stats);
    teardown();
}

TEST(controller_gaggle)
{
    setup();
    char port[8], cport[8], path[256], answer[4096];
    snprintf(port, sizeof port, "%d", free_port());
    snprintf(cport, sizeof cport, "%d", free_port());
    snprintf(path, sizeof path, "%s/report.json", dir);
    pid_t m = spawn("manager", NULL, "--manager", "--expect-workers", "2", PORT_ARGS(port),
                    "--host", tgt.url, "-u", "2", "-r", "100", "-t", "4s", "--no-reset-metrics", "--controller",
                    cport, "--report-file", path, NULL);
    ASSERT(wait_log("manager", "controller listening", 10));
    talk(atoi(cport), "users 9\n", answer, sizeof answer);
    ASSERT(strstr(answer, "error: the test has not started: 0 of 2 workers have joined"));
    pid_t w0 = spawn("worker0", NULL, "--worker", "--manager-port", port, NULL);
    pid_t w1 = spawn("worker1", NULL, "--worker", "--manager-port", port, NULL);
    ASSERT(wait_log("manager", "all 2 users started", 10));
    usleep(500000);
    json_t *j = post(atoi(cport), "users", "9");
    ASSERT(json_is_true(json_object_get(j, "ok")));
    json_decref(j);
    ASSERT_EQ(wait_exit(m, 30), 0);
    ASSERT_EQ(wait_exit(w0, 10), 0);
    ASSERT_EQ(wait_exit(w1, 10), 0);
    ASSERT(log_has("worker0", "the manager changes the users of the test to 9"));
    json_t *r = load_report(path), *stats = target_json(&tgt, "/stats");
    ASSERT_EQ(series_max(r), 9);
    ASSERT_EQ(jint(r, "users"), 9);
    ASSERT_EQ(report_total(r), target_total(stats));
    json_decref(r);
    json_decref(stats);
    teardown();
}

TEST_MAIN(TEST_ENTRY(shape_levels_and_crossings), TEST_ENTRY(throttle_slots),
          TEST_ENTRY(test_plan_standalone), TEST_ENTRY(test_plan_conflicts),
          TEST_ENTRY(arrival_rate_is_achieved), TEST_ENTRY(arrival_drops_are_counted),
          TEST_ENTRY(arrivals_follow_each_scenario), TEST_ENTRY(iterations_end_after_fewer_users),
          TEST_ENTRY(throttle_caps_every_second), TEST_ENTRY(controller_standalone),
          TEST_ENTRY(controller_survives_junk),
          TEST_ENTRY(test_plan_gaggle), TEST_ENTRY(arrival_rate_gaggle),
          TEST_ENTRY(throttle_gaggle), TEST_ENTRY(controller_gaggle))
