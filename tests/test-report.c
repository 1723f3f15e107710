/* Unit tests for the reports (lib/report/console.c, lib/report/json.c).
 * The attack is built by hand: only its results (and, for the files, its
 * report paths) are filled, as a finished run would leave them. */
#include "test.h"

#include <jansson.h>
#include <math.h>
#include <sys/stat.h>
#include <unistd.h>

#include "run/run.h"

#define NTX 3
#define NSCEN 2
#define LONG_NAME "/a/very/long/path/that/must/be/truncated"

static char scen_browse[] = "Browse";
static char scen_api[] = "Api";
static char *scenario_names[NSCEN] = {scen_browse, scen_api};
static size_t scenario_users[NSCEN] = {7, 3};
static char host_a[] = "http://127.0.0.1:8080";
static char *hosts[NSCEN] = {host_a, host_a}; /* shared: listed once */
static goose_tx_info txs[NTX] = {
    {"Browse", "home"}, {"Browse", "about"}, {"Api", "status"}};
static uint64_t series_users[3] = {5, 10, 10};
static double series_rps[3] = {8.5, 11.25, 10};
static uint64_t series_p95[3] = {90000, 95000, 96000};
static uint64_t series_fails[3] = {1, 2, 2};

static goose_attack *fixture_empty(void)
{
    goose_attack *a = calloc(1, sizeof *a);
    ASSERT_NOT_NULL(a);
    goose_results *r = &a->results;
    ASSERT_EQ(goose__stats_init(&r->totals, NTX, NSCEN), 0);
    r->valid = 1;
    snprintf(r->started, sizeof r->started, "2024-05-17T07:04:36Z");
    r->duration_s = 10.0;
    r->elapsed_s = 13.0;
    r->metrics_reset = 1;
    r->reset_at_s = 2.0;
    r->txs = txs;
    r->ntxs = NTX;
    r->scenario_names = scenario_names;
    r->scenario_users = scenario_users;
    r->hosts = hosts;
    r->nscenarios = NSCEN;
    r->users = 10;
    r->threads = 2;
    static goose_phase phases[3]; /* static, as the fixture's other arrays */
    r->phases = phases;
    r->phases[0] = (goose_phase){"increase", 0.0, 2.0, 0, 10};
    r->phases[1] = (goose_phase){"maintain", 2.0, 12.0, 10, 10};
    r->phases[2] = (goose_phase){"decrease", 12.0, 13.0, 10, 0};
    r->nphases = 3;
    return a;
}

/* GET / : 100 answers of 1..100 ms (p50 50 ms, p95 95 ms, mean 50.5 ms);
 * GET /missing : 1 x 200, 3 x 404; POST /login : 5 x 200, 2 transport
 * errors; one request with a name too long for the tables. */
static goose_attack *fixture(void)
{
    goose_attack *a = fixture_empty();
    goose_stats *s = &a->results.totals;
    for (uint64_t i = 1; i <= 100; i++)
        ASSERT_EQ(goose__stats_record(s, "GET", "/", 200, i * 1000, NULL), 0);
    ASSERT_EQ(goose__stats_record(s, "GET", "/missing", 200, 2000, NULL), 0);
    for (int i = 0; i < 3; i++)
        ASSERT_EQ(goose__stats_record(s, "GET", "/missing", 404, 3000,
                                      "404 Not Found"), 0);
    for (int i = 0; i < 5; i++)
        ASSERT_EQ(goose__stats_record(s, "POST", "/login", 200, 500, NULL), 0);
    for (int i = 0; i < 2; i++)
        ASSERT_EQ(goose__stats_record(s, "POST", "/login", 0, 7000,
                                      "connection refused"), 0);
    ASSERT_EQ(goose__stats_record(s, "GET", LONG_NAME, 200, 1234, NULL), 0);

    for (int i = 0; i < 10; i++)
        goose__stats_record_tx(s, 0, 1, 20000);
    goose__stats_record_tx(s, 0, 0, 40000);
    for (int i = 0; i < 5; i++)
        goose__stats_record_tx(s, 2, 1, 800);
    s->iterations[0] = 11;
    s->iterations[1] = 5;

    goose_series *ts = &a->results.series;
    ts->n = ts->cap = 3;
    ts->users = series_users;
    ts->rps = series_rps;
    ts->p95_us = series_p95;
    ts->fails = series_fails;
    return a;
}

static void fixture_free(goose_attack *a)
{
    goose__stats_free(&a->results.totals);
    free(a);
}

static json_t *parse(const char *text)
{
    ASSERT_NOT_NULL(text);
    json_error_t err;
    json_t *root = json_loads(text, 0, &err);
    if (!root)
        TEST_FAIL("report is not JSON: %s (line %d)", err.text, err.line);
    ASSERT(json_is_object(root));
    return root;
}

static json_int_t int_at(const json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    if (!json_is_integer(v))
        TEST_FAIL("\"%s\" is not an integer", key);
    return json_integer_value(v);
}

static double num_at(const json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    if (!json_is_number(v))
        TEST_FAIL("\"%s\" is not a number", key);
    return json_number_value(v);
}

static const char *str_at(const json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    if (!json_is_string(v))
        TEST_FAIL("\"%s\" is not a string", key);
    return json_string_value(v);
}

static json_t *request_at(const json_t *root, const char *method,
                          const char *name)
{
    size_t i;
    json_t *q;
    json_array_foreach(json_object_get(root, "requests"), i, q)
        if (strcmp(str_at(q, "method"), method) == 0 &&
            strcmp(str_at(q, "name"), name) == 0)
            return q;
    TEST_FAIL("no request %s %s in the report", method, name);
}

#define ASSERT_NEAR_PCT(v, want, pct)                                          \
    do {                                                                       \
        double v_ = (double)(v), w_ = (double)(want);                          \
        if (fabs(v_ - w_) > w_ * (pct) / 100.0)                                \
            TEST_FAIL("%s = %g, want %g within %g%%", #v, v_, w_,              \
                      (double)(pct));                                          \
    } while (0)

static char *line_with(const char *text, const char *needle);

/* The line of text that holds needle ends with end. */
static void line_ends(const char *text, const char *needle, const char *end)
{
    char *line = line_with(text, needle);
    size_t n = strlen(line), m = strlen(end);
    if (n < m || strcmp(line + n - m, end) != 0)
        TEST_FAIL("\"%s\" does not end with \"%s\"", line, end);
    free(line);
}

/* GET / over HTTP/1.1 (10) and HTTP/2 (990), GET /h2 all HTTP/2, GET /old
 * 3 answered over HTTP/1.0 and 1 not answered, POST /login no answer. */
static goose_attack *mixed_protocols(void)
{
    goose_attack *a = fixture_empty();
    goose_stats *s = &a->results.totals;
    for (int i = 0; i < 1000; i++)
        ASSERT_EQ(goose__stats_record_bytes(s, "GET", "/", 200, 1000, NULL, 0,
                                            i < 10 ? 2 : 3), 0);
    for (int i = 0; i < 5; i++)
        ASSERT_EQ(goose__stats_record_bytes(s, "GET", "/h2", 200, 1000, NULL, 0, 3), 0);
    for (int i = 0; i < 4; i++)
        ASSERT_EQ(goose__stats_record_bytes(s, "GET", "/old", i ? 200 : 0, 1000,
                                            i ? NULL : "timed out", 0, i ? 1 : 0), 0);
    for (int i = 0; i < 2; i++)
        ASSERT_EQ(goose__stats_record_bytes(s, "POST", "/login", 0, 7000,
                                            "connection refused", 0, 0), 0);
    return a;
}

TEST(protocols_mixed_in_every_format)
{
    goose_attack *a = mixed_protocols();
    char *text = goose__report_render(a, "json");
    json_t *root = parse(text), *p = json_object_get(request_at(root, "GET", "/"), "protocols");
    ASSERT_EQ(json_object_size(p), 2);
    ASSERT_EQ(int_at(p, "HTTP/1.1"), 10);
    ASSERT_EQ(int_at(p, "HTTP/2"), 990);
    p = json_object_get(request_at(root, "GET", "/old"), "protocols");
    ASSERT_EQ(json_object_size(p), 1);
    ASSERT_EQ(int_at(p, "HTTP/1.0"), 3);
    p = json_object_get(request_at(root, "POST", "/login"), "protocols");
    ASSERT(json_is_object(p));
    ASSERT_EQ(json_object_size(p), 0);
    p = json_object_get(json_object_get(root, "totals"), "protocols");
    ASSERT_EQ(json_object_size(p), 3);
    ASSERT_EQ(int_at(p, "HTTP/1.0"), 3);
    ASSERT_EQ(int_at(p, "HTTP/1.1"), 10);
    ASSERT_EQ(int_at(p, "HTTP/2"), 995);
    json_decref(root);
    goose_free(text);

    text = goose__report_render(a, "text");
    line_ends(text, "Protocols:", "Protocols:     HTTP/1.0 3 (0.3%), HTTP/1.1 10 (1%), "
                                  "HTTP/2 995 (98.4%), no answer 3 (0.3%)");
    goose_free(text);

    text = goose__report_render(a, "md");
    line_ends(text, "| GET / |", " | HTTP/1.1 10, HTTP/2 990 |");
    line_ends(text, "| GET /h2 |", " | HTTP/2 |");
    line_ends(text, "| GET /old |", " | HTTP/1.0 3 |");
    line_ends(text, "| POST /login |", " | - |");
    line_ends(text, "| **Aggregated** |", " | HTTP/1.0 3, HTTP/1.1 10, HTTP/2 995 |");
    goose_free(text);

    text = goose__report_render(a, "html");
    line_ends(text, ">GET /</td>", "<td class=\"text\">HTTP/1.1 10, HTTP/2 990</td></tr>");
    line_ends(text, ">POST /login</td>", "<td class=\"text\">-</td></tr>");
    goose_free(text);

    text = goose__report_render(a, "csv");
    line_ends(text, "Type,Name,", ",100%,HTTP/1.0 Requests,HTTP/1.1 Requests,HTTP/2 Requests");
    line_ends(text, "GET,/,1000,", ",0,10,990");
    line_ends(text, "POST,/login,2,", ",0,0,0");
    line_ends(text, ",Aggregated,", ",3,10,995");
    goose_free(text);

    text = goose__metrics_render(&a->results.totals, 0, "maintain");
    ASSERT(strstr(text, "\n# TYPE goose_requests_by_protocol_total counter\n"));
    ASSERT(strstr(text, "\ngoose_requests_by_protocol_total{method=\"GET\",name=\"/\","
                        "protocol=\"HTTP/1.1\"} 10\n"));
    ASSERT(strstr(text, "\ngoose_requests_by_protocol_total{method=\"GET\",name=\"/\","
                        "protocol=\"HTTP/2\"} 990\n"));
    ASSERT(strstr(text, "\ngoose_requests_by_protocol_total{method=\"GET\",name=\"/old\","
                        "protocol=\"HTTP/1.0\"} 3\n"));
    ASSERT_NULL(strstr(text, "name=\"/login\",protocol"));
    free(text);
    fixture_free(a);
}

TEST(json_requests)
{
    goose_attack *a = fixture();
    char *text = goose__report_render(a, "json");
    json_t *root = parse(text);

    ASSERT_STR_EQ(str_at(root, "goose_version"), GOOSE_VERSION_STRING);
    ASSERT_STR_EQ(str_at(root, "mode"), "standalone");
    ASSERT_STR_EQ(str_at(root, "started"), "2024-05-17T07:04:36Z");
    ASSERT_EQ(num_at(root, "duration_s"), 10);
    ASSERT_EQ(json_array_size(json_object_get(root, "requests")), 4);

    size_t i;
    json_t *q;
    json_array_foreach(json_object_get(root, "requests"), i, q)
        ASSERT_EQ(int_at(q, "count"), int_at(q, "success") + int_at(q, "fail"));

    q = request_at(root, "GET", "/");
    ASSERT_EQ(int_at(q, "count"), 100);
    ASSERT_EQ(int_at(q, "fail"), 0);
    ASSERT_NEAR_PCT(num_at(q, "rps"), 10.0, 0.001);
    json_t *rt = json_object_get(q, "response_time_us");
    ASSERT_EQ(int_at(rt, "min"), 1000);
    ASSERT_EQ(int_at(rt, "max"), 100000);
    ASSERT_NEAR_PCT(num_at(rt, "mean"), 50500, 0.001);
    ASSERT_NEAR_PCT(int_at(rt, "p50"), 50000, 1);
    ASSERT_NEAR_PCT(int_at(rt, "p90"), 90000, 1);
    ASSERT_NEAR_PCT(int_at(rt, "p95"), 95000, 1);
    ASSERT_NEAR_PCT(int_at(rt, "p99"), 99000, 1);
    ASSERT_NEAR_PCT(int_at(rt, "p999"), 100000, 1);
    json_t *codes = json_object_get(q, "status_codes");
    ASSERT_EQ(json_object_size(codes), 1);
    ASSERT_EQ(int_at(codes, "200"), 100);

    q = request_at(root, "GET", "/missing");
    ASSERT_EQ(int_at(q, "count"), 4);
    ASSERT_EQ(int_at(q, "fail"), 3);
    codes = json_object_get(q, "status_codes");
    ASSERT_EQ(int_at(codes, "200"), 1);
    ASSERT_EQ(int_at(codes, "404"), 3);

    /* transport errors are counted though no status came back */
    q = request_at(root, "POST", "/login");
    ASSERT_EQ(int_at(q, "count"), 7);
    ASSERT_EQ(int_at(q, "fail"), 2);
    ASSERT_EQ(int_at(json_object_get(q, "status_codes"), "200"), 5);

    json_t *tot = json_object_get(root, "totals");
    ASSERT_EQ(int_at(tot, "count"), 112);
    ASSERT_EQ(int_at(tot, "fail"), 5);
    ASSERT_EQ(int_at(tot, "count"), int_at(tot, "success") + int_at(tot, "fail"));
    ASSERT_NEAR_PCT(num_at(tot, "rps"), 11.2, 0.001);
    ASSERT_EQ(int_at(json_object_get(tot, "response_time_us"), "min"), 500);
    ASSERT_EQ(int_at(json_object_get(tot, "response_time_us"), "max"), 100000);
    ASSERT_EQ(int_at(json_object_get(tot, "status_codes"), "200"), 107);

    json_decref(root);
    free(text);
    fixture_free(a);
}

TEST(json_errors_scenarios_transactions)
{
    goose_attack *a = fixture();
    char *text = goose__report_render(a, "json");
    json_t *root = parse(text);

    json_t *errs = json_object_get(root, "errors");
    ASSERT_EQ(json_array_size(errs), 2);
    json_t *e = json_array_get(errs, 0);
    ASSERT_STR_EQ(str_at(e, "method"), "GET");
    ASSERT_STR_EQ(str_at(e, "name"), "/missing");
    ASSERT_STR_EQ(str_at(e, "error"), "404 Not Found");
    ASSERT_EQ(int_at(e, "count"), 3);
    e = json_array_get(errs, 1);
    ASSERT_STR_EQ(str_at(e, "error"), "connection refused");
    ASSERT_EQ(int_at(e, "count"), 2);

    json_t *sc = json_object_get(root, "scenarios");
    ASSERT_EQ(json_array_size(sc), 2);
    ASSERT_STR_EQ(str_at(json_array_get(sc, 0), "name"), "Browse");
    ASSERT_EQ(int_at(json_array_get(sc, 0), "users"), 7);
    ASSERT_EQ(int_at(json_array_get(sc, 0), "iterations"), 11);
    ASSERT_STR_EQ(str_at(json_array_get(sc, 1), "name"), "Api");
    ASSERT_EQ(int_at(json_array_get(sc, 1), "users"), 3);
    ASSERT_EQ(int_at(json_array_get(sc, 1), "iterations"), 5);

    json_t *tx = json_object_get(root, "transactions");
    ASSERT_EQ(json_array_size(tx), NTX);
    json_t *t = json_array_get(tx, 0);
    ASSERT_STR_EQ(str_at(t, "scenario"), "Browse");
    ASSERT_STR_EQ(str_at(t, "name"), "home");
    ASSERT_EQ(int_at(t, "count"), 11);
    ASSERT_EQ(int_at(t, "fail"), 1);
    ASSERT_NEAR_PCT(int_at(json_object_get(t, "response_time_us"), "p50"),
                    20000, 1);
    /* never run: listed, all zeros (not UINT64_MAX for the empty min) */
    t = json_array_get(tx, 1);
    ASSERT_STR_EQ(str_at(t, "name"), "about");
    ASSERT_EQ(int_at(t, "count"), 0);
    json_t *rt = json_object_get(t, "response_time_us");
    ASSERT_EQ(int_at(rt, "min"), 0);
    ASSERT_EQ(int_at(rt, "max"), 0);
    ASSERT_EQ(int_at(rt, "p99"), 0);
    ASSERT_EQ(num_at(rt, "mean"), 0);
    t = json_array_get(tx, 2);
    ASSERT_STR_EQ(str_at(t, "scenario"), "Api");
    ASSERT_EQ(int_at(t, "count"), 5);

    json_decref(root);
    free(text);
    fixture_free(a);
}

TEST(json_run_overview)
{
    goose_attack *a = fixture();
    char *text = goose__report_render(a, "json");
    json_t *root = parse(text);

    ASSERT_EQ(int_at(root, "users"), 10);
    ASSERT_EQ(int_at(root, "threads"), 2);
    ASSERT(json_is_true(json_object_get(root, "metrics_reset")));
    ASSERT_EQ(num_at(root, "reset_at_s"), 2);
    ASSERT_EQ(num_at(root, "elapsed_s"), 13);
    json_t *hosts_j = json_object_get(root, "hosts");
    ASSERT_EQ(json_array_size(hosts_j), 1);
    ASSERT_STR_EQ(json_string_value(json_array_get(hosts_j, 0)), host_a);

    json_t *ph = json_object_get(root, "phases");
    ASSERT_EQ(json_array_size(ph), 3);
    ASSERT_STR_EQ(str_at(json_array_get(ph, 0), "name"), "increase");
    ASSERT_EQ(int_at(json_array_get(ph, 0), "users_from"), 0);
    ASSERT_EQ(int_at(json_array_get(ph, 0), "users_to"), 10);
    ASSERT_EQ(num_at(json_array_get(ph, 1), "start_s"), 2);
    ASSERT_EQ(num_at(json_array_get(ph, 1), "end_s"), 12);
    ASSERT_STR_EQ(str_at(json_array_get(ph, 2), "name"), "decrease");

    json_t *ts = json_object_get(root, "timeseries");
    ASSERT_EQ(int_at(ts, "interval_s"), 1);
    const char *keys[] = {"users", "rps", "p95_us", "fails"};
    for (size_t i = 0; i < 4; i++)
        ASSERT_EQ(json_array_size(json_object_get(ts, keys[i])), 3);
    ASSERT_EQ(json_integer_value(json_array_get(json_object_get(ts, "users"), 1)),
              10);
    ASSERT_EQ(json_number_value(json_array_get(json_object_get(ts, "rps"), 1)) *
                  100, 1125);
    ASSERT_EQ(json_integer_value(json_array_get(json_object_get(ts, "p95_us"), 2)),
              96000);
    ASSERT_EQ(json_integer_value(json_array_get(json_object_get(ts, "fails"), 0)),
              1);

    /* the design's keys come in the design's order */
    const char *order[] = {"goose_version", "mode", "started", "duration_s",
                           "scenarios", "requests", "transactions", "errors",
                           "timeseries"};
    const char *prev = text;
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
        char quoted[64];
        snprintf(quoted, sizeof quoted, "\n  \"%s\":", order[i]);
        const char *at = strstr(text, quoted);
        if (!at || at < prev)
            TEST_FAIL("key %s missing or out of order", order[i]);
        prev = at;
    }

    json_decref(root);
    free(text);
    fixture_free(a);
}

TEST(json_empty_run)
{
    goose_attack *a = fixture_empty();
    char *text = goose__report_render(a, "json");
    json_t *root = parse(text);
    ASSERT_EQ(json_array_size(json_object_get(root, "requests")), 0);
    ASSERT_EQ(json_array_size(json_object_get(root, "errors")), 0);
    ASSERT_EQ(json_array_size(json_object_get(root, "transactions")), NTX);
    json_t *tot = json_object_get(root, "totals");
    ASSERT_EQ(int_at(tot, "count"), 0);
    ASSERT_EQ(num_at(tot, "rps"), 0);
    json_t *rt = json_object_get(tot, "response_time_us");
    ASSERT_EQ(int_at(rt, "min"), 0);
    ASSERT_EQ(int_at(rt, "max"), 0);
    ASSERT_EQ(int_at(rt, "p50"), 0);
    ASSERT_EQ(json_array_size(json_object_get(json_object_get(root, "timeseries"),
                                              "users")), 0);
    json_decref(root);
    free(text);
    fixture_free(a);
}

/* The line of `text` that starts with `prefix` after `from`, as a copy. */
static char *line_with(const char *text, const char *needle)
{
    const char *at = strstr(text, needle);
    if (!at)
        TEST_FAIL("report has no \"%s\"", needle);
    const char *start = at;
    while (start > text && start[-1] != '\n')
        start--;
    const char *end = strchr(at, '\n');
    size_t n = end ? (size_t)(end - start) : strlen(start);
    char *line = malloc(n + 1);
    ASSERT_NOT_NULL(line);
    memcpy(line, start, n);
    line[n] = '\0';
    return line;
}

/* The table whose header line holds `needle`: each of its lines puts its
 * '|' (or, on a rule, '+') at the same columns as the header does. */
static void check_aligned(const char *text, const char *needle)
{
    const char *head = strstr(text, needle);
    if (!head)
        TEST_FAIL("report has no table with \"%s\"", needle);
    while (head > text && head[-1] != '\n')
        head--;
    size_t headlen = strcspn(head, "\n");
    size_t rows = 0;
    for (const char *p = head; *p && *p != '\n'; rows++) {
        size_t len = strcspn(p, "\n");
        /* the rule under the header is all dashes, as in Goose */
        int plain_rule = strspn(p, "-") == len;
        for (size_t i = 0; !plain_rule && (i < len || i < headlen); i++) {
            int h = i < headlen && head[i] == '|';
            int c = i < len && (p[i] == '|' || p[i] == '+');
            if (h != c)
                TEST_FAIL("column %zu of \"%.*s\" is out of line with \"%.*s\"",
                          i, (int)len, p, (int)headlen, head);
        }
        p += len + (p[len] == '\n');
    }
    ASSERT_GE(rows, 3); /* header, rule, Aggregated at least */
}

static void assert_cells(const char *line, const char *const *cells, size_t n)
{
    const char *p = line;
    for (size_t i = 0; i < n; i++) {
        while (*p == ' ' || *p == '|')
            p++;
        size_t len = strlen(cells[i]);
        if (strncmp(p, cells[i], len) != 0 ||
            (p[len] != ' ' && p[len] != '\0'))
            TEST_FAIL("cell %zu of \"%s\" is not \"%s\"", i, line, cells[i]);
        p += len;
    }
}

#define ASSERT_ROW(text, needle, ...)                                          \
    do {                                                                       \
        const char *cells_[] = {__VA_ARGS__};                                  \
        char *line_ = line_with((text), (needle));                             \
        assert_cells(line_, cells_, sizeof cells_ / sizeof cells_[0]);         \
        free(line_);                                                           \
    } while (0)

TEST(text_sections_and_rows)
{
    goose_attack *a = fixture();
    char *text = goose__report_render(a, "text");
    ASSERT_NOT_NULL(text);
    const char *headings[] = {
        "=== PER REQUEST METRICS ===", "=== STATUS CODES ===",
        "=== PER TRANSACTION METRICS ===", "=== SCENARIOS ===",
        "=== ERRORS ===", "=== OVERVIEW ==="};
    const char *prev = text;
    for (size_t i = 0; i < 6; i++) {
        const char *at = strstr(text, headings[i]);
        if (!at || at < prev)
            TEST_FAIL("heading %s missing or out of order", headings[i]);
        prev = at;
    }

    /* the first row of each is in the counts table */
    ASSERT_ROW(text, "GET /    ", "GET", "/", "100", "0", "(0%)", "10.00",
               "0.00");
    ASSERT_ROW(text, "GET /missing", "GET", "/missing", "4", "3", "(75%)",
               "0.40", "0.30");
    ASSERT_ROW(text, "POST /login", "POST", "/login", "7", "2", "(28.6%)");
    ASSERT_ROW(text, "Aggregated", "Aggregated", "112", "5", "(4.5%)",
               "11.20", "0.50");
    /* times: Avg 50.5 ms -> 50 (integer from 10 ms), Min 1.00, Max 100 */
    char *times = strstr(text, "Avg (ms)");
    ASSERT_NOT_NULL(times);
    ASSERT_ROW(times, "GET /    ", "GET", "/", "50", "1.00", "100", "50");
    ASSERT_ROW(times, "POST /login", "POST", "/login", "2.36", "0.50", "7.00",
               "0.50");
    char *pcts = strstr(text, "99.9%");
    ASSERT_NOT_NULL(pcts);
    ASSERT_ROW(pcts, "GET /    ", "GET", "/", "50", "75", "90", "95", "99",
               "100");

    ASSERT_NOT_NULL(strstr(text, "200: 100"));
    ASSERT_NOT_NULL(strstr(text, "200: 1, 404: 3"));
    ASSERT_NOT_NULL(strstr(text, "200: 5, no response: 2"));
    ASSERT_NOT_NULL(strstr(text, "200: 107, 404: 3, no response: 2"));

    char *txt = strstr(text, "=== PER TRANSACTION METRICS ===");
    ASSERT_ROW(txt, "Browse/home", "Browse/home", "11", "1", "(9.1%)");
    ASSERT_ROW(txt, "Browse/about", "Browse/about", "0", "0", "(0%)", "0.00",
               "0.00", "0.00", "0.00");
    ASSERT_ROW(txt, "Api/status", "Api/status", "5", "0", "(0%)", "0.80");
    char *sc = strstr(text, "=== SCENARIOS ===");
    ASSERT_ROW(sc, "Browse", "Browse", "7", "11");
    ASSERT_ROW(sc, "Api", "Api", "3", "5");
    ASSERT_ROW(sc, "Aggregated", "Aggregated", "10", "16");
    char *er = strstr(text, "=== ERRORS ===");
    ASSERT_ROW(er, "404 Not Found", "3", "GET", "/missing", "404", "Not",
               "Found");
    ASSERT_ROW(er, "connection refused", "2", "POST", "/login");

    char *ov = strstr(text, "=== OVERVIEW ===");
    ASSERT_ROW(ov, "increase", "increase", "0.0s", "2.0s", "2.0s", "0", "->",
               "10");
    ASSERT_ROW(ov, "maintain", "maintain", "2.0s", "12.0s", "10.0s", "10");
    ASSERT_ROW(ov, "decrease", "decrease", "12.0s", "13.0s", "1.0s", "10",
               "->", "0");
    ASSERT_NOT_NULL(strstr(ov, "2024-05-17T07:04:36Z"));
    ASSERT_NOT_NULL(strstr(ov, "Threads:       2"));
    ASSERT_NOT_NULL(strstr(ov, "Users:         10"));
    ASSERT_NOT_NULL(strstr(ov, "Metrics reset: yes"));
    /* the shared host once */
    char *hl = line_with(ov, "Target hosts:");
    ASSERT_NOT_NULL(strstr(hl, host_a));
    ASSERT_NULL(strstr(strstr(hl, host_a) + 1, host_a));
    free(hl);

    free(text);
    fixture_free(a);
}

TEST(text_alignment_and_truncation)
{
    goose_attack *a = fixture();
    char *text = goose__report_render(a, "text");
    ASSERT_NOT_NULL(text);
    ASSERT_NULL(strstr(text, LONG_NAME));
    /* 40 columns: 38 of the name, then ".." */
    ASSERT_NOT_NULL(strstr(text, "GET /a/very/long/path/that/must/be/tru.. | "));
    const char *tables[] = {"# reqs", "Avg (ms)", "99.9%", "Status codes",
                            "# times run", "# iterations", "Method", "Phase"};
    for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++)
        check_aligned(text, tables[i]);
    /* no trailing blanks */
    ASSERT_NULL(strstr(text, " \n"));
    free(text);
    fixture_free(a);
}

/* A long UTF-8 name is cut between characters, and control characters
 * cannot break the layout. */
TEST(text_names_utf8_and_control)
{
    goose_attack *a = fixture_empty();
    goose_stats *s = &a->results.totals;
    char e40[81] = "";
    for (int i = 0; i < 40; i++)
        strcat(e40, "\xc3\xa9");
    ASSERT_EQ(goose__stats_record(s, "GET", e40, 200, 100, NULL), 0);
    ASSERT_EQ(goose__stats_record(s, "GET", "/a\nb", 200, 100, NULL), 0);
    char *text = goose__report_render(a, "text");
    ASSERT_NOT_NULL(text);
    /* "GET " + 34 characters + ".." */
    char want[96] = "GET ";
    memcpy(want + 4, e40, 68);
    strcpy(want + 72, "..");
    ASSERT_NOT_NULL(strstr(text, want));
    ASSERT_NOT_NULL(strstr(text, "GET /a?b"));
    free(text);
    fixture_free(a);
}

TEST(text_no_run)
{
    goose_attack *a = fixture_empty();
    a->results.valid = 0;
    char *text = goose__report_render(a, "text");
    ASSERT_NOT_NULL(text);
    ASSERT_NOT_NULL(strstr(text, "No load test run has completed"));
    ASSERT_NULL(strstr(text, "==="));
    free(text);
    fixture_free(a);
}

TEST(text_errors_only_when_any)
{
    goose_attack *a = fixture_empty();
    ASSERT_EQ(goose__stats_record(&a->results.totals, "GET", "/", 200, 1500,
                                  NULL), 0);
    a->results.metrics_reset = 0;
    char *text = goose__report_render(a, "text");
    ASSERT_NOT_NULL(text);
    ASSERT_NULL(strstr(text, "=== ERRORS ==="));
    ASSERT_NOT_NULL(strstr(text, "Metrics reset: no"));
    ASSERT_ROW(text, "GET /", "GET", "/", "1", "0", "(0%)", "0.10", "0.00");
    free(text);
    fixture_free(a);
}

TEST(running_table)
{
    goose_attack *a = fixture();
    char *text = goose__report_running(&a->results.totals, 5.0, 10);
    ASSERT_NOT_NULL(text);
    ASSERT_EQ(strncmp(text, "--- running metrics: 5s elapsed, 10 users ---\n",
                      46), 0);
    ASSERT_ROW(text, "GET /    ", "GET", "/", "100", "0", "(0%)", "20.00",
               "50");
    ASSERT_ROW(text, "POST /login", "POST", "/login", "7", "2", "(28.6%)",
               "1.40", "2.36", "7.00");
    ASSERT_ROW(text, "Aggregated", "Aggregated", "112", "5", "(4.5%)",
               "22.40");
    check_aligned(text, "# reqs");
    free(text);

    /* nothing measured yet, and no time elapsed: no division by zero */
    goose_stats empty;
    ASSERT_EQ(goose__stats_init(&empty, 0, 0), 0);
    text = goose__report_running(&empty, 0.0, 0);
    ASSERT_NOT_NULL(text);
    ASSERT_ROW(text, "Aggregated", "Aggregated", "0", "0", "(0%)", "0.00",
               "0.00", "0.00");
    free(text);
    goose__stats_free(&empty);
    fixture_free(a);
}

TEST(write_files)
{
    char dir[] = "/tmp/goose-report-XXXXXX";
    ASSERT_NOT_NULL(mkdtemp(dir));
    char path[128], missing[128], tmp[160];
    snprintf(path, sizeof path, "%s/report.json", dir);
    snprintf(missing, sizeof missing, "%s/no/such/dir/report.json", dir);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);

    goose_attack *a = fixture();
    char *files[1] = {path};
    a->opt.report_files = files;
    a->opt.nreport_files = 1;
    ASSERT_EQ(goose__report_write_files(a), GOOSE_OK);
    json_error_t err;
    json_t *root = json_load_file(path, 0, &err);
    if (!root)
        TEST_FAIL("%s: %s", path, err.text);
    ASSERT_EQ(int_at(json_object_get(root, "totals"), "count"), 112);
    json_decref(root);
    ASSERT_NE(access(tmp, F_OK), 0); /* renamed, not left behind */

    /* written again: replaced whole */
    ASSERT_EQ(goose__report_write_files(a), GOOSE_OK);
    root = json_load_file(path, 0, &err);
    ASSERT_NOT_NULL(root);
    json_decref(root);

    files[0] = missing;
    ASSERT_EQ(goose__report_write_files(a), GOOSE_EIO);
    ASSERT_NOT_NULL(strstr(a->error, "cannot write report"));
    ASSERT_NOT_NULL(strstr(a->error, missing));
    ASSERT_NOT_NULL(strstr(a->error, "No such file"));

    a->opt.nreport_files = 0; /* nothing asked for: nothing to do */
    ASSERT_EQ(goose__report_write_files(a), GOOSE_OK);

    a->opt.report_files = NULL;
    fixture_free(a);
    ASSERT_EQ(unlink(path), 0);
    ASSERT_EQ(rmdir(dir), 0);
}

/* The HTML options table shows each given option as its row of the option
 * table says (a flag on or off, a duration, a list, a secret never), and
 * nothing of the options not given. */
TEST(html_options_as_their_rows_say)
{
    static const char *const set[][2] = {
        {"host", "http://127.0.0.1:8080/<x>"}, {"users", "7"}, {"hatch-rate", "2.5"},
        {"run-time", "1h30m"}, {"iterations", "12"}, {"stop-timeout", "5s"},
        {"timeout", "1500ms"}, {"co-mitigation", "average"}, {"no-print-metrics", "false"},
        {"report-file", "/tmp/a.json"}, {"report-file", "/tmp/b.md"},
        {"request-format", "csv"}, {"log-format", "json"}, {"threshold", "p95<200ms"},
        {"threshold", "GET /:fail_rate<1%"}, {"verbose", NULL}, {"verbose", NULL},
        {"stack-size", "128k"}, {"local-address", "127.0.0.1-127.0.0.9"},
        {"manager-port", "6001"}, {"gaggle-key", "0123456789abcdef0123"},
    };
    static const char *const shown[][2] = {
        {"host", "http://127.0.0.1:8080/&lt;x&gt;"}, {"users", "7"},
        {"hatch-rate", "2.5 users/s"}, {"run-time", "1h30m"}, {"iterations", "12"},
        {"stop-timeout", "(given)"}, {"timeout", "1500ms"}, {"co-mitigation", "average"},
        {"no-print-metrics", "off"}, {"report-file", "/tmp/a.json, /tmp/b.md"},
        {"request-format", "csv"}, {"log-format", "json"},
        {"threshold", "<code>p95&lt;200ms</code>, <code>GET /:fail_rate&lt;1%</code>"},
        {"verbose", "2"}, {"stack-size", "128k"},
        {"local-address", "9 addresses, 127.0.0.1 &hellip; 127.0.0.9"},
        {"manager-port", "6001"}, {"gaggle-key", "(set; never shown)"},
    };
    goose_attack *a = fixture_empty();
    goose__options_init(&a->opt);
    char err[300];
    for (size_t i = 0; i < sizeof set / sizeof set[0]; i++)
        if (goose__option_set(&a->opt, set[i][0], set[i][1], err, sizeof err) != GOOSE_OK)
            TEST_FAIL("--%s: %s", set[i][0], err);
    char *html = goose__report_render(a, "html");
    ASSERT_NOT_NULL(html);
    for (size_t i = 0; i < sizeof shown / sizeof shown[0]; i++) {
        char row[400];
        snprintf(row, sizeof row, "<code>--%s</code></td><td class=\"name\">%s</td>",
                 shown[i][0], shown[i][1]);
        if (!strstr(html, row))
            TEST_FAIL("no row %s", row);
    }
    ASSERT_NULL(strstr(html, "0123456789abcdef"));
    ASSERT_NULL(strstr(html, "<code>--threads</code>"));
    free(html);
    goose__options_free(&a->opt);
    fixture_free(a);
}

TEST_MAIN(TEST_ENTRY(json_requests), TEST_ENTRY(protocols_mixed_in_every_format),
          TEST_ENTRY(json_errors_scenarios_transactions),
          TEST_ENTRY(json_run_overview), TEST_ENTRY(json_empty_run),
          TEST_ENTRY(text_sections_and_rows),
          TEST_ENTRY(text_alignment_and_truncation),
          TEST_ENTRY(text_names_utf8_and_control), TEST_ENTRY(text_no_run),
          TEST_ENTRY(text_errors_only_when_any), TEST_ENTRY(running_table),
          TEST_ENTRY(write_files), TEST_ENTRY(html_options_as_their_rows_say))
