/* The reports of a run: console text, JSON, Markdown, HTML, CSV, the
 * Prometheus page, and the comparison with a baseline. */
#ifndef GOOSE_REPORT_REPORT_H
#define GOOSE_REPORT_REPORT_H

#include "config/attack.h"

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

int goose__baseline_load(goose_attack *a, goose_baseline **out);
void goose__baseline_free(goose_baseline *b);
const char *goose__baseline_file(const goose_baseline *b);
/* One row per request key of either; *out is freed by the caller. */
size_t goose__baseline_compare(const goose_attack *a, goose_compare **out);


/* prometheus.c: the page --metrics-listen serves */
char *goose__metrics_render(const goose_stats *s, size_t users, const char *phase);

/* report/: console text and JSON of the last run. */
char *goose__report_text(const goose_attack *a);
char *goose__report_json(const goose_attack *a);
char *goose__report_markdown(const goose_attack *a);
char *goose__report_html(const goose_attack *a);
char *goose__report_csv(const goose_attack *a);
char *goose__report_csv_history(const goose_attack *a);
char *goose__report_csv_thresholds(const goose_attack *a);
char *goose__report_running(const goose_attack *a, const goose_stats *s,
                            double elapsed_s, size_t users);
int goose__report_write_files(goose_attack *a);

#endif
