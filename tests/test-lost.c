/* No silent metric loss: the metrics path runs out of memory now and then,
 * and every request the target answered is either in the report or counted
 * as lost, which every report says and the exit status shows.
 *
 * Built apart (Makefile): in this binary, lib/metrics/stats.c and
 * lib/run/collect.c allocate through goose_test_malloc and friends below (their
 * objects' malloc, calloc, realloc and strdup renamed with objcopy), so only
 * the metrics path fails, and only once the test has armed it. */
#include "e2e.h"

#include <stdatomic.h>
#include <stdint.h>

#include "run/run.h"
#include "metrics/stats.h"

static target tgt;
static atomic_int armed, arming; /* arming: the first response arms */
static atomic_uint_fast64_t calls, failed;
static atomic_uint next_page;
static uint64_t fail_at, fail_too; /* not 0: only these allocations fail */

/* About one allocation in 300 fails while armed, by a fixed hash of its
 * number: bursts and gaps, so some merges fail and succeed when tried again. */
static int should_fail(void)
{
    if (!atomic_load(&armed))
        return 0;
    uint64_t n = atomic_fetch_add(&calls, 1) + 1;
    if (fail_at)
        return n == fail_at || n == fail_too;
    n *= 0x9E3779B97F4A7C15ULL;
    if ((n >> 40) % 300)
        return 0;
    atomic_fetch_add(&failed, 1);
    return 1;
}

void *goose_test_malloc(size_t n);
void *goose_test_calloc(size_t n, size_t size);
void *goose_test_realloc(void *p, size_t n);
char *goose_test_strdup(const char *s);

void *goose_test_malloc(size_t n)
{
    return should_fail() ? NULL : malloc(n);
}

void *goose_test_calloc(size_t n, size_t size)
{
    return should_fail() ? NULL : calloc(n, size);
}

void *goose_test_realloc(void *p, size_t n)
{
    return should_fail() ? NULL : realloc(p, n);
}

char *goose_test_strdup(const char *s)
{
    return should_fail() ? NULL : strdup(s);
}

/* One of 50 paths: new request keys keep coming for a while, so merges
 * need to allocate; the first response arms the failures. */
static int page(goose_user *u)
{
    char path[32];
    snprintf(path, sizeof path, "/node/%u", atomic_fetch_add(&next_page, 1) % 50);
    goose_response_free(goose_get(u, path));
    if (atomic_load(&arming))
        atomic_store(&armed, 1);
    return GOOSE_OK;
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    ASSERT_NOT_NULL(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    rewind(f);
    char *text = malloc((size_t)n + 1);
    ASSERT_NOT_NULL(text);
    ASSERT_EQ(fread(text, 1, (size_t)n, f), (size_t)n);
    text[n] = '\0';
    fclose(f);
    return text;
}

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

TEST(out_of_memory_is_counted_and_reported)
{
    target_start(&tgt);
    char dir[] = "/tmp/goose-lost-XXXXXX", json[80], md[80], csv[80], html[80];
    ASSERT_NOT_NULL(mkdtemp(dir));
    snprintf(json, sizeof json, "%s/r.json", dir);
    snprintf(md, sizeof md, "%s/r.md", dir);
    snprintf(csv, sizeof csv, "%s/r.csv", dir);
    snprintf(html, sizeof html, "%s/r.html", dir);
    goose_attack *a = goose_attack_new();
    goose_scenario *s = goose_scenario_new("Reader");
    goose_scenario_set_wait_time(s, 1, 2);
    goose_scenario_add_transaction(s, "page", page);
    goose_attack_add_scenario(a, s);
    const char *args[] = {"test-lost", "--host", tgt.url, "--users", "4", "--hatch-rate",
                          "1000", "--run-time", "3s", "--threads", "2", "--no-reset-metrics",
                          "-q", "--report-file", json, "--report-file", md, "--report-file",
                          csv, "--report-file", html, NULL};
    char *argv[sizeof args / sizeof args[0]];
    for (size_t i = 0; i < sizeof args / sizeof args[0]; i++)
        argv[i] = (char *)args[i];
    atomic_store(&arming, 1);
    int status = goose_main(a, (int)(sizeof argv / sizeof argv[0]) - 1, argv);
    atomic_store(&arming, 0);
    atomic_store(&armed, 0);
    ASSERT_GT(atomic_load(&failed), 0);
    ASSERT_EQ(status, 1);
    json_error_t err;
    json_t *report = json_load_file(json, 0, &err), *stats = target_json(&tgt, "/stats");
    ASSERT_NOT_NULL(report);
    json_t *lost = json_object_get(report, "metrics_lost");
    long long total = report_total(report), lost_requests = jint(lost, "requests");
    long long samples = jint(lost, "samples");
    fprintf(stderr, "%lld allocations failed; target %lld, report %lld, lost: %lld requests, "
                    "%lld details, %lld from the series\n",
            (long long)atomic_load(&failed), target_total(stats), total, lost_requests,
            jint(lost, "details"), jint(lost, "series"));
    ASSERT_GT(samples, 0);
    ASSERT_GT(total, target_total(stats) / 2); /* most merges succeed, at once or later */
    ASSERT_EQ(samples, lost_requests + jint(lost, "details") + jint(lost, "series"));
    ASSERT_EQ(total + lost_requests, target_total(stats));
    ASSERT_EQ(series_sum(report) + jint(lost, "series"), total + lost_requests);
    /* every report says so, with the same number */
    char line[80];
    snprintf(line, sizeof line, "metrics incomplete: %lld samples lost", samples);
    char *text = goose_attack_report(a, "text");
    ASSERT_NOT_NULL(strstr(text, line));
    goose_free(text);
    const char *files[] = {md, csv, html};
    for (size_t i = 0; i < 3; i++) {
        text = slurp(files[i]);
        if (!strstr(text, line))
            TEST_FAIL("%s does not say \"%s\"", files[i], line);
        free(text);
    }
    json_decref(report);
    json_decref(stats);
    goose_attack_free(a);
    target_stop(&tgt);
    char cmd[120];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    ASSERT_EQ(system(cmd), 0);
}

/* The same run with nothing failing: complete (the renamed allocations
 * themselves change nothing). */
TEST(complete_run_says_nothing_is_lost)
{
    target_start(&tgt);
    goose_attack *a = goose_attack_new();
    goose_scenario *s = goose_scenario_new("Reader");
    goose_scenario_set_wait_time(s, 1, 2);
    goose_scenario_add_transaction(s, "page", page);
    goose_attack_add_scenario(a, s);
    set(a, "host", tgt.url);
    set(a, "users", "4");
    set(a, "hatch-rate", "1000");
    set(a, "run-time", "1s");
    set(a, "no-reset-metrics", NULL);
    ASSERT_EQ(goose_attack_run(a), GOOSE_OK);
    json_t *report = report_of(a), *stats = target_json(&tgt, "/stats");
    ASSERT_EQ(jint(json_object_get(report, "metrics_lost"), "samples"), 0);
    ASSERT_EQ(report_total(report), target_total(stats));
    char *text = goose_attack_report(a, "text");
    ASSERT_NULL(strstr(text, "metrics incomplete"));
    goose_free(text);
    json_decref(report);
    json_decref(stats);
    goose_attack_free(a);
    target_stop(&tgt);
}

static void fill(goose_stats *s, int from, int to, int status, const char *error)
{
    char name[32];
    for (int i = from; i < to; i++) {
        snprintf(name, sizeof name, "/k%d", i);
        ASSERT_EQ(goose__stats_record(s, "GET", name, status + i % 3, 1000 + (uint64_t)i,
                                      i % 4 ? NULL : error),
                  0);
    }
}

/* dst as it was: every key found, its counts and statuses, no zero row. */
static void check_as_filled(const goose_stats *s, int keys)
{
    char name[32];
    ASSERT_EQ(s->nreqs, (size_t)keys);
    for (int i = 0; i < keys; i++) {
        snprintf(name, sizeof name, "/k%d", i);
        const goose_req_stat *r = goose__stats_find(s, "GET", name);
        ASSERT_NOT_NULL(r);
        ASSERT_EQ(goose__req_count(r), 1);
        ASSERT_EQ(r->nstatuses, 1);
        ASSERT_EQ(r->statuses[0].count, 1);
    }
    ASSERT_EQ(s->requests, (uint64_t)keys);
    for (size_t i = 0; i < s->nerrs; i++)
        ASSERT_GT(s->errs[i].count, 0);
}

/* A merge that runs out of memory at any of its allocations leaves dst as
 * it was (so it can be tried again); a lossy one counts what it lost. */
TEST(failed_merge_leaves_dst_as_it_was)
{
    goose_stats dst, src;
    ASSERT_EQ(goose__stats_init(&dst, 1, 1), 0);
    ASSERT_EQ(goose__stats_init(&src, 1, 1), 0);
    fill(&dst, 0, 40, 200, "boom");
    fill(&src, 0, 100, 500, "bang"); /* 40 keys dst has, 60 new, new statuses */
    uint64_t n;
    for (n = 1;; n++) {
        fail_at = n;
        atomic_store(&calls, 0);
        atomic_store(&armed, 1);
        int rc = goose__stats_merge(&dst, &src);
        atomic_store(&armed, 0);
        if (rc == 0)
            break;
        check_as_filled(&dst, 40);
    }
    ASSERT_GT(n, 60); /* every allocation of the merge failed once */
    ASSERT_EQ(dst.nreqs, 100);
    ASSERT_EQ(dst.requests, 140);
    ASSERT_EQ(goose__req_count(goose__stats_find(&dst, "GET", "/k7")), 2);
    ASSERT_EQ(goose__req_count(goose__stats_find(&dst, "GET", "/k77")), 1);
    /* lossy: the merge at once fails, then one key of the key-by-key one:
     * that key is counted as lost, not merged */
    goose_stats lossy;
    ASSERT_EQ(goose__stats_init(&lossy, 1, 1), 0);
    fail_at = 20;
    fail_too = 25;
    atomic_store(&calls, 0);
    atomic_store(&armed, 1);
    ASSERT_EQ(goose__stats_merge_lossy(&lossy, &src), -1);
    atomic_store(&armed, 0);
    fail_at = fail_too = 0;
    ASSERT_EQ(lossy.requests + lossy.lost, 100);
    ASSERT_EQ(lossy.lost, 1);
    uint64_t rows = 0;
    for (size_t i = 0; i < lossy.nreqs; i++)
        rows += goose__req_count(lossy.reqs[i]);
    ASSERT_EQ(rows, lossy.requests);
    goose__stats_free(&lossy);
    goose__stats_free(&dst);
    goose__stats_free(&src);
}

/* The last collect (no retry): a shard merge that fails and is then taken
 * key by key still gives the time series the whole delta. */
TEST(failed_shard_merge_keeps_the_series)
{
    goose_attack *a = goose_attack_new();
    goose_run_config cfg = {.ntransactions = 1, .nscenarios = 1, .users = 1};
    goose_collector c;
    ASSERT_EQ(goose__collector_init(&c, a, &cfg), GOOSE_OK);
    c.no_retry = 1;
    goose_stats delta, before;
    ASSERT_EQ(goose__stats_init(&delta, 1, 1), 0);
    ASSERT_EQ(goose__stats_init(&before, 1, 1), 0);
    fill(&delta, 0, 10, 200, "boom");
    ASSERT_EQ(goose__collector_add(&c, 0, 0, &before, &delta), 0); /* the shard exists */
    fill(&delta, 10, 20, 200, "boom");                             /* new keys for it */
    uint64_t in_series = c.interval.requests;
    fail_at = 1; /* the shard's merge: its first allocation */
    atomic_store(&calls, 0);
    atomic_store(&armed, 1);
    ASSERT_EQ(goose__collector_add(&c, 0, 0, &before, &delta), 0);
    atomic_store(&armed, 0);
    fail_at = 0;
    ASSERT_EQ(c.shards[0]->requests + c.shards[0]->lost, 10 + 20);
    ASSERT_EQ(c.interval.requests - in_series + c.series_lost, delta.requests);
    ASSERT_EQ(c.series_lost, c.shards[0]->lost); /* only what the shard missed too */
    goose__stats_free(&delta);
    goose__stats_free(&before);
    goose__collector_free(&c);
    goose_attack_free(a);
}

TEST_MAIN(TEST_ENTRY(failed_merge_leaves_dst_as_it_was),
          TEST_ENTRY(failed_shard_merge_keeps_the_series),
          TEST_ENTRY(out_of_memory_is_counted_and_reported),
          TEST_ENTRY(complete_run_says_nothing_is_lost))
