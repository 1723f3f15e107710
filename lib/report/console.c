/* The console reports: the end-of-test tables (modelled on Goose's final
 * report) and the compact table printed while a test runs.  Only builds
 * strings; the caller decides where they go (the library never prints). */
#include "report/report.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics/co.h"
#include "metrics/histogram.h"
#include "metrics/stats.h"
#include "report/format.h"
#include "util/buf.h"

#define NAME_MAX_COLS 40 /* longer names are cut */
#define NO_RULE SIZE_MAX

/* ---- a plain ASCII table ---- */

typedef struct column {
    const char *head;
    int left;    /* left-aligned (names, text); numbers go right */
    size_t max;  /* display width a cell is cut to; 0: no limit */
} column;

typedef struct table {
    const column *cols;
    size_t ncols;
    char **cells;     /* row after row */
    size_t ncells, cap;
    size_t rule_row;  /* a rule is drawn above this row (the totals) */
    int oom;
} table;

static void table_init(table *t, const column *cols, size_t ncols)
{
    memset(t, 0, sizeof *t);
    t->cols = cols;
    t->ncols = ncols;
    t->rule_row = NO_RULE;
}

static void table_free(table *t)
{
    for (size_t i = 0; i < t->ncells; i++)
        free(t->cells[i]);
    free(t->cells);
    t->cells = NULL;
    t->ncells = t->cap = 0;
}

/* Control characters would break the layout (and the terminal). */
static void sanitize(char *s)
{
    for (unsigned char *p = (unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            *p = '?';
}

static void table_cellf(table *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void table_cellf(table *t, const char *fmt, ...)
{
    if (t->oom)
        return;
    if (t->ncells == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 32;
        char **p = realloc(t->cells, cap * sizeof *p);
        if (!p) {
            t->oom = 1;
            return;
        }
        t->cells = p;
        t->cap = cap;
    }
    goose_buf b;
    goose__buf_init(&b);
    va_list ap;
    va_start(ap, fmt);
    int rc = goose__buf_vprintf(&b, fmt, ap);
    va_end(ap);
    char *s = rc < 0 ? NULL : goose__buf_steal(&b);
    goose__buf_free(&b);
    if (!s) {
        t->oom = 1;
        return;
    }
    sanitize(s);
    t->cells[t->ncells++] = s;
}

/* The next row is the totals row, set apart by a rule. */
static void table_totals_next(table *t)
{
    t->rule_row = t->ncells / t->ncols;
}

/* Display width: UTF-8 continuation bytes take no column. */
static size_t disp_len(const char *s)
{
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        n += (*p & 0xc0) != 0x80;
    return n;
}

/* Bytes of s that fill at most `cols` columns, never splitting a
 * UTF-8 sequence. */
static size_t prefix_bytes(const char *s, size_t cols)
{
    size_t i = 0, n = 0;
    while (s[i]) {
        if (((unsigned char)s[i] & 0xc0) != 0x80) {
            if (n == cols)
                break;
            n++;
        }
        i++;
    }
    return i;
}

static size_t cell_width(const column *c, const char *s)
{
    size_t n = disp_len(s);
    return c->max && n > c->max ? c->max : n;
}

static int put_pad(goose_buf *b, char ch, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (goose__buf_add(b, &ch, 1) < 0)
            return -1;
    return 0;
}

/* A cell too wide for its column is cut and ends in "..". */
static int put_cell(goose_buf *b, const column *c, const char *s, size_t width,
                    int last)
{
    size_t n = disp_len(s);
    int cut = c->max && n > c->max;
    size_t shown = cut ? c->max : n;
    size_t pad = width - shown;
    int rc = 0;
    if (!c->left)
        rc |= put_pad(b, ' ', pad);
    if (cut) {
        rc |= goose__buf_add(b, s, prefix_bytes(s, c->max - 2));
        rc |= goose__buf_adds(b, "..");
    } else {
        rc |= goose__buf_adds(b, s);
    }
    if (c->left && !last)
        rc |= put_pad(b, ' ', pad);
    return rc ? -1 : 0;
}

/* Row `row` of the table, or its header line when row is NO_RULE. */
static int put_row(goose_buf *b, const table *t, size_t row,
                   const size_t *widths)
{
    int rc = 0;
    for (size_t c = 0; c < t->ncols; c++) {
        const char *s = row == NO_RULE ? t->cols[c].head
                                       : t->cells[row * t->ncols + c];
        if (c)
            rc |= goose__buf_adds(b, " | ");
        rc |= put_cell(b, &t->cols[c], s, widths[c], c + 1 == t->ncols);
    }
    rc |= goose__buf_adds(b, "\n");
    return rc ? -1 : 0;
}

static int put_rule(goose_buf *b, const size_t *widths, size_t ncols,
                    char joint)
{
    int rc = 0;
    for (size_t c = 0; c < ncols; c++) {
        if (c) {
            char sep[3] = {'-', joint, '-'};
            rc |= goose__buf_add(b, sep, 3);
        }
        rc |= put_pad(b, '-', widths[c]);
    }
    rc |= goose__buf_adds(b, "\n");
    return rc ? -1 : 0;
}

static int table_render(const table *t, goose_buf *b)
{
    if (t->oom || t->ncells % t->ncols)
        return -1;
    size_t *widths = calloc(t->ncols, sizeof *widths);
    if (!widths)
        return -1;
    for (size_t c = 0; c < t->ncols; c++)
        widths[c] = disp_len(t->cols[c].head);
    for (size_t i = 0; i < t->ncells; i++) {
        size_t w = cell_width(&t->cols[i % t->ncols], t->cells[i]);
        if (w > widths[i % t->ncols])
            widths[i % t->ncols] = w;
    }
    int rc = put_row(b, t, NO_RULE, widths);
    rc |= put_rule(b, widths, t->ncols, '-');
    for (size_t r = 0; r * t->ncols < t->ncells; r++) {
        if (r == t->rule_row)
            rc |= put_rule(b, widths, t->ncols, '+');
        rc |= put_row(b, t, r, widths);
    }
    free(widths);
    return rc ? -1 : 0;
}

/* Renders and frees the table. */
static int table_emit(table *t, goose_buf *b)
{
    int rc = table_render(t, b);
    table_free(t);
    return rc;
}

/* ---- numbers ---- */

static uint64_t hist_min(const goose_hist *h)
{
    return h->count ? h->min : 0;
}

static double pct_us(const goose_hist *h, double q)
{
    return (double)goose__hist_percentile(h, q);
}

static unsigned long long ull(uint64_t v)
{
    return (unsigned long long)v;
}

/* The totals row: every request row summed, histograms merged. */
static void merge_requests(const goose_stats *s, goose_hist *h,
                           uint64_t *success, uint64_t *fail)
{
    goose__hist_free(h);
    *success = *fail = 0;
    for (size_t i = 0; i < s->nreqs; i++) {
        *success += s->reqs[i]->success;
        *fail += s->reqs[i]->fail;
        goose__hist_merge(h, &s->reqs[i]->hist);
    }
}

static int heading(goose_buf *b, const char *title)
{
    return goose__buf_printf(b, "\n=== %s ===\n", title);
}

/* ---- PER REQUEST METRICS ---- */

static const column COUNT_COLS[] = {
    {"Name", 1, NAME_MAX_COLS}, {"# reqs", 0, 0}, {"# fails", 0, 0},
    {"req/s", 0, 0}, {"fail/s", 0, 0},
};

static void count_row(table *t, const char *method, const char *name,
                      uint64_t success, uint64_t fail, double secs)
{
    uint64_t count = success + fail;
    if (method)
        table_cellf(t, "%s %s", method, name);
    else
        table_cellf(t, "%s", name);
    table_cellf(t, "%llu", ull(count));
    table_cellf(t, "%s", goose__fmt_fails(fail, count).s);
    table_cellf(t, "%s", goose__fmt_rate(count, secs).s);
    table_cellf(t, "%s", goose__fmt_rate(fail, secs).s);
}

static const column TIME_COLS[] = {
    {"Name", 1, NAME_MAX_COLS}, {"Avg (ms)", 0, 0}, {"Min", 0, 0},
    {"Max", 0, 0}, {"Median", 0, 0},
};

static void time_row(table *t, const char *method, const char *name,
                     const goose_hist *h)
{
    if (method)
        table_cellf(t, "%s %s", method, name);
    else
        table_cellf(t, "%s", name);
    table_cellf(t, "%s", goose__fmt_ms(goose__hist_mean(h)).s);
    table_cellf(t, "%s", goose__fmt_ms((double)hist_min(h)).s);
    table_cellf(t, "%s", goose__fmt_ms((double)h->max).s);
    table_cellf(t, "%s", goose__fmt_ms(pct_us(h, 0.5)).s);
}

static const column PCT_COLS[] = {
    {"Name", 1, NAME_MAX_COLS}, {"50%", 0, 0}, {"75%", 0, 0},
    {"90%", 0, 0}, {"95%", 0, 0}, {"99%", 0, 0}, {"99.9%", 0, 0},
};

static void pct_row(table *t, const char *method, const char *name,
                    const goose_hist *h)
{
    static const double qs[] = {0.5, 0.75, 0.9, 0.95, 0.99, 0.999};
    if (method)
        table_cellf(t, "%s %s", method, name);
    else
        table_cellf(t, "%s", name);
    for (size_t i = 0; i < sizeof qs / sizeof qs[0]; i++)
        table_cellf(t, "%s", goose__fmt_ms(pct_us(h, qs[i])).s);
}

#define NCOLS(cols) (sizeof(cols) / sizeof((cols)[0]))

static int section_requests(goose_buf *b, const goose_results *r,
                            goose_hist *all)
{
    const goose_stats *s = &r->totals;
    uint64_t success, fail;
    merge_requests(s, all, &success, &fail);
    int rc = heading(b, "PER REQUEST METRICS");

    table t;
    table_init(&t, COUNT_COLS, NCOLS(COUNT_COLS));
    for (size_t i = 0; i < s->nreqs; i++)
        count_row(&t, s->reqs[i]->method, s->reqs[i]->name,
                  s->reqs[i]->success, s->reqs[i]->fail, r->duration_s);
    table_totals_next(&t);
    count_row(&t, NULL, "Aggregated", success, fail, r->duration_s);
    rc |= table_emit(&t, b);

    rc |= goose__buf_adds(b, "\n");
    table_init(&t, TIME_COLS, NCOLS(TIME_COLS));
    for (size_t i = 0; i < s->nreqs; i++)
        time_row(&t, s->reqs[i]->method, s->reqs[i]->name, &s->reqs[i]->hist);
    table_totals_next(&t);
    time_row(&t, NULL, "Aggregated", all);
    rc |= table_emit(&t, b);

    rc |= goose__buf_adds(b, "\n");
    table_init(&t, PCT_COLS, NCOLS(PCT_COLS));
    for (size_t i = 0; i < s->nreqs; i++)
        pct_row(&t, s->reqs[i]->method, s->reqs[i]->name, &s->reqs[i]->hist);
    table_totals_next(&t);
    pct_row(&t, NULL, "Aggregated", all);
    rc |= table_emit(&t, b);
    char folded[320];
    if (goose__fmt_folded(r, folded, sizeof folded))
        rc |= goose__buf_printf(b, "\n%s.\n", folded) < 0;
    return rc ? -1 : 0;
}

/* ---- COORDINATED OMISSION (--co-mitigation) ---- */

static const column CO_COLS[] = {
    {"Name", 1, NAME_MAX_COLS}, {"# synthetic", 0, 0}, {"Avg (ms)", 0, 0},
    {"adjusted", 0, 0}, {"95%", 0, 0}, {"adjusted", 0, 0}, {"99%", 0, 0},
    {"adjusted", 0, 0}, {"Max", 0, 0}, {"adjusted", 0, 0},
};

/* Measured and adjusted side by side. */
static void co_row(table *t, const char *method, const char *name, uint64_t synthetic,
                   const goose_hist *raw, const goose_hist *adj)
{
    if (method)
        table_cellf(t, "%s %s", method, name);
    else
        table_cellf(t, "%s", name);
    table_cellf(t, "%llu", ull(synthetic));
    table_cellf(t, "%s", goose__fmt_ms(goose__hist_mean(raw)).s);
    table_cellf(t, "%s", goose__fmt_ms(goose__hist_mean(adj)).s);
    table_cellf(t, "%s", goose__fmt_ms(pct_us(raw, 0.95)).s);
    table_cellf(t, "%s", goose__fmt_ms(pct_us(adj, 0.95)).s);
    table_cellf(t, "%s", goose__fmt_ms(pct_us(raw, 0.99)).s);
    table_cellf(t, "%s", goose__fmt_ms(pct_us(adj, 0.99)).s);
    table_cellf(t, "%s", goose__fmt_ms((double)raw->max).s);
    table_cellf(t, "%s", goose__fmt_ms((double)adj->max).s);
}

/* scratch: three histograms (heap): a row's adjusted times, and the
 * measured and adjusted totals. */
static int section_co(goose_buf *b, const goose_results *r, goose_hist *scratch)
{
    if (!r->co_mode)
        return 0;
    const goose_stats *s = &r->totals;
    goose_hist *adj = &scratch[0], *all = &scratch[1], *all_adj = &scratch[2];
    uint64_t synthetic = 0;
    goose__hist_free(all);
    goose__hist_free(all_adj);
    table t;
    table_init(&t, CO_COLS, NCOLS(CO_COLS));
    for (size_t i = 0; i < s->nreqs; i++) {
        const goose_req_stat *q = s->reqs[i];
        goose__req_adjusted(q, adj);
        co_row(&t, q->method, q->name, goose__req_synthetic(q), &q->hist, adj);
        goose__hist_merge(all, &q->hist);
        goose__hist_merge(all_adj, adj);
        synthetic += goose__req_synthetic(q);
    }
    table_totals_next(&t);
    co_row(&t, NULL, "Aggregated", synthetic, all, all_adj);
    char title[96];
    snprintf(title, sizeof title, "COORDINATED OMISSION MITIGATION (%s cadence)",
             goose__co_mode_name(r->co_mode));
    int rc = heading(b, title);
    rc |= goose__buf_adds(b, "Measured times beside times adjusted with the synthetic samples "
                             "of stalled passes (not counted as requests)\n");
    rc |= table_emit(&t, b);
    return rc ? -1 : 0;
}

/* ---- STATUS CODES ---- */

static const column STATUS_COLS[] = {
    {"Name", 1, NAME_MAX_COLS}, {"Status codes", 1, 0},
};

/* "200: 50, 404: 3"; requests that got no status at all (transport
 * errors) are counted too, so the row adds up to # reqs. */
static void status_row(table *t, const char *method, const char *name,
                       const goose_status_count *v, size_t n, uint64_t count)
{
    goose_buf line;
    goose__buf_init(&line);
    uint64_t seen = 0;
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        rc |= goose__buf_printf(&line, "%s%d: %llu", i ? ", " : "",
                                v[i].status, ull(v[i].count));
        seen += v[i].count;
    }
    if (count > seen)
        rc |= goose__buf_printf(&line, "%sno response: %llu", n ? ", " : "",
                                ull(count - seen));
    if (rc < 0)
        t->oom = 1;
    if (method)
        table_cellf(t, "%s %s", method, name);
    else
        table_cellf(t, "%s", name);
    table_cellf(t, "%s", line.data ? line.data : "-");
    goose__buf_free(&line);
}

static int section_status(goose_buf *b, const goose_results *r)
{
    const goose_stats *s = &r->totals;
    goose_status_count *all = NULL;
    size_t nall = 0;
    uint64_t count = 0;
    table t;
    table_init(&t, STATUS_COLS, NCOLS(STATUS_COLS));
    for (size_t i = 0; i < s->nreqs; i++) {
        const goose_req_stat *q = s->reqs[i];
        uint64_t http = goose__req_count(q) - q->protocols[GOOSE_PROTOCOL_OTHER];
        status_row(&t, q->method, q->name, q->statuses, q->nstatuses, http);
        count += http; /* goose_record's requests have no status */
        for (size_t j = 0; j < q->nstatuses; j++)
            if (goose__status_add(&all, &nall, q->statuses[j].status,
                                  q->statuses[j].count) < 0)
                t.oom = 1;
    }
    table_totals_next(&t);
    status_row(&t, NULL, "Aggregated", all, nall, count);
    int rc = heading(b, "STATUS CODES");
    rc |= table_emit(&t, b);
    free(all);
    return rc ? -1 : 0;
}

/* ---- PER TRANSACTION METRICS ---- */

static const column TX_COLS[] = {
    {"Name", 1, NAME_MAX_COLS}, {"# times run", 0, 0}, {"# fails", 0, 0},
    {"Avg (ms)", 0, 0}, {"Min", 0, 0}, {"Max", 0, 0}, {"Median", 0, 0},
};

static void tx_row(table *t, const char *scenario, const char *name,
                   uint64_t success, uint64_t fail, const goose_hist *h)
{
    if (scenario)
        table_cellf(t, "%s/%s", scenario, name ? name : "?");
    else
        table_cellf(t, "%s", name);
    table_cellf(t, "%llu", ull(success + fail));
    table_cellf(t, "%s", goose__fmt_fails(fail, success + fail).s);
    table_cellf(t, "%s", goose__fmt_ms(goose__hist_mean(h)).s);
    table_cellf(t, "%s", goose__fmt_ms((double)hist_min(h)).s);
    table_cellf(t, "%s", goose__fmt_ms((double)h->max).s);
    table_cellf(t, "%s", goose__fmt_ms(pct_us(h, 0.5)).s);
}

/* Every transaction is listed, including those never run. */
static int section_transactions(goose_buf *b, const goose_results *r,
                                goose_hist *all, const goose_hist *empty)
{
    const goose_stats *s = &r->totals;
    uint64_t success = 0, fail = 0;
    goose__hist_free(all);
    table t;
    table_init(&t, TX_COLS, NCOLS(TX_COLS));
    for (size_t i = 0; i < r->ntxs; i++) {
        const goose_tx_stat *x = i < s->ntxs ? &s->txs[i] : NULL;
        const char *scen = r->txs[i].scenario ? r->txs[i].scenario : "?";
        if (x) {
            tx_row(&t, scen, r->txs[i].name, x->success, x->fail, &x->hist);
            success += x->success;
            fail += x->fail;
            goose__hist_merge(all, &x->hist);
        } else {
            tx_row(&t, scen, r->txs[i].name, 0, 0, empty);
        }
    }
    table_totals_next(&t);
    tx_row(&t, NULL, "Aggregated", success, fail, all);
    int rc = heading(b, "PER TRANSACTION METRICS");
    rc |= table_emit(&t, b);
    return rc ? -1 : 0;
}

/* ---- SCENARIOS ---- */

static const column SCEN_COLS[] = {
    {"Name", 1, NAME_MAX_COLS}, {"# users", 0, 0}, {"# iterations", 0, 0},
};

static int section_scenarios(goose_buf *b, const goose_results *r)
{
    const goose_stats *s = &r->totals;
    unsigned long long users = 0, iters = 0;
    table t;
    table_init(&t, SCEN_COLS, NCOLS(SCEN_COLS));
    for (size_t i = 0; i < r->nscenarios; i++) {
        size_t u = r->scenario_users ? r->scenario_users[i] : 0;
        uint64_t n = i < s->nscenarios ? s->iterations[i] : 0;
        const char *name = r->scenario_names && r->scenario_names[i]
                               ? r->scenario_names[i]
                               : "?";
        table_cellf(&t, "%s", name);
        table_cellf(&t, "%zu", u);
        table_cellf(&t, "%llu", ull(n));
        users += u;
        iters += n;
    }
    table_totals_next(&t);
    table_cellf(&t, "Aggregated");
    table_cellf(&t, "%llu", users);
    table_cellf(&t, "%llu", iters);
    int rc = heading(b, "SCENARIOS");
    rc |= table_emit(&t, b);
    return rc ? -1 : 0;
}

/* ---- ERRORS ---- */

static const column ERR_COLS[] = {
    {"#", 0, 0}, {"Method", 1, 0}, {"Name", 1, NAME_MAX_COLS},
    {"Error", 1, 0},
};

static int section_errors(goose_buf *b, const goose_results *r)
{
    const goose_stats *s = &r->totals;
    if (!s->nerrs)
        return 0;
    const goose_err_stat **v = goose__stats_errors_by_count(s);
    if (!v)
        return -1;
    table t;
    table_init(&t, ERR_COLS, NCOLS(ERR_COLS));
    for (size_t i = 0; i < s->nerrs; i++) {
        table_cellf(&t, "%llu", ull(v[i]->count));
        table_cellf(&t, "%s", v[i]->method);
        table_cellf(&t, "%s", v[i]->name);
        table_cellf(&t, "%s", v[i]->error);
    }
    free(v);
    int rc = heading(b, "ERRORS");
    rc |= table_emit(&t, b);
    return rc ? -1 : 0;
}

/* ---- TRANSACTION ERRORS ---- */

static const column TX_ERR_COLS[] = {
    {"#", 0, 0}, {"Scenario", 1, NAME_MAX_COLS}, {"Transaction", 1, NAME_MAX_COLS},
    {"Error", 1, 0},
};

/* Why transactions failed (goose_transaction_fail, or "returned N"). */
static int section_tx_errors(goose_buf *b, const goose_results *r)
{
    const goose_stats *s = &r->totals;
    if (!s->ntxerrs)
        return 0;
    const goose_txerr_stat **v = goose__stats_tx_errors_by_count(s);
    if (!v)
        return -1;
    table t;
    table_init(&t, TX_ERR_COLS, NCOLS(TX_ERR_COLS));
    for (size_t i = 0; i < s->ntxerrs; i++) {
        int known = v[i]->tx < r->ntxs;
        table_cellf(&t, "%llu", ull(v[i]->count));
        table_cellf(&t, "%s", known ? r->txs[v[i]->tx].scenario : "?");
        table_cellf(&t, "%s", known ? r->txs[v[i]->tx].name : "?");
        table_cellf(&t, "%s", v[i]->error);
    }
    free(v);
    int rc = heading(b, "TRANSACTION ERRORS");
    rc |= table_emit(&t, b);
    return rc ? -1 : 0;
}

/* ---- BASELINE ---- */

static const column BASE_COLS[] = {
    {"Name", 1, NAME_MAX_COLS}, {"# reqs", 0, 0}, {"then", 0, 0}, {"change", 0, 0},
    {"req/s", 0, 0}, {"change", 0, 0}, {"p95 ms", 0, 0}, {"change", 0, 0},
    {"fail %", 0, 0}, {"then", 0, 0},
};

static int section_baseline(goose_buf *b, const goose_results *r, const goose_baseline *base)
{
    goose_compare *v;
    size_t n = goose__baseline_compare(r, base, &v);
    if (!v)
        return 0;
    table t;
    table_init(&t, BASE_COLS, NCOLS(BASE_COLS));
    for (size_t i = 0; i < n; i++) {
        const goose_compare *c = &v[i];
        table_cellf(&t, "%s %s", c->method, c->name);
        table_cellf(&t, "%llu", ull(c->now_count));
        table_cellf(&t, "%llu", ull(c->then_count));
        table_cellf(&t, "%s", c->count_change);
        table_cellf(&t, "%.2f", c->now_rps);
        table_cellf(&t, "%s", c->rps_change);
        table_cellf(&t, "%.2f", c->now_p95_ms);
        table_cellf(&t, "%s", c->p95_change);
        table_cellf(&t, "%.1f", c->now_fail_pct);
        table_cellf(&t, "%.1f", c->then_fail_pct);
    }
    free(v);
    char title[512];
    snprintf(title, sizeof title, "COMPARED WITH %s", goose__baseline_file(base));
    int rc = heading(b, title);
    rc |= table_emit(&t, b);
    return rc ? -1 : 0;
}

/* ---- WORKERS (a Gaggle Manager's report) ---- */

static const column WORKER_COLS[] = {
    {"#", 0, 0}, {"Worker", 1, NAME_MAX_COLS}, {"# users", 0, 0},
    {"# reqs", 0, 0}, {"Start offset", 0, 0}, {"State", 1, 0},
};

static int section_workers(goose_buf *b, const goose_results *r)
{
    if (!r->manager)
        return 0;
    table t;
    table_init(&t, WORKER_COLS, NCOLS(WORKER_COLS));
    unsigned long long users = 0, reqs = 0, done = 0;
    for (size_t i = 0; i < r->nworkers; i++) {
        const goose_worker_info *w = &r->workers[i];
        table_cellf(&t, "%zu", i + 1);
        table_cellf(&t, "%s", w->name);
        table_cellf(&t, "%zu", w->users);
        table_cellf(&t, "%llu", ull(w->requests));
        table_cellf(&t, "%+.1f ms", w->start_offset_ms);
        table_cellf(&t, "%s", w->state);
        users += w->users;
        reqs += w->requests;
        done += strcmp(w->state, "done") == 0;
    }
    table_totals_next(&t);
    table_cellf(&t, "%s", "");
    table_cellf(&t, "Gaggle");
    table_cellf(&t, "%llu", users);
    table_cellf(&t, "%llu", reqs);
    table_cellf(&t, "%.1f ms", r->start_spread_ms);
    table_cellf(&t, "%llu/%zu done", done, r->nworkers);
    int rc = heading(b, "WORKERS");
    rc |= table_emit(&t, b);
    return rc ? -1 : 0;
}

/* ---- OVERVIEW ---- */

static const column PHASE_COLS[] = {
    {"Phase", 1, 0}, {"Start", 0, 0}, {"End", 0, 0}, {"Duration", 0, 0},
    {"Users", 1, 0},
};

static int phases_table(goose_buf *b, const goose_results *r)
{
    table t;
    table_init(&t, PHASE_COLS, NCOLS(PHASE_COLS));
    for (size_t i = 0; i < r->nphases; i++) {
        const goose_phase *p = &r->phases[i];
        table_cellf(&t, "%s", p->name ? p->name : "?");
        table_cellf(&t, "%s", goose__fmt_secs(p->start_s).s);
        table_cellf(&t, "%s", goose__fmt_secs(p->end_s).s);
        table_cellf(&t, "%s", goose__fmt_secs(p->end_s - p->start_s).s);
        if (p->users_from == p->users_to)
            table_cellf(&t, "%zu", p->users_to);
        else
            table_cellf(&t, "%zu -> %zu", p->users_from, p->users_to);
    }
    return table_emit(&t, b);
}

/* Scenarios often share a host: each is listed once. */
static int hosts_line(goose_buf *b, const goose_results *r)
{
    int rc = goose__buf_adds(b, "Target hosts:  ");
    size_t shown = 0;
    for (size_t i = 0; r->hosts && i < r->nscenarios; i++) {
        const char *h = r->hosts[i];
        if (!goose__host_first(r, i))
            continue;
        rc |= goose__buf_printf(b, "%s%s", shown++ ? ", " : "", h);
    }
    rc |= goose__buf_adds(b, shown ? "\n" : "(none)\n");
    return rc ? -1 : 0;
}

/* The protocols the requests were answered over, and the requests no
 * answer came to. */
static int protocols_line(goose_buf *b, const goose_stats *s)
{
    uint64_t p[GOOSE_PROTOCOLS], count = 0;
    char text[GOOSE_FMT_PROTOCOLS];
    for (size_t i = 0; i < s->nreqs; i++)
        count += goose__req_count(s->reqs[i]);
    goose__stats_protocols(s, p);
    goose__fmt_protocol_shares(p, count, text);
    return goose__buf_printf(b, "Protocols:     %s\n", text);
}

/* The test plan, arrivals and throttle, when the run had them. */
static int load_lines(goose_buf *b, const goose_results *r)
{
    goose_fact facts[4];
    size_t n = goose__load_facts(r, facts);
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        char label[24];
        snprintf(label, sizeof label, "%s:", facts[i].label);
        rc |= goose__buf_printf(b, "%-15s%s\n", label, facts[i].text);
    }
    return rc;
}

static int section_overview(goose_buf *b, const goose_results *r)
{
    int rc = heading(b, "OVERVIEW");
    if (r->nphases)
        rc |= phases_table(b, r);
    rc |= goose__buf_printf(b, "%sStarted:       %s\n", r->nphases ? "\n" : "",
                            r->started[0] ? r->started : "-");
    rc |= goose__buf_printf(b, "Duration:      %s measured, %s in all\n",
                            goose__fmt_secs(r->duration_s).s,
                            goose__fmt_secs(r->elapsed_s).s);
    rc |= goose__buf_printf(b, "Users:         %zu%s\n", r->users,
                            r->load.open_model ? " (the pool of the open model)" : "");
    if (r->abandoned_users)
        rc |= goose__buf_printf(b, "Abandoned:     %zu users, not finished within "
                                "--stop-timeout\n", r->abandoned_users);
    rc |= load_lines(b, r);
    if (r->manager)
        rc |= goose__buf_printf(b, "Workers:       %zu (a Gaggle Manager's report; %s, %s)\n",
                                r->nworkers,
                                r->gaggle_authenticated ? "workers proved the key"
                                                        : "UNAUTHENTICATED",
                                r->gaggle_tls ? "TLS" : "plaintext");
    else
        rc |= goose__buf_printf(b, "Threads:       %zu\n", r->threads);
    char seed[96];
    if (goose__seed_text(r, seed, sizeof seed))
        rc |= goose__buf_printf(b, "Seed:          %s\n", seed);
    if (r->metrics_reset)
        rc |= goose__buf_printf(b, "Metrics reset: yes, after hatching, at "
                                "%s\n", goose__fmt_secs(r->reset_at_s).s);
    else
        rc |= goose__buf_adds(b, "Metrics reset: no\n");
    rc |= hosts_line(b, r);
    rc |= protocols_line(b, &r->totals);
    rc |= goose__buf_adds(b, "libgoose " GOOSE_VERSION_STRING "\n");
    return rc ? -1 : 0;
}

/* ---- THRESHOLDS (last: the verdict of the run) ---- */

static const column THRESHOLD_COLS[] = {
    {"Result", 1, 0}, {"Threshold", 1, 60}, {"Observed", 0, 0}, {"Note", 1, 0},
};

static int section_thresholds(goose_buf *b, const goose_results *r)
{
    size_t failed = 0;
    if (!r->nthresholds)
        return 0;
    table t;
    table_init(&t, THRESHOLD_COLS, NCOLS(THRESHOLD_COLS));
    for (size_t i = 0; i < r->nthresholds; i++) {
        const goose_threshold_result *x = &r->thresholds[i];
        char seen[32] = "-";
        if (x->measured)
            goose__threshold_format(&x->t, x->observed, seen, sizeof seen);
        table_cellf(&t, "%s", x->pass ? "PASS" : "FAIL");
        table_cellf(&t, "%s", x->t.expr);
        table_cellf(&t, "%s", seen);
        table_cellf(&t, "%s", x->reason);
        failed += !x->pass;
    }
    int rc = heading(b, "THRESHOLDS");
    rc |= table_emit(&t, b);
    rc |= goose__buf_printf(b, "\n%zu passed, %zu failed%s\n", r->nthresholds - failed, failed,
                            r->aborted ? "; the run was stopped early (--threshold-abort)" : "");
    return rc ? -1 : 0;
}

/* ---- entry points ---- */

char *goose__report_text(const goose_results *r, const goose_report_ctx *ctx)
{
    if (!r || !r->valid)
        return strdup("No load test run has completed: there are no "
                      "metrics to report.\n");
    goose_buf b;
    goose__buf_init(&b);
    /* up to 18 KB each once merged into: kept off the stack of whatever thread reports */
    goose_hist *scratch = goose__hists_new(1);
    goose_hist *empty = goose__hists_new(1);
    goose_hist *co = r->co_mode ? goose__hists_new(3) : NULL;
    char *out = NULL;
    if (!scratch || !empty || (r->co_mode && !co))
        goto out;
    char lost[300];
    if (goose__lost_text(r, lost, sizeof lost) && goose__buf_printf(&b, "%s\n\n", lost) < 0)
        goto out;
    const char *certs = goose__certs_text(r);
    if (certs && goose__buf_printf(&b, "%s\n\n", certs) < 0)
        goto out;
    if (section_requests(&b, r, scratch) < 0 || section_co(&b, r, co) < 0 ||
        section_status(&b, r) < 0 ||
        section_transactions(&b, r, scratch, empty) < 0 ||
        section_scenarios(&b, r) < 0 || section_errors(&b, r) < 0 ||
        section_tx_errors(&b, r) < 0 ||
        section_baseline(&b, r, ctx->baseline) < 0 || section_workers(&b, r) < 0 ||
        section_overview(&b, r) < 0 || section_thresholds(&b, r) < 0)
        goto out;
    out = goose__buf_steal(&b);
out:
    goose__buf_free(&b);
    goose__hists_delete(scratch, 1);
    goose__hists_delete(empty, 1);
    goose__hists_delete(co, 3);
    return out;
}

static const column RUN_COLS[] = {
    {"Name", 1, NAME_MAX_COLS}, {"# reqs", 0, 0}, {"# fails", 0, 0},
    {"req/s", 0, 0}, {"avg ms", 0, 0}, {"p95 ms", 0, 0},
};

static void running_row(table *t, const char *method, const char *name,
                        uint64_t success, uint64_t fail, const goose_hist *h,
                        double elapsed_s)
{
    uint64_t count = success + fail;
    if (method)
        table_cellf(t, "%s %s", method, name);
    else
        table_cellf(t, "%s", name);
    table_cellf(t, "%llu", ull(count));
    table_cellf(t, "%s", goose__fmt_fails(fail, count).s);
    table_cellf(t, "%s", goose__fmt_rate(count, elapsed_s).s);
    table_cellf(t, "%s", goose__fmt_ms(goose__hist_mean(h)).s);
    table_cellf(t, "%s", goose__fmt_ms(pct_us(h, 0.95)).s);
}

char *goose__report_running(const goose_stats *s, double elapsed_s, size_t users)
{
    goose_buf b;
    goose__buf_init(&b);
    goose_hist *all = goose__hists_new(1);
    char *out = NULL;
    table t;
    table_init(&t, RUN_COLS, NCOLS(RUN_COLS));
    if (!all)
        goto out;
    if (goose__buf_printf(&b, "--- running metrics: %.0fs elapsed, %zu "
                          "users ---\n", elapsed_s, users) < 0)
        goto out;
    if (s) {
        uint64_t success, fail;
        merge_requests(s, all, &success, &fail);
        for (size_t i = 0; i < s->nreqs; i++)
            running_row(&t, s->reqs[i]->method, s->reqs[i]->name,
                        s->reqs[i]->success, s->reqs[i]->fail,
                        &s->reqs[i]->hist, elapsed_s);
        table_totals_next(&t);
        running_row(&t, NULL, "Aggregated", success, fail, all, elapsed_s);
        if (table_render(&t, &b) < 0)
            goto out;
    }
    out = goose__buf_steal(&b);
out:
    table_free(&t);
    goose__buf_free(&b);
    goose__hists_delete(all, 1);
    return out;
}
