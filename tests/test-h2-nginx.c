/* HTTP/2 end to end: load tests (--http-version auto, the default) against
 * Debian's nginx with TLS 1.3 and `http2` on its listen lines
 * (tests/nginx.h), so ALPN picks h2 and the own client hands each user's
 * connection to its HTTP/2 client.  The report is held against nginx's
 * access log: counts, statuses, connections, the protocol (HTTP/2.0),
 * TLS sessions resumed per user.  The CA goes in through SSL_CERT_FILE,
 * as in tests/test-tls.c. */
#include "nginx.h"

#include <stdarg.h>
#include <stdatomic.h>

static nginx ng;
static atomic_int bad;

static void miss(const char *fmt, ...)
{
    if (atomic_fetch_add(&bad, 1) >= 5)
        return;
    va_list ap;
    va_start(ap, fmt);
    fputs("mismatch: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static void start(void)
{
    char ca[160];
    if (!nginx_have())
        TEST_SKIP("nginx not installed (apt-get install nginx)");
    nginx_start(&ng);
    snprintf(ca, sizeof ca, "%s/ca.pem", ng.certs);
    setenv("SSL_CERT_FILE", ca, 1);
    unsetenv("SSL_CERT_DIR");
    atomic_store(&bad, 0);
}

static goose_attack *attack(goose_transaction_fn fn, const char *host, const char *users,
                            const char *iterations)
{
    goose_attack *a = goose_attack_new();
    goose_scenario *s = goose_scenario_new("h2");
    goose_scenario_add_transaction(s, "tx", fn);
    goose_attack_add_scenario(a, s);
    set(a, "host", host);
    set(a, "users", users);
    set(a, "hatch-rate", "1000");
    set(a, "iterations", iterations);
    set(a, "run-time", "30s"); /* a cap: the iterations end the run long before */
    set(a, "no-reset-metrics", NULL);
    return a;
}

static json_t *run(goose_attack *a)
{
    ASSERT_EQ(goose_attack_run(a), GOOSE_OK);
    return report_of(a);
}

static long long count_of(json_t *report, const char *method, const char *name,
                          const char *key)
{
    json_t *r = report_request(report, method, name);
    if (!r)
        TEST_FAIL("no \"%s %s\" in the report", method, name);
    return jint(r, key);
}

static long long total_success(json_t *report)
{
    long long n = 0;
    size_t i;
    json_t *r;
    json_array_foreach(json_object_get(report, "requests"), i, r)
        n += jint(r, "success");
    return n;
}

static goose_response *send_as(goose_user *u, const char *method, const char *path,
                               const char *body, size_t len)
{
    char who[32];
    goose_request *req = goose_request_new(u, method, path);
    snprintf(who, sizeof who, "%u", goose_user_index(u));
    goose_request_set_header(req, "X-User", who);
    if (body)
        goose_request_set_body(req, body, len);
    return goose_request_send(req);
}

static void expect(goose_response *r, const char *what, int status, const char *body)
{
    size_t len = 0;
    const char *got = goose_response_body(r, &len);
    if (goose_response_status(r) != status ||
        (body && (len != strlen(body) || memcmp(got, body, len) != 0)))
        miss("%s: status %d (%s), body \"%.*s\"", what, goose_response_status(r),
             goose_response_error(r) ? goose_response_error(r) : "",
             (int)(len > 60 ? 60 : len), got ? got : "");
    goose_response_free(r);
}

static atomic_uint iteration;

/* A GET, a POST whose body (up to 200 kB: beyond the 64 kB window) comes
 * back whole, a redirect, a 404, a cookie set and then sent. */
static int mixed(goose_user *u)
{
    unsigned k = atomic_fetch_add(&iteration, 1);
    size_t len = 1 + (k * 40009u) % 200000;
    char *body = malloc(len);
    if (!body)
        return 1;
    for (size_t i = 0; i < len; i++)
        body[i] = (char)('a' + (i * 7 + k) % 26);
    expect(send_as(u, "GET", "/ok", NULL, 0), "GET /ok", 200, "ok\n");
    goose_response *r = send_as(u, "POST", "/echo", body, len);
    size_t got_len = 0;
    const char *got = goose_response_body(r, &got_len);
    const char *blank = got ? strstr(got, "\n\n") : NULL;
    if (goose_response_status(r) != 200 || !blank ||
        (size_t)(got + got_len - (blank + 2)) != len || memcmp(blank + 2, body, len) != 0)
        miss("POST /echo of %zu bytes: status %d, %zu bytes back", len,
             goose_response_status(r), got_len);
    goose_response_free(r);
    expect(send_as(u, "GET", "/redirect", NULL, 0), "GET /redirect", 200, "ok\n");
    expect(send_as(u, "GET", "/missing", NULL, 0), "GET /missing", 404, "missing\n");
    expect(send_as(u, "GET", "/login", NULL, 0), "GET /login", 200, "in\n");
    r = send_as(u, "GET", "/echo", NULL, 0);
    got = goose_response_body(r, NULL);
    if (!got || !strstr(got, "cookie: sid=s3cret\n"))
        miss("the cookie of /login did not come back: %s", got ? got : "(no body)");
    goose_response_free(r);
    free(body);
    return GOOSE_OK;
}

static void all_h2(const nginx_entry *e, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(e[i].proto, "HTTP/2.0") || strcmp(e[i].ssl, "TLSv1.3"))
            TEST_FAIL("%s %s came as %s over %s", e[i].method, e[i].uri, e[i].proto, e[i].ssl);
}

/* Keep-alive: one connection per user, every request in the report once
 * in nginx's log, bodies whole, cookies kept, 4xx counted, all HTTP/2. */
TEST(h2_counts_equal_nginx_log)
{
    start();
    goose_attack *a = attack(mixed, nginx_url(&ng, NG_OK), "4", "10");
    json_t *report = run(a);
    size_t n;
    nginx_entry *log = nginx_log(&ng, 280, &n);
    ASSERT_EQ(atomic_load(&bad), 0);
    ASSERT_EQ(report_total(report), 280);
    ASSERT_EQ((long long)n, 280);
    ASSERT_EQ(count_of(report, "GET", "/ok", "count"), 80); /* 40 + 40 hops */
    ASSERT_EQ(nginx_count(log, n, 0, "GET", "/ok"), 80);
    ASSERT_EQ(count_of(report, "POST", "/echo", "count"), 40);
    ASSERT_EQ(nginx_count(log, n, 0, "POST", "/echo"), 40);
    ASSERT_EQ(count_of(report, "GET", "/missing", "fail"), 40);
    ASSERT_EQ(nginx_count(log, n, 0, "GET", "/missing"), 40);
    ASSERT_EQ(total_success(report), 240);
    all_h2(log, n);
    ASSERT_EQ(nginx_conns(log, n, 0), 4);
    free(log);
    json_decref(report);
    goose_attack_free(a);
    nginx_stop(&ng);
}

static int get_ok(goose_user *u)
{
    expect(send_as(u, "GET", "/ok", NULL, 0), "GET /ok", 200, "ok\n");
    return GOOSE_OK;
}

/* nginx closes each connection after one request (GOAWAY): every request
 * on a new connection of its user's HTTP/2 client, counted once; each
 * reconnect resumes the TLS session that user was given, never another's. */
TEST(h2_reconnects_resume_the_users_own_session)
{
    start();
    goose_attack *a = attack(get_ok, nginx_url(&ng, NG_ONCE), "3", "8");
    json_t *report = run(a);
    size_t n;
    nginx_entry *log = nginx_log(&ng, 24, &n);
    ASSERT_EQ(atomic_load(&bad), 0);
    ASSERT_EQ(report_total(report), 24);
    ASSERT_EQ(total_success(report), 24);
    ASSERT_EQ((long long)n, 24);
    ASSERT_EQ(nginx_conns(log, n, 0), 24);
    all_h2(log, n);
    for (int user = 0; user < 3; user++) {
        char who[32];
        snprintf(who, sizeof who, "%d", user);
        int first = 1, lines = 0;
        for (size_t i = 0; i < n; i++) {
            if (strcmp(log[i].user, who))
                continue;
            lines++;
            if (log[i].reused != (first ? '.' : 'r'))
                TEST_FAIL("user %d, request %d: session reused \"%c\"", user, lines,
                          log[i].reused);
            first = 0;
        }
        ASSERT_EQ(lines, 8);
    }
    free(log);
    json_decref(report);
    goose_attack_free(a);
    nginx_stop(&ng);
}

static int get_then_wait(goose_user *u)
{
    expect(send_as(u, "GET", "/ok", NULL, 0), "GET /ok", 200, "ok\n");
    expect(send_as(u, "POST", "/echo", "x=1", 3), "POST /echo", 200, NULL);
    goose_sleep(u, 80 + (unsigned)goose_user_index(u) * 15);
    return GOOSE_OK;
}

/* nginx closes idle connections after 100 ms while users wait 80-125 ms:
 * closes race requests, and still every request is counted once, none
 * fails, a POST is never sent twice. */
TEST(h2_idle_closes_race_requests)
{
    start();
    goose_attack *a = attack(get_then_wait, nginx_url(&ng, NG_IDLE), "4", "12");
    json_t *report = run(a);
    size_t n;
    nginx_entry *log = nginx_log(&ng, 96, &n);
    ASSERT_EQ(atomic_load(&bad), 0);
    ASSERT_EQ(report_total(report), 96);
    ASSERT_EQ(total_success(report), 96);
    ASSERT_EQ((long long)n, 96);
    ASSERT_EQ(nginx_count(log, n, 0, "POST", "/echo"), 48);
    all_h2(log, n);
    free(log);
    json_decref(report);
    goose_attack_free(a);
    nginx_stop(&ng);
}

TEST_MAIN(TEST_ENTRY(h2_counts_equal_nginx_log),
          TEST_ENTRY(h2_reconnects_resume_the_users_own_session),
          TEST_ENTRY(h2_idle_closes_race_requests))
