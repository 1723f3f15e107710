/* HTTPS end to end: load tests against Debian's nginx with TLS 1.3 (and
 * `http2` on its listen lines) on 127.0.0.1, certificates made by the test
 * (tests/tls/make-certs.sh, tests/nginx.h).  The report is held against
 * nginx's access log: counts, statuses, connections, which protocol
 * nginx spoke, whether each TLS session was resumed.  The load tests run
 * over each transport of the own client: HTTP/1.1 (--http-version 1.1;
 * libcurl would take h2) and HTTP/2 (auto: ALPN picks h2, and the own
 * client hands each user's connection to its HTTP/2 client).  Certificate
 * problems must read the same whichever transport met them.
 *
 * Runs take the CA through OpenSSL's SSL_CERT_FILE (the run's "system"
 * store); the TLS setup's own fields (a CA given as PEM, a client
 * certificate, --accept-invalid-certs) are driven through the transport
 * rows directly. */
#include "nginx.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <strings.h>

#include "http/tls.h"
#include "http/transport.h"

static nginx ng;
/* What differs between the runs over HTTP/1.1 and over HTTP/2. */
typedef struct proto {
    const char *version; /* --http-version */
    const char *log;     /* nginx's $server_protocol */
    const char *cookie;  /* the Cookie line in goose-target's echo */
    unsigned step;       /* POST body sizes of mixed(): 1 + (k * step) % max */
    size_t max;
} proto;

/* Bodies in one TLS record with the head, or not. */
static const proto h11 = {"1.1", "HTTP/1.1", "header Cookie: sid=s3cret\n", 4099u, 40000};
/* Bodies up to 200 kB: beyond the 64 kB window; h2 sends header names lower case. */
static const proto h2 = {"auto", "HTTP/2.0", "cookie: sid=s3cret\n", 40009u, 200000};
static const proto *mode = &h11; /* of the run under way */

/* nginx, and the test CA as the run's trust */
static void start(void)
{
    char ca[160];
    nginx_start(&ng);
    snprintf(ca, sizeof ca, "%s/ca.pem", ng.certs);
    setenv("SSL_CERT_FILE", ca, 1);
    unsetenv("SSL_CERT_DIR");
    atomic_store(&bad, 0);
    mode = &h11;
}

static goose_attack *attack(goose_transaction_fn fn, const char *host, const char *users,
                            const char *iterations)
{
    goose_attack *a = goose_attack_new();
    goose_scenario *s = goose_scenario_new("tls");
    goose_scenario_add_transaction(s, "tx", fn);
    goose_attack_add_scenario(a, s);
    set(a, "host", host);
    set(a, "users", users);
    set(a, "hatch-rate", "1000");
    set(a, "iterations", iterations);
    set(a, "run-time", "30s"); /* a cap: the iterations end the run long before */
    set(a, "no-reset-metrics", NULL);
    set(a, "http-version", mode->version); /* these servers offer h2 too */
    return a;
}

static json_t *run(goose_attack *a)
{
    ASSERT_EQ(goose_attack_run(a), GOOSE_OK);
    return report_of(a);
}

static long long count_of(json_t *report, const char *method, const char *name, const char *key)
{
    json_t *r = report_request(report, method, name);
    if (!r)
        TEST_FAIL("no \"%s %s\" in the report", method, name);
    return jint(r, key);
}

static long long status_count(json_t *report, const char *method, const char *name,
                              const char *code)
{
    json_t *r = report_request(report, method, name);
    json_t *n = json_object_get(json_object_get(r, "status_codes"), code);
    return n ? json_integer_value(n) : 0;
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

/* The first error row's text and the sum of all error counts. */
static long long errors_of(json_t *report, const char **text)
{
    long long n = 0;
    size_t i;
    json_t *e;
    *text = "";
    json_array_foreach(json_object_get(report, "errors"), i, e) {
        if (!n)
            *text = json_string_value(json_object_get(e, "error"));
        n += jint(e, "count");
    }
    return n;
}

/* A request that names its user (X-User, in nginx's log). */
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
    if (goose_response_status(r) != status || (body && (len != strlen(body) ||
                                                        memcmp(got, body, len) != 0)))
        miss("%s: status %d (%s), body \"%.*s\"", what, goose_response_status(r),
             goose_response_error(r) ? goose_response_error(r) : "", (int)(len > 60 ? 60 : len),
             got ? got : "");
    goose_response_free(r);
}

static atomic_uint iteration;

/* A body of n known bytes, different per request. */
static char *payload(size_t n, unsigned seed)
{
    char *p = malloc(n + 1);
    ASSERT_NOT_NULL(p);
    for (size_t i = 0; i < n; i++)
        p[i] = (char)('a' + (i * 7 + seed) % 26);
    p[n] = '\0';
    return p;
}

/* goose-target's echo through nginx: the body after the blank line. */
static void expect_echo(goose_response *r, const char *sent, size_t len)
{
    size_t got_len = 0;
    const char *got = goose_response_body(r, &got_len);
    const char *blank = got ? strstr(got, "\n\n") : NULL;
    if (goose_response_status(r) != 200 || !blank ||
        (size_t)(got + got_len - (blank + 2)) != len || memcmp(blank + 2, sent, len) != 0)
        miss("POST /echo of %zu bytes: status %d, %zu bytes back", len,
             goose_response_status(r), got_len);
    goose_response_free(r);
}

/* Seven requests: a GET, a POST whose body comes back, a redirect (two
 * hops), a 404, a cookie set and then sent. */
static int mixed(goose_user *u)
{
    unsigned k = atomic_fetch_add(&iteration, 1);
    size_t len = 1 + (k * mode->step) % mode->max;
    char *body = payload(len, k);
    expect(send_as(u, "GET", "/ok", NULL, 0), "GET /ok", 200, "ok\n");
    expect_echo(send_as(u, "POST", "/echo", body, len), body, len);
    expect(send_as(u, "GET", "/redirect", NULL, 0), "GET /redirect", 200, "ok\n");
    expect(send_as(u, "GET", "/missing", NULL, 0), "GET /missing", 404, "missing\n");
    expect(send_as(u, "GET", "/login", NULL, 0), "GET /login", 200, "in\n");
    goose_response *r = send_as(u, "GET", "/echo", NULL, 0);
    const char *got = goose_response_body(r, NULL);
    if (!got || !strstr(got, mode->cookie))
        miss("the cookie of /login did not come back: %s", got ? got : "(no body)");
    goose_response_free(r);
    free(body);
    return GOOSE_OK;
}

/* Every line of these is the run's protocol over TLS 1.3 (or 1.2): for
 * HTTP/1.1 the own client made them (libcurl would have spoken h2 to
 * these servers). */
static void all_as(const nginx_entry *e, size_t n, const char *tls)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(e[i].proto, mode->log) || strcmp(e[i].ssl, tls))
            TEST_FAIL("%s %s came as %s over %s", e[i].method, e[i].uri, e[i].proto, e[i].ssl);
}

/* Keep-alive: one connection per user, every request in the report once
 * in nginx's log, bodies whole, cookies kept, 4xx counted, all in the
 * run's protocol. */
static void keep_alive_counts(const proto *p)
{
    start();
    mode = p;
    goose_attack *a = attack(mixed, nginx_url(&ng, NG_OK), "4", "10");
    json_t *report = run(a);
    size_t n;
    nginx_entry *log = nginx_log(&ng, 280, &n);
    ASSERT_EQ(atomic_load(&bad), 0);
    ASSERT_EQ(report_total(report), 280);
    ASSERT_EQ((long long)n, 280);
    ASSERT_EQ(count_of(report, "GET", "/ok", "count"), 80); /* 40 + 40 hops */
    ASSERT_EQ(nginx_count(log, n, 0, "GET", "/ok"), 80);
    ASSERT_EQ(count_of(report, "GET", "/redirect", "count"), 40);
    ASSERT_EQ(nginx_count(log, n, 0, "GET", "/redirect"), 40);
    ASSERT_EQ(count_of(report, "POST", "/echo", "count"), 40);
    ASSERT_EQ(nginx_count(log, n, 0, "POST", "/echo"), 40);
    ASSERT_EQ(nginx_count(log, n, 0, "GET", "/echo"), 40);
    ASSERT_EQ(status_count(report, "GET", "/missing", "404"), 40);
    ASSERT_EQ(count_of(report, "GET", "/missing", "fail"), 40);
    ASSERT_EQ(nginx_count(log, n, 0, "GET", "/missing"), 40);
    ASSERT_EQ(total_success(report), 240);
    for (size_t i = 0; i < n; i++)
        if (!strcmp(log[i].uri, "/echo") && !strcmp(log[i].method, "GET") &&
            strcmp(log[i].cookie, "sid=s3cret"))
            TEST_FAIL("GET /echo with cookie \"%s\"", log[i].cookie);
    all_as(log, n, "TLSv1.3");
    ASSERT_EQ(nginx_conns(log, n, 0), 4);
    free(log);
    json_decref(report);
    goose_attack_free(a);
    nginx_stop(&ng);
}

TEST(https_keep_alive_counts_equal_nginx_log)
{
    keep_alive_counts(&h11);
}

TEST(h2_counts_equal_nginx_log)
{
    keep_alive_counts(&h2);
}

static int get_ok(goose_user *u)
{
    expect(send_as(u, "GET", "/ok", NULL, 0), "GET /ok", 200, "ok\n");
    return GOOSE_OK;
}

/* A new connection per request (for HTTP/2, nginx's GOAWAY after each
 * one, to the user's HTTP/2 client): each user's first handshake is a
 * full one, every later one resumes the session that user was given,
 * and no user starts with another's. */
static void sessions_resumed_per_user(const proto *p, int server, const char *tls)
{
    start();
    mode = p;
    goose_attack *a = attack(get_ok, nginx_url(&ng, server), "3", "8");
    json_t *report = run(a);
    size_t n;
    nginx_entry *log = nginx_log(&ng, 24, &n);
    ASSERT_EQ(atomic_load(&bad), 0);
    ASSERT_EQ(report_total(report), 24);
    ASSERT_EQ(total_success(report), 24);
    ASSERT_EQ((long long)n, 24);
    ASSERT_EQ(nginx_conns(log, n, 0), 24);
    all_as(log, n, tls);
    for (int user = 0; user < 3; user++) {
        char who[16];
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

TEST(new_connection_per_request_resumes_the_users_own_session)
{
    sessions_resumed_per_user(&h11, NG_ONCE, "TLSv1.3");
}

TEST(h2_reconnects_resume_the_users_own_session)
{
    sessions_resumed_per_user(&h2, NG_ONCE, "TLSv1.3");
}

TEST(tls12_sessions_resumed_per_user)
{
    sessions_resumed_per_user(&h11, NG_TLS12, "TLSv1.2");
}

static int idle_then_two(goose_user *u)
{
    char body[64];
    int len = snprintf(body, sizeof body, "user=%u", goose_user_index(u));
    expect(send_as(u, "GET", "/ok", NULL, 0), "GET /ok", 200, "ok\n");
    goose_response *r = send_as(u, "POST", "/echo", body, (size_t)len);
    if (goose_response_status(r))
        expect_echo(r, body, (size_t)len);
    else
        goose_response_free(r); /* a lost race: counted, below */
    return GOOSE_OK;
}

/* nginx closes connections idle for 100 ms; users wait 100 ms, so their
 * requests race the closes (10 to 34 of 400 met a closed connection in
 * runs here; none fails).  A GET that met a closed connection
 * goes again on a new one; a POST too when the server cannot have read
 * it; nginx logs each request it answered once, the report counts each
 * once: the report's successes are nginx's lines. */
TEST(idle_closes_race_requests)
{
    start();
    goose_attack *a = goose_attack_new();
    goose_scenario *s = goose_scenario_new("tls");
    goose_scenario_add_transaction(s, "tx", idle_then_two);
    goose_scenario_set_wait_time(s, 100, 100);
    goose_attack_add_scenario(a, s);
    set(a, "host", nginx_url(&ng, NG_IDLE));
    set(a, "users", "8");
    set(a, "hatch-rate", "1000");
    set(a, "iterations", "25");
    set(a, "run-time", "30s");
    set(a, "no-reset-metrics", NULL);
    set(a, "http-version", "1.1"); /* these servers offer h2 too */
    json_t *report = run(a);
    size_t n;
    long long ok = total_success(report);
    nginx_entry *log = nginx_log(&ng, (size_t)ok, &n);
    const char *text;
    long long errors = errors_of(report, &text);
    long conns = nginx_conns(log, n, 0);
    printf("%zu requests on %ld connections; %lld failed (\"%s\")\n", n, conns, errors, text);
    ASSERT_EQ(atomic_load(&bad), 0);
    ASSERT_EQ(report_total(report), 400);
    ASSERT_EQ(count_of(report, "GET", "/ok", "fail"), 0);
    ASSERT_EQ((long long)n, ok);
    ASSERT_EQ(nginx_count(log, n, 0, "POST", "/echo"), count_of(report, "POST", "/echo", "success"));
    ASSERT_GT(conns, 8); /* the closes did happen */
    all_as(log, n, "TLSv1.3");
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

/* HTTP/2: nginx closes idle connections after 100 ms while users wait
 * 80-125 ms: closes race requests, and still every request is counted
 * once, none fails, a POST is never sent twice. */
TEST(h2_idle_closes_race_requests)
{
    start();
    mode = &h2;
    goose_attack *a = attack(get_then_wait, nginx_url(&ng, NG_IDLE), "4", "12");
    json_t *report = run(a);
    size_t n;
    nginx_entry *log = nginx_log(&ng, 96, &n);
    ASSERT_EQ(atomic_load(&bad), 0);
    ASSERT_EQ(report_total(report), 96);
    ASSERT_EQ(total_success(report), 96);
    ASSERT_EQ((long long)n, 96);
    ASSERT_EQ(nginx_count(log, n, 0, "POST", "/echo"), 48);
    all_as(log, n, "TLSv1.3");
    free(log);
    json_decref(report);
    goose_attack_free(a);
    nginx_stop(&ng);
}

/* ---- certificate problems: the same words from both transports ---- */

static char fail_url[128];

static int get_fail_url(goose_user *u)
{
    goose_response_free(goose_get(u, fail_url));
    return GOOSE_OK;
}

/* The error text a run's one request got, through the own client or
 * (user info in the URL, which only libcurl takes) through libcurl. */
static char *error_text(const char *origin, int curl)
{
    const char *text;
    snprintf(fail_url, sizeof fail_url, "%s%s/ok", curl ? "https://u@" : "https://",
             origin + strlen("https://"));
    goose_attack *a = attack(get_fail_url, origin, "1", "1");
    json_t *report = run(a);
    ASSERT_EQ(errors_of(report, &text), 1);
    char *copy = strdup(text);
    json_decref(report);
    goose_attack_free(a);
    return copy;
}

static void same_words(int server, const char *want)
{
    char *own = error_text(nginx_url(&ng, server), 0);
    char *curl = error_text(nginx_url(&ng, server), 1);
    printf("own:  %s\ncurl: %s\n", own, curl);
    ASSERT_STR_EQ(own, want);
    ASSERT_STR_EQ(curl, want);
    free(own);
    free(curl);
}

TEST(certificate_problems_read_the_same_on_both_transports)
{
    start();
    same_words(NG_EXPIRED, "SSL certificate problem: certificate has expired");
    same_words(NG_WRONG, "SSL: no alternative certificate subject name matches target host "
                         "name '127.0.0.1'");
    same_words(NG_UNTRUSTED, "SSL certificate problem: unable to get local issuer certificate");
    /* no trust in the test CA at all: the system's store */
    setenv("SSL_CERT_FILE", "/nonexistent/ca.pem", 1);
    same_words(NG_OK, "SSL certificate problem: unable to get local issuer certificate");
    nginx_stop(&ng);
}

/* openssl s_server asking for a client certificate (-Verify): under TLS
 * 1.3 the client's handshake is done before the server looks, which then
 * says so with alert 116 on the first read. */
static pid_t s_server(int port, const char *certs, const char *version)
{
    char accept[32], cert[160], key[160], ca[160];
    snprintf(accept, sizeof accept, "127.0.0.1:%d", port);
    snprintf(cert, sizeof cert, "%s/server.pem", certs);
    snprintf(key, sizeof key, "%s/server.key", certs);
    snprintf(ca, sizeof ca, "%s/client-ca.pem", certs);
    fflush(NULL);
    pid_t pid = fork();
    ASSERT(pid >= 0);
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (!freopen("/dev/null", "w", stdout) || !freopen("/dev/null", "w", stderr))
            _exit(127);
        execlp("openssl", "openssl", "s_server", "-accept", accept, "-cert", cert, "-key", key,
               "-CAfile", ca, "-Verify", "1", "-www", version, "-quiet", (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 250 && !nginx_accepts(port); i++)
        usleep(20000);
    return pid;
}

TEST(client_certificate_required_reads_the_same_on_both_transports)
{
    start();
    int port = free_port();
    pid_t pid = s_server(port, ng.certs, "-tls1_3");
    char origin[64];
    snprintf(origin, sizeof origin, "https://127.0.0.1:%d", port);
    const char *want = "SSL: the server requires a client certificate (TLS alert: "
                       "certificate required)";
    char *own = error_text(origin, 0);
    char *curl = error_text(origin, 1);
    printf("own:  %s\ncurl: %s\n", own, curl);
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
    ASSERT_STR_EQ(own, want);
    ASSERT_STR_EQ(curl, want);
    free(own);
    free(curl);
    nginx_stop(&ng);
}

static int post_big(goose_user *u)
{
    size_t len = 16u << 20;
    char *body = calloc(1, len);
    if (!body)
        return GOOSE_ENOMEM;
    goose_response_free(send_as(u, "POST", "/", body, len));
    free(body);
    return GOOSE_OK;
}

/* A server that sends its head in pieces without reading the upload: the
 * client writes from its read event while its write event is armed.  The
 * request ends at its timeout (before the fix the loop spun forever, and
 * the alarm ends the test). */
TEST(stalled_upload_with_server_bytes_times_out)
{
    start();
    int port = free_port();
    char ports[16], cert[160], key[160], origin[64];
    snprintf(ports, sizeof ports, "%d", port);
    snprintf(cert, sizeof cert, "%s/server.pem", ng.certs);
    snprintf(key, sizeof key, "%s/server.key", ng.certs);
    fflush(NULL);
    pid_t pid = fork();
    ASSERT(pid >= 0);
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (!freopen("/dev/null", "w", stdout))
            _exit(127);
        execlp("python3", "python3", "tests/stall-server.py", "tls", ports, cert, key,
               (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 250 && !nginx_accepts(port); i++)
        usleep(20000);
    snprintf(origin, sizeof origin, "https://127.0.0.1:%d", port);
    goose_attack *a = attack(post_big, origin, "1", "1");
    set(a, "timeout", "3s");
    alarm(60);
    json_t *report = run(a);
    alarm(0);
    const char *text;
    ASSERT_EQ(errors_of(report, &text), 1);
    ASSERT_STR_EQ(text, "Operation timed out after 3000 milliseconds");
    json_decref(report);
    goose_attack_free(a);
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
    nginx_stop(&ng);
}

/* Under TLS 1.2 the same server ends the handshake with an alert: OpenSSL's
 * words, in libcurl's form, from both. */
TEST(handshake_failure_reads_the_same_on_both_transports)
{
    start();
    int port = free_port();
    pid_t pid = s_server(port, ng.certs, "-tls1_2");
    char origin[64];
    snprintf(origin, sizeof origin, "https://127.0.0.1:%d", port);
    char *own = error_text(origin, 0);
    char *curl = error_text(origin, 1);
    printf("own:  %s\ncurl: %s\n", own, curl);
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
    ASSERT_STR_EQ(own, curl);
    ASSERT(strncmp(own, "OpenSSL/", 8) == 0 && strstr(own, "alert handshake failure"));
    free(own);
    free(curl);
    nginx_stop(&ng);
}

/* ---- the TLS setup, through the transport rows ---- */

typedef struct one {
    int done;
    goose_terr result;
} one;

static void one_done(void *arg, goose_http_capture *c, goose_terr result, uint64_t us)
{
    (void)c, (void)us;
    one *o = arg;
    o->done = 1;
    o->result = result;
}

/* GET url through one row with this setup (its context made and freed
 * here); 1 when the row took it, with the result and the capture. */
static int fetch_via(const goose_transport *row, goose_http_setup *s, const char *url,
                     goose_http_capture *cap, goose_terr *result)
{
    char err[256];
    struct event_base *base = event_base_new();
    void *run = NULL, *thread = NULL;
    ASSERT_NOT_NULL(base);
    s->timeout_ms = 5000;
    s->no_env_proxy = 1;
    s->version = GOOSE_HTTP_1_1; /* these servers offer h2 too */
    if (!(s->tls_ctx = goose__tls_ctx_new(&s->tls, err, sizeof err)))
        TEST_FAIL("goose__tls_ctx_new: %s", err);
    ASSERT_EQ(row->run_new(&run, s, err, sizeof err), 0);
    if (row->thread_new)
        ASSERT_EQ(row->thread_new(&thread, run, base), 0);
    one o = {0};
    void *user = row->user_new(run, thread, base, 0, one_done, &o);
    ASSERT_NOT_NULL(user);
    goose_url_parts parts;
    ASSERT_EQ(goose__url_split(url, &parts), 0);
    goose_http_request req = {.method = "GET", .url = url, .parts = &parts};
    int took = row->takes(run, user, &req);
    if (took) {
        goose__http_capture_reset(cap);
        *result = row->start(user, &req, cap);
        for (int i = 0; *result == GOOSE_TE_AGAIN && !o.done && i < 100000; i++)
            event_base_loop(base, EVLOOP_ONCE);
        if (*result == GOOSE_TE_AGAIN)
            *result = o.result;
    }
    row->user_free(user);
    if (thread)
        row->thread_free(thread);
    row->run_free(run);
    event_base_free(base);
    goose__tls_ctx_free(s->tls_ctx);
    s->tls_ctx = NULL;
    return took;
}

/* Both rows: the status each got (0 on an error, its words in why[]). */
static void fetch_both(goose_http_setup *s, const char *url, int status[2], char why[2][256])
{
    const goose_transport *rows[2] = {&goose__transport_h1, &goose__transport_curl};
    for (int i = 0; i < 2; i++) {
        goose_http_capture cap;
        goose_terr result = GOOSE_TE_OTHER;
        goose__http_capture_init(&cap);
        if (!fetch_via(rows[i], s, url, &cap, &result))
            TEST_FAIL("%s did not take %s", rows[i]->name, url);
        status[i] = result == GOOSE_TE_OK ? cap.status : 0;
        snprintf(why[i], sizeof why[i], "%s", result == GOOSE_TE_OK ? "" : cap.errbuf);
        if (i == 0 && result == GOOSE_TE_OK)
            ASSERT_EQ(cap.protocol, GOOSE_PROTO_HTTP_1_1);
        goose__http_capture_free(&cap);
    }
}

static char *file_text(const char *dir, const char *name, size_t *len)
{
    char path[200];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    char *text = nginx_read_file(path);
    ASSERT_NOT_NULL(text);
    *len = strlen(text);
    return text;
}

static void expect_both(goose_http_setup *s, int server, const char *path, int want,
                        const char *words)
{
    char url[96], why[2][256];
    int status[2];
    snprintf(url, sizeof url, "%s%s", nginx_url(&ng, server), path);
    fetch_both(s, url, status, why);
    printf("%s: own %d \"%s\", curl %d \"%s\"\n", url, status[0], why[0], status[1], why[1]);
    ASSERT_EQ(status[0], want);
    ASSERT_EQ(status[1], want);
    ASSERT_STR_EQ(why[0], words);
    ASSERT_STR_EQ(why[1], words);
}

/* A CA given as PEM bytes (--ca-file's contents) is the whole trust:
 * nginx's certificate passes, the system's store is not asked. */
TEST(ca_given_as_pem_is_the_trust)
{
    start();
    unsetenv("SSL_CERT_FILE");
    goose_http_setup s = {0};
    size_t len;
    char *pem = file_text(ng.certs, "ca.pem", &len);
    s.tls.ca_pem = pem;
    s.tls.ca_pem_len = len;
    expect_both(&s, NG_OK, "/ok", 200, "");
    expect_both(&s, NG_EXPIRED, "/ok", 0, "SSL certificate problem: certificate has expired");
    char *other = file_text(ng.certs, "other-ca.pem", &len);
    s.tls.ca_pem = other;
    s.tls.ca_pem_len = len;
    expect_both(&s, NG_UNTRUSTED, "/ok", 200, "");
    expect_both(&s, NG_OK, "/ok", 0,
                "SSL certificate problem: unable to get local issuer certificate");
    free(pem);
    free(other);
    nginx_stop(&ng);
}

/* --accept-invalid-certs: no check of the chain, the dates or the name. */
TEST(accept_invalid_certs_takes_every_certificate)
{
    start();
    setenv("SSL_CERT_FILE", "/nonexistent/ca.pem", 1);
    goose_http_setup s = {.tls.accept_invalid_certs = 1};
    expect_both(&s, NG_EXPIRED, "/ok", 200, "");
    expect_both(&s, NG_WRONG, "/ok", 200, "");
    expect_both(&s, NG_UNTRUSTED, "/ok", 200, "");
    expect_both(&s, NG_OK, "/ok", 200, "");
    s.tls.accept_invalid_certs = 0;
    expect_both(&s, NG_EXPIRED, "/ok", 0,
                "SSL certificate problem: unable to get local issuer certificate");
    nginx_stop(&ng);
}

/* A client certificate of the CA nginx trusts: nginx verifies it; without
 * one nginx answers 400 (it asks, but does not end the handshake). */
TEST(client_certificate_given_is_verified)
{
    start();
    char cert[160], key[160];
    snprintf(cert, sizeof cert, "%s/client.pem", ng.certs);
    snprintf(key, sizeof key, "%s/client.key", ng.certs);
    goose_http_setup s = {0};
    expect_both(&s, NG_CLIENT, "/ok", 400, "");
    s.tls.client_cert = cert;
    s.tls.client_key = key;
    expect_both(&s, NG_CLIENT, "/ok", 200, "");
    size_t n;
    nginx_entry *log = nginx_log(&ng, 4, &n);
    ASSERT_EQ((long long)n, 4);
    ASSERT_STR_EQ(log[0].verify, "NONE");
    ASSERT_STR_EQ(log[1].verify, "NONE");
    ASSERT_STR_EQ(log[2].verify, "SUCCESS");
    ASSERT_STR_EQ(log[3].verify, "SUCCESS");
    free(log);
    nginx_stop(&ng);
}

/* Files that do not make a context: one line naming the file. */
TEST(bad_tls_setup_is_one_clear_line)
{
    char dir[] = "/tmp/goose-certs-XXXXXX", cmd[400], cert[96], key[96], other[96], err[256];
    ASSERT_NOT_NULL(mkdtemp(dir));
    if (system("command -v openssl >/dev/null 2>&1") != 0)
        TEST_SKIP("the openssl command is not installed (tools/deps.sh test)");
    snprintf(cmd, sizeof cmd, "sh tests/tls/make-certs.sh %s", dir);
    ASSERT_EQ(system(cmd), 0);
    snprintf(cert, sizeof cert, "%s/client.pem", dir);
    snprintf(key, sizeof key, "%s/client.key", dir);
    snprintf(other, sizeof other, "%s/server.key", dir);
    goose_tls_setup t = {.client_cert = "/nonexistent/c.pem", .client_key = key};
    ASSERT_NULL(goose__tls_ctx_new(&t, err, sizeof err));
    printf("%s\n", err);
    ASSERT(strstr(err, "cannot read --client-cert /nonexistent/c.pem: "));
    t = (goose_tls_setup){.client_cert = cert, .client_key = "/nonexistent/k.pem"};
    ASSERT_NULL(goose__tls_ctx_new(&t, err, sizeof err));
    printf("%s\n", err);
    ASSERT(strstr(err, "cannot read --client-key /nonexistent/k.pem: "));
    t = (goose_tls_setup){.client_cert = cert, .client_key = other};
    ASSERT_NULL(goose__tls_ctx_new(&t, err, sizeof err));
    printf("%s\n", err);
    ASSERT(strstr(err, "is not the key of --client-cert"));
    t = (goose_tls_setup){.client_key = key};
    ASSERT_NULL(goose__tls_ctx_new(&t, err, sizeof err));
    ASSERT_STR_EQ(err, "--client-key needs --client-cert (the certificate the key belongs to)");
    t = (goose_tls_setup){.client_cert = cert}; /* the key from the same file: none there */
    ASSERT_NULL(goose__tls_ctx_new(&t, err, sizeof err));
    printf("%s\n", err);
    ASSERT(strstr(err, "holds no private key: give --client-key"));
    ASSERT(strstr(err, cert));
    snprintf(cmd, sizeof cmd, "cat %s %s >%s/both.pem", cert, key, dir);
    ASSERT_EQ(system(cmd), 0);
    char both[96];
    snprintf(both, sizeof both, "%s/both.pem", dir);
    t = (goose_tls_setup){.client_cert = both};
    goose_tls_ctx *one_file = goose__tls_ctx_new(&t, err, sizeof err);
    if (!one_file)
        TEST_FAIL("certificate and key in one file: %s", err);
    goose__tls_ctx_free(one_file);
    /* an encrypted key, in its own file or the certificate's: never a prompt */
    snprintf(cmd, sizeof cmd, "openssl pkey -in %s -aes128 -passout pass:x -out %s/enc.key "
             "2>/dev/null && cat %s %s/enc.key >%s/both-enc.pem", key, dir, cert, dir, dir);
    ASSERT_EQ(system(cmd), 0);
    char enc[96], both_enc[96];
    snprintf(enc, sizeof enc, "%s/enc.key", dir);
    snprintf(both_enc, sizeof both_enc, "%s/both-enc.pem", dir);
    t = (goose_tls_setup){.client_cert = cert, .client_key = enc};
    ASSERT_NULL(goose__tls_ctx_new(&t, err, sizeof err));
    ASSERT(strstr(err, "--client-key ") && strstr(err, "holds an encrypted private key"));
    t = (goose_tls_setup){.client_cert = both_enc};
    ASSERT_NULL(goose__tls_ctx_new(&t, err, sizeof err));
    printf("%s\n", err);
    ASSERT(strstr(err, "--client-cert ") && strstr(err, "holds an encrypted private key"));
    t = (goose_tls_setup){.ca_pem = "not a certificate", .ca_pem_len = 17};
    ASSERT_NULL(goose__tls_ctx_new(&t, err, sizeof err));
    ASSERT_STR_EQ(err, "holds no PEM certificate");
    t = (goose_tls_setup){.client_cert = cert, .client_key = key};
    goose_tls_ctx *ok = goose__tls_ctx_new(&t, err, sizeof err);
    ASSERT_NOT_NULL(ok);
    goose__tls_ctx_free(ok);
    goose__tls_ctx_free(NULL);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    ASSERT_EQ(system(cmd), 0);
}

/* Which row takes https: the own client with a TLS context and HTTP/1.1
 * allowed, libcurl otherwise. */
TEST(own_client_takes_https_only_with_a_context)
{
    goose_http_setup s = {.no_env_proxy = 1};
    char err[256];
    void *run = NULL;
    const char *url = "https://127.0.0.1:8443/x";
    goose_url_parts parts;
    ASSERT_EQ(goose__url_split(url, &parts), 0);
    goose_http_request req = {.method = "GET", .url = url, .parts = &parts};
    ASSERT_EQ(goose__transport_h1.run_new(&run, &s, err, sizeof err), 0);
    ASSERT_EQ(goose__transport_h1.takes(run, NULL, &req), 0);
    ASSERT_NOT_NULL(s.tls_ctx = goose__tls_ctx_new(&s.tls, err, sizeof err));
    ASSERT_EQ(goose__transport_h1.takes(run, NULL, &req), 1);
    s.version = GOOSE_HTTP_1_1;
    ASSERT_EQ(goose__transport_h1.takes(run, NULL, &req), 1);
    s.version = GOOSE_HTTP_2; /* the own row's HTTP/2 client's */
    ASSERT_EQ(goose__transport_h1.takes(run, NULL, &req), 1);
    s.version = GOOSE_HTTP_AUTO;
    s.no_env_proxy = 0; /* a proxy variable: libcurl decides */
    ASSERT_EQ(goose__transport_h1.takes(run, NULL, &req), 0);
    goose__tls_ctx_free(s.tls_ctx);
    goose__transport_h1.run_free(run);
}

TEST_MAIN(TEST_ENTRY(https_keep_alive_counts_equal_nginx_log),
          TEST_ENTRY(h2_counts_equal_nginx_log),
          TEST_ENTRY(new_connection_per_request_resumes_the_users_own_session),
          TEST_ENTRY(h2_reconnects_resume_the_users_own_session),
          TEST_ENTRY(tls12_sessions_resumed_per_user), TEST_ENTRY(idle_closes_race_requests),
          TEST_ENTRY(h2_idle_closes_race_requests),
          TEST_ENTRY(certificate_problems_read_the_same_on_both_transports),
          TEST_ENTRY(client_certificate_required_reads_the_same_on_both_transports),
          TEST_ENTRY(stalled_upload_with_server_bytes_times_out),
          TEST_ENTRY(handshake_failure_reads_the_same_on_both_transports),
          TEST_ENTRY(ca_given_as_pem_is_the_trust),
          TEST_ENTRY(accept_invalid_certs_takes_every_certificate),
          TEST_ENTRY(client_certificate_given_is_verified),
          TEST_ENTRY(bad_tls_setup_is_one_clear_line),
          TEST_ENTRY(own_client_takes_https_only_with_a_context))
