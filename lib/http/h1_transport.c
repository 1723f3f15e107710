/* The own HTTP/1.1 client as a row of the transport table: it takes a
 * request to an http:// or https:// origin it reaches without DNS (an IP
 * literal, localhost, a --resolve entry) with a path it sends as written.
 * A user keeps one connection per origin (h1.c), to a few origins at once
 * (as curl's per-user pool would): a page and its asset host, say.  One
 * more and the least recently used idle connection is re-aimed.  A user's
 * requests at once (goose_batch) get more connections to an origin, up to
 * a browser's 6; the rest wait (GOOSE_TE_BUSY) for one of them.  With
 * --http-version 2 the user's HTTP/2 clients (h2.c) take the same place:
 * one per origin, prior-knowledge h2c over http://, its requests at once
 * as streams on one connection. */
#include "http/h1.h"
#include "http/h2.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PER_USER 4     /* connections kept when none is needed at once */
#define PER_ORIGIN 6   /* at once to one origin, as browsers */
#define MAX_CONNS 16   /* at once in all */

typedef struct h1_run {
    const goose_http_setup *setup;
} h1_run;

typedef struct h1_user {
    const goose_http_setup *setup;
    struct event_base *base;
    unsigned index;
    goose_transport_done_fn done;
    void *arg;
    goose_h1 *conns[MAX_CONNS]; /* most recently used first, then NULLs */
    goose_h2 *h2[MAX_CONNS];   /* the same, over HTTP/2 */
    const goose_url_parts *asked; /* what takes() found for start(), or NULL */
    size_t found;              /* its connection (h2 client with --http-version 2),
                                * or MAX_CONNS: none free for the origin */
} h1_user;

static int run_new(void **out, const goose_http_setup *setup, char *err, size_t errlen)
{
    h1_run *r = malloc(sizeof *r);
    if (!r) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    r->setup = setup;
    *out = r;
    return 0;
}

static void run_free(void *run)
{
    free(run);
}

static void *user_new(void *run, void *thread, struct event_base *base, unsigned index,
                      goose_transport_done_fn done, void *arg)
{
    (void)thread;
    h1_user *hu = calloc(1, sizeof *hu);
    if (!hu)
        return NULL;
    hu->setup = ((h1_run *)run)->setup;
    hu->base = base;
    hu->index = index;
    hu->done = done;
    hu->arg = arg;
    return hu;
}

static void user_free(void *user)
{
    h1_user *hu = user;
    if (!hu)
        return;
    for (size_t i = 0; i < MAX_CONNS; i++) {
        goose__h1_free(hu->conns[i]);
        goose__h2_free(hu->h2[i]);
    }
    free(hu);
}

/* The user's free connection that serves this URL's origin, or
 * MAX_CONNS. */
static size_t serving(const h1_user *hu, const goose_url_parts *url)
{
    size_t i = 0;
    while (i < MAX_CONNS && hu->conns[i] && !goose__h1_free_for(hu->conns[i], url))
        i++;
    return i < MAX_CONNS && hu->conns[i] ? i : MAX_CONNS;
}

/* The same among the user's HTTP/2 clients (never busy: streams). */
static size_t serving_h2(const h1_user *hu, const goose_url_parts *url)
{
    size_t i = 0;
    while (i < MAX_CONNS && hu->h2[i] && !goose__h2_serves(hu->h2[i], url))
        i++;
    return i < MAX_CONNS && hu->h2[i] ? i : MAX_CONNS;
}

/* Nothing under way: the connection may be re-aimed. */
static int idle(const goose_h1 *c)
{
    const goose_h2 *h2 = goose__h1_h2(c);
    return !goose__h1_busy(c) && (!h2 || goose__h2_idle(h2));
}

/* Where a new connection for url goes: an empty slot while the user has
 * fewer than PER_USER connections (or no idle one), else the least
 * recently used idle one, re-aimed.  MAX_CONNS when the origin has
 * PER_ORIGIN busy ones, or every slot is busy: the request waits. */
static size_t new_slot(const h1_user *hu, const goose_url_parts *url)
{
    size_t n = 0, same = 0, lru = MAX_CONNS;
    for (; n < MAX_CONNS && hu->conns[n]; n++) {
        if (goose__h1_serves(hu->conns[n], url))
            same++;
        if (idle(hu->conns[n]))
            lru = n;
    }
    if (same >= PER_ORIGIN)
        return MAX_CONNS;
    return lru < MAX_CONNS && (n >= PER_USER || n == MAX_CONNS) ? lru : n;
}

/* The same among the HTTP/2 clients: one per origin. */
static size_t new_slot_h2(const h1_user *hu)
{
    size_t n = 0, lru = MAX_CONNS;
    for (; n < MAX_CONNS && hu->h2[n]; n++)
        if (goose__h2_idle(hu->h2[n]))
            lru = n;
    return lru < MAX_CONNS && (n >= PER_USER || n == MAX_CONNS) ? lru : n;
}

static int takes(void *run, void *user, const goose_http_request *req)
{
    const goose_url_parts *url = req->parts;
    if (!url || !goose__url_plain_path(url->path, url->path_len))
        return 0;
    h1_user *hu = user;
    /* an origin the user already reaches needs no second look (a
     * goose__h1_origin per request costs two snprintf and inet_pton) */
    size_t found = !hu ? MAX_CONNS
                   : hu->setup->version == GOOSE_HTTP_2 ? serving_h2(hu, url)
                                                        : serving(hu, url);
    goose_h1_origin o;
    if (found == MAX_CONNS && !goose__h1_origin(url, ((h1_run *)run)->setup, &o))
        return 0;
    if (hu) { /* start() follows at once: it need not look again */
        hu->asked = url;
        hu->found = found;
    }
    return 1;
}

/* The user's free connection for this URL's origin, moved to the front:
 * the one already there, else a new one (new_slot).  NULL when out of
 * memory (or the URL is not the client's), or *busy set when the request
 * must wait. */
static goose_h1 *connection_for(h1_user *hu, const goose_url_parts *url, int *busy)
{
    size_t i = hu->asked == url ? hu->found : serving(hu, url);
    hu->asked = NULL;
    goose_h1 *c;
    if (i < MAX_CONNS) {
        c = hu->conns[i];
    } else { /* a new origin, or its connections are busy */
        goose_h1_origin o;
        if (!goose__h1_origin(url, hu->setup, &o))
            return NULL;
        if ((i = new_slot(hu, url)) == MAX_CONNS) {
            *busy = 1;
            return NULL;
        }
        c = hu->conns[i];
        if (!c && !(c = hu->conns[i] = goose__h1_new(hu->base, hu->setup, hu->index,
                                                       hu->done, hu->arg)))
            return NULL;
        goose__h1_aim(c, &o);
    }
    memmove(&hu->conns[1], &hu->conns[0], i * sizeof hu->conns[0]);
    hu->conns[0] = c;
    return c;
}

/* The user's HTTP/2 client for this URL's origin, moved to the front:
 * as connection_for. */
static goose_h2 *h2_for(h1_user *hu, const goose_url_parts *url, int *busy)
{
    size_t i = hu->asked == url ? hu->found : serving_h2(hu, url);
    hu->asked = NULL;
    goose_h2 *c = i < MAX_CONNS ? hu->h2[i] : NULL;
    if (!c) {
        goose_h1_origin o;
        if (!goose__h1_origin(url, hu->setup, &o))
            return NULL;
        if ((i = new_slot_h2(hu)) == MAX_CONNS) {
            *busy = 1;
            return NULL;
        }
        c = hu->h2[i];
        if (!c && !(c = hu->h2[i] = goose__h2_new(hu->base, hu->setup, hu->index, hu->done,
                                                    hu->arg)))
            return NULL;
        goose__h2_aim(c, &o);
    }
    memmove(&hu->h2[1], &hu->h2[0], i * sizeof hu->h2[0]);
    hu->h2[0] = c;
    return c;
}

static goose_terr start_h2(h1_user *hu, const goose_http_request *req,
                           goose_http_capture *capture)
{
    int busy = 0;
    goose_h2 *c = h2_for(hu, req->parts, &busy);
    if (!c) {
        if (busy)
            return GOOSE_TE_BUSY;
        snprintf(capture->errbuf, sizeof capture->errbuf, "out of memory");
        return GOOSE_TE_NOT_SENT;
    }
    return goose__h2_send(c, req, capture);
}

/* An origin whose ALPN chose h2 is the slot's HTTP/2 client's. */
static goose_terr send_on(goose_h1 *c, const goose_http_request *req,
                          goose_http_capture *capture)
{
    goose_h2 *h2 = goose__h1_h2(c);
    return h2 ? goose__h2_send(h2, req, capture) : goose__h1_send(c, req, capture);
}

static goose_terr start(void *user, const goose_http_request *req, goose_http_capture *capture)
{
    h1_user *hu = user;
    if (hu->setup->version == GOOSE_HTTP_2)
        return start_h2(hu, req, capture);
    int busy = 0;
    goose_h1 *c = connection_for(user, req->parts, &busy);
    if (!c) {
        if (busy)
            return GOOSE_TE_BUSY;
        snprintf(capture->errbuf, sizeof capture->errbuf, "out of memory");
        return GOOSE_TE_NOT_SENT;
    }
    return send_on(c, req, capture);
}

/* No cancel: an abandoned user's connection stays until the user is
 * freed; an answer that comes meanwhile resumes nobody. */
const goose_transport goose__transport_h1 = {
    .name = "http/1.1",
    .run_new = run_new,
    .run_free = run_free,
    .user_new = user_new,
    .user_free = user_free,
    .takes = takes,
    .start = start,
};
