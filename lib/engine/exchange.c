/* One HTTP exchange of a user: the cookies that go with it, and the
 * transport that carries it -- the first row of the transport table
 * (http/transport.h) that takes the request.  Every transport shares the
 * user's cookie jar.  The user's coroutine waits in here until the answer
 * (or the error) is in. */
#include "engine/engine.h"

#include <stddef.h>
#include <string.h>
#include <time.h>

#include "util/clock.h"

/* The capture is its reply's, and the reply knows the lane that waits
 * for it.  A connection is free now: the lanes waiting for one go first
 * (in the order they came), then the lane whose request ended. */
static void on_done(void *arg, goose_http_capture *capture, goose_terr result, uint64_t done_us)
{
    goose_user *u = arg;
    goose_reply *r = (goose_reply *)((char *)capture - offsetof(goose_reply, capture));
    goose_lane *l = r->lane;
    l->result = result;
    l->done_us = done_us;
    if (u->waiters)
        goose__lanes_retry(u);
    if (!l->coro)
        goose__user_resume(u);
    else
        goose__batch_resume(l);
}

/* Cookies belong to the host the request names: a Host header of the
 * request's own (a virtual host tested by address) wins over the URL's. */
static int cookie_scope(goose_user *u, const goose_http_request *req,
                        const goose_url_parts *url)
{
    goose_url_parts scope = *url;
    size_t len;
    const char *host = goose__http_list_value(req->headers, "Host", &len);
    if (host && len) {
        int bracketed = host[0] == '[';
        const char *end = bracketed ? memchr(host, ']', len) : memchr(host, ':', len);
        scope.host = host + bracketed;
        scope.host_len = end ? (size_t)(end - scope.host) : len - (size_t)bracketed;
    }
    return goose__url_cookie_scope(&scope, &u->cookie_host, &u->cookie_path);
}

/* The Cookie header value for this request, or NULL (also when the
 * request sets its own Cookie header: that one is sent alone). */
static const char *cookies_for(goose_lane *l, const goose_http_request *req,
                               const goose_url_parts *url)
{
    goose_user *u = l->user;
    size_t len;
    if (goose__cookies_empty(&u->cookies) || goose__http_list_value(req->headers, "Cookie", &len) ||
        cookie_scope(u, req, url) < 0)
        return NULL;
    goose__buf_clear(&l->cookie_value);
    int n = goose__cookies_header(&u->cookies, u->cookie_host.data, u->cookie_path.data,
                                  url->secure, (long long)time(NULL), &l->cookie_value);
    return n > 0 ? l->cookie_value.data : NULL;
}

static void keep_cookies(goose_user *u, const goose_http_request *req,
                         const goose_url_parts *url, const goose_http_capture *c)
{
    const goose_buf *headers = &c->headers;
    if (!c->set_cookie || cookie_scope(u, req, url) < 0)
        return;
    goose__cookies_store_headers(&u->cookies, u->cookie_host.data, u->cookie_path.data,
                                 url->secure, headers->data, headers->len,
                                 (long long)time(NULL));
}

/* The user's state of row i, made when first needed; NULL out of memory. */
static void *user_state(goose_user *u, size_t i)
{
    goose_thread *t = u->thread;
    if (!u->transport[i])
        u->transport[i] = goose__transports[i]->user_new(t->engine->transport[i],
                                                         t->transport[i], t->base, u->index,
                                                         on_done, u);
    return u->transport[i];
}

/* Starts the request on the first row that takes it and can carry it: a
 * row that cannot (no memory for the user's state, or a start refused
 * before anything went out) leaves it to the next, as the own client
 * always left what it could not carry to libcurl.  GOOSE_TE_NOT_SENT with
 * why in *why when no row sent it. */
static goose_terr start(goose_user *u, const goose_http_request *req,
                        goose_http_capture *capture, const char **why)
{
    void *const *run = u->thread->engine->transport;
    *why = "no transport takes this URL";
    for (size_t i = 0; i < GOOSE_TRANSPORTS; i++) {
        if (!goose__transports[i]->takes(run[i], u->transport[i], req))
            continue;
        void *state = user_state(u, i);
        if (!state) {
            *why = "out of memory";
            continue;
        }
        goose_terr rc = goose__transports[i]->start(state, req, capture);
        if (rc != GOOSE_TE_NOT_SENT)
            return rc;
        *why = capture->errbuf;
    }
    return GOOSE_TE_NOT_SENT;
}

/* Every connection the row may use for the user is busy (a batch): the
 * lane waits its turn until one of the user's requests ends.  0 when it
 * may try again; -1 when the test stopped meanwhile. */
static int await_connection(goose_lane *l)
{
    goose_user *u = l->user;
    l->next_waiter = NULL;
    if (u->waiters)
        u->waiters_last->next_waiter = l;
    else
        u->waiters = l;
    u->waiters_last = l;
    *l->waiting = GOOSE_WAIT_CONN;
    goose__coro_yield();
    return goose__user_stopping(u) && u->phase != GOOSE_PHASE_STOP ? -1 : 0;
}

const char *goose__exchange(goose_lane *l, goose_reply *r, goose_http_request *req)
{
    goose_user *u = l->user;
    goose_url_parts url;
    int split = goose__url_split(req->url, &url) == 0;
    req->parts = split ? &url : NULL;
    req->cookie = split ? cookies_for(l, req, &url) : NULL;
    const char *why;
    r->lane = l;
    goose_terr rc;
    while ((rc = start(u, req, &r->capture, &why)) == GOOSE_TE_BUSY) {
        if (await_connection(l) < 0) {
            u->stopping_tx = 1;
            rc = GOOSE_TE_NOT_SENT;
            why = "the load test is stopping: request not sent";
            break;
        }
        /* its time starts when a connection takes it (k6's "blocked" time
           is not its duration), with the cookies the jar holds by then */
        r->sent_us = goose__now_us();
        req->cookie = split ? cookies_for(l, req, &url) : NULL;
    }
    if (rc == GOOSE_TE_NOT_SENT) {
        req->parts = NULL; /* it pointed here */
        return why;
    }
    if (rc == GOOSE_TE_AGAIN) {
        *l->waiting = GOOSE_WAIT_HTTP;
        goose__coro_yield();
    } else {
        l->result = rc;
        l->done_us = goose__now_us();
        goose__lane_pass_turn(l);
    }
    req->parts = NULL; /* it pointed here */
    r->status = l->result == GOOSE_TE_OK ? r->capture.status : 0;
    if (split && l->result == GOOSE_TE_OK)
        keep_cookies(u, req, &url, &r->capture);
    return NULL;
}
