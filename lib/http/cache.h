/* A user's private HTTP cache, as a browser keeps one (RFC 9111), for
 * goose_load_assets: which responses are fresh, by absolute URL, and the
 * validators to ask again with once they are stale.  It keeps no bodies:
 * a load test only needs to know what a browser would not fetch again.
 * Bounded: GOOSE_CACHE_ENTRIES entries (the oldest stored goes first),
 * and URLs or validators too long to be worth keeping are not kept. */
#ifndef GOOSE_HTTP_CACHE_H
#define GOOSE_HTTP_CACHE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "util/buf.h"

#define GOOSE_CACHE_ENTRIES 256
#define GOOSE_CACHE_URL_MAX 2048       /* longer URLs are never stored */
#define GOOSE_CACHE_VALIDATOR_MAX 256  /* longer ETags or dates are dropped */

typedef struct goose_cache_entry {
    char *url;
    uint64_t hash;            /* of url, compared first */
    uint64_t fresh_until_us;  /* monotonic: stale from then on */
    uint64_t stored;          /* order of storing, for the bound */
    long lifetime_s;          /* for a 304 that says none */
    char *etag;               /* validators, or NULL */
    char *last_modified;
} goose_cache_entry;

typedef struct goose_cache {
    goose_cache_entry *entries;
    size_t n;
    uint64_t stores;
} goose_cache;

void goose__cache_init(goose_cache *c);
void goose__cache_free(goose_cache *c);

/* How long a response stays fresh from now, in seconds, from its raw
 * header lines (Cache-Control max-age, else Expires minus Date; Age
 * subtracted); 0 when stale at once, -1 when it must not be stored
 * (no-store, no-cache, Vary: *, or a status not cacheable).  wall_now is
 * the wall clock, used when there is no Date. */
long goose__cache_lifetime(int status, const goose_buf *headers, time_t wall_now, long *lifetime);

/* The entry of url, fresh or stale, or NULL. */
goose_cache_entry *goose__cache_find(goose_cache *c, const char *url);
static inline int goose__cache_fresh(const goose_cache_entry *e, uint64_t now_us)
{
    return e && now_us < e->fresh_until_us;
}

/* A response for url came in (a 200 or another full one): stored when it
 * is fresh, else any entry of url is dropped.  1 stored, 0 not, -1 out
 * of memory (the cache is then as before, without url). */
int goose__cache_store(goose_cache *c, const char *url, int status, const goose_buf *headers,
                       uint64_t now_us, time_t wall_now);
/* Drops the entry of url, if any. */
void goose__cache_forget(goose_cache *c, const char *url);
/* A 304 answered the conditional request of e: fresh again for what the
 * 304 says, or for the lifetime it had. */
void goose__cache_refresh(goose_cache *c, goose_cache_entry *e, const goose_buf *headers,
                          uint64_t now_us, time_t wall_now);

#endif
