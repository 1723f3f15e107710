/* Thresholds: "[KEY:]METRIC OP VALUE" (--threshold, see goose(7)), parsed
 * and checked against a run's totals. */
#ifndef GOOSE_METRICS_THRESHOLD_H
#define GOOSE_METRICS_THRESHOLD_H

#include <stddef.h>

#include "metrics/stats.h"

typedef enum goose_th_metric {
    GOOSE_TH_PERCENTILE,
    GOOSE_TH_MIN,
    GOOSE_TH_MAX,
    GOOSE_TH_AVG,
    GOOSE_TH_COUNT,
    GOOSE_TH_FAILS,
    GOOSE_TH_FAIL_RATE,
    GOOSE_TH_RPS
} goose_th_metric;

typedef enum goose_th_op {
    GOOSE_TH_LT,
    GOOSE_TH_LE,
    GOOSE_TH_GT,
    GOOSE_TH_GE,
    GOOSE_TH_EQ,
    GOOSE_TH_NE
} goose_th_op;

typedef struct goose_threshold {
    char *expr;             /* as given, trimmed */
    char *key;              /* a request or transaction; NULL: every request */
    char metric[16];        /* "p95", "p99.9", "avg", "fail_rate", ... */
    goose_th_metric kind;
    double quantile;        /* of a percentile, in (0, 1] */
    goose_th_op op;
    double limit;           /* us for times, a fraction for fail_rate */
} goose_threshold;

/* A threshold as the end of a run found it. */
typedef struct goose_threshold_result {
    goose_threshold t;      /* a copy: the report outlives option changes */
    int measured;           /* 0: nothing to measure, see reason */
    double observed;        /* in the unit of t.limit */
    int pass;
    int aborted;            /* it stopped the run (--threshold-abort) */
    char reason[200];       /* why it failed without a measurement, or the abort */
} goose_threshold_result;


/* threshold.c */
int goose__threshold_parse(const char *expr, goose_threshold *out, char *err,
                           size_t errlen);
int goose__threshold_copy(goose_threshold *dst, const goose_threshold *src);
void goose__threshold_free(goose_threshold *t);
/* t against s, the totals of secs measured seconds; scratch: any histogram. */
void goose__threshold_check(const goose_threshold *t, const goose_stats *s,
                            const goose_tx_info *txs, size_t ntxs, double secs,
                            goose_hist *scratch, goose_threshold_result *out);
const char *goose__threshold_op(goose_th_op op);
/* The unit of limit and observed: "us", "fraction", "count" or "per_s". */
const char *goose__threshold_unit(const goose_threshold *t);
/* A value for people: "212.4ms", "1.5%", "1234", "523.1/s". */
void goose__threshold_format(const goose_threshold *t, double v, char *out, size_t len);

#endif
