/* Coordinated omission mitigation (--co-mitigation): the cadence and
 * back-fill arithmetic, the synthetic samples in stats and on the wire,
 * and real runs against the target whose synthetic samples are recomputed
 * from the request and transaction logs. */
#include "e2e.h"

#include "gaggle/wire.h"
#include "metrics/co.h"
#include "metrics/stats.h"

/* ---- arithmetic ---- */

TEST(mode_names)
{
    ASSERT_EQ(goose__co_mode_parse("disabled"), GOOSE_CO_DISABLED);
    ASSERT_EQ(goose__co_mode_parse("average"), GOOSE_CO_AVERAGE);
    ASSERT_EQ(goose__co_mode_parse("minimum"), GOOSE_CO_MINIMUM);
    ASSERT_EQ(goose__co_mode_parse("maximum"), GOOSE_CO_MAXIMUM);
    ASSERT_EQ(goose__co_mode_parse("Average"), -1);
    ASSERT_EQ(goose__co_mode_parse("avg"), -1);
    ASSERT_EQ(goose__co_mode_parse(""), -1);
    ASSERT_EQ(goose__co_mode_parse(NULL), -1);
    ASSERT_STR_EQ(goose__co_mode_name(GOOSE_CO_MAXIMUM), "maximum");
    ASSERT_STR_EQ(goose__co_mode_name(9), "?");
}

/* Values stall, stall - cadence, ... while above the response time. */
TEST(backfill_count)
{
    ASSERT_EQ(goose__co_backfill_count(10000, 3000, 4000), 2);  /* 10000 7000 */
    ASSERT_EQ(goose__co_backfill_count(10000, 3000, 3999), 3);  /* ... 4000 */
    ASSERT_EQ(goose__co_backfill_count(9000, 3000, 3000), 2);   /* 3000 is not above */
    ASSERT_EQ(goose__co_backfill_count(9000, 3000, 0), 3);      /* 9000 6000 3000 */
    ASSERT_EQ(goose__co_backfill_count(9000, 3000, 9000), 0);
    ASSERT_EQ(goose__co_backfill_count(9000, 3000, 12000), 0);
    ASSERT_EQ(goose__co_backfill_count(9000, 0, 100), 0);       /* no cadence, no series */
    ASSERT_EQ(goose__co_backfill_count(1000001, 1, 0), 1000001);
}

/* A baseline of 1 ms, a pass of 10.5 ms, a request of 300 µs: exactly the
 * samples 10.5, 9.5, ..., 0.5 ms. */
TEST(backfill_samples_exact)
{
    goose_hist *h = goose__hists_new(1), *want = goose__hists_new(1);
    ASSERT_EQ(goose__co_backfill(h, 10500, 1000, 300), 11);
    for (uint64_t v = 500; v <= 10500; v += 1000)
        goose__hist_add(want, v);
    ASSERT_EQ(h->count, 11);
    ASSERT_EQ(h->min, 500);
    ASSERT_EQ(h->max, 10500);
    ASSERT_EQ(h->sum, 11 * 5500);
    ASSERT(goose__hist_equal(h, want));
    ASSERT_EQ(goose__co_backfill(h, 10500, 1000, 10500), 0); /* nothing to add */
    ASSERT_EQ(h->count, 11);
    goose__hists_delete(h, 1);
    goose__hists_delete(want, 1);
}

static uint64_t rng_state = UINT64_C(0x2545f4914f6cdd1d);

static uint64_t rng(void)
{
    return test_rng(&rng_state);
}

/* The bulk series equals one goose__hist_add per value, bucket for
 * bucket, for short and long series, small and clamped values. */
TEST(series_equals_single_adds)
{
    goose_hist *a = goose__hists_new(1), *b = goose__hists_new(1);
    for (int round = 0; round < 400; round++) {
        uint64_t first = round % 4 == 0 ? rng() % 200
                       : round % 4 == 1 ? rng() % 2000000
                       : round % 4 == 2 ? (UINT64_C(1) << 40) + rng() % 100000
                                        : rng() % 60000000;
        uint64_t step = 1 + rng() % (round % 2 ? 50 : 5000);
        uint64_t n = first / step + 1;
        n = n > 20000 ? 1 + rng() % 20000 : 1 + rng() % n;
        goose__hist_free(a);
        goose__hist_free(b);
        goose__hist_add(a, 77); /* onto a histogram that has values */
        goose__hist_add(b, 77);
        goose__hist_add_series(a, first, step, n);
        for (uint64_t k = 0; k < n; k++)
            goose__hist_add(b, first - k * step);
        if (!goose__hist_equal(a, b))
            TEST_FAIL("first %llu step %llu n %llu differ", (unsigned long long)first,
                      (unsigned long long)step, (unsigned long long)n);
    }
    goose__hist_free(a);
    goose__hist_add_series(a, 500, 0, 3); /* a zero step repeats the value */
    ASSERT_EQ(a->count, 3);
    ASSERT_EQ(a->sum, 1500);
    goose__hist_add_series(a, 500, 7, 0);
    ASSERT_EQ(a->count, 3);
    goose__hists_delete(a, 1);
    goose__hists_delete(b, 1);
}

/* 60 s of stall at a 10 µs cadence: six million samples, at the cost of a
 * few thousand buckets. */
TEST(series_is_bounded_by_buckets)
{
    goose_hist *h = goose__hists_new(1);
    ASSERT_EQ(goose__co_backfill(h, 60000000, 10, 5), 6000000);
    ASSERT_EQ(h->count, 6000000);
    ASSERT_EQ(h->max, 60000000);
    ASSERT_EQ(h->min, 10);
    uint64_t p50 = goose__hist_percentile(h, 0.5);
    ASSERT(p50 > 29700000 && p50 < 30300000);
    goose__hists_delete(h, 1);
}

static goose_cadence passes(int mode, const uint64_t *v, size_t n)
{
    goose_cadence c;
    memset(&c, 0, sizeof c);
    for (size_t i = 0; i < n; i++)
        goose__cadence_pass(&c, mode, v[i]);
    return c;
}

TEST(cadence_warms_up_then_detects)
{
    uint64_t v[] = {1000, 1000, 1000};
    goose_cadence c = passes(GOOSE_CO_AVERAGE, v, 2);
    ASSERT_EQ(goose__cadence_baseline(&c, GOOSE_CO_AVERAGE), 0);
    ASSERT_EQ(goose__cadence_pass(&c, GOOSE_CO_AVERAGE, 50000), 0); /* 3rd: warming up */
    c = passes(GOOSE_CO_AVERAGE, v, 3);
    ASSERT_EQ(goose__cadence_baseline(&c, GOOSE_CO_AVERAGE), 1000);
    ASSERT_EQ(goose__cadence_pass(&c, GOOSE_CO_AVERAGE, 2000), 0); /* twice is not more */
    ASSERT_EQ(c.stall_us, 0);
    ASSERT_EQ(goose__cadence_baseline(&c, GOOSE_CO_AVERAGE), 1250);
    ASSERT_EQ(goose__cadence_pass(&c, GOOSE_CO_AVERAGE, 2501), 1);
    ASSERT_EQ(c.stall_us, 2501);
    ASSERT_EQ(c.expected_us, 1250);
    ASSERT_EQ(goose__cadence_pass(&c, GOOSE_CO_AVERAGE, 1000), 0); /* the stall is over */
    ASSERT_EQ(c.stall_us, 0);
    ASSERT_EQ(c.expected_us, 0);
    ASSERT_EQ(c.passes, 6);
    ASSERT_EQ(goose__cadence_baseline(&c, GOOSE_CO_DISABLED), 0);
}

/* One history, three baselines: average 2000, minimum 1000, maximum 3000. */
TEST(cadence_modes)
{
    uint64_t v[] = {1000, 3000, 2000};
    int modes[] = {GOOSE_CO_AVERAGE, GOOSE_CO_MINIMUM, GOOSE_CO_MAXIMUM};
    uint64_t base[] = {2000, 1000, 3000};
    int stalls_at_4500[] = {1, 1, 0};
    int stalls_at_3000[] = {0, 1, 0};
    for (int i = 0; i < 3; i++) {
        goose_cadence c = passes(modes[i], v, 3);
        ASSERT_EQ(goose__cadence_baseline(&c, modes[i]), base[i]);
        goose_cadence d = c;
        ASSERT_EQ(goose__cadence_pass(&c, modes[i], 4500), stalls_at_4500[i]);
        ASSERT_EQ(c.expected_us, stalls_at_4500[i] ? base[i] : 0);
        ASSERT_EQ(goose__cadence_pass(&d, modes[i], 3000), stalls_at_3000[i]);
    }
    /* a stall joins the history: under maximum it raises the bar */
    uint64_t w[] = {1000, 1000, 1000, 9000};
    goose_cadence c = passes(GOOSE_CO_MAXIMUM, w, 4);
    ASSERT_EQ(goose__cadence_baseline(&c, GOOSE_CO_MAXIMUM), 9000);
    ASSERT_EQ(goose__cadence_pass(&c, GOOSE_CO_MAXIMUM, 15000), 0);
    c = passes(GOOSE_CO_MINIMUM, w, 4);
    ASSERT_EQ(goose__cadence_baseline(&c, GOOSE_CO_MINIMUM), 1000);
}

/* ---- stats and the wire ---- */

static goose_stats *shard_with(uint64_t stall, uint64_t cadence, uint64_t rt)
{
    goose_stats *s = malloc(sizeof *s);
    ASSERT_EQ(goose__stats_init(s, 1, 1), 0);
    ASSERT_EQ(goose__stats_record(s, "GET", "/", 200, rt, NULL), 0);
    ASSERT_EQ(goose__stats_record(s, "GET", "/other", 200, rt, NULL), 0);
    goose_req_stat *r = goose__stats_request(s, "GET", "/");
    ASSERT_EQ(goose__stats_backfill(r, stall, cadence, rt), 0);
    return s;
}

/* Synthetic samples merge by addition and never touch the counts. */
TEST(synthetic_samples_merge)
{
    goose_stats *a = shard_with(10500, 1000, 300), *b = shard_with(5000, 1000, 300);
    goose_stats total;
    ASSERT_EQ(goose__stats_init(&total, 1, 1), 0);
    ASSERT_EQ(goose__stats_merge(&total, a), 0);
    ASSERT_EQ(goose__stats_merge(&total, b), 0);
    const goose_req_stat *r = goose__stats_find(&total, "GET", "/");
    ASSERT_EQ(goose__req_count(r), 2);
    ASSERT_EQ(r->success, 2);
    ASSERT_EQ(r->hist.count, 2);
    ASSERT_EQ(goose__req_synthetic(r), 11 + 5);
    ASSERT_EQ(total.requests, 4);
    ASSERT_NULL(goose__stats_find(&total, "GET", "/other")->co); /* nothing allocated */
    goose_hist *adj = goose__hists_new(1);
    ASSERT_EQ(goose__req_adjusted(r, adj), 0);
    ASSERT_EQ(adj->count, 2 + 16);
    ASSERT_EQ(adj->min, 300);
    ASSERT_EQ(adj->max, 10500);
    ASSERT_EQ(adj->sum, 2 * 300 + 11 * 5500 + (5000 + 4000 + 3000 + 2000 + 1000));
    goose__stats_reset(&total);
    ASSERT_EQ(total.nreqs, 0);
    goose__hists_delete(adj, 1);
    goose__stats_free(a);
    goose__stats_free(b);
    goose__stats_free(&total);
    free(a);
    free(b);
}

static int round_trip(const goose_stats *in, goose_stats *out, msgpack_sbuffer *sb)
{
    msgpack_packer pk;
    msgpack_sbuffer_init(sb);
    msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
    goose__pack_stats(&pk, in);
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    size_t off = 0;
    ASSERT_EQ(msgpack_unpack_next(&u, sb->data, sb->size, &off), MSGPACK_UNPACK_SUCCESS);
    int rc = goose__unpack_stats(&u.data, out);
    msgpack_unpacked_destroy(&u);
    return rc;
}

/* The Gaggle delta carries the synthetic samples, and only where there are
 * some; a malformed one is refused. */
TEST(synthetic_samples_travel)
{
    goose_stats *a = shard_with(10500, 1000, 300), b;
    ASSERT_EQ(goose__stats_init(&b, 1, 1), 0);
    msgpack_sbuffer sb;
    ASSERT_EQ(round_trip(a, &b, &sb), 0);
    msgpack_sbuffer_destroy(&sb);
    const goose_req_stat *x = goose__stats_find(a, "GET", "/");
    const goose_req_stat *y = goose__stats_find(&b, "GET", "/");
    ASSERT_EQ(goose__req_count(y), 1);
    ASSERT_EQ(goose__req_synthetic(y), 11);
    ASSERT(goose__hist_equal(y->co, x->co));
    ASSERT_NULL(goose__stats_find(&b, "GET", "/other")->co);
    /* an 8th element that is no histogram, or an empty one */
    for (int bad = 0; bad < 2; bad++) {
        msgpack_sbuffer_init(&sb);
        msgpack_packer pk;
        msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
        msgpack_pack_map(&pk, 7);
        goose__pack_str(&pk, "requests");
        msgpack_pack_array(&pk, 1);
        msgpack_pack_array(&pk, 8);
        goose__pack_str(&pk, "GET");
        goose__pack_str(&pk, "/");
        msgpack_pack_uint64(&pk, 0);
        msgpack_pack_uint64(&pk, 0);
        msgpack_pack_uint64(&pk, 0);
        msgpack_pack_array(&pk, 0);
        unsigned char empty[64];
        goose_hist *h = goose__hists_new(1);
        size_t n = goose__hist_encode(h, empty);
        goose__hists_delete(h, 1);
        msgpack_pack_bin(&pk, n);
        msgpack_pack_bin_body(&pk, empty, n);
        if (bad == 0) {
            msgpack_pack_uint64(&pk, 5);
        } else {
            msgpack_pack_bin(&pk, n);
            msgpack_pack_bin_body(&pk, empty, n);
        }
        goose__pack_str(&pk, "errors");
        msgpack_pack_array(&pk, 0);
        goose__pack_str(&pk, "transactions");
        msgpack_pack_array(&pk, 0);
        goose__pack_str(&pk, "iterations");
        msgpack_pack_array(&pk, 1);
        msgpack_pack_uint64(&pk, 0);
        goose__pack_str(&pk, "count");
        msgpack_pack_uint64(&pk, 0);
        goose__pack_str(&pk, "fail");
        msgpack_pack_uint64(&pk, 0);
        goose__pack_str(&pk, "all");
        msgpack_pack_bin(&pk, n);
        msgpack_pack_bin_body(&pk, empty, n);
        msgpack_unpacked u;
        msgpack_unpacked_init(&u);
        size_t off = 0;
        ASSERT_EQ(msgpack_unpack_next(&u, sb.data, sb.size, &off), MSGPACK_UNPACK_SUCCESS);
        goose_stats c;
        ASSERT_EQ(goose__stats_init(&c, 1, 1), 0);
        ASSERT_EQ(goose__unpack_stats(&u.data, &c), -1);
        goose__stats_free(&c);
        msgpack_unpacked_destroy(&u);
        msgpack_sbuffer_destroy(&sb);
    }
    goose__stats_free(a);
    goose__stats_free(&b);
    free(a);
}

/* ---- real runs ---- */

static target tgt;

#define PASSES 12
#define STALL_PASS 6
#define USERS 3

/* Fast passes, and one slow one per user: its 6th waits 300 ms on the
 * target. */
static int stall_once(goose_user *u)
{
    unsigned *n = goose_user_data(u);
    if (!n) {
        n = calloc(1, sizeof *n);
        goose_user_set_data(u, n, free);
    }
    goose_response_free(goose_get(u, "/"));
    if (n && ++*n == STALL_PASS) {
        goose_request *req = goose_request_new(u, "GET", "/slow?ms=300");
        goose_request_set_name(req, "/slow");
        goose_response_free(goose_request_send(req));
    }
    return GOOSE_OK;
}

static goose_attack *staller(const char *dir, const char *mode)
{
    char path[160];
    goose_attack *a = goose_attack_new();
    goose_scenario *s = goose_scenario_new("Staller");
    goose_scenario_add_transaction(s, "page", stall_once);
    goose_attack_add_scenario(a, s);
    set(a, "host", tgt.url);
    set(a, "users", "3");
    set(a, "hatch-rate", "100");
    set(a, "iterations", "12");
    if (mode)
        set(a, "co-mitigation", mode);
    snprintf(path, sizeof path, "%s/requests.json", dir);
    set(a, "request-log", path);
    snprintf(path, sizeof path, "%s/transactions.json", dir);
    set(a, "transaction-log", path);
    return a;
}

/* The rule of goose(7) written again from its text: three warm-up passes,
 * a baseline in whole µs, a stall above twice it. */
typedef struct model {
    int mode;
    uint64_t passes, total, min, max, stall, expected;
} model;

static void model_pass(model *m, uint64_t us)
{
    uint64_t base = m->passes < 3 ? 0
                  : m->mode == GOOSE_CO_AVERAGE ? m->total / m->passes
                  : m->mode == GOOSE_CO_MINIMUM ? m->min : m->max;
    m->stall = base && us > 2 * base ? us : 0;
    m->expected = m->stall ? base : 0;
    m->min = m->passes == 0 || us < m->min ? us : m->min;
    m->max = us > m->max ? us : m->max;
    m->total += us;
    m->passes++;
}

static uint64_t model_synthetic(const model *m, uint64_t rt)
{
    uint64_t n = 0;
    for (uint64_t v = m->stall; m->stall && v > rt; v = v > m->expected ? v - m->expected : 0)
        n++;
    return n;
}

/* One log as per-user lists of (name, µs), in the order written. */
typedef struct entry {
    char name[16];
    uint64_t us;
} entry;

static size_t read_log(const char *dir, const char *file, entry per_user[USERS][2 * PASSES],
                       size_t counts[USERS])
{
    char path[160], line[4096];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    FILE *f = fopen(path, "r");
    ASSERT_NOT_NULL(f);
    size_t n = 0;
    memset(counts, 0, USERS * sizeof *counts);
    while (fgets(line, sizeof line, f)) {
        json_error_t err;
        json_t *o = json_loads(line, 0, &err);
        ASSERT_NOT_NULL(o);
        long long u = jint(o, "user");
        ASSERT(u >= 0 && u < USERS && counts[u] < 2 * PASSES);
        entry *e = &per_user[u][counts[u]++];
        const char *name = json_string_value(json_object_get(o, "name"));
        snprintf(e->name, sizeof e->name, "%s", name ? name : "");
        e->us = (uint64_t)jint(o, "response_time_us");
        json_decref(o);
        n++;
    }
    fclose(f);
    return n;
}

/* What the report must say, recomputed from what the logs say was
 * measured: each pass (one transaction) held against the earlier ones,
 * each request of the pass after a stall back-filled. */
static void expected_synthetic(const char *dir, int mode, uint64_t *root, uint64_t *slow)
{
    static entry reqs[USERS][2 * PASSES], txs[USERS][2 * PASSES];
    size_t nreqs[USERS], ntxs[USERS];
    ASSERT_EQ(read_log(dir, "requests.json", reqs, nreqs), USERS * (PASSES + 1));
    ASSERT_EQ(read_log(dir, "transactions.json", txs, ntxs), USERS * PASSES);
    *root = *slow = 0;
    for (int u = 0; u < USERS; u++) {
        model m = {.mode = mode};
        size_t r = 0;
        for (int pass = 1; pass <= PASSES; pass++) {
            int nr = pass == STALL_PASS ? 2 : 1;
            for (int k = 0; k < nr; k++, r++) {
                ASSERT_STR_EQ(reqs[u][r].name, k ? "/slow" : "/");
                *(k ? slow : root) += model_synthetic(&m, reqs[u][r].us);
            }
            model_pass(&m, txs[u][pass - 1].us);
        }
    }
}

static json_t *times(json_t *req, const char *key)
{
    json_t *t = json_object_get(req, key);
    ASSERT_NOT_NULL(t);
    return t;
}

/* Every other format shows the synthetic samples beside the measured
 * times too. */
static void check_formats(goose_attack *a, long long root, long long all)
{
    char want[160];
    char *text = goose_attack_report(a, "text");
    ASSERT(strstr(text, "=== COORDINATED OMISSION MITIGATION ("));
    snprintf(want, sizeof want, "\nGET /      | %11lld |", root);
    ASSERT(strstr(text, want));
    goose_free(text);
    text = goose_attack_report(a, "md");
    ASSERT(strstr(text, "## Coordinated omission mitigation ("));
    snprintf(want, sizeof want, "| GET / | %lld |", root);
    ASSERT(strstr(text, want));
    snprintf(want, sizeof want, "| **Aggregated** | %lld |", all);
    ASSERT(strstr(text, want));
    goose_free(text);
    text = goose_attack_report(a, "csv");
    ASSERT(strstr(text, ",100%,Synthetic Count,Adjusted Median Response Time,"));
    const char *p = strstr(text, "\nGET,/,");
    ASSERT_NOT_NULL(p);
    for (int commas = 0; commas < 22 && *++p && *p != '\n';)
        commas += *p == ',';
    ASSERT_EQ(atoll(p + 1), root); /* the 23rd column */
    goose_free(text);
    text = goose_attack_report(a, "html");
    ASSERT(strstr(text, "<section id=\"co\"><h2>Coordinated omission mitigation</h2>"));
    snprintf(want, sizeof want, "GET /</td><td>%lld</td>", root);
    ASSERT(strstr(text, want));
    goose_free(text);
}

static void stall_run(const char *mode_name, int mode)
{
    target_start(&tgt);
    char dir[] = "/tmp/goose-co-XXXXXX", cmd[80];
    ASSERT_NOT_NULL(mkdtemp(dir));
    goose_attack *a = staller(dir, mode_name);
    ASSERT_EQ(goose_attack_run(a), GOOSE_OK);
    json_t *r = report_of(a), *stats = target_json(&tgt, "/stats");
    json_t *root = report_request(r, "GET", "/"), *slow = report_request(r, "GET", "/slow");
    json_t *totals = json_object_get(r, "totals");
    /* the counts are what the server saw: synthetic samples are no requests */
    ASSERT_EQ(jint(root, "count"), USERS * PASSES);
    ASSERT_EQ(jint(root, "count"), target_count(stats, "/"));
    ASSERT_EQ(jint(slow, "count"), USERS);
    ASSERT_EQ(jint(slow, "count"), target_count(stats, "/slow"));
    ASSERT_EQ(report_total(r), target_total(stats));
    ASSERT_EQ(jint(totals, "count"), target_total(stats));
    ASSERT_STR_EQ(json_string_value(json_object_get(r, "co_mitigation")), mode_name);
    uint64_t want_root, want_slow;
    expected_synthetic(dir, mode, &want_root, &want_slow);
    printf("%s: %llu synthetic samples for GET /, %llu for GET /slow\n", mode_name,
           (unsigned long long)want_root, (unsigned long long)want_slow);
    ASSERT_GT(want_root, 0); /* every user's 7th pass follows a 300 ms stall */
    ASSERT_EQ(jint(root, "synthetic"), want_root);
    ASSERT_EQ(jint(slow, "synthetic"), want_slow);
    ASSERT_EQ(jint(totals, "synthetic"), want_root + want_slow);
    json_t *raw = times(root, "response_time_us"), *adj = times(root, "response_time_us_adjusted");
    ASSERT_GE(jint(adj, "max"), 300000);
    ASSERT_GT(jint(adj, "max"), jint(raw, "max"));
    ASSERT_GT(jint(adj, "p99"), jint(raw, "p99"));
    ASSERT_GE(jint(adj, "p50"), jint(raw, "p50"));
    ASSERT_EQ(jint(adj, "min"), jint(raw, "min")); /* nothing below what was measured */
    /* in all, /slow's own 300 ms dominate the measured tail; the synthetic
     * samples move the middle */
    raw = times(totals, "response_time_us");
    adj = times(totals, "response_time_us_adjusted");
    ASSERT_GT(jint(adj, "p50"), jint(raw, "p50"));
    ASSERT_GT(json_real_value(json_object_get(adj, "mean")),
              json_real_value(json_object_get(raw, "mean")));
    ASSERT_GE(jint(adj, "max"), jint(raw, "max")); /* the stalled pass, /slow and all */
    check_formats(a, jint(root, "synthetic"), jint(totals, "synthetic"));
    json_decref(r);
    json_decref(stats);
    goose_attack_free(a);
    target_stop(&tgt);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    ASSERT_EQ(system(cmd), 0);
}

TEST(average_backfills_a_stall)
{
    stall_run("average", GOOSE_CO_AVERAGE);
}

TEST(minimum_backfills_a_stall)
{
    stall_run("minimum", GOOSE_CO_MINIMUM);
}

TEST(maximum_backfills_a_stall)
{
    stall_run("maximum", GOOSE_CO_MAXIMUM);
}

/* The default: the same stall, and reports as they always were. */
TEST(disabled_adds_nothing)
{
    target_start(&tgt);
    char dir[] = "/tmp/goose-co-XXXXXX", cmd[80];
    ASSERT_NOT_NULL(mkdtemp(dir));
    for (int explicit = 0; explicit < 2; explicit++) {
        goose_attack *a = staller(dir, explicit ? "disabled" : NULL);
        ASSERT_EQ(goose_attack_run(a), GOOSE_OK);
        json_t *r = report_of(a);
        ASSERT_NULL(json_object_get(r, "co_mitigation"));
        size_t i;
        json_t *q;
        json_array_foreach(json_object_get(r, "requests"), i, q) {
            ASSERT_NULL(json_object_get(q, "synthetic"));
            ASSERT_NULL(json_object_get(q, "response_time_us_adjusted"));
        }
        ASSERT_NULL(json_object_get(json_object_get(r, "totals"), "synthetic"));
        ASSERT_EQ(jint(report_request(r, "GET", "/"), "count"), USERS * PASSES);
        static const char *const formats[] = {"text", "md", "csv", "html"};
        for (int f = 0; f < 4; f++) {
            char *text = goose_attack_report(a, formats[f]);
            ASSERT_NOT_NULL(text);
            ASSERT(!strcasestr(text, "coordinated omission"));
            ASSERT(!strstr(text, "Synthetic") && !strstr(text, "synthetic"));
            goose_free(text);
        }
        json_decref(r);
        goose_attack_free(a);
    }
    target_stop(&tgt);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    ASSERT_EQ(system(cmd), 0);
}

TEST_MAIN(TEST_ENTRY(mode_names), TEST_ENTRY(backfill_count),
          TEST_ENTRY(backfill_samples_exact), TEST_ENTRY(series_equals_single_adds),
          TEST_ENTRY(series_is_bounded_by_buckets), TEST_ENTRY(cadence_warms_up_then_detects),
          TEST_ENTRY(cadence_modes), TEST_ENTRY(synthetic_samples_merge),
          TEST_ENTRY(synthetic_samples_travel), TEST_ENTRY(average_backfills_a_stall),
          TEST_ENTRY(minimum_backfills_a_stall), TEST_ENTRY(maximum_backfills_a_stall),
          TEST_ENTRY(disabled_adds_nothing))
