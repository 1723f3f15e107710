/* CSV reports: one row per request key with Locust's _stats.csv columns
 * (times in ms) and the Aggregated row, NAME_history.csv with the run's
 * per-second series, NAME_transaction_errors.csv with why transactions
 * failed and, with --threshold, NAME_thresholds.csv: one table
 * per file, so each stays readable by any CSV reader.  Fields are quoted
 * as RFC 4180 says. */
#include "report/report.h"

#include <stdlib.h>
#include <string.h>

#include "report/format.h"
#include "util/buf.h"
#include "util/escape.h"

static const double QUANTILES[] = {0.5, 0.66, 0.75, 0.8, 0.9, 0.95, 0.98, 0.99, 0.999, 0.9999, 1.0};
#define NQ (sizeof QUANTILES / sizeof QUANTILES[0])

static double ms(uint64_t us)
{
    return (double)us / 1000.0;
}

static double per_second(uint64_t n, double seconds)
{
    return seconds > 0 ? (double)n / seconds : 0;
}

static void row(goose_buf *b, const char *type, const char *name, uint64_t ok, uint64_t fail,
                uint64_t bytes, const goose_hist *h, double seconds)
{
    uint64_t count = ok + fail;
    goose__buf_csv_field(b, type);
    goose__buf_adds(b, ",");
    goose__buf_csv_field(b, name);
    goose__buf_printf(b, ",%llu,%llu,%.3f,%.3f,%.3f,%.3f,%.1f,%.3f,%.3f",
                      (unsigned long long)count, (unsigned long long)fail,
                      ms(goose__hist_percentile(h, 0.5)), goose__hist_mean(h) / 1000.0,
                      ms(count ? h->min : 0), ms(h->max),
                      count ? (double)bytes / (double)count : 0.0,
                      per_second(count, seconds), per_second(fail, seconds));
    for (size_t i = 0; i < NQ; i++)
        goose__buf_printf(b, ",%.3f", ms(goose__hist_percentile(h, QUANTILES[i])));
}

/* With --co-mitigation, each row also has its synthetic samples and the
 * times adjusted with them. */
static void co_columns(goose_buf *b, uint64_t synthetic, const goose_hist *adj)
{
    goose__buf_printf(b, ",%llu,%.3f,%.3f,%.3f,%.3f,%.3f", (unsigned long long)synthetic,
                      ms(goose__hist_percentile(adj, 0.5)), goose__hist_mean(adj) / 1000.0,
                      ms(goose__hist_percentile(adj, 0.95)),
                      ms(goose__hist_percentile(adj, 0.99)), ms(adj->max));
}

/* The requests answered over each protocol, every protocol a column. */
static void protocol_columns(goose_buf *b, const uint64_t *p)
{
    for (size_t i = 0; i < GOOSE_HTTP_PROTOCOLS; i++) /* records: no column */
        goose__buf_printf(b, ",%llu", (unsigned long long)p[i]);
}

/* With --baseline-file, each row also says what the baseline had. */
static void baseline_columns(goose_buf *b, const goose_compare *v, size_t n,
                             const char *method, const char *name)
{
    for (size_t i = 0; v && i < n; i++) {
        if (v[i].in_baseline && !strcmp(v[i].method, method) && !strcmp(v[i].name, name)) {
            goose__buf_printf(b, ",%llu,%.3f,%.3f", (unsigned long long)v[i].then_count,
                              v[i].then_rps, v[i].then_p95_ms);
            return;
        }
    }
    if (v)
        goose__buf_adds(b, ",,,");
}

/* Users left unfinished at --stop-timeout: one more row, as wide as the
 * header, its count under "Request Count". */
static void abandoned_row(goose_buf *b, size_t abandoned)
{
    size_t commas = 0;
    for (const char *p = b->data; p && *p && *p != '\n'; p++)
        commas += *p == ',';
    goose__buf_printf(b, "Abandoned,users (--stop-timeout),%zu", abandoned);
    for (size_t i = 2; i < commas; i++)
        goose__buf_adds(b, ",");
    goose__buf_adds(b, "\n");
}

char *goose__report_csv(const goose_results *r, const goose_report_ctx *ctx)
{
    const goose_stats *s = &r->totals;
    goose_buf b;
    goose_hist *all = goose__hists_new(3); /* measured, a row's adjusted, all adjusted */
    if (!all)
        return NULL;
    goose_hist *adj = &all[1], *all_adj = &all[2];
    uint64_t synthetic = 0;
    goose__buf_init(&b);
    goose_compare *v;
    size_t nv = goose__baseline_compare(r, ctx->baseline, &v);
    goose__buf_adds(&b, "Type,Name,Request Count,Failure Count,Median Response Time,"
                        "Average Response Time,Min Response Time,Max Response Time,"
                        "Average Content Size,Requests/s,Failures/s,50%,66%,75%,80%,90%,"
                        "95%,98%,99%,99.9%,99.99%,100%");
    if (r->co_mode)
        goose__buf_adds(&b, ",Synthetic Count,Adjusted Median Response Time,"
                            "Adjusted Average Response Time,Adjusted 95%,Adjusted 99%,"
                            "Adjusted Max Response Time");
    for (size_t i = 0; i < GOOSE_HTTP_PROTOCOLS; i++)
        goose__buf_printf(&b, ",%s Requests", goose__protocol_names[i]);
    goose__buf_adds(&b, v ? ",Baseline Request Count,Baseline Requests/s,Baseline 95%" : "");
    /* past --max-request-names: how many names (and error texts) the
       (other) rows hold, said once, on the Aggregated row */
    int folded = r->names_folded || r->errors_folded;
    goose__buf_adds(&b, folded ? ",Folded Names,Folded Error Texts\n" : "\n");
    uint64_t ok = 0, fail = 0, bytes = 0;
    for (size_t i = 0; i < s->nreqs; i++) {
        const goose_req_stat *q = s->reqs[i];
        row(&b, q->method, q->name, q->success, q->fail, q->bytes, &q->hist, r->duration_s);
        if (r->co_mode) {
            goose__req_adjusted(q, adj);
            co_columns(&b, goose__req_synthetic(q), adj);
            goose__hist_merge(all_adj, adj);
            synthetic += goose__req_synthetic(q);
        }
        protocol_columns(&b, q->protocols);
        baseline_columns(&b, v, nv, q->method, q->name);
        goose__buf_adds(&b, folded ? ",,\n" : "\n");
        ok += q->success;
        fail += q->fail;
        bytes += q->bytes;
        goose__hist_merge(all, &q->hist);
    }
    row(&b, "", "Aggregated", ok, fail, bytes, all, r->duration_s);
    if (r->co_mode)
        co_columns(&b, synthetic, all_adj);
    uint64_t p[GOOSE_PROTOCOLS];
    goose__stats_protocols(s, p);
    protocol_columns(&b, p);
    goose__buf_adds(&b, v ? ",,," : "");
    if (folded)
        goose__buf_printf(&b, ",%llu,%llu", (unsigned long long)r->names_folded,
                          (unsigned long long)r->errors_folded);
    goose__buf_adds(&b, "\n");
    if (r->abandoned_users)
        abandoned_row(&b, r->abandoned_users);
    char lost[300];
    if (goose__lost_text(r, lost, sizeof lost)) { /* Request Count: those the totals miss */
        goose__buf_adds(&b, "Lost,");
        goose__buf_csv_field(&b, lost);
        goose__buf_printf(&b, ",%llu\n", (unsigned long long)s->lost);
    }
    if (goose__certs_text(r)) { /* --accept-invalid-certs */
        goose__buf_adds(&b, "Certificates,");
        goose__buf_csv_field(&b, goose__certs_text(r));
        goose__buf_adds(&b, "\n");
    }
    if (r->has_seed) /* Name: the seed alone, as --seed takes it */
        goose__buf_printf(&b, "Seed,%llu\n", (unsigned long long)r->seed);
    free(v);
    goose__hists_delete(all, 3);
    return goose__buf_steal(&b);
}

char *goose__report_csv_history(const goose_results *r, const goose_report_ctx *ctx)
{
    (void)ctx;
    const goose_series *s = &r->series;
    goose_buf b;
    goose__buf_init(&b);
    goose__buf_adds(&b, "Second,User Count,Requests/s,Failures/s,95%\n");
    for (size_t i = 0; i < s->n; i++) {
        /* the last point: the part of a second the run ended in, its rates per second */
        double dt = i + 1 == s->n && s->last_s > 0 ? s->last_s : 1;
        if (dt == 1)
            goose__buf_printf(&b, "%zu", i + 1);
        else
            goose__buf_printf(&b, "%.3f", (double)i + dt);
        goose__buf_printf(&b, ",%llu,%.3f,%.3f,%.3f\n", (unsigned long long)s->users[i],
                          s->rps[i], (double)s->fails[i] / dt, ms(s->p95_us[i]));
    }
    return goose__buf_steal(&b);
}

/* Why transactions failed, most frequent first (Locust's _failures.csv
 * for requests has the same shape).  Written on every run, so a file of
 * an earlier run never passes for this one's. */
char *goose__report_csv_tx_errors(const goose_results *r, const goose_report_ctx *ctx)
{
    (void)ctx;
    const goose_stats *s = &r->totals;
    const goose_txerr_stat **v = goose__stats_tx_errors_by_count(s);
    if (s->ntxerrs && !v)
        return NULL;
    goose_buf b;
    goose__buf_init(&b);
    goose__buf_adds(&b, "Scenario,Transaction,Error,Occurrences\n");
    for (size_t i = 0; i < s->ntxerrs; i++) {
        int known = v[i]->tx < r->ntxs;
        goose__buf_csv_field(&b, known ? r->txs[v[i]->tx].scenario : "?");
        goose__buf_adds(&b, ",");
        goose__buf_csv_field(&b, known ? r->txs[v[i]->tx].name : "?");
        goose__buf_adds(&b, ",");
        goose__buf_csv_field(&b, v[i]->error);
        goose__buf_printf(&b, ",%llu\n", (unsigned long long)v[i]->count);
    }
    free(v);
    return goose__buf_steal(&b);
}

/* Limit and observed in the unit column's unit (us, fraction, count,
 * per_s), as in the JSON report. */
char *goose__report_csv_thresholds(const goose_results *r, const goose_report_ctx *ctx)
{
    (void)ctx;
    goose_buf b;
    goose__buf_init(&b);
    goose__buf_adds(&b, "Threshold,Key,Metric,Operator,Limit,Observed,Unit,Result,Aborted,Note\n");
    for (size_t i = 0; i < r->nthresholds; i++) {
        const goose_threshold_result *x = &r->thresholds[i];
        goose__buf_csv_field(&b, x->t.expr);
        goose__buf_adds(&b, ",");
        goose__buf_csv_field(&b, x->t.key ? x->t.key : "");
        goose__buf_printf(&b, ",%s,%s,%.12g,", x->t.metric, goose__threshold_op(x->t.op),
                          x->t.limit);
        if (x->measured)
            goose__buf_printf(&b, "%.12g", x->observed);
        goose__buf_printf(&b, ",%s,%s,%s,", goose__threshold_unit(&x->t),
                          x->pass ? "pass" : "fail", x->aborted ? "yes" : "no");
        goose__buf_csv_field(&b, x->reason);
        goose__buf_adds(&b, "\n");
    }
    return goose__buf_steal(&b);
}
