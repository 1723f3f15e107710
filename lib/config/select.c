/* Which scenarios run (--scenarios) and the listing of them
 * (--scenarios-list).  A list is comma-separated items; each matches a
 * scenario's name the way Goose compares machine names: ASCII letters
 * without case, digits and every byte beyond ASCII (UTF-8 letters) count,
 * spaces, punctuation and other ASCII symbols are ignored.  '*' matches
 * any run of the name, so "Load Homepage", "loadhomepage" and "load*" all
 * pick "LoadHomepage".  The selection is an option: the load-test hash
 * still covers every registered scenario. */
#include "config/attack.h"

#include "util/buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Locale-free on purpose: a host program's setlocale() changes nothing. */
static int significant(unsigned char c)
{
    return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') || c >= 0x80;
}

static char fold(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c | 0x20) : c;
}

/* The next character that counts (or a '*' of a pattern), or end. */
static const char *skip(const char *s, const char *end, int pattern)
{
    while (s < end && !significant((unsigned char)*s) && !(pattern && *s == '*'))
        s++;
    return s;
}

/* A glob with one point to retry from: after the last '*' seen, one
 * character further into the name each time. */
int goose__scenario_match(const char *pattern, size_t plen, const char *name)
{
    const char *pe = pattern + plen, *ne = name + strlen(name);
    const char *p = skip(pattern, pe, 1), *n = skip(name, ne, 0);
    const char *star = NULL, *retry = NULL;
    while (n < ne) {
        if (p < pe && *p == '*') {
            star = p = skip(p + 1, pe, 1);
            retry = n;
        } else if (p < pe && fold(*p) == fold(*n)) {
            p = skip(p + 1, pe, 1);
            n = skip(n + 1, ne, 0);
        } else if (star) {
            p = star;
            n = retry = skip(retry + 1, ne, 0);
        } else {
            return 0;
        }
    }
    while (p < pe && *p == '*')
        p = skip(p + 1, pe, 1);
    return p == pe;
}

/* The next comma-separated item of *rest; 0 when there is none. */
static int next_item(const char **rest, const char **item, size_t *len)
{
    if (!*rest)
        return 0;
    const char *comma = strchr(*rest, ',');
    *item = *rest;
    *len = comma ? (size_t)(comma - *rest) : strlen(*rest);
    *rest = comma ? comma + 1 : NULL;
    return 1;
}

int goose__scenarios_check(const char *list, char *err, size_t errlen)
{
    const char *rest = list, *item;
    size_t len;
    if (strlen(list) > GOOSE_SCENARIOS_MAX) {
        snprintf(err, errlen, "--scenarios is longer than %d bytes", GOOSE_SCENARIOS_MAX);
        return GOOSE_EVALUE;
    }
    while (next_item(&rest, &item, &len)) {
        if (skip(item, item + len, 1) == item + len) {
            snprintf(err, errlen, "--scenarios \"%s\" has an empty item: give scenario "
                     "names separated by commas, like \"reader,admin*\"", list);
            return GOOSE_EVALUE;
        }
    }
    return GOOSE_OK;
}

static int no_match(goose_attack *a, const char *item, size_t len)
{
    goose_buf names;
    goose__buf_init(&names);
    for (size_t i = 0; i < a->nscenarios; i++)
        goose__buf_printf(&names, "%s\"%s\"", i ? ", " : "", a->scenarios[i]->name);
    int rc = goose__fail(a, GOOSE_ECONFIG, "--scenarios: \"%.*s\" matches no scenario "
                         "(the scenarios are %s)", (int)len, item,
                         names.data ? names.data : "none");
    goose__buf_free(&names);
    return rc;
}

int goose__scenarios_select(goose_attack *a, unsigned char *selected, size_t *count)
{
    const char *rest = a->opt.scenarios, *item;
    size_t len;
    if (a->nscenarios == 0)
        return goose__fail(a, GOOSE_ECONFIG, "no scenarios: register at least one "
                           "with goose_attack_add_scenario()");
    memset(selected, !rest, a->nscenarios);
    while (next_item(&rest, &item, &len)) {
        int hit = 0;
        for (size_t i = 0; i < a->nscenarios; i++) {
            if (goose__scenario_match(item, len, a->scenarios[i]->name)) {
                selected[i] = 1;
                hit = 1;
            }
        }
        if (!hit)
            return no_match(a, item, len);
    }
    *count = 0;
    for (size_t i = 0; i < a->nscenarios; i++)
        *count += selected[i];
    return GOOSE_OK;
}

/* "log in (on_start)", "front (weight 3)", "pay (sequence 2)" */
static int list_tx(goose_buf *b, const goose_transaction *t, int first)
{
    char marks[64] = "";
    int n = 0;
    if (t->weight > 1)
        n += snprintf(marks + n, sizeof marks - (size_t)n, ", weight %u", t->weight);
    if (t->sequence)
        n += snprintf(marks + n, sizeof marks - (size_t)n, ", sequence %u", t->sequence);
    if (t->on_start)
        n += snprintf(marks + n, sizeof marks - (size_t)n, ", on_start");
    if (t->on_stop)
        snprintf(marks + n, sizeof marks - (size_t)n, ", on_stop");
    return goose__buf_printf(b, "%s%s%s%s%s", first ? "" : ", ", t->name,
                             marks[0] ? " (" : "", marks[0] ? marks + 2 : "",
                             marks[0] ? ")" : "");
}

/* "Reader (weight 3): front (weight 3), node" */
static int list_scenario(goose_buf *b, const goose_scenario *s)
{
    size_t n = goose__scenario_txs(s, NULL);
    const goose_transaction **txs = calloc(n ? n : 1, sizeof *txs);
    if (!txs)
        return -1;
    goose__scenario_txs(s, txs);
    int rc = goose__buf_printf(b, "%s (weight %u): ", s->name, s->weight);
    for (size_t i = 0; i < n; i++)
        rc |= list_tx(b, txs[i], i == 0);
    free(txs);
    return rc | goose__buf_adds(b, n ? "\n" : "no transactions\n");
}

int goose__scenarios_list(goose_attack *a, char **out)
{
    *out = NULL;
    if (a->config_error)
        return goose__fail(a, a->config_code, "%s", a->config_error);
    unsigned char *selected = calloc(a->nscenarios ? a->nscenarios : 1, 1);
    size_t count = 0;
    if (!selected)
        return goose__fail(a, GOOSE_ENOMEM, "out of memory");
    int rc = goose__scenarios_select(a, selected, &count);
    goose_buf b;
    goose__buf_init(&b);
    for (size_t i = 0; rc == GOOSE_OK && i < a->nscenarios; i++)
        if (selected[i] && list_scenario(&b, a->scenarios[i]) < 0)
            rc = goose__fail(a, GOOSE_ENOMEM, "out of memory");
    free(selected);
    if (rc == GOOSE_OK && !(*out = goose__buf_steal(&b)))
        rc = goose__fail(a, GOOSE_ENOMEM, "out of memory");
    goose__buf_free(&b);
    return rc;
}
