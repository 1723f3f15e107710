/* --baseline-file: an earlier JSON report, read before the run, and each
 * request key of this run set against it in every report format (as
 * Goose's baseline does). */
#include "report/report.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct baseline_row {
    char *method;
    char *name;
    uint64_t count;
    uint64_t fail;
    double rps;
    double p95_ms;
} baseline_row;

struct goose_baseline {
    char *file;
    baseline_row *rows;
    size_t nrows;
};

void goose__baseline_free(goose_baseline *b)
{
    if (!b)
        return;
    for (size_t i = 0; i < b->nrows; i++) {
        free(b->rows[i].method);
        free(b->rows[i].name);
    }
    free(b->rows);
    free(b->file);
    free(b);
}

static int read_row(json_t *q, baseline_row *row)
{
    json_t *method = json_object_get(q, "method"), *name = json_object_get(q, "name");
    json_t *count = json_object_get(q, "count"), *fail = json_object_get(q, "fail");
    json_t *rps = json_object_get(q, "rps");
    json_t *p95 = json_object_get(json_object_get(q, "response_time_us"), "p95");
    if (!json_is_string(method) || !json_is_string(name) || !json_is_integer(count) ||
        !json_is_integer(fail) || !json_is_number(rps) || !json_is_integer(p95) ||
        json_integer_value(count) < 0 || json_integer_value(fail) < 0)
        return -1;
    row->method = strdup(json_string_value(method));
    row->name = strdup(json_string_value(name));
    row->count = (uint64_t)json_integer_value(count);
    row->fail = (uint64_t)json_integer_value(fail);
    row->rps = json_number_value(rps);
    row->p95_ms = (double)json_integer_value(p95) / 1000.0;
    return row->method && row->name ? 0 : -1;
}

static int refuse(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int refuse(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return GOOSE_ECONFIG;
}

int goose__baseline_load(const char *path, goose_baseline **out, char *err, size_t errlen)
{
    json_error_t jerr;
    *out = NULL;
    json_t *root = json_load_file(path, 0, &jerr);
    if (!root)
        return refuse(err, errlen, "--baseline-file %s: %s (line %d)", path, jerr.text,
                      jerr.line);
    json_t *requests = json_object_get(root, "requests");
    goose_baseline *b = calloc(1, sizeof *b);
    int rc = GOOSE_OK;
    if (!b || !(b->file = strdup(path)) || !json_is_array(requests) ||
        !(b->rows = calloc(json_array_size(requests) + 1, sizeof *b->rows))) {
        rc = refuse(err, errlen, "--baseline-file %s is not a libgoose JSON report", path);
        goto out;
    }
    size_t i;
    json_t *q;
    json_array_foreach(requests, i, q) {
        if (read_row(q, &b->rows[b->nrows++]) < 0) {
            rc = refuse(err, errlen, "--baseline-file %s: request %zu is not a report's "
                        "request", path, i + 1);
            goto out;
        }
    }
out:
    json_decref(root);
    if (rc != GOOSE_OK)
        goose__baseline_free(b);
    else
        *out = b;
    return rc;
}

const char *goose__baseline_file(const goose_baseline *b)
{
    return b ? b->file : NULL;
}

static const baseline_row *find(const goose_baseline *b, const char *method, const char *name)
{
    for (size_t i = 0; i < b->nrows; i++)
        if (!strcmp(b->rows[i].method, method) && !strcmp(b->rows[i].name, name))
            return &b->rows[i];
    return NULL;
}

static double fail_pct(uint64_t fail, uint64_t count)
{
    return count ? 100.0 * (double)fail / (double)count : 0;
}

/* "+12.5%", "-3.0%", "new", "gone" or "=" */
static void change(double then, double now, int in_baseline, int in_run, char *buf, size_t len)
{
    if (!in_baseline)
        snprintf(buf, len, "new");
    else if (!in_run)
        snprintf(buf, len, "gone");
    else if (then == 0)
        snprintf(buf, len, now == 0 ? "=" : "+inf");
    else
        snprintf(buf, len, "%+.1f%%", 100.0 * (now - then) / then);
}

static void describe(goose_compare *c)
{
    change((double)c->then_count, (double)c->now_count, c->in_baseline, c->in_run,
           c->count_change, sizeof c->count_change);
    change(c->then_rps, c->now_rps, c->in_baseline, c->in_run, c->rps_change,
           sizeof c->rps_change);
    change(c->then_p95_ms, c->now_p95_ms, c->in_baseline, c->in_run, c->p95_change,
           sizeof c->p95_change);
}

/* This run's keys first, in their order, then the baseline's keys this run
 * did not have. */
size_t goose__baseline_compare(const goose_results *r, const goose_baseline *b,
                               goose_compare **out)
{
    *out = NULL;
    if (!b)
        return 0;
    goose_compare *v = calloc(r->totals.nreqs + b->nrows + 1, sizeof *v);
    if (!v)
        return 0;
    size_t n = 0;
    for (size_t i = 0; i < r->totals.nreqs; i++) {
        const goose_req_stat *q = r->totals.reqs[i];
        const baseline_row *then = find(b, q->method, q->name);
        goose_compare *c = &v[n++];
        c->method = q->method;
        c->name = q->name;
        c->in_run = 1;
        c->now_count = goose__req_count(q);
        c->now_rps = r->duration_s > 0 ? (double)c->now_count / r->duration_s : 0;
        c->now_p95_ms = (double)goose__hist_percentile(&q->hist, 0.95) / 1000.0;
        c->now_fail_pct = fail_pct(q->fail, c->now_count);
        if ((c->in_baseline = then != NULL)) {
            c->then_count = then->count;
            c->then_rps = then->rps;
            c->then_p95_ms = then->p95_ms;
            c->then_fail_pct = fail_pct(then->fail, then->count);
        }
    }
    for (size_t i = 0; i < b->nrows; i++) {
        const baseline_row *then = &b->rows[i];
        if (goose__stats_find(&r->totals, then->method, then->name))
            continue;
        goose_compare *c = &v[n++];
        c->method = then->method;
        c->name = then->name;
        c->in_baseline = 1;
        c->then_count = then->count;
        c->then_rps = then->rps;
        c->then_p95_ms = then->p95_ms;
        c->then_fail_pct = fail_pct(then->fail, then->count);
    }
    for (size_t i = 0; i < n; i++)
        describe(&v[i]);
    *out = v;
    return n;
}

