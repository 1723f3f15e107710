/* Responses: what a user reads, and the moment a request's metric becomes
 * final (when the response is freed, or when its transaction returns).
 * The user holds a handle (goose_response) on a reply (goose_reply): the
 * replies are recycled at once, the handles only once the transaction that
 * freed them returned, so a handle freed twice is refused. */
#include "engine/engine.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coro/coro.h"

/* The stats count protocol p in slot p - 1 (metrics/stats.h). */
_Static_assert(GOOSE_PROTO_COUNT == GOOSE_HTTP_PROTOCOLS + 1, "a stats slot per protocol");

/* Spare handles a user keeps across transactions (24 bytes each): more
 * are freed when a transaction that made more requests returns. */
#define SPARE_HANDLES_MAX 1024

/* Logged errors about responses misused by a transaction, per run: a
 * double free in a loop must not flood the log. */
#define MISUSE_LOGGED_MAX 5

goose_reply *goose__response_get(goose_user *u)
{
    goose_reply *r = u->spare;
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
        goose__buf_init(&r->fields);
        goose__buf_init(&r->field_at);
        goose__http_capture_init(&r->capture);
    }
    r->user = u;
    r->handle = NULL;
    r->status = 0;
    r->result = GOOSE_TE_OK;
    r->elapsed_us = 0;
    r->nexpected = 0;
    r->recorded = 0;
    r->any_protocol = 0;
    r->not_sent = 0;
    r->fields_parsed = 0;
    goose__buf_clear(&r->method);
    goose__buf_clear(&r->name);
    goose__buf_clear(&r->failure);
    goose__buf_clear(&r->url);
    goose__http_capture_reset(&r->capture);
    r->next = u->open;
    u->open = r;
    return r;
}

static int status_expected(const goose_reply *r)
{
    for (size_t i = 0; i < r->nexpected; i++)
        if (r->expected[i] == r->status)
            return 1;
    return 0;
}

/* The failure text of a response, or NULL when it succeeded. */
static const char *failure_of(goose_reply *r)
{
    char *tmp = r->why;
    size_t len = sizeof r->why;
    if (r->failure.len)
        return r->failure.data;
    if (r->result != GOOSE_TE_OK)
        return r->capture.errbuf[0] ? r->capture.errbuf : goose__terr_text(r->result);
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
static void backfill(goose_reply *r)
{
    goose_user *u = r->user;
    goose_req_stat *q = goose__stats_request(&u->thread->local, r->method.data,
                                             r->name.data);
    if (!q || goose__stats_backfill(q, u->cadence.stall_us, u->cadence.expected_us,
                                    r->elapsed_us) < 0)
        u->thread->local.lost_details++; /* out of memory: said in the report */
}

void goose__response_finalize(goose_reply *r)
{
    if (r->recorded || r->not_sent)
        return;
    const char *why = failure_of(r);
    goose__stats_record_bytes(&r->user->thread->local, r->method.data, r->name.data,
                              r->status, r->elapsed_us, why, r->capture.body_seen,
                              r->any_protocol ? GOOSE_PROTOCOL_OTHER + 1
                                              : (unsigned)r->capture.protocol);
    if (r->user->cadence.stall_us && r->user->phase == GOOSE_PHASE_LOOP)
        backfill(r);
    const goose_run_config *cfg = &r->user->thread->engine->cfg;
    if (cfg->log_sinks[GOOSE_LOGFILE_REQUESTS] || (why && cfg->log_sinks[GOOSE_LOGFILE_ERRORS]))
        goose__log_request(r->user, r, why);
    r->recorded = 1;
}

static void unlink_open(goose_reply *r)
{
    for (goose_reply **p = &r->user->open; *p; p = &(*p)->next) {
        if (*p == r) {
            *p = r->next;
            return;
        }
    }
}

/* The handle is out of use until the transaction returns. */
static void release_handle(goose_user *u, goose_response *h)
{
    h->reply = NULL;
    u->nfreed++;
    h->next = u->freed;
    if (!u->freed)
        u->freed_first = h;
    u->freed = h;
}

/* Keeps a few freed replies so a request costs no allocation. */
void goose__response_recycle(goose_reply *r)
{
    goose_user *u = r->user;
    goose__response_finalize(r);
    unlink_open(r);
    if (r->handle)
        release_handle(u, r->handle);
    r->handle = NULL;
    if (r->capture.body.cap > 256 * 1024)
        goose__buf_free(&r->capture.body);
    goose__reading_free(r->reading);
    r->reading = NULL;
    r->next = u->spare;
    u->spare = r;
}

goose_response *goose__response_hand_out(goose_reply *r)
{
    if (!r)
        return NULL;
    goose_user *u = r->user;
    goose_response *h = u->handles;
    if (h) {
        u->handles = h->next;
        u->nhandles--;
    } else if (!(h = malloc(sizeof *h))) {
        goose__response_recycle(r);
        return NULL;
    }
    h->user = u;
    h->reply = r;
    h->next = NULL;
    r->handle = h;
    return h;
}

/* The handles freed by the transaction become spares (the oldest are
 * handed out first), and the spares beyond the bound are freed. */
static void reuse_freed_handles(goose_user *u)
{
    if (!u->freed)
        return;
    if (u->handles)
        u->handles_last->next = u->freed;
    else
        u->handles = u->freed;
    u->handles_last = u->freed_first;
    u->nhandles += u->nfreed;
    u->freed = u->freed_first = NULL;
    u->nfreed = 0;
    while (u->nhandles > SPARE_HANDLES_MAX) {
        goose_response *h = u->handles;
        u->handles = h->next;
        u->nhandles--;
        free(h);
    }
}

void goose__responses_close(goose_user *u)
{
    while (u->open)
        goose__response_recycle(u->open);
    reuse_freed_handles(u);
}

void goose__responses_free_spares(goose_user *u)
{
    while (u->spare) {
        goose_reply *r = u->spare;
        u->spare = r->next;
        goose__buf_free(&r->method);
        goose__buf_free(&r->name);
        goose__buf_free(&r->failure);
        goose__buf_free(&r->scratch);
        goose__buf_free(&r->url);
        goose__buf_free(&r->fields);
        goose__buf_free(&r->field_at);
        goose__http_capture_free(&r->capture);
        free(r);
    }
    reuse_freed_handles(u);
    while (u->handles) {
        goose_response *h = u->handles;
        u->handles = h->next;
        free(h);
    }
    u->nhandles = 0;
}

/* A transaction misused a response (or a batch): said through the
 * attack's log, the first few times of a run. */
void goose__response_misuse(goose_user *u, const char *what)
{
    goose_engine *e = u->thread->engine;
    unsigned n = atomic_fetch_add(&e->misuse, 1);
    if (!e->cfg.log_fn || n > MISUSE_LOGGED_MAX)
        return;
    char line[320];
    if (n == MISUSE_LOGGED_MAX)
        snprintf(line, sizeof line, "more misuse of responses is not logged");
    else
        snprintf(line, sizeof line, "%s (user %u, transaction \"%s\"): ignored", what,
                 goose_user_index(u), u->tx ? u->tx->name : "?");
    e->cfg.log_fn(e->cfg.log_arg, GOOSE_LOG_ERROR, line);
}

static void misuse(const goose_response *h, const char *what)
{
    goose__response_misuse(h->user, what);
}

/* The reply of a handle its own user's transaction may change, or NULL
 * (after logging why). */
static goose_reply *own_reply(goose_response *h, const char *fn)
{
    char what[160];
    if (!h->reply) {
        snprintf(what, sizeof what, "%s: the response was already freed (a double free "
                 "or a use after free)", fn);
        misuse(h, what);
        return NULL;
    }
    if (!goose__coro_running(h->user->coro)) {
        snprintf(what, sizeof what, "%s: the response belongs to another user", fn);
        misuse(h, what);
        return NULL;
    }
    return h->reply;
}

goose_reply *goose__response_own(goose_response *h, const char *fn)
{
    return own_reply(h, fn);
}

int goose_response_status(const goose_response *h)
{
    return h && h->reply ? h->reply->status : 0;
}

const char *goose_response_body(const goose_response *h, size_t *len)
{
    const goose_reply *r = h ? h->reply : NULL;
    if (!r) {
        if (len)
            *len = 0;
        return NULL;
    }
    if (len)
        *len = r->capture.body.len;
    return r->capture.body.data ? r->capture.body.data : "";
}

const char *goose_response_header(const goose_response *h, const char *name)
{
    goose_reply *r = h ? h->reply : NULL; /* the scratch is a cache */
    if (!r || !name || !*name)
        return NULL;
    return goose__http_header(&r->capture.headers, name, &r->scratch);
}

const char *goose_response_error(const goose_response *h)
{
    if (!h)
        return "no response";
    goose_reply *r = h->reply; /* why[] is a cache */
    if (!r)
        return "the response was freed";
    if (r->not_sent)
        return r->capture.errbuf;
    return failure_of(r);
}

long long goose_response_time_us(const goose_response *h)
{
    return h && h->reply ? (long long)h->reply->elapsed_us : 0;
}

int goose_response_set_failure(goose_response *h, const char *why)
{
    if (!h)
        return GOOSE_EINVAL;
    goose_reply *r = own_reply(h, "goose_response_set_failure");
    if (!r || r->recorded)
        return GOOSE_ESTATE;
    goose__buf_clear(&r->failure);
    if (goose__buf_adds(&r->failure, why && *why ? why : "marked as failed") < 0)
        return GOOSE_ENOMEM;
    return GOOSE_OK;
}

void goose_response_free(goose_response *h)
{
    goose_reply *r = h ? own_reply(h, "goose_response_free") : NULL;
    if (r)
        goose__response_recycle(r);
}
