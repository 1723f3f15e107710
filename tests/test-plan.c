/* User allocation by weight and the order of transactions. */
#include "test.h"

#include "run/run.h"

static int noop(goose_user *u)
{
    (void)u;
    return GOOSE_OK;
}

static const int SCHEDULERS[] = {GOOSE_SCHEDULER_ROUND_ROBIN, GOOSE_SCHEDULER_SERIAL,
                                 GOOSE_SCHEDULER_RANDOM};

static void allocate_by(int scheduler, uint64_t seed, const unsigned *w, size_t n,
                        size_t users, unsigned *out)
{
    goose_alloc al;
    ASSERT_EQ(goose__alloc_init(&al, w, n, scheduler, seed), GOOSE_OK);
    ASSERT_EQ(goose__allocate_users(&al, users, out), 0);
    goose__alloc_free(&al);
}

/* Users per scenario, under every scheduler: a full turn has each
 * scenario's weight. */
static void allocate(const unsigned *w, size_t n, size_t users, size_t *counts)
{
    unsigned out[1000];
    for (size_t k = 0; k < 3; k++) {
        size_t c[8] = {0};
        allocate_by(SCHEDULERS[k], 7, w, n, users, out);
        for (size_t i = 0; i < users; i++) {
            ASSERT_LT(out[i], n);
            c[out[i]]++;
        }
        if (k == 0)
            memcpy(counts, c, n * sizeof *counts);
        else if (users % 4 == 0 || users % 6 == 0) /* whole turns here */
            ASSERT_EQ(memcmp(counts, c, n * sizeof *counts), 0);
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
    allocate(w, 2, 2, c); /* round-robin: one of each first */
    ASSERT_EQ(c[0], 1);
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
    allocate(w, 3, 7, c); /* the 7th starts a new turn with scenario 0 */
    ASSERT_EQ(c[0], 4);
}

static void order_is(int scheduler, const unsigned *w, size_t n, const char *want)
{
    unsigned out[32];
    char got[33];
    size_t len = strlen(want);
    allocate_by(scheduler, 0, w, n, len, out);
    for (size_t i = 0; i < len; i++)
        got[i] = (char)('A' + out[i]);
    got[len] = '\0';
    ASSERT_STR_EQ(got, want);
}

/* Goose's GooseScheduler: round-robin takes one of each in turn, serial
 * each scenario's weight in a row. */
TEST(allocation_is_deterministic_and_ordered)
{
    unsigned w[] = {2, 1};
    unsigned a[9], b[9];
    allocate_by(GOOSE_SCHEDULER_ROUND_ROBIN, 1, w, 2, 9, a);
    allocate_by(GOOSE_SCHEDULER_ROUND_ROBIN, 2, w, 2, 9, b);
    ASSERT_EQ(memcmp(a, b, sizeof a), 0); /* no seed in it */
    order_is(GOOSE_SCHEDULER_ROUND_ROBIN, w, 2, "ABAABAABA");
    order_is(GOOSE_SCHEDULER_SERIAL, w, 2, "AABAABAAB");
    unsigned w3[] = {3, 1};
    order_is(GOOSE_SCHEDULER_ROUND_ROBIN, w3, 2, "ABAAABAA");
    order_is(GOOSE_SCHEDULER_SERIAL, w3, 2, "AAABAAAB");
    unsigned w5[] = {2, 2, 1};
    order_is(GOOSE_SCHEDULER_ROUND_ROBIN, w5, 3, "ABCABABCAB");
    order_is(GOOSE_SCHEDULER_SERIAL, w5, 3, "AABBCAABBC");
    unsigned w4[] = {1, 3, 2};
    order_is(GOOSE_SCHEDULER_ROUND_ROBIN, w4, 3, "ABCBCBABCBCB");
}

/* random: one turn shuffled from the seed, the same every turn; the same
 * seed gives the same order, other seeds others. */
TEST(random_follows_the_seed)
{
    unsigned w[] = {5, 3, 2}, a[40], b[40];
    allocate_by(GOOSE_SCHEDULER_RANDOM, 42, w, 3, 40, a);
    allocate_by(GOOSE_SCHEDULER_RANDOM, 42, w, 3, 40, b);
    ASSERT_EQ(memcmp(a, b, sizeof a), 0);
    for (size_t i = 10; i < 40; i++)
        ASSERT_EQ(a[i], a[i % 10]);
    size_t c[3] = {0};
    for (size_t i = 0; i < 10; i++)
        c[a[i]]++;
    ASSERT_EQ(c[0], 5);
    ASSERT_EQ(c[1], 3);
    ASSERT_EQ(c[2], 2);
    int differs = 0, shuffled = 0;
    for (uint64_t seed = 0; seed < 20; seed++) {
        allocate_by(GOOSE_SCHEDULER_RANDOM, seed, w, 3, 10, b);
        differs += memcmp(a, b, 10 * sizeof *a) != 0;
        shuffled += b[0] != 0 || b[4] != 0 || b[5] != 1; /* not serial's */
    }
    ASSERT_GT(differs, 15);
    ASSERT_GT(shuffled, 15);
}

/* The helpers of the open model and the Gaggle agree with the allocation
 * under every scheduler: the ordinal of a user is its rank among its
 * scenario's users, scenario_user inverts it, scenario_users counts. */
TEST(helpers_agree_with_the_allocation)
{
    static const unsigned weights[][3] = {{1, 1, 1}, {3, 1, 0}, {2, 5, 3}, {7, 1, 4}, {6, 4, 2}};
    static const size_t counts[] = {3, 2, 3, 3, 3};
    for (size_t k = 0; k < 3; k++) {
        for (size_t wi = 0; wi < 5; wi++) {
            const unsigned *w = weights[wi];
            size_t n = counts[wi];
            goose_alloc al;
            ASSERT_EQ(goose__alloc_init(&al, w, n, SCHEDULERS[k], 99), GOOSE_OK);
            uint64_t seen[3] = {0};
            for (uint64_t i = 0; i < 60; i++) {
                for (unsigned s = 0; s < n; s++)
                    if (goose__scenario_users(&al, s, i) != seen[s])
                        TEST_FAIL("%s %u:%u:%u: scenario %u has %llu of %llu users, not %llu",
                                  goose__scheduler_name(SCHEDULERS[k]), w[0], w[1], w[2], s,
                                  (unsigned long long)goose__scenario_users(&al, s, i),
                                  (unsigned long long)i, (unsigned long long)seen[s]);
                unsigned s;
                uint64_t m = goose__scenario_ordinal(&al, i, &s);
                ASSERT_EQ(s, goose__scenario_at(&al, i));
                ASSERT_EQ(m, seen[s]);
                ASSERT_EQ(goose__scenario_user(&al, s, m), i);
                seen[s]++;
            }
            goose__alloc_free(&al);
        }
    }
}

TEST(zero_weight_refused)
{
    unsigned w[] = {1, 0};
    goose_alloc al;
    ASSERT_EQ(goose__alloc_init(&al, w, 2, GOOSE_SCHEDULER_ROUND_ROBIN, 0), GOOSE_EINVAL);
    ASSERT_EQ(goose__alloc_init(&al, w, 0, GOOSE_SCHEDULER_SERIAL, 0), GOOSE_EINVAL);
    unsigned out[4];
    ASSERT_EQ(goose__allocate_users(&al, 4, out), -1);
    unsigned big[] = {GOOSE_RANDOM_CYCLE_MAX, 1}; /* a turn too long to shuffle */
    ASSERT_EQ(goose__alloc_init(&al, big, 2, GOOSE_SCHEDULER_RANDOM, 0), GOOSE_ECONFIG);
    ASSERT_EQ(goose__alloc_init(&al, big, 2, GOOSE_SCHEDULER_ROUND_ROBIN, 0), GOOSE_OK);
    ASSERT_EQ(goose__scenario_users(&al, 1, GOOSE_RANDOM_CYCLE_MAX + 1ull), 1);
    ASSERT_EQ(goose__scenario_at(&al, 1), 1);
    goose__alloc_free(&al);
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
          TEST_ENTRY(random_follows_the_seed), TEST_ENTRY(helpers_agree_with_the_allocation),
          TEST_ENTRY(zero_weight_refused), TEST_ENTRY(transaction_order),
          TEST_ENTRY(shared_taskset_gets_ids_per_scenario),
          TEST_ENTRY(bad_registrations_are_refused),
          TEST_ENTRY(empty_scenario_and_missing_host),
          TEST_ENTRY(bad_transaction_names))
