/* goose_load_assets: what a browser loads with a page (goose-eggs'
 * load_static_elements).  The page's HTML gives the references
 * (content/html.h); each is resolved against the page's final URL (or its
 * <base>), filtered as a browser would, looked up in the user's cache
 * (http/cache.h), and the rest go out together as one batch. */
#include "engine/engine.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "content/html.h"
#include "coro/coro.h"
#include "http/cache.h"
#include "util/clock.h"

/* References a page loads at most (after duplicates): the rest are
 * skipped, so a page of a million images cannot take a user's memory. */
#define ASSETS_MAX 1000

/* One asset to fetch. */
typedef struct asset {
    char *url;          /* absolute, without its fragment */
    char *name;         /* its path, without the query */
    uint64_t hash;      /* of url, for duplicates */
} asset;

typedef struct gather {
    goose_user *user;
    const char *page;   /* the page's final URL */
    const char *base;   /* what references are resolved against: the
                           page's URL, or its <base> */
    goose_url_parts origin; /* the page's final URL, split */
    goose_buf url;      /* scratch */
    asset *list;
    size_t n, cap;
    int failed;         /* out of memory */
} gather;

static uint64_t hash_of(const char *s)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static int seen(const gather *g, const char *url, uint64_t h)
{
    for (size_t i = 0; i < g->n; i++)
        if (g->list[i].hash == h && strcmp(g->list[i].url, url) == 0)
            return 1;
    return 0;
}

static int add(gather *g, const goose_url_parts *p)
{
    if (g->n == g->cap) {
        size_t cap = g->cap ? g->cap * 2 : 16;
        asset *list = realloc(g->list, cap * sizeof *list);
        if (!list)
            return -1;
        g->list = list;
        g->cap = cap;
    }
    size_t plen = strcspn(p->path, "?#");
    if (plen > p->path_len)
        plen = p->path_len;
    asset *a = &g->list[g->n];
    a->url = strdup(g->url.data);
    a->name = plen ? strndup(p->path, plen) : strdup("/");
    a->hash = hash_of(g->url.data);
    if (!a->url || !a->name) {
        free(a->url);
        free(a->name);
        return -1;
    }
    g->n++;
    return 0;
}

/* The common references resolved without libcurl's URL parser, which
 * costs some 25,000 instructions a call (a page of 20 assets paid a third
 * of its CPU there): a path ("/a/b.css") or a relative path ("img/a.png")
 * of plain characters, without dot segments, scheme, query-only form or
 * backslash, against the page's own URL (page, split in b).  1 when done,
 * 0 when the reference needs the parser, -1 when out of memory. */
int goose__assets_resolve(const char *page, const goose_url_parts *b, const char *ref,
                          goose_buf *out)
{
    size_t len = strlen(ref);
    if (ref[0] == '.' || ref[0] == '?' || (ref[0] == '/' && ref[1] == '/') ||
        strpbrk(ref, ":\\") || !goose__url_plain_path(ref, len))
        return 0;
    goose__buf_clear(out);
    if (goose__buf_add(out, page, (size_t)(b->authority + b->authority_len - page)) < 0)
        return -1;
    if (ref[0] != '/') { /* the page's directory: its path up to the last '/' */
        size_t plen = strcspn(b->path, "?");
        plen = plen < b->path_len ? plen : b->path_len;
        while (plen && b->path[plen - 1] != '/')
            plen--;
        if ((plen ? goose__buf_add(out, b->path, plen) : goose__buf_adds(out, "/")) < 0)
            return -1;
    }
    return goose__buf_add(out, ref, len) < 0 ? -1 : 1;
}

/* One reference of the page, as written (goose_html_asset_fn). */
static int take(void *arg, const char *ref)
{
    gather *g = arg;
    if (*ref == '#') /* this page itself */
        return 0;
    goose_url_parts p;
    int quick = g->base == g->page ? goose__assets_resolve(g->page, &g->origin, ref, &g->url) : 0;
    if (quick < 0) {
        g->failed = 1;
        return 1;
    }
    if (!quick && goose__http_resolve(g->base, ref, &g->url) < 0)
        return 0; /* not a URL: a browser fetches nothing either */
    char *hash = strchr(g->url.data, '#'); /* never sent */
    if (hash) {
        g->url.len = (size_t)(hash - g->url.data);
        *hash = '\0';
    }
    if (goose__url_split(g->url.data, &p) < 0)
        return 0; /* not fetched over HTTP: data:, javascript:, about:, blob:, ... */
    const goose_run_config *cfg = &g->user->thread->engine->cfg;
    if (!cfg->assets_cross_origin && !goose__url_same_origin(&p, &g->origin))
        return 0;
    if (seen(g, g->url.data, hash_of(g->url.data)))
        return 0;
    if (add(g, &p) < 0) {
        g->failed = 1;
        return 1;
    }
    return g->n == ASSETS_MAX; /* the rest are skipped */
}

static void gather_free(gather *g)
{
    for (size_t i = 0; i < g->n; i++) {
        free(g->list[i].url);
        free(g->list[i].name);
    }
    free(g->list);
    goose__buf_free(&g->url);
}

/* A page a browser renders as HTML: text/html or XHTML, or no type said
 * (then a browser sniffs; the parser copes with anything). */
static int html_type(const goose_reply *r)
{
    goose_buf v; /* not r->scratch: the user may hold a header value there */
    goose__buf_init(&v);
    const char *type = goose__http_header(&r->capture.headers, "Content-Type", &v);
    int html = !type || strncasecmp(type, "text/html", 9) == 0 ||
               strncasecmp(type, "application/xhtml+xml", 21) == 0;
    goose__buf_free(&v);
    return html;
}

/* The references of the page into g: 0, or GOOSE_ENOMEM. */
static int read_page(gather *g, goose_reply *r, goose_buf *base)
{
    goose_html *doc = goose__html_parse(r->capture.body.data ? r->capture.body.data : "",
                                        r->capture.body.len);
    if (!doc)
        return GOOSE_ENOMEM;
    /* <base href> moves what references are relative to, when it is a URL */
    const char *href = goose__html_base(doc);
    if (href && goose__http_resolve(r->url.data, href, base) == 0 &&
        goose__url_is_absolute(base->data))
        g->base = base->data;
    if (goose__html_assets(doc, take, g) < 0)
        g->failed = 1;
    goose__html_free(doc);
    return g->failed ? GOOSE_ENOMEM : GOOSE_OK;
}

/* The request of one asset, conditional when the cache holds a stale
 * copy with validators; NULL when out of memory. */
static goose_request *asset_request(goose_user *u, const asset *a, const goose_cache_entry *e)
{
    goose_request *req = goose_request_new(u, "GET", a->url);
    if (!req || goose_request_set_name(req, a->name) != GOOSE_OK ||
        (e && e->etag && goose_request_set_header(req, "If-None-Match", e->etag) != GOOSE_OK) ||
        (e && e->last_modified &&
         goose_request_set_header(req, "If-Modified-Since", e->last_modified) != GOOSE_OK)) {
        goose_request_free(req);
        return NULL;
    }
    return req;
}

/* What an answer means for the cache: a 304 refreshes the entry asked
 * about; another answer for the URL asked (not redirected) is stored when
 * it may be, and drops the entry otherwise. */
static void remember(goose_user *u, const asset *a, goose_reply *r)
{
    if (r->not_sent || r->result != GOOSE_TE_OK || r->status == 0)
        return;
    uint64_t now = goose__now_us();
    time_t wall = time(NULL);
    goose_cache_entry *e = goose__cache_find(&u->cache, a->url);
    if (r->status == 304 && e)
        goose__cache_refresh(&u->cache, e, &r->capture.headers, now, wall);
    else if (strcmp(r->url.data ? r->url.data : "", a->url) == 0)
        goose__cache_store(&u->cache, a->url, r->status, &r->capture.headers, now, wall);
    else /* redirected: what the URL gives is not known to be fresh */
        goose__cache_forget(&u->cache, a->url);
}

/* Fetches the assets not fresh in the cache, all at once (a batch); the
 * number of requests sent, or a negative code. */
static int fetch(goose_user *u, const gather *g)
{
    int cache = !u->thread->engine->cfg.no_cache;
    goose_batch *b = goose_batch_new(u);
    const asset **asked = b ? malloc(g->n * sizeof *asked) : NULL;
    size_t n = 0;
    int rc = GOOSE_ENOMEM;
    if (!asked)
        goto out;
    uint64_t now = goose__now_us();
    for (size_t i = 0; i < g->n; i++) {
        goose_cache_entry *e = cache ? goose__cache_find(&u->cache, g->list[i].url) : NULL;
        if (goose__cache_fresh(e, now))
            continue; /* a browser does not ask again */
        goose_request *req = asset_request(u, &g->list[i], e);
        if (!req || goose_batch_add(b, req) != GOOSE_OK) /* it takes req */
            goto out;
        asked[n++] = &g->list[i];
    }
    rc = n ? goose_batch_send(b) : 0;
    if (rc < 0)
        goto out;
    rc = 0;
    for (size_t i = 0; i < n; i++) {
        goose_response *h = goose_batch_response(b, i);
        goose_reply *r = h ? h->reply : NULL;
        if (!r || r->not_sent)
            continue;
        rc++;
        if (cache)
            remember(u, asked[i], r);
    }
out:
    free(asked);
    goose_batch_free(b);
    return rc;
}

int goose_load_assets(goose_user *u, goose_response *page)
{
    if (!u || !page || !u->coro || goose__coro_current() != u->coro)
        return GOOSE_EINVAL; /* not inside this user's transaction */
    if (page->user != u) {
        goose__response_misuse(u, "goose_load_assets: the page belongs to another user");
        return GOOSE_EINVAL;
    }
    goose_reply *r = page->reply;
    if (!r) {
        goose__response_misuse(u, "goose_load_assets: the page was already freed "
                                  "(a use after free)");
        return GOOSE_EINVAL;
    }
    if (r->not_sent || !r->url.len || !html_type(r))
        return 0;
    gather g = {.user = u, .page = r->url.data, .base = r->url.data};
    goose_buf base;
    goose__buf_init(&g.url);
    goose__buf_init(&base);
    int rc = GOOSE_OK;
    if (goose__url_split(r->url.data, &g.origin) < 0)
        goto out;
    rc = read_page(&g, r, &base);
    if (rc == GOOSE_OK && g.n)
        rc = fetch(u, &g);
out:
    gather_free(&g);
    goose__buf_free(&base);
    return rc;
}
