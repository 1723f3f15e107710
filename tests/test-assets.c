/* goose_load_assets: the per-user cache (http/cache.c) on its own, then
 * pages with assets loaded from the bundled target and from nginx. */
#include "nginx.h"

#include "config/attack.h"
#include "content/html.h"
#include "engine/engine.h"
#include "http/cache.h"

#include <pthread.h>
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

/* <base>: the first with an href, as written; none without one. */
static const char *base_of(const char *html)
{
    static char out[128];
    goose_html *doc = goose__html_parse(html, strlen(html));
    ASSERT_NOT_NULL(doc);
    const char *b = goose__html_base(doc);
    snprintf(out, sizeof out, "%s", b ? b : "(none)");
    goose__html_free(doc);
    return out;
}

TEST(html_base)
{
    ASSERT_STR_EQ(base_of("<html><head><base target=_top><BASE HREF='/x/'><base href=/y/>"),
                  "/x/");
    ASSERT_STR_EQ(base_of("<p>no head<base href=\"http://127.0.0.1/z/\"></p>"),
                  "http://127.0.0.1/z/");
    ASSERT_STR_EQ(base_of("<html><head><title>t</title></head><body>x</body></html>"), "(none)");
    ASSERT_STR_EQ(base_of("<base target=_blank>"), "(none)");
    ASSERT_STR_EQ(base_of(""), "(none)");
}

/* The plain references resolved without libcurl give what libcurl gives;
 * the others are left to it. */
TEST(quick_resolution_agrees_with_libcurl)
{
    static const char *const pages[] = {
        "http://127.0.0.1:8080/assets/page", "http://127.0.0.1:8080/assets/page?other=1&x=/y/",
        "http://127.0.0.1:8080", "http://127.0.0.1:8080/", "https://[::1]:8443/a/b/c.html",
        "http://127.0.0.1:8080?q=1", "http://user@127.0.0.1/dir/"};
    static const char *const plain[] = {"/x.css", "x.css", "img/a.png", "a/b/c.js?v=1",
                                        "/s.js?v=2#main", "x.png#frag", "%7Euser/p.gif",
                                        "a.b.c/d-e_f~g.png", "/"};
    static const char *const others[] = {"../x.png", "./x.png", ".", "..", "//cdn.example/a.js",
                                         "?q=1", "data:x", "http://127.0.0.1/x", "a\\b.png",
                                         "a/../b.png", "a/./b.png", "a b.png", "\xc3\xa9.png",
                                         "mailto:x@y", "/a:b.png"};
    goose_buf quick, slow;
    goose__buf_init(&quick);
    goose__buf_init(&slow);
    for (size_t i = 0; i < sizeof pages / sizeof *pages; i++) {
        goose_url_parts p;
        ASSERT_EQ(goose__url_split(pages[i], &p), 0);
        for (size_t k = 0; k < sizeof plain / sizeof *plain; k++) {
            ASSERT_EQ(goose__assets_resolve(pages[i], &p, plain[k], &quick), 1);
            ASSERT_EQ(goose__http_resolve(pages[i], plain[k], &slow), 0);
            if (strcmp(quick.data, slow.data) != 0)
                TEST_FAIL("%s against %s: %s, libcurl says %s", plain[k], pages[i], quick.data,
                          slow.data);
        }
        for (size_t k = 0; k < sizeof others / sizeof *others; k++)
            if (goose__assets_resolve(pages[i], &p, others[k], &quick) != 0)
                TEST_FAIL("%s against %s: resolved without libcurl", others[k], pages[i]);
    }
    goose__buf_free(&quick);
    goose__buf_free(&slow);
}

/* ---- pages from the bundled target ---- */

static target tgt, other;
static const char *host;        /* of the runs: tgt's when NULL */
static char page_path[128];
static int loads = 1;           /* goose_load_assets calls per transaction */
static unsigned pause_ms;       /* goose_sleep between them */
static atomic_int got[16];      /* what each call returned, in order */
static atomic_int ngot;

static void record(int n)
{
    int i = atomic_fetch_add(&ngot, 1);
    if (i < 16)
        got[i] = n;
}

static int load_page(goose_user *u)
{
    goose_response *r = goose_get(u, page_path);
    if (goose_response_status(r) != 200)
        miss("%s: status %d", page_path, goose_response_status(r));
    for (int i = 0; i < loads; i++) {
        if (i && pause_ms)
            goose_sleep(u, pause_ms);
        record(goose_load_assets(u, r));
    }
    goose_response_free(r);
    return GOOSE_OK;
}

/* One user runs load_page `iterations` times with these options (name,
 * value pairs up to NULL); the report, to free. */
static json_t *run(int iterations, ...)
{
    atomic_store(&ngot, 0);
    atomic_store(&bad, 0);
    goose_attack *a = goose_attack_new();
    goose_scenario *s = goose_scenario_new("Browser");
    goose_scenario_add_transaction(s, "page", load_page);
    goose_attack_add_scenario(a, s);
    char its[16];
    snprintf(its, sizeof its, "%d", iterations);
    set(a, "host", host ? host : tgt.url);
    set(a, "users", "1");
    set(a, "iterations", its);
    set(a, "quiet", NULL);
    va_list ap;
    va_start(ap, iterations);
    for (const char *name; (name = va_arg(ap, const char *));)
        set(a, name, va_arg(ap, const char *));
    va_end(ap);
    ASSERT_EQ(goose_attack_run(a), GOOSE_OK);
    json_t *report = report_of(a);
    goose_attack_free(a);
    ASSERT_EQ(atomic_load(&bad), 0);
    return report;
}

static long long requests_named(json_t *report, const char *name)
{
    json_t *r = report_request(report, "GET", name);
    return r ? jint(r, "count") : 0;
}

/* The target's counts are exactly these (path, count) pairs and no more. */
static void exactly(const target *t, const char *const *paths, const long long *counts, size_t n)
{
    json_t *stats = target_json(t, "/stats");
    long long sum = 0;
    for (size_t i = 0; i < n; i++) {
        if (target_count(stats, paths[i]) != counts[i])
            TEST_FAIL("%s: %lld requests, want %lld", paths[i], target_count(stats, paths[i]),
                      counts[i]);
        sum += counts[i];
    }
    if (target_total(stats) != sum) {
        char *text = json_dumps(stats, 0);
        TEST_FAIL("the target answered %lld requests, want %lld: %s", target_total(stats), sum,
                  text);
    }
    json_decref(stats);
    char url[96]; /* counted afresh from here */
    snprintf(url, sizeof url, "%s/reset", t->url);
    free(http_fetch(url, NULL, 10000, NULL));
}

static const char *const page_paths[] = {"/assets/page", "/assets/style.css",
                                         "/assets/favicon.ico", "/assets/app.js",
                                         "/img/logo.png", "/assets/nocache.gif"};

static void start_targets(void)
{
    target_start(&tgt);
    target_start(&other);
    snprintf(page_path, sizeof page_path, "/assets/page?other=%d", other.port);
    loads = 1;
    pause_ms = 0;
}

static void stop_targets(void)
{
    target_stop(&tgt);
    target_stop(&other);
}

/* What a browser fetches of /assets/page: the stylesheet and icon, both
 * scripts (two URLs, one name), the ../ image, the no-cache one; not the
 * duplicate, the data:, javascript:, about:, blob:, empty and fragment
 * references, the alternate link, the <a>, nor the other origin. */
TEST(page_loads_its_same_origin_assets)
{
    start_targets();
    json_t *report = run(1, NULL);
    ASSERT_EQ(atomic_load(&ngot), 1);
    ASSERT_EQ(got[0], 6);
    exactly(&tgt, page_paths, (const long long[]){1, 1, 1, 2, 1, 1}, 6);
    exactly(&other, NULL, NULL, 0);
    ASSERT_EQ(requests_named(report, "/assets/app.js"), 2); /* named without the query */
    ASSERT_EQ(requests_named(report, "/img/logo.png"), 1);
    ASSERT_EQ(report_total(report), 7);
    json_decref(report);
    stop_targets();
}

TEST(cross_origin_assets_with_the_option)
{
    start_targets();
    json_t *report = run(1, "assets-cross-origin", NULL, NULL);
    ASSERT_EQ(got[0], 7);
    exactly(&tgt, page_paths, (const long long[]){1, 1, 1, 2, 1, 1}, 6);
    exactly(&other, (const char *const[]){"/assets/cdn.png"}, (const long long[]){1}, 1);
    ASSERT_EQ(report_total(report), 8);
    json_decref(report);
    stop_targets();
}

/* The second load (a second call, then a second iteration: the cache is
 * the user's) fetches only what may not be kept: the no-store scripts and
 * the no-cache image; --no-cache fetches everything each time. */
TEST(cache_keeps_fresh_assets)
{
    start_targets();
    loads = 2;
    json_t *report = run(2, NULL);
    ASSERT_EQ(atomic_load(&ngot), 4);
    ASSERT_EQ(got[0], 6);
    ASSERT_EQ(got[1], 3);
    ASSERT_EQ(got[2], 3);
    ASSERT_EQ(got[3], 3);
    exactly(&tgt, page_paths, (const long long[]){2, 1, 1, 8, 1, 4}, 6);
    json_decref(report);
    report = run(2, "no-cache", NULL, NULL);
    ASSERT_EQ(got[0], 6);
    ASSERT_EQ(got[1], 6);
    ASSERT_EQ(got[2], 6);
    ASSERT_EQ(got[3], 6);
    exactly(&tgt, page_paths, (const long long[]){2, 4, 4, 8, 4, 4}, 6);
    json_decref(report);
    stop_targets();
}

/* A max-age=1 asset is not fetched while fresh; once stale it is asked
 * again with its ETag, and the 304 counts as a request. */
TEST(stale_asset_is_fetched_again)
{
    start_targets();
    snprintf(page_path, sizeof page_path, "/assets/short");
    loads = 2;
    pause_ms = 1500; /* a bounded wait past max-age=1 */
    json_t *report = run(1, NULL);
    ASSERT_EQ(got[0], 1);
    ASSERT_EQ(got[1], 1);
    exactly(&tgt, (const char *const[]){"/assets/short", "/assets/short.png"},
            (const long long[]){1, 2}, 2);
    json_t *codes = json_object_get(report_request(report, "GET", "/assets/short.png"),
                                    "status_codes");
    ASSERT_EQ(jint(codes, "200"), 1);
    ASSERT_EQ(jint(codes, "304"), 1);
    json_decref(report);
    stop_targets();
}

/* <base href> moves relative references; a text/plain page has none. */
TEST(base_and_page_types)
{
    start_targets();
    snprintf(page_path, sizeof page_path, "/assets/base");
    json_t *report = run(1, NULL);
    ASSERT_EQ(got[0], 2);
    exactly(&tgt, (const char *const[]){"/assets/base", "/assets/sub/b.png", "/assets/style.css"},
            (const long long[]){1, 1, 1}, 3);
    json_decref(report);
    snprintf(page_path, sizeof page_path, "/assets/text");
    report = run(1, NULL);
    ASSERT_EQ(got[0], 0);
    exactly(&tgt, (const char *const[]){"/assets/text"}, (const long long[]){1}, 1);
    json_decref(report);
    stop_targets();
}

/* A page of 1100 images loads the first 1000 (the bound), each once. */
TEST(assets_of_a_page_are_bounded)
{
    start_targets();
    snprintf(page_path, sizeof page_path, "/assets/many");
    json_t *report = run(1, NULL);
    ASSERT_EQ(got[0], 1000);
    json_t *stats = target_json(&tgt, "/stats");
    ASSERT_EQ(target_total(stats), 1001);
    ASSERT_EQ(target_count(stats, "/assets/m/0.png"), 1);
    ASSERT_EQ(target_count(stats, "/assets/m/999.png"), 1);
    ASSERT_EQ(target_count(stats, "/assets/m/1000.png"), 0);
    json_decref(stats);
    json_decref(report);
    stop_targets();
}

/* Misuse: no user or page, a freed page, another user's page, and a page
 * that never came (0 assets) load nothing. */
static goose_response *_Atomic shared;

static int misuse(goose_user *u)
{
    char refused[64];
    snprintf(refused, sizeof refused, "http://127.0.0.1:%d/assets/page", free_port());
    if (goose_user_index(u) == 0) {
        goose_response *r = goose_get(u, "/assets/page");
        record(goose_load_assets(NULL, r));
        record(goose_load_assets(u, NULL));
        atomic_store(&shared, r);
        goose_sleep(u, 400); /* user 1 tries it meanwhile */
        atomic_store(&shared, NULL);
        goose_response_free(r);
        record(goose_load_assets(u, r));
        r = goose_get(u, refused);
        record(goose_load_assets(u, r));
        goose_response_free(r);
    } else {
        for (int i = 0; i < 20 && !atomic_load(&shared); i++)
            goose_sleep(u, 50);
        goose_response *theirs = atomic_load(&shared);
        if (!theirs)
            miss("user 0's page never came");
        record(goose_load_assets(u, theirs));
    }
    return GOOSE_OK;
}

static char logged_lines[2048];
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

static void keep_log(void *arg, goose_log_level level, const char *line)
{
    (void)arg, (void)level;
    pthread_mutex_lock(&log_lock);
    size_t len = strlen(logged_lines);
    snprintf(logged_lines + len, sizeof logged_lines - len, "%s\n", line);
    pthread_mutex_unlock(&log_lock);
}

TEST(misuse_loads_nothing)
{
    start_targets();
    atomic_store(&ngot, 0);
    goose_attack *a = goose_attack_new();
    logged_lines[0] = '\0';
    goose_attack_set_log(a, keep_log, NULL);
    goose_scenario *s = goose_scenario_new("Misuse");
    goose_scenario_add_transaction(s, "misuse", misuse);
    goose_attack_add_scenario(a, s);
    set(a, "host", tgt.url);
    set(a, "users", "2");
    set(a, "hatch-rate", "100");
    set(a, "iterations", "1");
    set(a, "threads", "1");
    set(a, "quiet", NULL);
    ASSERT_EQ(goose_attack_run(a), GOOSE_OK);
    goose_attack_free(a);
    ASSERT_EQ(atomic_load(&bad), 0);
    ASSERT_EQ(atomic_load(&ngot), 5);
    int einval = 0, zero = 0;
    for (int i = 0; i < 5; i++) {
        einval += got[i] == GOOSE_EINVAL;
        zero += got[i] == 0;
    }
    ASSERT_EQ(einval, 4); /* NULL user, NULL page, another user's, freed */
    ASSERT_EQ(zero, 1);   /* the refused connection's page */
    /* said in the log, once each */
    ASSERT(strstr(logged_lines, "goose_load_assets: the page belongs to another user (user 1"));
    ASSERT(strstr(logged_lines, "goose_load_assets: the page was already freed (a use after "
                                "free) (user 0"));
    exactly(&tgt, (const char *const[]){"/assets/page"}, (const long long[]){1}, 1);
    stop_targets();
}

/* ---- a Gaggle: the Manager's options reach its Workers ---- */

static goose_attack *browser_attack(void)
{
    goose_attack *a = goose_attack_new();
    goose_scenario *s = goose_scenario_new("Browser");
    goose_scenario_add_transaction(s, "page", load_page);
    goose_attack_add_scenario(a, s);
    set(a, "quiet", NULL);
    set(a, "gaggle-timeout", "5s");
    return a;
}

static void *manager_main(void *arg)
{
    static int rc;
    rc = gaggle_manager_run(arg);
    return &rc;
}

TEST(gaggle_workers_take_the_managers_options)
{
    start_targets();
    atomic_store(&ngot, 0);
    char port[8];
    snprintf(port, sizeof port, "%d", free_port());
    goose_attack *m = browser_attack();
    set(m, "manager", NULL);
    set(m, "expect-workers", "1");
    set(m, "manager-bind-host", "127.0.0.1");
    set(m, "manager-bind-port", port);
    set(m, "host", tgt.url);
    set(m, "users", "1");
    set(m, "iterations", "2");
    set(m, "assets-cross-origin", NULL);
    set(m, "no-cache", NULL);
    goose_attack *w = browser_attack();
    set(w, "worker", NULL);
    set(w, "manager-host", "127.0.0.1");
    set(w, "manager-port", port);
    pthread_t mt;
    ASSERT_EQ(pthread_create(&mt, NULL, manager_main, m), 0);
    gaggle_worker *gw = gaggle_worker_start(w);
    ASSERT_NOT_NULL(gw);
    ASSERT_EQ(gaggle_worker_join(gw), GOOSE_OK);
    void *rc;
    pthread_join(mt, &rc);
    ASSERT_EQ(*(int *)rc, GOOSE_OK);
    ASSERT_EQ(w->opt.assets_cross_origin, 1);
    ASSERT_EQ(w->opt.no_cache, 1);
    ASSERT_EQ(atomic_load(&ngot), 2); /* the Worker's user, twice: all 7 */
    ASSERT_EQ(got[0], 7);
    ASSERT_EQ(got[1], 7);
    exactly(&tgt, page_paths, (const long long[]){2, 2, 2, 4, 2, 2}, 6);
    exactly(&other, (const char *const[]){"/assets/cdn.png"}, (const long long[]){2}, 1);
    goose_attack_free(m);
    goose_attack_free(w);
    stop_targets();
}

/* ---- nginx: HTTP/1.1 and HTTP/2 ---- */

/* Lines of the access log for uri over proto. */
static long logged(const nginx_entry *e, size_t n, const char *uri, const char *proto)
{
    long k = 0;
    for (size_t i = 0; i < n; i++)
        k += !strcmp(e[i].uri, uri) && !strcmp(e[i].proto, proto);
    return k;
}

/* Two iterations of a page loaded twice: 8 assets, then only the 5 that
 * may not be kept (b.js no-store; e.png and f1-f3.png say nothing), as
 * nginx saw them over the protocol of the run. */
static void nginx_loads(nginx *ng, const char *version, const char *proto,
                        const char *logged_as, size_t lines)
{
    char ca[160];
    snprintf(ca, sizeof ca, "%s/ca.pem", ng->certs);
    snprintf(page_path, sizeof page_path, "/assets/page.html");
    host = nginx_url(ng, NG_OK);
    loads = 2;
    json_t *report = run(2, "http-version", version, "ca-file", ca, NULL);
    host = NULL;
    ASSERT_EQ(atomic_load(&ngot), 4);
    ASSERT_EQ(got[0], 8);
    ASSERT_EQ(got[1], 5);
    ASSERT_EQ(got[2], 5);
    ASSERT_EQ(got[3], 5);
    all_over(report_request(report, "GET", "/assets/b.js"), proto);
    ASSERT_EQ(requests_named(report, "/assets/d.png"), 1);
    json_decref(report);
    size_t n;
    nginx_entry *e = nginx_log(ng, lines, &n);
    ASSERT_EQ(n, lines);
    static const char *const uris[] = {"/assets/page.html", "/assets/a.css", "/assets/b.js",
                                       "/img/c.png",        "/assets/d.png", "/assets/e.png",
                                       "/assets/f1.png",    "/assets/f2.png", "/assets/f3.png"};
    static const long want[] = {2, 1, 4, 1, 1, 4, 4, 4, 4};
    for (size_t i = 0; i < sizeof uris / sizeof uris[0]; i++)
        if (logged(e, n, uris[i], logged_as) != want[i])
            TEST_FAIL("%s over %s: %ld, want %ld", uris[i], logged_as,
                      logged(e, n, uris[i], logged_as), want[i]);
    /* at once: over HTTP/1.1 on a browser's 6 connections (the first
       load's 8 assets: 6 at once, 2 after), over HTTP/2 as streams of one */
    long conns = 0;
    for (size_t i = 0; i < n; i++) {
        int seen = strcmp(e[i].proto, logged_as) != 0;
        for (size_t j = 0; j < i && !seen; j++)
            seen = e[j].conn == e[i].conn;
        conns += !seen;
    }
    if (strcmp(proto, "HTTP/2") == 0)
        ASSERT_EQ(conns, 1);
    else
        ASSERT_EQ(conns, 6);
    free(e);
}

TEST(nginx_over_http1_and_http2)
{
    nginx ng;
    nginx_start(&ng);
    nginx_loads(&ng, "1.1", "HTTP/1.1", "HTTP/1.1", 25);
    nginx_loads(&ng, "2", "HTTP/2", "HTTP/2.0", 50);
    nginx_stop(&ng);
}

TEST_MAIN(TEST_ENTRY(cache_freshness_from_headers), TEST_ENTRY(cache_entries_go_stale),
          TEST_ENTRY(cache_is_bounded), TEST_ENTRY(html_base),
          TEST_ENTRY(quick_resolution_agrees_with_libcurl),
          TEST_ENTRY(page_loads_its_same_origin_assets),
          TEST_ENTRY(cross_origin_assets_with_the_option), TEST_ENTRY(cache_keeps_fresh_assets),
          TEST_ENTRY(stale_asset_is_fetched_again), TEST_ENTRY(base_and_page_types),
          TEST_ENTRY(assets_of_a_page_are_bounded), TEST_ENTRY(misuse_loads_nothing), TEST_ENTRY(gaggle_workers_take_the_managers_options),
          TEST_ENTRY(nginx_over_http1_and_http2))
