/* A transport that cannot carry a request leaves it to the next row of the
 * table: here the own HTTP/1.1 client runs out of memory (its object's
 * allocators renamed to the failing ones below, Makefile), so libcurl
 * carries every request, and every one the target answered is counted.
 * Out of memory for its state of the run, the run is refused cleanly. */
#include "e2e.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

static target tgt;
static atomic_uint_fast64_t refused;
static atomic_int armed; /* allocations fail */

void *goose_test_malloc(size_t n);
void *goose_test_calloc(size_t n, size_t size);
void *goose_test_realloc(void *p, size_t n);
char *goose_test_strdup(const char *s);

void *goose_test_malloc(size_t n)
{
    if (!atomic_load(&armed))
        return malloc(n);
    atomic_fetch_add(&refused, 1);
    return NULL;
}

void *goose_test_calloc(size_t n, size_t size)
{
    if (!atomic_load(&armed))
        return calloc(n, size);
    atomic_fetch_add(&refused, 1);
    return NULL;
}

void *goose_test_realloc(void *p, size_t n)
{
    if (!atomic_load(&armed))
        return realloc(p, n);
    atomic_fetch_add(&refused, 1);
    return NULL;
}

char *goose_test_strdup(const char *s)
{
    if (!atomic_load(&armed))
        return strdup(s);
    atomic_fetch_add(&refused, 1);
    return NULL;
}

static int page(goose_user *u)
{
    atomic_store(&armed, 1); /* from the first request on */
    goose_response *r = goose_get(u, "/");
    int rc = goose_response_status(r) == 200 ? GOOSE_OK : GOOSE_EFAILED;
    goose_response_free(r);
    return rc;
}

TEST(own_client_out_of_memory_leaves_requests_to_libcurl)
{
    target_start(&tgt);
    goose_attack *a = goose_attack_new();
    goose_scenario *s = goose_scenario_new("Fallback");
    goose_scenario_add_transaction(s, "page", page);
    goose_attack_add_scenario(a, s);
    set(a, "host", tgt.url);
    set(a, "users", "4");
    set(a, "hatch-rate", "1000");
    set(a, "iterations", "25");
    set(a, "threads", "1");
    set(a, "no-reset-metrics", "true");
    ASSERT_EQ(goose_attack_run(a), GOOSE_OK);
    json_t *report = report_of(a), *stats = target_json(&tgt, "/stats");
    ASSERT_GT(atomic_load(&refused), 0); /* the own client was asked, and could not */
    ASSERT_EQ(report_total(report), 100);
    ASSERT_EQ(target_count(stats, "/"), 100);
    ASSERT_EQ(json_array_size(json_object_get(report, "errors")), 0);
    json_decref(report);
    json_decref(stats);
    goose_attack_free(a);
    atomic_store(&armed, 0);
    target_stop(&tgt);
}

TEST(own_client_out_of_memory_for_the_run_refuses_it)
{
    goose_attack *a = goose_attack_new();
    goose_scenario *s = goose_scenario_new("Fallback");
    goose_scenario_add_transaction(s, "page", page);
    goose_attack_add_scenario(a, s);
    set(a, "host", "http://127.0.0.1:9");
    set(a, "users", "1");
    set(a, "iterations", "1");
    atomic_store(&armed, 1);
    ASSERT_EQ(goose_attack_run(a), GOOSE_ESYS); /* the engine could not start */
    atomic_store(&armed, 0);
    ASSERT_NOT_NULL(strstr(goose_attack_error(a), "out of memory"));
    goose_attack_free(a);
}

TEST_MAIN(TEST_ENTRY(own_client_out_of_memory_leaves_requests_to_libcurl),
          TEST_ENTRY(own_client_out_of_memory_for_the_run_refuses_it))
