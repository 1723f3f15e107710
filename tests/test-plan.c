/* User allocation by weight and the order of transactions. */
#include "test.h"

#include "run/run.h"

static int noop(goose_user *u)
{
    (void)u;
    return GOOSE_OK;
}

static void allocate(const unsigned *w, size_t n, size_t users, size_t *counts)
{
    unsigned out[1000];
    ASSERT_EQ(goose__allocate_users(w, n, users, out), 0);
    memset(counts, 0, n * sizeof *counts);
    for (size_t i = 0; i < users; i++) {
        ASSERT_LT(out[i], n);
        counts[out[i]]++;
    }
}

TEST(weights_3_to_1)
{
    unsigned w[] = {3, 1};
    size_t c[2];
    allocate(w, 2, 8, c);
    ASSERT_EQ(c[0], 6);
    ASSERT_EQ(c[1], 2);
    allocate(w, 2, 5, c);
    ASSERT_EQ(c[0], 4);
    ASSERT_EQ(c[1], 1);
    allocate(w, 2, 1, c);
    ASSERT_EQ(c[0], 1);
}

TEST(weights_reduced_by_gcd)
{
    unsigned w[] = {30, 10, 20};
    size_t c[3];
    allocate(w, 3, 6, c);
    ASSERT_EQ(c[0], 3);
    ASSERT_EQ(c[1], 1);
    ASSERT_EQ(c[2], 2);
    allocate(w, 3, 7, c); /* the 7th starts a new cycle with scenario 0 */
    ASSERT_EQ(c[0], 4);
}

TEST(allocation_is_deterministic_and_ordered)
{
    unsigned w[] = {2, 1};
    unsigned a[9], b[9];
    ASSERT_EQ(goose__allocate_users(w, 2, 9, a), 0);
    ASSERT_EQ(goose__allocate_users(w, 2, 9, b), 0);
    ASSERT_EQ(memcmp(a, b, sizeof a), 0);
    unsigned want[] = {0, 0, 1, 0, 0, 1, 0, 0, 1};
    ASSERT_EQ(memcmp(a, want, sizeof a), 0);
}

TEST(zero_weight_refused)
{
    unsigned w[] = {1, 0};
    unsigned out[4];
    ASSERT_EQ(goose__allocate_users(w, 2, 4, out), -1);
    ASSERT_EQ(goose__allocate_users(w, 0, 4, out), -1);
}

static const char *loop_names(const goose_scenario_plan *sp, char *buf, size_t len)
{
    buf[0] = '\0';
    for (size_t i = 0; i < sp->nloop; i++) {
        strncat(buf, sp->loop[i].name, len - strlen(buf) - 2);
        strncat(buf, " ", len - strlen(buf) - 1);
    }
    return buf;
}

TEST(transaction_order)
{
    goose_attack *a = goose_attack_new();
    goose_attack_set_option(a, "host", "http://127.0.0.1:1");
    goose_attack_set_option(a, "users", "4");
    goose_scenario *s = goose_scenario_new("S");
    goose_transaction_set_weight(goose_scenario_add_transaction(s, "A", noop), 3);
    goose_scenario_add_transaction(s, "B", noop);
    goose_transaction_set_sequence(goose_scenario_add_transaction(s, "S2", noop), 2);
    goose_transaction *s1 = goose_scenario_add_transaction(s, "S1", noop);
    goose_transaction_set_sequence(s1, 1);
    goose_transaction_set_weight(s1, 2);
    goose_transaction_set_on_start(goose_scenario_add_transaction(s, "start", noop));
    goose_transaction_set_on_stop(goose_scenario_add_transaction(s, "stop", noop));
    ASSERT_EQ(goose_attack_add_scenario(a, s), GOOSE_OK);
    goose_plan p;
    ASSERT_EQ(goose__plan_build(a, &p), GOOSE_OK);
    char buf[256];
    ASSERT_STR_EQ(loop_names(&p.scenarios[0], buf, sizeof buf), "S1 S1 S2 A B A A ");
    ASSERT_EQ(p.scenarios[0].non_start, 1);
    ASSERT_STR_EQ(p.scenarios[0].on_start[0].name, "start");
    ASSERT_EQ(p.scenarios[0].non_stop, 1);
    ASSERT_STR_EQ(p.scenarios[0].on_stop[0].name, "stop");
    ASSERT_EQ(p.ntxs, 6); /* one id per transaction, repeats share it */
    ASSERT_EQ(p.scenarios[0].loop[0].id, p.scenarios[0].loop[1].id);
    goose__plan_free(&p);
    goose_attack_free(a);
}

TEST(shared_taskset_gets_ids_per_scenario)
{
    goose_attack *a = goose_attack_new();
    goose_attack_set_option(a, "host", "http://127.0.0.1:1");
    goose_attack_set_option(a, "users", "8");
    goose_taskset *ts = goose_taskset_new("browse");
    goose_taskset_add_transaction(ts, "read", noop);
    goose_scenario *x = goose_scenario_new("X");
    goose_scenario_set_weight(x, 3);
    goose_scenario_add_taskset(x, ts);
    goose_scenario *y = goose_scenario_new("Y");
    goose_scenario_add_transaction(y, "first", noop);
    goose_scenario_add_taskset(y, ts);
    ASSERT_EQ(goose_attack_add_scenario(a, x), GOOSE_OK);
    ASSERT_EQ(goose_attack_add_scenario(a, y), GOOSE_OK);
    goose_plan p;
    ASSERT_EQ(goose__plan_build(a, &p), GOOSE_OK);
    ASSERT_EQ(p.ntxs, 3);
    ASSERT_STR_EQ(p.txs[0].scenario, "X");
    ASSERT_STR_EQ(p.txs[2].scenario, "Y");
    ASSERT_STR_EQ(p.txs[2].name, "read");
    size_t xs = 0;
    for (int i = 0; i < 8; i++)
        xs += p.user_scenario[i] == 0;
    ASSERT_EQ(xs, 6);
    goose__plan_free(&p);
    goose_attack_free(a); /* frees the task set with its last scenario */
}

static int build_error(goose_attack *a)
{
    goose_plan p;
    int rc = goose__plan_build(a, &p);
    if (rc == GOOSE_OK)
        goose__plan_free(&p);
    return rc;
}

TEST(bad_registrations_are_refused)
{
    goose_attack *a = goose_attack_new();
    ASSERT_EQ(build_error(a), GOOSE_ECONFIG); /* no scenarios */
    ASSERT(strstr(goose_attack_error(a), "no scenarios"));
    ASSERT_NULL(goose_scenario_new(NULL));
    ASSERT_NULL(goose_scenario_new(""));
    ASSERT_NULL(goose_taskset_new(""));
    ASSERT_EQ(goose_attack_add_scenario(a, NULL), GOOSE_EINVAL);
    goose_scenario *w0 = goose_scenario_new("zero");
    ASSERT_EQ(goose_scenario_set_weight(w0, 0), GOOSE_EINVAL);
    goose_scenario_add_transaction(w0, "t", noop);
    ASSERT_EQ(goose_attack_add_scenario(a, w0), GOOSE_ECONFIG);
    ASSERT(strstr(goose_attack_error(a), "weight"));
    goose_scenario *ok = goose_scenario_new("ok");
    goose_scenario_add_transaction(ok, "t", noop);
    ASSERT_EQ(goose_attack_add_scenario(a, ok), GOOSE_OK);
    goose_scenario *dup = goose_scenario_new("ok");
    ASSERT_EQ(goose_attack_add_scenario(a, dup), GOOSE_EEXIST);
    ASSERT(strstr(goose_attack_error(a), "duplicate"));
    ASSERT_EQ(goose_transaction_set_weight(NULL, 1), GOOSE_EINVAL);
    ASSERT_NULL(goose_scenario_add_transaction(NULL, "x", noop));
    goose_attack_free(a);
}

TEST(empty_scenario_and_missing_host)
{
    goose_attack *a = goose_attack_new();
    goose_scenario *empty = goose_scenario_new("empty");
    ASSERT_EQ(goose_attack_add_scenario(a, empty), GOOSE_OK);
    ASSERT_EQ(build_error(a), GOOSE_ECONFIG);
    ASSERT(strstr(goose_attack_error(a), "no transactions"));
    goose_attack_free(a);

    a = goose_attack_new();
    goose_scenario *s = goose_scenario_new("s");
    goose_scenario_add_transaction(s, "t", noop);
    goose_attack_add_scenario(a, s);
    ASSERT_EQ(build_error(a), GOOSE_ECONFIG);
    ASSERT(strstr(goose_attack_error(a), "no host"));
    goose_attack_free(a);

    a = goose_attack_new();
    s = goose_scenario_new("s");
    goose_transaction *t = goose_scenario_add_transaction(s, "t", noop);
    goose_attack_add_scenario(a, s);
    goose_attack_set_option(a, "host", "http://127.0.0.1:1");
    goose_transaction_set_weight(t, 0); /* a mistake made after adding */
    ASSERT_EQ(build_error(a), GOOSE_ECONFIG);
    ASSERT(strstr(goose_attack_error(a), "weight"));
    ASSERT_NULL(goose_scenario_add_transaction(NULL, "t", noop));
    goose_attack_free(a);
}

TEST(bad_transaction_names)
{
    goose_attack *a = goose_attack_new();
    goose_scenario *s = goose_scenario_new("s");
    goose_scenario_add_transaction(s, NULL, noop);
    ASSERT_EQ(goose_attack_add_scenario(a, s), GOOSE_ECONFIG);
    ASSERT(strstr(goose_attack_error(a), "empty name"));
    goose_taskset *ts = goose_taskset_new("ts");
    goose_taskset_add_transaction(ts, "nofn", NULL);
    goose_scenario *s2 = goose_scenario_new("s2");
    goose_scenario_add_taskset(s2, ts);
    goose_attack_set_option(a, "host", "http://127.0.0.1:1");
    ASSERT_EQ(goose_attack_add_scenario(a, s2), GOOSE_OK);
    ASSERT_EQ(goose_attack_run(a), GOOSE_ECONFIG); /* the first mistake wins */
    goose_attack_free(a);
    goose_taskset_free(NULL);
}

TEST_MAIN(TEST_ENTRY(weights_3_to_1), TEST_ENTRY(weights_reduced_by_gcd),
          TEST_ENTRY(allocation_is_deterministic_and_ordered),
          TEST_ENTRY(zero_weight_refused), TEST_ENTRY(transaction_order),
          TEST_ENTRY(shared_taskset_gets_ids_per_scenario),
          TEST_ENTRY(bad_registrations_are_refused),
          TEST_ENTRY(empty_scenario_and_missing_host),
          TEST_ENTRY(bad_transaction_names))
