/* End-to-end: real load tests against the bundled target on 127.0.0.1,
 * their JSON reports compared with the target's own counters. */
#include "e2e.h"

#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

static target tgt;
static atomic_int starts, stops, after_stop_sent;

static int front_page(goose_user *u)
{
    goose_response *r = goose_get(u, "/");
    int status = goose_response_status(r);
    goose_response_free(r);
    return status == 200 ? GOOSE_OK : 1;
}

static int missing_page(goose_user *u)
{
    goose_response_free(goose_get(u, "/missing"));
    return GOOSE_OK;
}

static int log_in(goose_user *u)
{
    atomic_fetch_add(&starts, 1);
    goose_request *req = goose_request_new(u, "POST", "/login");
    goose_request_set_name(req, "login");
    goose_request_set_body(req, "a=b", 3);
    goose_request_expect_status(req, 302);
    goose_response *r = goose_request_send(req);
    int failed = goose_response_status(r) != 302;
    goose_response_free(r);
    return failed;
}

static int log_out(goose_user *u)
{
    atomic_fetch_add(&stops, 1);
    goose_response_free(goose_get(u, "/logout"));
    return GOOSE_OK;
}

static goose_attack *two_scenarios(void)
{
    goose_attack *a = goose_attack_new();
    goose_taskset *browse = goose_taskset_new("browse");
    goose_transaction_set_weight(
        goose_taskset_add_transaction(browse, "front page", front_page), 4);
    goose_taskset_add_transaction(browse, "missing page", missing_page);
    goose_scenario *reader = goose_scenario_new("Reader");
    goose_scenario_set_weight(reader, 3);
    goose_scenario_set_wait_time(reader, 0, 5);
    goose_scenario_add_taskset(reader, browse);
    goose_attack_add_scenario(a, reader);
    goose_scenario *writer = goose_scenario_new("Writer");
    goose_transaction_set_on_start(goose_scenario_add_transaction(writer, "log in", log_in));
    goose_scenario_add_taskset(writer, browse);
    goose_transaction_set_on_stop(goose_scenario_add_transaction(writer, "log out", log_out));
    goose_attack_add_scenario(a, writer);
    set(a, "host", tgt.url);
    return a;
}

static json_t *scenario_of(json_t *report, const char *name)
{
    size_t i;
    json_t *s;
    json_array_foreach(json_object_get(report, "scenarios"), i, s)
        if (!strcmp(json_string_value(json_object_get(s, "name")), name))
            return s;
    TEST_FAIL("no scenario %s in the report", name);
}

static void check_exact(json_t *report, json_t *stats)
{
    json_t *root = report_request(report, "GET", "/");
    json_t *missing = report_request(report, "GET", "/missing");
    json_t *login = report_request(report, "POST", "login");
    ASSERT_NOT_NULL(root);
    ASSERT_NOT_NULL(missing);
    ASSERT_NOT_NULL(login);
    ASSERT_EQ(jint(root, "count"), target_count(stats, "/"));
    ASSERT_EQ(jint(missing, "count"), target_count(stats, "/missing"));
    ASSERT_EQ(jint(login, "count"), target_count(stats, "/login"));
    ASSERT_EQ(report_total(report), target_total(stats));
    ASSERT_EQ(jint(missing, "fail"), jint(missing, "count"));
    ASSERT_EQ(jint(root, "fail"), 0);
    ASSERT_EQ(jint(json_object_get(missing, "status_codes"), "404"), jint(missing, "count"));
}

static void exact_counts_with_threads(const char *threads)
{
    target_start(&tgt);
    goose_attack *a = two_scenarios();
    set(a, "users", "8");
    set(a, "hatch-rate", "40");
    set(a, "run-time", "2s");
    set(a, "threads", threads);
    set(a, "no-reset-metrics", NULL);
    ASSERT_EQ(goose_attack_run(a), GOOSE_OK);
    json_t *report = report_of(a), *stats = target_json(&tgt, "/stats");
    check_exact(report, stats);
    ASSERT_EQ(jint(scenario_of(report, "Reader"), "users"), 6);
    ASSERT_EQ(jint(scenario_of(report, "Writer"), "users"), 2);
    ASSERT_GT(jint(scenario_of(report, "Reader"), "iterations"), 0);
    ASSERT_EQ(atomic_load(&starts), 2); /* on_start and on_stop once per user */
    ASSERT_EQ(atomic_load(&stops), 2);
    ASSERT_EQ(target_count(stats, "/logout"), 2);
    ASSERT_GT(jint(report_request(report, "GET", "/"), "count"), 100);
    json_decref(report);
    json_decref(stats);
    goose_attack_free(a);
    target_stop(&tgt);
}

TEST(exact_counts_one_thread)
{
    exact_counts_with_threads("1");
}

TEST(exact_counts_two_threads)
{
    exact_counts_with_threads("2");
}

static int redirect_chain(goose_user *u)
{
    goose_response *r = goose_get(u, "/redirect/3");
    int status = goose_response_status(r); /* the last hop's */
    goose_response_free(r);
    goose_request *req = goose_request_new(u, "GET", "/status/301");
    goose_request_expect_status(req, 301); /* expected: not followed */
    r = goose_request_send(req);
    int kept = goose_response_status(r);
    goose_response_free(r);
    req = goose_request_new(u, "GET", "/redirect/1");
    goose_request_set_name(req, "expects 200");
    goose_request_expect_status(req, 200); /* of the last hop, not the 302s */
    goose_response_free(goose_request_send(req));
    return status == 200 && kept == 301 ? GOOSE_OK : 1;
}

TEST(redirects_count_every_hop)
{
    target_start(&tgt);
    goose_attack *a = goose_attack_new();
    goose_scenario *s = goose_scenario_new("hops");
    goose_scenario_add_transaction(s, "chain", redirect_chain);
    goose_attack_add_scenario(a, s);
    set(a, "host", tgt.url);
    set(a, "users", "2");
    set(a, "hatch-rate", "100");
    set(a, "iterations", "5");
    ASSERT_EQ(goose_attack_run(a), GOOSE_OK);
    json_t *report = report_of(a), *stats = target_json(&tgt, "/stats");
    ASSERT_EQ(jint(report_request(report, "GET", "/redirect/3"), "count"), 10);
    ASSERT_EQ(jint(report_request(report, "GET", "/redirect/0"), "count"), 20);
    ASSERT_EQ(jint(report_request(report, "GET", "/"), "count"), 20);
    ASSERT_EQ(jint(report_request(report, "GET", "/status/301"), "fail"), 0);
    ASSERT_EQ(jint(report_request(report, "GET", "expects 200"), "success"), 10);
    ASSERT_EQ(jint(report_request(report, "GET", "/redirect/0"), "fail"), 0);
    ASSERT_EQ(jint(report_request(report, "GET", "/"), "fail"), 0);
    ASSERT_EQ(target_count(stats, "/redirect/3") + target_count(stats, "/redirect/2") +
                  target_count(stats, "/redirect/1") + target_count(stats, "/redirect/0"),
              60);
    ASSERT_EQ(report_total(report), target_total(stats));
    json_t *tx = json_array_get(json_object_get(report, "transactions"), 0);
    ASSERT_EQ(jint(tx, "success"), 10);
    json_decref(report);
    json_decref(stats);
    goose_attack_free(a);
    target_stop(&tgt);
}

static atomic_int cookie_mismatch;

static int own_cookie(goose_user *u)
{
    char path[64], want[64];
    snprintf(path, sizeof path, "/cookies/set?user=u%u", goose_user_index(u));
    snprintf(want, sizeof want, "user=u%u", goose_user_index(u));
    goose_response_free(goose_get(u, path));
    goose_response *r = goose_get(u, "/cookies");
    const char *body = goose_response_body(r, NULL);
    if (!body || strcmp(body, want) != 0)
        atomic_fetch_add(&cookie_mismatch, 1);
    goose_response_free(r);
    return GOOSE_OK;
}

TEST(cookie_jar_per_user)
{
    target_start(&tgt);
    goose_attack *a = goose_attack_new();
    goose_scenario *s = goose_scenario_new("cookies");
    goose_scenario_add_transaction(s, "own cookie", own_cookie);
    goose_attack_add_scenario(a, s);
    set(a, "host", tgt.url);
    set(a, "users", "6");
    set(a, "hatch-rate", "100");
    set(a, "iterations", "4");
    set(a, "threads", "2");
    ASSERT_EQ(goose_attack_run(a), GOOSE_OK);
    ASSERT_EQ(atomic_load(&cookie_mismatch), 0);
    json_t *report = report_of(a);
    ASSERT_EQ(jint(report_request(report, "GET", "/cookies"), "count"), 24);
    json_decref(report);
    goose_attack_free(a);
    target_stop(&tgt);
}

static int slow_page(goose_user *u)
{
    goose_response *r = goose_get(u, "/slow?ms=3000");
    int status = goose_response_status(r);
    const char *err = goose_response_error(r);
    goose_response_free(r);
    return status == 0 && err ? GOOSE_OK : 1;
}

TEST(timeout_is_a_counted_failure)
{
    target_start(&tgt);
    goose_attack *a = goose_attack_new();
    goose_scenario *s = goose_scenario_new("slow");
    goose_scenario_add_transaction(s, "slow page", slow_page);
    goose_attack_add_scenario(a, s);
    set(a, "host", tgt.url);
    set(a, "users", "2");
    set(a, "hatch-rate", "100");
    set(a, "iterations", "1");
    set(a, "timeout", "300ms");
    time_t t0 = time(NULL);
    ASSERT_EQ(goose_attack_run(a), GOOSE_OK);
    ASSERT_LT(time(NULL) - t0, 3);
    json_t *report = report_of(a);
    json_t *r = report_request(report, "GET", "/slow?ms=3000");
    ASSERT_EQ(jint(r, "count"), 2);
    ASSERT_EQ(jint(r, "fail"), 2);
    json_t *e = json_array_get(json_object_get(report, "errors"), 0);
    ASSERT_NOT_NULL(e);
    ASSERT(strstr(json_string_value(json_object_get(e, "error")), "imeout") ||
           strstr(json_string_value(json_object_get(e, "error")), "timed out"));
    json_decref(report);
    goose_attack_free(a);
    target_stop(&tgt);
}

static atomic_int wrong_error_text;

static int marked(goose_user *u)
{
    goose_response *r = goose_get(u, "/status/503");
    const char *why = goose_response_error(r);
    if (!why || strcmp(why, "503 Service Unavailable") != 0)
        atomic_fetch_add(&wrong_error_text, 1);
    goose_response_free(r);
    goose_request *req = goose_request_new(u, "GET", "/status/404");
    goose_request_expect_status(req, 404);
    goose_response_free(goose_request_send(req));
    r = goose_get(u, "/");
    goose_response_set_failure(r, "wrong content");
    goose_response_free(r);
    goose_get(u, "/node/1"); /* never freed: final when the transaction returns */
    return GOOSE_OK;
}

TEST(success_rules)
{
    target_start(&tgt);
    goose_attack *a = goose_attack_new();
    goose_scenario *s = goose_scenario_new("rules");
    goose_scenario_add_transaction(s, "marked", marked);
    goose_attack_add_scenario(a, s);
    set(a, "host", tgt.url);
    set(a, "users", "1");
    set(a, "iterations", "3");
    ASSERT_EQ(goose_attack_run(a), GOOSE_OK);
    json_t *report = report_of(a), *stats = target_json(&tgt, "/stats");
    ASSERT_EQ(jint(report_request(report, "GET", "/status/503"), "fail"), 3);
    ASSERT_EQ(atomic_load(&wrong_error_text), 0);
    ASSERT_EQ(jint(report_request(report, "GET", "/status/404"), "success"), 3);
    ASSERT_EQ(jint(report_request(report, "GET", "/"), "fail"), 3);
    ASSERT_EQ(jint(report_request(report, "GET", "/node/1"), "success"), 3);
    ASSERT_EQ(report_total(report), target_total(stats));
    size_t i;
    json_t *e;
    int seen = 0;
    json_array_foreach(json_object_get(report, "errors"), i, e)
        seen += !strcmp(json_string_value(json_object_get(e, "error")), "wrong content") &&
                jint(e, "count") == 3;
    ASSERT_EQ(seen, 1);
    json_decref(report);
    json_decref(stats);
    goose_attack_free(a);
    target_stop(&tgt);
}

static int sleepy(goose_user *u)
{
    goose_response_free(goose_get(u, "/"));
    goose_sleep(u, 20000); /* the stop must cut this short */
    if (goose_response_status(goose_get(u, "/node/2")) == 0)
        atomic_fetch_add(&after_stop_sent, 1);
    return GOOSE_OK;
}

TEST(graceful_stop_is_prompt)
{
    target_start(&tgt);
    atomic_store(&stops, 0);
    goose_attack *a = goose_attack_new();
    goose_scenario *s = goose_scenario_new("sleepers");
    goose_scenario_set_wait_time(s, 10000, 10000);
    goose_scenario_add_transaction(s, "sleep", sleepy);
    goose_transaction_set_on_stop(goose_scenario_add_transaction(s, "leave", log_out));
    goose_attack_add_scenario(a, s);
    set(a, "host", tgt.url);
    set(a, "users", "5");
    set(a, "hatch-rate", "100");
    set(a, "run-time", "1s");
    set(a, "no-reset-metrics", NULL);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    ASSERT_EQ(goose_attack_run(a), GOOSE_OK);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    ASSERT_LT(t1.tv_sec - t0.tv_sec, 5);
    ASSERT_EQ(atomic_load(&stops), 5);
    ASSERT_EQ(atomic_load(&after_stop_sent), 5); /* refused, not sent */
    json_t *report = report_of(a), *stats = target_json(&tgt, "/stats");
    ASSERT_NULL(report_request(report, "GET", "/node/2"));
    ASSERT_EQ(target_count(stats, "/node/2"), 0);
    ASSERT_EQ(report_total(report), target_total(stats));
    json_t *tx = json_array_get(json_object_get(report, "transactions"), 0);
    ASSERT_EQ(jint(tx, "count"), 0); /* cut short: not counted */
    json_decref(report);
    json_decref(stats);
    goose_attack_free(a);
    target_stop(&tgt);
}

TEST(hatch_rate_and_reset)
{
    target_start(&tgt);
    goose_attack *a = two_scenarios();
    set(a, "users", "4");
    set(a, "hatch-rate", "4");
    set(a, "run-time", "1s");
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    ASSERT_EQ(goose_attack_run(a), GOOSE_OK);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double took = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    ASSERT_GT(took * 1000, 1700); /* 0.75 s of hatching, then 1 s */
    ASSERT_LT(took * 1000, 4000);
    json_t *report = report_of(a), *stats = target_json(&tgt, "/stats");
    ASSERT(json_is_true(json_object_get(report, "metrics_reset")));
    /* the hatch phase was measured and then dropped */
    ASSERT_LT(report_total(report), target_total(stats));
    json_t *users = json_object_get(json_object_get(report, "timeseries"), "users");
    ASSERT_GE(json_array_size(users), 1);
    json_decref(report);
    json_decref(stats);
    goose_attack_free(a);
    target_stop(&tgt);
}

static atomic_int wrong_source;

static int which_source(goose_user *u)
{
    goose_response *r = goose_get(u, "/peer");
    const char *body = goose_response_body(r, NULL);
    const char *want = goose_user_index(u) % 2 ? "127.0.0.3\n" : "127.0.0.2\n";
    if (!body || strcmp(body, want) != 0)
        atomic_fetch_add(&wrong_source, 1);
    goose_response_free(r);
    return GOOSE_OK;
}

/* --local-address: users take the source addresses in turn. */
TEST(local_addresses_taken_in_turn)
{
    target_start(&tgt);
    goose_attack *a = goose_attack_new();
    goose_scenario *s = goose_scenario_new("sources");
    goose_scenario_add_transaction(s, "peer", which_source);
    goose_attack_add_scenario(a, s);
    set(a, "host", tgt.url);
    set(a, "users", "4");
    set(a, "hatch-rate", "100");
    set(a, "iterations", "3");
    set(a, "local-address", "127.0.0.2-127.0.0.3");
    ASSERT_EQ(goose_attack_run(a), GOOSE_OK);
    ASSERT_EQ(atomic_load(&wrong_source), 0);
    json_t *report = report_of(a);
    ASSERT_EQ(jint(report_request(report, "GET", "/peer"), "success"), 12);
    json_decref(report);
    ASSERT_EQ(goose_attack_set_option(a, "local-address", "127.0.0.9-127.0.0.1"), GOOSE_EVALUE);
    ASSERT_EQ(goose_attack_set_option(a, "local-address", "localhost"), GOOSE_EVALUE);
    goose_attack_free(a);
    target_stop(&tgt);
}

static atomic_int wrong_agent;

static int agents(goose_user *u)
{
    goose_response *r = goose_get(u, "/echo");
    const char *body = goose_response_body(r, NULL);
    if (!body || !strstr(body, "User-Agent: libgoose/" GOOSE_VERSION_STRING))
        atomic_fetch_add(&wrong_agent, 1);
    goose_response_free(r);
    goose_request *req = goose_request_new(u, "POST", "/echo");
    goose_request_set_header(req, "User-Agent", "mine/1.0");
    goose_request_set_header(req, "X-Test", "yes");
    goose_request_set_body(req, "abc", 3);
    r = goose_request_send(req);
    body = goose_response_body(r, NULL);
    if (!body || !strstr(body, "User-Agent: mine/1.0") || strstr(body, "libgoose/") ||
        !strstr(body, "X-Test: yes") || strstr(body, "Expect:") || !strstr(body, "abc"))
        atomic_fetch_add(&wrong_agent, 1);
    goose_response_free(r);
    return GOOSE_OK;
}

/* Requests say who sends them, unless the test says otherwise. */
TEST(user_agent_and_custom_headers)
{
    target_start(&tgt);
    goose_attack *a = goose_attack_new();
    goose_scenario *s = goose_scenario_new("agents");
    goose_scenario_add_transaction(s, "agents", agents);
    goose_attack_add_scenario(a, s);
    set(a, "host", tgt.url);
    set(a, "users", "2");
    set(a, "hatch-rate", "100");
    set(a, "iterations", "2");
    ASSERT_EQ(goose_attack_run(a), GOOSE_OK);
    ASSERT_EQ(atomic_load(&wrong_agent), 0);
    goose_attack_free(a);
    target_stop(&tgt);
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        TEST_FAIL("cannot read %s", path);
    static char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    return buf;
}

/* One run, three formats: JSON, Markdown and CSV (with its history). */
TEST(report_formats_agree)
{
    target_start(&tgt);
    char dir[] = "/tmp/goose-reports-XXXXXX", json[80], md[80], csv[80], hist[80], line[200];
    ASSERT_NOT_NULL(mkdtemp(dir));
    snprintf(json, sizeof json, "%s/r.json", dir);
    snprintf(md, sizeof md, "%s/r.md", dir);
    snprintf(csv, sizeof csv, "%s/r.csv", dir);
    snprintf(hist, sizeof hist, "%s/r_history.csv", dir);
    goose_attack *a = two_scenarios();
    set(a, "users", "3");
    set(a, "hatch-rate", "30");
    set(a, "run-time", "2s");
    set(a, "no-reset-metrics", NULL);
    set(a, "report-file", json);
    set(a, "report-file", md);
    set(a, "report-file", csv);
    ASSERT_EQ(goose_attack_run(a), GOOSE_OK);
    json_error_t err;
    json_t *r = json_load_file(json, 0, &err);
    ASSERT_NOT_NULL(r);
    long long root = jint(report_request(r, "GET", "/"), "count");
    long long total = report_total(r);
    ASSERT_EQ(jint(report_request(r, "GET", "/"), "bytes"), root * 14); /* "Hello, goose!" */
    char *text = slurp(md);
    snprintf(line, sizeof line, "| GET / | %lld |", root);
    ASSERT(strstr(text, line));
    snprintf(line, sizeof line, "| **Aggregated** | %lld |", total);
    ASSERT(strstr(text, line));
    ASSERT(strstr(text, "## Status codes"));
    text = slurp(csv);
    ASSERT(!strncmp(text, "Type,Name,Request Count,Failure Count,", 38));
    snprintf(line, sizeof line, "\nGET,/,%lld,0,", root);
    ASSERT(strstr(text, line));
    snprintf(line, sizeof line, "\n,Aggregated,%lld,", total);
    ASSERT(strstr(text, line));
    text = slurp(hist);
    ASSERT(!strncmp(text, "Second,User Count,Requests/s,Failures/s,95%\n1,", 45));
    json_decref(r);
    goose_attack_free(a);
    target_stop(&tgt);
    char cmd[120];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    ASSERT_EQ(system(cmd), 0);
}

static char via_curl_url[80];

/* The same target through libcurl: the own client takes no user info. */
static int front_page_via_curl(goose_user *u)
{
    goose_request *req = goose_request_new(u, "GET", via_curl_url);
    goose_request_set_name(req, "curl /");
    goose_response_free(goose_request_send(req));
    return GOOSE_OK;
}

/* The line of text that starts with start (after a newline). */
static const char *line_of(const char *text, const char *start)
{
    const char *p = text;
    while ((p = strstr(p, start)) && p != text && p[-1] != '\n')
        p++;
    if (!p)
        TEST_FAIL("no line starting \"%s\"", start);
    return p;
}

/* Whether the line at p ends with end. */
static int line_ends(const char *p, const char *end)
{
    const char *nl = strchr(p, '\n');
    size_t n = nl ? (size_t)(nl - p) : strlen(p), m = strlen(end);
    return n >= m && !strncmp(p + n - m, end, m);
}

/* Every request over plain http is HTTP/1.1, whichever client sent it:
 * each row's protocols are its count, in every report. */
TEST(protocols_in_every_report)
{
    target_start(&tgt);
    snprintf(via_curl_url, sizeof via_curl_url, "http://u@127.0.0.1:%d/", tgt.port);
    goose_attack *a = two_scenarios();
    goose_scenario *c = goose_scenario_new("Curl");
    goose_scenario_add_transaction(c, "curl front page", front_page_via_curl);
    goose_attack_add_scenario(a, c);
    set(a, "users", "6");
    set(a, "hatch-rate", "600");
    set(a, "iterations", "20");
    set(a, "no-reset-metrics", NULL);
    ASSERT_EQ(goose_attack_run(a), GOOSE_OK);
    json_t *r = report_of(a), *stats = target_json(&tgt, "/stats");
    long long total = report_total(r), root = jint(report_request(r, "GET", "/"), "count");
    long long curl = jint(report_request(r, "GET", "curl /"), "count");
    ASSERT_EQ(total, target_total(stats));
    ASSERT_EQ(root + curl, target_count(stats, "/"));
    ASSERT_GT(curl, 0);
    size_t i;
    json_t *q;
    json_array_foreach(json_object_get(r, "requests"), i, q)
        all_over(q, "HTTP/1.1");
    all_over(json_object_get(r, "totals"), "HTTP/1.1");
    char want[160], *text = goose_attack_report(a, "text");
    snprintf(want, sizeof want, "\nProtocols:     HTTP/1.1 %lld (100%%)\n", total);
    if (!strstr(text, want))
        TEST_FAIL("no \"%s\" in the console report:\n%s", want + 1, text);
    goose_free(text);
    text = goose_attack_report(a, "md");
    ASSERT(strstr(text, "| p99 ms | Protocols |\n"));
    snprintf(want, sizeof want, "| GET / | %lld |", root);
    ASSERT(line_ends(line_of(text, want), "| HTTP/1.1 |"));
    snprintf(want, sizeof want, "| GET curl / | %lld |", curl);
    ASSERT(line_ends(line_of(text, want), "| HTTP/1.1 |"));
    snprintf(want, sizeof want, "| **Aggregated** | %lld |", total);
    ASSERT(line_ends(line_of(text, want), "| HTTP/1.1 |"));
    goose_free(text);
    text = goose_attack_report(a, "html");
    ASSERT(strstr(text, "<th>p99 ms</th><th class=\"l\">Protocols</th></tr>"));
    const char *sec = strstr(text, "<section id=\"requests\">");
    ASSERT_NOT_NULL(sec);
    const char *end = strstr(sec, "</section>");
    size_t rows = 0;
    for (const char *p = sec; (p = strstr(p, "<td class=\"text\">HTTP/1.1</td></tr>")) && p < end; p++)
        rows++;
    ASSERT_EQ(rows, json_array_size(json_object_get(r, "requests")) + 1); /* and Aggregated */
    goose_free(text);
    text = goose_attack_report(a, "csv");
    ASSERT(strstr(text, ",100%,HTTP/1.0 Requests,HTTP/1.1 Requests,HTTP/2 Requests\n"));
    snprintf(want, sizeof want, ",0,%lld,0", curl);
    ASSERT(line_ends(line_of(text, "GET,curl /,"), want));
    snprintf(want, sizeof want, ",0,%lld,0", total);
    ASSERT(line_ends(line_of(text, ",Aggregated,"), want));
    goose_free(text);
    json_decref(r);
    json_decref(stats);
    goose_attack_free(a);
    target_stop(&tgt);
}

static long count_lines(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        TEST_FAIL("cannot read %s", path);
    long n = 0;
    int c;
    while ((c = fgetc(f)) != EOF)
        n += c == '\n';
    fclose(f);
    return n;
}

/* Every counted request has exactly one line in the request log; every
 * counted transaction and every failure one in theirs. */
TEST(logs_have_a_line_per_counted_event)
{
    target_start(&tgt);
    char dir[] = "/tmp/goose-logs-XXXXXX", req[80], tx[80], err[80], cmd[120];
    ASSERT_NOT_NULL(mkdtemp(dir));
    snprintf(req, sizeof req, "%s/requests.json", dir);
    snprintf(tx, sizeof tx, "%s/transactions.csv", dir);
    snprintf(err, sizeof err, "%s/errors.log", dir);
    goose_attack *a = two_scenarios();
    set(a, "users", "4");
    set(a, "hatch-rate", "40");
    set(a, "run-time", "2s");
    set(a, "threads", "2");
    set(a, "no-reset-metrics", NULL);
    set(a, "request-log", req);
    set(a, "transaction-log", tx);
    set(a, "transaction-format", "csv");
    set(a, "error-log", err);
    set(a, "error-format", "raw");
    ASSERT_EQ(goose_attack_run(a), GOOSE_OK);
    json_t *r = report_of(a);
    long long total = report_total(r), fails = 0, txs = 0;
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(r, "requests"), i, e)
        fails += jint(e, "fail");
    json_array_foreach(json_object_get(r, "transactions"), i, e)
        txs += jint(e, "count");
    ASSERT_GT(total, 100);
    ASSERT_EQ(count_lines(req), total);
    ASSERT_EQ(count_lines(tx), txs + 1); /* and its header */
    ASSERT_EQ(count_lines(err), fails);
    FILE *f = fopen(req, "r");
    char line[4096];
    ASSERT(fgets(line, sizeof line, f));
    fclose(f);
    json_error_t jerr;
    json_t *first = json_loads(line, 0, &jerr);
    ASSERT_NOT_NULL(first);
    ASSERT(json_string_value(json_object_get(first, "url")));
    ASSERT(json_is_integer(json_object_get(first, "response_time_us")));
    json_decref(first);
    json_decref(r);
    goose_attack_free(a);
    a = two_scenarios();
    ASSERT_EQ(goose_attack_set_option(a, "request-format", "xml"), GOOSE_EVALUE);
    ASSERT_EQ(goose_attack_set_option(a, "request-log", "/nonexistent-dir/requests.log"),
              GOOSE_EVALUE); /* its folder is checked when it is set */
    ASSERT_EQ(goose_attack_run(a), GOOSE_ECONFIG); /* before any user starts */
    goose_attack_free(a);
    target_stop(&tgt);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    ASSERT_EQ(system(cmd), 0);
}

static char scraped[1 << 16];
static int metrics_port;

/* Scrapes until the page has GET / in the maintain phase (or 4 s pass). */
static void *scrape_later(void *arg)
{
    (void)arg;
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/metrics", metrics_port);
    for (int i = 0; i < 40; i++) {
        usleep(100000);
        char *page = http_fetch(url, NULL, 5000, NULL);
        int got = page && strstr(page, "goose_requests_total{method=\"GET\",name=\"/\"}") &&
                  strstr(page, "goose_phase{phase=\"maintain\"} 1");
        if (got)
            snprintf(scraped, sizeof scraped, "%s", page);
        free(page);
        if (got)
            break;
    }
    return NULL;
}

static long long metric(const char *text, const char *series)
{
    const char *p = strstr(text, series);
    return p ? atoll(p + strlen(series)) : -1;
}

/* --metrics-listen serves live counters that never run ahead of the final
 * report, with a well-formed histogram. */
TEST(prometheus_endpoint_during_a_run)
{
    target_start(&tgt);
    metrics_port = free_port();
    char listen[32];
    snprintf(listen, sizeof listen, "127.0.0.1:%d", metrics_port);
    goose_attack *a = two_scenarios();
    set(a, "users", "4");
    set(a, "hatch-rate", "40");
    set(a, "run-time", "2s");
    set(a, "no-reset-metrics", NULL);
    set(a, "metrics-listen", listen);
    pthread_t t;
    ASSERT_EQ(pthread_create(&t, NULL, scrape_later, NULL), 0);
    ASSERT_EQ(goose_attack_run(a), GOOSE_OK);
    pthread_join(t, NULL);
    ASSERT(scraped[0]);
    json_t *r = report_of(a);
    long long live = metric(scraped, "goose_requests_total{method=\"GET\",name=\"/\"} ");
    long long final = jint(report_request(r, "GET", "/"), "count");
    ASSERT_GT(live, 0);
    ASSERT_LE(live, final);
    ASSERT(strstr(scraped, "# TYPE goose_response_time_seconds histogram"));
    long long inf = metric(scraped, "goose_response_time_seconds_bucket{method=\"GET\",name=\"/\",le=\"+Inf\"} ");
    ASSERT_EQ(inf, live);
    ASSERT(strstr(scraped, "# TYPE goose_requests_by_protocol_total counter\n"));
    ASSERT_EQ(metric(scraped, "goose_requests_by_protocol_total{method=\"GET\",name=\"/\","
                              "protocol=\"HTTP/1.1\"} "), live);
    ASSERT_EQ(metric(scraped, "protocol=\"HTTP/2\""), -1);
    ASSERT_EQ(metric(scraped, "goose_phase{phase=\"maintain\"} "), 1);
    ASSERT_EQ(metric(scraped, "\ngoose_users "), 4);
    json_decref(r);
    goose_attack_free(a);
    a = two_scenarios();
    ASSERT_EQ(goose_attack_set_option(a, "metrics-listen", "nowhere"), GOOSE_EVALUE);
    goose_attack_free(a);
    target_stop(&tgt);
}

/* A second run set against the first, in every format. */
TEST(baseline_in_every_format)
{
    target_start(&tgt);
    char dir[] = "/tmp/goose-baseline-XXXXXX", first[80], json[80], md[80], csv[80],
         html[80], bad[80], cmd[120];
    ASSERT_NOT_NULL(mkdtemp(dir));
    snprintf(first, sizeof first, "%s/first.json", dir);
    snprintf(json, sizeof json, "%s/second.json", dir);
    snprintf(md, sizeof md, "%s/second.md", dir);
    snprintf(csv, sizeof csv, "%s/second.csv", dir);
    snprintf(html, sizeof html, "%s/second.html", dir);
    snprintf(bad, sizeof bad, "%s/bad.json", dir);
    goose_attack *a = two_scenarios();
    set(a, "users", "2");
    set(a, "hatch-rate", "20");
    set(a, "iterations", "5");
    set(a, "report-file", first);
    ASSERT_EQ(goose_attack_run(a), GOOSE_OK);
    json_error_t err;
    json_t *r1 = json_load_file(first, 0, &err);
    goose_attack_free(a);
    a = two_scenarios();
    set(a, "users", "2");
    set(a, "hatch-rate", "20");
    set(a, "iterations", "10");
    set(a, "baseline-file", first);
    set(a, "report-file", json);
    set(a, "report-file", md);
    set(a, "report-file", csv);
    set(a, "report-file", html);
    ASSERT_EQ(goose_attack_run(a), GOOSE_OK);
    json_t *r2 = json_load_file(json, 0, &err);
    json_t *base = json_object_get(r2, "baseline");
    ASSERT_NOT_NULL(base);
    ASSERT_STR_EQ(json_string_value(json_object_get(base, "file")), first);
    json_t *row = json_array_get(json_object_get(base, "requests"), 0);
    const char *name = json_string_value(json_object_get(row, "name"));
    const char *method = json_string_value(json_object_get(row, "method"));
    ASSERT_EQ(jint(row, "count_then"), jint(report_request(r1, method, name), "count"));
    ASSERT_EQ(jint(row, "count"), jint(report_request(r2, method, name), "count"));
    ASSERT(strstr(slurp(md), "## Compared with "));
    ASSERT(strstr(slurp(csv), ",Baseline Request Count,Baseline Requests/s,Baseline 95%\n"));
    ASSERT(strstr(slurp(html), "<section id=\"baseline\">"));
    char *text = goose_attack_report(a, "text");
    ASSERT(strstr(text, "=== COMPARED WITH "));
    goose_free(text);
    /* a report from before the protocols is a baseline too */
    size_t i;
    json_t *q;
    json_array_foreach(json_object_get(r1, "requests"), i, q)
        ASSERT_EQ(json_object_del(q, "protocols"), 0);
    ASSERT_EQ(json_object_del(json_object_get(r1, "totals"), "protocols"), 0);
    ASSERT_EQ(json_dump_file(r1, first, 0), 0);
    goose_attack_free(a);
    a = two_scenarios();
    set(a, "iterations", "1");
    set(a, "baseline-file", first);
    ASSERT_EQ(goose_attack_run(a), GOOSE_OK);
    text = goose_attack_report(a, "json");
    ASSERT(strstr(text, "\"count_then\""));
    goose_free(text);
    json_decref(r1);
    json_decref(r2);
    goose_attack_free(a);
    FILE *f = fopen(bad, "w");
    fputs("{\"requests\": [{\"method\": 1}]}", f);
    fclose(f);
    a = two_scenarios();
    set(a, "baseline-file", bad);
    ASSERT_EQ(goose_attack_run(a), GOOSE_ECONFIG);
    ASSERT(strstr(goose_attack_error(a), "--baseline-file"));
    goose_attack_free(a);
    target_stop(&tgt);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    ASSERT_EQ(system(cmd), 0);
}

static int outside(goose_user *u)
{
    (void)u;
    return GOOSE_OK;
}

TEST(api_misuse_is_harmless)
{
    ASSERT_NULL(goose_get(NULL, "/"));
    ASSERT_NULL(goose_request_new(NULL, "GET", "/"));
    ASSERT_EQ(goose_response_status(NULL), 0);
    ASSERT_EQ(goose_sleep(NULL, 1), GOOSE_EINVAL);
    goose_response_free(NULL);
    goose_request_free(NULL);
    goose_attack_free(NULL);
    goose_scenario_free(NULL);
    ASSERT_EQ(goose_attack_run(NULL), GOOSE_EINVAL);
    ASSERT_NULL(goose_attack_report(NULL, "json"));
    goose_attack *a = goose_attack_new();
    ASSERT_NULL(goose_attack_report(a, "json")); /* nothing has run */
    goose_scenario *s = goose_scenario_new("s");
    goose_scenario_add_transaction(s, "t", outside);
    goose_attack_add_scenario(a, s);
    ASSERT_EQ(gaggle_manager_run(a), GOOSE_ECONFIG); /* no --expect-workers */
    ASSERT(strstr(goose_attack_error(a), "expect-workers"));
    set(a, "users", "3");
    ASSERT_EQ(gaggle_worker_run(a), GOOSE_ECONFIG); /* users are the Manager's */
    ASSERT(strstr(goose_attack_error(a), "--users makes no sense on a Worker"));
    ASSERT_EQ(gaggle_worker_stop(NULL), GOOSE_EINVAL);
    ASSERT_EQ(gaggle_worker_join(NULL), GOOSE_EINVAL);
    goose_attack_free(a);
}

/* --sticky-follow: after its base URL sent it to another server, a
 * user's later paths go there; without it they stay. */
static char hop_path[64];

static int hop_then_page(goose_user *u)
{
    goose_response_free(goose_get(u, hop_path));
    goose_response_free(goose_get(u, "/node/1"));
    return GOOSE_OK;
}

static void sticky_run(const target *b, int sticky, json_t **stats_a, json_t **stats_b)
{
    target_start(&tgt);
    snprintf(hop_path, sizeof hop_path, "/redirect-to/%d", b->port);
    goose_attack *a = goose_attack_new();
    goose_scenario *s = goose_scenario_new("Hopper");
    goose_scenario_add_transaction(s, "hop", hop_then_page);
    goose_attack_add_scenario(a, s);
    set(a, "host", tgt.url);
    set(a, "users", "2");
    set(a, "iterations", "2");
    set(a, "quiet", NULL);
    if (sticky)
        set(a, "sticky-follow", NULL);
    ASSERT_EQ(goose_attack_run(a), GOOSE_OK);
    json_t *r = report_of(a);
    ASSERT_EQ(report_total(r), 12); /* 2 users x 2 passes x (302, its hop, the page) */
    json_decref(r);
    *stats_a = target_json(&tgt, "/stats");
    *stats_b = target_json(b, "/stats");
    goose_attack_free(a);
    target_stop(&tgt);
}

TEST(sticky_follow_moves_the_user)
{
    target b;
    target_start(&b);
    json_t *sa, *sb;
    sticky_run(&b, 1, &sa, &sb);
    /* the first hop comes from A; then B has everything */
    ASSERT_EQ(target_count(sa, hop_path), 2);
    ASSERT_EQ(target_count(sa, "/node/1"), 0);
    ASSERT_EQ(target_count(sb, "/node/1"), 4);
    ASSERT_EQ(target_total(sa) + target_total(sb), 12);
    json_decref(sa);
    json_decref(sb);
    target_stop(&b);
    target_start(&b);
    sticky_run(&b, 0, &sa, &sb);
    ASSERT_EQ(target_count(sa, "/node/1"), 4);
    ASSERT_EQ(target_count(sb, "/node/1"), 0);
    ASSERT_EQ(target_count(sb, "/"), 4);
    json_decref(sa);
    json_decref(sb);
    target_stop(&b);
}

/* A transaction that blocks its thread (sleep(), not goose_sleep()). */
static int blocking(goose_user *u)
{
    goose_response_free(goose_get(u, "/"));
    usleep(1000000);
    return GOOSE_OK;
}

static pthread_mutex_t blocked_lock = PTHREAD_MUTEX_INITIALIZER;
static int blocked_lines, blocked_ms = -1;
static char blocked_line[256];

static void count_blocked(void *arg, goose_log_level level, const char *line)
{
    (void)arg;
    const char *tail = " ms: a blocking call in a transaction?";
    const char *end = strstr(line, tail);
    if (level != GOOSE_LOG_WARN || !end || strncmp(line, "thread 0 was blocked ", 21) != 0)
        return;
    int ms = 0;
    for (const char *p = line + 21; p < end; p++)
        if (*p != ',')
            ms = *p >= '0' && *p <= '9' ? ms * 10 + (*p - '0') : -1000000;
    pthread_mutex_lock(&blocked_lock);
    blocked_lines++;
    blocked_ms = ms;
    snprintf(blocked_line, sizeof blocked_line, "%s", line);
    pthread_mutex_unlock(&blocked_lock);
}

/* Every user on the thread waits while one blocks it: said once, in the
 * log, however often it happens. */
TEST(blocking_transaction_warns_once)
{
    target_start(&tgt);
    goose_attack *a = goose_attack_new();
    goose_scenario *s = goose_scenario_new("blockers");
    goose_scenario_add_transaction(s, "block", blocking);
    goose_attack_add_scenario(a, s);
    goose_attack_set_log(a, count_blocked, NULL);
    set(a, "host", tgt.url);
    set(a, "users", "2");
    set(a, "hatch-rate", "100");
    set(a, "threads", "1");
    set(a, "run-time", "3s");
    set(a, "no-reset-metrics", NULL);
    ASSERT_EQ(goose_attack_run(a), GOOSE_OK);
    json_t *report = report_of(a), *stats = target_json(&tgt, "/stats");
    ASSERT_GT(target_total(stats), 2); /* it blocked more than once */
    ASSERT_EQ(report_total(report), target_total(stats));
    pthread_mutex_lock(&blocked_lock);
    if (blocked_lines != 1)
        TEST_FAIL("%d \"was blocked\" warnings, want 1 (last: %s)", blocked_lines, blocked_line);
    ASSERT_GT(blocked_ms, 499); /* each block is 1,000 ms */
    pthread_mutex_unlock(&blocked_lock);
    json_decref(report);
    json_decref(stats);
    goose_attack_free(a);
    target_stop(&tgt);
}

TEST_MAIN(TEST_ENTRY(exact_counts_one_thread), TEST_ENTRY(exact_counts_two_threads),
          TEST_ENTRY(redirects_count_every_hop), TEST_ENTRY(cookie_jar_per_user),
          TEST_ENTRY(timeout_is_a_counted_failure), TEST_ENTRY(success_rules),
          TEST_ENTRY(graceful_stop_is_prompt), TEST_ENTRY(hatch_rate_and_reset),
          TEST_ENTRY(local_addresses_taken_in_turn), TEST_ENTRY(user_agent_and_custom_headers),
          TEST_ENTRY(report_formats_agree), TEST_ENTRY(protocols_in_every_report),
          TEST_ENTRY(logs_have_a_line_per_counted_event),
          TEST_ENTRY(prometheus_endpoint_during_a_run), TEST_ENTRY(baseline_in_every_format), TEST_ENTRY(api_misuse_is_harmless),
          TEST_ENTRY(sticky_follow_moves_the_user), TEST_ENTRY(blocking_transaction_warns_once))
