/* Registering scenarios, task sets and transactions.  Mistakes are kept on
 * the object (the first one wins) and refused when the scenario is added to
 * the attack or the attack runs, so a load test written without checking
 * every return value still gets a clear message. */
#include "config/attack.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void goose__set_error(char **slot, const char *fmt, ...)
{
    if (*slot)
        return;
    va_list ap;
    va_start(ap, fmt);
    if (vasprintf(slot, fmt, ap) < 0)
        *slot = NULL;
    va_end(ap);
}

int goose__valid_url(const char *url)
{
    size_t skip;
    if (!url)
        return 0;
    if (strncasecmp(url, "http://", 7) == 0)
        skip = 7;
    else if (strncasecmp(url, "https://", 8) == 0)
        skip = 8;
    else
        return 0;
    const char *host = url + skip;
    size_t hlen = strcspn(host, "/?#");
    if (hlen == 0 || host[0] == ':' || strpbrk(url, " \t\r\n"))
        return 0;
    return 1;
}

static goose_transaction *transaction_new(const char *name,
                                          goose_transaction_fn fn)
{
    goose_transaction *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->weight = 1;
    t->fn = fn;
    t->name = strdup(name ? name : "");
    if (!name || !*name)
        goose__set_error(&t->error, "a transaction has a NULL or empty name");
    else if (!fn)
        goose__set_error(&t->error, "transaction \"%s\" has no function", name);
    return t;
}

static void transaction_free(goose_transaction *t)
{
    if (!t)
        return;
    free(t->name);
    free(t->error);
    free(t);
}

int goose_transaction_set_weight(goose_transaction *t, unsigned weight)
{
    if (!t)
        return GOOSE_EINVAL;
    if (weight == 0) {
        goose__set_error(&t->error, "transaction \"%s\": weight must be at least 1",
                         t->name);
        return GOOSE_EINVAL;
    }
    t->weight = weight;
    return GOOSE_OK;
}

int goose_transaction_set_sequence(goose_transaction *t, unsigned sequence)
{
    if (!t)
        return GOOSE_EINVAL;
    if (sequence == 0) {
        goose__set_error(&t->error, "transaction \"%s\": sequence must be at least 1",
                         t->name);
        return GOOSE_EINVAL;
    }
    t->sequence = sequence;
    return GOOSE_OK;
}

int goose_transaction_set_on_start(goose_transaction *t)
{
    if (!t)
        return GOOSE_EINVAL;
    t->on_start = 1;
    return GOOSE_OK;
}

int goose_transaction_set_on_stop(goose_transaction *t)
{
    if (!t)
        return GOOSE_EINVAL;
    t->on_stop = 1;
    return GOOSE_OK;
}

goose_taskset *goose_taskset_new(const char *name)
{
    if (!name || !*name)
        return NULL;
    goose_taskset *ts = calloc(1, sizeof *ts);
    if (!ts)
        return NULL;
    ts->name = strdup(name);
    if (!ts->name) {
        free(ts);
        return NULL;
    }
    return ts;
}

static void taskset_destroy(goose_taskset *ts)
{
    for (size_t i = 0; i < ts->ntxs; i++)
        transaction_free(ts->txs[i]);
    free(ts->txs);
    free(ts->name);
    free(ts->error);
    free(ts);
}

/* A task set added to scenarios belongs to them (reference-counted) and
 * goes with the last of them; goose_taskset_free only frees one that was
 * never added. */
void goose_taskset_free(goose_taskset *ts)
{
    if (ts && ts->refs == 0)
        taskset_destroy(ts);
}

static void taskset_release(goose_taskset *ts)
{
    if (--ts->refs == 0)
        taskset_destroy(ts);
}

goose_transaction *goose_taskset_add_transaction(goose_taskset *ts,
                                                 const char *name,
                                                 goose_transaction_fn fn)
{
    if (!ts)
        return NULL;
    goose_transaction *t = transaction_new(name, fn);
    goose_transaction **txs = t ? realloc(ts->txs, (ts->ntxs + 1) * sizeof *txs)
                                : NULL;
    if (!txs) {
        transaction_free(t);
        goose__set_error(&ts->error, "task set \"%s\": out of memory", ts->name);
        return NULL;
    }
    ts->txs = txs;
    ts->txs[ts->ntxs++] = t;
    if (t->error)
        goose__set_error(&ts->error, "task set \"%s\": %s", ts->name, t->error);
    return t;
}

goose_scenario *goose_scenario_new(const char *name)
{
    if (!name || !*name)
        return NULL;
    goose_scenario *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->name = strdup(name);
    if (!s->name) {
        free(s);
        return NULL;
    }
    s->weight = 1;
    return s;
}

void goose_scenario_free(goose_scenario *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->nitems; i++) {
        if (s->items[i].tx)
            transaction_free(s->items[i].tx);
        else
            taskset_release(s->items[i].ts);
    }
    free(s->items);
    free(s->name);
    free(s->host);
    free(s->error);
    free(s);
}

int goose_scenario_set_weight(goose_scenario *s, unsigned weight)
{
    if (!s)
        return GOOSE_EINVAL;
    if (weight == 0) {
        goose__set_error(&s->error, "scenario \"%s\": weight must be at least 1",
                         s->name);
        return GOOSE_EINVAL;
    }
    s->weight = weight;
    return GOOSE_OK;
}

int goose_scenario_set_wait_time(goose_scenario *s, unsigned min_ms,
                                 unsigned max_ms)
{
    if (!s)
        return GOOSE_EINVAL;
    if (min_ms > max_ms) {
        goose__set_error(&s->error,
                         "scenario \"%s\": wait time minimum %u ms is above the maximum %u ms",
                         s->name, min_ms, max_ms);
        return GOOSE_EINVAL;
    }
    s->wait_min_ms = min_ms;
    s->wait_max_ms = max_ms;
    return GOOSE_OK;
}

int goose_scenario_set_host(goose_scenario *s, const char *url)
{
    if (!s)
        return GOOSE_EINVAL;
    if (!goose__valid_url(url)) {
        goose__set_error(&s->error, "scenario \"%s\": host \"%s\" is not an http(s) URL",
                         s->name, url ? url : "(null)");
        return GOOSE_EINVAL;
    }
    char *copy = strdup(url);
    if (!copy)
        return GOOSE_ENOMEM;
    free(s->host);
    s->host = copy;
    return GOOSE_OK;
}

static int add_item(goose_scenario *s, goose_transaction *tx, goose_taskset *ts)
{
    goose_scenario_item *items = realloc(s->items, (s->nitems + 1) * sizeof *items);
    if (!items) {
        goose__set_error(&s->error, "scenario \"%s\": out of memory", s->name);
        return GOOSE_ENOMEM;
    }
    s->items = items;
    s->items[s->nitems].tx = tx;
    s->items[s->nitems].ts = ts;
    s->nitems++;
    return GOOSE_OK;
}

goose_transaction *goose_scenario_add_transaction(goose_scenario *s,
                                                  const char *name,
                                                  goose_transaction_fn fn)
{
    if (!s)
        return NULL;
    goose_transaction *t = transaction_new(name, fn);
    if (!t || add_item(s, t, NULL) != GOOSE_OK) {
        transaction_free(t);
        return NULL;
    }
    if (t->error)
        goose__set_error(&s->error, "scenario \"%s\": %s", s->name, t->error);
    return t;
}

int goose_scenario_add_taskset(goose_scenario *s, goose_taskset *ts)
{
    if (!s || !ts) {
        if (s)
            goose__set_error(&s->error, "scenario \"%s\": task set is NULL", s->name);
        return GOOSE_EINVAL;
    }
    int rc = add_item(s, NULL, ts);
    if (rc == GOOSE_OK)
        ts->refs++;
    return rc;
}

size_t goose__scenario_txs(const goose_scenario *s, const goose_transaction **out)
{
    size_t n = 0;
    for (size_t i = 0; i < s->nitems; i++) {
        const goose_taskset *ts = s->items[i].ts;
        size_t m = ts ? ts->ntxs : 1;
        for (size_t j = 0; j < m; j++, n++)
            if (out)
                out[n] = ts ? ts->txs[j] : s->items[i].tx;
    }
    return n;
}
