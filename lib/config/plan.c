/* The engine's view of the scenarios that run (every one, or those
 * --scenarios selects): for each, the order in which a user runs its
 * transactions.  on_start transactions run once first; then each
 * iteration runs the sequenced transactions by ascending sequence (each
 * as many times in a row as its weight), then the others, weights spread
 * round-robin (weights 3:1 run A B A A); on_stop transactions run once at
 * the end. */
#include "config/attack.h"

#include <stdlib.h>
#include <string.h>

typedef struct tx_ref {
    const goose_transaction *tx;
    size_t order; /* registration order, to keep sorting stable */
} tx_ref;

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

/* Every transaction of a scenario, task sets expanded in place. */
static int collect(const goose_scenario *s, tx_ref *out, size_t n)
{
    const goose_transaction **txs = calloc(n ? n : 1, sizeof *txs);
    if (!txs)
        return -1;
    goose__scenario_txs(s, txs);
    for (size_t i = 0; i < n; i++) {
        out[i].tx = txs[i];
        out[i].order = i;
    }
    free(txs);
    return 0;
}

static int plan_scenario(goose_plan *p, const goose_scenario *s,
                         goose_scenario_plan *sp)
{
    size_t n = goose__scenario_txs(s, NULL);
    size_t loop_len = 0;
    tx_ref *all = calloc(n ? n : 1, sizeof *all);
    tx_ref *loop = calloc(n ? n : 1, sizeof *loop);
    sp->on_start = calloc(n ? n : 1, sizeof *sp->on_start);
    sp->on_stop = calloc(n ? n : 1, sizeof *sp->on_stop);
    if (!all || !loop || !sp->on_start || !sp->on_stop || collect(s, all, n) < 0)
        goto fail;
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

/* Every scenario must be registered right; only those that run need a
 * host. */
static int check_scenario(goose_attack *a, const goose_scenario *s, int runs)
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
    if (runs && !a->opt.host && !s->host)
        return goose__fail(a, GOOSE_ECONFIG,
                           "scenario \"%s\" has no host: give --host or "
                           "goose_scenario_set_host()", s->name);
    return GOOSE_OK;
}

/* The scenarios --scenarios selects, checked; *count of them. */
static int select_checked(goose_attack *a, unsigned char *selected, size_t *count)
{
    int rc = goose__scenarios_select(a, selected, count);
    for (size_t i = 0; rc == GOOSE_OK && i < a->nscenarios; i++)
        rc = check_scenario(a, a->scenarios[i], selected[i]);
    if (rc == GOOSE_OK && a->opt.scenarios)
        goose__log(a, GOOSE_LOG_INFO, "running %zu of %zu scenarios (--scenarios %s)",
                   *count, a->nscenarios, a->opt.scenarios);
    return rc;
}

/* Only the selected scenarios are planned, in registration order: the
 * others get no user, no transaction id and no place in the report. */
static int plan_selected(goose_attack *a, goose_plan *p, const unsigned char *selected,
                         unsigned *weights)
{
    for (size_t i = 0; i < a->nscenarios; i++) {
        const goose_scenario *s = a->scenarios[i];
        if (!selected[i])
            continue;
        goose_scenario_plan *sp = &p->scenarios[p->nscenarios];
        weights[p->nscenarios++] = s->weight;
        sp->name = s->name;
        sp->host = a->opt.host ? a->opt.host : s->host;
        sp->wait_min_ms = s->wait_min_ms;
        sp->wait_max_ms = s->wait_max_ms;
        if (plan_scenario(p, s, sp) < 0)
            return -1;
    }
    return 0;
}

/* test_start and test_stop: a scenario each, after the others, of one
 * transaction of the same name; never given users (the allocation covers
 * the first nload scenarios).  Their host is --host, or the first
 * scenario's. */
static const char *const ONCE_NAMES[3] = {NULL, "test_start", "test_stop"};

static int plan_once(goose_attack *a, goose_plan *p, int kind, goose_transaction_fn fn)
{
    if (!fn)
        return 0;
    goose_scenario_plan *sp = &p->scenarios[p->nscenarios++]; /* freed with the plan */
    sp->name = ONCE_NAMES[kind];
    sp->host = a->opt.host ? a->opt.host : p->nload ? p->scenarios[0].host : NULL;
    sp->on_start = calloc(1, sizeof *sp->on_start);
    sp->on_stop = calloc(1, sizeof *sp->on_stop);
    sp->loop = calloc(1, sizeof *sp->loop);
    if (!sp->on_start || !sp->on_stop || !sp->loop)
        return -1;
    p->txs[p->ntxs].scenario = ONCE_NAMES[kind];
    p->txs[p->ntxs].name = ONCE_NAMES[kind];
    sp->loop[0] = (goose_tx_plan){ONCE_NAMES[kind], fn, p->ntxs++};
    sp->nloop = 1;
    p->once[kind] = p->nscenarios;
    return 0;
}

static size_t total_transactions(const goose_attack *a, const unsigned char *selected)
{
    size_t n = 0;
    for (size_t i = 0; i < a->nscenarios; i++)
        n += selected[i] ? goose__scenario_txs(a->scenarios[i], NULL) : 0;
    return n;
}

int goose__plan_build(goose_attack *a, goose_plan *p)
{
    memset(p, 0, sizeof *p);
    size_t users = a->opt.users, count = 0;
    unsigned char *selected = calloc(a->nscenarios ? a->nscenarios : 1, 1);
    if (!selected)
        return goose__fail(a, GOOSE_ENOMEM, "out of memory planning the run");
    int rc = select_checked(a, selected, &count);
    if (rc != GOOSE_OK) {
        free(selected);
        return rc;
    }
    unsigned *weights = calloc(count, sizeof *weights);
    p->scenarios = calloc(count + 2, sizeof *p->scenarios); /* + test_start, test_stop */
    p->txs = calloc(total_transactions(a, selected) + 3, sizeof *p->txs);
    p->user_scenario = calloc(users ? users : 1, sizeof *p->user_scenario);
    if (!weights || !p->scenarios || !p->txs || !p->user_scenario ||
        plan_selected(a, p, selected, weights) < 0)
        goto nomem;
    p->weights = weights;
    free(selected);
    rc = goose__alloc_init(&p->alloc, weights, p->nscenarios, a->opt.scheduler, a->opt.seed);
    if (rc == GOOSE_ECONFIG) {
        goose__plan_free(p);
        return goose__fail(a, rc, "--scheduler random shuffles one turn of the weights, "
                           "at most %u users; these weights make a longer one: make "
                           "them smaller", GOOSE_RANDOM_CYCLE_MAX);
    }
    if (rc == GOOSE_ENOMEM) {
        goose__plan_free(p);
        return goose__fail(a, GOOSE_ENOMEM, "out of memory planning the run");
    }
    goose__allocate_users(&p->alloc, users, p->user_scenario); /* none: all 0 */
    p->nload = p->nscenarios;
    if (plan_once(a, p, GOOSE_ONCE_START, a->test_start) < 0 ||
        plan_once(a, p, GOOSE_ONCE_STOP, a->test_stop) < 0) {
        goose__plan_free(p);
        return goose__fail(a, GOOSE_ENOMEM, "out of memory planning the run");
    }
    return GOOSE_OK;
nomem:
    free(weights);
    free(selected);
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
    goose__alloc_free(&p->alloc);
    for (size_t i = 0; p->tables && i < p->ndatasets; i++)
        goose__table_free(&p->tables[i]);
    free(p->tables);
    free(p->datasets);
    memset(p, 0, sizeof *p);
}
