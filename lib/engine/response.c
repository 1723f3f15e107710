/* Responses: what a user reads, and the moment a request's metric becomes
 * final (when the response is freed, or when its transaction returns). */
#include "engine/engine.h"

#include <stdlib.h>
#include <string.h>

goose_response *goose__response_get(goose_user *u)
{
    goose_response *r = u->spare;
    if (r) {
        u->spare = r->next;
    } else {
        r = calloc(1, sizeof *r);
        if (!r)
            return NULL;
        goose__buf_init(&r->method);
        goose__buf_init(&r->name);
        goose__buf_init(&r->failure);
        goose__buf_init(&r->scratch);
        goose__buf_init(&r->url);
        goose__http_capture_init(&r->capture);
    }
    r->user = u;
    r->status = 0;
    r->result = CURLE_OK;
    r->elapsed_us = 0;
    r->nexpected = 0;
    r->recorded = 0;
    r->not_sent = 0;
    r->live = 1;
    goose__buf_clear(&r->method);
    goose__buf_clear(&r->name);
    goose__buf_clear(&r->failure);
    goose__buf_clear(&r->url);
    goose__http_capture_reset(&r->capture);
    r->next = u->open;
    u->open = r;
    return r;
}

static int status_expected(const goose_response *r)
{
    for (size_t i = 0; i < r->nexpected; i++)
        if (r->expected[i] == r->status)
            return 1;
    return 0;
}

/* The failure text of a response, or NULL when it succeeded. */
static const char *failure_of(goose_response *r)
{
    char *tmp = r->why;
    size_t len = sizeof r->why;
    if (r->failure.len)
        return r->failure.data;
    if (r->result != CURLE_OK)
        return r->capture.errbuf[0] ? r->capture.errbuf
                                    : curl_easy_strerror(r->result);
    if (r->nexpected) {
        if (status_expected(r))
            return NULL;
        snprintf(tmp, len, "unexpected status %d (expected %d)", r->status,
                 r->expected[0]);
        return tmp;
    }
    if (r->status >= 400) {
        snprintf(tmp, len, "%d %s", r->status, goose__http_reason(r->status));
        return tmp;
    }
    return NULL;
}

/* The pass after a stall: this request stands for those the stall kept
 * from being sent (coordinated omission mitigation, goose(7)). */
static void backfill(goose_response *r)
{
    goose_user *u = r->user;
    goose_req_stat *q = goose__stats_request(&u->thread->local, r->method.data,
                                             r->name.data);
    if (!q || goose__stats_backfill(q, u->cadence.stall_us, u->cadence.expected_us,
                                    r->elapsed_us) < 0)
        u->thread->local.lost_details++; /* out of memory: said in the report */
}

void goose__response_finalize(goose_response *r)
{
    if (r->recorded || r->not_sent)
        return;
    const char *why = failure_of(r);
    goose__stats_record_bytes(&r->user->thread->local, r->method.data, r->name.data,
                              r->status, r->elapsed_us, why, r->capture.body_seen);
    if (r->user->cadence.stall_us && r->user->phase == GOOSE_PHASE_LOOP)
        backfill(r);
    const goose_run_config *cfg = &r->user->thread->engine->cfg;
    if (cfg->log_sinks[GOOSE_LOGFILE_REQUESTS] || (why && cfg->log_sinks[GOOSE_LOGFILE_ERRORS]))
        goose__log_request(r->user, r, why);
    r->recorded = 1;
}

static void unlink_open(goose_response *r)
{
    for (goose_response **p = &r->user->open; *p; p = &(*p)->next) {
        if (*p == r) {
            *p = r->next;
            return;
        }
    }
}

/* Keeps a few freed responses so a request costs no allocation. */
void goose__response_recycle(goose_response *r)
{
    goose_user *u = r->user;
    goose__response_finalize(r);
    unlink_open(r);
    r->live = 0;
    if (r->capture.body.cap > 256 * 1024)
        goose__buf_free(&r->capture.body);
    r->next = u->spare;
    u->spare = r;
}

void goose__responses_close(goose_user *u)
{
    while (u->open)
        goose__response_recycle(u->open);
}

void goose__responses_free_spares(goose_user *u)
{
    while (u->spare) {
        goose_response *r = u->spare;
        u->spare = r->next;
        goose__buf_free(&r->method);
        goose__buf_free(&r->name);
        goose__buf_free(&r->failure);
        goose__buf_free(&r->scratch);
        goose__buf_free(&r->url);
        goose__http_capture_free(&r->capture);
        free(r);
    }
}

int goose_response_status(const goose_response *r)
{
    return r ? r->status : 0;
}

const char *goose_response_body(const goose_response *r, size_t *len)
{
    if (!r) {
        if (len)
            *len = 0;
        return NULL;
    }
    if (len)
        *len = r->capture.body.len;
    return r->capture.body.data ? r->capture.body.data : "";
}

const char *goose_response_header(const goose_response *r, const char *name)
{
    if (!r || !name || !*name)
        return NULL;
    goose_response *rw = (goose_response *)r; /* the scratch is a cache */
    return goose__http_header(&r->capture.headers, name, &rw->scratch);
}

const char *goose_response_error(const goose_response *r)
{
    if (!r)
        return "no response";
    if (r->not_sent)
        return r->capture.errbuf;
    return failure_of((goose_response *)r); /* why[] is a cache */
}

long long goose_response_time_us(const goose_response *r)
{
    return r ? (long long)r->elapsed_us : 0;
}

int goose_response_set_failure(goose_response *r, const char *why)
{
    if (!r)
        return GOOSE_EINVAL;
    if (r->recorded)
        return GOOSE_ESTATE;
    goose__buf_clear(&r->failure);
    if (goose__buf_adds(&r->failure, why && *why ? why : "marked as failed") < 0)
        return GOOSE_ENOMEM;
    return GOOSE_OK;
}

void goose_response_free(goose_response *r)
{
    if (r && r->live)
        goose__response_recycle(r);
}
