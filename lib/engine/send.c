/* Building and sending requests from inside a transaction.  Sending
 * yields until the answer is in (exchange.c).  Redirects are followed
 * here, not by the HTTP client, so that every hop is counted. */
#include "engine/engine.h"

#include <ctype.h>
#include <event2/event.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/clock.h"

#define MAX_REDIRECTS 10

static int is_token(const char *s)
{
    if (!s || !*s)
        return 0;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && !strchr("!#$%&'*+-.^_`|~", *s))
            return 0;
    return 1;
}

static int has_line_break(const char *s)
{
    return strpbrk(s, "\r\n") != NULL;
}

goose_request *goose_request_new(goose_user *u, const char *method,
                                 const char *path)
{
    if (!u || !is_token(method) || !path || has_line_break(path))
        return NULL;
    goose_request *req = calloc(1, sizeof *req);
    if (!req)
        return NULL;
    req->user = u;
    req->owned = 1;
    req->method = strdup(method);
    req->path = strdup(path);
    if (!req->method || !req->path) {
        goose_request_free(req);
        return NULL;
    }
    return req;
}

void goose_request_free(goose_request *req)
{
    if (!req || !req->owned)
        return;
    free(req->method);
    free(req->path);
    free(req->name);
    free(req->body);
    goose__lines_free(&req->headers);
    free(req);
}

int goose_request_set_name(goose_request *req, const char *name)
{
    if (!req || !name || !*name)
        return GOOSE_EINVAL;
    char *copy = strdup(name);
    if (!copy)
        return GOOSE_ENOMEM;
    free(req->name);
    req->name = copy;
    return GOOSE_OK;
}

int goose_request_set_header(goose_request *req, const char *name,
                             const char *value)
{
    if (!req || !is_token(name) || !value || has_line_break(value) ||
        strcasecmp(name, "Content-Length") == 0 || strcasecmp(name, "Transfer-Encoding") == 0)
        return GOOSE_EINVAL; /* the body's framing is ours */
    goose_buf line;
    goose__buf_init(&line);
    /* "Name;" sends a header with an empty value (see goose_http_request) */
    int rc = *value ? goose__buf_printf(&line, "%s: %s", name, value)
                    : goose__buf_printf(&line, "%s;", name);
    if (rc == 0)
        rc = goose__lines_add(&req->headers, line.data);
    goose__buf_free(&line);
    return rc < 0 ? GOOSE_ENOMEM : GOOSE_OK;
}

int goose_request_set_body(goose_request *req, const void *body, size_t len)
{
    if (!req || (!body && len))
        return GOOSE_EINVAL;
    if (req->body_kind > GOOSE_BODY_RAW) { /* a form or JSON body already (request.c) */
        if (!req->refused)
            req->refused = "goose_request_set_body: the request has a form or JSON body: "
                           "request not sent";
        return GOOSE_EINVAL;
    }
    char *copy = malloc(len ? len : 1);
    if (!copy)
        return GOOSE_ENOMEM;
    if (len)
        memcpy(copy, body, len);
    free(req->body);
    req->body = copy;
    req->body_len = len;
    req->has_body = 1;
    req->body_kind = GOOSE_BODY_RAW;
    return GOOSE_OK;
}

int goose_request_expect_status(goose_request *req, int status)
{
    if (!req || status < 100 || status > 599)
        return GOOSE_EINVAL;
    if (req->nexpected == sizeof req->expected / sizeof req->expected[0])
        return GOOSE_EINVAL;
    req->expected[req->nexpected++] = status;
    return GOOSE_OK;
}

goose_response *goose_request_send(goose_request *req)
{
    if (!req)
        return NULL;
    goose_response *r = goose__response_hand_out(goose__send(req));
    goose_request_free(req);
    return r;
}

goose_response *goose_get(goose_user *u, const char *path)
{
    goose_request req = {.user = u, .method = (char *)"GET", .path = (char *)path};
    return path ? goose__response_hand_out(goose__send(&req)) : NULL;
}

goose_response *goose_post(goose_user *u, const char *path, const void *body,
                           size_t len)
{
    if (!path || (!body && len))
        return NULL;
    goose_request req = {.user = u, .method = (char *)"POST",
                         .path = (char *)path, .body = (char *)body,
                         .body_len = len, .has_body = 1};
    return goose__response_hand_out(goose__send(&req));
}

static int build_url(goose_lane *l, const char *path)
{
    goose_user *u = l->user;
    goose__buf_clear(&l->url);
    if (goose__url_is_absolute(path))
        return goose__buf_adds(&l->url, path);
    const char *host = u->base.len ? u->base.data : u->scenario->host;
    size_t hlen = strlen(host);
    while (hlen && host[hlen - 1] == '/')
        hlen--;
    if (goose__buf_add(&l->url, host, hlen) < 0)
        return -1;
    if (path[0] != '/' && goose__buf_adds(&l->url, "/") < 0)
        return -1;
    return goose__buf_adds(&l->url, path);
}

static int is_expected(const goose_request *req, int status)
{
    for (size_t i = 0; i < req->nexpected; i++)
        if (req->expected[i] == status)
            return 1;
    return 0;
}

/* A request not sent (and not counted); the thread gets a turn first,
 * so a user refused again and again cannot keep it from its loop. */
static goose_reply *refuse(goose_lane *l, goose_reply *r, const char *why)
{
    r->not_sent = 1;
    if (why != r->capture.errbuf) /* a transport's words are there already */
        snprintf(r->capture.errbuf, sizeof r->capture.errbuf, "%s", why);
    if (!goose__user_stopping(r->user))
        goose__lane_pass_turn(l);
    return r;
}

void goose__lane_init(goose_lane *l, goose_user *u)
{
    memset(l, 0, sizeof *l);
    l->user = u;
    l->waiting = &l->own_wait;
    goose__buf_init(&l->url);
    goose__buf_init(&l->path);
    goose__buf_init(&l->cookie_value);
}

void goose__lane_free(goose_lane *l)
{
    goose__buf_free(&l->url);
    goose__buf_free(&l->path);
    goose__buf_free(&l->cookie_value);
}

void goose__lane_pass_turn(goose_lane *l)
{
    if (!l->coro)
        goose__user_pass_turn(l->user);
}

/* --throttle-requests: wait for this request's slot.  0 when it may go;
 * -1 when the test stopped meanwhile.  The clock is read again after each
 * wake-up: libevent measures timers from the time it cached when this loop
 * pass began, so one may fire a little early; and when the last request
 * went late, this one waits to keep a slot's distance from it. */
/* Waits on the lane's timer until due (µs since the start); -1 when the
 * test stops meanwhile, 1 when the timer cannot be set. */
static int wait_until(goose_lane *l, uint64_t due)
{
    goose_user *u = l->user;
    goose_engine *e = u->thread->engine;
    uint64_t now = goose__now_us() - e->t0_us;
    if (goose__user_stopping(u) && u->phase != GOOSE_PHASE_STOP)
        return -1;
    uint64_t wait = due > now ? due - now : 0;
    struct timeval tv = {(time_t)(wait / 1000000), (suseconds_t)(wait % 1000000)};
    if (evtimer_add(l->timer, &tv) < 0)
        return 1;
    *l->waiting = GOOSE_WAIT_THROTTLE;
    goose__coro_yield();
    return 0;
}

/* One slot at a time per user: a batch's lanes claim theirs one after
 * another, so a stop that refuses the waiting ones leaves no claimed
 * slot behind to delay the rest of the test (slots are numbered, never
 * given back). */
int goose__lane_await_slot(goose_lane *l)
{
    goose_user *u = l->user;
    goose_engine *e = u->thread->engine;
    if (e->throttle.rate <= 0)
        return 0;
    while (u->slot_holder && u->slot_holder != l) {
        int rc = wait_until(l, u->slot_due);
        if (rc)
            return rc < 0 ? -1 : 0;
    }
    if (goose__user_stopping(u) && u->phase != GOOSE_PHASE_STOP)
        return -1; /* no slot claimed for a request the stop refuses */
    u->slot_holder = l;
    uint64_t due = goose__throttle_claim(&e->throttle, goose__now_us() - e->t0_us);
    u->slot_due = due;
    int rc = 0;
    for (;;) {
        uint64_t now = goose__now_us() - e->t0_us;
        if (due <= now && goose__throttle_pace(&e->throttle, now, &due))
            break;
        u->slot_due = due;
        if ((rc = wait_until(l, due)) != 0) {
            rc = rc < 0 ? -1 : 0;
            break;
        }
    }
    u->slot_holder = NULL;
    return rc;
}

/* One transfer: the user sleeps until the answer is in (exchange.c). */
static void transfer(goose_lane *l, goose_reply *r, goose_http_request *hreq)
{
    goose_user *u = l->user;
    l->reply = r; /* the stop timeout may abandon the user meanwhile */
    if (goose__lane_await_slot(l) < 0) {
        l->reply = NULL;
        u->stopping_tx = 1;
        refuse(l, r, "the load test is stopping: request not sent");
        return;
    }
    /* the logs, and goose_load_assets (the page's final URL) */
    if (goose__buf_adds(&r->url, hreq->url) < 0) {
        l->reply = NULL;
        refuse(l, r, "out of memory");
        return;
    }
    r->sent_us = goose__now_us(); /* later when it waits for a connection */
    l->inflight = 1;
    const char *why = goose__exchange(l, r, hreq);
    l->inflight = 0;
    l->reply = NULL;
    if (why) {
        refuse(l, r, why);
        return;
    }
    r->elapsed_us = l->done_us - r->sent_us;
    r->result = l->result;
}

static goose_reply *new_response(goose_user *u, const char *method,
                                    const char *name, const goose_request *req)
{
    goose_reply *r = goose__response_get(u);
    if (!r)
        return NULL;
    if (goose__buf_adds(&r->method, method) < 0 ||
        goose__buf_adds(&r->name, name) < 0) {
        goose__response_recycle(r);
        return NULL;
    }
    memcpy(r->expected, req->expected, sizeof r->expected);
    r->nexpected = req->nexpected;
    return r;
}

/* The next hop of a redirect, or 0 when this response is the last. */
static int follow(goose_lane *l, goose_reply *r, const goose_request *req,
                  int hops)
{
    if (r->result != GOOSE_TE_OK || r->status < 300 || r->status > 399 ||
        is_expected(req, r->status) || hops >= MAX_REDIRECTS)
        return 0;
    /* l->path holds the Location until it is resolved against the URL */
    const char *location = goose__http_header(&r->capture.headers, "Location", &l->path);
    if (!location || goose__http_resolve(l->url.data, location, &l->url) < 0)
        return 0;
    goose_url_parts next; /* the hop is named by its path and query */
    if (goose__url_split(l->url.data, &next) < 0)
        return 0;
    goose__buf_clear(&l->path);
    return (next.path_len ? goose__buf_add(&l->path, next.path, next.path_len)
                          : goose__buf_adds(&l->path, "/")) == 0;
}

/* --sticky-follow: a request for a path of the base URL that was
 * redirected makes the last hop's scheme, host and port the user's base
 * URL for its later paths (as Goose's sticky follow). */
static void stick(goose_lane *l, const goose_request *req, int hops)
{
    goose_user *u = l->user;
    if (!hops || !u->thread->engine->cfg.sticky_follow || goose__url_is_absolute(req->path))
        return;
    goose_url_parts last;
    if (goose__url_split(l->url.data, &last) < 0)
        return;
    size_t len = (size_t)(last.authority + last.authority_len - l->url.data);
    goose_buf origin;
    goose__buf_init(&origin);
    if (goose__buf_add(&origin, l->url.data, len) == 0) {
        goose__buf_free(&u->base);
        u->base = origin;
    } else {
        goose__buf_free(&origin);
    }
}

goose_reply *goose__send(goose_request *req)
{
    goose_user *u = req->user;
    if (!u || !u->coro || goose__coro_current() != u->coro)
        return NULL;
    return goose__send_on(&u->lane, req);
}

/* The request's own header lines a redirect's hop sends: credentials
 * (Authorization, Cookie) stay behind once a hop leaves the request's
 * origin, as curl and browsers leave them, and the body's Content-Type
 * once the method became GET.  -1 when out of memory. */
static int hop_headers(const goose_lines *own, int left_origin, int to_get, goose_lines *out)
{
    goose__lines_free(out);
    for (const char *line = goose__lines_next(own, NULL); line; line = goose__lines_next(own, line)) {
        if (left_origin && (goose__http_line_names(line, "Authorization") || goose__http_line_names(line, "Cookie")))
            continue;
        if (to_get && goose__http_line_names(line, "Content-Type"))
            continue;
        if (goose__lines_add(out, line) < 0)
            return -1;
    }
    return 0;
}

/* Whether the URL l now holds is of another origin than first's. */
static int left_origin(const goose_lane *l, const goose_buf *first)
{
    goose_url_parts a, b;
    return goose__url_split(first->data, &a) < 0 || goose__url_split(l->url.data, &b) < 0 ||
           !goose__url_same_origin(&a, &b);
}

goose_reply *goose__send_on(goose_lane *l, goose_request *req)
{
    goose_user *u = l->user;
    if (!req->path)
        return NULL;
    const char *name = req->name ? req->name : req->path;
    goose_reply *r = new_response(u, req->method, name, req);
    if (!r)
        return NULL;
    if (goose__user_stopping(u) && u->phase != GOOSE_PHASE_STOP) {
        u->stopping_tx = 1;
        return refuse(l, r, "the load test is stopping: request not sent");
    }
    if (req->refused) /* a builder call refused: not the request the script meant */
        return refuse(l, r, req->refused);
    if (build_url(l, req->path) < 0 || goose__request_content_type(req) < 0)
        return refuse(l, r, "out of memory");
    /* a method that defines a body gets Content-Length: 0 without one
     * (RFC 9110, 8.6): some servers answer 411 otherwise */
    if (!req->has_body && (strcmp(req->method, "POST") == 0 ||
                           strcmp(req->method, "PUT") == 0 || strcmp(req->method, "PATCH") == 0))
        req->has_body = 1;
    goose_http_request h = {
        .method = req->method, .url = l->url.data, .headers = req->headers.n ? &req->headers : NULL,
        .body = req->body, .body_len = req->body_len, .has_body = req->has_body,
        .timeout_ms = req->timeout_ms};
    goose_buf first;             /* the request's own URL, once it is redirected */
    goose_lines hop = {0};       /* its header lines a hop sends */
    int away = 0, to_get = 0;
    goose__buf_init(&first);
    for (int hops = 0;; hops++) {
        transfer(l, r, &h);
        if (r->not_sent)
            break;
        if (hops == 0 && r->status >= 300 && r->status <= 399 &&
            goose__buf_adds(&first, l->url.data) < 0)
            break; /* out of memory: the 3xx is the answer */
        if (!follow(l, r, req, hops)) {
            stick(l, req, hops);
            break;
        }
        to_get |= r->status == 303 || ((r->status == 301 || r->status == 302) && h.has_body);
        if (to_get && strcmp(h.method, "HEAD") != 0) {
            h.method = "GET";
            h.has_body = 0;
            h.body = NULL;
            h.body_len = 0;
        }
        away |= left_origin(l, &first);
        if ((away || to_get) && req->headers.n) {
            if (hop_headers(&req->headers, away, to_get && !h.has_body, &hop) < 0)
                break;
            h.headers = hop.n ? &hop : NULL;
        }
        h.url = l->url.data;
        r->nexpected = 0; /* expectations are of the last hop */
        goose__response_recycle(r);
        r = new_response(u, h.method, l->path.data, req);
        if (!r)
            break;
    }
    goose__buf_free(&first);
    goose__lines_free(&hop);
    return r;
}
