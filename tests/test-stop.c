/* How a run ends, and what a careless transaction cannot break: a response
 * freed twice, the stop timeout (--stop-timeout) and goose_main's signals,
 * against the bundled target on 127.0.0.1. */
#include "e2e.h"

#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

static target tgt;

/* The attack's log lines, kept for the checks. */
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static char log_text[16384];

static void keep_log(void *arg, goose_log_level level, const char *line)
{
    (void)arg;
    pthread_mutex_lock(&log_lock);
    size_t n = strlen(log_text);
    snprintf(log_text + n, sizeof log_text - n, "%d %s\n", (int)level, line);
    pthread_mutex_unlock(&log_lock);
}

static int logged(const char *level_and_text)
{
    pthread_mutex_lock(&log_lock);
    int found = strstr(log_text, level_and_text) != NULL;
    pthread_mutex_unlock(&log_lock);
    return found;
}

static inline double seconds_since(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

static json_t *error_of(json_t *report, const char *name)
{
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(report, "errors"), i, e)
        if (!strcmp(json_string_value(json_object_get(e, "name")), name))
            return e;
    return NULL;
}

/* ---- a response freed twice ---- */

static atomic_int set_failure_rc = 1, stale_status = -1;

static int free_twice(goose_user *u)
{
    goose_response *r1 = goose_get(u, "/node/1");
    goose_response_free(r1);
    goose_response *r2 = goose_get(u, "/node/2"); /* may reuse r1's memory */
    goose_response_free(r1);                      /* refused: r2 lives on */
    atomic_store(&stale_status, goose_response_status(r1));
    atomic_store(&set_failure_rc, goose_response_set_failure(r2, "checked by r2"));
    goose_response_free(r2);
    return GOOSE_OK;
}

TEST(response_double_free_is_refused)
{
    target_start(&tgt);
    goose_attack *a = goose_attack_new();
    goose_scenario *s = goose_scenario_new("careless");
    goose_scenario_add_transaction(s, "free twice", free_twice);
    goose_attack_add_scenario(a, s);
    goose_attack_set_log(a, keep_log, NULL);
    set(a, "host", tgt.url);
    set(a, "users", "1");
    set(a, "iterations", "3");
    ASSERT_EQ(goose_attack_run(a), GOOSE_OK);
    ASSERT_EQ(atomic_load(&set_failure_rc), GOOSE_OK);
    ASSERT_EQ(atomic_load(&stale_status), 0);
    json_t *report = report_of(a), *stats = target_json(&tgt, "/stats");
    json_t *r1 = report_request(report, "GET", "/node/1");
    json_t *r2 = report_request(report, "GET", "/node/2");
    ASSERT_NOT_NULL(r1);
    ASSERT_NOT_NULL(r2);
    ASSERT_EQ(jint(r1, "count"), 3);
    ASSERT_EQ(jint(r1, "fail"), 0);
    ASSERT_EQ(jint(r2, "count"), 3);
    ASSERT_EQ(jint(r2, "fail"), 3); /* r2's failure reached the report */
    json_t *e = error_of(report, "/node/2");
    ASSERT_NOT_NULL(e);
    ASSERT_STR_EQ(json_string_value(json_object_get(e, "error")), "checked by r2");
    ASSERT_EQ(report_total(report), target_total(stats));
    ASSERT(logged("0 goose_response_free: the response was already freed"));
    json_decref(report);
    json_decref(stats);
    goose_attack_free(a);
    target_stop(&tgt);
}

/* One user frees a response of another user of its thread: refused, and
 * the owner still reads and fails it. */
static goose_response *_Atomic shared;
static atomic_int owner_rc = 1, owner_status;

static int owner_or_thief(goose_user *u)
{
    if (goose_user_index(u) == 0) {
        goose_response *r = goose_get(u, "/node/1");
        atomic_store(&shared, r);
        goose_sleep(u, 400);
        atomic_store(&shared, NULL);
        atomic_store(&owner_status, goose_response_status(r));
        atomic_store(&owner_rc, goose_response_set_failure(r, "still mine"));
        goose_response_free(r);
    } else {
        for (int i = 0; i < 20 && !atomic_load(&shared); i++)
            goose_sleep(u, 10);
        goose_response_free(atomic_load(&shared));
    }
    return GOOSE_OK;
}

TEST(response_of_another_user_is_not_freed)
{
    target_start(&tgt);
    goose_attack *a = goose_attack_new();
    goose_scenario *s = goose_scenario_new("neighbours");
    goose_scenario_add_transaction(s, "share", owner_or_thief);
    goose_attack_add_scenario(a, s);
    goose_attack_set_log(a, keep_log, NULL);
    set(a, "host", tgt.url);
    set(a, "users", "2");
    set(a, "hatch-rate", "100");
    set(a, "threads", "1");
    set(a, "iterations", "1");
    ASSERT_EQ(goose_attack_run(a), GOOSE_OK);
    ASSERT_EQ(atomic_load(&owner_status), 200);
    ASSERT_EQ(atomic_load(&owner_rc), GOOSE_OK);
    json_t *report = report_of(a);
    json_t *r1 = report_request(report, "GET", "/node/1");
    ASSERT_NOT_NULL(r1);
    ASSERT_EQ(jint(r1, "fail"), 1);
    ASSERT(logged("0 goose_response_free: the response belongs to another user"));
    json_decref(report);
    goose_attack_free(a);
    target_stop(&tgt);
}

TEST_MAIN(TEST_ENTRY(response_double_free_is_refused),
          TEST_ENTRY(response_of_another_user_is_not_freed))
