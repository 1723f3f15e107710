/* Repeatable users: goose_user_random and --seed, --scheduler, standalone
 * and in a Gaggle of real processes on 127.0.0.1 against the bundled
 * target.  The load test (gaggle-loadtest, LOADTEST_VARIANT=random) has
 * three scenarios of weights 2:1:1; each user asks on start for
 * /r/INDEX/SCENARIO/V1-V2, its first two values, so the report's request
 * names say which user ran which scenario and what it drew. */
#include "gaggle.h"

#include <ctype.h>

#define USERS "8"

static const unsigned WEIGHTS[] = {2, 1, 1};

static int by_text(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The /r/ names of a JSON report, sorted, one a line; each was asked for
 * `times` times (once per start of its user). */
static char *draws_of(json_t *r, long long times)
{
    char *names[64];
    size_t n = 0, i, len = 1;
    json_t *q;
    json_array_foreach(json_object_get(r, "requests"), i, q) {
        const char *name = json_string_value(json_object_get(q, "name"));
        if (strncmp(name, "/r/", 3) != 0)
            continue;
        ASSERT_LT(n, 64);
        if (jint(q, "count") != times || jint(q, "fail") != 0)
            TEST_FAIL("%s: asked for %lld times (%lld failed), not %lld", name,
                      jint(q, "count"), jint(q, "fail"), times);
        names[n++] = (char *)name;
        len += strlen(name) + 1;
    }
    qsort(names, n, sizeof *names, by_text);
    char *out = calloc(1, len);
    for (i = 0; i < n; i++) {
        strcat(out, names[i]);
        strcat(out, "\n");
    }
    return out;
}

/* Every user 0..USERS-1 is there once, with the scenario the scheduler
 * gives its index. */
static void allocation_is(const char *draws, int scheduler, uint64_t seed)
{
    goose_alloc al;
    ASSERT_EQ(goose__alloc_init(&al, WEIGHTS, 3, scheduler, seed), GOOSE_OK);
    int seen[8] = {0};
    for (const char *p = draws; *p; p = strchr(p, '\n') + 1) {
        unsigned index;
        char s;
        ASSERT_EQ(sscanf(p, "/r/%u/%c/", &index, &s), 2);
        ASSERT_LT(index, 8);
        seen[index]++;
        if (s - 'A' != (int)goose__scenario_at(&al, index))
            TEST_FAIL("--scheduler %s: user %u ran %c, not %c", goose__scheduler_name(scheduler),
                      index, s, 'A' + goose__scenario_at(&al, index));
    }
    for (int i = 0; i < 8; i++)
        ASSERT_EQ(seen[i], 1);
    goose__alloc_free(&al);
}

static uint64_t seed_of(json_t *r)
{
    const char *s = json_string_value(json_object_get(r, "seed"));
    ASSERT_NOT_NULL(s);
    ASSERT(isdigit((unsigned char)*s));
    return strtoull(s, NULL, 10);
}

/* A standalone run of 8 users, one pass each, with the extra arguments;
 * its report. */
static json_t *solo(const char *name, const char *const *extra, size_t nextra)
{
    char report[256];
    snprintf(report, sizeof report, "%s/%s.json", dir, name);
    const char *args[40] = {"--host", tgt.url, "-u", USERS, "-r", "400", "--iterations", "1",
                            "--no-print-metrics", "--report-file", report};
    size_t n = 0;
    while (args[n])
        n++;
    for (size_t i = 0; i < nextra; i++)
        args[n++] = extra[i];
    ASSERT_EQ(wait_exit(spawn_argv(name, "random", args, n), 30), 0);
    return load_report(report);
}

/* The same as a Manager with two Workers. */
static json_t *gaggle(const char *const *extra, size_t nextra)
{
    char port[8], report[256];
    manager_spot(port, report);
    const char *args[40] = {"--manager", "--expect-workers", "2", PORT_ARGS(port),
                            "--host", tgt.url, "-u", USERS, "-r", "400", "--iterations", "1",
                            "--no-print-metrics", "--report-file", report};
    size_t n = 0;
    while (args[n])
        n++;
    for (size_t i = 0; i < nextra; i++)
        args[n++] = extra[i];
    pid_t m = spawn_argv("manager", "random", args, n);
    pid_t w0 = spawn("worker0", "random", "--worker", "--manager-port", port, NULL);
    pid_t w1 = spawn("worker1", "random", "--worker", "--manager-port", port, NULL);
    ASSERT_EQ(wait_exit(m, 40), 0);
    ASSERT_EQ(wait_exit(w0, 10), 0);
    ASSERT_EQ(wait_exit(w1, 10), 0);
    json_t *r = load_report(report);
    ASSERT_EQ(workers_sum(r, "done"), 2);
    return r;
}

TEST(same_seed_repeats_each_user)
{
    setup();
    const char *seed[] = {"--seed", "12345"}, *other[] = {"--seed", "12346"};
    json_t *a = solo("first", seed, 2), *b = solo("again", seed, 2), *c = solo("other", other, 2);
    char *da = draws_of(a, 1), *db = draws_of(b, 1), *dc = draws_of(c, 1);
    ASSERT_STR_EQ(da, db);
    allocation_is(da, GOOSE_SCHEDULER_SERIAL, 12345); /* the default */
    allocation_is(dc, GOOSE_SCHEDULER_SERIAL, 12346);
    /* another seed: every user draws other values */
    for (const char *p = da, *q = dc; *p; p = strchr(p, '\n') + 1, q = strchr(q, '\n') + 1) {
        unsigned ip, iq;
        char sp, sq, vp[40], vq[40];
        ASSERT_EQ(sscanf(p, "/r/%u/%c/%39[^\n]", &ip, &sp, vp), 3);
        ASSERT_EQ(sscanf(q, "/r/%u/%c/%39[^\n]", &iq, &sq, vq), 3);
        ASSERT_EQ(ip, iq); /* same user, same scenario, other values */
        ASSERT_EQ(sp, sq);
        ASSERT(strcmp(vp, vq) != 0);
    }
    ASSERT_STR_EQ(json_string_value(json_object_get(a, "seed")), "12345");
    ASSERT(json_is_false(json_object_get(a, "seed_drawn")));
    free(da);
    free(db);
    free(dc);
    json_decref(a);
    json_decref(b);
    json_decref(c);
    teardown();
}

/* Each scheduler gives user indexes to scenarios the same way standalone
 * and in a Gaggle of two Workers, whose users draw what they would
 * standalone; without --seed, the Gaggle's report has the Manager's
 * seed, and a standalone run with it is the same run. */
TEST(gaggle_draws_and_allocates_as_standalone)
{
    setup();
    static const char *const names[] = {"round-robin", "serial", "random"};
    for (int k = 0; k < 3; k++) {
        const char *given[] = {"--scheduler", names[k], "--seed", "77"};
        json_t *g = gaggle(given, k == 2 ? 2 : 4); /* random: the seed drawn */
        uint64_t seed = seed_of(g);
        if (k < 2)
            ASSERT_EQ(seed, 77);
        else
            ASSERT(json_is_true(json_object_get(g, "seed_drawn")));
        char seedtext[24], soloname[16];
        snprintf(seedtext, sizeof seedtext, "%llu", (unsigned long long)seed);
        snprintf(soloname, sizeof soloname, "solo%d", k);
        const char *same[] = {"--scheduler", names[k], "--seed", seedtext};
        json_t *s = solo(soloname, same, 4);
        char *dg = draws_of(g, 1), *ds = draws_of(s, 1);
        ASSERT_STR_EQ(dg, ds);
        allocation_is(dg, goose__scheduler_parse(names[k]), seed);
        size_t i;
        json_t *sc;
        json_array_foreach(json_object_get(g, "scenarios"), i, sc)
            ASSERT_EQ(jint(sc, "users"),
                      jint(json_array_get(json_object_get(s, "scenarios"), i), "users"));
        free(dg);
        free(ds);
        json_decref(g);
        json_decref(s);
    }
    teardown();
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        TEST_FAIL("cannot read %s", path);
    char *buf = calloc(1, 1 << 20);
    size_t n = fread(buf, 1, (1 << 20) - 1, f);
    fclose(f);
    buf[n] = '\0';
    return buf;
}

static void has(const char *what, const char *text, const char *want)
{
    if (!strstr(text, want))
        TEST_FAIL("the %s report has no \"%s\"", what, want);
}

/* No --seed: one is drawn, every report format says it, and --seed with
 * it repeats the run. */
TEST(drawn_seed_is_in_every_report_and_repeats_the_run)
{
    setup();
    char html[256], md[256], csv[256];
    snprintf(html, sizeof html, "%s/r.html", dir);
    snprintf(md, sizeof md, "%s/r.md", dir);
    snprintf(csv, sizeof csv, "%s/r.csv", dir);
    char report[256];
    snprintf(report, sizeof report, "%s/drawn.json", dir);
    pid_t p = spawn("drawn", "random", "--host", tgt.url, "-u", USERS, "-r", "400",
                    "--iterations", "1", "--scheduler", "random", "--report-file", report,
                    "--report-file", html, "--report-file", md, "--report-file", csv, NULL);
    ASSERT_EQ(wait_exit(p, 30), 0);
    json_t *r = load_report(report);
    ASSERT(json_is_true(json_object_get(r, "seed_drawn")));
    uint64_t seed = seed_of(r);
    char s[24], want[160];
    snprintf(s, sizeof s, "%llu", (unsigned long long)seed);
    char *text = slurp(html);
    snprintf(want, sizeof want, "<dt>Seed</dt><dd>%s (drawn; --seed %s repeats this run)", s, s);
    has("HTML", text, want);
    free(text);
    text = slurp(md);
    snprintf(want, sizeof want, "\nSeed: %s (drawn; --seed %s repeats this run).\n", s, s);
    has("Markdown", text, want);
    free(text);
    text = slurp(csv);
    snprintf(want, sizeof want, "\nSeed,%s\n", s);
    has("CSV", text, want);
    free(text);
    char log[256];
    snprintf(log, sizeof log, "%s/drawn.log", dir);
    text = slurp(log); /* the console report goose_main printed */
    snprintf(want, sizeof want, "\nSeed:          %s (drawn; --seed %s repeats this run)\n", s, s);
    has("console", text, want);
    free(text);
    const char *again[] = {"--scheduler", "random", "--seed", s};
    json_t *r2 = solo("repeat", again, 4);
    char *d1 = draws_of(r, 1), *d2 = draws_of(r2, 1);
    ASSERT_STR_EQ(d1, d2);
    allocation_is(d1, GOOSE_SCHEDULER_RANDOM, seed);
    ASSERT(json_is_false(json_object_get(r2, "seed_drawn")));
    free(d1);
    free(d2);
    json_decref(r);
    json_decref(r2);
    teardown();
}

/* A user that starts again (the level fell below it, then rose) draws its
 * values from the start again: each /r/ name is asked for twice, and the
 * values are those of a run that starts each user once. */
TEST(a_restarted_user_draws_the_same_values)
{
    setup();
    char report[256];
    snprintf(report, sizeof report, "%s/plan.json", dir);
    pid_t p = spawn("plan", "random", "--host", tgt.url, "--seed", "5",
                    "--test-plan", USERS ",0s;" USERS ",1s;0,0s;0,1s;" USERS ",0s;" USERS ",1s",
                    "--no-print-metrics", "--report-file", report, NULL);
    ASSERT_EQ(wait_exit(p, 30), 0);
    json_t *r = load_report(report);
    const char *once[] = {"--seed", "5"};
    json_t *r1 = solo("once", once, 2);
    char *twice = draws_of(r, 2), *one = draws_of(r1, 1);
    ASSERT_STR_EQ(twice, one);
    free(twice);
    free(one);
    json_decref(r);
    json_decref(r1);
    teardown();
}

static void refused(const char *flag, const char *value, const char *env, const char *message)
{
    char name[32];
    static int n;
    snprintf(name, sizeof name, "bad%d", n++);
    pid_t p;
    if (env) {
        const char *args[] = {"--host", tgt.url, "-u", "1", "-t", "1s"};
        setenv(env, value, 1);
        p = spawn_argv(name, "random", args, 6);
        unsetenv(env);
    } else {
        p = spawn(name, "random", "--host", tgt.url, "-u", "1", "-t", "1s", flag, value, NULL);
    }
    ASSERT_EQ(wait_exit(p, 10), 2);
    if (!log_has(name, message))
        TEST_FAIL("%s%s %s: no \"%s\" in its output", flag ? flag : env, flag ? "" : "=",
                  value, message);
}

TEST(bad_values_exit_2)
{
    setup();
    refused("--seed", "-1", NULL, "--seed \"-1\" must be a whole number from 0 to "
                                  "18446744073709551615");
    refused("--seed", "18446744073709551616", NULL, "--seed \"18446744073709551616\" must be");
    refused("--seed", "12ab", NULL, "--seed \"12ab\" must be");
    refused("--seed", "", NULL, "--seed \"\" must be");
    refused(NULL, "x", "GOOSE_SEED", "--seed \"x\" must be");
    refused("--scheduler", "roundrobin", NULL,
            "--scheduler \"roundrobin\" must be serial, round-robin or random");
    refused(NULL, "Serial", "GOOSE_SCHEDULER", "--scheduler \"Serial\" must be");
    /* the largest seed is a seed */
    const char *top[] = {"--seed", "18446744073709551615"};
    json_t *r = solo("top", top, 2);
    ASSERT_STR_EQ(json_string_value(json_object_get(r, "seed")), "18446744073709551615");
    json_decref(r);
    teardown();
}

static int noop(goose_user *u)
{
    (void)u;
    return GOOSE_OK;
}

/* A random turn too long to shuffle is refused before any user starts. */
TEST(random_turn_too_long_is_refused)
{
    goose_attack *a = goose_attack_new();
    for (int i = 0; i < 2; i++) {
        goose_scenario *s = goose_scenario_new(i ? "B" : "A");
        goose_scenario_set_weight(s, i ? 1 : GOOSE_RANDOM_CYCLE_MAX);
        goose_scenario_add_transaction(s, "t", noop);
        goose_attack_add_scenario(a, s);
    }
    ASSERT_EQ(goose_attack_set_option(a, "host", "http://127.0.0.1:1"), GOOSE_OK);
    ASSERT_EQ(goose_attack_set_option(a, "users", "1"), GOOSE_OK);
    ASSERT_EQ(goose_attack_set_option(a, "scheduler", "random"), GOOSE_OK);
    ASSERT_EQ(goose_attack_run(a), GOOSE_ECONFIG);
    ASSERT(strstr(goose_attack_error(a), "--scheduler random shuffles one turn"));
    goose_attack_free(a);
}

TEST(user_random_of_no_user)
{
    ASSERT_EQ(goose_user_random(NULL), 0);
}

TEST_MAIN(TEST_ENTRY(same_seed_repeats_each_user),
          TEST_ENTRY(gaggle_draws_and_allocates_as_standalone),
          TEST_ENTRY(drawn_seed_is_in_every_report_and_repeats_the_run),
          TEST_ENTRY(a_restarted_user_draws_the_same_values), TEST_ENTRY(bad_values_exit_2),
          TEST_ENTRY(random_turn_too_long_is_refused), TEST_ENTRY(user_random_of_no_user))
