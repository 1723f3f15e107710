/* The engine's view of the registered scenarios: for each, the order in
 * which a user runs its transactions.  on_start transactions run once
 * first; then each iteration runs the sequenced transactions by ascending
 * sequence (each as many times in a row as its weight), then the others,
 * weights spread round-robin (weights 3:1 run A B A A); on_stop
 * transactions run once at the end. */
#include "attack.h"

#include <stdlib.h>
#include <string.h>

typedef struct tx_ref {
    const goose_transaction *tx;
    size_t order; /* registration order, to keep sorting stable */
} tx_ref;

/* Every transaction of a scenario, task sets expanded in place. */
static size_t collect(const goose_scenario *s, tx_ref *out)
{
    size_t n = 0;
    for (size_t i = 0; i < s->nitems; i++) {
        if (s->items[i].tx) {
            out[n].tx = s->items[i].tx;
            out[n].order = n;
            n++;
            continue;
        }
        for (size_t j = 0; j < s->items[i].ts->ntxs; j++) {
            out[n].tx = s->items[i].ts->txs[j];
            out[n].order = n;
            n++;
        }
    }
    return n;
}

static size_t count_all(const goose_scenario *s)
{
    size_t n = 0;
    for (size_t i = 0; i < s->nitems; i++)
        n += s->items[i].tx ? 1 : s->items[i].ts->ntxs;
    return n;
}

static int by_sequence(const void *a, const void *b)
{
    const tx_ref *x = a, *y = b;
    unsigned sx = x->tx->sequence ? x->tx->sequence : ~0u;
    unsigned sy = y->tx->sequence ? y->tx->sequence : ~0u;
    if (sx != sy)
        return sx < sy ? -1 : 1;
    return x->order < y->order ? -1 : x->order > y->order;
}

/* The id of a transaction within the run: one per (scenario, transaction). */
static size_t tx_id(goose_plan *p, size_t first, const goose_scenario *s,
                    const goose_transaction *tx)
{
    for (size_t i = first; i < p->ntxs; i++)
        if (strcmp(p->txs[i].name, tx->name) == 0)
            return i;
    p->txs[p->ntxs].scenario = s->name;
    p->txs[p->ntxs].name = tx->name;
    return p->ntxs++;
}

static goose_tx_plan entry(goose_plan *p, size_t first, const goose_scenario *s,
                           const goose_transaction *tx)
{
    goose_tx_plan e = {tx->name, tx->fn, tx_id(p, first, s, tx)};
    return e;
}

static void lay_out_loop(goose_plan *p, size_t first, const goose_scenario *s,
                         tx_ref *refs, size_t n, goose_scenario_plan *sp)
{
    size_t k = 0;
    while (k < n && refs[k].tx->sequence) {
        for (unsigned w = 0; w < refs[k].tx->weight; w++)
            sp->loop[sp->nloop++] = entry(p, first, s, refs[k].tx);
        k++;
    }
    /* unsequenced: round-robin until every weight is used up */
    for (unsigned round = 0;; round++) {
        int any = 0;
        for (size_t i = k; i < n; i++) {
            if (refs[i].tx->weight > round) {
                sp->loop[sp->nloop++] = entry(p, first, s, refs[i].tx);
                any = 1;
            }
        }
        if (!any)
            break;
    }
}

static int plan_scenario(goose_plan *p, const goose_scenario *s,
                         goose_scenario_plan *sp)
{
    size_t n = count_all(s);
    size_t loop_len = 0;
    tx_ref *all = calloc(n ? n : 1, sizeof *all);
    tx_ref *loop = calloc(n ? n : 1, sizeof *loop);
    sp->on_start = calloc(n ? n : 1, sizeof *sp->on_start);
    sp->on_stop = calloc(n ? n : 1, sizeof *sp->on_stop);
    if (!all || !loop || !sp->on_start || !sp->on_stop)
        goto fail;
    collect(s, all);
    size_t first = p->ntxs, nloop = 0;
    for (size_t i = 0; i < n; i++) /* ids in registration order */
        tx_id(p, first, s, all[i].tx);
    qsort(all, n, sizeof *all, by_sequence);
    for (size_t i = 0; i < n; i++) {
        const goose_transaction *tx = all[i].tx;
        if (tx->on_start)
            sp->on_start[sp->non_start++] = entry(p, first, s, tx);
        if (tx->on_stop)
            sp->on_stop[sp->non_stop++] = entry(p, first, s, tx);
        if (!tx->on_start && !tx->on_stop) {
            loop[nloop++] = all[i];
            loop_len += tx->weight;
        }
    }
    sp->loop = calloc(loop_len ? loop_len : 1, sizeof *sp->loop);
    if (!sp->loop)
        goto fail;
    lay_out_loop(p, first, s, loop, nloop, sp);
    free(all);
    free(loop);
    return 0;
fail:
    free(all);
    free(loop);
    return -1;
}

static int check_scenario(goose_attack *a, const goose_scenario *s)
{
    if (s->error)
        return goose__fail(a, GOOSE_ECONFIG, "%s", s->error);
    size_t n = 0;
    for (size_t i = 0; i < s->nitems; i++) {
        const goose_taskset *ts = s->items[i].ts;
        if (ts && ts->error)
            return goose__fail(a, GOOSE_ECONFIG, "scenario \"%s\": %s", s->name,
                               ts->error);
        size_t m = s->items[i].tx ? 1 : ts->ntxs;
        for (size_t j = 0; j < m; j++) {
            const goose_transaction *tx = s->items[i].tx ? s->items[i].tx : ts->txs[j];
            if (tx->error)
                return goose__fail(a, GOOSE_ECONFIG, "scenario \"%s\": %s",
                                   s->name, tx->error);
        }
        n += m;
    }
    if (n == 0)
        return goose__fail(a, GOOSE_ECONFIG, "scenario \"%s\" has no transactions",
                           s->name);
    if (!a->opt.host && !s->host)
        return goose__fail(a, GOOSE_ECONFIG,
                           "scenario \"%s\" has no host: give --host or "
                           "goose_scenario_set_host()", s->name);
    return GOOSE_OK;
}

static size_t total_transactions(const goose_attack *a)
{
    size_t n = 0;
    for (size_t i = 0; i < a->nscenarios; i++)
        n += count_all(a->scenarios[i]);
    return n;
}

int goose__plan_build(goose_attack *a, goose_plan *p)
{
    memset(p, 0, sizeof *p);
    if (a->nscenarios == 0)
        return goose__fail(a, GOOSE_ECONFIG, "no scenarios: register at least one "
                           "with goose_attack_add_scenario()");
    for (size_t i = 0; i < a->nscenarios; i++) {
        int rc = check_scenario(a, a->scenarios[i]);
        if (rc != GOOSE_OK)
            return rc;
    }
    size_t users = a->opt.users;
    unsigned *weights = calloc(a->nscenarios, sizeof *weights);
    p->scenarios = calloc(a->nscenarios, sizeof *p->scenarios);
    p->txs = calloc(total_transactions(a) + 1, sizeof *p->txs);
    p->user_scenario = calloc(users ? users : 1, sizeof *p->user_scenario);
    if (!weights || !p->scenarios || !p->txs || !p->user_scenario)
        goto nomem;
    p->nscenarios = a->nscenarios;
    for (size_t i = 0; i < a->nscenarios; i++) {
        const goose_scenario *s = a->scenarios[i];
        goose_scenario_plan *sp = &p->scenarios[i];
        weights[i] = s->weight;
        sp->name = s->name;
        sp->host = a->opt.host ? a->opt.host : s->host;
        sp->wait_min_ms = s->wait_min_ms;
        sp->wait_max_ms = s->wait_max_ms;
        if (plan_scenario(p, s, sp) < 0)
            goto nomem;
    }
    goose__allocate_users(weights, a->nscenarios, users, p->user_scenario);
    p->weights = weights;
    return GOOSE_OK;
nomem:
    free(weights);
    goose__plan_free(p);
    return goose__fail(a, GOOSE_ENOMEM, "out of memory planning the run");
}

void goose__plan_free(goose_plan *p)
{
    for (size_t i = 0; p->scenarios && i < p->nscenarios; i++) {
        free(p->scenarios[i].on_start);
        free(p->scenarios[i].loop);
        free(p->scenarios[i].on_stop);
    }
    free(p->scenarios);
    free(p->txs);
    free(p->user_scenario);
    free(p->weights);
    memset(p, 0, sizeof *p);
}
