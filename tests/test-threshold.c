/* Thresholds (--threshold, --threshold-abort): the parser and its messages,
 * evaluation on hand-made totals, every report format, and real runs:
 * standalone processes, an embedded goose_attack_run, and a Gaggle of one
 * Manager and two Workers, each with the exit status it must have. */
#include "gaggle.h"

#include <math.h>
#include <time.h>

/* ---- parsing ---- */

static const struct {
    const char *expr;
    const char *key;
    const char *metric;
    goose_th_metric kind;
    goose_th_op op;
    double limit;
    double quantile;
} VALID[] = {
    {"p95<200ms", NULL, "p95", GOOSE_TH_PERCENTILE, GOOSE_TH_LT, 200000, 0.95},
    {"GET /:p99<1s", "GET /", "p99", GOOSE_TH_PERCENTILE, GOOSE_TH_LT, 1e6, 0.99},
    {" fail_rate < 1% ", NULL, "fail_rate", GOOSE_TH_FAIL_RATE, GOOSE_TH_LT, 0.01, 0},
    {"rps>1000", NULL, "rps", GOOSE_TH_RPS, GOOSE_TH_GT, 1000, 0},
    {"login:fail_rate==0", "login", "fail_rate", GOOSE_TH_FAIL_RATE, GOOSE_TH_EQ, 0, 0},
    {"p99.9<=1.5s", NULL, "p99.9", GOOSE_TH_PERCENTILE, GOOSE_TH_LE, 1.5e6, 0.999},
    {"p999<2s", NULL, "p999", GOOSE_TH_PERCENTILE, GOOSE_TH_LT, 2e6, 0.999},
    {"p9999<3s", NULL, "p9999", GOOSE_TH_PERCENTILE, GOOSE_TH_LT, 3e6, 0.9999},
    {"p995<3s", NULL, "p995", GOOSE_TH_PERCENTILE, GOOSE_TH_LT, 3e6, 0.995},
    {"p50 >= 500us", NULL, "p50", GOOSE_TH_PERCENTILE, GOOSE_TH_GE, 500, 0.5},
    {"p100<1h", NULL, "p100", GOOSE_TH_PERCENTILE, GOOSE_TH_LT, 3600e6, 1},
    {"p5>1.5", NULL, "p5", GOOSE_TH_PERCENTILE, GOOSE_TH_GT, 1500, 0.05},
    {"mean!=3", NULL, "avg", GOOSE_TH_AVG, GOOSE_TH_NE, 3000, 0},
    {"avg<=2.5ms", NULL, "avg", GOOSE_TH_AVG, GOOSE_TH_LE, 2500, 0},
    {"/a:b :p75<1", "/a:b", "p75", GOOSE_TH_PERCENTILE, GOOSE_TH_LT, 1000, 0.75},
    {"/search?q=a=b:max<1m", "/search?q=a=b", "max", GOOSE_TH_MAX, GOOSE_TH_LT, 60e6, 0},
    {"min>0", NULL, "min", GOOSE_TH_MIN, GOOSE_TH_GT, 0, 0},
    {"count>=10", NULL, "count", GOOSE_TH_COUNT, GOOSE_TH_GE, 10, 0},
    {"Writer/log in:fails<5", "Writer/log in", "fails", GOOSE_TH_FAILS, GOOSE_TH_LT, 5, 0},
    {"fail_rate<=0.5", NULL, "fail_rate", GOOSE_TH_FAIL_RATE, GOOSE_TH_LE, 0.5, 0},
    {"rps>=12.5", NULL, "rps", GOOSE_TH_RPS, GOOSE_TH_GE, 12.5, 0},
};

TEST(parse_valid)
{
    for (size_t i = 0; i < sizeof VALID / sizeof VALID[0]; i++) {
        goose_threshold t;
        char err[256] = "";
        if (goose__threshold_parse(VALID[i].expr, &t, err, sizeof err) != GOOSE_OK)
            TEST_FAIL("\"%s\" refused: %s", VALID[i].expr, err);
        if (VALID[i].key)
            ASSERT_STR_EQ(t.key, VALID[i].key);
        else if (t.key)
            TEST_FAIL("\"%s\": key \"%s\", want none", VALID[i].expr, t.key);
        ASSERT_STR_EQ(t.metric, VALID[i].metric);
        ASSERT_EQ(t.kind, VALID[i].kind);
        ASSERT_EQ(t.op, VALID[i].op);
        if (fabs(t.limit - VALID[i].limit) > 1e-9 * fmax(1, VALID[i].limit))
            TEST_FAIL("\"%s\": limit %g, want %g", VALID[i].expr, t.limit, VALID[i].limit);
        if (t.kind == GOOSE_TH_PERCENTILE && fabs(t.quantile - VALID[i].quantile) > 1e-12)
            TEST_FAIL("\"%s\": quantile %g, want %g", VALID[i].expr, t.quantile,
                      VALID[i].quantile);
        goose__threshold_free(&t);
    }
}

static const struct {
    const char *expr;
    const char *message; /* after --threshold "EXPR": */
} MALFORMED[] = {
    {"p95<abc", "\"abc\" is not a duration"},
    {"p95<1%", "\"1%\" is not a duration"},
    {"p95<200 ms", "\"200 ms\" is not a duration"},
    {"p95 200ms", "no comparison"},
    {"p95=200ms", "\"=\" is not a comparison"},
    {"p95=<1s", "\"=<\" is not a comparison"},
    {"foo<1s", "unknown metric \"foo\""},
    {"GET /:p95x<1s", "unknown metric \"p95x\""},
    {"p0<1s", "unknown metric \"p0\""},
    {"p101<1s", "unknown metric \"p101\""},
    {"p1000<1s", "unknown metric \"p1000\""},
    {"P95<1s", "unknown metric \"P95\""},
    {"<1s", "no metric before \"<\""},
    {"p95<", "no value after \"<\""},
    {":p95<1s", "no request or transaction name before \":\""},
    {"GET /:<1s", "no metric after \"GET /:\""},
    {"fail_rate<200ms", "\"200ms\" is not a rate"},
    {"fail_rate<5", "\"5\" is above 1: write 5% for a percentage"},
    {"fail_rate<150%", "\"150%\" is above 100%"},
    {"rps>5ms", "\"5ms\" is not a number of requests per second"},
    {"count>1.5", "\"1.5\" is not a whole number"},
    {"fails<-1", "\"-1\" is not a whole number"},
    {"", "empty"},
    {"   ", "empty"},
};

TEST(parse_malformed_names_the_bad_part)
{
    for (size_t i = 0; i < sizeof MALFORMED / sizeof MALFORMED[0]; i++) {
        goose_threshold t;
        char err[256] = "", want[128];
        const char *expr = MALFORMED[i].expr;
        if (goose__threshold_parse(expr, &t, err, sizeof err) != GOOSE_EVALUE)
            TEST_FAIL("\"%s\" accepted", expr);
        /* the message quotes the expression as given, spaces trimmed */
        char trimmed[64];
        size_t a = strspn(expr, " "), n = strlen(expr + a);
        while (n && expr[a + n - 1] == ' ')
            n--;
        snprintf(trimmed, sizeof trimmed, "%.*s", (int)n, expr + a);
        snprintf(want, sizeof want, "--threshold \"%s\": ", trimmed);
        if (strncmp(err, want, strlen(want)) != 0 || !strstr(err, MALFORMED[i].message))
            TEST_FAIL("\"%s\": message \"%s\", want \"%s%s...\"", expr, err, want,
                      MALFORMED[i].message);
        ASSERT_NULL(strchr(err, '\n')); /* one line */
        ASSERT_NULL(t.expr);            /* nothing left to free */
    }
}

TEST(set_option_repeats_and_refuses)
{
    goose_attack *a = goose_attack_new();
    ASSERT_EQ(goose_attack_set_option(a, "threshold", "p95<abc"), GOOSE_EVALUE);
    ASSERT_STR_EQ(goose_attack_error(a),
                  "--threshold \"p95<abc\": \"abc\" is not a duration (like 200ms, 1.5s or "
                  "500us; a bare number is milliseconds)");
    ASSERT_EQ(goose_attack_set_option(a, "threshold", NULL), GOOSE_EVALUE);
    ASSERT_EQ(goose_attack_set_option(a, "threshold", "p95<200ms"), GOOSE_OK);
    ASSERT_EQ(goose_attack_set_option(a, "threshold", "GET /:fail_rate<1%"), GOOSE_OK);
    ASSERT_EQ(a->opt.nthresholds, 2); /* repeatable: each call adds one */
    ASSERT_STR_EQ(a->opt.thresholds[1].key, "GET /");
    ASSERT_EQ(a->opt.threshold_abort, 0);
    ASSERT_EQ(goose_attack_set_option(a, "threshold-abort", NULL), GOOSE_OK);
    ASSERT_EQ(a->opt.threshold_abort, 1);
    ASSERT_EQ(goose_attack_set_option(a, "threshold-abort", "maybe"), GOOSE_EVALUE);
    ASSERT(strcmp(goose_strerror(GOOSE_ETHRESHOLD), "unknown error") != 0);
    ASSERT_EQ(GOOSE_ETHRESHOLD, -12);
    goose_attack_free(a);
}

/* ---- evaluating hand-made totals ---- */

static void add_tx(goose_results *r, size_t i, const char *scenario, const char *name)
{
    r->txs[i].scenario = strdup(scenario);
    r->txs[i].name = strdup(name);
}

/* Ten seconds measured.  GET /: 100 answers of 1..100 ms; POST /: one
 * failure in 5 ms; GET /missing: 1 x 200 in 2 ms, 3 x 404 in 3 ms.
 * Transactions Browse/home (10 + 1 failed), Browse/about (never run),
 * Api/home (5 in 0.8 ms). */
static goose_attack *fixture(const char *const *thresholds, size_t n)
{
    goose_attack *a = goose_attack_new();
    for (size_t i = 0; i < n; i++)
        set(a, "threshold", thresholds[i]);
    goose_results *r = &a->results;
    goose_stats *s = &r->totals;
    ASSERT_EQ(goose__stats_init(s, 3, 0), 0);
    r->txs = calloc(3, sizeof *r->txs);
    ASSERT_NOT_NULL(r->txs);
    r->ntxs = 3;
    add_tx(r, 0, "Browse", "home");
    add_tx(r, 1, "Browse", "about");
    add_tx(r, 2, "Api", "home");
    for (uint64_t i = 1; i <= 100; i++)
        ASSERT_EQ(goose__stats_record(s, "GET", "/", 200, i * 1000, NULL), 0);
    ASSERT_EQ(goose__stats_record(s, "POST", "/", 500, 5000, "500 Internal Server Error"), 0);
    ASSERT_EQ(goose__stats_record(s, "GET", "/missing", 200, 2000, NULL), 0);
    for (int i = 0; i < 3; i++)
        ASSERT_EQ(goose__stats_record(s, "GET", "/missing", 404, 3000, "404 Not Found"), 0);
    for (int i = 0; i < 10; i++)
        goose__stats_record_tx(s, 0, 1, 20000);
    goose__stats_record_tx(s, 0, 0, 40000);
    for (int i = 0; i < 5; i++)
        goose__stats_record_tx(s, 2, 1, 800);
    r->valid = 1;
    r->duration_s = 10;
    r->elapsed_s = 12;
    return a;
}

static const struct {
    const char *expr;
    int pass;
    int measured;
    double observed; /* checked when measured */
    double tolerance; /* relative */
} CASES[] = {
    {"p95<200ms", 1, 1, 95000, 0.02},
    {"GET /:p95<90ms", 0, 1, 95000, 0.01},
    {"GET /:count==100", 1, 1, 100, 0},
    {"/:count==101", 1, 1, 101, 0},  /* a name alone: every method */
    {"/:fails==1", 1, 1, 1, 0},
    {"POST /:p50!=5ms", 0, 1, 5000, 0.01},
    {"/missing:fail_rate<50%", 0, 1, 0.75, 0},
    {"/missing:fail_rate==75%", 1, 1, 0.75, 0},
    {"fail_rate<=4%", 1, 1, 4.0 / 105, 1e-9},
    {"fails>=4", 1, 1, 4, 0},
    {"count!=105", 0, 1, 105, 0},
    {"rps>=10.5", 1, 1, 10.5, 1e-9},  /* 105 requests in 10 s */
    {"rps>10.5", 0, 1, 10.5, 1e-9},
    {"GET /:min>=1ms", 1, 1, 1000, 0},
    {"GET /:min>1ms", 0, 1, 1000, 0},
    {"GET /:max<=100ms", 1, 1, 100000, 0},
    {"GET /:avg==50.5ms", 1, 1, 50500, 1e-9},
    {"p99.9<=100ms", 1, 1, 100000, 0.01},
    {"home:count==16", 1, 1, 16, 0},  /* both transactions named home */
    {"Browse/home:fail_rate<10%", 1, 1, 1.0 / 11, 1e-9},
    {"Browse/home:max==40ms", 1, 1, 40000, 0},
    {"Api/home:avg<1ms", 1, 1, 800, 1e-9},
    {"about:count==0", 1, 1, 0, 0},
    {"about:p95<1s", 0, 0, 0, 0},
    {"GET/missing:p95<1s", 0, 0, 0, 0}, /* a slip: names the request meant */
    {"nosuch:p95<1s", 0, 0, 0, 0},
    {"nosuch:count==0", 0, 0, 0, 0},
};
#define NCASES (sizeof CASES / sizeof CASES[0])

static goose_attack *evaluated_fixture(void)
{
    const char *exprs[NCASES];
    for (size_t i = 0; i < NCASES; i++)
        exprs[i] = CASES[i].expr;
    goose_attack *a = fixture(exprs, NCASES);
    ASSERT_EQ(goose__thresholds_evaluate(a), GOOSE_OK);
    ASSERT_EQ(a->results.nthresholds, NCASES);
    return a;
}

TEST(evaluate_selects_and_compares)
{
    goose_attack *a = evaluated_fixture();
    for (size_t i = 0; i < NCASES; i++) {
        const goose_threshold_result *r = &a->results.thresholds[i];
        ASSERT_STR_EQ(r->t.expr, CASES[i].expr);
        if (r->pass != CASES[i].pass || r->measured != CASES[i].measured)
            TEST_FAIL("%s: pass %d measured %d (observed %g, %s), want pass %d measured %d",
                      CASES[i].expr, r->pass, r->measured, r->observed, r->reason,
                      CASES[i].pass, CASES[i].measured);
        double want = CASES[i].observed;
        if (r->measured && fabs(r->observed - want) > CASES[i].tolerance * want)
            TEST_FAIL("%s: observed %g, want %g", CASES[i].expr, r->observed, want);
        if (!r->measured && !r->reason[0])
            TEST_FAIL("%s: not measured and no reason", CASES[i].expr);
        ASSERT_EQ(r->aborted, 0);
    }
    const goose_threshold_result *r = a->results.thresholds;
    ASSERT_STR_EQ(r[NCASES - 4].reason, "no transactions named \"about\" to measure");
    ASSERT_STR_EQ(r[NCASES - 2].reason, "no requests or transactions named \"nosuch\"");
    ASSERT_STR_EQ(r[NCASES - 3].reason, "no requests or transactions named \"GET/missing\" "
                                        "(did you mean \"GET /missing\"?)");
    goose_attack_free(a);
}

/* p99.9 is the report's p999 (99.9 / 100 in doubles is one rank further
 * at 1000 samples), and counts compare exactly even past 2^30. */
TEST(percentiles_and_counts_are_exact)
{
    const char *exprs[] = {"p99.9<1s", "p999<1s", "count>1000000000", "count<1000000002",
                           "count==1000000000"};
    goose_attack *a = goose_attack_new();
    for (size_t i = 0; i < 5; i++)
        set(a, "threshold", exprs[i]);
    goose_results *r = &a->results;
    ASSERT_EQ(goose__stats_init(&r->totals, 0, 0), 0);
    for (uint64_t i = 1; i <= 1000; i++)
        ASSERT_EQ(goose__stats_record(&r->totals, "GET", "/", 200, i * 1000, NULL), 0);
    uint64_t p999 = goose__hist_percentile(&r->totals.all, 0.999);
    r->totals.requests = 1000000001; /* as after a long run */
    r->valid = 1;
    r->duration_s = 10;
    ASSERT_EQ(goose__thresholds_evaluate(a), GOOSE_OK);
    ASSERT(p999 < 1000000);
    ASSERT_EQ(r->thresholds[0].observed, (double)p999);
    ASSERT_EQ(r->thresholds[0].pass, 1);
    ASSERT_EQ(r->thresholds[1].pass, 1);
    ASSERT_EQ(r->thresholds[2].pass, 1);
    ASSERT_EQ(r->thresholds[3].pass, 1);
    ASSERT_EQ(r->thresholds[4].pass, 0);
    goose_attack_free(a);
}

TEST(verdict_names_the_failures)
{
    static const char *const all_pass[] = {"p95<200ms", "count>100"};
    goose_attack *a = fixture(all_pass, 2);
    ASSERT_EQ(goose__thresholds_evaluate(a), GOOSE_OK);
    ASSERT_EQ(goose__thresholds_verdict(a, GOOSE_OK), GOOSE_OK);
    goose_attack_free(a);

    static const char *const one_fails[] = {"p95<200ms", "GET /:p95<90ms", "count>100"};
    a = fixture(one_fails, 3);
    ASSERT_EQ(goose__thresholds_evaluate(a), GOOSE_OK);
    ASSERT_EQ(goose__thresholds_verdict(a, GOOSE_OK), GOOSE_ETHRESHOLD);
    ASSERT_STR_EQ(goose_attack_error(a), "1 of 3 thresholds failed: GET /:p95<90ms");
    /* a run that failed otherwise keeps its own error */
    ASSERT_EQ(goose__thresholds_verdict(a, GOOSE_EIO), GOOSE_EIO);
    goose_attack_free(a);

    a = fixture(NULL, 0); /* no thresholds: nothing to say */
    ASSERT_EQ(goose__thresholds_evaluate(a), GOOSE_OK);
    ASSERT_EQ(a->results.nthresholds, 0);
    ASSERT_EQ(goose__thresholds_verdict(a, GOOSE_OK), GOOSE_OK);
    goose_attack_free(a);
}

TEST(abort_only_on_failures_the_run_cannot_undo)
{
    /* counts only grow: count>1000 may still come true; a missing name
     * may still appear */
    static const char *const later[] = {"count>1000", "fails>=100", "nosuch:p95<1us",
                                        "about:p95<1us", "fails==200"};
    goose_attack *a = fixture(later, 5);
    ASSERT_EQ(goose__thresholds_abort_due(a, 10, 12), 0);
    ASSERT_EQ(a->results.aborted, 0);
    goose_attack_free(a);

    static const char *const now[] = {"count>1000", "fails<2"};
    a = fixture(now, 2);
    ASSERT_EQ(goose__thresholds_abort_due(a, 10, 12), 1);
    ASSERT_EQ(a->results.aborted, 1);
    ASSERT_EQ(a->results.aborted_by, 1);
    ASSERT_EQ(a->results.aborted_observed, 4);
    goose_attack_free(a);

    static const char *const rates[] = {"fails==3", "GET /:p95<90ms"};
    a = fixture(rates, 2);
    ASSERT_EQ(goose__thresholds_abort_due(a, 10, 12), 1); /* 4 fails: == 3 never again */
    ASSERT_EQ(a->results.aborted_by, 0);
    goose_attack_free(a);
}

TEST(the_aborting_threshold_stays_failed)
{
    static const char *const exprs[] = {"count>=1", "p95<200ms"};
    goose_attack *a = fixture(exprs, 2);
    a->results.aborted = 1; /* as if count>=1 had stopped the run */
    a->results.aborted_by = 0;
    a->results.aborted_at_s = 3.5;
    a->results.aborted_observed = 0;
    ASSERT_EQ(goose__thresholds_evaluate(a), GOOSE_OK);
    const goose_threshold_result *r = a->results.thresholds;
    ASSERT_EQ(r[0].pass, 0);
    ASSERT_EQ(r[0].aborted, 1);
    ASSERT_STR_EQ(r[0].reason, "stopped the run at 3.5s, when count was 0");
    ASSERT_EQ(r[1].pass, 1);
    ASSERT_EQ(goose__thresholds_verdict(a, GOOSE_OK), GOOSE_ETHRESHOLD);
    ASSERT(strstr(goose_attack_error(a), "--threshold-abort"));
    goose_attack_free(a);
}

/* ---- every report format ---- */

static int count_lines(const char *s)
{
    int n = 0;
    for (; s && *s; s++)
        n += *s == '\n';
    return n;
}

TEST(reports_list_every_threshold)
{
    goose_attack *a = evaluated_fixture();
    a->results.aborted = 1;
    a->results.aborted_by = 1;
    a->results.aborted_at_s = 2;
    a->results.thresholds[1].aborted = 1;

    char *text = goose__report_render(a, "text");
    ASSERT_NOT_NULL(text);
    ASSERT(strstr(text, "=== THRESHOLDS ==="));
    ASSERT(strstr(text, "PASS   | p95<200ms"));
    ASSERT(strstr(text, "FAIL   | GET /:p95<90ms"));
    ASSERT(strstr(text, "no requests or transactions named \"nosuch\""));
    ASSERT(strstr(text, "stopped early (--threshold-abort)"));
    free(text);

    char *js = goose__report_render(a, "json");
    json_error_t err;
    json_t *j = json_loads(js, 0, &err);
    free(js);
    ASSERT_NOT_NULL(j);
    json_t *th = json_object_get(j, "thresholds");
    ASSERT_EQ(json_array_size(th), NCASES);
    json_t *first = json_array_get(th, 0), *second = json_array_get(th, 1);
    ASSERT_STR_EQ(json_string_value(json_object_get(first, "expression")), "p95<200ms");
    ASSERT(json_is_null(json_object_get(first, "key")));
    ASSERT_STR_EQ(json_string_value(json_object_get(first, "metric")), "p95");
    ASSERT_STR_EQ(json_string_value(json_object_get(first, "op")), "<");
    ASSERT_EQ(json_number_value(json_object_get(first, "limit")), 200000);
    ASSERT_STR_EQ(json_string_value(json_object_get(first, "unit")), "us");
    ASSERT(json_is_true(json_object_get(first, "pass")));
    ASSERT_STR_EQ(json_string_value(json_object_get(second, "key")), "GET /");
    ASSERT(json_is_false(json_object_get(second, "pass")));
    ASSERT_STR_EQ(json_string_value(json_object_get(j, "aborted_by")), "GET /:p95<90ms");
    json_t *count = json_array_get(th, 2); /* GET /:count==100: an integer */
    ASSERT(json_is_integer(json_object_get(count, "observed")));
    ASSERT_EQ(json_integer_value(json_object_get(count, "observed")), 100);
    json_t *missing = json_array_get(th, NCASES - 2);
    ASSERT(json_is_null(json_object_get(missing, "observed")));
    ASSERT(json_is_false(json_object_get(missing, "pass")));
    json_decref(j);

    char *md = goose__report_render(a, "md");
    ASSERT(md && strstr(md, "## Thresholds"));
    ASSERT(strstr(md, "| **FAIL** | GET /:p95<90ms |"));
    ASSERT(strstr(md, "| PASS | p95<200ms |"));
    free(md);

    char *html = goose__report_render(a, "html");
    ASSERT(html && strstr(html, "<section id=\"thresholds\">"));
    ASSERT(strstr(html, "<code>GET /:p95&lt;90ms</code>"));
    ASSERT(strstr(html, "Stopped early"));
    ASSERT_NULL(strstr(html, "<script"));
    free(html);

    goose_report_ctx ctx = goose__report_ctx(a);
    char *csv = goose__report_csv_thresholds(&a->results, &ctx);
    ASSERT_EQ(count_lines(csv), (int)NCASES + 1);
    ASSERT(strstr(csv, "Threshold,Key,Metric,Operator,Limit,Observed,Unit,Result,Aborted,Note\n"
                       "p95<200ms,,p95,<,200000,"));
    ASSERT(strstr(csv, "GET /:p95<90ms,GET /,p95,<,90000,"));
    ASSERT(strstr(csv, ",fail,yes,"));
    free(csv);
    goose_attack_free(a);
}

/* ---- standalone runs of a real load test ---- */

#define TARGET_ARGS "--host", tgt.url, "-u", "4", "-r", "40"

static double since_s(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

static json_t *threshold_of(json_t *report, const char *expr)
{
    size_t i;
    json_t *t;
    json_array_foreach(json_object_get(report, "thresholds"), i, t)
        if (!strcmp(json_string_value(json_object_get(t, "expression")), expr))
            return t;
    TEST_FAIL("no threshold %s in the report", expr);
}

static int passed(json_t *report, const char *expr)
{
    return json_is_true(json_object_get(threshold_of(report, expr), "pass"));
}

TEST(standalone_passing_thresholds_exit_0)
{
    setup();
    char report[256];
    snprintf(report, sizeof report, "%s/r.json", dir);
    pid_t p = spawn("run", NULL, TARGET_ARGS, "-t", "2s", "--threshold", "p95<10s",
                    "--threshold", "GET /:fail_rate<1%", "--threshold", "count>10",
                    "--threshold", "Reader/front:count>0", "--threshold", "rps>1",
                    "--report-file", report, NULL);
    ASSERT_EQ(wait_exit(p, 30), 0);
    json_t *r = load_report(report);
    ASSERT_EQ(json_array_size(json_object_get(r, "thresholds")), 5);
    ASSERT(passed(r, "p95<10s"));
    ASSERT(passed(r, "GET /:fail_rate<1%"));
    ASSERT(passed(r, "count>10"));
    ASSERT(passed(r, "Reader/front:count>0"));
    ASSERT(passed(r, "rps>1"));
    /* observed is what the report's own totals say */
    ASSERT_EQ(json_integer_value(json_object_get(threshold_of(r, "count>10"), "observed")),
              jint(json_object_get(r, "totals"), "count"));
    ASSERT(json_is_null(json_object_get(r, "aborted_by")));
    ASSERT(log_has("run", "=== THRESHOLDS ==="));
    ASSERT(log_has("run", "5 passed, 0 failed"));
    json_decref(r);
    teardown();
}

TEST(standalone_failing_threshold_exits_1_with_every_report)
{
    setup();
    char json[256], md[256], csv[256], html[256], csv_th[256];
    snprintf(json, sizeof json, "%s/r.json", dir);
    snprintf(md, sizeof md, "%s/r.md", dir);
    snprintf(csv, sizeof csv, "%s/r.csv", dir);
    snprintf(csv_th, sizeof csv_th, "%s/r_thresholds.csv", dir);
    snprintf(html, sizeof html, "%s/r.html", dir);
    pid_t p = spawn("run", NULL, TARGET_ARGS, "-t", "2s", "--threshold", "p95<1us",
                    "--threshold", "count>0", "--report-file", json, "--report-file", md,
                    "--report-file", csv, "--report-file", html, NULL);
    ASSERT_EQ(wait_exit(p, 30), 1);
    ASSERT(log_has("run", "error: 1 of 2 thresholds failed: p95<1us"));
    ASSERT(log_has("run", "=== PER REQUEST METRICS ===")); /* the report is still printed */
    ASSERT(log_has("run", "FAIL   | p95<1us"));
    json_t *r = load_report(json);
    ASSERT(!passed(r, "p95<1us"));
    ASSERT(passed(r, "count>0"));
    ASSERT_GT(json_number_value(json_object_get(threshold_of(r, "p95<1us"), "observed")), 1);
    json_decref(r);
    static const struct {
        const char *path_of;
        const char *text;
    } wants[] = {{"md", "| **FAIL** | p95<1us |"},
                 {"html", "<code>p95&lt;1us</code>"},
                 {"csv_th", "p95<1us,,p95,<,1,"}};
    const char *paths[] = {md, html, csv_th};
    for (size_t i = 0; i < 3; i++) {
        FILE *f = fopen(paths[i], "r");
        if (!f)
            TEST_FAIL("no %s report", wants[i].path_of);
        char buf[1 << 16];
        size_t n = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        buf[n] = '\0';
        if (!strstr(buf, wants[i].text))
            TEST_FAIL("the %s report lacks %s", wants[i].path_of, wants[i].text);
    }
    teardown();
}

TEST(standalone_malformed_threshold_exits_2_before_any_request)
{
    setup();
    pid_t p = spawn("run", NULL, TARGET_ARGS, "-t", "2s", "--threshold", "p95<1s",
                    "--threshold", "GET /:p95<abc", NULL);
    ASSERT_EQ(wait_exit(p, 30), 2);
    ASSERT(log_has("run", "error: --threshold \"GET /:p95<abc\": \"abc\" is not a duration"));
    p = spawn("run2", NULL, TARGET_ARGS, "-t", "2s", "--threshold-abort", NULL);
    ASSERT_EQ(wait_exit(p, 30), 2); /* nothing to watch */
    ASSERT(log_has("run2", "--threshold-abort needs a --threshold"));
    json_t *stats = target_json(&tgt, "/stats");
    ASSERT_EQ(target_total(stats), 0);
    json_decref(stats);
    teardown();
}

TEST(standalone_threshold_abort_stops_early)
{
    setup();
    char report[256];
    snprintf(report, sizeof report, "%s/r.json", dir);
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    pid_t p = spawn("run", NULL, TARGET_ARGS, "-t", "30s", "--threshold", "count>0",
                    "--threshold", "p95<1us", "--threshold-abort", "--no-reset-metrics",
                    "--report-file", report, NULL);
    ASSERT_EQ(wait_exit(p, 20), 1);
    ASSERT_LT(since_s(&t0), 10);
    ASSERT(log_has("run", "threshold p95<1us failed"));
    ASSERT(log_has("run", "(--threshold-abort)"));
    json_t *r = load_report(report), *stats = target_json(&tgt, "/stats");
    ASSERT_STR_EQ(json_string_value(json_object_get(r, "aborted_by")), "p95<1us");
    ASSERT(json_is_true(json_object_get(threshold_of(r, "p95<1us"), "aborted")));
    ASSERT(passed(r, "count>0"));
    ASSERT_LT(json_number_value(json_object_get(r, "duration_s")), 10);
    ASSERT_EQ(report_total(r), target_total(stats)); /* a graceful stop: all counted */
    json_decref(r);
    json_decref(stats);
    teardown();
}

/* A test plan has no moment when every user has started: the checks begin
 * a second after its users first reach their peak (here 1 s in). */
TEST(standalone_threshold_abort_with_a_test_plan)
{
    setup();
    char report[256];
    snprintf(report, sizeof report, "%s/r.json", dir);
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    pid_t p = spawn("run", NULL, "--host", tgt.url, "--test-plan", "4,1s;4,30s",
                    "--threshold", "p95<1us", "--threshold-abort", "--report-file", report,
                    NULL);
    ASSERT_EQ(wait_exit(p, 20), 1);
    ASSERT_LT(since_s(&t0), 10);
    json_t *r = load_report(report);
    ASSERT_STR_EQ(json_string_value(json_object_get(r, "aborted_by")), "p95<1us");
    json_decref(r);
    teardown();
}

/* ---- embedded: goose_attack_run says GOOSE_ETHRESHOLD ---- */

static int server_error(goose_user *u)
{
    goose_response_free(goose_get(u, "/status/500"));
    return GOOSE_OK;
}

TEST(embedded_run_returns_ethreshold_on_failures)
{
    target_start(&tgt);
    goose_attack *a = goose_attack_new();
    goose_scenario *s = goose_scenario_new("Errors");
    goose_scenario_set_wait_time(s, 1, 5);
    goose_scenario_add_transaction(s, "fail", server_error);
    goose_attack_add_scenario(a, s);
    set(a, "host", tgt.url);
    set(a, "users", "2");
    set(a, "hatch-rate", "100");
    set(a, "iterations", "20"); /* bounded in count and in time */
    set(a, "run-time", "10s");
    set(a, "threshold", "fail_rate<1%");
    set(a, "threshold", "GET /status/500:fails>0");
    set(a, "threshold", "/status/500:p95<10s");
    ASSERT_EQ(goose_attack_run(a), GOOSE_ETHRESHOLD);
    ASSERT_STR_EQ(goose_attack_error(a), "1 of 3 thresholds failed: fail_rate<1%");
    json_t *r = report_of(a);
    ASSERT(!passed(r, "fail_rate<1%"));
    ASSERT_EQ(json_number_value(json_object_get(threshold_of(r, "fail_rate<1%"), "observed")),
              1.0);
    ASSERT(passed(r, "GET /status/500:fails>0"));
    ASSERT_EQ(json_integer_value(json_object_get(threshold_of(r, "GET /status/500:fails>0"),
                                                 "observed")), 40);
    ASSERT(passed(r, "/status/500:p95<10s"));
    json_decref(r);
    goose_attack_free(a);
    target_stop(&tgt);
}

/* ---- a Gaggle: the Manager evaluates the merged totals ---- */

TEST(gaggle_failing_threshold_manager_exits_1)
{
    setup();
    char port[8], report[256];
    manager_spot(port, report);
    pid_t m = spawn("manager", NULL, "--manager", "--expect-workers", "2", PORT_ARGS(port),
                    "--host", tgt.url, "-u", "6", "-r", "60", "-t", "2s",
                    "--no-reset-metrics", "--report-file", report, "--threshold", "p95<1us",
                    "--threshold", "count>10", "--threshold", "/node/[id]:fails==0", NULL);
    pid_t w0 = spawn("worker0", NULL, "--worker", "--manager-port", port, NULL);
    pid_t w1 = spawn("worker1", NULL, "--worker", "--manager-port", port, NULL);
    ASSERT_EQ(wait_exit(m, 30), 1);
    ASSERT_EQ(wait_exit(w0, 10), 0); /* the Workers ran as asked */
    ASSERT_EQ(wait_exit(w1, 10), 0);
    ASSERT(log_has("manager", "error: 1 of 3 thresholds failed: p95<1us"));
    json_t *r = load_report(report), *stats = target_json(&tgt, "/stats");
    ASSERT_STR_EQ(json_string_value(json_object_get(r, "mode")), "manager");
    ASSERT_EQ(workers_sum(r, "done"), 2);
    ASSERT(!passed(r, "p95<1us"));
    ASSERT(passed(r, "count>10"));
    ASSERT(passed(r, "/node/[id]:fails==0"));
    /* evaluated on the merged totals: every Worker's requests */
    ASSERT_EQ(json_integer_value(json_object_get(threshold_of(r, "count>10"), "observed")),
              target_total(stats));
    json_decref(r);
    json_decref(stats);
    teardown();
}

TEST(gaggle_threshold_abort_stops_every_worker)
{
    setup();
    char port[8], report[256];
    manager_spot(port, report);
    pid_t m = spawn("manager", NULL, "--manager", "--expect-workers", "2", PORT_ARGS(port),
                    "--host", tgt.url, "-u", "6", "-r", "60", "-t", "60s",
                    "--report-file", report, "--threshold", "fail_rate<=100%",
                    "--threshold", "GET /:p99<1us", "--threshold-abort", NULL);
    pid_t w0 = spawn("worker0", NULL, "--worker", "--manager-port", port, NULL);
    pid_t w1 = spawn("worker1", NULL, "--worker", "--manager-port", port, NULL);
    ASSERT(wait_log("manager", "START in", 15));
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    ASSERT_EQ(wait_exit(m, 20), 1);
    ASSERT_LT(since_s(&t0), 12);
    ASSERT_EQ(wait_exit(w0, 10), 0);
    ASSERT_EQ(wait_exit(w1, 10), 0);
    ASSERT(log_has("manager", "threshold GET /:p99<1us failed"));
    ASSERT(log_has("worker0", "the manager says the test is over"));
    json_t *r = load_report(report);
    ASSERT_STR_EQ(json_string_value(json_object_get(r, "aborted_by")), "GET /:p99<1us");
    ASSERT(passed(r, "fail_rate<=100%"));
    ASSERT_EQ(workers_sum(r, "done"), 2);
    json_decref(r);
    teardown();
}

TEST(worker_refuses_thresholds)
{
    setup();
    pid_t w = spawn("worker", NULL, "--worker", "--manager-port", "1", "--threshold",
                    "p95<1s", NULL);
    ASSERT_EQ(wait_exit(w, 10), 2);
    ASSERT(log_has("worker", "--threshold makes no sense on a Worker: set it on the Manager"));
    teardown();
}

TEST_MAIN(TEST_ENTRY(parse_valid), TEST_ENTRY(parse_malformed_names_the_bad_part),
          TEST_ENTRY(set_option_repeats_and_refuses), TEST_ENTRY(evaluate_selects_and_compares), TEST_ENTRY(percentiles_and_counts_are_exact),
          TEST_ENTRY(verdict_names_the_failures),
          TEST_ENTRY(abort_only_on_failures_the_run_cannot_undo),
          TEST_ENTRY(the_aborting_threshold_stays_failed),
          TEST_ENTRY(reports_list_every_threshold),
          TEST_ENTRY(standalone_passing_thresholds_exit_0),
          TEST_ENTRY(standalone_failing_threshold_exits_1_with_every_report),
          TEST_ENTRY(standalone_malformed_threshold_exits_2_before_any_request),
          TEST_ENTRY(standalone_threshold_abort_stops_early),
          TEST_ENTRY(standalone_threshold_abort_with_a_test_plan),
          TEST_ENTRY(embedded_run_returns_ethreshold_on_failures),
          TEST_ENTRY(gaggle_failing_threshold_manager_exits_1),
          TEST_ENTRY(gaggle_threshold_abort_stops_every_worker),
          TEST_ENTRY(worker_refuses_thresholds))
