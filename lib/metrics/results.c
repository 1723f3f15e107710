/* The results of a run. */
#include "metrics/results.h"

#include <stdlib.h>
#include <string.h>

void goose__results_free(goose_results *r)
{
    goose__stats_free(&r->totals);
    free(r->phases);
    free(r->load.test_plan);
    free(r->load.arrival_plan);
    free(r->series.users);
    free(r->series.rps);
    free(r->series.p50_us);
    free(r->series.p95_us);
    free(r->series.p99_us);
    free(r->series.fails);
    for (size_t i = 0; i < r->series.nkeys; i++) {
        free(r->series.keys[i].method);
        free(r->series.keys[i].name);
        free(r->series.keys[i].counts);
    }
    free(r->series.keys);
    free(r->series.key_slots);
    for (size_t i = 0; i < r->ntxs; i++) {
        free((char *)r->txs[i].scenario);
        free((char *)r->txs[i].name);
    }
    free(r->txs);
    for (size_t i = 0; i < r->nscenarios; i++) {
        free(r->scenario_names[i]);
        free(r->hosts[i]);
    }
    free(r->scenario_names);
    free(r->hosts);
    free(r->scenario_users);
    free(r->workers);
    for (size_t i = 0; i < r->nthresholds; i++)
        goose__threshold_free(&r->thresholds[i].t);
    free(r->thresholds);
    memset(r, 0, sizeof *r);
}

uint64_t goose__results_lost(const goose_results *r)
{
    return r->totals.lost + r->totals.lost_details + r->series_lost;
}
