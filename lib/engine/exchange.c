/* One HTTP exchange of a user: the cookies that go with it, and the
 * client that carries it -- our own HTTP/1.1 client for plain http://
 * origins it can reach without DNS, libcurl for everything else.  Both
 * share the user's cookie jar.  The user's coroutine waits in here until
 * the answer (or the error) is in. */
#include "engine/engine.h"

#include <string.h>
#include <time.h>

#include "util/clock.h"

static void on_h1_done(void *arg, CURLcode result)
{
    goose_user *u = arg;
    u->result = result;
    u->done_us = goose__now_us();
    goose__user_resume(u);
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
static const char *cookies_for(goose_user *u, const goose_http_request *req,
                               const goose_url_parts *url)
{
    size_t len;
    if (goose__cookies_empty(&u->cookies) || goose__http_list_value(req->headers, "Cookie", &len) ||
        cookie_scope(u, req, url) < 0)
        return NULL;
    goose__buf_clear(&u->cookie_value);
    int n = goose__cookies_header(&u->cookies, u->cookie_host.data, u->cookie_path.data,
                                  url->secure, (long long)time(NULL), &u->cookie_value);
    return n > 0 ? u->cookie_value.data : NULL;
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

/* The user's connection for this URL's origin, moved to the front: the
 * one already there, else a new one, else the least recently used one
 * re-aimed.  NULL when the own client does not take the URL. */
static goose_h1 *connection_for(goose_user *u, const goose_url_parts *url)
{
    if (!goose__url_plain_path(url->path, url->path_len))
        return NULL; /* curl's, and every connection stays as it is */
    size_t i = 0;
    int serves = 0;
    while (u->h1[i] && !(serves = goose__h1_serves(u->h1[i], url)) && i < GOOSE_H1_PER_USER - 1)
        i++;
    goose_h1 *c = u->h1[i];
    if (!serves) { /* a new origin: is it the own client's? */
        goose_engine *e = u->thread->engine;
        goose_h1_origin o;
        if (!goose__h1_origin(url, &e->http, &o))
            return NULL;
        if (!c && !(c = u->h1[i] = goose__h1_new(u->thread->base, &e->http, u->index,
                                                   on_h1_done, u)))
            return NULL;
        goose__h1_aim(c, &o);
    }
    memmove(&u->h1[1], &u->h1[0], i * sizeof u->h1[0]);
    u->h1[0] = c;
    return c;
}

/* The own client, when it takes this URL: 1 with the result in u. */
static int via_h1(goose_user *u, goose_reply *r, const goose_http_request *req,
                  const goose_url_parts *url, const char *cookie)
{
    goose_h1 *c = connection_for(u, url);
    if (!c)
        return 0;
    CURLcode rc = goose__h1_send(c, req, url->path, url->path_len, cookie, &r->capture);
    if (rc == CURLE_AGAIN) {
        u->waiting = GOOSE_WAIT_HTTP;
        goose__coro_yield();
    } else {
        u->result = rc;
        u->done_us = goose__now_us();
        goose__user_pass_turn(u);
    }
    r->status = u->result == CURLE_OK ? goose__h1_status(c) : 0;
    return 1;
}

/* The request's header list with the Cookie header added; NULL when out
 * of memory. */
static struct curl_slist *with_cookie(const struct curl_slist *headers, const char *cookie)
{
    struct curl_slist *list = NULL, *l;
    for (; headers; headers = headers->next) {
        if (!(l = curl_slist_append(list, headers->data)))
            goto fail;
        list = l;
    }
    goose_buf line;
    goose__buf_init(&line);
    l = goose__buf_printf(&line, "Cookie: %s", cookie) < 0 ? NULL
                                                           : curl_slist_append(list, line.data);
    goose__buf_free(&line);
    if (l)
        return l;
fail:
    curl_slist_free_all(list);
    return NULL;
}

static int ensure_easy(goose_user *u)
{
    if (u->easy)
        return 0;
    goose_engine *e = u->thread->engine;
    if (!u->share && !(u->share = goose__http_share_new()))
        return -1;
    u->easy = goose__http_easy_new(&e->http, u, u->index, u->share);
    return u->easy ? 0 : -1;
}

/* libcurl: the handle goes to the thread's multi handle, which resumes
 * the user when the transfer is done.  NULL, or why it was not sent. */
/* curl's texts for a refused connection and a timeout carry timings;
 * both clients say them alike (see goose__http_connect_error). */
static void own_words(goose_user *u, goose_reply *r, const goose_url_parts *url)
{
    if (u->result == CURLE_COULDNT_CONNECT) {
        long err = 0;
        curl_easy_getinfo(u->easy, CURLINFO_OS_ERRNO, &err);
        goose__http_connect_error(&r->capture, url->authority, url->authority_len, (int)err);
    } else if (u->result == CURLE_OPERATION_TIMEDOUT && u->thread->engine->http.timeout_ms > 0) {
        goose__http_timeout_error(&r->capture, u->thread->engine->http.timeout_ms);
    }
}

static const char *via_curl(goose_user *u, goose_reply *r, const goose_http_request *req,
                            const goose_url_parts *url, const char *cookie)
{
    if (ensure_easy(u) < 0)
        return "out of memory";
    goose_http_request h = *req;
    struct curl_slist *extra = NULL;
    if (cookie && !(h.headers = extra = with_cookie(req->headers, cookie)))
        return "out of memory";
    const char *why = NULL;
    if (goose__http_prepare(u->easy, &h, &r->capture) < 0)
        why = "bad URL";
    else if (curl_multi_add_handle(u->thread->multi, u->easy) != CURLM_OK)
        why = "could not start the transfer";
    if (!why) {
        u->waiting = GOOSE_WAIT_HTTP;
        goose__coro_yield();
        r->status = u->result == CURLE_OK ? goose__http_status(u->easy) : 0;
        if (url)
            own_words(u, r, url);
    }
    curl_slist_free_all(extra);
    return why;
}

const char *goose__exchange(goose_user *u, goose_reply *r, const goose_http_request *req)
{
    goose_url_parts url;
    int split = goose__url_split(req->url, &url) == 0;
    const char *cookie = split ? cookies_for(u, req, &url) : NULL;
    if (!(split && !url.secure && via_h1(u, r, req, &url, cookie))) {
        const char *why = via_curl(u, r, req, split ? &url : NULL, cookie);
        if (why)
            return why;
    }
    if (split && u->result == CURLE_OK)
        keep_cookies(u, req, &url, &r->capture);
    return NULL;
}
