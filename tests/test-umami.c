/* The bundled target's site (tests/target/target.c, "The site" in its
 * --help): one-time form tokens, sessions, the JSON API and the assets,
 * each checked against the target's own /stats "site" counts; then
 * examples/umami.c run against it, its report held against /stats, and a
 * script that reuses a token. */
#include "e2e.h"

#include <regex.h>
#include <stddef.h>
#include <strings.h>

static target tgt;

/* One exchange with the target: the status, the body (to free), and the
 * Location and SESS cookie of the answer when asked. */
typedef struct exchange {
    long status;
    body body;
    char location[128];
    char cookie[64];      /* "SESS=..." as Set-Cookie gave it */
    char type[64];        /* Content-Type */
    char cache[64];       /* Cache-Control */
} exchange;

static void header_copy(char *dst, size_t size, const char *v, size_t n)
{
    while (n > 0 && (v[n - 1] == '\r' || v[n - 1] == '\n'))
        n--;
    if (n >= size)
        n = size - 1;
    memcpy(dst, v, n);
    dst[n] = '\0';
}

static size_t on_header(char *p, size_t size, size_t n, void *arg)
{
    exchange *x = arg;
    size_t len = size * n;
    static const struct { const char *name; size_t off, size; } keep[] = {
        {"Location: ", offsetof(exchange, location), sizeof(((exchange *)0)->location)},
        {"Content-Type: ", offsetof(exchange, type), sizeof(((exchange *)0)->type)},
        {"Cache-Control: ", offsetof(exchange, cache), sizeof(((exchange *)0)->cache)},
    };
    for (size_t i = 0; i < sizeof keep / sizeof keep[0]; i++) {
        size_t k = strlen(keep[i].name);
        if (len > k && strncasecmp(p, keep[i].name, k) == 0)
            header_copy((char *)x + keep[i].off, keep[i].size, p + k, len - k);
    }
    if (len > 17 && strncasecmp(p, "Set-Cookie: SESS=", 17) == 0)
        header_copy(x->cookie, sizeof x->cookie, p + 12, strcspn(p + 12, ";\r\n"));
    return len;
}

static CURL *easy; /* one connection for the whole test, as a browser */

/* METHOD path with a body of content type (NULL: none), the cookie sent
 * (NULL: none); never follows a redirect. */
static exchange send_to(const char *method, const char *path, const char *type,
                        const char *data, const char *cookie)
{
    exchange x;
    memset(&x, 0, sizeof x);
    char url[256];
    struct curl_slist *h = NULL;
    char line[128];
    snprintf(url, sizeof url, "%s%s", tgt.url, path);
    if (!easy)
        ASSERT_NOT_NULL(easy = curl_easy_init());
    curl_easy_reset(easy);
    curl_easy_setopt(easy, CURLOPT_URL, url);
    curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, method);
    if (data) {
        curl_easy_setopt(easy, CURLOPT_POSTFIELDS, data);
        snprintf(line, sizeof line, "Content-Type: %s", type);
        h = curl_slist_append(h, line);
    }
    if (cookie)
        curl_easy_setopt(easy, CURLOPT_COOKIE, cookie);
    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, body_add);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, &x.body);
    curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(easy, CURLOPT_HEADERDATA, &x);
    curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, 10000L);
    ASSERT_EQ(curl_easy_perform(easy), CURLE_OK);
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &x.status);
    curl_slist_free_all(h);
    if (!x.body.data)
        x.body.data = calloc(1, 1);
    return x;
}

static long status_of(const char *method, const char *path, const char *type,
                      const char *data, const char *cookie)
{
    exchange x = send_to(method, path, type, data, cookie);
    free(x.body.data);
    return x.status;
}

/* The form_token of a page the target wrote, its character references
 * decoded (the target writes '+', '/' and '=' as &#43; &#x2F; &#61;). */
static char *form_token(const char *html)
{
    static const char mark[] = "name=\"form_token\" value=\"";
    const char *p = strstr(html, mark);
    if (!p)
        TEST_FAIL("no form_token in the page: %.200s", html);
    p += strlen(mark);
    char *out = calloc(1, strlen(p) + 1), *o = out;
    static const struct { const char *ref, c; } refs[] = {
        {"&#43;", '+'}, {"&#x2F;", '/'}, {"&#61;", '='}};
    while (*p && *p != '"') {
        size_t i;
        for (i = 0; i < 3; i++)
            if (!strncmp(p, refs[i].ref, strlen(refs[i].ref)))
                break;
        if (i < 3) {
            *o++ = refs[i].c;
            p += strlen(refs[i].ref);
        } else {
            *o++ = *p++;
        }
    }
    ASSERT_EQ(strlen(out), 24);
    return out;
}

/* GET a form page (as cookie) and its token. */
static char *token_of(const char *path, const char *cookie)
{
    exchange x = send_to("GET", path, NULL, NULL, cookie);
    ASSERT_EQ(x.status, 200);
    char *t = form_token(x.body.data);
    free(x.body.data);
    return t;
}

/* name=...&password=...&form_token=..., percent-encoded. */
static char *login_form(const char *name, const char *password, const char *token)
{
    char *n = curl_easy_escape(NULL, name, 0), *p = curl_easy_escape(NULL, password, 0);
    char *t = token ? curl_easy_escape(NULL, token, 0) : NULL;
    size_t size = strlen(n) + strlen(p) + (t ? strlen(t) : 0) + 64;
    char *f = malloc(size);
    snprintf(f, size, "name=%s&password=%s%s%s", n, p, t ? "&form_token=" : "", t ? t : "");
    curl_free(n);
    curl_free(p);
    curl_free(t);
    return f;
}

static const char form_type[] = "application/x-www-form-urlencoded";

static exchange post_login(const char *token)
{
    char *f = login_form("editor", "secret", token);
    exchange x = send_to("POST", "/user/login", form_type, f, NULL);
    free(f);
    return x;
}

/* A session cookie, logged in through the form. */
static void log_in(char *cookie, size_t size)
{
    char *t = token_of("/user/login", NULL);
    exchange x = post_login(t);
    ASSERT_EQ(x.status, 303);
    ASSERT_STR_EQ(x.location, "/home");
    ASSERT_EQ(strncmp(x.cookie, "SESS=", 5), 0);
    snprintf(cookie, size, "%s", x.cookie);
    free(x.body.data);
    free(t);
}

static long long site_count(json_t *stats, const char *key)
{
    json_t *site = json_object_get(stats, "site");
    if (!json_is_object(site))
        TEST_FAIL("/stats has no \"site\"");
    return jint(site, key);
}

static long long route_count(json_t *stats, const char *route)
{
    return jint(json_object_get(json_object_get(stats, "site"), "routes"), route);
}

static void teardown(void)
{
    if (easy)
        curl_easy_cleanup(easy);
    easy = NULL;
    target_stop(&tgt);
}

TEST(login_token_is_one_time)
{
    target_start(&tgt);
    char *t = token_of("/user/login", NULL);
    exchange ok = post_login(t);
    ASSERT_EQ(ok.status, 303);
    ASSERT_STR_EQ(ok.location, "/home");
    ASSERT_EQ(strncmp(ok.cookie, "SESS=", 5), 0);
    free(ok.body.data);
    ASSERT_EQ(status_of("POST", "/user/login", form_type,
                        "name=editor&password=secret", NULL), 403); /* no token */
    exchange again = post_login(t); /* reused */
    ASSERT_EQ(again.status, 403);
    ASSERT_STR_EQ(again.cookie, "");
    free(again.body.data);
    ASSERT_EQ(status_of("POST", "/user/login", form_type,
                        "name=editor&password=secret&form_token=AAAAAAAAAAAAAAAAAAAAAA%3D%3D",
                        NULL), 403); /* never issued */
    /* a token with a '+' sent without percent-encoding reads as a space:
     * refused, and still good when sent right */
    char *u = NULL, raw[128];
    int k = 0;
    while (k < 500 && (!u || !strchr(u, '+'))) {
        free(u);
        u = token_of("/user/login", NULL);
        k++;
    }
    ASSERT_NOT_NULL(strchr(u, '+'));
    snprintf(raw, sizeof raw, "name=editor&password=secret&form_token=%s", u);
    ASSERT_EQ(status_of("POST", "/user/login", form_type, raw, NULL), 403);
    exchange encoded = post_login(u);
    ASSERT_EQ(encoded.status, 303);
    free(encoded.body.data);
    /* a valid token with a wrong password: used up, no session */
    char *w = token_of("/user/login", NULL), *f = login_form("editor", "wrong", w);
    exchange bad = send_to("POST", "/user/login", form_type, f, NULL);
    ASSERT_EQ(bad.status, 403);
    ASSERT_STR_EQ(bad.cookie, "");
    free(bad.body.data);
    free(f);
    json_t *stats = target_json(&tgt, "/stats");
    ASSERT_EQ(site_count(stats, "tokens_issued"), 2 + k);
    ASSERT_EQ(site_count(stats, "tokens_accepted"), 3);
    ASSERT_EQ(site_count(stats, "tokens_rejected"), 4);
    ASSERT_EQ(site_count(stats, "logins"), 2);
    ASSERT_EQ(site_count(stats, "login_failures"), 1);
    ASSERT_EQ(site_count(stats, "sessions"), 2);
    ASSERT_EQ(route_count(stats, "GET /user/login"), 2 + k);
    ASSERT_EQ(route_count(stats, "POST /user/login"), 7);
    ASSERT_EQ(target_count(stats, "/user/login"), 9 + k); /* both methods */
    json_decref(stats);
    free(t);
    free(u);
    free(w);
    teardown();
}

TEST(edit_token_belongs_to_its_session_and_node)
{
    target_start(&tgt);
    char a[64], b[64], form[128];
    ASSERT_EQ(status_of("GET", "/node/7/edit", NULL, NULL, NULL), 403);
    ASSERT_EQ(status_of("POST", "/node/7/edit", form_type, "title=x", NULL), 403);
    log_in(a, sizeof a);
    log_in(b, sizeof b);
    ASSERT(strcmp(a, b) != 0);

    exchange page = send_to("GET", "/node/7/edit", NULL, NULL, a);
    ASSERT_EQ(page.status, 200);
    ASSERT_NOT_NULL(strstr(page.body.data, "<title>Edit node 7</title>"));
    char *t = form_token(page.body.data), *e = curl_easy_escape(NULL, t, 0);
    free(page.body.data);
    snprintf(form, sizeof form, "title=honk&form_token=%s", e);
    ASSERT_EQ(status_of("POST", "/node/8/edit", form_type, form, a), 403); /* other node */
    ASSERT_EQ(status_of("POST", "/node/7/edit", form_type, form, b), 403); /* other session */
    ASSERT_EQ(status_of("POST", "/node/7/edit", "text/plain", form, a), 415);
    exchange saved = send_to("POST", "/node/7/edit", form_type, form, a);
    ASSERT_EQ(saved.status, 303);
    ASSERT_STR_EQ(saved.location, "/node/7");
    free(saved.body.data);
    ASSERT_EQ(status_of("POST", "/node/7/edit", form_type, form, a), 403); /* used */
    curl_free(e);
    free(t);

    /* logged out: the session is gone, its pages refused */
    ASSERT_EQ(status_of("GET", "/user/logout", NULL, NULL, a), 303);
    ASSERT_EQ(status_of("GET", "/node/7/edit", NULL, NULL, a), 403);
    ASSERT_EQ(status_of("GET", "/node/7/edit", NULL, NULL, b), 200);

    json_t *stats = target_json(&tgt, "/stats");
    ASSERT_EQ(site_count(stats, "tokens_accepted"), 3); /* 2 logins, 1 edit */
    ASSERT_EQ(site_count(stats, "tokens_rejected"), 3);
    ASSERT_EQ(site_count(stats, "edits"), 1);
    ASSERT_EQ(site_count(stats, "logouts"), 1);
    ASSERT_EQ(site_count(stats, "sessions"), 1);
    ASSERT_EQ(route_count(stats, "GET /node/N/edit"), 4);
    ASSERT_EQ(route_count(stats, "POST /node/N/edit"), 6);
    json_decref(stats);
    teardown();
}

/* 4096 outstanding tokens and sessions at most: the oldest goes. */
TEST(tokens_and_sessions_are_capped)
{
    target_start(&tgt);
    char *first = token_of("/user/login", NULL), *last = NULL;
    for (int i = 0; i < 4096; i++) {
        free(last);
        last = token_of("/user/login", NULL);
    }
    exchange x = post_login(first);
    ASSERT_EQ(x.status, 403);
    free(x.body.data);
    x = post_login(last);
    ASSERT_EQ(x.status, 303);
    free(x.body.data);
    json_t *stats = target_json(&tgt, "/stats");
    ASSERT_EQ(site_count(stats, "tokens_issued"), 4097);
    ASSERT_EQ(site_count(stats, "tokens_dropped"), 1);
    json_decref(stats);

    char oldest[64], cookie[64];
    log_in(oldest, sizeof oldest);
    for (int i = 0; i < 4095; i++)
        log_in(cookie, sizeof cookie);
    stats = target_json(&tgt, "/stats");
    ASSERT_EQ(site_count(stats, "sessions"), 4096);
    ASSERT_EQ(site_count(stats, "sessions_dropped"), 1); /* the one of `last` */
    json_decref(stats);
    ASSERT_EQ(status_of("GET", "/node/1/edit", NULL, NULL, oldest), 200);
    log_in(cookie, sizeof cookie);
    ASSERT_EQ(status_of("GET", "/node/1/edit", NULL, NULL, oldest), 403);
    ASSERT_EQ(status_of("GET", "/node/1/edit", NULL, NULL, cookie), 200);
    free(first);
    free(last);
    teardown();
}

TEST(json_api_returns_ids)
{
    target_start(&tgt);
    json_error_t err;
    exchange list = send_to("GET", "/api/nodes", NULL, NULL, NULL);
    ASSERT_EQ(list.status, 200);
    ASSERT_STR_EQ(list.type, "application/json");
    json_t *j = json_loads(list.body.data, 0, &err);
    json_t *items = json_object_get(json_object_get(j, "data"), "items");
    ASSERT_EQ(json_array_size(items), 10);
    ASSERT_EQ(jint(json_array_get(items, 2), "id"), 3);
    json_decref(j);
    free(list.body.data);

    exchange one = send_to("GET", "/api/nodes/3", NULL, NULL, NULL);
    ASSERT_EQ(one.status, 200);
    j = json_loads(one.body.data, 0, &err);
    ASSERT_STR_EQ(json_string_value(json_object_get(json_object_get(j, "data"), "title")),
                  "node 3");
    json_decref(j);
    free(one.body.data);

    exchange made = send_to("POST", "/api/nodes", "application/json",
                            "{\"title\": \"Goose \\u00e9 \\\"pie\\\"\"}", NULL);
    ASSERT_EQ(made.status, 201);
    j = json_loads(made.body.data, 0, &err);
    long long id = jint(json_object_get(j, "data"), "id");
    char path[64];
    snprintf(path, sizeof path, "/api/nodes/%lld", id);
    ASSERT_STR_EQ(made.location, path);
    json_decref(j);
    free(made.body.data);
    exchange back = send_to("GET", path, NULL, NULL, NULL);
    ASSERT_EQ(back.status, 200);
    j = json_loads(back.body.data, 0, &err);
    ASSERT_STR_EQ(json_string_value(json_object_get(json_object_get(j, "data"), "title")),
                  "Goose \xc3\xa9 \"pie\"");
    json_decref(j);
    free(back.body.data);

    ASSERT_EQ(status_of("POST", "/api/nodes", "application/json", "{\"title\": ", NULL), 400);
    ASSERT_EQ(status_of("POST", "/api/nodes", "application/json", "title=x", NULL), 400);
    ASSERT_EQ(status_of("POST", "/api/nodes", "application/json", "[1]", NULL), 422);
    ASSERT_EQ(status_of("POST", "/api/nodes", "application/json", "1", NULL), 422); /* JSON */
    ASSERT_EQ(status_of("POST", "/api/nodes", "application/json",
                        "{\"title\": \"a\\u0000b\"}", NULL), 422);
    ASSERT_EQ(status_of("POST", "/api/nodes", "text/plain", "{\"title\": \"x\"}", NULL), 415);
    ASSERT_EQ(status_of("GET", "/api/nodes/0", NULL, NULL, NULL), 404);
    snprintf(path, sizeof path, "/api/nodes/%lld", id + 1);
    ASSERT_EQ(status_of("GET", path, NULL, NULL, NULL), 404);

    json_t *stats = target_json(&tgt, "/stats");
    ASSERT_EQ(site_count(stats, "nodes_created"), 1);
    ASSERT_EQ(route_count(stats, "GET /api/nodes"), 1);
    ASSERT_EQ(route_count(stats, "GET /api/nodes/ID"), 4);
    ASSERT_EQ(route_count(stats, "POST /api/nodes"), 7);
    json_decref(stats);
    teardown();
}

TEST(front_page_assets_and_reset)
{
    static const struct { const char *path, *type, *cache; } assets[] = {
        {"/theme/style.css", "text/css; charset=utf-8", "public, max-age=3600"},
        {"/theme/site.js", "text/javascript; charset=utf-8", "public, max-age=3600"},
        {"/theme/logo.svg", "image/svg+xml", "public, max-age=3600"},
        {"/theme/favicon.ico", "image/x-icon", "public, max-age=86400"},
        {"/media/banner.png", "image/png", "no-store"},
    };
    target_start(&tgt);
    exchange home = send_to("GET", "/home", NULL, NULL, NULL);
    ASSERT_EQ(home.status, 200);
    ASSERT_STR_EQ(home.type, "text/html; charset=utf-8");
    ASSERT_NOT_NULL(strstr(home.body.data, "<title>Goose Umami</title>"));
    ASSERT_NOT_NULL(strstr(home.body.data, "href=\"/node/10\""));
    for (size_t i = 0; i < sizeof assets / sizeof assets[0]; i++) {
        char ref[64];
        snprintf(ref, sizeof ref, "=\"%s\"", assets[i].path);
        if (!strstr(home.body.data, ref))
            TEST_FAIL("/home does not reference %s", assets[i].path);
        exchange a = send_to("GET", assets[i].path, NULL, NULL, NULL);
        ASSERT_EQ(a.status, 200);
        ASSERT_STR_EQ(a.type, assets[i].type);
        ASSERT_STR_EQ(a.cache, assets[i].cache);
        ASSERT_GT(a.body.len, 0);
        free(a.body.data);
    }
    free(home.body.data);
    ASSERT_EQ(status_of("POST", "/theme/style.css", "text/plain", "x", NULL), 404);
    char cookie[64];
    log_in(cookie, sizeof cookie);
    json_t *stats = target_json(&tgt, "/stats");
    ASSERT_EQ(target_count(stats, "/theme/style.css"), 2);
    ASSERT_EQ(route_count(stats, "GET /home"), 1);
    ASSERT_EQ(site_count(stats, "logins"), 1);
    json_decref(stats);
    char url[128];
    snprintf(url, sizeof url, "%s/reset", tgt.url);
    free(http_fetch(url, NULL, 10000, NULL));
    stats = target_json(&tgt, "/stats");
    ASSERT_EQ(site_count(stats, "logins"), 0);
    ASSERT_EQ(site_count(stats, "tokens_accepted"), 0);
    ASSERT_EQ(route_count(stats, "GET /home"), 0);
    ASSERT_EQ(site_count(stats, "sessions"), 1); /* the session itself stays */
    json_decref(stats);
    ASSERT_EQ(status_of("GET", "/node/1/edit", NULL, NULL, cookie), 200);
    teardown();
}

/* ---- examples/umami.c against the site ---- */

/* Runs build/examples/umami against the target for `seconds` with the
 * options given (NULL-terminated), password as UMAMI_PASSWORD (NULL: the
 * default); returns its JSON report, its exit status in *status. */
static json_t *run_umami(int *status, const char *password, const char *seconds, ...)
{
    char exe[256], report[128];
    const char *argv[32];
    int n = 0;
    snprintf(exe, sizeof exe, "%s/examples/umami", build_dir());
    if (access(exe, X_OK) != 0)
        TEST_FAIL("no %s: build the examples first (make)", exe);
    snprintf(report, sizeof report, "/tmp/goose-test-umami.%d.json", (int)getpid());
    unlink(report);
    argv[n++] = exe;
    argv[n++] = "--host";
    argv[n++] = tgt.url;
    argv[n++] = "-t";
    argv[n++] = seconds;
    argv[n++] = "--no-reset-metrics";
    argv[n++] = "--report-file";
    argv[n++] = report;
    argv[n++] = "-q";
    va_list ap;
    va_start(ap, seconds);
    const char *a;
    while ((a = va_arg(ap, const char *)) != NULL && n < 31)
        argv[n++] = a;
    va_end(ap);
    argv[n] = NULL;
    pid_t pid = fork();
    ASSERT(pid >= 0);
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (!freopen("/dev/null", "w", stdout))
            _exit(127);
        if (password)
            setenv("UMAMI_PASSWORD", password, 1);
        execv(exe, (char *const *)argv);
        _exit(127);
    }
    int ws = 0;
    for (int i = 0; i < 600 && waitpid(pid, &ws, WNOHANG) == 0; i++)
        usleep(100000); /* 60 s at most */
    if (waitpid(pid, &ws, WNOHANG) == 0) {
        kill(pid, SIGKILL);
        waitpid(pid, &ws, 0);
        TEST_FAIL("umami did not end within 60 s");
    }
    *status = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
    json_error_t err;
    json_t *j = json_load_file(report, 0, &err);
    if (!j)
        TEST_FAIL("umami wrote no JSON report (exit %d): %s", *status, err.text);
    unlink(report);
    return j;
}

static long long count_of(json_t *report, const char *method, const char *name)
{
    json_t *r = report_request(report, method, name);
    return r ? jint(r, "count") : 0;
}

/* The target's count of what the report names "METHOD name": a site route
 * (both methods share a path), "/node/[id]" (every /node/N), else the path. */
static long long target_side(json_t *stats, const char *method, const char *name)
{
    static const struct { const char *report, *route; } routes[] = {
        {"GET /home", "GET /home"},
        {"GET /user/login", "GET /user/login"},
        {"POST /user/login", "POST /user/login"},
        {"GET /user/logout", "GET /user/logout"},
        {"GET /node/[id]/edit", "GET /node/N/edit"},
        {"POST /node/[id]/edit", "POST /node/N/edit"},
        {"GET /api/nodes", "GET /api/nodes"},
        {"GET /api/nodes/[id]", "GET /api/nodes/ID"},
        {"POST /api/nodes", "POST /api/nodes"},
    };
    char key[128];
    snprintf(key, sizeof key, "%s %s", method, name);
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++)
        if (!strcmp(key, routes[i].report))
            return route_count(stats, routes[i].route);
    if (!strcmp(key, "GET /node/[id]")) {
        regex_t re;
        ASSERT_EQ(regcomp(&re, "^/node/[0-9]+$", REG_EXTENDED | REG_NOSUB), 0);
        long long sum = 0;
        const char *path;
        json_t *v;
        json_object_foreach(json_object_get(stats, "paths"), path, v)
            if (regexec(&re, path, 0, NULL, 0) == 0)
                sum += json_integer_value(v);
        regfree(&re);
        return sum;
    }
    if (strcmp(method, "GET") != 0)
        TEST_FAIL("an unexpected request in the report: %s", key);
    return target_count(stats, name);
}

static const char *const umami_assets[] = {
    "/theme/style.css", "/theme/site.js", "/theme/logo.svg", "/theme/favicon.ico",
    "/media/banner.png",
};

static json_t *transaction_of(json_t *report, const char *name)
{
    size_t i;
    json_t *t;
    json_array_foreach(json_object_get(report, "transactions"), i, t)
        if (!strcmp(json_string_value(json_object_get(t, "name")), name))
            return t;
    return NULL;
}

/* Every request line of the report equals what the target counted for
 * it; nothing failed; tokens accepted = logins + edits, none refused. */
TEST(umami_report_holds_against_target)
{
    target_start(&tgt);
    int status;
    json_t *report = run_umami(&status, NULL, "3s", "-u", "10", "-r", "50", NULL);
    json_t *stats = target_json(&tgt, "/stats");
    ASSERT_EQ(status, 0);
    ASSERT_EQ(report_total(report), target_total(stats));
    size_t i;
    json_t *r;
    json_array_foreach(json_object_get(report, "requests"), i, r) {
        const char *method = json_string_value(json_object_get(r, "method"));
        const char *name = json_string_value(json_object_get(r, "name"));
        long long want = target_side(stats, method, name);
        if (jint(r, "count") != want || jint(r, "fail") != 0)
            TEST_FAIL("%s %s: %lld counted (%lld failed), the target answered %lld",
                      method, name, jint(r, "count"), jint(r, "fail"), want);
    }
    ASSERT_EQ(json_array_size(json_object_get(report, "errors")), 0);

    long long logins = site_count(stats, "logins"), edits = site_count(stats, "edits");
    ASSERT_EQ(logins, 2); /* 10 users, weights 4:1: 2 editors, once each */
    ASSERT_EQ(count_of(report, "POST", "/user/login"), 2);
    ASSERT_EQ(count_of(report, "GET", "/user/logout"), 2); /* on_stop */
    ASSERT_GT(edits, 0);
    ASSERT_EQ(edits, count_of(report, "POST", "/node/[id]/edit"));
    ASSERT_EQ(site_count(stats, "tokens_accepted"), logins + edits);
    ASSERT_EQ(site_count(stats, "tokens_rejected"), 0);
    ASSERT_EQ(site_count(stats, "login_failures"), 0);
    ASSERT_GT(site_count(stats, "nodes_created"), 0);
    ASSERT_EQ(site_count(stats, "nodes_created"), count_of(report, "POST", "/api/nodes"));
    ASSERT_GT(count_of(report, "GET", "/api/nodes/[id]"), 0);
    ASSERT_GT(count_of(report, "GET", "/node/[id]"), 0);
    ASSERT_EQ(jint(transaction_of(report, "log in"), "fail"), 0);
    ASSERT_EQ(jint(transaction_of(report, "edit node"), "fail"), 0);
    ASSERT_EQ(jint(transaction_of(report, "create node"), "fail"), 0);

    /* the assets: every one loaded; the theme (max-age=3600) once per user
     * at most, the no-store banner with every front page */
    long long home = count_of(report, "GET", "/home");
    ASSERT_GT(home, 10);
    for (size_t k = 0; k < sizeof umami_assets / sizeof umami_assets[0]; k++) {
        long long n = count_of(report, "GET", umami_assets[k]);
        ASSERT_GT(n, 0);
        if (k < 4 && n > 10)
            TEST_FAIL("%s fetched %lld times by 10 users: not cached", umami_assets[k], n);
    }
    ASSERT_LE(count_of(report, "GET", "/media/banner.png"), home);
    ASSERT_GE(count_of(report, "GET", "/media/banner.png"), home - 10);
    json_decref(report);
    json_decref(stats);
    teardown();
}

/* A refused login stops the editor: no edit, no node made; on_stop runs. */
TEST(umami_refused_login_stops_the_editor)
{
    target_start(&tgt);
    int status;
    json_t *report = run_umami(&status, "wrong", "2s", "-u", "5", "-r", "50", NULL);
    json_t *stats = target_json(&tgt, "/stats");
    ASSERT_EQ(status, 0); /* failed requests alone do not change it */
    ASSERT_EQ(report_total(report), target_total(stats));
    ASSERT_EQ(site_count(stats, "login_failures"), 1); /* the one editor, once */
    ASSERT_EQ(site_count(stats, "logins"), 0);
    ASSERT_EQ(route_count(stats, "POST /user/login"), 1);
    ASSERT_EQ(route_count(stats, "GET /node/N/edit"), 0);
    ASSERT_EQ(route_count(stats, "POST /api/nodes"), 0);
    ASSERT_EQ(route_count(stats, "GET /user/logout"), 1);
    json_t *login = report_request(report, "POST", "/user/login");
    ASSERT_NOT_NULL(login);
    ASSERT_EQ(jint(login, "fail"), 1);
    ASSERT_EQ(jint(json_object_get(login, "status_codes"), "403"), 1);
    ASSERT_EQ(jint(transaction_of(report, "log in"), "fail"), 1);
    ASSERT_GT(route_count(stats, "GET /home"), 0); /* readers went on */
    size_t i;
    json_t *e;
    int said = 0;
    json_array_foreach(json_object_get(report, "transaction_errors"), i, e)
        said |= !strcmp(json_string_value(json_object_get(e, "error")), "login refused");
    ASSERT(said);
    json_decref(report);
    json_decref(stats);
    teardown();
}

/* ---- a script that posts a token twice ---- */

static int reuse_token(goose_user *u)
{
    goose_response *form = goose_get(u, "/user/login");
    const char *token = goose_response_form_value(form, "form_token");
    for (int i = 0; i < 2; i++) {
        goose_request *req = goose_request_new(u, "POST", "/user/login");
        goose_request_add_form(req, "name", "editor");
        goose_request_add_form(req, "password", "secret");
        goose_request_add_form(req, "form_token", token ? token : "none");
        goose_request_expect_status(req, 303);
        goose_response *r = goose_request_send(req);
        int want = i == 0 ? 303 : 403;
        if (goose_response_status(r) != want)
            miss("post %d of the token: %d, want %d", i + 1, goose_response_status(r), want);
        goose_response_free(r);
    }
    goose_response_free(form);
    return GOOSE_OK;
}

TEST(reused_token_is_refused_and_counted)
{
    target_start(&tgt);
    goose_attack *a = goose_attack_new();
    goose_scenario *s = goose_scenario_new("Reuser");
    goose_scenario_add_transaction(s, "reuse token", reuse_token);
    goose_attack_add_scenario(a, s);
    set(a, "host", tgt.url);
    set(a, "users", "2");
    set(a, "hatch-rate", "100");
    set(a, "iterations", "3");
    set(a, "no-reset-metrics", NULL);
    ASSERT_EQ(goose_attack_run(a), GOOSE_OK);
    json_t *report = report_of(a), *stats = target_json(&tgt, "/stats");
    ASSERT_EQ(atomic_load(&bad), 0);
    json_t *post = report_request(report, "POST", "/user/login");
    ASSERT_NOT_NULL(post);
    ASSERT_EQ(jint(post, "count"), 12);
    ASSERT_EQ(jint(post, "fail"), 6);
    ASSERT_EQ(jint(json_object_get(post, "status_codes"), "403"), 6);
    ASSERT_EQ(site_count(stats, "tokens_accepted"), 6);
    ASSERT_EQ(site_count(stats, "tokens_rejected"), 6);
    ASSERT_EQ(site_count(stats, "logins"), 6);
    ASSERT_EQ(route_count(stats, "POST /user/login"), 12);
    json_decref(report);
    json_decref(stats);
    goose_attack_free(a);
    teardown();
}

TEST_MAIN(TEST_ENTRY(login_token_is_one_time),
          TEST_ENTRY(edit_token_belongs_to_its_session_and_node),
          TEST_ENTRY(tokens_and_sessions_are_capped),
          TEST_ENTRY(json_api_returns_ids),
          TEST_ENTRY(front_page_assets_and_reset),
          TEST_ENTRY(umami_report_holds_against_target),
          TEST_ENTRY(umami_refused_login_stops_the_editor),
          TEST_ENTRY(reused_token_is_refused_and_counted))
