/* The Markdown report: the console report's tables as GitHub-flavoured
 * Markdown, for a pull request or a wiki page. */
#include "report/report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics/co.h"
#include "report/format.h"
#include "util/buf.h"

/* A table cell: '|' and newlines would break the row, backslashes and
 * backticks would change its meaning. */
static void cell(goose_buf *b, const char *s)
{
    goose__buf_adds(b, " ");
    for (; *s; s++) {
        if (strchr("|\\`*_", *s))
            goose__buf_add(b, "\\", 1);
        if (*s == '\n' || *s == '\r')
            goose__buf_adds(b, " ");
        else
            goose__buf_add(b, s, 1);
    }
    goose__buf_adds(b, " |");
}

/* A row's first cell: "| METHOD name". */
static void request_cell(goose_buf *b, const goose_req_stat *q)
{
    char name[4200];
    snprintf(name, sizeof name, "%s %s", q->method, q->name);
    goose__buf_adds(b, "|");
    cell(b, name);
}

static void header(goose_buf *b, const char *title, const char *const *cols, size_t n)
{
    goose__buf_printf(b, "\n## %s\n\n|", title);
    for (size_t i = 0; i < n; i++)
        goose__buf_printf(b, " %s |", cols[i]);
    goose__buf_adds(b, "\n|");
    for (size_t i = 0; i < n; i++)
        goose__buf_adds(b, i ? "---:|" : "---|");
    goose__buf_adds(b, "\n");
}

static double ms(uint64_t us)
{
    return (double)us / 1000.0;
}

/* A request row's times; the row goes on. */
static void times(goose_buf *b, const goose_hist *h)
{
    goose__buf_printf(b, " %.2f | %.2f | %.2f | %.2f | %.2f | %.2f |",
                      goose__hist_mean(h) / 1000.0, ms(h->count ? h->min : 0), ms(h->max),
                      ms(goose__hist_percentile(h, 0.5)), ms(goose__hist_percentile(h, 0.95)),
                      ms(goose__hist_percentile(h, 0.99)));
}

/* A request row's last cell. */
static void protocols(goose_buf *b, const uint64_t *p, uint64_t count)
{
    char text[GOOSE_FMT_PROTOCOLS];
    goose__fmt_protocols(p, count, text);
    cell(b, text);
    goose__buf_adds(b, "\n");
}

/* First: the verdict of the run. */
static void thresholds(goose_buf *b, const goose_results *r)
{
    static const char *const cols[] = {"Result", "Threshold", "Observed", "Note"};
    if (!r->nthresholds)
        return;
    header(b, "Thresholds", cols, 4);
    for (size_t i = 0; i < r->nthresholds; i++) {
        const goose_threshold_result *x = &r->thresholds[i];
        char seen[32] = "-";
        if (x->measured)
            goose__threshold_format(&x->t, x->observed, seen, sizeof seen);
        goose__buf_printf(b, "| %s |", x->pass ? "PASS" : "**FAIL**");
        cell(b, x->t.expr);
        cell(b, seen);
        cell(b, x->reason);
        goose__buf_adds(b, "\n");
    }
    if (r->aborted)
        goose__buf_adds(b, "\nThe run was stopped early by a failed threshold "
                           "(`--threshold-abort`).\n");
}

static void requests(goose_buf *b, const goose_results *r, goose_hist *all)
{
    static const char *const cols[] = {"Request", "# reqs", "# fails", "req/s", "avg ms",
                                       "min ms", "max ms", "p50 ms", "p95 ms", "p99 ms",
                                       "Protocols"};
    const goose_stats *s = &r->totals;
    uint64_t count = 0, fail = 0, p[GOOSE_PROTOCOLS];
    header(b, "Requests", cols, 11);
    goose__hist_free(all);
    for (size_t i = 0; i < s->nreqs; i++) {
        const goose_req_stat *q = s->reqs[i];
        request_cell(b, q);
        goose__buf_printf(b, " %llu | %llu | %.2f |", (unsigned long long)goose__req_count(q),
                          (unsigned long long)q->fail,
                          r->duration_s > 0 ? (double)goose__req_count(q) / r->duration_s : 0);
        times(b, &q->hist);
        protocols(b, q->protocols, goose__req_count(q));
        count += goose__req_count(q);
        fail += q->fail;
        goose__hist_merge(all, &q->hist);
    }
    goose__buf_printf(b, "| **Aggregated** | %llu | %llu | %.2f |", (unsigned long long)count,
                      (unsigned long long)fail, r->duration_s > 0 ? (double)count / r->duration_s : 0);
    times(b, all);
    goose__stats_protocols(s, p);
    protocols(b, p, count);
    char folded[320];
    if (goose__fmt_folded(r, folded, sizeof folded))
        goose__buf_printf(b, "\n%s.\n", folded);
}

static void co_cells(goose_buf *b, uint64_t synthetic, const goose_hist *raw,
                     const goose_hist *adj)
{
    goose__buf_printf(b, " %llu | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f |\n",
                      (unsigned long long)synthetic, goose__hist_mean(raw) / 1000.0,
                      goose__hist_mean(adj) / 1000.0, ms(goose__hist_percentile(raw, 0.95)),
                      ms(goose__hist_percentile(adj, 0.95)),
                      ms(goose__hist_percentile(raw, 0.99)),
                      ms(goose__hist_percentile(adj, 0.99)), ms(raw->max), ms(adj->max));
}

/* --co-mitigation: measured and adjusted times side by side; h: three
 * histograms of scratch. */
static void coordinated_omission(goose_buf *b, const goose_results *r, goose_hist *h)
{
    static const char *const cols[] = {"Request", "# synthetic", "avg ms", "adjusted",
                                       "p95 ms", "adjusted", "p99 ms", "adjusted",
                                       "max ms", "adjusted"};
    const goose_stats *s = &r->totals;
    uint64_t synthetic = 0;
    char title[96];
    snprintf(title, sizeof title, "Coordinated omission mitigation (%s cadence)",
             goose__co_mode_name(r->co_mode));
    header(b, title, cols, 10);
    goose__hist_free(&h[1]);
    goose__hist_free(&h[2]);
    for (size_t i = 0; i < s->nreqs; i++) {
        const goose_req_stat *q = s->reqs[i];
        char name[4200];
        snprintf(name, sizeof name, "%s %s", q->method, q->name);
        goose__req_adjusted(q, &h[0]);
        goose__buf_adds(b, "|");
        cell(b, name);
        co_cells(b, goose__req_synthetic(q), &q->hist, &h[0]);
        goose__hist_merge(&h[1], &q->hist);
        goose__hist_merge(&h[2], &h[0]);
        synthetic += goose__req_synthetic(q);
    }
    goose__buf_adds(b, "| **Aggregated** |");
    co_cells(b, synthetic, &h[1], &h[2]);
    goose__buf_adds(b, "\nSynthetic samples stand for the requests a stalled pass kept from "
                       "being sent; they are not counted as requests.\n");
}

static void status_codes(goose_buf *b, const goose_results *r)
{
    static const char *const cols[] = {"Request", "Status codes"};
    const goose_stats *s = &r->totals;
    header(b, "Status codes", cols, 2);
    for (size_t i = 0; i < s->nreqs; i++) {
        const goose_req_stat *q = s->reqs[i];
        request_cell(b, q);
        for (size_t j = 0; j < q->nstatuses; j++)
            goose__buf_printf(b, "%s%d: %llu", j ? ", " : " ", q->statuses[j].status,
                              (unsigned long long)q->statuses[j].count);
        goose__buf_adds(b, " |\n");
    }
}

static void transactions(goose_buf *b, const goose_results *r)
{
    static const char *const cols[] = {"Transaction", "# runs", "# fails", "avg ms",
                                       "min ms", "max ms", "p50 ms", "p95 ms", "p99 ms"};
    header(b, "Transactions", cols, 9);
    for (size_t i = 0; i < r->ntxs && i < r->totals.ntxs; i++) {
        const goose_tx_stat *t = &r->totals.txs[i];
        char name[600];
        snprintf(name, sizeof name, "%s/%s", r->txs[i].scenario, r->txs[i].name);
        goose__buf_adds(b, "|");
        cell(b, name);
        goose__buf_printf(b, " %llu | %llu |", (unsigned long long)(t->success + t->fail),
                          (unsigned long long)t->fail);
        times(b, &t->hist);
        goose__buf_adds(b, "\n");
    }
}

static void scenarios(goose_buf *b, const goose_results *r)
{
    static const char *const cols[] = {"Scenario", "# users", "# iterations"};
    header(b, "Scenarios", cols, 3);
    for (size_t i = 0; i < r->nscenarios; i++) {
        goose__buf_adds(b, "|");
        cell(b, r->scenario_names[i]);
        goose__buf_printf(b, " %zu | %llu |\n", r->scenario_users[i],
                          (unsigned long long)(i < r->totals.nscenarios
                                                   ? r->totals.iterations[i] : 0));
    }
}

static void errors(goose_buf *b, const goose_results *r)
{
    static const char *const cols[] = {"#", "Request", "Error"};
    const goose_stats *s = &r->totals;
    if (!s->nerrs)
        return;
    header(b, "Errors", cols, 3);
    for (size_t i = 0; i < s->nerrs; i++) {
        char name[4200];
        snprintf(name, sizeof name, "%s %s", s->errs[i].method, s->errs[i].name);
        goose__buf_printf(b, "| %llu |", (unsigned long long)s->errs[i].count);
        cell(b, name);
        cell(b, s->errs[i].error);
        goose__buf_adds(b, "\n");
    }
}

/* Why transactions failed: goose_transaction_fail's reasons, "returned N". */
static void tx_errors(goose_buf *b, const goose_results *r)
{
    static const char *const cols[] = {"#", "Scenario", "Transaction", "Error"};
    const goose_stats *s = &r->totals;
    if (!s->ntxerrs)
        return;
    header(b, "Transaction errors", cols, 4);
    for (size_t i = 0; i < s->ntxerrs; i++) {
        const goose_txerr_stat *e = &s->txerrs[i];
        int known = e->tx < r->ntxs;
        goose__buf_printf(b, "| %llu |", (unsigned long long)e->count);
        cell(b, known ? r->txs[e->tx].scenario : "?");
        cell(b, known ? r->txs[e->tx].name : "?");
        cell(b, e->error);
        goose__buf_adds(b, "\n");
    }
}

static void baseline(goose_buf *b, const goose_results *r, const goose_baseline *base)
{
    static const char *const cols[] = {"Request", "# reqs", "then", "change", "req/s",
                                       "change", "p95 ms", "change", "fail %", "then"};
    goose_compare *v;
    size_t n = goose__baseline_compare(r, base, &v);
    if (!v)
        return;
    char title[600];
    snprintf(title, sizeof title, "Compared with %s", goose__baseline_file(base));
    header(b, title, cols, 10);
    for (size_t i = 0; i < n; i++) {
        const goose_compare *c = &v[i];
        char name[4200];
        snprintf(name, sizeof name, "%s %s", c->method, c->name);
        goose__buf_adds(b, "|");
        cell(b, name);
        goose__buf_printf(b, " %llu | %llu | %s | %.2f | %s | %.2f | %s | %.1f | %.1f |\n",
                          (unsigned long long)c->now_count, (unsigned long long)c->then_count,
                          c->count_change, c->now_rps, c->rps_change, c->now_p95_ms,
                          c->p95_change, c->now_fail_pct, c->then_fail_pct);
    }
    free(v);
}

static void workers(goose_buf *b, const goose_results *r)
{
    static const char *const cols[] = {"Worker", "# users", "# reqs", "start offset ms", "state"};
    if (!r->manager)
        return;
    header(b, "Workers", cols, 5);
    for (size_t i = 0; i < r->nworkers; i++) {
        const goose_worker_info *w = &r->workers[i];
        goose__buf_adds(b, "|");
        cell(b, w->name);
        goose__buf_printf(b, " %zu | %llu | %+.1f | %s |\n", w->users,
                          (unsigned long long)w->requests, w->start_offset_ms, w->state);
    }
}

static void overview(goose_buf *b, const goose_results *r)
{
    static const char *const cols[] = {"Phase", "start s", "end s", "users"};
    header(b, "Phases", cols, 4);
    for (size_t i = 0; i < r->nphases; i++)
        goose__buf_printf(b, "| %s | %.1f | %.1f | %zu -> %zu |\n", r->phases[i].name,
                          r->phases[i].start_s, r->phases[i].end_s, r->phases[i].users_from,
                          r->phases[i].users_to);
    goose__buf_printf(b, "\nStarted %s; %.1f s measured, %.1f s in all; %zu users%s%s.\n",
                      r->started, r->duration_s, r->elapsed_s, r->users,
                      r->metrics_reset ? "; metrics reset once every user had started" : "",
                      r->manager ? (r->gaggle_authenticated ? "; a Gaggle whose Workers "
                                                               "proved the key"
                                                             : "; an UNAUTHENTICATED Gaggle")
                                 : "");
    char seed[96];
    if (goose__seed_text(r, seed, sizeof seed))
        goose__buf_printf(b, "\nSeed: %s.\n", seed);
    if (r->abandoned_users)
        goose__buf_printf(b, "\nAbandoned users: %zu, not finished within `--stop-timeout`.\n",
                          r->abandoned_users);
    goose_fact facts[4];
    size_t n = goose__load_facts(r, facts);
    for (size_t i = 0; i < n; i++)
        goose__buf_printf(b, "%s- %s: %s\n", i ? "" : "\n", facts[i].label, facts[i].text);
}

char *goose__report_markdown(const goose_results *r, const goose_report_ctx *ctx)
{
    goose_hist *all = goose__hists_new(3);
    if (!all)
        return NULL;
    goose_buf b;
    goose__buf_init(&b);
    goose__buf_printf(&b, "# Load test report (libgoose %s, %s)\n", GOOSE_VERSION_STRING,
                      r->manager ? "Gaggle Manager" : "standalone");
    char lost[300];
    if (goose__lost_text(r, lost, sizeof lost))
        goose__buf_printf(&b, "\n**%s**\n", lost);
    if (goose__certs_text(r))
        goose__buf_printf(&b, "\n**%s**\n", goose__certs_text(r));
    thresholds(&b, r);
    requests(&b, r, all);
    if (r->co_mode)
        coordinated_omission(&b, r, all);
    status_codes(&b, r);
    transactions(&b, r);
    scenarios(&b, r);
    errors(&b, r);
    tx_errors(&b, r);
    baseline(&b, r, ctx->baseline);
    workers(&b, r);
    overview(&b, r);
    goose__hists_delete(all, 3);
    return goose__buf_steal(&b);
}
