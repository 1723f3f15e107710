/* goose_user_value: a user's row of each data set, drawn when a
 * transaction first asks for it in a loop pass and kept for the rest of
 * that pass.  UNIQUE: the row of the user's place in this process, for its
 * whole life; CIRCULAR: the test's next row (one counter per data set for
 * all threads); RANDOM: a row from the user's own stream, so --seed
 * repeats it and goose_user_random's values stay as they were. */
#include "engine/engine.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct goose_user_row {
    const char *row;   /* NULL: none drawn yet */
    uint64_t pass;     /* the loop pass it was drawn in */
} goose_user_row;

int goose__data_start(goose_engine *e)
{
    if (!e->cfg.ndatasets)
        return 0;
    e->data_next = calloc(e->cfg.ndatasets, sizeof *e->data_next);
    if (!e->data_next)
        return -1;
    for (size_t i = 0; i < e->cfg.ndatasets; i++)
        atomic_init(&e->data_next[i], 0);
    return 0;
}

void goose__data_stop(goose_engine *e)
{
    free(e->data_next);
    e->data_next = NULL;
}

void goose__user_rows_free(goose_user *u)
{
    free(u->rows);
    u->rows = NULL;
}

/* Which of this process's users u is: standalone, its index; a Gaggle
 * Worker's k-th slot is user p + P k of the test (Worker p of P). */
static uint64_t position(const goose_user *u)
{
    const goose_run_config *cfg = &u->thread->engine->cfg;
    if (!cfg->processes || u->index < cfg->process_index)
        return u->index;
    return (u->index - cfg->process_index) / cfg->processes;
}

/* A row of data set i for u now, or NULL (a UNIQUE set without a row for
 * this user: setup and the controller refuse more users than rows). */
static const char *draw(goose_user *u, size_t i, const goose_dataset *d)
{
    const goose_table *t = d->table;
    uint64_t k;
    if (!t->nrows)
        return NULL;
    if (d->mode == GOOSE_DATA_UNIQUE)
        k = position(u);
    else if (d->mode == GOOSE_DATA_CIRCULAR)
        k = atomic_fetch_add_explicit(&u->thread->engine->data_next[i], 1,
                                      memory_order_relaxed) % t->nrows;
    else
        k = goose__xoshiro_next(&u->data_rng) % t->nrows;
    return k < t->nrows ? goose__table_row(t, (size_t)k) : NULL;
}

__attribute__((format(printf, 2, 3))) static const char *misuse(goose_user *u,
                                                                 const char *fmt, ...)
{
    char what[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    goose__response_misuse(u, what);
    return NULL;
}

const char *goose_user_value(goose_user *u, const char *name, const char *column)
{
    if (!u)
        return NULL;
    if (!u->coro || goose__coro_current() != u->coro)
        return misuse(u, "goose_user_value outside the user's own transaction");
    if (!name || !column)
        return misuse(u, "goose_user_value with a NULL %s", name ? "column" : "name");
    const goose_run_config *cfg = &u->thread->engine->cfg;
    size_t i = 0;
    while (i < cfg->ndatasets && strcmp(cfg->datasets[i].name, name))
        i++;
    if (i == cfg->ndatasets)
        return misuse(u, "goose_user_value: no data \"%.64s\" (goose_attack_add_data)", name);
    const goose_dataset *d = &cfg->datasets[i];
    int col = goose__table_column(d->table, column);
    if (col < 0)
        return misuse(u, "goose_user_value: data \"%.64s\" has no column \"%.64s\"", name,
                      column);
    if (!u->rows && !(u->rows = calloc(cfg->ndatasets, sizeof *u->rows)))
        return misuse(u, "goose_user_value: out of memory");
    goose_user_row *r = &u->rows[i];
    /* on_start shares the first pass's row (iterations is 0 in both);
       on_stop keeps the last one drawn */
    int keep = r->row && (d->mode == GOOSE_DATA_UNIQUE || u->phase == GOOSE_PHASE_STOP ||
                          r->pass == u->iterations);
    if (!keep) {
        r->row = draw(u, i, d);
        r->pass = u->iterations;
        if (!r->row)
            return misuse(u, "goose_user_value: data \"%.64s\" has no row for this user",
                          name);
    }
    return goose__table_field(d->table, r->row, (size_t)col);
}
