/* The run's live counters in the Prometheus text format (--metrics-listen
 * serves the page). */
#include "report/report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/escape.h"

/* Prometheus's default buckets, in seconds. */
static const double BUCKETS[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
#define NBUCKETS (sizeof BUCKETS / sizeof BUCKETS[0])

static void label(goose_buf *b, const char *key, const char *value)
{
    goose__buf_printf(b, "%s=", key);
    goose__buf_json_str(b, value); /* the same escaping: \\ \" and \n */
}

static void labels(goose_buf *b, const goose_req_stat *q)
{
    goose__buf_adds(b, "{");
    label(b, "method", q->method);
    goose__buf_adds(b, ",");
    label(b, "name", q->name);
}

static void histogram(goose_buf *b, const goose_req_stat *q)
{
    for (size_t i = 0; i < NBUCKETS; i++) {
        goose__buf_adds(b, "goose_response_time_seconds_bucket");
        labels(b, q);
        goose__buf_printf(b, ",le=\"%g\"} %llu\n", BUCKETS[i],
                          (unsigned long long)goose__hist_count_upto(&q->hist,
                                                                     (uint64_t)(BUCKETS[i] * 1e6)));
    }
    goose__buf_adds(b, "goose_response_time_seconds_bucket");
    labels(b, q);
    goose__buf_printf(b, ",le=\"+Inf\"} %llu\n", (unsigned long long)q->hist.count);
    goose__buf_adds(b, "goose_response_time_seconds_sum");
    labels(b, q);
    goose__buf_printf(b, "} %.6f\n", (double)q->hist.sum / 1e6);
    goose__buf_adds(b, "goose_response_time_seconds_count");
    labels(b, q);
    goose__buf_printf(b, "} %llu\n", (unsigned long long)q->hist.count);
}

static void request_counters(goose_buf *b, const goose_stats *s)
{
    goose__buf_adds(b, "# HELP goose_requests_total Requests answered or failed.\n"
                       "# TYPE goose_requests_total counter\n");
    for (size_t i = 0; i < s->nreqs; i++) {
        goose__buf_adds(b, "goose_requests_total");
        labels(b, s->reqs[i]);
        goose__buf_printf(b, "} %llu\n", (unsigned long long)goose__req_count(s->reqs[i]));
    }
    goose__buf_adds(b, "# HELP goose_request_failures_total Requests counted as failures.\n"
                       "# TYPE goose_request_failures_total counter\n");
    for (size_t i = 0; i < s->nreqs; i++) {
        goose__buf_adds(b, "goose_request_failures_total");
        labels(b, s->reqs[i]);
        goose__buf_printf(b, "} %llu\n", (unsigned long long)s->reqs[i]->fail);
    }
    goose__buf_adds(b, "# HELP goose_responses_total Responses by status code.\n"
                       "# TYPE goose_responses_total counter\n");
    for (size_t i = 0; i < s->nreqs; i++) {
        const goose_req_stat *q = s->reqs[i];
        for (size_t j = 0; j < q->nstatuses; j++) {
            goose__buf_adds(b, "goose_responses_total");
            labels(b, q);
            goose__buf_printf(b, ",status=\"%d\"} %llu\n", q->statuses[j].status,
                              (unsigned long long)q->statuses[j].count);
        }
    }
    goose__buf_adds(b, "# HELP goose_requests_by_protocol_total Requests answered, by the "
                       "protocol of the answer.\n"
                       "# TYPE goose_requests_by_protocol_total counter\n");
    for (size_t i = 0; i < s->nreqs; i++) {
        const goose_req_stat *q = s->reqs[i];
        for (size_t p = 0; p < GOOSE_PROTOCOLS; p++) {
            if (!q->protocols[p])
                continue;
            goose__buf_adds(b, "goose_requests_by_protocol_total");
            labels(b, q);
            goose__buf_printf(b, ",protocol=\"%s\"} %llu\n", goose__protocol_names[p],
                              (unsigned long long)q->protocols[p]);
        }
    }
    goose__buf_adds(b, "# HELP goose_response_time_seconds Response times.\n"
                       "# TYPE goose_response_time_seconds histogram\n");
    for (size_t i = 0; i < s->nreqs; i++)
        histogram(b, s->reqs[i]);
}

char *goose__metrics_render(const goose_stats *s, size_t users, const char *phase)
{
    static const char *const phases[] = {"increase", "maintain", "decrease"};
    goose_buf b;
    goose__buf_init(&b);
    request_counters(&b, s);
    goose__buf_printf(&b, "# HELP goose_metrics_lost_total Requests the totals miss: memory "
                          "ran out.\n# TYPE goose_metrics_lost_total counter\n"
                          "goose_metrics_lost_total %llu\n", (unsigned long long)s->lost);
    goose__buf_printf(&b, "# HELP goose_users Users running now.\n"
                          "# TYPE goose_users gauge\ngoose_users %zu\n", users);
    goose__buf_adds(&b, "# HELP goose_phase The phase of the run (1 for the current one).\n"
                        "# TYPE goose_phase gauge\n");
    for (size_t i = 0; i < 3; i++)
        goose__buf_printf(&b, "goose_phase{phase=\"%s\"} %d\n", phases[i],
                          strcmp(phase, phases[i]) == 0);
    return goose__buf_steal(&b);
}
