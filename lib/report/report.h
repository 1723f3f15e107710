/* The reports of a run: console text, JSON, Markdown, HTML, CSV, the
 * Prometheus page, and the comparison with a baseline. */
#ifndef GOOSE_REPORT_REPORT_H
#define GOOSE_REPORT_REPORT_H

#include <goose.h>

#include "config/options.h"
#include "metrics/results.h"

typedef struct goose_baseline goose_baseline;

/* What a report shows besides the results: how the run was configured. */
typedef struct goose_report_ctx {
    const goose_options *opt;
    const goose_baseline *baseline; /* --baseline-file, or NULL */
} goose_report_ctx;

/* report/baseline.c: --baseline-file, set against this run. */
typedef struct goose_compare {
    const char *method;
    const char *name;
    int in_baseline;
    int in_run;
    uint64_t then_count, now_count;
    double then_rps, now_rps;
    double then_p95_ms, now_p95_ms;
    double then_fail_pct, now_fail_pct;
    char count_change[24];   /* "+12.5%", "new", "gone", ... */
    char rps_change[24];
    char p95_change[24];
} goose_compare;

/* GOOSE_ECONFIG and a one-line message in err when the file is not a
 * libgoose JSON report. */
int goose__baseline_load(const char *path, goose_baseline **out, char *err, size_t errlen);
void goose__baseline_free(goose_baseline *b);
const char *goose__baseline_file(const goose_baseline *b);
/* One row per request key of either; *out is freed by the caller. */
size_t goose__baseline_compare(const goose_results *r, const goose_baseline *b,
                               goose_compare **out);


/* prometheus.c: the page --metrics-listen serves */
char *goose__metrics_render(const goose_stats *s, size_t users, const char *phase);

/* The reports of a run, rendered from its results. */
typedef char *(*goose_renderer)(const goose_results *r, const goose_report_ctx *ctx);
char *goose__report_text(const goose_results *r, const goose_report_ctx *ctx);
char *goose__report_json(const goose_results *r, const goose_report_ctx *ctx);
char *goose__report_markdown(const goose_results *r, const goose_report_ctx *ctx);
char *goose__report_html(const goose_results *r, const goose_report_ctx *ctx);
char *goose__report_csv(const goose_results *r, const goose_report_ctx *ctx);
char *goose__report_csv_history(const goose_results *r, const goose_report_ctx *ctx);
char *goose__report_csv_thresholds(const goose_results *r, const goose_report_ctx *ctx);
char *goose__report_csv_tx_errors(const goose_results *r, const goose_report_ctx *ctx);
char *goose__report_running(const goose_stats *s,
                            double elapsed_s, size_t users);

#endif
