/* The HTML report: one self-contained page that opens offline and prints.
 * Inline CSS, charts drawn here as inline SVG from the per-second series,
 * no script and nothing fetched.  Every string from the run is escaped. */
#include "report/report.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine.h"
#include "metrics/co.h"
#include "metrics/histogram.h"
#include "metrics/stats.h"
#include "report/format.h"
#include "util/buf.h"

#define MAX_KEYS 10     /* request keys with a line of their own */
#define MAX_POINTS 900  /* longer runs are drawn in buckets of seconds */

/* Chart geometry in SVG units; the SVG scales to the width of the page. */
#define CW 1000.0
#define CH 300.0
#define ML 64.0
#define MR 18.0
#define MT 16.0
#define MB 42.0

static const char *const PALETTE[MAX_KEYS] = {
    "#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b",
    "#e377c2", "#17becf", "#bcbd22", "#7f7f7f", "#d62728",
};

/* ---- output: a buffer that remembers running out of memory ---- */

typedef struct out {
    goose_buf b;
    int oom;
    int dd;     /* a <dd> is open */
} out;

static void put(out *o, const char *s)
{
    if (goose__buf_adds(&o->b, s) < 0)
        o->oom = 1;
}

static void putn(out *o, const char *s, size_t n)
{
    if (n && goose__buf_add(&o->b, s, n) < 0)
        o->oom = 1;
}

static void putf(out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void putf(out *o, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (goose__buf_vprintf(&o->b, fmt, ap) < 0)
        o->oom = 1;
    va_end(ap);
}

/* Text and attribute values alike; control bytes (which no name should
 * hold) become U+FFFD so they cannot upset the page. */
static void esc(out *o, const char *s)
{
    if (!s)
        return;
    const char *run = s;
    for (; *s; s++) {
        const char *rep;
        switch (*s) {
        case '&': rep = "&amp;"; break;
        case '<': rep = "&lt;"; break;
        case '>': rep = "&gt;"; break;
        case '"': rep = "&quot;"; break;
        case '\'': rep = "&#39;"; break;
        case '\t': case '\n': case '\r': rep = " "; break;
        default:
            rep = (unsigned char)*s < 0x20 || *s == 0x7f ? "\xef\xbf\xbd" : NULL;
        }
        if (!rep)
            continue;
        putn(o, run, (size_t)(s - run));
        put(o, rep);
        run = s + 1;
    }
    putn(o, run, (size_t)(s - run));
}

/* "GET /path" */
static void esc_key(out *o, const char *method, const char *name)
{
    if (method) {
        esc(o, method);
        put(o, " ");
    }
    esc(o, name);
}

/* ---- numbers ---- */

/* An axis label: whole seconds as "45s", "3m", "2m30s", "1h", "1h30m". */
static goose_numstr fmt_tick(unsigned long long t)
{
    goose_numstr n;
    if (t < 60)
        snprintf(n.s, sizeof n.s, "%llus", t);
    else if (t < 3600)
        snprintf(n.s, sizeof n.s, t % 60 ? "%llum%02llus" : "%llum", t / 60, t % 60);
    else
        snprintf(n.s, sizeof n.s, t % 3600 ? "%lluh%02llum" : "%lluh", t / 3600, t / 60 % 60);
    return n;
}

/* A moment of the run: "12s", "2m30s", or "3.2s" between whole seconds. */
static goose_numstr fmt_at(double t)
{
    double whole = floor(t + 0.5);
    if (fabs(t - whole) < 0.05)
        return fmt_tick((unsigned long long)whole);
    return goose__fmt_secs(t);
}

/* An option's duration as it would be written: "30s", "1h30m", "250ms". */
static goose_numstr fmt_duration(uint64_t us)
{
    goose_numstr n;
    unsigned long long s = us / 1000000;
    if (us % 1000000 || !s) {
        snprintf(n.s, sizeof n.s, us % 1000 ? "%lluus" : "%llums",
                 (unsigned long long)(us % 1000 ? us : us / 1000));
        return n;
    }
    n.s[0] = '\0';
    size_t len = 0;
    if (s >= 3600)
        len += (size_t)snprintf(n.s + len, sizeof n.s - len, "%lluh", s / 3600);
    if (s % 3600 >= 60)
        len += (size_t)snprintf(n.s + len, sizeof n.s - len, "%llum", s % 3600 / 60);
    if (s % 60)
        snprintf(n.s + len, sizeof n.s - len, "%llus", s % 60);
    return n;
}

static unsigned long long ull(uint64_t v)
{
    return (unsigned long long)v;
}

/* ---- tables ---- */

/* cols: NULL-terminated; bit i of `text`: column i holds text (aligned
 * left), not numbers. */
static void table_open(out *o, const char *cls, const char *const *cols, unsigned text)
{
    putf(o, "<div class=\"wrap\"><table class=\"%s\"><thead><tr>", cls);
    for (size_t i = 0; cols[i]; i++)
        putf(o, "<th%s>%s</th>", text >> i & 1 ? " class=\"l\"" : "", cols[i]);
    put(o, "</tr></thead>\n<tbody>\n");
}

static void table_close(out *o)
{
    put(o, "</tbody></table></div>\n");
}

static void times_cells(out *o, const goose_hist *h)
{
    putf(o, "<td>%s</td>", goose__fmt_ms(goose__hist_mean(h)).s);
    putf(o, "<td>%s</td>", goose__fmt_ms((double)(h->count ? h->min : 0)).s);
    putf(o, "<td>%s</td>", goose__fmt_ms((double)h->max).s);
    putf(o, "<td>%s</td>", goose__fmt_ms((double)goose__hist_percentile(h, 0.5)).s);
    putf(o, "<td>%s</td>", goose__fmt_ms((double)goose__hist_percentile(h, 0.95)).s);
    putf(o, "<td>%s</td>", goose__fmt_ms((double)goose__hist_percentile(h, 0.99)).s);
}

static void request_row(out *o, const char *method, const char *name, uint64_t success,
                        uint64_t fail, double secs, const goose_hist *h,
                        const uint64_t *protocols)
{
    uint64_t count = success + fail;
    char text[GOOSE_FMT_PROTOCOLS];
    goose__fmt_protocols(protocols, count, text);
    put(o, "<tr><td class=\"name\">");
    esc_key(o, method, name);
    putf(o, "</td><td>%llu</td><td%s>%s</td><td>%s</td>", ull(count),
         fail ? " class=\"bad\"" : "", goose__fmt_fails(fail, count).s, goose__fmt_rate(count, secs).s);
    times_cells(o, h);
    putf(o, "<td class=\"text\">%s</td></tr>\n", text); /* names and digits: nothing to escape */
}

static void section_requests(out *o, const goose_results *r, goose_hist *all)
{
    static const char *const cols[] = {"Request", "# reqs", "# fails", "req/s", "avg ms",
                                       "min ms", "max ms", "p50 ms", "p95 ms", "p99 ms",
                                       "Protocols", NULL};
    const goose_stats *s = &r->totals;
    uint64_t success = 0, fail = 0, p[GOOSE_PROTOCOLS];
    goose__hist_free(all);
    put(o, "<section id=\"requests\"><h2>Requests</h2>\n");
    table_open(o, "num", cols, 0x401);
    for (size_t i = 0; i < s->nreqs; i++) {
        const goose_req_stat *q = s->reqs[i];
        request_row(o, q->method, q->name, q->success, q->fail, r->duration_s, &q->hist,
                    q->protocols);
        success += q->success;
        fail += q->fail;
        goose__hist_merge(all, &q->hist);
    }
    put(o, "</tbody><tfoot>");
    goose__stats_protocols(s, p);
    request_row(o, NULL, "Aggregated", success, fail, r->duration_s, all, p);
    put(o, "</tfoot></table></div>\n");
    char folded[320];
    if (goose__fmt_folded(r, folded, sizeof folded)) {
        put(o, "<p class=\"bad\">");
        esc(o, folded);
        put(o, ".</p>\n");
    }
    put(o, "</section>\n");
}

/* --co-mitigation: measured and adjusted times side by side. */
static void co_row(out *o, const char *method, const char *name, uint64_t synthetic,
                   const goose_hist *raw, const goose_hist *adj)
{
    put(o, "<tr><td class=\"name\">");
    esc_key(o, method, name);
    putf(o, "</td><td>%llu</td>", ull(synthetic));
    putf(o, "<td>%s</td><td>%s</td>", goose__fmt_ms(goose__hist_mean(raw)).s,
         goose__fmt_ms(goose__hist_mean(adj)).s);
    static const double qs[] = {0.95, 0.99};
    for (size_t i = 0; i < 2; i++)
        putf(o, "<td>%s</td><td>%s</td>",
             goose__fmt_ms((double)goose__hist_percentile(raw, qs[i])).s,
             goose__fmt_ms((double)goose__hist_percentile(adj, qs[i])).s);
    putf(o, "<td>%s</td><td>%s</td></tr>\n", goose__fmt_ms((double)raw->max).s,
         goose__fmt_ms((double)adj->max).s);
}

/* h: three histograms of scratch (a row's adjusted, all measured, all
 * adjusted). */
static void section_co(out *o, const goose_results *r, goose_hist *h)
{
    static const char *const cols[] = {"Request", "# synthetic", "avg ms", "adjusted",
                                       "p95 ms", "adjusted", "p99 ms", "adjusted",
                                       "max ms", "adjusted", NULL};
    const goose_stats *s = &r->totals;
    uint64_t synthetic = 0;
    if (!r->co_mode)
        return;
    goose__hist_free(&h[1]);
    goose__hist_free(&h[2]);
    putf(o, "<section id=\"co\"><h2>Coordinated omission mitigation</h2>\n"
            "<p class=\"muted\">%s cadence: after a loop pass longer than twice its user&#39;s "
            "usual one, each request of the next pass is back-filled with synthetic samples "
            "for the requests the stall kept from being sent (not counted as requests).</p>\n",
         goose__co_mode_name(r->co_mode));
    table_open(o, "num", cols, 0x1);
    for (size_t i = 0; i < s->nreqs; i++) {
        const goose_req_stat *q = s->reqs[i];
        goose__req_adjusted(q, &h[0]);
        co_row(o, q->method, q->name, goose__req_synthetic(q), &q->hist, &h[0]);
        goose__hist_merge(&h[1], &q->hist);
        goose__hist_merge(&h[2], &h[0]);
        synthetic += goose__req_synthetic(q);
    }
    put(o, "</tbody><tfoot>");
    co_row(o, NULL, "Aggregated", synthetic, &h[1], &h[2]);
    put(o, "</tfoot></table></div>\n</section>\n");
}

/* Requests that got no status at all (transport errors) are counted too,
 * so the row adds up to # reqs. */
static void status_row(out *o, const char *method, const char *name,
                       const goose_status_count *v, size_t n, uint64_t count)
{
    uint64_t seen = 0;
    put(o, "<tr><td class=\"name\">");
    esc_key(o, method, name);
    put(o, "</td><td class=\"text\">");
    for (size_t i = 0; i < n; i++) {
        putf(o, "%s<span class=\"code c%d\">%d</span>: %llu", i ? ", " : "",
             v[i].status / 100, v[i].status, ull(v[i].count));
        seen += v[i].count;
    }
    if (count > seen)
        putf(o, "%s<span class=\"code c0\">no response</span>: %llu", n ? ", " : "",
             ull(count - seen));
    if (!n && count <= seen)
        put(o, "-");
    put(o, "</td></tr>\n");
}

static void section_status(out *o, const goose_results *r)
{
    static const char *const cols[] = {"Request", "Status codes", NULL};
    const goose_stats *s = &r->totals;
    goose_status_count *all = NULL;
    size_t nall = 0;
    uint64_t count = 0;
    put(o, "<section id=\"status-codes\"><h2>Status codes</h2>\n");
    table_open(o, "text", cols, 0x3);
    for (size_t i = 0; i < s->nreqs; i++) {
        const goose_req_stat *q = s->reqs[i];
        uint64_t http = goose__req_count(q) - q->protocols[GOOSE_PROTOCOL_OTHER];
        status_row(o, q->method, q->name, q->statuses, q->nstatuses, http);
        count += http; /* goose_record's requests have no status */
        for (size_t j = 0; j < q->nstatuses; j++)
            if (goose__status_add(&all, &nall, q->statuses[j].status,
                                  q->statuses[j].count) < 0)
                o->oom = 1;
    }
    put(o, "</tbody><tfoot>");
    status_row(o, NULL, "Aggregated", all, nall, count);
    put(o, "</tfoot></table></div>\n</section>\n");
    free(all);
}

static void tx_row(out *o, const char *scenario, const char *name, uint64_t success,
                   uint64_t fail, const goose_hist *h)
{
    put(o, "<tr><td class=\"name\">");
    if (scenario) {
        esc(o, scenario);
        put(o, "/");
    }
    esc(o, name ? name : "?");
    putf(o, "</td><td>%llu</td><td%s>%s</td>", ull(success + fail),
         fail ? " class=\"bad\"" : "", goose__fmt_fails(fail, success + fail).s);
    times_cells(o, h);
    put(o, "</tr>\n");
}

/* Every transaction is listed, including those never run. */
static void section_transactions(out *o, const goose_results *r, goose_hist *all,
                                 const goose_hist *empty)
{
    static const char *const cols[] = {"Transaction", "# runs", "# fails", "avg ms",
                                       "min ms", "max ms", "p50 ms", "p95 ms", "p99 ms",
                                       NULL};
    const goose_stats *s = &r->totals;
    uint64_t success = 0, fail = 0;
    if (!r->ntxs)
        return;
    goose__hist_free(all);
    put(o, "<section id=\"transactions\"><h2>Transactions</h2>\n");
    table_open(o, "num", cols, 0x1);
    for (size_t i = 0; i < r->ntxs; i++) {
        const goose_tx_stat *x = i < s->ntxs ? &s->txs[i] : NULL;
        const char *scen = r->txs[i].scenario ? r->txs[i].scenario : "?";
        tx_row(o, scen, r->txs[i].name, x ? x->success : 0, x ? x->fail : 0,
               x ? &x->hist : empty);
        if (x) {
            success += x->success;
            fail += x->fail;
            goose__hist_merge(all, &x->hist);
        }
    }
    put(o, "</tbody><tfoot>");
    tx_row(o, NULL, "Aggregated", success, fail, all);
    put(o, "</tfoot></table></div>\n</section>\n");
}

static void section_scenarios(out *o, const goose_results *r)
{
    static const char *const cols[] = {"Scenario", "# users", "# iterations", "Host", NULL};
    const goose_stats *s = &r->totals;
    unsigned long long users = 0, iters = 0;
    put(o, "<section id=\"scenarios\"><h2>Scenarios</h2>\n");
    table_open(o, "num", cols, 0x9);
    for (size_t i = 0; i < r->nscenarios; i++) {
        size_t u = r->scenario_users ? r->scenario_users[i] : 0;
        uint64_t n = i < s->nscenarios ? s->iterations[i] : 0;
        put(o, "<tr><td class=\"name\">");
        esc(o, r->scenario_names && r->scenario_names[i] ? r->scenario_names[i] : "?");
        putf(o, "</td><td>%zu</td><td>%llu</td><td class=\"name\">", u, ull(n));
        esc(o, r->hosts && r->hosts[i] && *r->hosts[i] ? r->hosts[i] : "-");
        put(o, "</td></tr>\n");
        users += u;
        iters += n;
    }
    putf(o, "</tbody><tfoot><tr><td class=\"name\">Aggregated</td><td>%llu</td>"
            "<td>%llu</td><td></td></tr></tfoot></table></div>\n</section>\n",
         users, iters);
}

static void section_errors(out *o, const goose_results *r)
{
    static const char *const cols[] = {"#", "Request", "Error", NULL};
    const goose_stats *s = &r->totals;
    if (!s->nerrs)
        return;
    const goose_err_stat **v = goose__stats_errors_by_count(s);
    if (!v) {
        o->oom = 1;
        return;
    }
    put(o, "<section id=\"errors\"><h2>Errors</h2>\n");
    table_open(o, "errors", cols, 0x6);
    for (size_t i = 0; i < s->nerrs; i++) {
        putf(o, "<tr><td>%llu</td><td class=\"name\">", ull(v[i]->count));
        esc_key(o, v[i]->method, v[i]->name);
        put(o, "</td><td class=\"name\">");
        esc(o, v[i]->error);
        put(o, "</td></tr>\n");
    }
    table_close(o);
    put(o, "</section>\n");
    free(v);
}

/* Why transactions failed: goose_transaction_fail's reasons, "returned N". */
static void section_tx_errors(out *o, const goose_results *r)
{
    static const char *const cols[] = {"#", "Scenario", "Transaction", "Error", NULL};
    const goose_stats *s = &r->totals;
    if (!s->ntxerrs)
        return;
    const goose_txerr_stat **v = goose__stats_tx_errors_by_count(s);
    if (!v) {
        o->oom = 1;
        return;
    }
    put(o, "<section id=\"transaction-errors\"><h2>Transaction errors</h2>\n");
    table_open(o, "errors", cols, 0xe);
    for (size_t i = 0; i < s->ntxerrs; i++) {
        int known = v[i]->tx < r->ntxs;
        putf(o, "<tr><td>%llu</td><td class=\"name\">", ull(v[i]->count));
        esc(o, known ? r->txs[v[i]->tx].scenario : "?");
        put(o, "</td><td class=\"name\">");
        esc(o, known ? r->txs[v[i]->tx].name : "?");
        put(o, "</td><td class=\"name\">");
        esc(o, v[i]->error);
        put(o, "</td></tr>\n");
    }
    table_close(o);
    put(o, "</section>\n");
    free(v);
}

static void section_baseline(out *o, const goose_results *r, const goose_baseline *base)
{
    static const char *const cols[] = {"Request", "# reqs", "then", "change", "req/s",
                                       "change", "p95 ms", "change", "fail %", "then", NULL};
    goose_compare *v;
    size_t n = goose__baseline_compare(r, base, &v);
    if (!v)
        return;
    put(o, "<section id=\"baseline\"><h2>Compared with ");
    esc(o, goose__baseline_file(base));
    put(o, "</h2>\n");
    table_open(o, "baseline", cols, 0);
    for (size_t i = 0; i < n; i++) {
        const goose_compare *c = &v[i];
        put(o, "<tr><td class=\"name\">");
        esc_key(o, c->method, c->name);
        putf(o, "</td><td>%llu</td><td>%llu</td><td>%s</td><td>%.2f</td><td>%s</td>"
                "<td>%.2f</td><td>%s</td><td>%.1f</td><td>%.1f</td></tr>\n",
             ull(c->now_count), ull(c->then_count), c->count_change, c->now_rps,
             c->rps_change, c->now_p95_ms, c->p95_change, c->now_fail_pct, c->then_fail_pct);
    }
    table_close(o);
    put(o, "</section>\n");
    free(v);
}

static void section_workers(out *o, const goose_results *r)
{
    static const char *const cols[] = {"#", "Worker", "# users", "# reqs", "Start offset",
                                       "State", NULL};
    unsigned long long users = 0, reqs = 0, done = 0;
    if (!r->manager)
        return;
    put(o, "<section id=\"workers\"><h2>Workers</h2>\n");
    table_open(o, "workers", cols, 0x22);
    for (size_t i = 0; i < r->nworkers; i++) {
        const goose_worker_info *w = &r->workers[i];
        int ok = w->state && strcmp(w->state, "done") == 0;
        putf(o, "<tr><td>%zu</td><td class=\"name\">", i + 1);
        esc(o, w->name);
        putf(o, "</td><td>%zu</td><td>%llu</td><td>%+.1f ms</td><td%s>", w->users,
             ull(w->requests), w->start_offset_ms, ok ? " class=\"text\"" : " class=\"text bad\"");
        esc(o, w->state ? w->state : "?");
        put(o, "</td></tr>\n");
        users += w->users;
        reqs += w->requests;
        done += ok;
    }
    putf(o, "</tbody><tfoot><tr><td></td><td class=\"name\">Gaggle</td><td>%llu</td>"
            "<td>%llu</td><td>%.1f ms spread</td><td class=\"text\">%llu/%zu done</td></tr></tfoot>"
            "</table></div>\n</section>\n",
         users, reqs, r->start_spread_ms, done, r->nworkers);
}

/* The verdict of the run, right below the header. */
static void section_thresholds(out *o, const goose_results *r)
{
    static const char *const cols[] = {"Result", "Threshold", "Observed", "Note", NULL};
    if (!r->nthresholds)
        return;
    put(o, "<section id=\"thresholds\"><h2>Thresholds</h2>\n");
    if (r->aborted && r->aborted_by < r->nthresholds) {
        put(o, "<p class=\"bad\">Stopped early: <code>");
        esc(o, r->thresholds[r->aborted_by].t.expr);
        putf(o, "</code> failed at %s (<code>--threshold-abort</code>).</p>\n",
             fmt_at(r->aborted_at_s).s);
    }
    table_open(o, "thresholds", cols, 0xb);
    for (size_t i = 0; i < r->nthresholds; i++) {
        const goose_threshold_result *x = &r->thresholds[i];
        char seen[32] = "-";
        if (x->measured)
            goose__threshold_format(&x->t, x->observed, seen, sizeof seen);
        putf(o, "<tr><td class=\"text %s\">%s</td><td class=\"name\"><code>",
             x->pass ? "good" : "bad", x->pass ? "PASS" : "FAIL");
        esc(o, x->t.expr);
        put(o, "</code></td><td>");
        esc(o, seen);
        put(o, "</td><td class=\"name\">");
        esc(o, x->reason);
        put(o, "</td></tr>\n");
    }
    table_close(o);
    put(o, "</section>\n");
}

/* ---- overview and options ---- */

/* Opens the <dd> of key; the next kv() or kv_end() closes it. */
static void kv(out *o, const char *key)
{
    putf(o, "%s<dt>%s</dt><dd>", o->dd ? "</dd>" : "", key);
    o->dd = 1;
}

static void kv_end(out *o)
{
    put(o, o->dd ? "</dd></dl>\n" : "</dl>\n");
    o->dd = 0;
}

/* Scenarios often share a host: each is listed once. */
static void hosts(out *o, const goose_results *r)
{
    size_t shown = 0;
    for (size_t i = 0; r->hosts && i < r->nscenarios; i++) {
        const char *h = r->hosts[i];
        if (!goose__host_first(r, i))
            continue;
        put(o, shown++ ? ", " : "");
        esc(o, h);
    }
    if (!shown)
        put(o, "(none)");
}

static void section_overview(out *o, const goose_results *r, const char *hash)
{
    static const char *const cols[] = {"Phase", "Start", "End", "Duration", "Users", NULL};
    put(o, "<section id=\"overview\"><h2>Overview</h2>\n");
    if (r->nphases) {
        table_open(o, "phases", cols, 0x1);
        for (size_t i = 0; i < r->nphases; i++) {
            const goose_phase *p = &r->phases[i];
            put(o, "<tr><td class=\"name\">");
            esc(o, p->name ? p->name : "?");
            putf(o, "</td><td>%s</td><td>%s</td><td>%s</td>", goose__fmt_secs(p->start_s).s,
                 goose__fmt_secs(p->end_s).s, goose__fmt_secs(p->end_s - p->start_s).s);
            if (p->users_from == p->users_to)
                putf(o, "<td>%zu</td></tr>\n", p->users_to);
            else
                putf(o, "<td>%zu &rarr; %zu</td></tr>\n", p->users_from, p->users_to);
        }
        table_close(o);
    }
    put(o, "<dl class=\"kv\">");
    kv(o, "Started");
    esc(o, r->started[0] ? r->started : "-");
    kv(o, "Duration");
    putf(o, "%s measured, %s in all", goose__fmt_secs(r->duration_s).s, goose__fmt_secs(r->elapsed_s).s);
    kv(o, "Users");
    putf(o, "%zu", r->users);
    if (r->abandoned_users) {
        kv(o, "Abandoned");
        putf(o, "<span class=\"bad\">%zu users</span>, not finished within --stop-timeout",
             r->abandoned_users);
    }
    goose_fact facts[4];
    for (size_t i = 0, n = goose__load_facts(r, facts); i < n; i++) {
        kv(o, facts[i].label);
        esc(o, facts[i].text);
    }
    if (r->manager) {
        kv(o, "Workers");
        putf(o, "%zu (a Gaggle Manager&#39;s report; %s, %s)", r->nworkers,
             r->gaggle_authenticated ? "Workers proved the key"
                                     : "<span class=\"bad\">UNAUTHENTICATED</span>",
             r->gaggle_tls ? "TLS" : "plaintext");
    } else {
        kv(o, "Threads");
        putf(o, "%zu", r->threads);
    }
    char seed[96];
    if (goose__seed_text(r, seed, sizeof seed)) {
        kv(o, "Seed");
        esc(o, seed);
    }
    kv(o, "Metrics reset");
    if (r->metrics_reset)
        putf(o, "yes, once every user had started, at %s", goose__fmt_secs(r->reset_at_s).s);
    else
        put(o, "no");
    kv(o, "Target hosts");
    hosts(o, r);
    kv(o, "Load-test hash");
    putf(o, "<code class=\"hash\">%s</code>", hash);
    kv(o, "libgoose");
    put(o, GOOSE_VERSION_STRING);
    kv_end(o);
    put(o, "</section>\n");
}

static void list(out *o, char *const *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        put(o, i ? ", " : "");
        esc(o, v[i]);
    }
}

static const char *const LOG_FORMATS[] = {"json", "csv", "raw"};

static const char *log_format(int f)
{
    return f >= 0 && f < 3 ? LOG_FORMATS[f] : "?";
}

/* The value an option was given, as the run understood it, shown as its
 * row of the option table says. */
static void option_value(out *o, const goose_options *p, const goose_option_info *info)
{
    const char *at = (const char *)p + info->field;
    size_t n = info->count ? *(const size_t *)((const char *)p + info->count) : 0;
    char *const *items;
    switch (info->show) {
    case GOOSE_SHOW_SECRET:
        put(o, "(set; never shown)");
        break;
    case GOOSE_SHOW_FLAG:
        put(o, *(const int *)at ? "on" : "off");
        break;
    case GOOSE_SHOW_TEXT:
        esc(o, *(char *const *)at);
        break;
    case GOOSE_SHOW_SIZE:
        putf(o, "%zu", *(const size_t *)at);
        break;
    case GOOSE_SHOW_KIB:
        putf(o, "%zuk", *(const size_t *)at / 1024);
        break;
    case GOOSE_SHOW_PORT:
        putf(o, "%u", *(const unsigned *)at);
        break;
    case GOOSE_SHOW_INT:
        putf(o, "%d", *(const int *)at);
        break;
    case GOOSE_SHOW_COUNT:
        putf(o, "%llu", ull(*(const uint64_t *)at));
        break;
    case GOOSE_SHOW_RATE:
        putf(o, "%g users/s", *(const double *)at);
        break;
    case GOOSE_SHOW_DURATION:
        put(o, fmt_duration(*(const uint64_t *)at).s);
        break;
    case GOOSE_SHOW_DURATION_MS:
        put(o, fmt_duration((uint64_t)*(const long *)at * 1000).s);
        break;
    case GOOSE_SHOW_ADDRESSES: /* a few are listed, more folded */
        items = *(char *const *const *)at;
        if (n > 4)
            putf(o, "%zu addresses, %s &hellip; %s", n, items[0], items[n - 1]);
        else
            list(o, items, n);
        break;
    case GOOSE_SHOW_LIST:
        list(o, *(char *const *const *)at, n);
        break;
    case GOOSE_SHOW_LOG_FORMAT:
        put(o, log_format(*(const int *)at));
        break;
    case GOOSE_SHOW_TEXT_OR_JSON:
        put(o, *(const int *)at ? "json" : "text");
        break;
    case GOOSE_SHOW_CO_MODE:
        put(o, goose__co_mode_name(*(const int *)at));
        break;
    case GOOSE_SHOW_THRESHOLDS:
        for (size_t i = 0; i < n; i++) {
            const goose_threshold *t = *(const goose_threshold *const *)at;
            put(o, i ? ", <code>" : "<code>");
            esc(o, t[i].expr);
            put(o, "</code>");
        }
        break;
    case GOOSE_SHOW_HTTP_VERSION:
        put(o, goose__http_version_name(*(const int *)at));
        break;
    case GOOSE_SHOW_SCHEDULER:
        put(o, goose__scheduler_name(*(const int *)at));
        break;
    case GOOSE_SHOW_GIVEN:
    default:
        put(o, "(given)");
        break;
    }
}

/* The options the run was given (flags, environment or set_option), in
 * the order of --help; the rest had their defaults. */
static void section_options(out *o, const goose_options *p)
{
    static const char *const cols[] = {"Option", "Value", NULL};
    size_t n, shown = 0;
    const goose_option_info *info = goose__option_list(&n);
    put(o, "<section id=\"options\"><h2>Options</h2>\n");
    for (size_t i = 0; i < n; i++) {
        if (!goose__option_given(p, (goose_option_id)i))
            continue;
        if (!shown++)
            table_open(o, "options", cols, 0x3);
        putf(o, "<tr><td class=\"text\"><code>--%s</code></td><td class=\"name\">",
             info[i].name);
        option_value(o, p, &info[i]);
        put(o, "</td></tr>\n");
    }
    if (shown)
        table_close(o);
    put(o, shown ? "<p class=\"muted\">Options not listed had their defaults.</p>\n"
                 : "<p class=\"muted\">No options were given: every one had its "
                   "default.</p>\n");
    put(o, "</section>\n");
}

/* ---- charts ---- */

/* The series as drawn: one point per `bucket` seconds (1 unless the run
 * is longer than MAX_POINTS seconds), each at the end of its seconds. */
typedef struct frame {
    size_t n;        /* seconds in the series */
    size_t m;        /* points drawn */
    size_t bucket;
    double last_x;   /* the last point: the end of the run, mid-second */
    double last_dt;  /* the seconds it covers */
    double xmax;     /* seconds */
    double ymax;
    double ystep;
    int ydecimals;
} frame;

typedef struct line {
    const char *method;  /* of a request key, else NULL */
    const char *label;
    const char *color;
    double *v;           /* [m] */
    int total;           /* drawn thicker, on top */
} line;

typedef struct chart {
    const char *id;
    const char *title;
    const char *unit;    /* of the values, in tooltips */
    const char *yaxis;
    int decimals;
    int max;             /* a bucket shows its worst second, not the mean */
    line lines[MAX_KEYS + 1];
    size_t nlines;
} chart;

/* Point j covers the seconds [first, end) of the series. */
static void bucket_span(const frame *f, size_t j, size_t *first, size_t *end)
{
    *first = j * f->bucket;
    *end = (j + 1) * f->bucket < f->n ? (j + 1) * f->bucket : f->n;
}

/* Second i of the series is drawn where it ends: the collector takes one
 * point a second and a last one, of what is left, when the run ends. */
static double sec_x(const frame *f, size_t i)
{
    return i + 1 < f->n ? (double)(i + 1) : f->last_x;
}

/* The mean (or max) of each bucket of u (or of d when u is NULL); with
 * `rate`, counts are divided by the time they were counted in. */
static double *reduce(out *o, const frame *f, const uint64_t *u, const double *d, int max,
                      int rate, double scale)
{
    double *v = calloc(f->m ? f->m : 1, sizeof *v);
    if (!v) {
        o->oom = 1;
        return NULL;
    }
    for (size_t j = 0; j < f->m; j++) {
        size_t a, b;
        bucket_span(f, j, &a, &b);
        double acc = 0;
        for (size_t i = a; i < b; i++) {
            double x = u ? (double)u[i] : d ? d[i] : 0;
            if (rate && i + 1 == f->n)
                x /= f->last_dt;
            acc = max ? (x > acc ? x : acc) : acc + x;
        }
        v[j] = (max ? acc : acc / (double)(b - a)) * scale;
    }
    return v;
}

/* 1, 2 or 5 times a power of ten, at least x (and at least `least`). */
static double nice_step(double x, double least)
{
    if (!(x > 0))
        return least > 0 ? least : 1;
    double p = pow(10, floor(log10(x)));
    double f = x / p;
    double s = (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * p;
    return s < least ? least : s;
}

static void scale_y(frame *f, const chart *c, double least)
{
    double top = 0;
    for (size_t k = 0; k < c->nlines; k++)
        for (size_t j = 0; c->lines[k].v && j < f->m; j++)
            if (c->lines[k].v[j] > top)
                top = c->lines[k].v[j];
    f->ystep = nice_step(top / 4, least);
    f->ymax = ceil(top / f->ystep - 1e-9) * f->ystep;
    if (f->ymax < f->ystep)
        f->ymax = f->ystep;
    f->ydecimals = f->ystep >= 1 ? 0 : (int)ceil(-log10(f->ystep) - 1e-9);
}

static double px(const frame *f, double t)
{
    return ML + t / f->xmax * (CW - ML - MR);
}

static double py(const frame *f, double v)
{
    return CH - MB - v / f->ymax * (CH - MT - MB);
}

static void axes(out *o, const frame *f, const chart *c)
{
    static const double steps[] = {0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600,
                                   900, 1800, 3600, 7200, 10800, 21600, 43200, 86400};
    put(o, "<g class=\"grid\">");
    for (size_t i = 0; i * f->ystep <= f->ymax + f->ystep / 2; i++) {
        double y = (double)i * f->ystep;
        putf(o, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"/>", ML, CW - MR,
             py(f, y), py(f, y));
        putf(o, "<text class=\"yl\" x=\"%.1f\" y=\"%.1f\">%.*f</text>", ML - 8, py(f, y) + 4,
             f->ydecimals, y);
    }
    put(o, "</g>\n<g class=\"axis\">");
    putf(o, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"/>", ML, CW - MR, CH - MB,
         CH - MB);
    double step = steps[sizeof steps / sizeof steps[0] - 1];
    /* tenths of a second only for a run too short for whole ones */
    for (size_t i = f->xmax < 2 ? 0 : 3; i < sizeof steps / sizeof steps[0]; i++)
        if (f->xmax / steps[i] <= 10) {
            step = steps[i];
            break;
        }
    for (size_t i = 0; i * step <= f->xmax + 1e-9; i++) {
        double t = (double)i * step, x = px(f, t);
        putf(o, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"/>", x, x, CH - MB,
             CH - MB + 5);
        putf(o, "<text class=\"xl\" x=\"%.1f\" y=\"%.1f\">%s</text>", x, CH - MB + 19,
             fmt_at(t).s);
    }
    putf(o, "<text class=\"xt\" x=\"%.1f\" y=\"%.1f\">time since the start</text>",
         (ML + CW - MR) / 2, CH - 4);
    putf(o, "<text class=\"yt\" transform=\"translate(14 %.1f) rotate(-90)\">%s</text>",
         (MT + CH - MB) / 2, c->yaxis);
    put(o, "</g>\n");
}

/* The increase/maintain/decrease phases, shaded behind the lines. */
static const char *phase_class(const char *name)
{
    return !name ? "" : !strcmp(name, "increase") ? "increase"
                      : !strcmp(name, "maintain") ? "maintain"
                      : !strcmp(name, "decrease") ? "decrease" : "";
}

static void phase_bands(out *o, const frame *f, const goose_results *r)
{
    put(o, "<g class=\"phases\">");
    for (size_t i = 0; i < r->nphases; i++) {
        const goose_phase *p = &r->phases[i];
        double a = px(f, p->start_s), b = px(f, p->end_s < f->xmax ? p->end_s : f->xmax);
        if (!(b - a >= 0.5)) /* too short to show */
            continue;
        putf(o, "<rect class=\"ph %s\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\">"
                "<title>",
             phase_class(p->name), a, MT, b - a, CH - MT - MB);
        esc(o, p->name);
        putf(o, ": %s to %s, ", goose__fmt_secs(p->start_s).s, goose__fmt_secs(p->end_s).s);
        if (p->users_from == p->users_to)
            putf(o, "%zu users", p->users_to);
        else
            putf(o, "%zu to %zu users", p->users_from, p->users_to);
        put(o, "</title></rect>");
        if (b - a > 70) {
            putf(o, "<text class=\"phl\" x=\"%.1f\" y=\"%.1f\">", a + 6, MT + 14);
            esc(o, p->name);
            put(o, "</text>");
        }
    }
    put(o, "</g>\n");
}

static void reset_marker(out *o, const frame *f, const goose_results *r, int bands)
{
    if (!r->metrics_reset || r->reset_at_s > f->xmax)
        return;
    double x = px(f, r->reset_at_s);
    /* left of the line, below the phase names */
    putf(o, "<g class=\"reset\"><line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"/>"
            "<text x=\"%.1f\" y=\"%.1f\">metrics reset</text></g>\n",
         x, x, MT, CH - MB, x - 4, MT + (bands ? 30 : 12));
}

static void draw_line(out *o, const frame *f, const chart *c, const line *l)
{
    double r = f->m <= 60 ? 3.2 : f->m <= 240 ? 2.2 : 1.4;
    if (!l->total)
        r *= 0.8;
    putf(o, "<g class=\"series%s\" data-points=\"%zu\" data-label=\"", l->total ? " total" : "",
         f->m);
    esc_key(o, l->method, l->label);
    putf(o, "\"><polyline stroke=\"%s\" points=\"", l->color);
    for (size_t j = 0; j < f->m; j++) {
        size_t a, b;
        bucket_span(f, j, &a, &b);
        putf(o, "%s%.1f,%.1f", j ? " " : "", px(f, sec_x(f, b - 1)), py(f, l->v[j]));
    }
    put(o, "\"/>");
    for (size_t j = 0; j < f->m; j++) {
        size_t a, b;
        bucket_span(f, j, &a, &b);
        putf(o, "<circle class=\"pt\" cx=\"%.1f\" cy=\"%.1f\" r=\"%.1f\" fill=\"%s\"><title>",
             px(f, sec_x(f, b - 1)), py(f, l->v[j]), r, l->color);
        esc_key(o, l->method, l->label);
        putf(o, ": %.*f %s ", c->decimals, l->v[j], c->unit);
        if (f->bucket == 1)
            putf(o, "at %s", fmt_at(sec_x(f, b - 1)).s);
        else
            putf(o, "(%s of %s to %s)", c->max ? "worst second" : "mean",
                 fmt_at(a ? sec_x(f, a - 1) : 0).s, fmt_at(sec_x(f, b - 1)).s);
        put(o, "</title></circle>");
    }
    put(o, "</g>\n");
}

static void legend_item(out *o, const char *color, const char *cls, const char *method,
                        const char *label)
{
    put(o, "<li><span class=\"sw");
    if (cls) {
        put(o, " ph ");
        put(o, cls);
    }
    put(o, "\"");
    if (color)
        putf(o, " style=\"background:%s\"", color);
    put(o, "></span>");
    esc_key(o, method, label);
    put(o, "</li>");
}

/* <figure class="chart" data-points=N>: N points on each of its lines,
 * one per second of the run (or per bucket of a long run). */
static void draw_chart(out *o, const frame *f, const chart *c, const goose_results *r,
                       int bands, const char *note)
{
    putf(o, "<figure class=\"chart\" id=\"chart-%s\" data-chart=\"%s\" data-points=\"%zu\" "
            "data-series=\"%zu\" data-bucket-s=\"%zu\">\n<figcaption>%s</figcaption>\n",
         c->id, c->id, f->m, c->nlines, f->bucket, c->title);
    putf(o, "<svg viewBox=\"0 0 %.0f %.0f\" role=\"img\" aria-label=\"%s\">\n",
         CW, CH, c->title);
    if (bands)
        phase_bands(o, f, r);
    axes(o, f, c);
    reset_marker(o, f, r, bands);
    for (size_t k = c->nlines; k-- > 0;)
        if (!c->lines[k].total)
            draw_line(o, f, c, &c->lines[k]);
    for (size_t k = 0; k < c->nlines; k++)
        if (c->lines[k].total)
            draw_line(o, f, c, &c->lines[k]);
    put(o, "</svg>\n<ul class=\"legend\">");
    for (size_t k = 0; k < c->nlines; k++)
        legend_item(o, c->lines[k].color, NULL, c->lines[k].method, c->lines[k].label);
    for (size_t i = 0; bands && i < r->nphases; i++) {
        const goose_phase *p = &r->phases[i];
        char text[160];
        if (p->users_from == p->users_to)
            snprintf(text, sizeof text, "%s (%s to %s, %zu users)",
                     p->name ? p->name : "?", goose__fmt_secs(p->start_s).s,
                     goose__fmt_secs(p->end_s).s, p->users_to);
        else
            snprintf(text, sizeof text, "%s (%s to %s, %zu to %zu users)",
                     p->name ? p->name : "?", goose__fmt_secs(p->start_s).s,
                     goose__fmt_secs(p->end_s).s, p->users_from, p->users_to);
        legend_item(o, NULL, phase_class(p->name), NULL, text);
    }
    put(o, "</ul>\n");
    if (note)
        putf(o, "<p class=\"note\">%s</p>\n", note);
    put(o, "</figure>\n");
}

static void no_data(out *o, const char *id, const char *title)
{
    putf(o, "<figure class=\"chart\" id=\"chart-%s\" data-chart=\"%s\" data-points=\"0\" "
            "data-series=\"0\" data-bucket-s=\"1\">\n<figcaption>%s</figcaption>\n"
            "<p class=\"nodata\">No per-second data: no run has completed.</p>\n"
            "</figure>\n",
         id, id, title);
}

static uint64_t key_total(const goose_key_series *k, size_t n)
{
    uint64_t t = 0;
    for (size_t i = 0; k->counts && i < n; i++)
        t += k->counts[i];
    return t;
}

/* The MAX_KEYS busiest request keys, busiest first. */
static size_t busiest_keys(const goose_series *s, size_t *idx)
{
    size_t n = 0;
    uint64_t tot[MAX_KEYS];
    for (size_t k = 0; k < s->nkeys; k++) {
        uint64_t t = key_total(&s->keys[k], s->n);
        size_t at = n < MAX_KEYS ? n : MAX_KEYS;
        while (at > 0 && tot[at - 1] < t)
            at--;
        if (at >= MAX_KEYS)
            continue;
        size_t last = n < MAX_KEYS ? n : MAX_KEYS - 1;
        memmove(idx + at + 1, idx + at, (last - at) * sizeof *idx);
        memmove(tot + at + 1, tot + at, (last - at) * sizeof *tot);
        idx[at] = k;
        tot[at] = t;
        if (n < MAX_KEYS)
            n++;
    }
    return n;
}

static void free_lines(chart *c)
{
    for (size_t k = 0; k < c->nlines; k++)
        free(c->lines[k].v);
}

static void section_charts(out *o, const goose_results *r)
{
    static const char *const titles[] = {"Requests per second",
                                         "Response times (p50, p95, p99)",
                                         "Active users", "Failures per second"};
    static const char *const ids[] = {"rps", "times", "users", "errors"};
    const goose_series *s = &r->series;
    put(o, "<section id=\"charts\"><h2>Over time</h2>\n");
    if (!s->n) {
        put(o, "<div class=\"charts\">\n");
        for (size_t i = 0; i < 4; i++)
            no_data(o, ids[i], titles[i]);
        put(o, "</div>\n</section>\n");
        return;
    }
    frame f = {.n = s->n};
    f.bucket = (s->n + MAX_POINTS - 1) / MAX_POINTS;
    f.m = (s->n + f.bucket - 1) / f.bucket;
    if (f.bucket > 1)
        putf(o, "<p class=\"note\">A run of %s: each point stands for %zu seconds.</p>\n",
             goose__fmt_secs((double)s->n).s, f.bucket);
    put(o, "<div class=\"charts\">\n");
    /* the last point ends the run, usually part of a second after the one
     * before: its counts are divided by the time it covers, as its rps was */
    f.last_dt = s->last_s > 0 ? s->last_s : 1;
    f.last_x = (double)(s->n - 1) + f.last_dt;
    f.xmax = f.last_x;
    for (size_t i = 0; i < r->nphases; i++)
        if (r->phases[i].end_s > f.xmax)
            f.xmax = r->phases[i].end_s;

    /* requests per second: the total and the busiest keys */
    chart c = {.id = ids[0], .title = titles[0], .unit = "req/s", .yaxis = "requests/s",
               .decimals = 1};
    size_t idx[MAX_KEYS];
    size_t nk = busiest_keys(s, idx);
    c.lines[c.nlines++] = (line){NULL, "All requests", "#1d2430",
                                 reduce(o, &f, NULL, s->rps, 0, 0, 1), 1};
    for (size_t i = 0; i < nk; i++) {
        const goose_key_series *k = &s->keys[idx[i]];
        c.lines[c.nlines++] = (line){k->method, k->name, PALETTE[i],
                                     reduce(o, &f, k->counts, NULL, 0, 1, 1), 0};
    }
    char note[160];
    snprintf(note, sizeof note, "Lines for the %d busiest of the %zu request keys; "
             "&ldquo;All requests&rdquo; counts every one.", MAX_KEYS, s->nkeys);
    if (!o->oom) {
        scale_y(&f, &c, 0);
        draw_chart(o, &f, &c, r, 0, s->nkeys > MAX_KEYS ? note : NULL);
    }
    free_lines(&c);

    c = (chart){.id = ids[1], .title = titles[1], .unit = "ms", .yaxis = "response time (ms)",
                .decimals = 2, .max = 1};
    c.lines[c.nlines++] = (line){NULL, "p99", "#d62728",
                                 reduce(o, &f, s->p99_us, NULL, 1, 0, 0.001), 0};
    c.lines[c.nlines++] = (line){NULL, "p95", "#ff7f0e",
                                 reduce(o, &f, s->p95_us, NULL, 1, 0, 0.001), 0};
    c.lines[c.nlines++] = (line){NULL, "p50", "#1f77b4",
                                 reduce(o, &f, s->p50_us, NULL, 1, 0, 0.001), 1};
    if (!o->oom) {
        scale_y(&f, &c, 0);
        draw_chart(o, &f, &c, r, 0, f.bucket > 1 ? "Each point: the worst of its seconds, "
                                                   "each second counting the responses that "
                                                   "arrived in it."
                                                 : "Each point: the responses that arrived "
                                                   "in that second.");
    }
    free_lines(&c);

    c = (chart){.id = ids[2], .title = titles[2], .unit = "users", .yaxis = "users",
                .decimals = f.bucket > 1 ? 1 : 0};
    c.lines[c.nlines++] = (line){NULL, "Active users", "#2f5fa7",
                                 reduce(o, &f, s->users, NULL, 0, 0, 1), 1};
    if (!o->oom) {
        scale_y(&f, &c, 1);
        draw_chart(o, &f, &c, r, 1, NULL);
    }
    free_lines(&c);

    c = (chart){.id = ids[3], .title = titles[3], .unit = "failures/s",
                .yaxis = "failures/s", .decimals = 1};
    c.lines[c.nlines++] = (line){NULL, "Failed requests", "#d62728",
                                 reduce(o, &f, s->fails, NULL, 0, 1, 1), 1};
    uint64_t fails = 0;
    for (size_t i = 0; s->fails && i < s->n; i++)
        fails += s->fails[i];
    if (!o->oom) {
        scale_y(&f, &c, 1);
        draw_chart(o, &f, &c, r, 0, fails ? NULL : "No request failed.");
    }
    free_lines(&c);
    put(o, "</div>\n</section>\n");
}

/* ---- the page ---- */

static const char CSS[] =
    ":root{--fg:#1d2430;--muted:#5b6472;--line:#dde1e6;--bg:#f4f5f7;--card:#fff;"
    "--head:#eef1f5;--bad:#b3261e}\n"
    "*{box-sizing:border-box}\n"
    "html{-webkit-text-size-adjust:100%}\n"
    "body{margin:0;color:var(--fg);background:var(--bg);"
    "font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,'Helvetica Neue',Arial,"
    "sans-serif}\n"
    "main{max-width:1180px;margin:0 auto;padding:24px 24px 48px}\n"
    "h1{font-size:24px;margin:0 0 4px}\n"
    "h2{font-size:18px;margin:32px 0 12px;padding-bottom:4px;"
    "border-bottom:1px solid var(--line)}\n"
    ".meta,.muted,.note{color:var(--muted)}\n"
    ".note{font-size:12.5px;margin:6px 0 0}\n"
    ".tiles{display:grid;grid-template-columns:repeat(auto-fit,minmax(118px,1fr));"
    "gap:12px;margin:20px 0 0}\n"
    ".tile{background:var(--card);border:1px solid var(--line);border-radius:8px;"
    "padding:10px 14px}\n"
    ".tile span{display:block;color:var(--muted);font-size:11.5px;"
    "text-transform:uppercase;letter-spacing:.05em}\n"
    ".tile b{display:block;font-size:22px;font-weight:600;white-space:nowrap;"
    "font-variant-numeric:tabular-nums}\n"
    ".tile small{font-size:14px;font-weight:500}\n"
    ".charts{display:grid;gap:16px}\n"
    "figure.chart{margin:0;background:var(--card);border:1px solid var(--line);"
    "border-radius:8px;padding:12px 16px 14px}\n"
    "figcaption{font-weight:600;margin-bottom:4px}\n"
    "svg{display:block;width:100%;height:auto}\n"
    "svg text{font-family:system-ui,-apple-system,'Segoe UI',Roboto,Arial,sans-serif;"
    "font-size:12px;fill:#5b6472}\n"
    ".grid line{stroke:#e7eaef}\n"
    ".yl{text-anchor:end}.xl,.xt{text-anchor:middle}.yt{text-anchor:middle}\n"
    ".axis line{stroke:#9aa3af}\n"
    ".series polyline{fill:none;stroke-width:1.6;stroke-linejoin:round;"
    "stroke-linecap:round;opacity:.9}\n"
    ".series.total polyline{stroke-width:2.6;opacity:1}\n"
    ".pt{stroke:#fff;stroke-width:.6}\n"
    ".pt:hover{stroke:#000;stroke-width:1.5}\n"
    ".ph.increase{fill:#2ca02c;fill-opacity:.13;background:rgba(44,160,44,.25)}\n"
    ".ph.maintain{fill:#1f77b4;fill-opacity:.08;background:rgba(31,119,180,.18)}\n"
    ".ph.decrease{fill:#ff7f0e;fill-opacity:.15;background:rgba(255,127,14,.28)}\n"
    ".phl{font-size:11px;fill:#6b7380;text-transform:uppercase;letter-spacing:.06em}\n"
    ".reset line{stroke:#6b7380;stroke-dasharray:4 3}\n"
    ".reset text{font-size:11px;text-anchor:end}\n"
    ".legend{list-style:none;margin:8px 0 0;padding:0;display:flex;flex-wrap:wrap;"
    "gap:4px 18px;font-size:12.5px;color:var(--muted)}\n"
    ".legend li{overflow-wrap:anywhere}\n"
    ".sw{display:inline-block;width:12px;height:12px;border-radius:2px;margin-right:6px;"
    "vertical-align:-1px;border:1px solid rgba(0,0,0,.15)}\n"
    ".nodata{color:var(--muted);font-style:italic;margin:12px 0}\n"
    ".wrap{overflow-x:auto}\n"
    "table{border-collapse:collapse;width:100%;background:var(--card);"
    "border:1px solid var(--line);font-size:13px}\n"
    "th,td{padding:5px 10px;border-bottom:1px solid var(--line);text-align:right;"
    "font-variant-numeric:tabular-nums;white-space:nowrap;vertical-align:top}\n"
    "th{background:var(--head);font-weight:600}\n"
    "th.l,td.name,td.text{text-align:left}\n"
    "td.name{white-space:normal;overflow-wrap:anywhere;min-width:8em}\n"
    "td.text{white-space:normal}\n"
    "tfoot td{font-weight:600;border-top:2px solid #c5cad3;border-bottom:0}\n"
    "table.phases{width:auto;margin-bottom:12px}\n"
    "table.options td:first-child{width:1%;white-space:nowrap}\n"
    "table.errors td:first-child,table.workers td:first-child{width:4em}\n"
    ".bad{color:var(--bad)}.good{color:#1e7b34}\n"
    ".code{font-weight:600}.code.c2{color:#1e7b34}.code.c3{color:#2f5fa7}"
    ".code.c4,.code.c5,.code.c0{color:var(--bad)}\n"
    "code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12.5px}\n"
    ".hash{overflow-wrap:anywhere}\n"
    "dl.kv{display:grid;grid-template-columns:max-content 1fr;gap:4px 18px;margin:0}\n"
    "dt{color:var(--muted)}dd{margin:0;overflow-wrap:anywhere}\n"
    "footer{margin-top:32px;color:var(--muted);font-size:12px}\n"
    "@media print{\n"
    "body{background:none;font-size:11px}\n"
    "main{max-width:none;padding:0}\n"
    ".tile,figure.chart,table{background:none;border-color:#bbb}\n"
    "th{background:none;border-bottom:1.5px solid #888}\n"
    "figure.chart,.tiles,.tile,tr,dl.kv{break-inside:avoid;page-break-inside:avoid}\n"
    "h2{break-after:avoid;page-break-after:avoid}\n"
    "thead{display:table-header-group}\n"
    ".wrap{overflow:visible}\n"
    "th,td{white-space:normal;padding:3px 6px}\n"
    ".pt{stroke:none}\n"
    "svg text{font-size:15px}.phl,.reset text{font-size:13px}\n"
    "@page{margin:12mm}\n"
    "}\n";

static void tiles(out *o, const goose_results *r, const goose_hist *all)
{
    uint64_t count = 0, fail = 0;
    for (size_t i = 0; i < r->totals.nreqs; i++) {
        count += goose__req_count(r->totals.reqs[i]);
        fail += r->totals.reqs[i]->fail;
    }
    put(o, "<div class=\"tiles\">");
    putf(o, "<div class=\"tile\"><span>Requests</span><b>%llu</b></div>", ull(count));
    putf(o, "<div class=\"tile\"><span>Failures</span><b%s>%llu <small>%.1f%%</small></b></div>",
         fail ? " class=\"bad\"" : "", ull(fail),
         count ? 100.0 * (double)fail / (double)count : 0.0);
    putf(o, "<div class=\"tile\"><span>Requests/s</span><b>%s</b></div>",
         goose__fmt_rate(count, r->duration_s).s);
    putf(o, "<div class=\"tile\"><span>Median</span><b>%s ms</b></div>",
         goose__fmt_ms((double)goose__hist_percentile(all, 0.5)).s);
    putf(o, "<div class=\"tile\"><span>p95</span><b>%s ms</b></div>",
         goose__fmt_ms((double)goose__hist_percentile(all, 0.95)).s);
    putf(o, "<div class=\"tile\"><span>Users</span><b>%zu</b></div>", r->users);
    if (r->nthresholds) {
        size_t passed = 0;
        for (size_t i = 0; i < r->nthresholds; i++)
            passed += r->thresholds[i].pass != 0;
        putf(o, "<div class=\"tile\"><span>Thresholds</span><b class=\"%s\">%zu/%zu "
                "<small>passed</small></b></div>",
             passed == r->nthresholds ? "good" : "bad", passed, r->nthresholds);
    }
    putf(o, "<div class=\"tile\"><span>Measured</span><b>%s</b></div>",
         goose__fmt_secs(r->duration_s).s);
    put(o, "</div>\n");
}

char *goose__report_html(const goose_results *r, const goose_report_ctx *ctx)
{
    if (!r)
        return NULL;
    /* up to 18 KB each once merged into: kept off the stack of whatever thread reports */
    goose_hist *all = goose__hists_new(1);
    goose_hist *scratch = goose__hists_new(1);
    goose_hist *empty = goose__hists_new(1);
    goose_hist *co = r->co_mode ? goose__hists_new(3) : NULL;
    out o = {.oom = !all || !scratch || !empty || (r->co_mode && !co)};
    char *page = NULL;
    goose__buf_init(&o.b);
    if (o.oom)
        goto out;
    for (size_t i = 0; i < r->totals.nreqs; i++)
        goose__hist_merge(all, &r->totals.reqs[i]->hist);

    put(&o, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\n"
            "<meta name=\"generator\" content=\"libgoose " GOOSE_VERSION_STRING "\">\n"
            "<title>Load test report");
    if (r->started[0]) {
        put(&o, " &middot; ");
        esc(&o, r->started);
    }
    putf(&o, "</title>\n<style>\n%s</style>\n</head>\n<body>\n<main>\n", CSS);
    put(&o, "<header><h1>Load test report</h1>\n<div class=\"meta\">");
    putf(&o, "libgoose %s &middot; %s", GOOSE_VERSION_STRING,
         r->manager ? "Gaggle Manager" : "standalone");
    if (r->started[0]) {
        put(&o, " &middot; started ");
        esc(&o, r->started);
    }
    putf(&o, " &middot; %s measured, %s in all &middot; hosts: ", goose__fmt_secs(r->duration_s).s,
         goose__fmt_secs(r->elapsed_s).s);
    hosts(&o, r);
    putf(&o, "<br>load-test hash <code class=\"hash\">%s</code></div>\n",
         r->test_hash[0] ? r->test_hash : "-");
    if (!r->valid)
        put(&o, "<p class=\"bad\">No load test run has completed: there are no metrics "
                "to report.</p>\n");
    char lost[300];
    if (goose__lost_text(r, lost, sizeof lost)) {
        put(&o, "<p class=\"bad\" id=\"metrics-incomplete\">");
        esc(&o, lost);
        put(&o, "</p>\n");
    }
    if (r->manager && !r->gaggle_authenticated)
        put(&o, "<p class=\"bad\">An UNAUTHENTICATED Gaggle: its Workers did not prove a "
                "key.</p>\n");
    if (goose__certs_text(r)) {
        put(&o, "<p class=\"bad\" id=\"certs-unchecked\">");
        esc(&o, goose__certs_text(r));
        put(&o, "</p>\n");
    }
    tiles(&o, r, all);
    put(&o, "</header>\n");
    section_thresholds(&o, r);
    section_charts(&o, r);
    section_requests(&o, r, scratch);
    section_co(&o, r, co);
    section_status(&o, r);
    section_transactions(&o, r, scratch, empty);
    section_scenarios(&o, r);
    section_errors(&o, r);
    section_tx_errors(&o, r);
    section_baseline(&o, r, ctx->baseline);
    section_workers(&o, r);
    section_overview(&o, r, r->test_hash[0] ? r->test_hash : "-");
    section_options(&o, ctx->opt);
    put(&o, "<footer>Written by libgoose " GOOSE_VERSION_STRING
            ". Times in milliseconds.</footer>\n"
            "</main>\n</body>\n</html>");
    if (!o.oom)
        page = goose__buf_steal(&o.b);
out:
    goose__buf_free(&o.b);
    goose__hists_delete(all, 1);
    goose__hists_delete(scratch, 1);
    goose__hists_delete(empty, 1);
    goose__hists_delete(co, 3);
    return page;
}
