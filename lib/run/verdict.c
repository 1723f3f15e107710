/* The verdict of a run on its thresholds: checked after every second with
 * --threshold-abort, and on the final totals into the results. */
#include "run/run.h"

#include <stdio.h>
#include <stdlib.h>

/* A failure seen mid-run that the rest of the run cannot undo: counts only
 * grow, so count>1000 may still come true, count<1000 never again. */
static int final_failure(const goose_threshold *t, const goose_threshold_result *r)
{
    if (!r->measured || r->pass)
        return 0;
    if (t->kind != GOOSE_TH_COUNT && t->kind != GOOSE_TH_FAILS)
        return 1;
    return t->op == GOOSE_TH_LT || t->op == GOOSE_TH_LE ||
           (t->op == GOOSE_TH_EQ && r->observed > t->limit);
}

int goose__thresholds_abort_due(goose_attack *a, double secs, double at_s)
{
    goose_results *res = &a->results;
    goose_hist *scratch = goose__hists_new(1);
    goose_threshold_result r;
    int due = 0;
    for (size_t i = 0; scratch && !due && i < a->opt.nthresholds; i++) {
        const goose_threshold *t = &a->opt.thresholds[i];
        goose__threshold_check(t, &res->totals, res->txs, res->ntxs, secs, scratch, &r);
        if (!(due = final_failure(t, &r)))
            continue;
        char seen[32];
        goose__threshold_format(t, r.observed, seen, sizeof seen);
        res->aborted = 1;
        res->aborted_by = i;
        res->aborted_at_s = at_s;
        res->aborted_observed = r.observed;
        goose__log(a, GOOSE_LOG_WARN, "threshold %s failed: %s is %s after %.1fs measured; "
                   "stopping the test (--threshold-abort)", t->expr, t->metric, seen, secs);
    }
    goose__hists_delete(scratch, 1);
    return due;
}

int goose__thresholds_evaluate(goose_attack *a)
{
    goose_results *res = &a->results;
    size_t n = a->opt.nthresholds;
    if (!n)
        return GOOSE_OK;
    goose_hist *scratch = goose__hists_new(1);
    res->thresholds = calloc(n, sizeof *res->thresholds);
    if (!scratch || !res->thresholds) {
        goose__hists_delete(scratch, 1);
        return goose__fail(a, GOOSE_ENOMEM, "out of memory");
    }
    for (; res->nthresholds < n; res->nthresholds++) {
        goose_threshold_result *r = &res->thresholds[res->nthresholds];
        if (goose__threshold_copy(&r->t, &a->opt.thresholds[res->nthresholds]) < 0) {
            goose__hists_delete(scratch, 1);
            return goose__fail(a, GOOSE_ENOMEM, "out of memory");
        }
        goose__threshold_check(&r->t, &res->totals, res->txs, res->ntxs, res->duration_s,
                               scratch, r);
    }
    goose__hists_delete(scratch, 1);
    if (res->aborted && res->aborted_by < n) {
        /* it failed when it stopped the run, whatever the end looks like */
        goose_threshold_result *r = &res->thresholds[res->aborted_by];
        char seen[32];
        goose__threshold_format(&r->t, res->aborted_observed, seen, sizeof seen);
        r->pass = 0;
        r->aborted = 1;
        snprintf(r->reason, sizeof r->reason, "stopped the run at %.1fs, when %s was %s",
                 res->aborted_at_s, r->t.metric, seen);
    }
    return GOOSE_OK;
}

int goose__thresholds_verdict(goose_attack *a, int rc)
{
    const goose_results *res = &a->results;
    size_t failed = 0;
    char list[400] = "";
    size_t len = 0;
    if (rc != GOOSE_OK)
        return rc;
    for (size_t i = 0; i < res->nthresholds; i++) {
        if (res->thresholds[i].pass)
            continue;
        if (len < sizeof list)
            len += (size_t)snprintf(list + len, sizeof list - len, "%s%s", failed ? ", " : "",
                                    res->thresholds[i].t.expr);
        failed++;
    }
    if (!failed)
        return GOOSE_OK;
    return goose__fail(a, GOOSE_ETHRESHOLD, "%s%zu of %zu thresholds failed: %s",
                       res->aborted ? "stopped by --threshold-abort; " : "", failed,
                       res->nthresholds, list);
}

int goose__lost_verdict(goose_attack *a, int rc)
{
    const goose_results *r = &a->results;
    if (rc != GOOSE_OK || !r->valid || !goose__results_lost(r))
        return rc;
    return goose__fail(a, GOOSE_EFAILED,
                       "metrics incomplete: %llu samples lost (out of memory): "
                       "%llu requests missing from the totals",
                       (unsigned long long)goose__results_lost(r),
                       (unsigned long long)r->totals.lost);
}
