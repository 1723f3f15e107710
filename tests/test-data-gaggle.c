/* Test data across a Gaggle: each Worker's share, the "rows" frames over a
 * real connection, a Worker's checks of what a Manager sends, and real
 * Manager and Worker processes against the target. */
#include "gaggle.h"

#include <event2/event.h>
#include <stdlib.h>
#include <sys/resource.h>

/* ---- shares ---- */

TEST(share_of_each_worker)
{
    gaggle_share s;
    /* UNIQUE: the rows of its users w, w+E, ... below the users of the test */
    goose__rows_share(10, GOOSE_DATA_UNIQUE, 0, 4, 10, &s);
    ASSERT_EQ(s.first, 0);
    ASSERT_EQ(s.step, 4);
    ASSERT_EQ(s.count, 3); /* 0, 4, 8 */
    goose__rows_share(10, GOOSE_DATA_UNIQUE, 3, 4, 10, &s);
    ASSERT_EQ(s.first, 3);
    ASSERT_EQ(s.count, 2); /* 3, 7 */
    goose__rows_share(10, GOOSE_DATA_UNIQUE, 1, 4, 6, &s); /* 6 users: 1, 5 */
    ASSERT_EQ(s.count, 2);
    goose__rows_share(10, GOOSE_DATA_UNIQUE, 1, 4, (size_t)-1, &s); /* a controller: all */
    ASSERT_EQ(s.count, 3); /* 1, 5, 9 */
    /* CIRCULAR and RANDOM: a contiguous block each */
    size_t next = 0;
    for (size_t w = 0; w < 3; w++) {
        goose__rows_share(8, GOOSE_DATA_CIRCULAR, w, 3, 3, &s);
        ASSERT_EQ(s.first, next);
        ASSERT_EQ(s.step, 1);
        ASSERT_GE(s.count, 2);
        next += s.count;
    }
    ASSERT_EQ(next, 8);
    goose__rows_share(3, GOOSE_DATA_RANDOM, 4, 5, 5, &s); /* fewer rows than Workers */
    ASSERT_EQ(s.first, 1);
    ASSERT_EQ(s.count, 1);
}

/* ---- a table in memory, as the Manager holds one ---- */

static void make_table(goose_table *t, const char *prefix, size_t nrows, size_t width)
{
    char err[200];
    goose__table_init(t);
    ASSERT_EQ(goose__table_set_columns(t, "name\0note", 10, 2, err, sizeof err), 0);
    size_t cap = nrows * (width + 40) + 1, len = 0;
    char *cells = malloc(cap);
    ASSERT_NOT_NULL(cells);
    for (size_t i = 0; i < nrows; i++) {
        len += (size_t)snprintf(cells + len, cap - len, "%s%zu", prefix, i) + 1;
        memset(cells + len, 'x', width);
        len += width;
        cells[len++] = '\0';
    }
    ASSERT_EQ(goose__table_append(t, cells, len, nrows, err, sizeof err), 0);
    free(cells);
}

static int unpack(gaggle_out *o, msgpack_unpacked *u)
{
    char type[32];
    goose__out_finish(o);
    msgpack_unpacked_init(u);
    return goose__frame_decode((unsigned char *)o->sb.data + 4, o->sb.size - 4, u, type,
                               sizeof type);
}

/* A welcome carrying only the data sets' announcement for Worker w. */
static void announce(const goose_run_config *cfg, size_t w, size_t workers, size_t limit,
                     gaggle_out *o, msgpack_unpacked *u)
{
    goose__out_begin(o, "welcome", 1);
    goose__out_key(o, "data");
    goose__rows_announce(&o->pk, cfg, w, workers, limit);
    ASSERT_EQ(unpack(o, u), 0);
}

/* ---- the rows over a connection, as the Manager ships them ---- */

typedef struct wire_link {
    gaggle_data *data;
    size_t frames;
    size_t w, workers, limit;
    const goose_run_config *cfg;
    gaggle_shipping ship;
    int shipped, waited, failed;
    char why[256];
    struct event_base *base;
} wire_link;

static void recv_msg(gaggle_peer *p, const char *type, const msgpack_object *msg)
{
    wire_link *l = p->owner;
    if (strcmp(type, "rows") || goose__rows_take(l->data, msg, l->why, sizeof l->why) < 0) {
        l->failed = 1;
        event_base_loopbreak(l->base);
        return;
    }
    l->frames++;
    if (goose__rows_complete(l->data))
        event_base_loopbreak(l->base);
}

static void peer_closed(gaggle_peer *p, const char *why)
{
    wire_link *l = p->owner;
    snprintf(l->why, sizeof l->why, "%s", why);
    l->failed = 1;
    event_base_loopbreak(l->base);
}

static void ship(gaggle_peer *p)
{
    wire_link *l = p->owner;
    int rc = goose__rows_ship(p, l->cfg, l->w, l->workers, l->limit, &l->ship);
    l->waited += rc == 0;
    l->shipped = rc == 1;
    l->failed |= rc < 0;
}

static void on_timeout(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    wire_link *l = arg;
    snprintf(l->why, sizeof l->why, "timed out");
    l->failed = 1;
    event_base_loopbreak(l->base);
}

/* A Worker's run: its registrations (in another order than the
 * Manager's) and their tables, empty until the rows come. */
static goose_table worker_tables[2];
static const goose_dataset worker_sets[] = {{"products", GOOSE_DATA_CIRCULAR, &worker_tables[0]},
                                            {"accounts", GOOSE_DATA_UNIQUE, &worker_tables[1]}};

/* Ships Worker w's share through a socket pair into d (announced first). */
static void ship_share(const goose_run_config *cfg, size_t w, size_t workers, size_t limit,
                       size_t nslots, gaggle_data *d, wire_link *l)
{
    gaggle_out o;
    msgpack_unpacked u;
    char err[256];
    announce(cfg, w, workers, limit, &o, &u);
    int rc = goose__rows_announced(d, &u.data, worker_sets, worker_tables, 2, nslots, err,
                                   sizeof err);
    msgpack_unpacked_destroy(&u);
    goose__out_free(&o);
    if (rc < 0)
        TEST_FAIL("announce: %s", err);
    int fds[2];
    ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
    evutil_make_socket_nonblocking(fds[0]);
    evutil_make_socket_nonblocking(fds[1]);
    *l = (wire_link){.data = d, .w = w, .workers = workers, .limit = limit, .cfg = cfg};
    l->base = event_base_new();
    gaggle_peer *tx = goose__peer_new(l->base, fds[0], NULL, recv_msg, peer_closed, l);
    gaggle_peer *rx = goose__peer_new(l->base, fds[1], NULL, recv_msg, peer_closed, l);
    ASSERT(tx && rx);
    goose__peer_set_max_frame(rx, GAGGLE_FRAME_MAX);
    struct event *timer = evtimer_new(l->base, on_timeout, l);
    struct timeval tv = {20, 0};
    evtimer_add(timer, &tv);
    tx->on_drain = ship;
    ship(tx);
    if (!goose__rows_complete(d))
        event_base_dispatch(l->base);
    event_free(timer);
    goose__peer_free(tx);
    goose__peer_free(rx);
    event_base_free(l->base);
    if (l->failed)
        TEST_FAIL("worker %zu: %s", w, l->why);
}

TEST(rows_reach_each_worker_in_its_order)
{
    goose_table accounts, products;
    make_table(&accounts, "user", 10, 3);
    make_table(&products, "item", 400000, 40); /* 20 MB: frames wait for the drain */
    goose_dataset sets[] = {{"accounts", GOOSE_DATA_UNIQUE, &accounts},
                            {"products", GOOSE_DATA_CIRCULAR, &products}};
    goose_run_config cfg = {.users = 10, .datasets = sets, .ndatasets = 2};
    char err[256];
    ASSERT_EQ(goose__rows_check(&cfg, err, sizeof err), 0);
    size_t got = 0;
    for (size_t w = 0; w < 4; w++) {
        gaggle_data d;
        wire_link l;
        goose__table_init(&worker_tables[0]);
        goose__table_init(&worker_tables[1]);
        size_t nslots = w < 2 ? 3 : 2;
        ship_share(&cfg, w, 4, 10, nslots, &d, &l);
        ASSERT(goose__rows_complete(&d));
        ASSERT(l.shipped);
        ASSERT_GT(l.waited, 0);  /* the output filled: the rest went as it drained */
        ASSERT_GT(l.frames, 5); /* 5 MB of cells each: several frames */
        const goose_table *acc = &worker_tables[1], *prod = &worker_tables[0];
        /* UNIQUE: its k-th user's row is row w + kE of the file */
        ASSERT_EQ(acc->nrows, nslots);
        for (size_t k = 0; k < nslots; k++) {
            char want[32];
            snprintf(want, sizeof want, "user%zu", w + k * 4);
            const char *row = goose__table_row(acc, k);
            ASSERT_STR_EQ(goose__table_field(acc, row, 0), want);
            ASSERT_STR_EQ(goose__table_field(acc, row, 1), "xxx");
        }
        /* CIRCULAR: the block [w R/E, (w+1) R/E) */
        ASSERT_EQ(prod->nrows, 100000);
        for (size_t k = 0; k < 100000; k += 997) {
            char want[32];
            snprintf(want, sizeof want, "item%zu", w * 100000 + k);
            ASSERT_STR_EQ(goose__table_field(prod, goose__table_row(prod, k), 0), want);
        }
        char last[32];
        snprintf(last, sizeof last, "item%zu", w * 100000 + 99999);
        ASSERT_STR_EQ(goose__table_field(prod, goose__table_row(prod, 99999), 0), last);
        got += prod->nrows;
        goose__rows_free(&d);
        goose__table_free(&worker_tables[0]);
        goose__table_free(&worker_tables[1]);
    }
    ASSERT_EQ(got, 400000);
    goose__table_free(&accounts);
    goose__table_free(&products);
}

/* ---- a Worker against what a Manager sends ---- */

/* The Worker's state after a welcome announcing "accounts" (UNIQUE, 3
 * rows of 2 columns) to a Worker of 3 users. */
static goose_table one_table;
static const goose_dataset one_set[] = {{"accounts", GOOSE_DATA_UNIQUE, &one_table}};

static void announced_three(gaggle_data *d)
{
    goose_table t;
    make_table(&t, "user", 3, 1);
    goose_dataset set = {"accounts", GOOSE_DATA_UNIQUE, &t};
    goose_run_config cfg = {.users = 3, .datasets = &set, .ndatasets = 1};
    gaggle_out o;
    msgpack_unpacked u;
    char err[256];
    announce(&cfg, 0, 1, 3, &o, &u);
    goose__table_init(&one_table);
    ASSERT_EQ(goose__rows_announced(d, &u.data, one_set, &one_table, 1, 3, err, sizeof err), 0);
    msgpack_unpacked_destroy(&u);
    goose__out_free(&o);
    goose__table_free(&t);
    ASSERT(!goose__rows_complete(d));
}

/* A "rows" frame: set, rows and cells (of msgpack type 'b' bin or 's' str). */
static int feed(gaggle_data *d, uint64_t set, uint64_t rows, const char *cells, size_t len,
                char type, char *why, size_t whylen)
{
    gaggle_out o;
    msgpack_unpacked u;
    goose__out_begin(&o, "rows", 3);
    goose__out_u64(&o, "set", set);
    goose__out_u64(&o, "rows", rows);
    goose__out_key(&o, "cells");
    if (type == 'b') {
        msgpack_pack_bin(&o.pk, len);
        msgpack_pack_bin_body(&o.pk, cells, len);
    } else {
        msgpack_pack_str(&o.pk, len);
        msgpack_pack_str_body(&o.pk, cells, len);
    }
    ASSERT_EQ(unpack(&o, &u), 0);
    why[0] = '\0';
    int rc = goose__rows_take(d, &u.data, why, whylen);
    msgpack_unpacked_destroy(&u);
    goose__out_free(&o);
    if (rc < 0 && !why[0])
        TEST_FAIL("refused without a reason");
    return rc;
}

#define CELLS(s) s, sizeof s

TEST(hostile_rows_are_refused)
{
    gaggle_data d;
    char why[256];
    announced_three(&d);
    /* two rows of cells claimed as one, or as three */
    ASSERT_EQ(feed(&d, 0, 1, CELLS("a\0b\0c\0d"), 'b', why, sizeof why), -1);
    ASSERT_EQ(feed(&d, 0, 3, CELLS("a\0b\0c\0d"), 'b', why, sizeof why), -1);
    /* the last cell without its NUL; a row short of a field */
    ASSERT_EQ(feed(&d, 0, 1, "a\0b", 3, 'b', why, sizeof why), -1);
    ASSERT_EQ(feed(&d, 0, 1, CELLS("a"), 'b', why, sizeof why), -1);
    /* cells of another type, no rows, a set never announced */
    ASSERT_EQ(feed(&d, 0, 1, CELLS("a\0b"), 's', why, sizeof why), -1);
    ASSERT_EQ(feed(&d, 0, 0, "", 0, 'b', why, sizeof why), -1);
    ASSERT_EQ(feed(&d, 1, 1, CELLS("a\0b"), 'b', why, sizeof why), -1);
    ASSERT(strstr(why, "did not announce"));
    /* more rows than announced, at once or over two frames */
    ASSERT_EQ(feed(&d, 0, 4, CELLS("a\0b\0c\0d\0e\0f\0g\0h"), 'b', why, sizeof why), -1);
    ASSERT(strstr(why, "more rows than announced"));
    ASSERT_EQ(one_table.nrows, 0); /* nothing refused was kept */
    ASSERT_EQ(feed(&d, 0, 2, CELLS("a\0b\0c\0d"), 'b', why, sizeof why), 0);
    ASSERT_EQ(feed(&d, 0, 2, CELLS("e\0f\0g\0h"), 'b', why, sizeof why), -1);
    ASSERT(strstr(why, "more rows than announced"));
    ASSERT(!goose__rows_complete(&d));
    ASSERT_EQ(feed(&d, 0, 1, CELLS("e\0f"), 'b', why, sizeof why), 0);
    ASSERT(goose__rows_complete(&d));
    ASSERT_STR_EQ(goose__table_field(&one_table, goose__table_row(&one_table, 2), 1), "f");
    goose__rows_free(&d);
    goose__table_free(&one_table);
}

/* A welcome whose one data set is as given. */
static int announce_one_set(const char *name, const char *mode, uint64_t ncols,
                            const char *cols, size_t cols_len, uint64_t rows, size_t nsets,
                            char *why, size_t whylen)
{
    gaggle_out o;
    msgpack_unpacked u;
    gaggle_data d;
    goose__out_begin(&o, "welcome", 1);
    goose__out_key(&o, "data");
    msgpack_pack_array(&o.pk, nsets);
    for (size_t i = 0; i < nsets; i++) {
        msgpack_pack_map(&o.pk, 5);
        goose__pack_str(&o.pk, "name");
        goose__pack_str(&o.pk, i ? "other" : name);
        goose__pack_str(&o.pk, "mode");
        goose__pack_str(&o.pk, mode);
        goose__pack_str(&o.pk, "ncols");
        msgpack_pack_uint64(&o.pk, ncols);
        goose__pack_str(&o.pk, "columns");
        msgpack_pack_bin(&o.pk, cols_len);
        msgpack_pack_bin_body(&o.pk, cols, cols_len);
        goose__pack_str(&o.pk, "rows");
        msgpack_pack_uint64(&o.pk, rows);
    }
    ASSERT_EQ(unpack(&o, &u), 0);
    goose__table_init(&one_table);
    int rc = goose__rows_announced(&d, &u.data, one_set, &one_table, 1, 3, why, whylen);
    goose__rows_free(&d);
    goose__table_free(&one_table);
    msgpack_unpacked_destroy(&u);
    goose__out_free(&o);
    return rc;
}

TEST(announcement_must_match_the_worker)
{
    char why[256];
    ASSERT_EQ(announce_one_set("accounts", "unique", 2, CELLS("name\0note"), 3, 1, why,
                               sizeof why), 0);
    ASSERT_EQ(announce_one_set("products", "unique", 2, CELLS("name\0note"), 3, 1, why,
                               sizeof why), -1);
    ASSERT(strstr(why, "data \"products\" is not registered on this worker"));
    ASSERT_EQ(announce_one_set("accounts", "random", 2, CELLS("name\0note"), 3, 1, why,
                               sizeof why), -1);
    ASSERT(strstr(why, "data \"accounts\" has another mode on this worker"));
    ASSERT_EQ(announce_one_set("accounts", "sideways", 2, CELLS("name\0note"), 3, 1, why,
                               sizeof why), -1);
    ASSERT_EQ(announce_one_set("accounts", "unique", 2, CELLS("name\0note"), 3, 2, why,
                               sizeof why), -1);
    ASSERT(strstr(why, "announces 2 data sets, this worker has 1"));
    /* UNIQUE: a row for each of its 3 users */
    ASSERT_EQ(announce_one_set("accounts", "unique", 2, CELLS("name\0note"), 2, 1, why,
                               sizeof why), -1);
    ASSERT(strstr(why, "not the rows"));
    /* column names that are not what they claim */
    ASSERT_EQ(announce_one_set("accounts", "unique", 3, CELLS("name\0note"), 3, 1, why,
                               sizeof why), -1);
    ASSERT(strstr(why, "bad column names"));
    ASSERT_EQ(announce_one_set("accounts", "unique", 2, "name\0note", 9, 3, 1, why,
                               sizeof why), -1);
    ASSERT_EQ(announce_one_set("accounts", "unique", 0, "", 0, 3, 1, why, sizeof why), -1);
}

TEST(manager_refuses_rows_too_big_to_send)
{
    goose_table t;
    make_table(&t, "big", 2, GAGGLE_ROW_MAX); /* each row over the bound */
    goose_dataset set = {"blobs", GOOSE_DATA_RANDOM, &t};
    goose_run_config cfg = {.users = 1, .datasets = &set, .ndatasets = 1};
    char err[256];
    ASSERT_EQ(goose__rows_check(&cfg, err, sizeof err), -1);
    ASSERT(strstr(err, "data \"blobs\": row 1 has"));
    goose__table_free(&t);
}

/* ---- real processes ---- */

/* path made absolute (the Workers run elsewhere). */
static void absolute(const char *path, char *out, size_t len)
{
    char cwd[512];
    ASSERT_NOT_NULL(getcwd(cwd, sizeof cwd));
    if (path[0] == '/')
        snprintf(out, len, "%s", path);
    else
        snprintf(out, len, "%s/%s", cwd, path);
}

/* `program` in directory cwd, LOADTEST_VARIANT=data and the env given
 * ("NAME=VALUE", NULL-terminated), with its memory bounded; its output
 * goes to dir/name.log. */
static pid_t spawn_in(const char *name, const char *cwd, const char *const *env,
                      const char *const *args)
{
    char prog[600], log[600];
    const char *argv[48] = {prog};
    size_t n = 1;
    char rel[300];
    snprintf(rel, sizeof rel, "%s/%s", build_dir(), program);
    absolute(rel, prog, sizeof prog);
    snprintf(rel, sizeof rel, "%s/%s.log", dir, name);
    absolute(rel, log, sizeof log);
    for (; args[n - 1] && n < 47; n++)
        argv[n] = args[n - 1];
    argv[n] = NULL;
    pid_t pid = fork();
    ASSERT(pid >= 0);
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0 || chdir(cwd) < 0)
            _exit(127);
#ifndef __SANITIZE_ADDRESS__ /* ASan reserves terabytes of address space */
        struct rlimit as = {(rlim_t)3 << 30, (rlim_t)3 << 30};
        setrlimit(RLIMIT_AS, &as);
#endif
        setenv("LOADTEST_VARIANT", "data", 1);
        for (size_t i = 0; env && env[i]; i++)
            putenv((char *)env[i]);
        execv(prog, (char **)argv);
        _exit(127);
    }
    return pid;
}

/* A CSV of one column "name" and rows PREFIX0..PREFIX(n-1), at path. */
static void write_names(const char *path, const char *prefix, size_t n)
{
    FILE *f = fopen(path, "w");
    ASSERT_NOT_NULL(f);
    fprintf(f, "name\n");
    for (size_t i = 0; i < n; i++)
        fprintf(f, "%s%05zu\n", prefix, i);
    ASSERT_EQ(fclose(f), 0);
}

/* An empty directory for the Workers: no copy of any data there. */
static void empty_dir(char *out, size_t len)
{
    snprintf(out, len, "%s/empty", dir);
    ASSERT_EQ(mkdir(out, 0755), 0);
}

/* The issue's own test: 10,000 users over 4 Workers log in with distinct
 * accounts the Manager alone could read. */
TEST(ten_thousand_distinct_logins_over_four_workers)
{
    setup();
    char port[8], report[256], csv[256], csv_abs[600], empty[256], data_env[700];
    manager_spot(port, report);
    snprintf(csv, sizeof csv, "%s/accounts.csv", dir);
    write_names(csv, "acct", 10000);
    absolute(csv, csv_abs, sizeof csv_abs);
    empty_dir(empty, sizeof empty);
    char empty_abs[600];
    absolute(empty, empty_abs, sizeof empty_abs);
    snprintf(data_env, sizeof data_env, "LOADTEST_DATA_PATH=%s", csv_abs);
    const char *menv[] = {data_env, NULL};
    char report_abs[600];
    absolute(report, report_abs, sizeof report_abs);
    const char *margs[] = {"--manager", "--expect-workers", "4", PORT_ARGS(port), "--host",
                           tgt.url, "-u", "10000", "-r", "4000", "--iterations", "1",
                           "--report-file", report_abs, "-q", NULL};
    pid_t m = spawn_in("manager", ".", menv, margs);
    const char *wargs[] = {"--worker", "--manager-port", port, "--stack-size", "32k", NULL};
    pid_t w[4];
    for (int i = 0; i < 4; i++) {
        char name[24];
        snprintf(name, sizeof name, "worker%d", i);
        w[i] = spawn_in(name, empty_abs, NULL, wargs); /* accounts.csv is not there */
    }
    ASSERT_EQ(wait_exit(m, 120), 0);
    for (int i = 0; i < 4; i++)
        ASSERT_EQ(wait_exit(w[i], 20), 0);
    ASSERT(log_has("worker0", "took 2500 rows of 1 data sets from the manager"));
    ASSERT(log_has("worker3", "took 2500 rows of 1 data sets from the manager"));
    json_t *r = load_report(report_abs), *stats = target_json(&tgt, "/stats");
    ASSERT_EQ(jint(stats, "logins"), 10000);
    ASSERT_EQ(jint(stats, "distinct_logins"), 10000);
    ASSERT_EQ(jint(report_request(r, "GET", "/account/login"), "count"), 10000);
    ASSERT_EQ(jint(report_request(r, "GET", "/account/login"), "fail"), 0);
    ASSERT_EQ(report_total(r), target_total(stats));
    json_decref(r);
    json_decref(stats);
    teardown();
}

/* A Worker embedded in a host program (gaggle_worker_start, no --worker)
 * takes its rows from the Manager too, never from a file of its own. */
TEST(embedded_worker_takes_its_rows_from_the_manager)
{
    setup();
    char port[8], report[256], csv[256], csv_abs[600], empty[256], data_env[700];
    manager_spot(port, report);
    snprintf(csv, sizeof csv, "%s/accounts.csv", dir);
    write_names(csv, "emb", 6);
    absolute(csv, csv_abs, sizeof csv_abs);
    empty_dir(empty, sizeof empty);
    char empty_abs[600], report_abs[600];
    absolute(empty, empty_abs, sizeof empty_abs);
    absolute(report, report_abs, sizeof report_abs);
    snprintf(data_env, sizeof data_env, "LOADTEST_DATA_PATH=%s", csv_abs);
    const char *menv[] = {data_env, NULL};
    const char *margs[] = {"--manager", "--expect-workers", "2", PORT_ARGS(port), "--host",
                           tgt.url, "-u", "6", "-r", "100", "--iterations", "1",
                           "--report-file", report_abs, "-q", NULL};
    pid_t m = spawn_in("manager", ".", menv, margs);
    const char *wenv[] = {"LOADTEST_EMBEDDED=1", NULL};
    const char *wargs[] = {"--manager-port", port, NULL};
    pid_t w0 = spawn_in("embedded0", empty_abs, wenv, wargs); /* accounts.csv is not there */
    pid_t w1 = spawn_in("embedded1", empty_abs, wenv, wargs);
    ASSERT_EQ(wait_exit(m, 60), 0);
    ASSERT_EQ(wait_exit(w0, 20), 0);
    ASSERT_EQ(wait_exit(w1, 20), 0);
    json_t *stats = target_json(&tgt, "/stats");
    ASSERT_EQ(jint(stats, "logins"), 6);
    ASSERT_EQ(jint(stats, "distinct_logins"), 6);
    json_decref(stats);
    teardown();
}

/* The names a Worker's request log shows, as a bit set over 0..7. */
static unsigned names_in_log(const char *path, const char *prefix)
{
    FILE *f = fopen(path, "r");
    if (!f)
        TEST_FAIL("no request log %s", path);
    char line[1024], key[64];
    unsigned seen = 0;
    snprintf(key, sizeof key, "name=%s", prefix);
    while (fgets(line, sizeof line, f)) {
        const char *at = strstr(line, key);
        if (at)
            seen |= 1u << (atoi(at + strlen(key)) & 31);
    }
    fclose(f);
    return seen;
}

/* CIRCULAR over 8 rows, 2 Workers: each cycles its own block of 4. */
TEST(each_worker_uses_only_its_block)
{
    setup();
    char port[8], report[256], csv[256], abs_csv[600], empty[256], empty_abs[600];
    char env_path[700], logs[2][700];
    manager_spot(port, report);
    snprintf(csv, sizeof csv, "%s/items.csv", dir);
    write_names(csv, "item", 8);
    absolute(csv, abs_csv, sizeof abs_csv);
    empty_dir(empty, sizeof empty);
    absolute(empty, empty_abs, sizeof empty_abs);
    snprintf(env_path, sizeof env_path, "LOADTEST_DATA_PATH=%s", abs_csv);
    const char *menv[] = {env_path, "LOADTEST_DATA_MODE=circular", NULL};
    const char *wenv[] = {"LOADTEST_DATA_MODE=circular", NULL};
    const char *margs[] = {"--manager", "--expect-workers", "2", PORT_ARGS(port), "--host",
                           tgt.url, "-u", "4", "-r", "100", "--iterations", "12", NULL};
    pid_t m = spawn_in("manager", ".", menv, margs);
    pid_t w[2];
    for (int i = 0; i < 2; i++) {
        char name[24];
        snprintf(name, sizeof name, "worker%d", i);
        snprintf(logs[i], sizeof logs[i], "%s/requests-%d.csv", empty_abs, i);
        const char *wargs[] = {"--worker", "--manager-port", port, "--request-log", logs[i],
                               "--request-format", "csv", NULL};
        w[i] = spawn_in(name, empty_abs, wenv, wargs);
        if (i == 0) /* worker0 is Worker 1 of the Gaggle: the first block */
            ASSERT(wait_log("manager", "worker 1 joined", 15));
    }
    ASSERT_EQ(wait_exit(m, 60), 0);
    for (int i = 0; i < 2; i++)
        ASSERT_EQ(wait_exit(w[i], 20), 0);
    /* 2 users x 12 passes each Worker, cycling its 4 rows: each row 6 times */
    ASSERT_EQ(names_in_log(logs[0], "item"), 0x0fu); /* rows 0-3 */
    ASSERT_EQ(names_in_log(logs[1], "item"), 0xf0u); /* rows 4-7 */
    json_t *stats = target_json(&tgt, "/stats");
    ASSERT_EQ(jint(stats, "logins"), 48);
    ASSERT_EQ(jint(stats, "distinct_logins"), 8);
    json_decref(stats);
    teardown();
}

/* A Worker that registered another name or mode is refused at join. */
TEST(other_data_name_or_mode_is_refused)
{
    setup();
    char port[8], report[256], csv[256], abs_csv[600], env_path[700], empty[256];
    char empty_abs[600];
    manager_spot(port, report);
    snprintf(csv, sizeof csv, "%s/accounts.csv", dir);
    write_names(csv, "acct", 4);
    absolute(csv, abs_csv, sizeof abs_csv);
    empty_dir(empty, sizeof empty);
    absolute(empty, empty_abs, sizeof empty_abs);
    snprintf(env_path, sizeof env_path, "LOADTEST_DATA_PATH=%s", abs_csv);
    const char *menv[] = {env_path, NULL};
    const char *margs[] = {"--manager", "--expect-workers", "1", PORT_ARGS(port), "--host",
                           tgt.url, "-u", "2", "-r", "20", "--iterations", "1", NULL};
    const char *wargs[] = {"--worker", "--manager-port", port, NULL};
    pid_t m = spawn_in("manager", ".", menv, margs);
    const char *other_name[] = {"LOADTEST_DATA_NAME=users", NULL};
    pid_t bad = spawn_in("othername", empty_abs, other_name, wargs);
    ASSERT_EQ(wait_exit(bad, 15), 1);
    ASSERT(log_has("othername", "load test hash mismatch"));
    const char *other_mode[] = {"LOADTEST_DATA_MODE=random", NULL};
    bad = spawn_in("othermode", empty_abs, other_mode, wargs);
    ASSERT_EQ(wait_exit(bad, 15), 1);
    ASSERT(log_has("othermode", "load test hash mismatch"));
    pid_t same = spawn_in("same", empty_abs, NULL, wargs);
    ASSERT_EQ(wait_exit(m, 30), 0); /* the right Worker still runs the test */
    ASSERT_EQ(wait_exit(same, 10), 0);
    teardown();
}

/* Without the hash check, the Worker itself refuses a set it does not
 * know, before it runs anything. */
TEST(no_hash_check_worker_still_refuses_other_data)
{
    setup();
    char port[8], report[256], csv[256], abs_csv[600], env_path[700], empty[256];
    char empty_abs[600];
    manager_spot(port, report);
    snprintf(csv, sizeof csv, "%s/accounts.csv", dir);
    write_names(csv, "acct", 4);
    absolute(csv, abs_csv, sizeof abs_csv);
    empty_dir(empty, sizeof empty);
    absolute(empty, empty_abs, sizeof empty_abs);
    snprintf(env_path, sizeof env_path, "LOADTEST_DATA_PATH=%s", abs_csv);
    const char *menv[] = {env_path, NULL};
    const char *margs[] = {"--manager", "--expect-workers", "1", PORT_ARGS(port), "--host",
                           tgt.url, "-u", "2", "-r", "20", "--iterations", "1",
                           "--no-hash-check", "--gaggle-timeout", "3s", NULL};
    const char *wargs[] = {"--worker", "--manager-port", port, NULL};
    const char *other_mode[] = {"LOADTEST_DATA_MODE=circular", NULL};
    pid_t m = spawn_in("manager", ".", menv, margs);
    pid_t bad = spawn_in("othermode", empty_abs, other_mode, wargs);
    ASSERT_EQ(wait_exit(bad, 15), 1);
    ASSERT(log_has("othermode", "the manager's data sets: data \"accounts\" has another "
                                "mode on this worker"));
    kill(m, SIGINT);
    wait_exit(m, 15);
    json_t *stats = target_json(&tgt, "/stats");
    ASSERT_EQ(target_total(stats), 0); /* it ran nothing */
    json_decref(stats);
    teardown();
}

/* The controller's line protocol: one command, the first line back. */
static void talk(int port, const char *command, char *answer, size_t len)
{
    char p[8];
    snprintf(p, sizeof p, "%d", port);
    int fd = dial(p);
    struct timeval tv = {10, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ASSERT_EQ(write(fd, command, strlen(command)), (ssize_t)strlen(command));
    size_t got = 0;
    for (ssize_t r; got + 1 < len && !memchr(answer, '\n', got) &&
                    (r = read(fd, answer + got, len - 1 - got)) > 0;)
        got += (size_t)r;
    answer[got] = '\0';
    close(fd);
}

/* A controller may add users up to a UNIQUE set's rows: each Worker got
 * the rows of every user it may run, not only of the first ones. */
TEST(controller_users_have_their_rows_on_every_worker)
{
    setup();
    char port[8], report[256], csv[256], abs_csv[600], env_path[700], empty[256];
    char empty_abs[600], control[32], answer[512];
    manager_spot(port, report);
    snprintf(csv, sizeof csv, "%s/accounts.csv", dir);
    write_names(csv, "acct", 8);
    absolute(csv, abs_csv, sizeof abs_csv);
    empty_dir(empty, sizeof empty);
    absolute(empty, empty_abs, sizeof empty_abs);
    snprintf(env_path, sizeof env_path, "LOADTEST_DATA_PATH=%s", abs_csv);
    int cport = free_port();
    snprintf(control, sizeof control, "127.0.0.1:%d", cport);
    const char *menv[] = {env_path, NULL};
    const char *margs[] = {"--manager", "--expect-workers", "2", PORT_ARGS(port), "--host",
                           tgt.url, "-u", "2", "-r", "50", "-t", "3s", "--controller", control,
                           "--report-file", report, NULL};
    const char *wargs[] = {"--worker", "--manager-port", port, NULL};
    pid_t m = spawn_in("manager", ".", menv, margs);
    pid_t w0 = spawn_in("worker0", empty_abs, NULL, wargs);
    pid_t w1 = spawn_in("worker1", empty_abs, NULL, wargs);
    ASSERT(wait_log("manager", "START in", 15));
    usleep(500000); /* START is 100 ms later or so: the controller steers from then */
    talk(cport, "users 9\n", answer, sizeof answer);
    if (!strstr(answer, "error: 9 users: data \"accounts\" has 8 rows"))
        TEST_FAIL("users 9: %s", answer);
    talk(cport, "users 8\n", answer, sizeof answer);
    if (!strstr(answer, "ok: users 2 -> 8"))
        TEST_FAIL("users 8: %s", answer);
    ASSERT_EQ(wait_exit(m, 30), 0);
    ASSERT_EQ(wait_exit(w0, 10), 0);
    ASSERT_EQ(wait_exit(w1, 10), 0);
    ASSERT(log_has("worker0", "took 4 rows of 1 data sets"));
    json_t *r = load_report(report), *stats = target_json(&tgt, "/stats");
    ASSERT_EQ(jint(stats, "distinct_logins"), 8);
    ASSERT_EQ(jint(json_object_get(r, "totals"), "fail"), 0);
    ASSERT_EQ(json_array_size(json_object_get(r, "errors")), 0);
    json_decref(r);
    json_decref(stats);
    teardown();
}

TEST_MAIN(TEST_ENTRY(share_of_each_worker), TEST_ENTRY(rows_reach_each_worker_in_its_order),
          TEST_ENTRY(embedded_worker_takes_its_rows_from_the_manager),
          TEST_ENTRY(hostile_rows_are_refused), TEST_ENTRY(announcement_must_match_the_worker),
          TEST_ENTRY(manager_refuses_rows_too_big_to_send),
          TEST_ENTRY(ten_thousand_distinct_logins_over_four_workers),
          TEST_ENTRY(each_worker_uses_only_its_block),
          TEST_ENTRY(other_data_name_or_mode_is_refused),
          TEST_ENTRY(no_hash_check_worker_still_refuses_other_data),
          TEST_ENTRY(controller_users_have_their_rows_on_every_worker))
