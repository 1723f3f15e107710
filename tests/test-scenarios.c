/* --scenarios and --scenarios-list: matching by machine name and glob,
 * refusals, the plan over the selected scenarios, a standalone run and a
 * Gaggle against the target's own counters, and goose_main's listing. */
#include "gaggle.h"

#include <stdatomic.h>

#include "fuzz/seeds.h"

static atomic_int calls, starts, stops;

static int noop(goose_user *u)
{
    (void)u;
    atomic_fetch_add(&calls, 1);
    return GOOSE_OK;
}

static int front_page(goose_user *u)
{
    goose_response_free(goose_get(u, "/"));
    return GOOSE_OK;
}

static int node(goose_user *u)
{
    goose_response_free(goose_get(u, "/node/1"));
    return GOOSE_OK;
}

static int log_in(goose_user *u)
{
    atomic_fetch_add(&starts, 1);
    goose_request *req = goose_request_new(u, "POST", "/login");
    goose_request_set_body(req, "a=b", 3);
    goose_request_expect_status(req, 302);
    goose_response_free(goose_request_send(req));
    return GOOSE_OK;
}

static int log_out(goose_user *u)
{
    atomic_fetch_add(&stops, 1);
    goose_response_free(goose_get(u, "/logout"));
    return GOOSE_OK;
}

static int match(const char *pattern, const char *name)
{
    return goose__scenario_match(pattern, strlen(pattern), name);
}

TEST(match_exact_glob_and_machine_names)
{
    ASSERT(match("Reader", "Reader"));
    ASSERT(match("reader", "Reader"));
    ASSERT(match("LoadHomepage", "Load Homepage"));
    ASSERT(match("load homepage", "LoadHomepage"));
    ASSERT(match("load-home_page!", "loadhomepage"));
    ASSERT(!match("Read", "Reader")); /* exact unless a '*' says otherwise */
    ASSERT(!match("Readers", "Reader"));
    ASSERT(!match("Reader2", "Reader"));
    ASSERT(match("read*", "Reader"));
    ASSERT(match("READ*", "Reader"));
    ASSERT(match("*er", "Reader"));
    ASSERT(match("*ad*", "Reader"));
    ASSERT(match("r*d*r", "Reader"));
    ASSERT(match("*", "Anything at all"));
    ASSERT(match("**", "x"));
    ASSERT(match("reader*", "Reader")); /* '*' may match nothing */
    ASSERT(!match("re*x", "Reader"));
    ASSERT(!match("a*", "Reader"));
    ASSERT(!match("*x*", "Reader"));
    ASSERT(match("*ab", "aab")); /* the glob retries after a false start */
    ASSERT(match("a*b*c", "abxbbc"));
    ASSERT(match("*a*b", "xaxb"));
    ASSERT(!match("*a*b", "xaxbx"));
    ASSERT(match("café", "Café")); /* beyond ASCII: compared as they are */
    ASSERT(!match("cafe", "Café"));
    ASSERT(!match("CAFÉ", "café"));
    ASSERT(match("admin user 2", "Admin-User (2)"));
    ASSERT(!match("admin user 2", "Admin User 20"));
    ASSERT_EQ(goose__scenario_match("reader,writer", 6, "Reader"), 1); /* one item */
    ASSERT_EQ(goose__scenario_match("reader,writer", 6, "Writer"), 0);
}

static goose_attack *three_scenarios(const char *host_of_b)
{
    goose_attack *a = goose_attack_new();
    const char *names[] = {"Anon Reader", "Admin", "Anon Writer"};
    unsigned weights[] = {3, 1, 2};
    for (int i = 0; i < 3; i++) {
        goose_scenario *s = goose_scenario_new(names[i]);
        goose_scenario_set_weight(s, weights[i]);
        goose_scenario_add_transaction(s, "one", noop);
        if (i == 1)
            goose_scenario_add_transaction(s, "two", noop);
        if (i != 1 || host_of_b)
            goose_scenario_set_host(s, i == 1 ? host_of_b : "http://127.0.0.1:1");
        goose_attack_add_scenario(a, s);
    }
    return a;
}

static void refused_value(const char *value)
{
    goose_attack *a = three_scenarios(NULL);
    if (goose_attack_set_option(a, "scenarios", value) != GOOSE_EVALUE)
        TEST_FAIL("--scenarios \"%s\" was not refused", value);
    ASSERT_NULL(a->opt.scenarios);
    ASSERT_EQ(goose__option_given(&a->opt, GOOSE_OPT_SCENARIOS), 0);
    goose_attack_free(a);
}

TEST(empty_lists_and_items_are_refused)
{
    refused_value("");
    refused_value(",");
    refused_value("reader,");
    refused_value(",reader");
    refused_value("reader,,writer");
    refused_value("reader, ,writer");
    refused_value("--"); /* nothing that counts in a name */
    char *huge = malloc(GOOSE_SCENARIOS_MAX + 2);
    memset(huge, 'a', GOOSE_SCENARIOS_MAX + 1);
    huge[GOOSE_SCENARIOS_MAX + 1] = '\0';
    refused_value(huge);
    free(huge);
    goose_attack *a = three_scenarios(NULL);
    ASSERT_EQ(goose_attack_set_option(a, "scenarios", "reader,"), GOOSE_EVALUE);
    ASSERT_STR_EQ(goose_attack_error(a), "--scenarios \"reader,\" has an empty item: give "
                                         "scenario names separated by commas, like "
                                         "\"reader,admin*\"");
    set(a, "scenarios", " anon reader , *");
    ASSERT_STR_EQ(a->opt.scenarios, " anon reader , *");
    goose_attack_free(a);
}

TEST(an_item_matching_nothing_names_it_and_the_scenarios)
{
    goose_attack *a = three_scenarios("http://127.0.0.1:1");
    set(a, "scenarios", "admin,anon*,bogus*");
    set(a, "users", "2");
    set(a, "run-time", "1s");
    ASSERT_EQ(goose_attack_run(a), GOOSE_ECONFIG);
    ASSERT_STR_EQ(goose_attack_error(a), "--scenarios: \"bogus*\" matches no scenario (the "
                                         "scenarios are \"Anon Reader\", \"Admin\", "
                                         "\"Anon Writer\")");
    ASSERT_EQ(atomic_load(&calls), 0); /* refused before any user started */
    char *text = NULL;
    ASSERT_EQ(goose__scenarios_list(a, &text), GOOSE_ECONFIG);
    ASSERT_NULL(text);
    goose_attack_free(a);
}

static void check_plan(goose_attack *a, const char *list, size_t users,
                       const char *const *names, const unsigned *weights, size_t n,
                       size_t ntxs)
{
    goose_plan p;
    unsigned want[64];
    a->opt.users = users;
    set(a, "scenarios", list);
    if (goose__plan_build(a, &p) != GOOSE_OK)
        TEST_FAIL("--scenarios %s: %s", list, goose_attack_error(a));
    ASSERT_EQ(p.nscenarios, n);
    for (size_t i = 0; i < n; i++)
        ASSERT_STR_EQ(p.scenarios[i].name, names[i]);
    ASSERT_EQ(p.ntxs, ntxs);
    goose_alloc al;
    ASSERT_EQ(goose__alloc_init(&al, weights, n, GOOSE_SCHEDULER_SERIAL, 0), GOOSE_OK);
    goose__allocate_users(&al, users, want);
    goose__alloc_free(&al);
    for (size_t u = 0; u < users; u++)
        ASSERT_EQ(p.user_scenario[u], want[u]);
    goose__plan_free(&p);
}

TEST(only_the_selected_scenarios_are_planned)
{
    goose_attack *a = three_scenarios("http://127.0.0.1:2");
    const char *ac[] = {"Anon Reader", "Anon Writer"}, *b[] = {"Admin"};
    const char *all[] = {"Anon Reader", "Admin", "Anon Writer"};
    unsigned w_ac[] = {3, 2}, w_b[] = {1}, w_all[] = {3, 1, 2};
    /* the weighted cycle over the selected ones: 10 users at 3:2 are 6 and 4 */
    check_plan(a, "anon*", 10, ac, w_ac, 2, 2);
    check_plan(a, "anonwriter,ANON READER", 10, ac, w_ac, 2, 2); /* registration order */
    check_plan(a, "admin", 5, b, w_b, 1, 2);
    check_plan(a, "*", 12, all, w_all, 3, 4);
    check_plan(a, "admin,*", 12, all, w_all, 3, 4); /* chosen twice is once */
    goose_attack_free(a);
    /* a scenario that does not run needs no host */
    a = three_scenarios(NULL);
    check_plan(a, "anon*", 4, ac, w_ac, 2, 2);
    set(a, "scenarios", "admin");
    goose_plan p;
    ASSERT_EQ(goose__plan_build(a, &p), GOOSE_ECONFIG);
    ASSERT(strstr(goose_attack_error(a), "scenario \"Admin\" has no host"));
    goose_attack_free(a);
}

TEST(listing_names_weights_and_transactions)
{
    goose_attack *a = goose_attack_new();
    goose_taskset *browse = goose_taskset_new("browse");
    goose_transaction_set_weight(goose_taskset_add_transaction(browse, "front", noop), 3);
    goose_taskset_add_transaction(browse, "node", noop);
    goose_scenario *reader = goose_scenario_new("Reader");
    goose_scenario_set_weight(reader, 4);
    goose_scenario_add_taskset(reader, browse);
    goose_attack_add_scenario(a, reader);
    goose_scenario *admin = goose_scenario_new("Admin user");
    goose_transaction_set_on_start(goose_scenario_add_transaction(admin, "log in", noop));
    goose_transaction_set_sequence(goose_scenario_add_transaction(admin, "edit", noop), 1);
    goose_scenario_add_taskset(admin, browse);
    goose_transaction_set_on_stop(goose_scenario_add_transaction(admin, "log out", noop));
    goose_attack_add_scenario(a, admin);
    char *text = NULL;
    ASSERT_EQ(goose__scenarios_list(a, &text), GOOSE_OK);
    ASSERT_STR_EQ(text, "Reader (weight 4): front (weight 3), node\n"
                        "Admin user (weight 1): log in (on_start), edit (sequence 1), "
                        "front (weight 3), node, log out (on_stop)\n");
    free(text);
    set(a, "scenarios", "admin*");
    ASSERT_EQ(goose__scenarios_list(a, &text), GOOSE_OK);
    ASSERT_STR_EQ(text, "Admin user (weight 1): log in (on_start), edit (sequence 1), "
                        "front (weight 3), node, log out (on_stop)\n");
    free(text);
    ASSERT_EQ(atomic_load(&calls), 0);
    goose_attack_free(a);
    a = goose_attack_new();
    ASSERT_EQ(goose__scenarios_list(a, &text), GOOSE_ECONFIG); /* nothing registered */
    goose_attack_free(a);
}

/* The Manager's selection reaches the Worker; what the Manager sent does
 * not count as given to the Worker. */
TEST(welcome_carries_the_selection)
{
    const char *lists[] = {"reader,admin*", "", ",", "reader,"};
    const int ok[] = {1, 1, 0, 0};
    for (int i = 0; i < 4; i++) {
        gaggle_out out;
        msgpack_unpacked u;
        char type[32];
        goose_options o;
        gaggle_welcome w;
        seed_welcome(&out, lists[i]);
        goose__out_finish(&out);
        msgpack_unpacked_init(&u);
        ASSERT_EQ(goose__frame_decode((unsigned char *)out.sb.data + 4, out.sb.size - 4, &u,
                                      type, sizeof type), 0);
        goose__options_init(&o);
        o.scenarios = strdup("stale");
        ASSERT_EQ(goose__welcome_read(&u.data, 3, &w, &o) == 0, ok[i]);
        if (ok[i] && lists[i][0])
            ASSERT_STR_EQ(o.scenarios, lists[i]);
        if (ok[i] && !lists[i][0])
            ASSERT_NULL(o.scenarios);
        if (ok[i]) { /* the Manager's seed and scheduler come with it */
            ASSERT_EQ(o.seed, 18446744073709551557ull);
            ASSERT_EQ(o.seed_set, 1);
            ASSERT_EQ(o.scheduler, GOOSE_SCHEDULER_ROUND_ROBIN);
        }
        ASSERT_EQ(o.set_mask[0] | o.set_mask[1], 0);
        goose__welcome_free(&w);
        goose__options_free(&o);
        msgpack_unpacked_destroy(&u);
        goose__out_free(&out);
    }
}

static goose_attack *reader_and_writer(void)
{
    goose_attack *a = goose_attack_new();
    goose_scenario *reader = goose_scenario_new("Reader");
    goose_scenario_set_weight(reader, 3);
    goose_scenario_set_wait_time(reader, 1, 5);
    goose_scenario_add_transaction(reader, "front", front_page);
    goose_attack_add_scenario(a, reader);
    goose_scenario *writer = goose_scenario_new("Writer");
    goose_scenario_set_wait_time(writer, 1, 5);
    goose_transaction_set_on_start(goose_scenario_add_transaction(writer, "log in", log_in));
    goose_scenario_add_transaction(writer, "node", node);
    goose_transaction_set_on_stop(goose_scenario_add_transaction(writer, "log out", log_out));
    goose_attack_add_scenario(a, writer);
    set(a, "host", tgt.url);
    set(a, "users", "4");
    set(a, "run-time", "1s");
    set(a, "no-reset-metrics", NULL);
    return a;
}

/* Every report format names the scenario that ran (CSV has requests
 * alone) and never the other. */
static void reports_hold_only(goose_attack *a, const char *ran, const char *other)
{
    const char *formats[] = {"json", "text", "html", "md", "csv"};
    for (int i = 0; i < 5; i++) {
        char *text = goose_attack_report(a, formats[i]);
        ASSERT_NOT_NULL(text);
        if ((strcmp(formats[i], "csv") && !strstr(text, ran)) || strstr(text, other))
            TEST_FAIL("the %s report does not hold %s alone", formats[i], ran);
        goose_free(text);
    }
    json_t *r = report_of(a), *sc = json_object_get(r, "scenarios"), *tx;
    size_t i;
    ASSERT_EQ(json_array_size(sc), 1);
    ASSERT_STR_EQ(json_string_value(json_object_get(json_array_get(sc, 0), "name")), ran);
    ASSERT_EQ(jint(json_array_get(sc, 0), "users"), 4);
    ASSERT_GT(jint(json_array_get(sc, 0), "iterations"), 0);
    json_array_foreach(json_object_get(r, "transactions"), i, tx)
        ASSERT_STR_EQ(json_string_value(json_object_get(tx, "scenario")), ran);
    json_t *stats = target_json(&tgt, "/stats");
    ASSERT_EQ(report_total(r), target_total(stats));
    json_decref(stats);
    json_decref(r);
}

TEST(standalone_runs_only_the_selected_scenario)
{
    target_start(&tgt);
    goose_attack *a = reader_and_writer();
    set(a, "hatch-rate", "40");
    set(a, "scenarios", "READ*"); /* Reader alone: weight 3 of 4 no longer matters */
    ASSERT_EQ(goose_attack_run(a), GOOSE_OK);
    json_t *stats = target_json(&tgt, "/stats");
    ASSERT_GT(target_count(stats, "/"), 0);
    ASSERT_EQ(target_count(stats, "/node/1"), 0);
    ASSERT_EQ(target_count(stats, "/login"), 0);
    ASSERT_EQ(target_count(stats, "/logout"), 0);
    ASSERT_EQ(atomic_load(&starts), 0); /* Writer's on_start and on_stop never ran */
    ASSERT_EQ(atomic_load(&stops), 0);
    json_decref(stats);
    reports_hold_only(a, "Reader", "Writer");
    goose_attack_free(a);
    json_decref(target_json(&tgt, "/reset"));
    a = reader_and_writer();
    set(a, "hatch-rate", "40");
    set(a, "scenarios", "writer");
    ASSERT_EQ(goose_attack_run(a), GOOSE_OK);
    stats = target_json(&tgt, "/stats");
    ASSERT_EQ(target_count(stats, "/"), 0);
    ASSERT_GT(target_count(stats, "/node/1"), 0);
    ASSERT_EQ(target_count(stats, "/login"), 4); /* all 4 users are Writers */
    ASSERT_EQ(target_count(stats, "/logout"), 4);
    ASSERT_EQ(atomic_load(&starts), 4);
    json_decref(stats);
    reports_hold_only(a, "Writer", "Reader");
    goose_attack_free(a);
    target_stop(&tgt);
}

/* Arrivals of the open model go to the selected scenario alone. */
TEST(open_model_arrivals_go_to_the_selected_scenario)
{
    target_start(&tgt);
    goose_attack *a = reader_and_writer();
    set(a, "arrival-rate", "40"); /* the pool of 4 users starts at once */
    set(a, "scenarios", "writer");
    ASSERT_EQ(goose_attack_run(a), GOOSE_OK);
    json_t *stats = target_json(&tgt, "/stats");
    ASSERT_EQ(target_count(stats, "/"), 0);
    ASSERT_GT(target_count(stats, "/node/1"), 10);
    ASSERT_LE(target_count(stats, "/login"), 4); /* once per user of the pool */
    json_decref(stats);
    reports_hold_only(a, "Writer", "Reader");
    goose_attack_free(a);
    target_stop(&tgt);
}

/* The whole of a process's output (stdout and stderr). */
static char *log_text(const char *name)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s.log", dir, name);
    FILE *f = fopen(path, "r");
    ASSERT_NOT_NULL(f);
    static char buf[65536];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    return buf;
}

TEST(main_lists_the_scenarios_and_runs_nothing)
{
    setup();
    pid_t p = spawn("list", NULL, "--scenarios-list", "--host", tgt.url, "-t", "2s", NULL);
    ASSERT_EQ(wait_exit(p, 10), 0);
    ASSERT_STR_EQ(log_text("list"), "Reader (weight 3): front (weight 3), node\n"
                                    "Writer (weight 1): log in (on_start), front, "
                                    "log out (on_stop)\n");
    p = spawn("list-selected", NULL, "--scenarios-list", "--scenarios", "w*", NULL);
    ASSERT_EQ(wait_exit(p, 10), 0);
    ASSERT_STR_EQ(log_text("list-selected"), "Writer (weight 1): log in (on_start), front, "
                                             "log out (on_stop)\n");
    p = spawn("list-bogus", NULL, "--scenarios-list", "--scenarios", "w*,bogus", NULL);
    ASSERT_EQ(wait_exit(p, 10), 2);
    ASSERT_STR_EQ(log_text("list-bogus"), "error: --scenarios: \"bogus\" matches no scenario "
                                          "(the scenarios are \"Reader\", \"Writer\")\n");
    json_t *stats = target_json(&tgt, "/stats");
    ASSERT_EQ(target_total(stats), 0);
    json_decref(stats);
    teardown();
}

TEST(main_refuses_an_unknown_scenario_before_any_user)
{
    setup();
    pid_t p = spawn("unknown", NULL, "--scenarios", "reader,nobody", "--host", tgt.url,
                    "-u", "2", "-r", "10", "-t", "2s", NULL);
    ASSERT_EQ(wait_exit(p, 10), 2);
    ASSERT(log_has("unknown", "error: --scenarios: \"nobody\" matches no scenario (the "
                              "scenarios are \"Reader\", \"Writer\")\n"));
    setenv("GOOSE_SCENARIOS", "", 1); /* empty counts as unset: runs both */
    p = spawn("empty-env", NULL, "--scenarios-list", NULL);
    ASSERT_EQ(wait_exit(p, 10), 0);
    ASSERT(log_has("empty-env", "Reader (weight 3)"));
    setenv("GOOSE_SCENARIOS", "reader,", 1);
    p = spawn("bad-env", NULL, "--host", tgt.url, "-u", "2", "-t", "2s", NULL);
    ASSERT_EQ(wait_exit(p, 10), 2);
    ASSERT(log_has("bad-env", "has an empty item"));
    ASSERT(log_has("bad-env", "(from GOOSE_SCENARIOS)"));
    unsetenv("GOOSE_SCENARIOS");
    json_t *stats = target_json(&tgt, "/stats");
    ASSERT_EQ(target_total(stats), 0);
    json_decref(stats);
    teardown();
}

TEST(gaggle_runs_the_managers_selection)
{
    setup();
    char port[8], report[256];
    manager_spot(port, report);
    pid_t m = spawn("manager", NULL, "--manager", "--expect-workers", "2", PORT_ARGS(port),
                    "--host", tgt.url, "-u", "6", "-r", "30", "-t", "2s", "--scenarios",
                    "WRITER", "--no-reset-metrics", "--report-file", report, NULL);
    pid_t w[2];
    for (int i = 0; i < 2; i++) {
        char name[24];
        snprintf(name, sizeof name, "worker%d", i);
        w[i] = spawn(name, NULL, "--worker", "--manager-port", port, NULL);
    }
    ASSERT_EQ(wait_exit(m, 30), 0);
    for (int i = 0; i < 2; i++)
        ASSERT_EQ(wait_exit(w[i], 10), 0);
    json_t *r = load_report(report), *stats = target_json(&tgt, "/stats");
    ASSERT_EQ(target_count(stats, "/node/7"), 0); /* Reader's alone */
    ASSERT_EQ(target_count(stats, "/login"), 6);  /* every user is a Writer */
    ASSERT_EQ(target_count(stats, "/logout"), 6);
    ASSERT_GT(target_count(stats, "/"), 0);
    ASSERT_EQ(report_total(r), target_total(stats));
    ASSERT_EQ(workers_sum(r, "done"), 2);
    json_t *sc = json_object_get(r, "scenarios");
    ASSERT_EQ(json_array_size(sc), 1);
    ASSERT_STR_EQ(json_string_value(json_object_get(json_array_get(sc, 0), "name")), "Writer");
    ASSERT_EQ(jint(json_array_get(sc, 0), "users"), 6);
    ASSERT_GT(jint(json_array_get(sc, 0), "iterations"), 0);
    json_t *tx;
    size_t i;
    json_array_foreach(json_object_get(r, "transactions"), i, tx) {
        ASSERT_STR_EQ(json_string_value(json_object_get(tx, "scenario")), "Writer");
        ASSERT_GT(jint(tx, "count"), 0); /* ids agree: each counted where it ran */
    }
    ASSERT(log_has("worker0", "running 1 of 2 scenarios (--scenarios WRITER)"));
    json_decref(r);
    json_decref(stats);
    teardown();
}

TEST(a_worker_refuses_scenarios)
{
    setup();
    pid_t p = spawn("worker", NULL, "--worker", "--scenarios", "reader", NULL);
    ASSERT_EQ(wait_exit(p, 10), 2);
    ASSERT(log_has("worker", "error: --scenarios makes no sense on a Worker: set it on "
                             "the Manager\n"));
    teardown();
}

TEST_MAIN(TEST_ENTRY(match_exact_glob_and_machine_names),
          TEST_ENTRY(empty_lists_and_items_are_refused),
          TEST_ENTRY(an_item_matching_nothing_names_it_and_the_scenarios),
          TEST_ENTRY(only_the_selected_scenarios_are_planned),
          TEST_ENTRY(listing_names_weights_and_transactions),
          TEST_ENTRY(welcome_carries_the_selection),
          TEST_ENTRY(standalone_runs_only_the_selected_scenario),
          TEST_ENTRY(open_model_arrivals_go_to_the_selected_scenario),
          TEST_ENTRY(main_lists_the_scenarios_and_runs_nothing),
          TEST_ENTRY(main_refuses_an_unknown_scenario_before_any_user),
          TEST_ENTRY(gaggle_runs_the_managers_selection),
          TEST_ENTRY(a_worker_refuses_scenarios))
