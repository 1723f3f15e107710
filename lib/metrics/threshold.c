/* Thresholds: "[KEY:]METRIC OP VALUE" (--threshold), parsed when the option
 * is set so a bad one is refused before any user starts, and evaluated on
 * the measured totals: at the end of a run, and after every second of it
 * with --threshold-abort.  goose(7) has the grammar and what each part
 * means; a Gaggle Manager evaluates its merged totals the same way. */
#include "metrics/threshold.h"

#include <goose.h>

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/parse.h"

#define OP_CHARS "<>=!"
#define METRICS_HINT "p50, p95, p99.9, min, max, avg, count, fails, fail_rate or rps"

/* ---- parsing ---- */

typedef struct parse_ctx {
    const char *expr; /* trimmed, for messages */
    char *err;
    size_t errlen;
} parse_ctx;

static int bad(const parse_ctx *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* --threshold "p95<abc": "abc" is not a duration ... */
static int bad(const parse_ctx *p, const char *fmt, ...)
{
    int n = snprintf(p->err, p->errlen, "--threshold \"%s\": ", p->expr);
    if (n >= 0 && (size_t)n < p->errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return GOOSE_EVALUE;
}

/* A copy of s[0..n) without the spaces around it. */
static char *trimmed(const char *s, size_t n)
{
    while (n && isspace((unsigned char)*s))
        s++, n--;
    while (n && isspace((unsigned char)s[n - 1]))
        n--;
    return strndup(s, n);
}

static const char *const OPS[] = {"<", "<=", ">", ">=", "==", "!="};

const char *goose__threshold_op(goose_th_op op)
{
    return (unsigned)op < sizeof OPS / sizeof OPS[0] ? OPS[op] : "?";
}

/* The comparison is the last run of <>=! characters: a value never holds
 * one, a request name may. */
static int find_op(const char *s, size_t *at, size_t *len)
{
    const char *last = NULL;
    for (const char *p = s; *p; p++)
        if (strchr(OP_CHARS, *p))
            last = p;
    if (!last)
        return -1;
    const char *first = last;
    while (first > s && strchr(OP_CHARS, first[-1]))
        first--;
    *at = (size_t)(first - s);
    *len = (size_t)(last - first) + 1;
    return 0;
}

/* p95, p99.9; p999 and p9999 are 99.9 and 99.99, as in the JSON report. */
static int parse_percentile(const char *s, double *q)
{
    double v;
    if (s[0] != 'p' || !isdigit((unsigned char)s[1]))
        return -1;
    const char *end = goose__parse_decimal(s + 1, &v);
    if (!end || *end)
        return -1;
    size_t digits = strlen(s + 1);
    if (!strchr(s, '.') && digits > 2 && strcmp(s + 1, "100") != 0) {
        if (strncmp(s + 1, "99", 2) != 0)
            return -1;
        v /= pow(10, (double)(digits - 2));
    }
    if (v <= 0 || v > 100)
        return -1;
    /* 99.9 / 100 is 0.99900000000000011, one rank past the report's p999
       at 1000 samples: both sides scaled to exact integers first */
    *q = (double)llround(v * 1e9) / 1e11;
    return 0;
}

static const struct {
    const char *name;
    goose_th_metric kind;
} NAMED[] = {
    {"min", GOOSE_TH_MIN},     {"max", GOOSE_TH_MAX},
    {"avg", GOOSE_TH_AVG},     {"mean", GOOSE_TH_AVG},
    {"count", GOOSE_TH_COUNT}, {"fails", GOOSE_TH_FAILS},
    {"fail_rate", GOOSE_TH_FAIL_RATE}, {"rps", GOOSE_TH_RPS},
};

static int parse_metric(const parse_ctx *p, const char *s, goose_threshold *t)
{
    for (size_t i = 0; i < sizeof NAMED / sizeof NAMED[0]; i++) {
        if (!strcmp(s, NAMED[i].name)) {
            t->kind = NAMED[i].kind;
            /* "mean" is reported as the avg it is */
            snprintf(t->metric, sizeof t->metric, "%s",
                     t->kind == GOOSE_TH_AVG ? "avg" : s);
            return GOOSE_OK;
        }
    }
    if (strlen(s) < sizeof t->metric && parse_percentile(s, &t->quantile) == 0) {
        t->kind = GOOSE_TH_PERCENTILE;
        snprintf(t->metric, sizeof t->metric, "%s", s);
        return GOOSE_OK;
    }
    return bad(p, "unknown metric \"%s\" (" METRICS_HINT ")", s);
}

/* "200ms", "1.5s", "500us"; a bare number is milliseconds. */
static int parse_time(const char *v, double *us)
{
    size_t n = strlen(v);
    uint64_t u;
    if (n > 2 && !strcmp(v + n - 2, "us"))
        return goose__parse_decimal(v, us) == v + n - 2 ? 0 : -1;
    if (goose__parse_duration(v, 1e3, &u) < 0)
        return -1;
    *us = (double)u;
    return 0;
}

/* "1%" or a fraction "0.01". */
static int parse_rate(const parse_ctx *p, const char *v, double *out)
{
    const char *end = goose__parse_decimal(v, out);
    int pct = end && !strcmp(end, "%");
    if (!end || (*end && !pct))
        return bad(p, "\"%s\" is not a rate (like 1%% or 0.01)", v);
    if (pct && *out > 100)
        return bad(p, "\"%s\" is above 100%%", v);
    if (!pct && *out > 1)
        return bad(p, "\"%s\" is above 1: write %s%% for a percentage", v, v);
    if (pct)
        *out /= 100;
    return GOOSE_OK;
}

static int parse_value(const parse_ctx *p, const char *v, goose_threshold *t)
{
    const char *end;
    switch (t->kind) {
    case GOOSE_TH_FAIL_RATE:
        return parse_rate(p, v, &t->limit);
    case GOOSE_TH_COUNT:
    case GOOSE_TH_FAILS:
        end = goose__parse_decimal(v, &t->limit);
        if (!end || *end || strchr(v, '.'))
            return bad(p, "\"%s\" is not a whole number (%s counts requests)", v, t->metric);
        return GOOSE_OK;
    case GOOSE_TH_RPS:
        end = goose__parse_decimal(v, &t->limit);
        if (!end || *end)
            return bad(p, "\"%s\" is not a number of requests per second", v);
        return GOOSE_OK;
    default:
        if (parse_time(v, &t->limit) < 0)
            return bad(p, "\"%s\" is not a duration (like 200ms, 1.5s or 500us; "
                          "a bare number is milliseconds)", v);
        return GOOSE_OK;
    }
}

static int parse_op(const parse_ctx *p, const char *s, size_t len, goose_threshold *t)
{
    for (size_t i = 0; i < sizeof OPS / sizeof OPS[0]; i++) {
        if (strlen(OPS[i]) == len && !strncmp(s, OPS[i], len)) {
            t->op = (goose_th_op)i;
            return GOOSE_OK;
        }
    }
    return bad(p, "\"%.*s\" is not a comparison (use <, <=, >, >=, == or !=)", (int)len, s);
}

/* KEY:METRIC or METRIC; the metric follows the last ':' (names may hold
 * colons, metrics do not). */
static int parse_left(const parse_ctx *p, const char *left, goose_threshold *t)
{
    const char *colon = strrchr(left, ':');
    if (!colon)
        return parse_metric(p, left, t);
    char *metric = trimmed(colon + 1, strlen(colon + 1));
    if (!metric || !(t->key = trimmed(left, (size_t)(colon - left))))
        return free(metric), GOOSE_ENOMEM;
    int rc = !*t->key  ? bad(p, "no request or transaction name before \":\"")
           : !*metric ? bad(p, "no metric after \"%s:\"", t->key)
                      : parse_metric(p, metric, t);
    free(metric);
    return rc;
}

static int parse_parts(const parse_ctx *p, goose_threshold *t)
{
    const char *s = t->expr;
    size_t at, len;
    if (!*s)
        return bad(p, "empty (like p95<200ms or \"GET /:fail_rate<1%%\")");
    if (find_op(s, &at, &len) < 0)
        return bad(p, "no comparison (<, <=, >, >=, == or !=)");
    int rc = parse_op(p, s + at, len, t);
    if (rc != GOOSE_OK)
        return rc;
    char *left = trimmed(s, at);
    char *value = trimmed(s + at + len, strlen(s + at + len));
    if (!left || !value)
        rc = GOOSE_ENOMEM;
    else if (!*left)
        rc = bad(p, "no metric before \"%s\"", OPS[t->op]);
    else if (!*value)
        rc = bad(p, "no value after \"%s\"", OPS[t->op]);
    else if ((rc = parse_left(p, left, t)) == GOOSE_OK)
        rc = parse_value(p, value, t);
    free(left);
    free(value);
    return rc;
}

int goose__threshold_parse(const char *expr, goose_threshold *out, char *err,
                           size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (!expr || !(out->expr = trimmed(expr, strlen(expr))))
        return expr ? GOOSE_ENOMEM : GOOSE_EINVAL;
    parse_ctx p = {out->expr, err, errlen};
    int rc = parse_parts(&p, out);
    if (rc != GOOSE_OK)
        goose__threshold_free(out);
    return rc;
}

void goose__threshold_free(goose_threshold *t)
{
    free(t->expr);
    free(t->key);
    memset(t, 0, sizeof *t);
}

int goose__threshold_copy(goose_threshold *dst, const goose_threshold *src)
{
    *dst = *src;
    dst->expr = strdup(src->expr);
    dst->key = src->key ? strdup(src->key) : NULL;
    if (!dst->expr || (src->key && !dst->key)) {
        goose__threshold_free(dst);
        return -1;
    }
    return 0;
}

/* ---- evaluating ---- */

/* What a threshold's key selects, summed. */
typedef struct selection {
    int found;
    int transactions;   /* a transaction's, not requests */
    uint64_t count;
    uint64_t fails;
    const goose_hist *hist;
    goose_hist *scratch;
} selection;

static void add(selection *x, uint64_t success, uint64_t fail, const goose_hist *h)
{
    if (!x->found++)
        goose__hist_free(x->scratch);
    x->count += success + fail;
    x->fails += fail;
    goose__hist_merge(x->scratch, h);
    x->hist = x->scratch;
}

/* "METHOD NAME" of one request key. */
static void select_key(selection *x, const goose_stats *s, const char *key)
{
    const char *space = strchr(key, ' ');
    char method[32];
    if (!space || (size_t)(space - key) >= sizeof method)
        return;
    memcpy(method, key, (size_t)(space - key));
    method[space - key] = '\0';
    const goose_req_stat *q = goose__stats_find(s, method, space + 1);
    if (q)
        add(x, q->success, q->fail, &q->hist);
}

/* A transaction by its name, or as "Scenario/name". */
static int tx_named(const goose_tx_info *tx, const char *key)
{
    if (!tx->name || !tx->scenario)
        return 0;
    size_t n = strlen(tx->scenario);
    return !strcmp(tx->name, key) ||
           (!strncmp(key, tx->scenario, n) && key[n] == '/' && !strcmp(key + n + 1, tx->name));
}

/* In this order: a request "METHOD NAME", every method of a request name,
 * a transaction; no key: every request. */
static void select_all(selection *x, const goose_threshold *t, const goose_stats *s,
                       const goose_tx_info *txs, size_t ntxs)
{
    if (!t->key) {
        x->found = 1;
        x->count = s->requests;
        x->fails = s->failures;
        x->hist = &s->all;
        return;
    }
    select_key(x, s, t->key);
    if (!x->found)
        for (size_t i = 0; i < s->nreqs; i++)
            if (!strcmp(s->reqs[i]->name, t->key))
                add(x, s->reqs[i]->success, s->reqs[i]->fail, &s->reqs[i]->hist);
    if (x->found)
        return;
    x->transactions = 1;
    for (size_t i = 0; i < ntxs && i < s->ntxs; i++)
        if (tx_named(&txs[i], t->key))
            add(x, s->txs[i].success, s->txs[i].fail, &s->txs[i].hist);
}

/* The value of the metric, or -1 when it needs samples and has none. */
static int observe(const goose_threshold *t, const selection *x, double secs, double *v)
{
    const goose_hist *h = x->hist;
    if (x->count == 0 && t->kind != GOOSE_TH_COUNT && t->kind != GOOSE_TH_FAILS &&
        t->kind != GOOSE_TH_RPS)
        return -1;
    switch (t->kind) {
    case GOOSE_TH_PERCENTILE: *v = (double)goose__hist_percentile(h, t->quantile); break;
    case GOOSE_TH_MIN: *v = (double)h->min; break;
    case GOOSE_TH_MAX: *v = (double)h->max; break;
    case GOOSE_TH_AVG: *v = goose__hist_mean(h); break;
    case GOOSE_TH_COUNT: *v = (double)x->count; break;
    case GOOSE_TH_FAILS: *v = (double)x->fails; break;
    case GOOSE_TH_FAIL_RATE: *v = (double)x->fails / (double)x->count; break;
    case GOOSE_TH_RPS: *v = secs > 0 ? (double)x->count / secs : 0; break;
    }
    return 0;
}

/* Equal within rounding (1% written as "1%" or "0.01" is the same limit);
 * counts, whole numbers, compare exactly. */
static int holds(goose_th_op op, double a, double b, int exact)
{
    int eq = exact ? a == b : fabs(a - b) <= 1e-9 * fmax(fabs(a), fabs(b));
    switch (op) {
    case GOOSE_TH_LT: return a < b && !eq;
    case GOOSE_TH_LE: return a < b || eq;
    case GOOSE_TH_GT: return a > b && !eq;
    case GOOSE_TH_GE: return a > b || eq;
    case GOOSE_TH_EQ: return eq;
    case GOOSE_TH_NE: return !eq;
    }
    return 0;
}

/* A key that matches nothing is often a slip ("GET/" for "GET /"): the
 * closest request or transaction, or "" when none is close. */
static void closest_key(const char *key, const goose_stats *s, const goose_tx_info *txs,
                        size_t ntxs, char *out, size_t len)
{
    size_t best = goose__slip_limit(key) + 1;
    char name[128];
    out[0] = '\0';
    for (size_t i = 0; i < s->nreqs + ntxs; i++) {
        if (i < s->nreqs)
            snprintf(name, sizeof name, "%s %s", s->reqs[i]->method, s->reqs[i]->name);
        else if (txs[i - s->nreqs].name)
            snprintf(name, sizeof name, "%s", txs[i - s->nreqs].name);
        else
            continue;
        size_t d = goose__edit_distance(key, name);
        if (d < best) {
            best = d;
            snprintf(out, len, "%s", name);
        }
    }
}

void goose__threshold_check(const goose_threshold *t, const goose_stats *s,
                            const goose_tx_info *txs, size_t ntxs, double secs,
                            goose_hist *scratch, goose_threshold_result *out)
{
    selection x = {.scratch = scratch};
    out->measured = out->pass = 0;
    out->observed = 0;
    out->reason[0] = '\0';
    select_all(&x, t, s, txs, ntxs);
    if (!x.found) {
        char meant[128];
        closest_key(t->key, s, txs, ntxs, meant, sizeof meant);
        snprintf(out->reason, sizeof out->reason,
                 "no requests or transactions named \"%s\"%s%s%s", t->key,
                 meant[0] ? " (did you mean \"" : "", meant, meant[0] ? "\"?)" : "");
        return;
    }
    if (observe(t, &x, secs, &out->observed) < 0) {
        snprintf(out->reason, sizeof out->reason, "no %s%s%s%s to measure",
                 x.transactions ? "transactions" : "requests", t->key ? " named \"" : "",
                 t->key ? t->key : "", t->key ? "\"" : "");
        return;
    }
    out->measured = 1;
    out->pass = holds(t->op, out->observed, t->limit,
                      t->kind == GOOSE_TH_COUNT || t->kind == GOOSE_TH_FAILS);
}

const char *goose__threshold_unit(const goose_threshold *t)
{
    switch (t->kind) {
    case GOOSE_TH_FAIL_RATE: return "fraction";
    case GOOSE_TH_COUNT:
    case GOOSE_TH_FAILS: return "count";
    case GOOSE_TH_RPS: return "per_s";
    default: return "us";
    }
}

void goose__threshold_format(const goose_threshold *t, double v, char *out, size_t len)
{
    if (t->kind == GOOSE_TH_FAIL_RATE)
        snprintf(out, len, "%.4g%%", v * 100);
    else if (t->kind == GOOSE_TH_COUNT || t->kind == GOOSE_TH_FAILS)
        snprintf(out, len, "%.0f", v);
    else if (t->kind == GOOSE_TH_RPS)
        snprintf(out, len, "%.1f/s", v);
    else if (v < 1000)
        snprintf(out, len, "%.0fus", v);
    else if (v < 1e6)
        snprintf(out, len, "%.4gms", v / 1e3);
    else
        snprintf(out, len, "%.4gs", v / 1e6);
}

/* ---- during and after a run ---- */

