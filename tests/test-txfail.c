/* goose_transaction_fail and goose_user_stop, end to end against the
 * bundled target: the reasons in every report and through a Gaggle, the
 * bound on their rows, and users that stop. */
#include "e2e.h"

#include "gaggle/wire.h"

#include <pthread.h>
#include <stdatomic.h>
#include <sys/stat.h>
#include <time.h>

/* The library's own hook (engine/engine.h), for helpers such as a bad
 * pattern in goose_response_extract. */
int goose__transaction_fail(goose_user *u, const char *why);

#define NAME_LONG 5000 /* past what the codec takes (4095 bytes) */

static target tgt;
static atomic_int misuse_seen;

static int get(goose_user *u, const char *fmt, unsigned n)
{
    char path[64];
    snprintf(path, sizeof path, fmt, n);
    goose_response *r = goose_get(u, path);
    int status = goose_response_status(r);
    goose_response_free(r);
    return status;
}

/* Fails with a reason and returns 0: the first reason stays. */
static int checked(goose_user *u)
{
    get(u, "/", 0);
    if (goose_transaction_fail(u, "bad token") != GOOSE_OK ||
        goose_transaction_fail(u, "a later reason") != GOOSE_OK)
        miss("goose_transaction_fail refused a reason");
    return GOOSE_OK;
}

static int returns_seven(goose_user *u)
{
    get(u, "/", 0);
    return 7;
}

static int fine(goose_user *u)
{
    get(u, "/", 0);
    return GOOSE_OK;
}

/* Through the library's hook, with a reason per user parity (in a Gaggle
 * of two, one per Worker). */
static int by_hook(goose_user *u)
{
    if (goose__transaction_fail(u, goose_user_index(u) % 2 ? "odd user" : "even user") !=
        GOOSE_OK)
        miss("goose__transaction_fail refused a reason");
    return GOOSE_OK;
}

/* The load test alone (a Worker takes its options from the Manager). */
static goose_attack *shop(void)
{
    goose_attack *a = goose_attack_new();
    goose_scenario *s = goose_scenario_new("Shop");
    goose_scenario_add_transaction(s, "checked", checked);
    goose_scenario_add_transaction(s, "returns", returns_seven);
    goose_scenario_add_transaction(s, "fine", fine);
    goose_scenario_add_transaction(s, "hook", by_hook);
    goose_attack_add_scenario(a, s);
    return a;
}

static goose_attack *reasons_attack(void)
{
    goose_attack *a = shop();
    set(a, "host", tgt.url);
    set(a, "hatch-rate", "100");
    set(a, "iterations", "3");
    return a;
}

/* The transaction_errors row (scenario, name, error) of a JSON report. */
static long long tx_error(json_t *report, const char *name, const char *error)
{
    size_t i;
    json_t *e;
    long long found = -1;
    json_array_foreach(json_object_get(report, "transaction_errors"), i, e) {
        if (strcmp(json_string_value(json_object_get(e, "scenario")), "Shop") ||
            strcmp(json_string_value(json_object_get(e, "name")), name) ||
            strcmp(json_string_value(json_object_get(e, "error")), error))
            continue;
        if (found >= 0)
            TEST_FAIL("two rows for %s: %s", name, error);
        found = jint(e, "count");
    }
    return found;
}

static long long tx_fails(json_t *report, const char *name)
{
    size_t i;
    json_t *t;
    json_array_foreach(json_object_get(report, "transactions"), i, t)
        if (!strcmp(json_string_value(json_object_get(t, "name")), name))
            return jint(t, "fail");
    TEST_FAIL("no transaction %s", name);
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        TEST_FAIL("cannot read %s", path);
    static char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    return buf;
}

static void has(const char *text, const char *what, const char *format)
{
    if (!strstr(text, what))
        TEST_FAIL("the %s report lacks \"%s\":\n%s", format, what, text);
}

static void rendered_has(goose_attack *a, const char *format, const char *const *lines)
{
    char *text = goose_attack_report(a, format);
    ASSERT_NOT_NULL(text);
    for (; *lines; lines++)
        has(text, *lines, format);
    ASSERT(!strstr(text, "a later reason"));
    goose_free(text);
}

/* Six runs of each transaction (2 users, 3 iterations): the reasons, with
 * their exact counts, in the JSON, text, HTML, Markdown and CSV reports;
 * a transaction that returned non-zero without one says what it returned;
 * the first reason of a transaction is the one kept. */
TEST(reasons_in_every_report)
{
    target_start(&tgt);
    char dir[] = "/tmp/goose-txfail-XXXXXX", csv[80], csv_tx[96];
    ASSERT_NOT_NULL(mkdtemp(dir));
    snprintf(csv, sizeof csv, "%s/r.csv", dir);
    snprintf(csv_tx, sizeof csv_tx, "%s/r_transaction_errors.csv", dir);
    goose_attack *a = reasons_attack();
    set(a, "users", "2");
    set(a, "report-file", csv);
    ASSERT_EQ(goose_attack_run(a), GOOSE_OK);
    ASSERT_EQ(atomic_load(&bad), 0);

    json_t *r = report_of(a);
    ASSERT_EQ(json_array_size(json_object_get(r, "transaction_errors")), 4);
    ASSERT_EQ(tx_error(r, "checked", "bad token"), 6);
    ASSERT_EQ(tx_error(r, "returns", "returned 7"), 6);
    ASSERT_EQ(tx_error(r, "hook", "even user"), 3);
    ASSERT_EQ(tx_error(r, "hook", "odd user"), 3);
    ASSERT_EQ(tx_fails(r, "checked"), 6);
    ASSERT_EQ(tx_fails(r, "returns"), 6);
    ASSERT_EQ(tx_fails(r, "fine"), 0);
    ASSERT_EQ(tx_fails(r, "hook"), 6);
    /* the requests' errors are their own: every GET / succeeded */
    ASSERT_EQ(json_array_size(json_object_get(r, "errors")), 0);
    ASSERT_EQ(jint(json_object_get(r, "request_names"), "transaction_errors_folded"), 0);
    json_decref(r);

    static const char *const text[] = {"TRANSACTION ERRORS", " bad token", " returned 7", NULL};
    rendered_has(a, "text", text);
    char *t = goose_attack_report(a, "text"); /* the row: count, scenario, name, error */
    ASSERT_NOT_NULL(t);
    const char *row = strstr(t, "TRANSACTION ERRORS");
    ASSERT_NOT_NULL(row);
    ASSERT_NOT_NULL(strstr(row, "6 | Shop"));
    goose_free(t);
    static const char *const html[] = {
        "<h2>Transaction errors</h2>",
        "<tr><td>6</td><td class=\"name\">Shop</td><td class=\"name\">checked</td>"
        "<td class=\"name\">bad token</td></tr>",
        "<tr><td>6</td><td class=\"name\">Shop</td><td class=\"name\">returns</td>"
        "<td class=\"name\">returned 7</td></tr>",
        NULL};
    rendered_has(a, "html", html);
    static const char *const md[] = {"## Transaction errors", "| 6 | Shop | checked | bad token |",
                                     "| 6 | Shop | returns | returned 7 |",
                                     "| 3 | Shop | hook | odd user |", NULL};
    rendered_has(a, "md", md);
    char *c = slurp(csv_tx);
    has(c, "Scenario,Transaction,Error,Occurrences\n", "CSV");
    has(c, "\nShop,checked,bad token,6\n", "CSV");
    has(c, "\nShop,returns,returned 7,6\n", "CSV");
    has(c, "\nShop,hook,even user,3\n", "CSV");
    goose_attack_free(a);
    target_stop(&tgt);
    char cmd[120];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    ASSERT_EQ(system(cmd), 0);
}

/* A run where nothing failed: the key is there, empty, and the other
 * reports have no table for it. */
TEST(no_failure_no_table)
{
    target_start(&tgt);
    goose_attack *a = goose_attack_new();
    goose_scenario *s = goose_scenario_new("Shop");
    goose_scenario_add_transaction(s, "fine", fine);
    goose_attack_add_scenario(a, s);
    set(a, "host", tgt.url);
    set(a, "users", "1");
    set(a, "iterations", "2");
    ASSERT_EQ(goose_attack_run(a), GOOSE_OK);
    json_t *r = report_of(a);
    ASSERT(json_is_array(json_object_get(r, "transaction_errors")));
    ASSERT_EQ(json_array_size(json_object_get(r, "transaction_errors")), 0);
    json_decref(r);
    static const char *const formats[] = {"text", "html", "md"};
    for (size_t i = 0; i < 3; i++) {
        char *text = goose_attack_report(a, formats[i]);
        ASSERT_NOT_NULL(text);
        ASSERT(!strstr(text, "TRANSACTION ERRORS") && !strstr(text, "Transaction errors"));
        goose_free(text);
    }
    goose_attack_free(a);
    target_stop(&tgt);
}

static goose_user *parked; /* user 0, between its transactions */
static atomic_int parked_set;

static int park(goose_user *u)
{
    if (goose_user_index(u) == 0 && !atomic_exchange(&parked_set, 1))
        parked = u;
    return GOOSE_OK;
}

/* Misuse is refused with GOOSE_EINVAL, and changes nothing: no user, no
 * reason, an empty one, and a user that is not running the transaction
 * that asks (user 0 between its transactions). */
static int misuse(goose_user *u)
{
    int ok = goose_transaction_fail(NULL, "x") == GOOSE_EINVAL &&
             goose_transaction_fail(u, NULL) == GOOSE_EINVAL &&
             goose_transaction_fail(u, "") == GOOSE_EINVAL &&
             goose__transaction_fail(u, NULL) == GOOSE_EINVAL &&
             goose_user_stop(NULL) == GOOSE_EINVAL;
    if (goose_user_index(u) == 1 && atomic_load(&parked_set))
        ok &= goose_transaction_fail(parked, "not its transaction") == GOOSE_EINVAL &&
              goose_user_stop(parked) == GOOSE_EINVAL;
    if (goose_user_index(u) == 1 && atomic_load(&parked_set))
        atomic_fetch_add(&misuse_seen, 1);
    if (!ok)
        miss("misuse was not refused");
    return GOOSE_OK;
}

TEST(misuse_is_refused)
{
    target_start(&tgt);
    goose_attack *a = goose_attack_new();
    goose_scenario *s = goose_scenario_new("Shop");
    goose_transaction_set_on_start(goose_scenario_add_transaction(s, "park", park));
    goose_scenario_add_transaction(s, "misuse", misuse);
    goose_scenario_add_transaction(s, "fine", fine);
    goose_attack_add_scenario(a, s);
    set(a, "host", tgt.url);
    set(a, "users", "2");
    set(a, "threads", "1"); /* user 0 cannot be in a transaction while user 1 is */
    set(a, "hatch-rate", "100");
    set(a, "iterations", "3");
    ASSERT_EQ(goose_attack_run(a), GOOSE_OK);
    ASSERT_EQ(atomic_load(&bad), 0);
    ASSERT_GT(atomic_load(&misuse_seen), 0);
    json_t *r = report_of(a);
    ASSERT_EQ(json_array_size(json_object_get(r, "transaction_errors")), 0);
    ASSERT_EQ(tx_fails(r, "misuse"), 0);
    json_decref(r);
    goose_attack_free(a);
    target_stop(&tgt);
}

static int many_reasons(goose_user *u)
{
    static atomic_uint n;
    char why[32];
    snprintf(why, sizeof why, "reason %u", atomic_fetch_add(&n, 1));
    goose_transaction_fail(u, why);
    return GOOSE_OK;
}

static goose_attack *many(void)
{
    goose_attack *a = goose_attack_new();
    goose_scenario *s = goose_scenario_new("Shop");
    goose_scenario_add_transaction(s, "many", many_reasons);
    goose_attack_add_scenario(a, s);
    return a;
}

/* Past --max-request-names, new reasons of a transaction fold into its
 * "(other errors)" row: none lost, and the reports say how many folded. */
TEST(reasons_are_bounded)
{
    target_start(&tgt);
    goose_attack *a = many();
    set(a, "host", tgt.url);
    set(a, "users", "1");
    set(a, "iterations", "10");
    set(a, "max-request-names", "2");
    ASSERT_EQ(goose_attack_run(a), GOOSE_OK);
    json_t *r = report_of(a);
    json_t *rows = json_object_get(r, "transaction_errors");
    ASSERT_EQ(json_array_size(rows), 3);
    ASSERT_EQ(tx_error(r, "many", "reason 0"), 1);
    ASSERT_EQ(tx_error(r, "many", "reason 1"), 1);
    ASSERT_EQ(tx_error(r, "many", "(other errors)"), 8);
    ASSERT_EQ(tx_fails(r, "many"), 10);
    ASSERT_EQ(jint(json_object_get(r, "request_names"), "transaction_errors_folded"), 8);
    json_decref(r);
    static const char *const text[] = {
        "8 transaction error texts past --max-request-names 2 are counted under "
        "\"(other errors)\"", NULL};
    rendered_has(a, "text", text);
    rendered_has(a, "md", text);
    goose_attack_free(a);
    target_stop(&tgt);
}

static void *manager_main(void *arg)
{
    static int rc;
    rc = gaggle_manager_run(arg);
    return &rc;
}

/* The Manager m (its options set) and n Workers made by make, in threads
 * of this process; every one ends well. */
static void run_gaggle(goose_attack *m, goose_attack *(*make)(void), int n)
{
    char mport[8], workers[8];
    snprintf(mport, sizeof mport, "%d", free_port());
    snprintf(workers, sizeof workers, "%d", n);
    set(m, "manager", NULL);
    set(m, "expect-workers", workers);
    set(m, "manager-bind-host", "127.0.0.1");
    set(m, "manager-bind-port", mport);
    set(m, "gaggle-timeout", "10s");
    goose_attack *w[2];
    gaggle_worker *gw[2];
    pthread_t mt;
    ASSERT_EQ(pthread_create(&mt, NULL, manager_main, m), 0);
    for (int i = 0; i < n && i < 2; i++) {
        w[i] = make();
        set(w[i], "worker", NULL);
        set(w[i], "manager-host", "127.0.0.1");
        set(w[i], "manager-port", mport);
        set(w[i], "gaggle-timeout", "10s");
        gw[i] = gaggle_worker_start(w[i]);
        ASSERT_NOT_NULL(gw[i]);
    }
    for (int i = 0; i < n && i < 2; i++)
        ASSERT_EQ(gaggle_worker_join(gw[i]), GOOSE_OK);
    void *mrc;
    pthread_join(mt, &mrc);
    ASSERT_EQ(*(int *)mrc, GOOSE_OK);
    for (int i = 0; i < n && i < 2; i++)
        goose_attack_free(w[i]);
}

/* A Gaggle of two Workers: the Manager's table is the sum of theirs (each
 * Worker runs users of one parity, so "even user" and "odd user" come
 * from one Worker each). */
TEST(gaggle_sums_the_workers)
{
    target_start(&tgt);
    goose_attack *m = reasons_attack();
    set(m, "users", "4");
    run_gaggle(m, shop, 2);
    ASSERT_EQ(atomic_load(&bad), 0);
    json_t *r = report_of(m);
    ASSERT_EQ(json_array_size(json_object_get(r, "transaction_errors")), 4);
    ASSERT_EQ(tx_error(r, "checked", "bad token"), 12);
    ASSERT_EQ(tx_error(r, "returns", "returned 7"), 12);
    ASSERT_EQ(tx_error(r, "hook", "even user"), 6);
    ASSERT_EQ(tx_error(r, "hook", "odd user"), 6);
    ASSERT_EQ(tx_fails(r, "checked"), 12);
    json_decref(r);
    static const char *const md[] = {"| 12 | Shop | checked | bad token |", NULL};
    rendered_has(m, "md", md);
    goose_attack_free(m);
    target_stop(&tgt);
}

/* ---- on the wire ---- */

typedef void (*pack_fn)(msgpack_packer *pk, int which);

/* An empty shard of 3 transactions, with a "transaction_errors" entry as
 * pack writes it: goose__unpack_stats's result, the rows into *out. */
static int unpack_tx_errors(pack_fn pack, int which, goose_stats *out)
{
    goose_stats empty;
    ASSERT_EQ(goose__stats_init(&empty, 3, 1), 0);
    msgpack_sbuffer sb, full;
    msgpack_packer pk;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    goose__pack_stats(&pk, &empty);
    ASSERT_EQ((unsigned char)sb.data[0], 0x8b); /* a map of 11: one byte */
    msgpack_sbuffer_init(&full);
    msgpack_packer_init(&pk, &full, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 12);
    msgpack_sbuffer_write(&full, sb.data + 1, sb.size - 1);
    goose__pack_str(&pk, "transaction_errors");
    pack(&pk, which);
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    size_t off = 0;
    ASSERT_EQ(msgpack_unpack_next(&u, full.data, full.size, &off), MSGPACK_UNPACK_SUCCESS);
    ASSERT_EQ(goose__stats_init(out, 3, 1), 0);
    int rc = goose__unpack_stats(&u.data, out);
    msgpack_unpacked_destroy(&u);
    msgpack_sbuffer_destroy(&sb);
    msgpack_sbuffer_destroy(&full);
    goose__stats_free(&empty);
    return rc;
}

/* Rows as a hostile or broken Worker might send them: 0 and 1 are good. */
static void pack_rows(msgpack_packer *pk, int which)
{
    static char long_text[NAME_LONG + 1];
    if (which == 2) {
        msgpack_pack_nil(pk); /* not a list */
        return;
    }
    msgpack_pack_array(pk, which == 0 ? 0 : 1);
    if (which == 0)
        return;
    msgpack_pack_array(pk, which == 3 ? 2 : 3); /* 3: a short row */
    if (which == 4)
        msgpack_pack_uint64(pk, 3); /* no such transaction */
    else if (which == 5)
        goose__pack_str(pk, "1"); /* an id that is not a number */
    else
        msgpack_pack_uint64(pk, 1);
    if (which == 6) {
        msgpack_pack_uint64(pk, 7); /* a reason that is not text */
    } else if (which == 7) {
        goose__pack_str(pk, ""); /* an empty reason */
    } else if (which == 8) {
        msgpack_pack_str(pk, 3);
        msgpack_pack_str_body(pk, "a\0b", 3); /* a NUL inside */
    } else if (which == 9) {
        memset(long_text, 'x', NAME_LONG);
        goose__pack_str(pk, long_text); /* longer than any kept reason */
    } else {
        goose__pack_str(pk, "bad token");
    }
    if (which == 10)
        msgpack_pack_int64(pk, -1); /* a count below zero */
    else if (which != 3)
        msgpack_pack_uint64(pk, 5);
}

/* A Worker's transaction errors reach the Manager as they were, and a
 * malformed row is refused, as every other field is. */
TEST(transaction_errors_on_the_wire)
{
    goose_stats a, b;
    ASSERT_EQ(goose__stats_init(&a, 3, 1), 0);
    ASSERT_EQ(goose__stats_add_tx_error(&a, 0, "bad token", 2), 0);
    ASSERT_EQ(goose__stats_add_tx_error(&a, 2, "returned 7", 1), 0);
    ASSERT_EQ(goose__stats_add_tx_error(&a, 0, "bad token", 1), 0);
    msgpack_sbuffer sb;
    msgpack_packer pk;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    goose__pack_stats(&pk, &a);
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    size_t off = 0;
    ASSERT_EQ(msgpack_unpack_next(&u, sb.data, sb.size, &off), MSGPACK_UNPACK_SUCCESS);
    ASSERT_EQ(goose__stats_init(&b, 3, 1), 0);
    ASSERT_EQ(goose__unpack_stats(&u.data, &b), 0);
    ASSERT_EQ(goose__unpack_stats(&u.data, &b), 0); /* a second shard adds up */
    ASSERT_EQ(b.ntxerrs, 2);
    ASSERT_EQ(b.txerrs[0].tx, 0);
    ASSERT_STR_EQ(b.txerrs[0].error, "bad token");
    ASSERT_EQ(b.txerrs[0].count, 6);
    ASSERT_EQ(b.txerrs[1].tx, 2);
    ASSERT_STR_EQ(b.txerrs[1].error, "returned 7");
    ASSERT_EQ(b.txerrs[1].count, 2);
    msgpack_unpacked_destroy(&u);
    msgpack_sbuffer_destroy(&sb);
    goose__stats_free(&a);
    goose__stats_free(&b);

    ASSERT_EQ(unpack_tx_errors(pack_rows, 0, &b), 0);
    ASSERT_EQ(b.ntxerrs, 0);
    goose__stats_free(&b);
    ASSERT_EQ(unpack_tx_errors(pack_rows, 1, &b), 0);
    ASSERT_EQ(b.ntxerrs, 1);
    ASSERT_EQ(b.txerrs[0].tx, 1);
    ASSERT_EQ(b.txerrs[0].count, 5);
    goose__stats_free(&b);
    for (int bad = 2; bad <= 10; bad++) {
        if (unpack_tx_errors(pack_rows, bad, &b) != -1)
            TEST_FAIL("malformed row %d was taken", bad);
        goose__stats_free(&b);
    }
}

/* ---- goose_user_stop ---- */

static atomic_int stop_rc_bad;

/* Even users' login "fails": they stop; the other users go on. */
static int log_in(goose_user *u)
{
    unsigned i = goose_user_index(u);
    get(u, "/login/%u", i);
    if (i % 2 == 0) {
        goose_transaction_fail(u, "login refused");
        if (goose_user_stop(u) != GOOSE_OK)
            atomic_fetch_add(&stop_rc_bad, 1);
        get(u, "/after-stop/%u", i); /* the transaction goes on to its end */
        return 1;
    }
    return GOOSE_OK;
}

static int browse(goose_user *u)
{
    get(u, "/loop/%u", goose_user_index(u));
    return GOOSE_OK;
}

static int log_out(goose_user *u)
{
    get(u, "/bye/%u", goose_user_index(u));
    return GOOSE_OK;
}

static goose_attack *stop_attack(goose_transaction_fn start, goose_transaction_fn loop)
{
    goose_attack *a = goose_attack_new();
    goose_scenario *s = goose_scenario_new("Shop");
    if (start)
        goose_transaction_set_on_start(goose_scenario_add_transaction(s, "log in", start));
    goose_scenario_add_transaction(s, "browse", loop);
    goose_transaction_set_on_stop(goose_scenario_add_transaction(s, "log out", log_out));
    goose_scenario_set_wait_time(s, 10, 20);
    goose_attack_add_scenario(a, s);
    set(a, "host", tgt.url);
    return a;
}

static long long seen(json_t *stats, const char *fmt, unsigned i)
{
    char path[64];
    snprintf(path, sizeof path, fmt, i);
    return target_count(stats, path);
}

/* goose_user_stop in on_start: that user's on_stop runs and none of its
 * loop; the others browse until the run time is up. */
TEST(stop_in_on_start)
{
    target_start(&tgt);
    goose_attack *a = stop_attack(log_in, browse);
    set(a, "users", "4");
    set(a, "hatch-rate", "100");
    set(a, "run-time", "2s");
    /* the logins fail during the hatch: whether one lands before the reset
       at the last launch is the machine's timing, not this test's point */
    set(a, "no-reset-metrics", NULL);
    ASSERT_EQ(goose_attack_run(a), GOOSE_OK);
    ASSERT_EQ(atomic_load(&stop_rc_bad), 0);
    json_t *stats = target_json(&tgt, "/stats");
    for (unsigned i = 0; i < 4; i++) {
        ASSERT_EQ(seen(stats, "/login/%u", i), 1);
        ASSERT_EQ(seen(stats, "/bye/%u", i), 1);
        if (i % 2 == 0) {
            ASSERT_EQ(seen(stats, "/after-stop/%u", i), 1);
            ASSERT_EQ(seen(stats, "/loop/%u", i), 0);
        } else {
            ASSERT_GT(seen(stats, "/loop/%u", i), 5);
        }
    }
    json_decref(stats);
    json_t *r = report_of(a);
    ASSERT_EQ(tx_error(r, "log in", "login refused"), 2);
    ASSERT_EQ(tx_fails(r, "log in"), 2);
    ASSERT_GT(json_number_value(json_object_get(r, "duration_s")), 1.5); /* the others ran on */
    json_decref(r);
    goose_attack_free(a);
    target_stop(&tgt);
}

static int stop_all(goose_user *u)
{
    get(u, "/login/%u", goose_user_index(u));
    return goose_user_stop(u);
}

/* Every user stops in on_start, one after the other on one thread as the
 * ramp starts them: each one's turn comes (none is lost when those before
 * it are done), and then the run ends, long before its run time, as a run
 * with --iterations ends once every user has done them. */
TEST(all_stopped_ends_the_run)
{
    target_start(&tgt);
    goose_attack *a = stop_attack(stop_all, browse);
    set(a, "users", "4");
    set(a, "hatch-rate", "4");
    set(a, "threads", "2");
    set(a, "run-time", "60s");
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    ASSERT_EQ(goose_attack_run(a), GOOSE_OK);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    ASSERT_LT(t1.tv_sec - t0.tv_sec, 30);
    json_t *stats = target_json(&tgt, "/stats");
    for (unsigned i = 0; i < 4; i++) {
        ASSERT_EQ(seen(stats, "/login/%u", i), 1);
        ASSERT_EQ(seen(stats, "/loop/%u", i), 0);
        ASSERT_EQ(seen(stats, "/bye/%u", i), 1);
    }
    json_decref(stats);
    json_t *r = report_of(a);
    ASSERT_EQ(tx_fails(r, "log in"), 0); /* goose_user_stop returned GOOSE_OK */
    json_decref(r);
    goose_attack_free(a);
    target_stop(&tgt);
}

/* In the loop: the user ends its iteration's transaction, runs on_stop and
 * is done; with --iterations the run ends when the others have run theirs. */
static atomic_int user1_loops;

static int browse_then_stop(goose_user *u)
{
    unsigned i = goose_user_index(u);
    get(u, "/loop/%u", i);
    if (i == 1 && atomic_fetch_add(&user1_loops, 1) + 1 == 2)
        goose_user_stop(u);
    return GOOSE_OK;
}

TEST(stop_in_the_loop)
{
    target_start(&tgt);
    goose_attack *a = stop_attack(NULL, browse_then_stop);
    set(a, "users", "3");
    set(a, "hatch-rate", "100");
    set(a, "iterations", "5");
    ASSERT_EQ(goose_attack_run(a), GOOSE_OK);
    json_t *stats = target_json(&tgt, "/stats");
    for (unsigned i = 0; i < 3; i++) {
        ASSERT_EQ(seen(stats, "/loop/%u", i), i == 1 ? 2 : 5);
        ASSERT_EQ(seen(stats, "/bye/%u", i), 1);
    }
    json_decref(stats);
    json_t *r = report_of(a);
    ASSERT_EQ(jint(json_array_get(json_object_get(r, "scenarios"), 0), "iterations"), 12);
    json_decref(r);
    goose_attack_free(a);
    target_stop(&tgt);
}

/* What a Worker folded reaches the Manager's report: the Worker's bound
 * (the Manager's --max-request-names) folds reasons 2 to 9, and the
 * Manager says so. */
TEST(gaggle_reports_what_workers_folded)
{
    target_start(&tgt);
    goose_attack *m = many();
    set(m, "host", tgt.url);
    set(m, "users", "1");
    set(m, "hatch-rate", "100");
    set(m, "iterations", "10");
    set(m, "max-request-names", "2");
    run_gaggle(m, many, 1);
    json_t *r = report_of(m);
    ASSERT_EQ(json_array_size(json_object_get(r, "transaction_errors")), 3);
    ASSERT_EQ(tx_error(r, "many", "(other errors)"), 8);
    ASSERT_EQ(jint(json_object_get(r, "request_names"), "transaction_errors_folded"), 8);
    json_decref(r);
    static const char *const text[] = {"8 transaction error texts past --max-request-names 2",
                                       NULL};
    rendered_has(m, "text", text);
    goose_attack_free(m);
    target_stop(&tgt);
}

TEST_MAIN(TEST_ENTRY(reasons_in_every_report), TEST_ENTRY(no_failure_no_table),
          TEST_ENTRY(misuse_is_refused), TEST_ENTRY(reasons_are_bounded),
          TEST_ENTRY(gaggle_sums_the_workers), TEST_ENTRY(gaggle_reports_what_workers_folded),
          TEST_ENTRY(transaction_errors_on_the_wire),
          TEST_ENTRY(stop_in_on_start),
          TEST_ENTRY(all_stopped_ends_the_run), TEST_ENTRY(stop_in_the_loop))
