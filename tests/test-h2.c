/* The own HTTP/2 client (lib/http/h2.c) on the wire, driven through the
 * own row of the transport table as the engine drives it, but with
 * several requests of one user under way at once: against nghttpd
 * (Debian's nghttp2-server) for prior-knowledge h2c, and against
 * tests/h2server.py (Debian's python3-h2), a scripted server for what
 * nghttpd will not do (GOAWAY, RST_STREAM, REFUSED_STREAM, push).  Each
 * test holds what the client reported against what the server logged.
 * Run from the source tree. */
#include "test.h"

#include <errno.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <sys/stat.h>

#include "http/h2.h"
#include "http/tls.h"
#include "util/clock.h"

#define SCRIPT "tests/h2server.py"

/* ---- servers ---- */

typedef struct server {
    pid_t pid;
    int port;
    char dir[64];
    char log[128];
} server;

static server srv;

static void srv_abandoned(void)
{
    if (srv.pid > 0) {
        kill(srv.pid, SIGTERM);
        waitpid(srv.pid, NULL, 0);
        fprintf(stderr, "server log: %s\n", srv.log);
    }
}

static void srv_dir(void)
{
    static int once;
    if (!once++)
        atexit(srv_abandoned);
    snprintf(srv.dir, sizeof srv.dir, "/tmp/goose-h2-XXXXXX");
    ASSERT_NOT_NULL(mkdtemp(srv.dir));
}

static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    ASSERT(fd >= 0);
    ASSERT_EQ(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    ASSERT_EQ(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    close(fd);
    return ntohs(a.sin_port);
}

static int connectable(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int ok = connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
    close(fd);
    return ok;
}

static void spawn(const char *const argv[], const char *out)
{
    fflush(NULL);
    srv.pid = fork();
    ASSERT(srv.pid >= 0);
    if (srv.pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (!freopen(out, "w", stdout) || !freopen("/dev/null", "w", stderr))
            _exit(127);
        execvp(argv[0], (char *const *)argv);
        _exit(127);
    }
}

/* nghttpd without TLS on a free port, serving DIR/index.html ("hi"),
 * its frames logged (-v) to srv.log. */
static void nghttpd_start(void)
{
    char port[16], docroot[96], index[128];
    if (system("command -v nghttpd >/dev/null 2>&1") != 0)
        TEST_SKIP("nghttpd not installed (apt-get install nghttp2-server)");
    srv_dir();
    snprintf(docroot, sizeof docroot, "%s/doc", srv.dir);
    snprintf(index, sizeof index, "%s/index.html", docroot);
    snprintf(srv.log, sizeof srv.log, "%s/nghttpd.log", srv.dir);
    ASSERT_EQ(mkdir(docroot, 0700), 0);
    FILE *f = fopen(index, "w");
    ASSERT_NOT_NULL(f);
    fputs("hi", f);
    fclose(f);
    srv.port = free_port();
    snprintf(port, sizeof port, "%d", srv.port);
    const char *argv[] = {"nghttpd", "--no-tls", "-v", "-d", docroot, port, NULL};
    spawn(argv, srv.log);
    for (int i = 0; i < 250 && !connectable(srv.port); i++)
        usleep(20000);
    if (!connectable(srv.port))
        TEST_FAIL("nghttpd did not start");
}

/* python3 with h2 (Debian's python3-h2): the one on PATH or Debian's. */
static const char *python_with_h2(void)
{
    if (system("python3 -c 'import h2' >/dev/null 2>&1") == 0)
        return "python3";
    if (system("/usr/bin/python3 -c 'import h2' >/dev/null 2>&1") == 0)
        return "/usr/bin/python3";
    TEST_SKIP("python3 cannot import h2 (apt-get install python3-h2)");
    return NULL;
}

static void h2server_start(void)
{
    char portfile[96];
    const char *py = python_with_h2();
    if (access(SCRIPT, R_OK) != 0)
        TEST_FAIL("%s not found: run from the source tree", SCRIPT);
    srv_dir();
    snprintf(portfile, sizeof portfile, "%s/port", srv.dir);
    snprintf(srv.log, sizeof srv.log, "%s/requests.jsonl", srv.dir);
    const char *argv[] = {py, SCRIPT, "--port-file", portfile, "--log", srv.log, NULL};
    spawn(argv, "/dev/null");
    srv.port = 0;
    for (int i = 0; i < 250 && !srv.port; i++) {
        FILE *f = fopen(portfile, "r");
        if (f) {
            if (fscanf(f, "%d", &srv.port) != 1)
                srv.port = 0;
            fclose(f);
        }
        if (!srv.port)
            usleep(20000);
    }
    if (srv.port <= 0)
        TEST_FAIL("%s did not start", SCRIPT);
}

static void srv_stop(void)
{
    if (srv.pid > 0) {
        kill(srv.pid, SIGTERM);
        waitpid(srv.pid, NULL, 0);
        srv.pid = 0;
    }
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", srv.dir);
    ASSERT_EQ(system(cmd), 0);
}

/* Lines of the server's log that contain `what` (NULL: all). */
static int log_lines(const char *what)
{
    FILE *f = fopen(srv.log, "r");
    if (!f)
        return 0;
    char *line = NULL;
    size_t cap = 0;
    int n = 0;
    while (getline(&line, &cap, f) > 0)
        n += !what || strstr(line, what) != NULL;
    free(line);
    fclose(f);
    return n;
}

/* nghttpd's connections that carried requests: distinct "[id=N]"
 * prefixes of its ":method" lines. */
static int nghttpd_conns(void)
{
    int n = 0;
    for (int id = 1; id < 200; id++) {
        char tag[48];
        snprintf(tag, sizeof tag, "[id=%d] [", id);
        FILE *f = fopen(srv.log, "r");
        char *line = NULL;
        size_t cap = 0;
        int found = 0;
        while (f && !found && getline(&line, &cap, f) > 0)
            found = strstr(line, tag) == line && strstr(line, ":method:");
        free(line);
        if (f)
            fclose(f);
        n += found;
    }
    return n;
}

/* ---- a user of the own row ---- */

typedef struct call {
    goose_http_capture cap; /* first: done() hands it back */
    goose_http_request req;
    goose_url_parts parts;
    goose_lines headers;
    char url[256];
    goose_terr result;
    int done;
} call;

typedef struct client {
    goose_http_setup setup;
    void *run, *user;
    struct event_base *base;
    int finished;
    int https;    /* requests to https://127.0.0.1:srv.port */
    char *ca;
} client;

static void on_done(void *arg, goose_http_capture *capture, goose_terr result, uint64_t us)
{
    (void)us;
    client *cl = arg;
    call *k = (call *)capture;
    if (k->done)
        TEST_FAIL("done() twice for %s", k->url);
    k->done = 1;
    k->result = result;
    cl->finished++;
}

static void client_open(client *cl, goose_http_version version, long timeout_ms)
{
    char err[256];
    memset(cl, 0, sizeof *cl);
    cl->setup.version = version;
    cl->setup.timeout_ms = timeout_ms;
    cl->setup.no_env_proxy = 1;
    ASSERT_EQ(goose__transport_h1.run_new(&cl->run, &cl->setup, err, sizeof err), 0);
    cl->base = event_base_new();
    ASSERT_NOT_NULL(cl->base);
    cl->user = goose__transport_h1.user_new(cl->run, NULL, cl->base, 0, on_done, cl);
    ASSERT_NOT_NULL(cl->user);
}

static void client_close(client *cl)
{
    goose__transport_h1.user_free(cl->user);
    goose__transport_h1.run_free(cl->run);
    event_base_free(cl->base);
    goose__tls_ctx_free(cl->setup.tls_ctx);
    free(cl->ca);
}

static void call_free(call *k)
{
    goose__http_capture_free(&k->cap);
    goose__lines_free(&k->headers);
}

/* Starts METHOD path on the server; the result when it ended at once. */
static goose_terr start(client *cl, call *k, const char *method, const char *path,
                        const void *body, size_t len)
{
    memset(k, 0, sizeof *k);
    goose__http_capture_init(&k->cap);
    snprintf(k->url, sizeof k->url, "%s://127.0.0.1:%d%s", cl->https ? "https" : "http",
             srv.port, path);
    ASSERT_EQ(goose__url_split(k->url, &k->parts), 0);
    k->req = (goose_http_request){.method = method, .url = k->url, .parts = &k->parts,
                                  .headers = &k->headers, .body = body, .body_len = len,
                                  .has_body = body != NULL};
    ASSERT(goose__transport_h1.takes(cl->run, cl->user, &k->req));
    goose_terr rc = goose__transport_h1.start(cl->user, &k->req, &k->cap);
    if (rc != GOOSE_TE_AGAIN) {
        k->done = 1;
        k->result = rc;
        cl->finished++;
    }
    return rc;
}

/* Runs the loop until `want` calls finished, for at most 10 s. */
static void wait_for(client *cl, int want)
{
    uint64_t until = goose__now_us() + 10000000;
    while (cl->finished < want && goose__now_us() < until)
        event_base_loop(cl->base, EVLOOP_ONCE | EVLOOP_NONBLOCK), usleep(200);
    if (cl->finished < want)
        TEST_FAIL("%d of %d requests ended in 10 s", cl->finished, want);
}

static void run_one(client *cl, call *k, const char *method, const char *path, const void *body,
                    size_t len)
{
    int before = cl->finished;
    start(cl, k, method, path, body, len);
    wait_for(cl, before + 1);
}

static void expect_ok(call *k, int status, const char *body)
{
    if (k->result != GOOSE_TE_OK)
        TEST_FAIL("%s: result %d (%s)", k->url, (int)k->result, k->cap.errbuf);
    ASSERT_EQ(k->cap.status, status);
    ASSERT_EQ(k->cap.protocol, GOOSE_PROTO_HTTP_2);
    char line[32];
    snprintf(line, sizeof line, "HTTP/2 %d\r\n", status);
    ASSERT(k->cap.headers.len > strlen(line) &&
           memcmp(k->cap.headers.data, line, strlen(line)) == 0);
    ASSERT(k->cap.headers.len >= 4 &&
           memcmp(k->cap.headers.data + k->cap.headers.len - 4, "\r\n\r\n", 4) == 0);
    if (body) {
        ASSERT_EQ(k->cap.body.len, strlen(body));
        ASSERT(memcmp(k->cap.body.data, body, strlen(body)) == 0);
    }
}

static void expect_error(call *k, goose_terr code, const char *words)
{
    if (k->result != code || strcmp(k->cap.errbuf, words) != 0)
        TEST_FAIL("%s: result %d \"%s\", want %d \"%s\"", k->url, (int)k->result,
                  k->cap.errbuf, (int)code, words);
}

/* ---- against nghttpd ---- */

/* n GETs of nghttpd's index one after another, each answered whole and
 * each in the server's log. */
static void gets_on_one_connection(client *cl, int n)
{
    call k;
    for (int i = 0; i < n; i++) {
        run_one(cl, &k, "GET", "/index.html", NULL, 0);
        expect_ok(&k, 200, "hi");
        call_free(&k);
    }
    client_close(cl);
    usleep(100000);
    ASSERT_EQ(log_lines(":method: GET"), n);
}

/* One user, requests one after another: one connection, every request
 * seen by the server, every answer whole. */
TEST(h2c_requests_share_one_connection)
{
    client cl;
    nghttpd_start();
    client_open(&cl, GOOSE_HTTP_2, 5000);
    gets_on_one_connection(&cl, 20);
    ASSERT_EQ(nghttpd_conns(), 1);
    srv_stop();
}

/* Several requests of one user at once go as streams of one connection. */
TEST(concurrent_streams_of_one_user)
{
    client cl;
    call k[8];
    nghttpd_start();
    client_open(&cl, GOOSE_HTTP_2, 5000);
    for (int i = 0; i < 8; i++)
        ASSERT_EQ(start(&cl, &k[i], "GET", i % 2 ? "/index.html" : "/missing", NULL, 0),
                  GOOSE_TE_AGAIN);
    wait_for(&cl, 8);
    for (int i = 0; i < 8; i++) {
        expect_ok(&k[i], i % 2 ? 200 : 404, i % 2 ? "hi" : NULL);
        call_free(&k[i]);
    }
    client_close(&cl);
    usleep(100000);
    ASSERT_EQ(log_lines(":method: GET"), 8);
    ASSERT_EQ(nghttpd_conns(), 1);
    srv_stop();
}

/* ---- against tests/h2server.py ---- */

/* Headers as h1.c builds them, lower-cased, without the connection's own. */
TEST(request_fields)
{
    client cl;
    call k;
    h2server_start();
    client_open(&cl, GOOSE_HTTP_2, 5000);
    memset(&k, 0, sizeof k);
    start(&cl, &k, "GET", "/headers", NULL, 0);
    wait_for(&cl, 1);
    expect_ok(&k, 200, NULL);
    call_free(&k);
    /* a URL without a path: :path gets its "/" */
    start(&cl, &k, "GET", "?q=2", NULL, 0);
    wait_for(&cl, 2);
    expect_ok(&k, 200, NULL);
    call_free(&k);
    ASSERT_EQ(log_lines("\"path\": \"/?q=2\""), 1);
    /* the request's own lines: a value, an empty one, a removed default,
     * and fields HTTP/2 forbids */
    goose_lines own = {0};
    ASSERT_EQ(goose__lines_add(&own, "X-Custom: yes "), 0);
    ASSERT_EQ(goose__lines_add(&own, "X-Empty;"), 0);
    ASSERT_EQ(goose__lines_add(&own, "Accept:"), 0);
    ASSERT_EQ(goose__lines_add(&own, "Connection: keep-alive"), 0);
    ASSERT_EQ(goose__lines_add(&own, "Host: example.test"), 0);
    memset(&k, 0, sizeof k);
    goose__http_capture_init(&k.cap);
    snprintf(k.url, sizeof k.url, "http://127.0.0.1:%d/headers?q=1", srv.port);
    ASSERT_EQ(goose__url_split(k.url, &k.parts), 0);
    k.req = (goose_http_request){.method = "POST", .url = k.url, .parts = &k.parts,
                                 .headers = &own, .cookie = "a=1; b=2", .body = "x=1",
                                 .body_len = 3, .has_body = 1};
    ASSERT_EQ(goose__transport_h1.start(cl.user, &k.req, &k.cap), GOOSE_TE_AGAIN);
    wait_for(&cl, 3);
    expect_ok(&k, 200, NULL);
    const char *want =
        "[[\":method\", \"POST\"], [\":scheme\", \"http\"], [\":authority\", \"example.test\"], "
        "[\":path\", \"/headers?q=1\"], [\"x-custom\", \"yes\"], [\"x-empty\", \"\"], "
        "[\"user-agent\", \"libgoose/" GOOSE_VERSION_STRING "\"], "
        "[\"content-type\", \"application/x-www-form-urlencoded\"], "
        "[\"content-length\", \"3\"], [\"cookie\", \"a=1; b=2\"]]"; /* python's h2 puts cookie last */
    if (k.cap.body.len != strlen(want) || memcmp(k.cap.body.data, want, strlen(want)))
        TEST_FAIL("fields sent: %.*s\nwant: %s", (int)k.cap.body.len, k.cap.body.data, want);
    call_free(&k);
    goose__lines_free(&own);
    client_close(&cl);
    ASSERT_EQ(log_lines(NULL), 3);
    srv_stop();
}

/* A set-cookie field reaches the capture as a Set-Cookie line. */
TEST(response_fields_as_header_lines)
{
    client cl;
    call k;
    h2server_start();
    client_open(&cl, GOOSE_HTTP_2, 5000);
    run_one(&cl, &k, "GET", "/", NULL, 0);
    expect_ok(&k, 200, "hello");
    ASSERT(k.cap.set_cookie);
    goose_buf v;
    goose__buf_init(&v);
    ASSERT_NOT_NULL(goose__http_header(&k.cap.headers, "Set-Cookie", &v));
    ASSERT_STR_EQ(v.data, "h2=yes; Path=/");
    ASSERT_NOT_NULL(goose__http_header(&k.cap.headers, "Content-Length", &v));
    ASSERT_STR_EQ(v.data, "5");
    goose__buf_free(&v);
    call_free(&k);
    client_close(&cl);
    srv_stop();
}

TEST(reset_stream_is_a_failure_with_its_code)
{
    client cl;
    call k;
    h2server_start();
    client_open(&cl, GOOSE_HTTP_2, 5000);
    run_one(&cl, &k, "GET", "/rst", NULL, 0);
    expect_error(&k, GOOSE_TE_RECV, "HTTP/2 stream reset by the server: INTERNAL_ERROR");
    call_free(&k);
    /* the connection carries on */
    run_one(&cl, &k, "GET", "/", NULL, 0);
    expect_ok(&k, 200, "hello");
    call_free(&k);
    client_close(&cl);
    ASSERT_EQ(log_lines(NULL), 2);
    ASSERT_EQ(log_lines("\"conn\": 1,"), 2);
    srv_stop();
}

/* REFUSED_STREAM: not processed, so sent again (a POST too), once. */
TEST(refused_stream_goes_again_once)
{
    client cl;
    call k;
    h2server_start();
    client_open(&cl, GOOSE_HTTP_2, 5000);
    run_one(&cl, &k, "POST", "/refuse-once", "a=b", 3);
    expect_ok(&k, 200, "hello");
    ASSERT_EQ(cl.finished, 1);
    call_free(&k);
    run_one(&cl, &k, "GET", "/refuse-always", NULL, 0);
    expect_error(&k, GOOSE_TE_RECV, "HTTP/2 stream refused by the server (REFUSED_STREAM)");
    call_free(&k);
    client_close(&cl);
    ASSERT_EQ(log_lines("\"/refuse-once\""), 2);
    ASSERT_EQ(log_lines("\"/refuse-always\""), 2);
    srv_stop();
}

/* GOAWAY that leaves the stream unprocessed: it goes again on a new
 * connection, and the user's next request uses that one. */
TEST(goaway_sends_unprocessed_streams_again)
{
    client cl;
    call k;
    h2server_start();
    client_open(&cl, GOOSE_HTTP_2, 5000);
    run_one(&cl, &k, "GET", "/", NULL, 0);
    expect_ok(&k, 200, "hello");
    call_free(&k);
    run_one(&cl, &k, "POST", "/goaway-once", "p", 1);
    expect_ok(&k, 200, "hello");
    call_free(&k);
    run_one(&cl, &k, "GET", "/", NULL, 0);
    expect_ok(&k, 200, "hello");
    call_free(&k);
    ASSERT_EQ(cl.finished, 3);
    client_close(&cl);
    ASSERT_EQ(log_lines(NULL), 4);
    ASSERT_EQ(log_lines("\"conn\": 1,"), 2);
    ASSERT_EQ(log_lines("\"conn\": 2,"), 2);
    srv_stop();
}

/* A connection the server closes while idle is dropped; the next request
 * goes on a new one, a POST never twice.  The client does not look in
 * between (no loop runs), so each request meets the closed connection. */
TEST(idle_close_then_new_connection)
{
    client cl;
    call k;
    h2server_start();
    client_open(&cl, GOOSE_HTTP_2, 5000);
    for (int i = 0; i < 4; i++) {
        run_one(&cl, &k, i % 2 ? "GET" : "POST", "/close-after", i % 2 ? NULL : "x", 1);
        expect_ok(&k, 200, "bye");
        call_free(&k);
        usleep(300000);
    }
    client_close(&cl);
    ASSERT_EQ(log_lines(NULL), 4);
    ASSERT_EQ(log_lines("\"conn\": 4,"), 1);
    srv_stop();
}

static uint32_t crc32_of(const unsigned char *p, size_t n)
{
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int b = 0; b < 8; b++)
            c = c & 1 ? (c >> 1) ^ 0xedb88320u : c >> 1;
    }
    return ~c;
}

/* Bodies beyond the windows (65,535 bytes at first, both ways) arrive
 * whole: flow control. */
TEST(bodies_larger_than_the_window)
{
    client cl;
    call k;
    size_t n = 300000;
    unsigned char *body = malloc(n);
    ASSERT_NOT_NULL(body);
    for (size_t i = 0; i < n; i++)
        body[i] = (unsigned char)(i * 13 + 5);
    h2server_start();
    client_open(&cl, GOOSE_HTTP_2, 10000);
    run_one(&cl, &k, "POST", "/echo", body, n);
    char want[64];
    snprintf(want, sizeof want, "%zu %u", n, crc32_of(body, n));
    expect_ok(&k, 200, want);
    call_free(&k);
    size_t big = 3u << 20; /* beyond the 1 MiB stream window */
    char path[32];
    snprintf(path, sizeof path, "/big?%zu", big);
    run_one(&cl, &k, "GET", path, NULL, 0);
    expect_ok(&k, 200, NULL);
    ASSERT_EQ(k.cap.body.len, big);
    for (size_t i = 0; i < big; i++)
        if ((unsigned char)k.cap.body.data[i] != (unsigned char)((i * 7) & 0xff))
            TEST_FAIL("byte %zu of the response body differs", i);
    call_free(&k);
    client_close(&cl);
    free(body);
    ASSERT_EQ(log_lines(NULL), 2);
    srv_stop();
}

/* SETTINGS_ENABLE_PUSH 0; a PUSH_PROMISE anyway is refused, no pushed
 * response counts. */
TEST(server_push_is_refused)
{
    client cl;
    call k;
    h2server_start();
    client_open(&cl, GOOSE_HTTP_2, 5000);
    run_one(&cl, &k, "GET", "/", NULL, 0);
    expect_ok(&k, 200, "hello");
    call_free(&k);
    run_one(&cl, &k, "GET", "/push", NULL, 0);
    ASSERT_EQ(cl.finished, 2);
    /* RFC 9113, 8.4: a connection error, and the request is not sent again */
    expect_error(&k, GOOSE_TE_PROTOCOL,
                 "HTTP/2 connection ended: the server broke the protocol (PROTOCOL_ERROR)");
    call_free(&k);
    client_close(&cl);
    ASSERT_EQ(log_lines("\"client_push\": 0}"), 2);
    srv_stop();
}

/* --timeout: the stream is cancelled; the connection serves the next. */
TEST(timeout_cancels_the_stream)
{
    client cl;
    call k;
    h2server_start();
    client_open(&cl, GOOSE_HTTP_2, 300);
    run_one(&cl, &k, "GET", "/slow", NULL, 0);
    expect_error(&k, GOOSE_TE_TIMEOUT, "Operation timed out after 300 milliseconds");
    call_free(&k);
    run_one(&cl, &k, "GET", "/", NULL, 0);
    expect_ok(&k, 200, "hello");
    call_free(&k);
    client_close(&cl);
    ASSERT_EQ(log_lines("\"conn\": 1,"), 2);
    srv_stop();
}

/* Servers that do not speak HTTP/2 asked for h2c: a clear error. */
static void not_h2(const char *const argv[], const char *words)
{
    client cl;
    call k;
    spawn(argv, srv.log);
    for (int i = 0; i < 250 && !connectable(srv.port); i++)
        usleep(20000);
    client_open(&cl, GOOSE_HTTP_2, 5000);
    run_one(&cl, &k, "GET", "/", NULL, 0);
    expect_error(&k, GOOSE_TE_VERSION, words);
    call_free(&k);
    client_close(&cl);
    srv_stop();
}

TEST(http1_server_is_a_clear_error)
{
    char port[16], target[256];
    const char *build = getenv("GOOSE_BUILD");
    snprintf(target, sizeof target, "%s/goose-target", build ? build : "build");
    srv_dir();
    srv.port = free_port();
    snprintf(srv.log, sizeof srv.log, "%s/http1.log", srv.dir);
    snprintf(port, sizeof port, "%d", srv.port);
    const char *evhttp[] = {target, "--port", port, NULL};
    not_h2(evhttp, "HTTP/2 required (--http-version 2) but the server does not speak it");
    /* python's http.server answers an HTTP/2 preface with bare HTML */
    srv_dir();
    srv.port = free_port();
    snprintf(srv.log, sizeof srv.log, "%s/http1.log", srv.dir);
    snprintf(port, sizeof port, "%d", srv.port);
    const char *py[] = {python_with_h2(), "-m", "http.server", "--bind", "127.0.0.1",
                        "--directory", srv.dir, port, NULL};
    not_h2(py, "HTTP/2 required (--http-version 2) but the server does not speak it");
}

/* An upload the server does not read while it sends PINGs: the client
 * writes from its read event with its write event still armed.  The
 * request ends at its timeout (before the fix, the loop spun forever:
 * the alarm ends the test then). */
TEST(stalled_upload_with_server_frames_times_out)
{
    char port[16];
    client cl;
    call k;
    srv_dir();
    srv.port = free_port();
    snprintf(srv.log, sizeof srv.log, "%s/stall.log", srv.dir);
    snprintf(port, sizeof port, "%d", srv.port);
    const char *argv[] = {"python3", "tests/stall-server.py", "h2c", port, NULL};
    spawn(argv, srv.log);
    for (int i = 0; i < 250 && !connectable(srv.port); i++)
        usleep(20000);
    size_t len = 64u << 20;
    char *body = calloc(1, len);
    ASSERT_NOT_NULL(body);
    alarm(30);
    client_open(&cl, GOOSE_HTTP_2, 3000);
    run_one(&cl, &k, "POST", "/", body, len);
    alarm(0);
    expect_error(&k, GOOSE_TE_TIMEOUT, "Operation timed out after 3000 milliseconds");
    call_free(&k);
    client_close(&cl);
    free(body);
    srv_stop();
}

/* Nobody listens: the words every transport uses, one failure. */
TEST(connection_refused_is_one_failure)
{
    client cl;
    call k;
    srv_dir();
    srv.port = free_port();
    client_open(&cl, GOOSE_HTTP_2, 5000);
    run_one(&cl, &k, "GET", "/", NULL, 0);
    char want[96];
    snprintf(want, sizeof want, "Failed to connect to 127.0.0.1:%d: Connection refused",
             srv.port);
    expect_error(&k, GOOSE_TE_CONNECT, want);
    ASSERT_EQ(cl.finished, 1);
    call_free(&k);
    client_close(&cl);
    srv_stop();
}

/* ---- over TLS ---- */

/* A CA and a certificate for 127.0.0.1 signed by it, in srv.dir. */
static void make_certs(void)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "cd %s && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
             "-keyout ca.key -out ca.pem -days 2 -subj /CN=goose-test-ca >/dev/null 2>&1 && "
             "openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout srv.key "
             "-out srv.csr -subj /CN=127.0.0.1 >/dev/null 2>&1 && "
             "printf 'subjectAltName=IP:127.0.0.1\n' > ext && "
             "openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial "
             "-out srv.pem -days 2 -extfile ext >/dev/null 2>&1",
             srv.dir);
    if (system(cmd) != 0)
        TEST_SKIP("openssl could not make certificates");
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    ASSERT_NOT_NULL(f);
    char *buf = malloc(1 << 16);
    ASSERT_NOT_NULL(buf);
    *len = fread(buf, 1, 1 << 16, f);
    fclose(f);
    return buf;
}

/* A user of the own row for https://127.0.0.1:srv.port, trusting
 * srv.dir/ca.pem. */
static void client_open_tls(client *cl, goose_http_version version)
{
    char path[128], err[256];
    size_t len;
    snprintf(path, sizeof path, "%s/ca.pem", srv.dir);
    char *ca = read_file(path, &len);
    memset(cl, 0, sizeof *cl);
    cl->ca = ca;
    cl->https = 1;
    cl->setup = (goose_http_setup){.version = version, .timeout_ms = 5000, .no_env_proxy = 1,
                                   .tls = {.ca_pem = ca, .ca_pem_len = len}};
    cl->setup.tls_ctx = goose__tls_ctx_new(&cl->setup.tls, err, sizeof err);
    if (!cl->setup.tls_ctx)
        TEST_FAIL("TLS context: %s", err);
    ASSERT_EQ(goose__transport_h1.run_new(&cl->run, &cl->setup, err, sizeof err), 0);
    cl->base = event_base_new();
    ASSERT_NOT_NULL(cl->base);
    cl->user = goose__transport_h1.user_new(cl->run, NULL, cl->base, 0, on_done, cl);
    ASSERT_NOT_NULL(cl->user);
}

/* nghttpd with TLS (h2 only) on srv.port, serving "hi". */
static void nghttpd_tls_start(void)
{
    char port[16], key[96], cert[96], docroot[96], index[128];
    if (system("command -v nghttpd >/dev/null 2>&1") != 0)
        TEST_SKIP("nghttpd not installed (apt-get install nghttp2-server)");
    srv_dir();
    make_certs();
    snprintf(key, sizeof key, "%s/srv.key", srv.dir);
    snprintf(cert, sizeof cert, "%s/srv.pem", srv.dir);
    snprintf(docroot, sizeof docroot, "%s/doc", srv.dir);
    snprintf(index, sizeof index, "%s/index.html", docroot);
    snprintf(srv.log, sizeof srv.log, "%s/nghttpd.log", srv.dir);
    ASSERT_EQ(mkdir(docroot, 0700), 0);
    FILE *f = fopen(index, "w");
    ASSERT_NOT_NULL(f);
    fputs("hi", f);
    fclose(f);
    srv.port = free_port();
    snprintf(port, sizeof port, "%d", srv.port);
    const char *argv[] = {"nghttpd", "-v", "-d", docroot, port, key, cert, NULL};
    spawn(argv, srv.log);
    for (int i = 0; i < 250 && !connectable(srv.port); i++)
        usleep(20000);
}

/* openssl s_server with TLS, ALPN http/1.1 only, answering -www pages. */
static void s_server_start(void)
{
    char port[16], key[96], cert[96];
    srv_dir();
    make_certs();
    snprintf(key, sizeof key, "%s/srv.key", srv.dir);
    snprintf(cert, sizeof cert, "%s/srv.pem", srv.dir);
    snprintf(srv.log, sizeof srv.log, "%s/s_server.log", srv.dir);
    srv.port = free_port();
    snprintf(port, sizeof port, "%d", srv.port);
    const char *argv[] = {"openssl", "s_server", "-accept", port, "-cert", cert, "-key", key,
                          "-alpn", "http/1.1", "-www", NULL};
    spawn(argv, srv.log);
    for (int i = 0; i < 250 && !connectable(srv.port); i++)
        usleep(20000);
}

/* --http-version 2 over https: h2, ALPN chose it: one connection, every
 * answer. */
TEST(h2_over_tls_against_nghttpd)
{
    client cl;
    nghttpd_tls_start();
    client_open_tls(&cl, GOOSE_HTTP_2);
    gets_on_one_connection(&cl, 10);
    ASSERT_EQ(log_lines(":scheme: https"), 10);
    ASSERT_EQ(nghttpd_conns(), 1);
    srv_stop();
}

/* --http-version auto over https: the HTTP/1.1 connection's ALPN chose
 * h2, so it went to the HTTP/2 client with its request; the user's next
 * requests go there too, on that one connection. */
TEST(auto_hands_an_h2_connection_over)
{
    client cl;
    call k[4];
    nghttpd_tls_start();
    client_open_tls(&cl, GOOSE_HTTP_AUTO);
    for (int i = 0; i < 6; i++) {
        run_one(&cl, &k[0], "GET", "/index.html", NULL, 0);
        expect_ok(&k[0], 200, "hi");
        call_free(&k[0]);
    }
    for (int i = 0; i < 4; i++) /* and at once */
        ASSERT_EQ(start(&cl, &k[i], "GET", "/index.html", NULL, 0), GOOSE_TE_AGAIN);
    wait_for(&cl, 10);
    for (int i = 0; i < 4; i++) {
        expect_ok(&k[i], 200, "hi");
        call_free(&k[i]);
    }
    client_close(&cl);
    usleep(100000);
    ASSERT_EQ(log_lines(":method: GET"), 10);
    ASSERT_EQ(nghttpd_conns(), 1);
    srv_stop();
}

/* auto against a server whose ALPN chose http/1.1: HTTP/1.x. */
TEST(auto_stays_http1_without_h2)
{
    client cl;
    call k;
    s_server_start();
    client_open_tls(&cl, GOOSE_HTTP_AUTO);
    run_one(&cl, &k, "GET", "/", NULL, 0);
    if (k.result != GOOSE_TE_OK)
        TEST_FAIL("result %d (%s)", (int)k.result, k.cap.errbuf);
    ASSERT_EQ(k.cap.status, 200);
    ASSERT(k.cap.protocol == GOOSE_PROTO_HTTP_1_0 || k.cap.protocol == GOOSE_PROTO_HTTP_1_1);
    call_free(&k);
    client_close(&cl);
    srv_stop();
}

/* --http-version 2 against a TLS server without h2: a clear error. */
TEST(tls_server_without_h2_is_a_clear_error)
{
    client cl;
    call k;
    s_server_start();
    client_open_tls(&cl, GOOSE_HTTP_2);
    run_one(&cl, &k, "GET", "/", NULL, 0);
    expect_error(&k, GOOSE_TE_VERSION,
                 "HTTP/2 required (--http-version 2) but the server does not speak it");
    call_free(&k);
    client_close(&cl);
    srv_stop();
}

TEST_MAIN(TEST_ENTRY(h2c_requests_share_one_connection),
          TEST_ENTRY(concurrent_streams_of_one_user),
          TEST_ENTRY(request_fields),
          TEST_ENTRY(response_fields_as_header_lines),
          TEST_ENTRY(reset_stream_is_a_failure_with_its_code),
          TEST_ENTRY(refused_stream_goes_again_once),
          TEST_ENTRY(goaway_sends_unprocessed_streams_again),
          TEST_ENTRY(idle_close_then_new_connection),
          TEST_ENTRY(bodies_larger_than_the_window),
          TEST_ENTRY(server_push_is_refused),
          TEST_ENTRY(timeout_cancels_the_stream),
          TEST_ENTRY(http1_server_is_a_clear_error),
          TEST_ENTRY(stalled_upload_with_server_frames_times_out),
          TEST_ENTRY(connection_refused_is_one_failure),
          TEST_ENTRY(h2_over_tls_against_nghttpd),
          TEST_ENTRY(auto_hands_an_h2_connection_over),
          TEST_ENTRY(auto_stays_http1_without_h2),
          TEST_ENTRY(tls_server_without_h2_is_a_clear_error))
