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
    goose__data_share(10, GOOSE_DATA_UNIQUE, 0, 4, 10, &s);
    ASSERT_EQ(s.first, 0);
    ASSERT_EQ(s.step, 4);
    ASSERT_EQ(s.count, 3); /* 0, 4, 8 */
    goose__data_share(10, GOOSE_DATA_UNIQUE, 3, 4, 10, &s);
    ASSERT_EQ(s.first, 3);
    ASSERT_EQ(s.count, 2); /* 3, 7 */
    goose__data_share(10, GOOSE_DATA_UNIQUE, 1, 4, 6, &s); /* 6 users: 1, 5 */
    ASSERT_EQ(s.count, 2);
    goose__data_share(10, GOOSE_DATA_UNIQUE, 1, 4, (size_t)-1, &s); /* a controller: all */
    ASSERT_EQ(s.count, 3); /* 1, 5, 9 */
    /* CIRCULAR and RANDOM: a contiguous block each */
    size_t next = 0;
    for (size_t w = 0; w < 3; w++) {
        goose__data_share(8, GOOSE_DATA_CIRCULAR, w, 3, 3, &s);
        ASSERT_EQ(s.first, next);
        ASSERT_EQ(s.step, 1);
        ASSERT_GE(s.count, 2);
        next += s.count;
    }
    ASSERT_EQ(next, 8);
    goose__data_share(3, GOOSE_DATA_RANDOM, 4, 5, 5, &s); /* fewer rows than Workers */
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
    goose__data_pack_announce(&o->pk, cfg, w, workers, limit);
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
    if (strcmp(type, "rows") || goose__data_rows(l->data, msg, l->why, sizeof l->why) < 0) {
        l->failed = 1;
        event_base_loopbreak(l->base);
        return;
    }
    l->frames++;
    if (goose__data_complete(l->data))
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
    int rc = goose__data_ship(p, l->cfg, l->w, l->workers, l->limit, &l->ship);
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

/* Ships Worker w's share through a socket pair into d (announced first). */
static void ship_share(const goose_run_config *cfg, size_t w, size_t workers, size_t limit,
                       size_t nslots, gaggle_data *d, wire_link *l)
{
    static const gaggle_registered reg[] = {{"accounts", GOOSE_DATA_UNIQUE},
                                            {"products", GOOSE_DATA_CIRCULAR}};
    gaggle_out o;
    msgpack_unpacked u;
    char err[256];
    announce(cfg, w, workers, limit, &o, &u);
    int rc = goose__data_announced(d, &u.data, reg, 2, nslots, err, sizeof err);
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
    if (!goose__data_complete(d))
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
    ASSERT_EQ(goose__data_check(&cfg, err, sizeof err), 0);
    size_t got = 0;
    for (size_t w = 0; w < 4; w++) {
        gaggle_data d;
        wire_link l;
        size_t nslots = w < 2 ? 3 : 2;
        ship_share(&cfg, w, 4, 10, nslots, &d, &l);
        ASSERT(goose__data_complete(&d));
        ASSERT(l.shipped);
        ASSERT_GT(l.waited, 0);  /* the output filled: the rest went as it drained */
        ASSERT_GT(l.frames, 5); /* 5 MB of cells each: several frames */
        /* UNIQUE: its k-th user's row is row w + kE of the file */
        ASSERT_EQ(d.tables[0].nrows, nslots);
        for (size_t k = 0; k < nslots; k++) {
            char want[32];
            snprintf(want, sizeof want, "user%zu", w + k * 4);
            const char *row = goose__table_row(&d.tables[0], k);
            ASSERT_STR_EQ(goose__table_field(&d.tables[0], row, 0), want);
            ASSERT_STR_EQ(goose__table_field(&d.tables[0], row, 1), "xxx");
        }
        /* CIRCULAR: the block [w R/E, (w+1) R/E) */
        ASSERT_EQ(d.tables[1].nrows, 100000);
        for (size_t k = 0; k < 100000; k += 997) {
            char want[32];
            snprintf(want, sizeof want, "item%zu", w * 100000 + k);
            ASSERT_STR_EQ(goose__table_field(&d.tables[1], goose__table_row(&d.tables[1], k), 0),
                          want);
        }
        char last[32];
        snprintf(last, sizeof last, "item%zu", w * 100000 + 99999);
        ASSERT_STR_EQ(goose__table_field(&d.tables[1], goose__table_row(&d.tables[1], 99999), 0),
                      last);
        ASSERT_STR_EQ(d.sets[1].name, "products");
        ASSERT_EQ(d.sets[1].mode, GOOSE_DATA_CIRCULAR);
        got += d.tables[1].nrows;
        goose__data_free(&d);
    }
    ASSERT_EQ(got, 400000);
    goose__table_free(&accounts);
    goose__table_free(&products);
}

/* ---- a Worker against what a Manager sends ---- */

/* The Worker's state after a welcome announcing "accounts" (UNIQUE, 3
 * rows of 2 columns) to a Worker of 3 users. */
static void announced_three(gaggle_data *d)
{
    static const gaggle_registered reg[] = {{"accounts", GOOSE_DATA_UNIQUE}};
    goose_table t;
    make_table(&t, "user", 3, 1);
    goose_dataset set = {"accounts", GOOSE_DATA_UNIQUE, &t};
    goose_run_config cfg = {.users = 3, .datasets = &set, .ndatasets = 1};
    gaggle_out o;
    msgpack_unpacked u;
    char err[256];
    announce(&cfg, 0, 1, 3, &o, &u);
    ASSERT_EQ(goose__data_announced(d, &u.data, reg, 1, 3, err, sizeof err), 0);
    msgpack_unpacked_destroy(&u);
    goose__out_free(&o);
    goose__table_free(&t);
    ASSERT(!goose__data_complete(d));
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
    int rc = goose__data_rows(d, &u.data, why, whylen);
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
    ASSERT_EQ(d.tables[0].nrows, 0); /* nothing refused was kept */
    ASSERT_EQ(feed(&d, 0, 2, CELLS("a\0b\0c\0d"), 'b', why, sizeof why), 0);
    ASSERT_EQ(feed(&d, 0, 2, CELLS("e\0f\0g\0h"), 'b', why, sizeof why), -1);
    ASSERT(strstr(why, "more rows than announced"));
    ASSERT(!goose__data_complete(&d));
    ASSERT_EQ(feed(&d, 0, 1, CELLS("e\0f"), 'b', why, sizeof why), 0);
    ASSERT(goose__data_complete(&d));
    ASSERT_STR_EQ(goose__table_field(&d.tables[0], goose__table_row(&d.tables[0], 2), 1), "f");
    goose__data_free(&d);
}

/* A welcome whose one data set is as given. */
static int announce_one_set(const char *name, const char *mode, uint64_t ncols,
                            const char *cols, size_t cols_len, uint64_t rows, size_t nsets,
                            char *why, size_t whylen)
{
    static const gaggle_registered reg[] = {{"accounts", GOOSE_DATA_UNIQUE}};
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
    int rc = goose__data_announced(&d, &u.data, reg, 1, 3, why, whylen);
    goose__data_free(&d);
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
    ASSERT_EQ(goose__data_check(&cfg, err, sizeof err), -1);
    ASSERT(strstr(err, "data \"blobs\": row 1 has"));
    goose__table_free(&t);
}

TEST_MAIN(TEST_ENTRY(share_of_each_worker), TEST_ENTRY(rows_reach_each_worker_in_its_order),
          TEST_ENTRY(hostile_rows_are_refused), TEST_ENTRY(announcement_must_match_the_worker),
          TEST_ENTRY(manager_refuses_rows_too_big_to_send))
