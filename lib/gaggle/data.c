/* Test data across a Gaggle (gaggle(7)): the Manager read the files; each
 * Worker gets only the rows its users will use, announced in the welcome
 * and sent in "rows" frames right after it.  A Worker needs no copy of the
 * files and holds only its share. */
#include "gaggle/gaggle.h"

#include <event2/buffer.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int mode_parse(const char *name)
{
    for (int m = GOOSE_DATA_UNIQUE; m <= GOOSE_DATA_RANDOM; m++)
        if (!strcmp(name, goose__data_mode_name(m)))
            return m;
    return -1;
}

/* UNIQUE: the row of each user of the test the Worker may run, in slot
 * order (its k-th user, index w + kE, has row k of its share); limit is
 * the most users the test can have.  CIRCULAR and RANDOM: a contiguous
 * block, or one row when the Workers outnumber the rows. */
void goose__rows_share(size_t rows, int mode, size_t w, size_t workers, size_t limit,
                       gaggle_share *s)
{
    if (mode == GOOSE_DATA_UNIQUE) {
        size_t top = limit < rows ? limit : rows;
        s->first = w;
        s->step = workers;
        s->count = top > w ? (top - w + workers - 1) / workers : 0;
    } else if (rows >= workers) {
        s->first = w * rows / workers;
        s->step = 1;
        s->count = (w + 1) * rows / workers - s->first;
    } else {
        s->first = rows ? w % rows : 0;
        s->step = 1;
        s->count = rows ? 1 : 0;
    }
}

/* The most users a run may have: a controller can raise them up to a
 * UNIQUE set's rows (the raise beyond is refused). */
size_t goose__rows_limit(const goose_run_config *cfg, int controller)
{
    return controller ? (size_t)-1 : cfg->users;
}

int goose__rows_check(const goose_run_config *cfg, char *err, size_t errlen)
{
    size_t names = 0;
    for (size_t i = 0; i < cfg->ndatasets; i++) {
        const goose_dataset *d = &cfg->datasets[i];
        const goose_table *t = d->table;
        names += t->names_len + strlen(d->name);
        const char *row = t->nrows ? goose__table_row(t, 0) : NULL;
        for (size_t r = 0; r < t->nrows; r++) {
            size_t len = goose__table_row_len(t, row);
            if (len > GAGGLE_ROW_MAX) {
                snprintf(err, errlen, "data \"%s\": row %zu has %zu bytes: a Gaggle "
                         "sends rows of at most %u bytes", d->name, r + 1, len,
                         GAGGLE_ROW_MAX);
                return -1;
            }
            row += len;
        }
    }
    if (names > GAGGLE_COLUMNS_MAX) {
        snprintf(err, errlen, "the data sets' column names take %zu bytes: a Gaggle "
                 "sends at most %u", names, GAGGLE_COLUMNS_MAX);
        return -1;
    }
    return 0;
}

void goose__rows_announce(msgpack_packer *pk, const goose_run_config *cfg, size_t w,
                               size_t workers, size_t limit)
{
    msgpack_pack_array(pk, cfg->ndatasets);
    for (size_t i = 0; i < cfg->ndatasets; i++) {
        const goose_dataset *d = &cfg->datasets[i];
        gaggle_share s;
        goose__rows_share(d->table->nrows, d->mode, w, workers, limit, &s);
        msgpack_pack_map(pk, 5);
        goose__pack_str(pk, "name");
        goose__pack_str(pk, d->name);
        goose__pack_str(pk, "mode");
        goose__pack_str(pk, goose__data_mode_name(d->mode));
        goose__pack_str(pk, "ncols");
        msgpack_pack_uint64(pk, d->table->ncols);
        goose__pack_str(pk, "columns");
        msgpack_pack_bin(pk, d->table->names_len);
        msgpack_pack_bin_body(pk, d->table->names, d->table->names_len);
        goose__pack_str(pk, "rows");
        msgpack_pack_uint64(pk, s.count);
    }
}

/* ---- the Manager: rows as the connection takes them ---- */

/* The next row of a share: step rows on from row. */
static const char *skip_rows(const goose_table *t, const char *row, size_t step)
{
    for (size_t i = 0; i < step; i++)
        row += goose__table_row_len(t, row);
    return row;
}

/* One frame of rows of set `set`, from st's cursor: at most about
 * GAGGLE_ROWS_FRAME bytes of cells, and at least one row. */
static int send_frame(gaggle_peer *p, const goose_dataset *d, size_t set,
                      const gaggle_share *s, gaggle_shipping *st)
{
    const goose_table *t = d->table;
    const char *row = st->row, *end = row;
    size_t n = 0, bytes = 0;
    while (st->sent + n < s->count) {
        size_t len = goose__table_row_len(t, end);
        if (n && bytes + len > GAGGLE_ROWS_FRAME)
            break;
        bytes += len;
        n++;
        end += len;
        if (s->step > 1 && st->sent + n < s->count)
            end = skip_rows(t, end, s->step - 1);
    }
    gaggle_out o;
    goose__out_begin(&o, "rows", 3);
    goose__out_u64(&o, "set", set);
    goose__out_u64(&o, "rows", n);
    goose__out_key(&o, "cells");
    msgpack_pack_bin(&o.pk, bytes);
    if (s->step == 1) { /* a block: one copy */
        msgpack_pack_bin_body(&o.pk, row, bytes);
    } else {
        for (size_t i = 0; i < n; i++) {
            size_t len = goose__table_row_len(t, row);
            msgpack_pack_bin_body(&o.pk, row, len);
            if (i + 1 < n)
                row = skip_rows(t, row + len, s->step - 1);
        }
    }
    int rc = goose__peer_send(p, &o);
    goose__out_free(&o);
    st->sent += n;
    st->row = end;
    return rc;
}

int goose__rows_ship(gaggle_peer *p, const goose_run_config *cfg, size_t w, size_t workers,
                     size_t limit, gaggle_shipping *st)
{
    while (st->set < cfg->ndatasets) {
        if (p->closed || p->flushing)
            return -1;
        if (evbuffer_get_length(bufferevent_get_output(p->bev)) >= GAGGLE_ROWS_FRAME)
            return 0; /* the rest as the connection drains */
        const goose_dataset *d = &cfg->datasets[st->set];
        gaggle_share s;
        goose__rows_share(d->table->nrows, d->mode, w, workers, limit, &s);
        if (st->sent == 0 && s.count && !st->row)
            st->row = goose__table_row(d->table, s.first);
        if (st->sent < s.count && send_frame(p, d, st->set, &s, st) < 0)
            return -1;
        if (st->sent == s.count) {
            st->set++;
            st->sent = 0;
            st->row = NULL;
        }
    }
    return 1;
}

/* ---- the Worker: its share, checked ---- */

static int bad(char *err, size_t errlen, const char *fmt, const char *name)
{
    snprintf(err, errlen, fmt, name);
    return -1;
}

/* Announced set i: one of this Worker's sets, with its mode, once. */
static int announce_one(gaggle_data *d, size_t i, const msgpack_object *o, size_t nslots,
                        char *err, size_t errlen)
{
    char name[GAGGLE_DATA_NAME_MAX], mode_name[16];
    uint64_t ncols, rows;
    const msgpack_object *cols = goose__map_get(o, "columns");
    if (o->type != MSGPACK_OBJECT_MAP || goose__get_str(o, "name", name, sizeof name) < 0 ||
        goose__get_str(o, "mode", mode_name, sizeof mode_name) < 0 ||
        goose__get_u64(o, "ncols", &ncols) < 0 || goose__get_u64(o, "rows", &rows) < 0 ||
        !cols || cols->type != MSGPACK_OBJECT_BIN)
        return bad(err, errlen, "%s", "a data set the worker cannot read");
    int mode = mode_parse(mode_name);
    size_t k = 0;
    while (k < d->n && strcmp(d->sets[k].name, name) != 0)
        k++;
    if (k == d->n)
        return bad(err, errlen, "data \"%s\" is not registered on this worker", name);
    for (size_t j = 0; j < i; j++)
        if (d->of[j] == k)
            return bad(err, errlen, "data \"%s\" announced twice", name);
    if (mode != d->sets[k].mode)
        return bad(err, errlen, "data \"%s\" has another mode on this worker", name);
    if (rows > GAGGLE_DATA_ROWS_MAX || (mode == GOOSE_DATA_UNIQUE && rows < nslots) ||
        (mode != GOOSE_DATA_UNIQUE && rows == 0))
        return bad(err, errlen, "data \"%s\": not the rows this worker's users need", name);
    char why[160];
    if (ncols == 0 || ncols > cols->via.bin.size ||
        goose__table_set_columns(&d->tables[k], cols->via.bin.ptr, cols->via.bin.size,
                                 (size_t)ncols, why, sizeof why) < 0)
        return bad(err, errlen, "data \"%s\": bad column names", name);
    d->of[i] = k;
    d->due[i] = rows;
    return 0;
}

int goose__rows_announced(gaggle_data *d, const msgpack_object *welcome,
                          const goose_dataset *sets, goose_table *tables, size_t n,
                          size_t nslots, char *err, size_t errlen)
{
    memset(d, 0, sizeof *d);
    d->sets = sets;
    d->tables = tables;
    d->n = n;
    const msgpack_object *list = goose__map_get(welcome, "data");
    if (!list || list->type != MSGPACK_OBJECT_ARRAY)
        return bad(err, errlen, "%s", "the welcome has no data sets");
    if (list->via.array.size != n) {
        snprintf(err, errlen, "the manager announces %u data sets, this worker has %zu",
                 list->via.array.size, n);
        return -1;
    }
    if (n == 0)
        return 0;
    d->of = calloc(n, sizeof *d->of);
    d->due = calloc(n, sizeof *d->due);
    if (!d->of || !d->due)
        return bad(err, errlen, "%s", "out of memory");
    for (size_t i = 0; i < n; i++)
        if (announce_one(d, i, &list->via.array.ptr[i], nslots, err, errlen) < 0)
            return -1;
    return 0;
}

int goose__rows_take(gaggle_data *d, const msgpack_object *msg, char *err, size_t errlen)
{
    uint64_t set, rows;
    const msgpack_object *cells = goose__map_get(msg, "cells");
    if (goose__get_u64(msg, "set", &set) < 0 || goose__get_u64(msg, "rows", &rows) < 0 ||
        !cells || cells->type != MSGPACK_OBJECT_BIN || rows == 0)
        return bad(err, errlen, "%s", "a rows frame the worker cannot read");
    if (set >= d->n || !d->due)
        return bad(err, errlen, "%s", "rows of a data set the manager did not announce");
    goose_table *t = &d->tables[d->of[set]];
    const char *name = d->sets[d->of[set]].name;
    if (rows > d->due[set] - t->nrows)
        return bad(err, errlen, "data \"%s\": more rows than announced", name);
    char why[160];
    if (goose__table_append(t, cells->via.bin.ptr, cells->via.bin.size, (size_t)rows, why,
                            sizeof why) < 0) {
        snprintf(err, errlen, "data \"%s\": %s", name, why);
        return -1;
    }
    return 0;
}

int goose__rows_complete(const gaggle_data *d)
{
    for (size_t i = 0; i < d->n && d->due; i++)
        if (d->tables[d->of[i]].nrows != d->due[i])
            return 0;
    return 1;
}

/* The tables are the run's: only the bookkeeping goes. */
void goose__rows_free(gaggle_data *d)
{
    free(d->of);
    free(d->due);
    memset(d, 0, sizeof *d);
}
