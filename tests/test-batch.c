/* goose_batch: a user's requests at once, end to end.  Concurrency is shown
 * without timing: the bundled target's /barrier/N answers only once N
 * requests wait on it at once (else 504), and counts the most that ever
 * waited at once ("barrier_max" in /stats); tests/h2server.py's /barrier/N
 * does the same among the streams of one connection.  Every test holds
 * the report against what the server counted. */
#include "e2e.h"
#include "nginx.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

static target tgt;

/* Transactions run on engine threads: findings go to miss() (e2e.h). */
static int expect_int(const char *what, long long got, long long want)
{
    if (got != want)
        miss("%s: %lld, want %lld", what, got, want);
    return got == want;
}

/* iterations NULL: until the run time ends, or a stop. */
static goose_attack *attack(goose_transaction_fn fn, const char *host, const char *users,
                            const char *iterations)
{
    goose_attack *a = goose_attack_new();
    goose_scenario *s = goose_scenario_new("batch");
    goose_scenario_add_transaction(s, "tx", fn);
    goose_attack_add_scenario(a, s);
    set(a, "host", host);
    set(a, "users", users);
    set(a, "hatch-rate", "1000");
    if (iterations)
        set(a, "iterations", iterations);
    set(a, "run-time", "30s"); /* a cap: the iterations end the run long before */
    set(a, "no-reset-metrics", NULL);
    set(a, "threads", "1");
    return a;
}

static json_t *run(goose_attack *a)
{
    atomic_store(&bad, 0);
    ASSERT_EQ(goose_attack_run(a), GOOSE_OK);
    int mismatched = atomic_load(&bad);
    ASSERT_EQ(mismatched, 0);
    return report_of(a);
}

static json_t *entry(json_t *report, const char *method, const char *name)
{
    json_t *r = report_request(report, method, name);
    if (!r)
        TEST_FAIL("no \"%s %s\" in the report", method, name);
    return r;
}

/* A batch of n GETs of path: what goose_batch_send returned, every
 * response checked for status `want` (its body starting with `body`). */
static int batch_of(goose_user *u, const char *path, int n, int want, const char *body)
{
    goose_batch *b = goose_batch_new(u);
    if (!b) {
        miss("goose_batch_new failed");
        return -1;
    }
    for (int i = 0; i < n; i++)
        if (goose_batch_add(b, goose_request_new(u, "GET", path)) != GOOSE_OK)
            miss("goose_batch_add %d failed", i);
    int failed = goose_batch_send(b);
    for (int i = 0; i < n; i++) {
        goose_response *r = goose_batch_response(b, (size_t)i);
        size_t len;
        const char *text = goose_response_body(r, &len);
        if (want >= 0)
            expect_int("status", goose_response_status(r), want);
        if (body && (!text || strncmp(text, body, strlen(body)) != 0))
            miss("%s: body \"%.*s\", want \"%s\"", path, (int)len, text ? text : "", body);
    }
    if (goose_batch_response(b, (size_t)n))
        miss("a response past the end");
    goose_batch_free(b);
    return failed;
}

/* Six at once to one origin succeed together; ten never have more than
 * six under way (HTTP/1.1: connections; libcurl: easy handles). */
static int six_then_ten(goose_user *u)
{
    expect_int("batch of 6 failed", batch_of(u, "/barrier/6", 6, 200, "barrier 6"), 0);
    expect_int("batch of 10 failed",
               batch_of(u, "/barrier/10?ms=300", 10, 504, "barrier 10: timed out"), 10);
    /* and the connections are there for the next batch */
    expect_int("batch of 6 again failed", batch_of(u, "/barrier/6", 6, 200, "barrier 6"), 0);
    return GOOSE_OK;
}

static void six_then_ten_on(int via_curl)
{
    alarm(60);
    if (via_curl) { /* an environment proxy: the own client takes nothing */
        setenv("http_proxy", "http://127.0.0.1:9", 1);
        setenv("no_proxy", "127.0.0.1,localhost", 1);
    }
    target_start(&tgt);
    goose_attack *a = attack(six_then_ten, tgt.url, "1", "1");
    json_t *report = run(a), *stats = target_json(&tgt, "/stats");
    unsetenv("http_proxy");
    unsetenv("no_proxy");
    ASSERT_EQ(jint(stats, "barrier_max"), 6);
    json_t *six = entry(report, "GET", "/barrier/6");
    json_t *ten = entry(report, "GET", "/barrier/10?ms=300");
    ASSERT_EQ(jint(six, "count"), 12);
    ASSERT_EQ(jint(six, "fail"), 0);
    ASSERT_EQ(jint(ten, "count"), 10);
    ASSERT_EQ(jint(ten, "fail"), 10);
    ASSERT_EQ(target_count(stats, "/barrier/6"), 12);
    ASSERT_EQ(target_count(stats, "/barrier/10"), 10);
    ASSERT_EQ(report_total(report), target_total(stats));
    all_over(six, "HTTP/1.1");
    json_decref(report);
    json_decref(stats);
    goose_attack_free(a);
    target_stop(&tgt);
}

TEST(six_at_once_over_http1_and_never_more)
{
    six_then_ten_on(0);
}

TEST(six_at_once_over_libcurl_and_never_more)
{
    six_then_ten_on(1);
}

/* ---- HTTP/2: tests/h2server.py ---- */

static struct {
    pid_t pid;
    int port;
    char dir[64];
    char log[128];
} h2;

static void h2server_start(void)
{
    char portfile[96];
    const char *py = NULL;
    if (system("python3 -c 'import h2' >/dev/null 2>&1") == 0)
        py = "python3";
    else if (system("/usr/bin/python3 -c 'import h2' >/dev/null 2>&1") == 0)
        py = "/usr/bin/python3";
    else
        TEST_SKIP("python3 cannot import h2 (apt-get install python3-h2)");
    if (access("tests/h2server.py", R_OK) != 0)
        TEST_FAIL("tests/h2server.py not found: run from the source tree");
    snprintf(h2.dir, sizeof h2.dir, "/tmp/goose-batch-XXXXXX");
    ASSERT_NOT_NULL(mkdtemp(h2.dir));
    snprintf(portfile, sizeof portfile, "%s/port", h2.dir);
    snprintf(h2.log, sizeof h2.log, "%s/requests.jsonl", h2.dir);
    fflush(NULL);
    h2.pid = fork();
    ASSERT(h2.pid >= 0);
    if (h2.pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (!freopen("/dev/null", "w", stdout) || !freopen("/dev/null", "w", stderr))
            _exit(127);
        execlp(py, py, "tests/h2server.py", "--port-file", portfile, "--log", h2.log,
               (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 250 && !h2.port; i++) {
        FILE *f = fopen(portfile, "r");
        if (f) {
            if (fscanf(f, "%d", &h2.port) != 1)
                h2.port = 0;
            fclose(f);
        }
        if (!h2.port)
            usleep(20000);
    }
    if (h2.port <= 0)
        TEST_FAIL("tests/h2server.py did not start");
}

static void h2server_stop(void)
{
    char cmd[128];
    kill(h2.pid, SIGTERM);
    waitpid(h2.pid, NULL, 0);
    snprintf(cmd, sizeof cmd, "rm -rf %s", h2.dir);
    ASSERT_EQ(system(cmd), 0);
}

/* The server's log: its request entries. */
static json_t *h2_log(void)
{
    json_t *all = json_array();
    FILE *f = fopen(h2.log, "r");
    char *line = NULL;
    size_t cap = 0;
    while (f && getline(&line, &cap, f) > 0)
        json_array_append_new(all, json_loads(line, 0, NULL));
    free(line);
    if (f)
        fclose(f);
    return all;
}

static int ten_streams(goose_user *u)
{
    expect_int("batch of 10 failed", batch_of(u, "/barrier/10", 10, 200, "barrier 10"), 0);
    expect_int("batch of 20 failed", batch_of(u, "/barrier/20", 20, 200, "barrier 20"), 0);
    /* at most 20 of a batch are started at once: 21 never meet */
    expect_int("batch of 21 failed", batch_of(u, "/barrier/21", 21, 0, NULL), 21);
    return GOOSE_OK;
}

/* Ten at once are ten streams of ONE connection: the server's barrier
 * counts the streams of a connection.  Twenty go at once, not 21. */
TEST(streams_at_once_on_one_h2_connection)
{
    alarm(60);
    h2server_start();
    char host[64];
    snprintf(host, sizeof host, "http://127.0.0.1:%d", h2.port);
    goose_attack *a = attack(ten_streams, host, "1", "1");
    set(a, "http-version", "2");
    set(a, "timeout", "1s"); /* a barrier not reached never answers */
    json_t *report = run(a), *log = h2_log();
    json_t *e = entry(report, "GET", "/barrier/10");
    ASSERT_EQ(jint(e, "count"), 10);
    ASSERT_EQ(jint(e, "fail"), 0);
    all_over(e, "HTTP/2");
    e = entry(report, "GET", "/barrier/20");
    ASSERT_EQ(jint(e, "count"), 20);
    ASSERT_EQ(jint(e, "fail"), 0);
    e = entry(report, "GET", "/barrier/21");
    ASSERT_EQ(jint(e, "count"), 21);
    ASSERT_EQ(jint(e, "fail"), 21);
    /* the 10 and the 20 each went on one connection (the server may
     * close it after the 21 timed out: the last is sent again) */
    size_t i, n = 0;
    json_t *l;
    json_array_foreach(log, i, l) {
        const char *path = json_string_value(json_object_get(l, "path"));
        if (strcmp(path, "/barrier/10") == 0 || strcmp(path, "/barrier/20") == 0) {
            ASSERT_EQ(jint(l, "conn"), jint(json_array_get(log, 0), "conn"));
            n++;
        }
    }
    ASSERT_EQ(n, 30);
    json_decref(report);
    json_decref(log);
    goose_attack_free(a);
    h2server_stop();
}

static int two_batches(goose_user *u)
{
    expect_int("first batch failed", batch_of(u, "/first", 10, 200, "other"), 0);
    expect_int("second batch failed", batch_of(u, "/second", 10, 200, "other"), 0);
    return GOOSE_OK;
}

/* https with --http-version auto: the first batch opens connections (at
 * most 6) before ALPN has answered; once it has, a batch goes as streams
 * of one connection. */
TEST(https_batches_go_as_streams_once_alpn_chose_h2)
{
    alarm(60);
    nginx ng;
    char ca[160];
    nginx_start(&ng);
    snprintf(ca, sizeof ca, "%s/ca.pem", ng.certs);
    setenv("SSL_CERT_FILE", ca, 1);
    unsetenv("SSL_CERT_DIR");
    goose_attack *a = attack(two_batches, nginx_url(&ng, NG_OK), "1", "1");
    json_t *report = run(a);
    size_t n;
    nginx_entry *e = nginx_log(&ng, 20, &n);
    ASSERT_EQ(n, 20);
    long first[6] = {0}, nfirst = 0, second = -1;
    for (size_t i = 0; i < n; i++) {
        ASSERT_STR_EQ(e[i].proto, "HTTP/2.0");
        if (strcmp(e[i].uri, "/second") == 0) {
            if (second < 0)
                second = e[i].conn;
            ASSERT_EQ(e[i].conn, second);
            continue;
        }
        long k = 0;
        while (k < nfirst && first[k] != e[i].conn)
            k++;
        if (k == nfirst) {
            ASSERT_LT(nfirst, 6);
            first[nfirst++] = e[i].conn;
        }
    }
    all_over(entry(report, "GET", "/second"), "HTTP/2");
    free(e);
    json_decref(report);
    goose_attack_free(a);
    nginx_stop(&ng);
}

/* ---- a time limit across the hand-over to HTTP/2 ---- */

static char limited_error[160];

static int limited_ok(goose_user *u)
{
    goose_request *req = goose_request_new(u, "GET", "/ok");
    if (goose_request_set_timeout(req, 300) != GOOSE_OK)
        miss("goose_request_set_timeout failed");
    goose_response *r = goose_request_send(req);
    const char *why = goose_response_error(r);
    snprintf(limited_error, sizeof limited_error, "%s", why ? why : "");
    goose_response_free(r);
    return GOOSE_OK;
}

/* https with --http-version auto through tests/delay-proxy.py holding
 * each chunk 100 ms: ALPN chooses h2 ~200 ms in (the handshake's round
 * trip), and the answer would come ~400 ms in.  The request's 300 ms
 * limit counts the connect and handshake, as over HTTP/1.1: it fails at
 * 300 ms (a limit restarted by the hand-over would end at ~500 ms, after
 * the answer). */
TEST(time_limit_runs_on_across_the_hand_over_to_h2)
{
    alarm(60);
    nginx ng;
    char ca[160], listen[8], to[8], host[48];
    nginx_start(&ng);
    snprintf(ca, sizeof ca, "%s/ca.pem", ng.certs);
    setenv("SSL_CERT_FILE", ca, 1);
    unsetenv("SSL_CERT_DIR");
    int port = free_port();
    snprintf(listen, sizeof listen, "%d", port);
    snprintf(to, sizeof to, "%d", ng.port[NG_OK]);
    snprintf(host, sizeof host, "https://127.0.0.1:%d", port);
    int out[2];
    ASSERT_EQ(pipe(out), 0);
    pid_t proxy = fork();
    ASSERT(proxy >= 0);
    if (proxy == 0) {
        dup2(out[1], 1);
        close(out[0]);
        close(out[1]);
        execlp("timeout", "timeout", "60", "python3", "tests/delay-proxy.py", listen, to, "100",
               (char *)NULL);
        _exit(127);
    }
    close(out[1]);
    char ready[16] = "";
    ASSERT_GT(read(out[0], ready, sizeof ready - 1), 0); /* "ready" */
    goose_attack *a = attack(limited_ok, host, "1", "1");
    json_t *report = run(a);
    kill(proxy, SIGTERM);
    waitpid(proxy, NULL, 0);
    close(out[0]);
    json_t *ok = entry(report, "GET", "/ok");
    ASSERT_EQ(jint(ok, "count"), 1);
    ASSERT_EQ(jint(ok, "fail"), 1);
    if (!strstr(limited_error, "Operation timed out after 300 milliseconds"))
        TEST_FAIL("error \"%s\", want the 300 ms limit's", limited_error);
    json_decref(report);
    goose_attack_free(a);
    nginx_stop(&ng);
}

/* ---- what a batch carries ---- */

static int refused_port;

/* Redirects, a 404, a refused connection and cookies in one batch; the
 * cookies go with the next batch's requests. */
static int mixed(goose_user *u)
{
    char refused[64];
    snprintf(refused, sizeof refused, "http://127.0.0.1:%d/", refused_port);
    const char *paths[] = {"/redirect/2", "/status/404", refused, "/cookies/set?a=1",
                           "/cookies/set?b=2"};
    goose_batch *b = goose_batch_new(u);
    for (size_t i = 0; i < 5; i++)
        goose_batch_add(b, goose_request_new(u, "GET", paths[i]));
    expect_int("failed in the first batch", goose_batch_send(b), 2);
    expect_int("redirected", goose_response_status(goose_batch_response(b, 0)), 200);
    expect_int("404", goose_response_status(goose_batch_response(b, 1)), 404);
    expect_int("refused", goose_response_status(goose_batch_response(b, 2)), 0);
    if (!goose_response_error(goose_batch_response(b, 2)))
        miss("a refused connection without an error");
    expect_int("cookie a", goose_response_status(goose_batch_response(b, 3)), 200);
    goose_batch_free(b);
    b = goose_batch_new(u);
    for (size_t i = 0; i < 3; i++)
        goose_batch_add(b, goose_request_new(u, "GET", "/cookies"));
    expect_int("failed in the second batch", goose_batch_send(b), 0);
    for (size_t i = 0; i < 3; i++) {
        const char *text = goose_response_body(goose_batch_response(b, i), NULL);
        if (!text || !strstr(text, "a=1") || !strstr(text, "b=2"))
            miss("/cookies %zu got \"%s\"", i, text ? text : "(null)");
    }
    goose_batch_free(b);
    return GOOSE_OK;
}

TEST(redirects_failures_and_cookies_in_a_batch)
{
    alarm(60);
    target_start(&tgt);
    refused_port = free_port();
    goose_attack *a = attack(mixed, tgt.url, "2", "1");
    json_t *report = run(a), *stats = target_json(&tgt, "/stats");
    const char *paths[] = {"/redirect/2", "/redirect/1", "/", "/status/404",
                           "/cookies/set?a=1", "/cookies/set?b=2", "/cookies"};
    const long long want[] = {2, 2, 2, 2, 2, 2, 6};
    for (size_t i = 0; i < 7; i++) {
        ASSERT_EQ(jint(entry(report, "GET", paths[i]), "count"), want[i]);
        if (!strchr(paths[i], '?')) /* the target counts paths without queries */
            ASSERT_EQ(target_count(stats, paths[i]), want[i]);
    }
    ASSERT_EQ(target_count(stats, "/cookies/set"), 4);
    ASSERT_EQ(jint(entry(report, "GET", "/status/404"), "fail"), 2);
    char refused[64];
    snprintf(refused, sizeof refused, "http://127.0.0.1:%d/", refused_port);
    json_t *r = entry(report, "GET", refused);
    ASSERT_EQ(jint(r, "count"), 2);
    ASSERT_EQ(jint(r, "fail"), 2);
    ASSERT_EQ(report_total(report), target_total(stats) + 2);
    json_decref(report);
    json_decref(stats);
    goose_attack_free(a);
    target_stop(&tgt);
}

/* ---- stopping ---- */

static void via_curl(int on)
{
    if (on) { /* an environment proxy: the own client takes nothing */
        setenv("http_proxy", "http://127.0.0.1:9", 1);
        setenv("no_proxy", "127.0.0.1,localhost", 1);
    } else {
        unsetenv("http_proxy");
        unsetenv("no_proxy");
    }
}

static atomic_int batches_done;

/* Ten at once: six under way, four waiting for a connection. */
static int slow_batches(goose_user *u)
{
    batch_of(u, "/slow?ms=150", 10, -1, NULL);
    if (atomic_fetch_add(&batches_done, 1) == 4)
        goose_attack_stop(goose_user_attack(u)); /* the others are mid-batch */
    return GOOSE_OK;
}

/* The end of the run, by goose_attack_stop() or --run-time, comes while
 * batches are under way: what was sent is answered and counted once,
 * what waited for a connection is not sent. */
static void stop_mid_batch(int by_call, int curl)
{
    alarm(60);
    atomic_store(&batches_done, by_call ? 0 : -1000000);
    via_curl(curl);
    target_start(&tgt);
    goose_attack *a = attack(slow_batches, tgt.url, "3", NULL);
    set(a, "run-time", by_call ? "30s" : "1s");
    atomic_store(&bad, 0);
    ASSERT_EQ(goose_attack_run(a), GOOSE_OK);
    via_curl(0);
    json_t *report = report_of(a), *stats = target_json(&tgt, "/stats");
    json_t *slow = entry(report, "GET", "/slow?ms=150");
    ASSERT_EQ(jint(slow, "fail"), 0);
    ASSERT_GE(jint(slow, "count"), 30);
    ASSERT_EQ(jint(slow, "count"), target_count(stats, "/slow"));
    ASSERT_EQ(report_total(report), target_total(stats));
    ASSERT_EQ(jint(report, "abandoned_users"), 0);
    json_decref(report);
    json_decref(stats);
    goose_attack_free(a);
    target_stop(&tgt);
}

TEST(goose_attack_stop_mid_batch_counts_each_request_once)
{
    stop_mid_batch(1, 0);
}

TEST(run_time_end_mid_batch_counts_each_request_once)
{
    stop_mid_batch(0, 0);
}

TEST(run_time_end_mid_batch_over_libcurl)
{
    stop_mid_batch(0, 1);
}

static int throttled_batch(goose_user *u)
{
    batch_of(u, "/", 10, -1, NULL);
    return GOOSE_OK;
}

/* Requests of a batch waiting for their --throttle-requests slot when the
 * test stops are not sent: at 1 a second, ten would take ten. */
TEST(stop_refuses_batch_requests_waiting_for_the_throttle)
{
    alarm(60);
    target_start(&tgt);
    goose_attack *a = attack(throttled_batch, tgt.url, "1", NULL);
    set(a, "run-time", "1s");
    set(a, "throttle-requests", "1");
    json_t *report = run(a), *stats = target_json(&tgt, "/stats");
    json_t *root = entry(report, "GET", "/");
    ASSERT_LE(jint(root, "count"), 4); /* 2 in the second it ran, and a margin */
    ASSERT_EQ(jint(root, "fail"), 0);
    ASSERT_EQ(report_total(report), target_total(stats));
    json_decref(report);
    json_decref(stats);
    goose_attack_free(a);
    target_stop(&tgt);
}

/* Twelve at once, each with a 600 ms limit, to a server answering after
 * 400 ms: the second six wait ~400 ms for one of the user's six
 * connections, and that wait is neither their response time nor within
 * their limit (k6's "blocked" time): all succeed in well under 700 ms. */
static int limited_slow_batch(goose_user *u)
{
    goose_batch *b = goose_batch_new(u);
    if (!b) {
        miss("goose_batch_new failed");
        return GOOSE_OK;
    }
    for (int i = 0; i < 12; i++) {
        goose_request *req = goose_request_new(u, "GET", "/slow?ms=400");
        if (goose_request_set_timeout(req, 600) != GOOSE_OK)
            miss("goose_request_set_timeout %d failed", i);
        if (goose_batch_add(b, req) != GOOSE_OK)
            miss("goose_batch_add %d failed", i);
    }
    expect_int("batch of 12 failed", goose_batch_send(b), 0);
    goose_batch_free(b);
    return GOOSE_OK;
}

TEST(waiting_for_a_connection_is_not_a_batch_requests_time)
{
    alarm(60);
    target_start(&tgt);
    goose_attack *a = attack(limited_slow_batch, tgt.url, "1", "1");
    json_t *report = run(a), *stats = target_json(&tgt, "/stats");
    json_t *slow = entry(report, "GET", "/slow?ms=400");
    ASSERT_EQ(jint(slow, "count"), 12);
    ASSERT_EQ(jint(slow, "fail"), 0);
    ASSERT_EQ(target_count(stats, "/slow"), 12);
    ASSERT_EQ(report_total(report), target_total(stats));
    long long max_us = jint(json_object_get(slow, "response_time_us"), "max");
    ASSERT_GE(max_us, 400000);
    ASSERT_LT(max_us, 700000); /* ~800000 when the wait counted */
    all_over(slow, "HTTP/1.1");
    json_decref(report);
    json_decref(stats);
    goose_attack_free(a);
    target_stop(&tgt);
}

static int twenty_throttled(goose_user *u)
{
    batch_of(u, "/", 20, -1, NULL);
    return GOOSE_OK;
}

static int logout(goose_user *u)
{
    goose_response_free(goose_get(u, "/logout"));
    return GOOSE_OK;
}

/* A batch of 20 at 2 slots a second is cut by the end of a 2 s run: its
 * lanes still waiting claimed no slot, so on_stop's request is sent at
 * once, not after the ten seconds twenty claimed slots would take. */
TEST(stop_leaves_no_throttle_slot_claimed_by_a_batch)
{
    alarm(60);
    target_start(&tgt);
    goose_attack *a = goose_attack_new();
    goose_scenario *s = goose_scenario_new("batch");
    goose_scenario_add_transaction(s, "tx", twenty_throttled);
    goose_transaction_set_on_stop(goose_scenario_add_transaction(s, "bye", logout));
    goose_attack_add_scenario(a, s);
    set(a, "host", tgt.url);
    set(a, "users", "1");
    set(a, "hatch-rate", "1000");
    set(a, "run-time", "2s");
    set(a, "throttle-requests", "2");
    set(a, "stop-timeout", "30s");
    set(a, "no-reset-metrics", NULL);
    set(a, "threads", "1");
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    json_t *report = run(a);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    json_t *stats = target_json(&tgt, "/stats");
    double took = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    ASSERT_LT(took, 6.0); /* 10.6 s when the refused lanes held their slots */
    ASSERT_EQ(jint(report, "abandoned_users"), 0);
    json_t *bye = entry(report, "GET", "/logout");
    ASSERT_EQ(jint(bye, "count"), 1);
    ASSERT_EQ(jint(bye, "fail"), 0);
    ASSERT_EQ(target_count(stats, "/logout"), 1);
    json_t *root = entry(report, "GET", "/");
    ASSERT_LT(jint(root, "count"), 20);
    ASSERT_EQ(jint(root, "fail"), 0);
    ASSERT_EQ(report_total(report), target_total(stats));
    json_decref(report);
    json_decref(stats);
    goose_attack_free(a);
    target_stop(&tgt);
}

static int long_batch(goose_user *u)
{
    batch_of(u, "/slow?ms=3000", 10, -1, NULL);
    return GOOSE_OK;
}

/* The run ends while four requests of a batch wait for a connection (six
 * are under way): when the six end, the four are not sent, and the
 * transaction, cut short, is not counted. */
TEST(stop_refuses_batch_requests_waiting_for_a_connection)
{
    alarm(60);
    target_start(&tgt);
    goose_attack *a = attack(long_batch, tgt.url, "1", NULL);
    set(a, "run-time", "1s");
    json_t *report = run(a), *stats = target_json(&tgt, "/stats");
    json_t *slow = entry(report, "GET", "/slow?ms=3000");
    ASSERT_EQ(jint(slow, "count"), 6);
    ASSERT_EQ(jint(slow, "fail"), 0);
    ASSERT_EQ(target_count(stats, "/slow"), 6);
    size_t i;
    json_t *tx;
    json_array_foreach(json_object_get(report, "transactions"), i, tx)
        if (!strcmp(json_string_value(json_object_get(tx, "name")), "tx"))
            ASSERT_EQ(jint(tx, "count"), 0);
    json_decref(report);
    json_decref(stats);
    goose_attack_free(a);
    target_stop(&tgt);
}

static int hanging_batch(goose_user *u)
{
    batch_of(u, "/slow?ms=30000", 8, -1, NULL);
    return GOOSE_OK;
}

/* The stop timeout abandons users mid-batch: the requests in flight are
 * cancelled and counted as failed, those waiting for a connection are
 * not sent; nothing leaks (run under ASan). */
static void abandon_mid_batch(int curl, int per_user)
{
    alarm(60);
    via_curl(curl);
    target_start(&tgt);
    goose_attack *a = attack(hanging_batch, tgt.url, "2", NULL);
    set(a, "run-time", "1s");
    set(a, "stop-timeout", "1s");
    ASSERT_EQ(goose_attack_run(a), GOOSE_OK);
    via_curl(0);
    json_t *report = report_of(a), *stats = target_json(&tgt, "/stats");
    ASSERT_EQ(jint(report, "abandoned_users"), 2);
    json_t *slow = entry(report, "GET", "/slow?ms=30000");
    ASSERT_EQ(jint(slow, "count"), 2 * per_user);
    ASSERT_EQ(jint(slow, "fail"), 2 * per_user);
    ASSERT_EQ(target_count(stats, "/slow"), 0);
    json_decref(report);
    json_decref(stats);
    goose_attack_free(a);
    target_stop(&tgt);
}

TEST(stop_timeout_abandons_a_user_mid_batch)
{
    abandon_mid_batch(0, 6);
}

TEST(stop_timeout_abandons_a_user_mid_batch_over_libcurl)
{
    abandon_mid_batch(1, 6);
}

/* ---- the rules of the API ---- */

static _Atomic(goose_batch *) first_users_batch;
static atomic_int other_user_done;

static void expect_rc(const char *what, int got, int want)
{
    if (got != want)
        miss("%s: %d (%s), want %d", what, got, goose_strerror(got), want);
}

static int rules(goose_user *u)
{
    if (goose_user_index(u) == 1) { /* another user's batch is not ours */
        goose_batch *theirs = atomic_load(&first_users_batch);
        if (!theirs) {
            miss("user 1 ran before user 0 made its batch");
            return GOOSE_OK;
        }
        expect_rc("add to another user's batch",
                  goose_batch_add(theirs, goose_request_new(u, "GET", "/")), GOOSE_EINVAL);
        expect_rc("send another user's batch", goose_batch_send(theirs), GOOSE_EINVAL);
        goose_batch_free(theirs); /* refused: logged */
        atomic_store(&other_user_done, 1);
        return GOOSE_OK;
    }
    goose_batch *b = goose_batch_new(u);
    atomic_store(&first_users_batch, b);
    while (!atomic_load(&other_user_done))
        goose_sleep(u, 10); /* user 1 runs meanwhile */
    if (goose_batch_new(NULL))
        miss("a batch without a user");
    expect_rc("add to no batch", goose_batch_add(NULL, goose_request_new(u, "GET", "/")),
              GOOSE_EINVAL); /* the request is freed: ASan says if not */
    expect_rc("add no request", goose_batch_add(b, NULL), GOOSE_EINVAL);
    if (goose_batch_response(b, 0))
        miss("a response before the batch was sent");
    expect_rc("add", goose_batch_add(b, goose_request_new(u, "GET", "/")), GOOSE_OK);
    expect_rc("add", goose_batch_add(b, goose_request_new(u, "GET", "/")), GOOSE_OK);
    expect_rc("send", goose_batch_send(b), 0);
    expect_rc("send twice", goose_batch_send(b), GOOSE_ESTATE);
    expect_rc("add after send", goose_batch_add(b, goose_request_new(u, "GET", "/")),
              GOOSE_ESTATE);
    /* the metrics are final when the batch is freed: this one fails */
    expect_rc("set_failure", goose_response_set_failure(goose_batch_response(b, 1), "no"),
              GOOSE_OK);
    goose_batch_free(b);
    goose_batch_free(NULL);
    goose_batch *empty = goose_batch_new(u);
    expect_rc("an empty batch", goose_batch_send(empty), 0);
    if (goose_batch_response(empty, 0))
        miss("a response of an empty batch");
    goose_batch_free(empty);
    /* left unfreed: freed when the transaction returns, and counted */
    goose_batch *left = goose_batch_new(u);
    goose_batch_add(left, goose_request_new(u, "GET", "/logout"));
    goose_batch_add(left, goose_request_new(u, "GET", "/logout"));
    expect_rc("the batch left unfreed", goose_batch_send(left), 0);
    goose_batch *unsent = goose_batch_new(u); /* never sent: nothing counted */
    goose_batch_add(unsent, goose_request_new(u, "GET", "/node/1"));
    return GOOSE_OK;
}

static char log_text[8192];
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

static void keep_log(void *arg, goose_log_level level, const char *line)
{
    (void)arg;
    pthread_mutex_lock(&log_lock);
    size_t n = strlen(log_text);
    snprintf(log_text + n, sizeof log_text - n, "%d %s\n", (int)level, line);
    pthread_mutex_unlock(&log_lock);
}

TEST(api_rules)
{
    alarm(60);
    target_start(&tgt);
    goose_attack *a = attack(rules, tgt.url, "2", "1");
    goose_attack_set_log(a, keep_log, NULL);
    json_t *report = run(a), *stats = target_json(&tgt, "/stats");
    json_t *root = entry(report, "GET", "/");
    ASSERT_EQ(jint(root, "count"), 2);
    ASSERT_EQ(jint(root, "fail"), 1);
    ASSERT_EQ(jint(entry(report, "GET", "/logout"), "count"), 2);
    ASSERT_NULL(report_request(report, "GET", "/node/1"));
    ASSERT_EQ(report_total(report), target_total(stats));
    ASSERT(strstr(log_text, "0 goose_batch_free: the batch belongs to another user"));
    json_decref(report);
    json_decref(stats);
    goose_attack_free(a);
    target_stop(&tgt);
}

TEST_MAIN(TEST_ENTRY(six_at_once_over_http1_and_never_more),
          TEST_ENTRY(six_at_once_over_libcurl_and_never_more),
          TEST_ENTRY(streams_at_once_on_one_h2_connection),
          TEST_ENTRY(https_batches_go_as_streams_once_alpn_chose_h2),
          TEST_ENTRY(time_limit_runs_on_across_the_hand_over_to_h2),
          TEST_ENTRY(redirects_failures_and_cookies_in_a_batch),
          TEST_ENTRY(goose_attack_stop_mid_batch_counts_each_request_once),
          TEST_ENTRY(run_time_end_mid_batch_counts_each_request_once),
          TEST_ENTRY(run_time_end_mid_batch_over_libcurl),
          TEST_ENTRY(stop_refuses_batch_requests_waiting_for_the_throttle),
          TEST_ENTRY(waiting_for_a_connection_is_not_a_batch_requests_time),
          TEST_ENTRY(stop_leaves_no_throttle_slot_claimed_by_a_batch),
          TEST_ENTRY(stop_refuses_batch_requests_waiting_for_a_connection),
          TEST_ENTRY(stop_timeout_abandons_a_user_mid_batch),
          TEST_ENTRY(stop_timeout_abandons_a_user_mid_batch_over_libcurl),
          TEST_ENTRY(api_rules))
