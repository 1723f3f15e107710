/* The per-user cache of goose_load_assets (cache.h): freshness as RFC 9111
 * computes it, for a private cache (a browser's), without heuristics. */
#include "http/cache.h"

#include <ctype.h>
#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* RFC 9111, 1.2.2: delta-seconds beyond 2^31 count as 2^31. */
#define DELTA_MAX 2147483648L

void goose__cache_init(goose_cache *c)
{
    memset(c, 0, sizeof *c);
}

static void entry_free(goose_cache_entry *e)
{
    free(e->url);
    free(e->etag);
    free(e->last_modified);
    memset(e, 0, sizeof *e);
}

void goose__cache_free(goose_cache *c)
{
    for (size_t i = 0; i < c->n; i++)
        entry_free(&c->entries[i]);
    free(c->entries);
    goose__cache_init(c);
}

/* ---- reading the headers ---- */

/* Calls fn with the value of each line named `name`, trimmed; stops at
 * fn's non-zero return. */
typedef int (*value_fn)(void *arg, const char *v, size_t len);

static int each_value(const goose_buf *headers, const char *name, value_fn fn, void *arg)
{
    size_t nlen = strlen(name);
    const char *p = headers ? headers->data : NULL;
    const char *end = p ? p + headers->len : NULL;
    while (p && p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        const char *line_end = eol ? eol : end;
        if ((size_t)(line_end - p) > nlen && p[nlen] == ':' && strncasecmp(p, name, nlen) == 0) {
            const char *v = p + nlen + 1, *ve = line_end;
            while (v < ve && (*v == ' ' || *v == '\t'))
                v++;
            while (ve > v && isspace((unsigned char)ve[-1]))
                ve--;
            int rc = fn(arg, v, (size_t)(ve - v));
            if (rc)
                return rc;
        }
        p = eol ? eol + 1 : end;
    }
    return 0;
}

/* delta-seconds: digits only; -1 when it is not one. */
static long delta_seconds(const char *v, size_t len)
{
    if (len >= 2 && v[0] == '"' && v[len - 1] == '"') { /* max-age="60" */
        v++;
        len -= 2;
    }
    if (!len)
        return -1;
    long n = 0;
    for (size_t i = 0; i < len; i++) {
        if (!isdigit((unsigned char)v[i]))
            return -1;
        if (n < DELTA_MAX)
            n = n * 10 + (v[i] - '0');
    }
    return n < DELTA_MAX ? n : DELTA_MAX;
}

typedef struct directives {
    int no_store;        /* no-store or no-cache: never stored */
    int has_max_age;
    long max_age;        /* -1: invalid, stale */
} directives;

static int is_directive(const char *d, size_t len, const char *name)
{
    return strlen(name) == len && strncasecmp(d, name, len) == 0;
}

/* One Cache-Control line: directives separated by commas. */
static int cache_control(void *arg, const char *v, size_t len)
{
    directives *d = arg;
    const char *end = v + len;
    while (v < end) {
        const char *comma = memchr(v, ',', (size_t)(end - v));
        const char *de = comma ? comma : end;
        while (v < de && (*v == ' ' || *v == '\t'))
            v++;
        const char *te = de;
        while (te > v && (te[-1] == ' ' || te[-1] == '\t'))
            te--;
        const char *eq = memchr(v, '=', (size_t)(te - v));
        const char *ne = eq ? eq : te;
        if (is_directive(v, (size_t)(ne - v), "no-store") ||
            is_directive(v, (size_t)(ne - v), "no-cache"))
            d->no_store = 1;
        else if (is_directive(v, (size_t)(ne - v), "max-age") && !d->has_max_age) {
            d->has_max_age = 1; /* the first one counts (RFC 9111, 4.2.1) */
            d->max_age = eq ? delta_seconds(eq + 1, (size_t)(te - eq - 1)) : -1;
        }
        v = comma ? comma + 1 : end;
    }
    return 0;
}

typedef struct first_value {
    char text[GOOSE_CACHE_VALIDATOR_MAX + 1];
    int seen;
    int too_long;
} first_value;

static int first(void *arg, const char *v, size_t len)
{
    first_value *f = arg;
    f->seen = 1;
    f->too_long = len >= sizeof f->text;
    if (!f->too_long) {
        memcpy(f->text, v, len);
        f->text[len] = '\0';
    }
    return 1;
}

static int vary_star(void *arg, const char *v, size_t len)
{
    (void)arg;
    for (const char *end = v + len; v < end; v++)
        if (*v == '*')
            return 1;
    return 0;
}

/* An HTTP-date (the three forms of RFC 9110, 5.6.7), or -1. */
static time_t http_date(const first_value *f)
{
    return f->seen && !f->too_long ? curl_getdate(f->text, NULL) : -1;
}

/* The statuses a cache may store (RFC 9110, 15.1: heuristically
 * cacheable, the ones a page's assets answer with). */
static int cacheable_status(int status)
{
    static const int ok[] = {200, 203, 204, 300, 301, 308, 404, 405, 410, 414, 501};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        if (ok[i] == status)
            return 1;
    return 0;
}

long goose__cache_lifetime(int status, const goose_buf *headers, time_t wall_now, long *lifetime)
{
    directives d = {0};
    long life = 0;
    *lifetime = 0;
    each_value(headers, "Cache-Control", cache_control, &d);
    if (d.no_store || each_value(headers, "Vary", vary_star, NULL) || !cacheable_status(status))
        return -1;
    if (d.has_max_age) {
        life = d.max_age < 0 ? 0 : d.max_age;
    } else {
        first_value expires = {0}, date = {0};
        each_value(headers, "Expires", first, &expires);
        each_value(headers, "Date", first, &date);
        time_t exp = http_date(&expires), dt = http_date(&date);
        if (dt < 0)
            dt = wall_now;
        /* an invalid Expires, such as "0", is in the past */
        life = exp > dt ? (exp - dt > DELTA_MAX ? DELTA_MAX : (long)(exp - dt)) : 0;
    }
    first_value age = {0};
    each_value(headers, "Age", first, &age);
    long a = age.seen && !age.too_long ? delta_seconds(age.text, strlen(age.text)) : 0;
    *lifetime = life;
    return a > 0 ? (life > a ? life - a : 0) : life;
}

/* ---- the entries ---- */

static uint64_t hash_of(const char *s)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

goose_cache_entry *goose__cache_find(goose_cache *c, const char *url)
{
    uint64_t h = hash_of(url);
    for (size_t i = 0; i < c->n; i++)
        if (c->entries[i].hash == h && strcmp(c->entries[i].url, url) == 0)
            return &c->entries[i];
    return NULL;
}

static void drop(goose_cache *c, goose_cache_entry *e)
{
    entry_free(e);
    *e = c->entries[--c->n]; /* order is kept in `stored` */
    memset(&c->entries[c->n], 0, sizeof c->entries[c->n]);
}

void goose__cache_forget(goose_cache *c, const char *url)
{
    goose_cache_entry *e = goose__cache_find(c, url);
    if (e)
        drop(c, e);
}

/* A slot for a new entry: a free one, else the oldest stored, emptied. */
static goose_cache_entry *slot(goose_cache *c)
{
    if (!c->entries) {
        c->entries = calloc(GOOSE_CACHE_ENTRIES, sizeof *c->entries);
        if (!c->entries)
            return NULL;
    }
    if (c->n < GOOSE_CACHE_ENTRIES)
        return &c->entries[c->n++];
    goose_cache_entry *oldest = &c->entries[0];
    for (size_t i = 1; i < c->n; i++)
        if (c->entries[i].stored < oldest->stored)
            oldest = &c->entries[i];
    entry_free(oldest);
    return oldest;
}

/* A validator worth keeping (its first line, bounded), or NULL. */
static char *validator(const goose_buf *headers, const char *name)
{
    first_value f = {0};
    each_value(headers, name, first, &f);
    if (!f.seen || f.too_long || !f.text[0])
        return NULL;
    return strdup(f.text);
}

static void set_fresh(goose_cache_entry *e, long fresh_s, long lifetime, uint64_t now_us)
{
    e->fresh_until_us = now_us + (uint64_t)fresh_s * 1000000u;
    e->lifetime_s = lifetime;
}

int goose__cache_store(goose_cache *c, const char *url, int status, const goose_buf *headers,
                       uint64_t now_us, time_t wall_now)
{
    long lifetime, fresh = goose__cache_lifetime(status, headers, wall_now, &lifetime);
    goose__cache_forget(c, url);
    if (fresh <= 0 || strlen(url) > GOOSE_CACHE_URL_MAX)
        return 0;
    char *copy = strdup(url);
    goose_cache_entry *e = copy ? slot(c) : NULL;
    if (!e) {
        free(copy);
        return -1;
    }
    e->url = copy;
    e->hash = hash_of(url);
    e->stored = ++c->stores;
    e->etag = validator(headers, "ETag");
    e->last_modified = validator(headers, "Last-Modified");
    set_fresh(e, fresh, lifetime, now_us);
    return 1;
}

/* Whether a response says how long it is fresh at all. */
static int says_freshness(const goose_buf *headers)
{
    directives d = {0};
    first_value expires = {0};
    each_value(headers, "Cache-Control", cache_control, &d);
    each_value(headers, "Expires", first, &expires);
    return d.has_max_age || expires.seen;
}

void goose__cache_refresh(goose_cache *c, goose_cache_entry *e, const goose_buf *headers,
                          uint64_t now_us, time_t wall_now)
{
    long lifetime, fresh = goose__cache_lifetime(200, headers, wall_now, &lifetime);
    if (fresh < 0) { /* the 304 says it must not be stored now */
        drop(c, e);
        return;
    }
    if (!says_freshness(headers)) /* as long as before */
        fresh = lifetime = e->lifetime_s;
    char *etag = validator(headers, "ETag"); /* a new one replaces the old */
    if (etag) {
        free(e->etag);
        e->etag = etag;
    }
    e->stored = ++c->stores;
    set_fresh(e, fresh, lifetime, now_us);
}
