/* goose_load_assets: the per-user cache (http/cache.c) on its own, then
 * pages with assets loaded from the bundled target and from nginx. */
#include "test.h"

#include "http/cache.h"

#include <string.h>

/* ---- the cache ---- */

static goose_buf heads(const char *lines)
{
    goose_buf b;
    goose__buf_init(&b);
    goose__buf_adds(&b, lines);
    return b;
}

/* Seconds fresh from now, as goose__cache_lifetime says. */
static long fresh_for(int status, const char *lines, time_t now)
{
    goose_buf b = heads(lines);
    long lifetime, fresh = goose__cache_lifetime(status, &b, now, &lifetime);
    goose__buf_free(&b);
    return fresh;
}

#define NOW 784111777 /* Sun, 06 Nov 1994 08:49:37 GMT */

TEST(cache_freshness_from_headers)
{
    ASSERT_EQ(fresh_for(200, "Cache-Control: max-age=60\r\n", NOW), 60);
    ASSERT_EQ(fresh_for(200, "cache-control: public, MAX-AGE=\"30\"\n", NOW), 30);
    ASSERT_EQ(fresh_for(200, "Cache-Control: max-age=60\r\nAge: 20\r\n", NOW), 40);
    ASSERT_EQ(fresh_for(200, "Cache-Control: max-age=60\r\nAge: 90\r\n", NOW), 0);
    ASSERT_EQ(fresh_for(200, "Cache-Control: max-age=60\r\nAge: soon\r\n", NOW), 60);
    /* the first max-age counts; an invalid one is stale */
    ASSERT_EQ(fresh_for(200, "Cache-Control: max-age=5\r\nCache-Control: max-age=99\r\n", NOW), 5);
    ASSERT_EQ(fresh_for(200, "Cache-Control: max-age=ten\r\n", NOW), 0);
    ASSERT_EQ(fresh_for(200, "Cache-Control: max-age\r\n", NOW), 0);
    ASSERT_EQ(fresh_for(200, "Cache-Control: max-age=99999999999999\r\n", NOW), 2147483648L);
    /* max-age wins over Expires; Expires minus Date without it */
    ASSERT_EQ(fresh_for(200, "Cache-Control: max-age=7\r\n"
                             "Expires: Sun, 06 Nov 1994 09:49:37 GMT\r\n", NOW), 7);
    ASSERT_EQ(fresh_for(200, "Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n"
                             "Expires: Sun, 06 Nov 1994 08:50:37 GMT\r\n", NOW + 1000), 60);
    ASSERT_EQ(fresh_for(200, "Date: Sunday, 06-Nov-94 08:49:37 GMT\r\n"
                             "Expires: Sun Nov  6 08:50:07 1994\r\n", NOW), 30);
    /* no Date: from the wall clock now; the Age still counts */
    ASSERT_EQ(fresh_for(200, "Expires: Sun, 06 Nov 1994 08:50:37 GMT\r\nAge: 10\r\n", NOW), 50);
    ASSERT_EQ(fresh_for(200, "Expires: 0\r\n", NOW), 0);
    ASSERT_EQ(fresh_for(200, "Expires: Sun, 06 Nov 1994 08:00:00 GMT\r\n", NOW), 0);
    /* nothing said: stale (no heuristic freshness) */
    ASSERT_EQ(fresh_for(200, "Last-Modified: Sun, 06 Nov 1990 08:49:37 GMT\r\n", NOW), 0);
    ASSERT_EQ(fresh_for(200, "", NOW), 0);
    /* never stored */
    ASSERT_EQ(fresh_for(200, "Cache-Control: max-age=60, no-store\r\n", NOW), -1);
    ASSERT_EQ(fresh_for(200, "Cache-Control: No-Cache\r\nCache-Control: max-age=60\r\n", NOW), -1);
    ASSERT_EQ(fresh_for(200, "Cache-Control: no-cache=\"Set-Cookie\", max-age=9\r\n", NOW), -1);
    ASSERT_EQ(fresh_for(200, "Cache-Control: max-age=60\r\nVary: *\r\n", NOW), -1);
    ASSERT_EQ(fresh_for(500, "Cache-Control: max-age=60\r\n", NOW), -1);
    ASSERT_EQ(fresh_for(304, "Cache-Control: max-age=60\r\n", NOW), -1);
    ASSERT_EQ(fresh_for(404, "Cache-Control: max-age=60\r\n", NOW), 60);
    /* a directive that only starts like one is not it */
    ASSERT_EQ(fresh_for(200, "Cache-Control: no-stored, max-age=3\r\n", NOW), 3);
    ASSERT_EQ(fresh_for(200, "X-Cache-Control: no-store\r\nCache-Control: max-age=3\r\n", NOW), 3);
}

static int store(goose_cache *c, const char *url, int status, const char *lines, uint64_t now)
{
    goose_buf b = heads(lines);
    int rc = goose__cache_store(c, url, status, &b, now, NOW);
    goose__buf_free(&b);
    return rc;
}

TEST(cache_entries_go_stale)
{
    goose_cache c;
    goose__cache_init(&c);
    ASSERT_EQ(store(&c, "http://a/x.css", 200, "Cache-Control: max-age=2\r\nETag: \"v1\"\r\n"
                                               "Last-Modified: Sun, 06 Nov 1994 08:49:37 GMT\r\n",
                    1000000), 1);
    ASSERT_EQ(store(&c, "http://a/y.js", 200, "Cache-Control: no-store\r\n", 1000000), 0);
    ASSERT_NULL(goose__cache_find(&c, "http://a/y.js"));
    goose_cache_entry *e = goose__cache_find(&c, "http://a/x.css");
    ASSERT_NOT_NULL(e);
    ASSERT(goose__cache_fresh(e, 2999999));
    ASSERT(!goose__cache_fresh(e, 3000000));
    ASSERT_STR_EQ(e->etag, "\"v1\"");
    ASSERT_STR_EQ(e->last_modified, "Sun, 06 Nov 1994 08:49:37 GMT");
    /* a 304 without freshness: as long again as before, from now */
    goose_buf b = heads("ETag: \"v2\"\r\n");
    goose__cache_refresh(&c, e, &b, 5000000, NOW);
    goose__buf_free(&b);
    e = goose__cache_find(&c, "http://a/x.css");
    ASSERT(goose__cache_fresh(e, 6999999));
    ASSERT(!goose__cache_fresh(e, 7000000));
    ASSERT_STR_EQ(e->etag, "\"v2\"");
    /* a 304 with its own max-age, and one that forbids storing */
    b = heads("Cache-Control: max-age=10\r\n");
    goose__cache_refresh(&c, e, &b, 8000000, NOW);
    goose__buf_free(&b);
    ASSERT(goose__cache_fresh(goose__cache_find(&c, "http://a/x.css"), 17999999));
    b = heads("Cache-Control: no-store\r\n");
    goose__cache_refresh(&c, goose__cache_find(&c, "http://a/x.css"), &b, 8000000, NOW);
    goose__buf_free(&b);
    ASSERT_NULL(goose__cache_find(&c, "http://a/x.css"));
    /* a later answer that may not be stored drops the entry */
    ASSERT_EQ(store(&c, "http://a/z.png", 200, "Cache-Control: max-age=60\r\n", 0), 1);
    ASSERT_EQ(store(&c, "http://a/z.png", 200, "Cache-Control: max-age=0\r\n", 0), 0);
    ASSERT_NULL(goose__cache_find(&c, "http://a/z.png"));
    ASSERT_EQ(c.n, 0);
    goose__cache_free(&c);
    goose__cache_free(&c); /* twice: nothing left */
}

TEST(cache_is_bounded)
{
    goose_cache c;
    goose__cache_init(&c);
    char url[64];
    for (int i = 0; i < GOOSE_CACHE_ENTRIES + 50; i++) {
        snprintf(url, sizeof url, "http://a/%d.png", i);
        ASSERT_EQ(store(&c, url, 200, "Cache-Control: max-age=60\r\n", 0), 1);
        ASSERT_LE(c.n, GOOSE_CACHE_ENTRIES);
    }
    ASSERT_EQ(c.n, GOOSE_CACHE_ENTRIES);
    for (int i = 0; i < GOOSE_CACHE_ENTRIES + 50; i++) { /* the oldest went */
        snprintf(url, sizeof url, "http://a/%d.png", i);
        if ((goose__cache_find(&c, url) != NULL) != (i >= 50))
            TEST_FAIL("%s: %s", url, i >= 50 ? "dropped" : "kept");
    }
    /* a URL too long is not kept, nor a validator too long */
    char *big = malloc(GOOSE_CACHE_URL_MAX + 16);
    ASSERT_NOT_NULL(big);
    memset(big, 'a', GOOSE_CACHE_URL_MAX + 15);
    memcpy(big, "http://a/", 9);
    big[GOOSE_CACHE_URL_MAX + 15] = '\0';
    ASSERT_EQ(store(&c, big, 200, "Cache-Control: max-age=60\r\n", 0), 0);
    ASSERT_NULL(goose__cache_find(&c, big));
    free(big);
    goose_buf b = heads("Cache-Control: max-age=60\r\nETag: \"");
    for (int i = 0; i < GOOSE_CACHE_VALIDATOR_MAX; i++)
        goose__buf_adds(&b, "x");
    goose__buf_adds(&b, "\"\r\n");
    ASSERT_EQ(goose__cache_store(&c, "http://a/big-etag", 200, &b, 0, NOW), 1);
    goose__buf_free(&b);
    ASSERT_NULL(goose__cache_find(&c, "http://a/big-etag")->etag);
    goose__cache_free(&c);
    ASSERT_EQ(c.n, 0);
}

TEST_MAIN(TEST_ENTRY(cache_freshness_from_headers), TEST_ENTRY(cache_entries_go_stale),
          TEST_ENTRY(cache_is_bounded))
