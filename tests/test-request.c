/* The request builders and the response checks a script reaches for
 * (issue 16), end to end, written against the documented API:
 * - form and JSON bodies, query parameters and Basic authentication as
 *   the bundled target's /echo received them (exact bytes, one
 *   Content-Type, one Authorization);
 * - a request's own time limit over each transport: the own HTTP/1.1
 *   client and libcurl (a dot segment in the path: the own client leaves
 *   it to libcurl) against the target's /slow, HTTP/2 (prior-knowledge
 *   h2c) against tests/h2server.py's /slow, which never answers;
 * - header fields one by one over HTTP/1.1 (tests/rawhttp.py's /raw sends
 *   the bytes a test gives) and HTTP/2;
 * - goose_response_expect_text/_header, their return codes and their rows
 *   in the report's errors table; bad input everywhere.
 * Transactions cannot fail the test on their engine thread: they count
 * what they find wrong (miss()) and how far they got; the test asserts
 * both after the run.  Run from the source tree. */
#include "e2e.h"

#include <strings.h>

static target tgt;

/* ---- scripted servers (python3) ---- */

typedef struct script {
    pid_t pid;
    int port;
    char dir[64];
    char url[64];
} script;

static script py;

static void py_abandoned(void)
{
    if (py.pid > 0) {
        kill(py.pid, SIGTERM);
        waitpid(py.pid, NULL, 0);
    }
}

/* python3 with h2 (Debian's python3-h2), or the test is skipped. */
static const char *python_with_h2(void)
{
    if (system("python3 -c 'import h2' >/dev/null 2>&1") == 0)
        return "python3";
    if (system("/usr/bin/python3 -c 'import h2' >/dev/null 2>&1") == 0)
        return "/usr/bin/python3";
    TEST_SKIP("python3 cannot import h2 (apt-get install python3-h2)");
    return NULL;
}

/* `python script --port-file F --log L` on 127.0.0.1; its URL in py.url. */
static void py_start(const char *python, const char *path)
{
    static int once;
    char portfile[96], log[96];
    if (!once++)
        atexit(py_abandoned);
    if (access(path, R_OK) != 0)
        TEST_FAIL("%s not found: run from the source tree", path);
    snprintf(py.dir, sizeof py.dir, "/tmp/goose-request-XXXXXX");
    ASSERT_NOT_NULL(mkdtemp(py.dir));
    snprintf(portfile, sizeof portfile, "%s/port", py.dir);
    snprintf(log, sizeof log, "%s/log", py.dir);
    fflush(NULL);
    py.pid = fork();
    ASSERT(py.pid >= 0);
    if (py.pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGTERM); /* a failed test leaves no server */
        if (!freopen("/dev/null", "w", stdout) || !freopen("/dev/null", "w", stderr))
            _exit(127);
        execlp(python, python, path, "--port-file", portfile, "--log", log, (char *)NULL);
        _exit(127);
    }
    py.port = 0;
    for (int i = 0; i < 250 && !py.port; i++) {
        FILE *f = fopen(portfile, "r");
        if (f) {
            if (fscanf(f, "%d", &py.port) != 1)
                py.port = 0;
            fclose(f);
        }
        if (!py.port)
            usleep(20000);
    }
    if (py.port <= 0)
        TEST_FAIL("%s did not start", path);
    snprintf(py.url, sizeof py.url, "http://127.0.0.1:%d", py.port);
}

static void py_stop(void)
{
    char cmd[128];
    py_abandoned();
    py.pid = 0;
    snprintf(cmd, sizeof cmd, "rm -rf %s", py.dir);
    ASSERT_EQ(system(cmd), 0);
}

/* ---- runs ---- */

static atomic_int reached; /* transactions that got to their end */

static goose_attack *attack(goose_transaction_fn fn, const char *host, const char *iterations)
{
    goose_attack *a = goose_attack_new();
    goose_scenario *s = goose_scenario_new("script");
    goose_scenario_add_transaction(s, "tx", fn);
    goose_attack_add_scenario(a, s);
    set(a, "host", host);
    set(a, "users", "1");
    set(a, "hatch-rate", "1000");
    set(a, "iterations", iterations);
    set(a, "run-time", "30s"); /* a cap: the iterations end the run long before */
    set(a, "no-reset-metrics", NULL);
    atomic_store(&bad, 0);
    atomic_store(&reached, 0);
    return a;
}

/* Runs a, checks that every transaction got to its end with nothing
 * wrong, and returns the report. */
static json_t *run(goose_attack *a, int transactions)
{
    ASSERT_EQ(goose_attack_run(a), GOOSE_OK);
    int wrong = atomic_load(&bad), ended = atomic_load(&reached);
    ASSERT_EQ(wrong, 0);
    ASSERT_EQ(ended, transactions);
    return report_of(a);
}

static json_t *entry(json_t *report, const char *method, const char *name)
{
    json_t *r = report_request(report, method, name);
    if (!r)
        TEST_FAIL("no \"%s %s\" in the report", method, name);
    return r;
}

/* The count of the errors row (name, error), 0 when there is none; the
 * rows the request name has in all go to *rows. */
static long long error_row(json_t *report, const char *name, const char *error, int *rows)
{
    long long count = 0;
    size_t i;
    json_t *e;
    *rows = 0;
    json_array_foreach(json_object_get(report, "errors"), i, e) {
        if (strcmp(json_string_value(json_object_get(e, "name")), name) != 0)
            continue;
        (*rows)++;
        if (strcmp(json_string_value(json_object_get(e, "error")), error) == 0)
            count = jint(e, "count");
    }
    return count;
}

/* The one errors row of a request name is error, count times. */
static void one_error(json_t *report, const char *name, const char *error, long long count)
{
    int rows;
    long long n = error_row(report, name, error, &rows);
    if (n != count || rows != 1)
        TEST_FAIL("errors of \"%s\": %d rows, \"%s\" %lld times (want 1 row, %lld)", name, rows,
                  error, n, count);
}

/* ---- inside transactions ---- */

#define OK(call)                                                                           \
    do {                                                                                   \
        int rc_ = (call);                                                                  \
        if (rc_ != GOOSE_OK)                                                               \
            miss("%s: %d, want GOOSE_OK", #call, rc_);                                     \
    } while (0)

#define RC(call, want)                                                                     \
    do {                                                                                   \
        int rc_ = (call);                                                                  \
        if (rc_ != (want))                                                                 \
            miss("%s: %d, want %s", #call, rc_, #want);                                    \
    } while (0)

static void same(const char *what, const char *got, const char *want)
{
    if (!got || strcmp(got, want) != 0)
        miss("%s: \"%s\", want \"%s\"", what, got ? got : "(null)", want);
}

/* What the target's /echo received: "method M\nuri U\nheader N: V\n...",
 * then an empty line and the body. */
typedef struct echo {
    char method[16];
    char uri[512];
    char body[1024];
    int has_body;
    const char *text;
} echo;

static int read_echo(goose_response *r, echo *e)
{
    size_t len;
    const char *b = goose_response_body(r, &len);
    memset(e, 0, sizeof *e);
    if (goose_response_status(r) != 200 || !b) {
        miss("/echo: status %d (%s)", goose_response_status(r),
             goose_response_error(r) ? goose_response_error(r) : "");
        return -1;
    }
    e->text = b;
    if (sscanf(b, "method %15s\nuri %511s\n", e->method, e->uri) != 2) {
        miss("/echo said: %s", b);
        return -1;
    }
    const char *blank = strstr(b, "\n\n");
    if (blank) {
        e->has_body = 1;
        snprintf(e->body, sizeof e->body, "%s", blank + 2);
    }
    return 0;
}

/* How many "header NAME: " lines /echo listed (name in any case); the
 * first one's value into value. */
static int echo_header(const echo *e, const char *name, char *value, size_t size)
{
    int n = 0;
    size_t nlen = strlen(name);
    const char *end = strstr(e->text, "\n\n");
    value[0] = '\0';
    for (const char *p = e->text; p && *p && (!end || p < end); p = strchr(p, '\n')) {
        if (*p == '\n')
            p++;
        if (strncmp(p, "header ", 7) == 0 && strncasecmp(p + 7, name, nlen) == 0 &&
            p[7 + nlen] == ':') {
            if (!n++)
                snprintf(value, size, "%.*s", (int)strcspn(p + 9 + nlen, "\n"), p + 9 + nlen);
        }
    }
    return n;
}

/* /echo got method, uri and body, with header `name` once, as value. */
static void expect_echo(goose_response *r, const char *method, const char *uri, const char *name,
                        const char *value, const char *body)
{
    echo e;
    char got[512];
    if (read_echo(r, &e) < 0)
        return;
    same("method", e.method, method);
    same("uri", e.uri, uri);
    if (name) {
        int n = echo_header(&e, name, got, sizeof got);
        if (n != 1)
            miss("%s %s: %d %s headers, want 1", method, uri, n, name);
        same(name, got, value);
    }
    if (body)
        same("body", e.body, body);
    else if (e.has_body)
        miss("%s %s: a body \"%s\", want none", method, uri, e.body);
}

/* A request a builder call refused: sent, it goes nowhere (status 0, not
 * counted) and says why. */
static void refused_send(goose_request *req, const char *why)
{
    goose_response *r = goose_request_send(req);
    const char *error = goose_response_error(r);
    if (goose_response_status(r) != 0 || !error || strcmp(error, why) != 0)
        miss("a refused request: status %d, error \"%s\", want \"%s\"",
             goose_response_status(r), error ? error : "(none)", why);
    goose_response_free(r);
}

/* ---- form bodies ---- */

static int form(goose_user *u)
{
    goose_request *req = goose_request_new(u, "POST", "/echo");
    OK(goose_request_add_form(req, "name", "goose & gander"));
    OK(goose_request_add_form(req, "note", "50% off *-._~!'()"));
    OK(goose_request_add_form(req, "\xc3\xa9t\xc3\xa9", "a+b=c/d?\r\n#"));
    OK(goose_request_add_form(req, "", ""));
    goose_response *r = goose_request_send(req);
    expect_echo(r, "POST", "/echo", "Content-Type", "application/x-www-form-urlencoded",
                "name=goose+%26+gander&note=50%25+off+*-._%7E%21%27%28%29"
                "&%C3%A9t%C3%A9=a%2Bb%3Dc%2Fd%3F%0D%0A%23&=");
    goose_response_free(r);

    /* the request's own Content-Type (any case) is the one sent */
    req = goose_request_new(u, "PUT", "/echo");
    OK(goose_request_set_header(req, "content-type",
                                "application/x-www-form-urlencoded; charset=UTF-8"));
    OK(goose_request_add_form(req, "a", "1"));
    r = goose_request_send(req);
    expect_echo(r, "PUT", "/echo", "Content-Type",
                "application/x-www-form-urlencoded; charset=UTF-8", "a=1");
    goose_response_free(r);
    atomic_fetch_add(&reached, 1);
    return GOOSE_OK;
}

TEST(form_body_as_the_target_got_it)
{
    target_start(&tgt);
    goose_attack *a = attack(form, tgt.url, "1");
    json_t *report = run(a, 1);
    ASSERT_EQ(jint(entry(report, "POST", "/echo"), "success"), 1);
    ASSERT_EQ(jint(entry(report, "PUT", "/echo"), "success"), 1);
    json_decref(report);
    goose_attack_free(a);
    target_stop(&tgt);
}

/* ---- JSON bodies ---- */

static int json_bodies(goose_user *u)
{
    static const char doc[] = "{\"a\": [1, 2.5e3, {\"b\": null}],\n \"s\": \"\\u00e9\\u0000\"}";
    goose_request *req = goose_request_new(u, "POST", "/echo");
    OK(goose_request_set_json(req, doc));
    goose_response *r = goose_request_send(req);
    expect_echo(r, "POST", "/echo", "Content-Type", "application/json", doc);
    goose_response_free(r);

    /* any JSON value; a text that is not JSON is refused, and the request
     * it was for is not sent (the first mistake sticks) */
    static const char *const not_json[] = {"", " ", "{a: 1}", "[1,]", "{\"a\": 1} x",
                                           "'text'", "nul", "\"\\x\"", "{\"a\":", "01"};
    for (size_t i = 0; i < sizeof not_json / sizeof not_json[0]; i++) {
        req = goose_request_new(u, "DELETE", "/echo");
        RC(goose_request_set_json(req, not_json[i]), GOOSE_EINVAL);
        OK(goose_request_set_json(req, "{}")); /* too late: the request stays refused */
        refused_send(req, "goose_request_set_json: not JSON: request not sent");
    }
    req = goose_request_new(u, "PATCH", "/echo");
    OK(goose_request_set_json(req, "\"text\""));
    OK(goose_request_set_json(req, "{\"id\": 18446744073709551616}")); /* RFC 8259 allows it */
    OK(goose_request_set_json(req, " 42 ")); /* the last one given */
    r = goose_request_send(req);
    expect_echo(r, "PATCH", "/echo", "Content-Type", "application/json", " 42 ");
    goose_response_free(r);

    /* refused and freed unsent */
    req = goose_request_new(u, "DELETE", "/echo");
    RC(goose_request_set_json(req, "{"), GOOSE_EINVAL);
    goose_request_free(req);

    /* the request's own Content-Type is the one sent */
    req = goose_request_new(u, "PUT", "/echo");
    OK(goose_request_set_json(req, "null"));
    OK(goose_request_set_header(req, "Content-Type", "application/merge-patch+json"));
    r = goose_request_send(req);
    expect_echo(r, "PUT", "/echo", "Content-Type", "application/merge-patch+json", "null");
    goose_response_free(r);
    atomic_fetch_add(&reached, 1);
    return GOOSE_OK;
}

TEST(json_body_as_the_target_got_it)
{
    target_start(&tgt);
    goose_attack *a = attack(json_bodies, tgt.url, "1");
    json_t *report = run(a, 1), *stats = target_json(&tgt, "/stats");
    ASSERT_EQ(jint(entry(report, "POST", "/echo"), "success"), 1);
    ASSERT_EQ(jint(entry(report, "PATCH", "/echo"), "success"), 1);
    ASSERT_EQ(jint(entry(report, "PUT", "/echo"), "success"), 1);
    ASSERT_NULL(report_request(report, "DELETE", "/echo"));
    ASSERT_EQ(target_count(stats, "/echo"), 3); /* the refused one never went */
    json_decref(stats);
    json_decref(report);
    goose_attack_free(a);
    target_stop(&tgt);
}

/* ---- one body, given one way ---- */

static int one_way(goose_user *u)
{
    /* a form, then JSON or raw bytes: refused, and the request is not sent */
    goose_request *req = goose_request_new(u, "POST", "/echo");
    OK(goose_request_add_form(req, "a", "1"));
    RC(goose_request_set_json(req, "{}"), GOOSE_EINVAL);
    RC(goose_request_set_body(req, "raw", 3), GOOSE_EINVAL);
    OK(goose_request_add_form(req, "b", "2"));
    refused_send(req, "goose_request_set_json refused the body: request not sent");
    req = goose_request_new(u, "POST", "/echo");
    OK(goose_request_add_form(req, "a", "1"));
    RC(goose_request_set_body(req, "raw", 3), GOOSE_EINVAL);
    refused_send(req, "goose_request_set_body: the request has a form or JSON body: "
                      "request not sent");

    /* JSON, then a form */
    req = goose_request_new(u, "PUT", "/echo");
    OK(goose_request_set_json(req, "[1]"));
    RC(goose_request_add_form(req, "a", "1"), GOOSE_EINVAL);
    refused_send(req, "goose_request_add_form refused a field: request not sent");

    /* raw bytes, then JSON (an empty body too) */
    req = goose_request_new(u, "PATCH", "/echo");
    OK(goose_request_set_body(req, NULL, 0));
    RC(goose_request_set_json(req, "{}"), GOOSE_EINVAL);
    refused_send(req, "goose_request_set_json refused the body: request not sent");

    /* raw bytes replace raw bytes */
    req = goose_request_new(u, "PATCH", "/echo");
    OK(goose_request_set_body(req, NULL, 0));
    OK(goose_request_set_header(req, "Content-Type", "text/plain"));
    OK(goose_request_set_body(req, "raw", 3));
    goose_response *r = goose_request_send(req);
    expect_echo(r, "PATCH", "/echo", "Content-Type", "text/plain", "raw");
    goose_response_free(r);
    atomic_fetch_add(&reached, 1);
    return GOOSE_OK;
}

TEST(one_body_one_way)
{
    target_start(&tgt);
    goose_attack *a = attack(one_way, tgt.url, "1");
    json_t *report = run(a, 1), *stats = target_json(&tgt, "/stats");
    ASSERT_EQ(report_total(report), 1); /* the refused ones are not counted ... */
    ASSERT_EQ(target_count(stats, "/echo"), 1); /* ... nor sent */
    json_decref(stats);
    json_decref(report);
    goose_attack_free(a);
    target_stop(&tgt);
}

/* ---- query parameters ---- */

static int query(goose_user *u)
{
    static const struct {
        const char *path, *uri;
    } cases[] = {
        {"/echo", "/echo?q=a+b%26c%2Fd%3F%C3%A9%23%0A&empty="},
        {"/echo?lang=en", "/echo?lang=en&q=a+b%26c%2Fd%3F%C3%A9%23%0A&empty="},
        {"/echo?lang=en#top", "/echo?lang=en&q=a+b%26c%2Fd%3F%C3%A9%23%0A&empty="},
        {"/echo?", "/echo?q=a+b%26c%2Fd%3F%C3%A9%23%0A&empty="},
        {"/echo?a=1&", "/echo?a=1&q=a+b%26c%2Fd%3F%C3%A9%23%0A&empty="},
        {"/echo#frag?x", "/echo?q=a+b%26c%2Fd%3F%C3%A9%23%0A&empty="},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        goose_request *req = goose_request_new(u, "GET", cases[i].path);
        OK(goose_request_add_query(req, "q", "a b&c/d?\xc3\xa9#\n"));
        OK(goose_request_add_query(req, "empty", ""));
        goose_response *r = goose_request_send(req);
        expect_echo(r, "GET", cases[i].uri, NULL, NULL, NULL);
        goose_response_free(r);
    }
    /* a name given before or after keeps its own */
    goose_request *req = goose_request_new(u, "POST", "/echo");
    OK(goose_request_set_name(req, "search"));
    OK(goose_request_add_query(req, "id", "1"));
    goose_response *r = goose_request_send(req);
    expect_echo(r, "POST", "/echo?id=1", NULL, NULL, NULL);
    goose_response_free(r);
    req = goose_request_new(u, "POST", "/echo");
    OK(goose_request_add_query(req, "id", "2"));
    OK(goose_request_set_name(req, "search"));
    goose_response_free(goose_request_send(req));
    atomic_fetch_add(&reached, 1);
    return GOOSE_OK;
}

TEST(query_parameters_as_the_target_got_them)
{
    target_start(&tgt);
    goose_attack *a = attack(query, tgt.url, "2");
    json_t *report = run(a, 2);
    /* named by the path as given, whatever the values */
    static const char *const names[] = {"/echo", "/echo?lang=en", "/echo?lang=en#top",
                                        "/echo?", "/echo?a=1&", "/echo#frag?x"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        ASSERT_EQ(jint(entry(report, "GET", names[i]), "success"), 2);
    ASSERT_EQ(jint(entry(report, "POST", "search"), "success"), 4);
    ASSERT_EQ(json_array_size(json_object_get(report, "requests")), 7);
    json_decref(report);
    goose_attack_free(a);
    target_stop(&tgt);
}

/* ---- Basic authentication ---- */

static int basic_auth(goose_user *u)
{
    goose_request *req = goose_request_new(u, "GET", "/echo");
    OK(goose_request_set_header(req, "authorization", "Bearer old"));
    OK(goose_request_set_header(req, "X-Other", "kept"));
    OK(goose_request_set_basic_auth(req, "Aladdin", "open sesame")); /* RFC 7617's */
    goose_response *r = goose_request_send(req);
    expect_echo(r, "GET", "/echo", "Authorization", "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==", NULL);
    expect_echo(r, "GET", "/echo", "X-Other", "kept", NULL);
    goose_response_free(r);

    /* the last one given; UTF-8 as it is (RFC 7617's "test" / "123£") */
    req = goose_request_new(u, "GET", "/echo");
    OK(goose_request_set_basic_auth(req, "someone", "else"));
    OK(goose_request_set_basic_auth(req, "test", "123\xc2\xa3"));
    r = goose_request_send(req);
    expect_echo(r, "GET", "/echo", "Authorization", "Basic dGVzdDoxMjPCow==", NULL);
    goose_response_free(r);
    req = goose_request_new(u, "GET", "/echo");
    OK(goose_request_set_basic_auth(req, "test", "x"));
    RC(goose_request_set_basic_auth(req, "te:st", "x"), GOOSE_EINVAL);
    refused_send(req, "goose_request_set_basic_auth refused the credentials: request not sent");

    /* empty ones, and a colon in the password */
    req = goose_request_new(u, "GET", "/echo");
    OK(goose_request_set_basic_auth(req, "", ""));
    r = goose_request_send(req);
    expect_echo(r, "GET", "/echo", "Authorization", "Basic Og==", NULL);
    goose_response_free(r);
    req = goose_request_new(u, "GET", "/echo");
    OK(goose_request_set_basic_auth(req, "ab", "c:d"));
    r = goose_request_send(req);
    expect_echo(r, "GET", "/echo", "Authorization", "Basic YWI6Yzpk", NULL);
    goose_response_free(r);
    atomic_fetch_add(&reached, 1);
    return GOOSE_OK;
}

TEST(basic_auth_as_the_target_got_it)
{
    target_start(&tgt);
    goose_attack *a = attack(basic_auth, tgt.url, "1");
    json_t *report = run(a, 1);
    ASSERT_EQ(jint(entry(report, "GET", "/echo"), "success"), 4);
    json_decref(report);
    goose_attack_free(a);
    target_stop(&tgt);
}

/* ---- credentials and a redirect to another origin ---- */

static target other; /* a second server: another origin */

/* How many header lines called name the echo of r shows. */
static int echo_count(goose_response *r, const char *name)
{
    echo e;
    char got[512];
    return read_echo(r, &e) < 0 ? -1 : echo_header(&e, name, got, sizeof got);
}

/* A form POST with Basic auth and a Cookie of its own, redirected (302)
 * to /echo of port: the hop is a GET without the form's Content-Type;
 * the credentials follow it only on the request's own origin. */
static void redirected_post(goose_user *u, int port, int same_origin)
{
    char path[64];
    snprintf(path, sizeof path, "/redirect-to/%d/echo", port);
    goose_request *req = goose_request_new(u, "POST", path);
    OK(goose_request_set_basic_auth(req, "Aladdin", "open sesame"));
    OK(goose_request_set_header(req, "Cookie", "secret=1"));
    OK(goose_request_set_header(req, "X-Other", "kept"));
    OK(goose_request_add_form(req, "name", "goose"));
    goose_response *r = goose_request_send(req);
    expect_echo(r, "GET", "/echo", "X-Other", "kept", NULL);
    if (echo_count(r, "Authorization") != same_origin || echo_count(r, "Cookie") != same_origin)
        miss("port %d: Authorization/Cookie sent %d/%d times, want %d", port,
             echo_count(r, "Authorization"), echo_count(r, "Cookie"), same_origin);
    if (echo_count(r, "Content-Type") != 0)
        miss("port %d: the GET hop kept the form's Content-Type", port);
    goose_response_free(r);
}

static int credentials_on_redirects(goose_user *u)
{
    redirected_post(u, other.port, 0);
    redirected_post(u, tgt.port, 1);
    atomic_fetch_add(&reached, 1);
    return GOOSE_OK;
}

TEST(credentials_stay_on_their_origin)
{
    target_start(&tgt);
    target_start(&other);
    goose_attack *a = attack(credentials_on_redirects, tgt.url, "1");
    json_t *report = run(a, 1);
    ASSERT_EQ(jint(entry(report, "GET", "/echo"), "success"), 2);
    json_decref(report);
    goose_attack_free(a);
    target_stop(&other);
    target_stop(&tgt);
}

/* ---- a request's own time limit ---- */

typedef struct timed {
    const char *name;
    const char *path;  /* with the transport's prefix */
    long own_ms;       /* -1: none of its own; 0: refused, so none */
} timed;

static const char *timed_prefix; /* "/x/.." sends through libcurl */
static const timed *timed_cases;
static size_t ntimed;

static int timed_requests(goose_user *u)
{
    for (size_t i = 0; i < ntimed; i++) {
        char path[128];
        snprintf(path, sizeof path, "%s%s", timed_prefix, timed_cases[i].path);
        goose_request *req = goose_request_new(u, "GET", path);
        OK(goose_request_set_name(req, timed_cases[i].name));
        if (timed_cases[i].own_ms > 0)
            OK(goose_request_set_timeout(req, timed_cases[i].own_ms));
        if (timed_cases[i].own_ms == 0) /* as --timeout 0 */
            RC(goose_request_set_timeout(req, 0), GOOSE_EINVAL);
        goose_response_free(goose_request_send(req));
    }
    atomic_fetch_add(&reached, 1);
    return GOOSE_OK;
}

/* --timeout 500ms for the run. */
static const timed target_timed[] = {
    {"own 200ms, 3 s answer", "/slow?ms=3000", 200},   /* fails: its own limit */
    {"own 3 s, 800 ms answer", "/slow?ms=800", 3000},  /* the run's would fail it */
    {"own 0, 800 ms answer", "/slow?ms=800", 0},       /* refused: not sent */
    {"run's, 3 s answer", "/slow?ms=3000", -1},        /* fails: the run's */
    {"run's, 50 ms answer", "/slow?ms=50", -1},
};

static void timeouts_against_target(const char *prefix)
{
    target_start(&tgt);
    timed_prefix = prefix;
    timed_cases = target_timed;
    ntimed = sizeof target_timed / sizeof target_timed[0];
    goose_attack *a = attack(timed_requests, tgt.url, "1");
    set(a, "timeout", "500ms");
    json_t *report = run(a, 1);
    ASSERT_EQ(jint(entry(report, "GET", "own 200ms, 3 s answer"), "fail"), 1);
    one_error(report, "own 200ms, 3 s answer", "Operation timed out after 200 milliseconds", 1);
    ASSERT_EQ(jint(entry(report, "GET", "own 3 s, 800 ms answer"), "success"), 1);
    ASSERT_NULL(report_request(report, "GET", "own 0, 800 ms answer"));
    ASSERT_EQ(jint(entry(report, "GET", "run's, 3 s answer"), "fail"), 1);
    one_error(report, "run's, 3 s answer", "Operation timed out after 500 milliseconds", 1);
    ASSERT_EQ(jint(entry(report, "GET", "run's, 50 ms answer"), "success"), 1);
    ASSERT_EQ(report_total(report), 4);
    json_decref(report);
    goose_attack_free(a);
    target_stop(&tgt);
}

TEST(own_timeout_over_http1)
{
    timeouts_against_target("");
}

/* A dot segment: the own client leaves the URL to libcurl, which takes
 * the segment out ("/x/../slow" is "/slow"). */
TEST(own_timeout_over_libcurl)
{
    timeouts_against_target("/x/..");
}

/* tests/h2server.py's /slow never answers; --timeout 500ms. */
static const timed h2_timed[] = {
    {"own 200ms, no answer", "/slow", 200},
    {"run's, no answer", "/slow", -1},
    {"own 5 s, an answer", "/", 5000},
    {"run's, an answer", "/", -1},
};

TEST(own_timeout_over_http2)
{
    py_start(python_with_h2(), "tests/h2server.py");
    timed_prefix = "";
    timed_cases = h2_timed;
    ntimed = sizeof h2_timed / sizeof h2_timed[0];
    goose_attack *a = attack(timed_requests, py.url, "1");
    set(a, "http-version", "2");
    set(a, "timeout", "500ms");
    json_t *report = run(a, 1);
    json_t *own = entry(report, "GET", "own 200ms, no answer");
    ASSERT_EQ(jint(own, "fail"), 1);
    one_error(report, "own 200ms, no answer", "Operation timed out after 200 milliseconds", 1);
    ASSERT_EQ(jint(entry(report, "GET", "run's, no answer"), "fail"), 1);
    one_error(report, "run's, no answer", "Operation timed out after 500 milliseconds", 1);
    all_over(entry(report, "GET", "own 5 s, an answer"), "HTTP/2");
    ASSERT_EQ(jint(entry(report, "GET", "own 5 s, an answer"), "success"), 1);
    all_over(entry(report, "GET", "run's, an answer"), "HTTP/2");
    ASSERT_EQ(jint(entry(report, "GET", "run's, an answer"), "success"), 1);
    json_decref(report);
    goose_attack_free(a);
    py_stop();
}

/* ---- header fields one by one ---- */

/* "/raw?b=HEX": tests/rawhttp.py answers with exactly these bytes. */
static void raw_path(char *out, size_t size, const char *bytes, size_t len)
{
    size_t n = (size_t)snprintf(out, size, "/raw?b=");
    for (size_t i = 0; i < len && n + 3 < size; i++)
        n += (size_t)snprintf(out + n, size - n, "%02x", (unsigned char)bytes[i]);
}

static const char raw_head[] = "HTTP/1.1 200 OK: fine\r\n"
                               "X-One: 1\r\n"
                               "x-dup: a\r\n"
                               "X-Dup: \t b  c \t\r\n"
                               "X-Fold: first\r\n"
                               "  second\r\n"
                               "\tthird \r\n"
                               "X-Empty:\r\n"
                               "X-Empty-Folded:\r\n"
                               " later\r\n"
                               "Content-Length: 2\r\n"
                               "\r\n"
                               "ok";

static void fields_are(goose_response *r, const char *const (*want)[2], size_t n)
{
    const char *name, *value;
    if (goose_response_header_count(r) != n)
        miss("%zu header fields, want %zu", goose_response_header_count(r), n);
    for (size_t i = 0; i < n; i++) {
        OK(goose_response_header_at(r, i, &name, &value));
        same("field name", name, want[i][0]);
        same("field value", value, want[i][1]);
    }
    name = value = "set";
    RC(goose_response_header_at(r, n, &name, &value), GOOSE_EINVAL);
    if (name || value)
        miss("out of range: name and value are not NULL");
}

static int fields_h1(goose_user *u)
{
    static const char *const want[][2] = {
        {"X-One", "1"}, {"x-dup", "a"}, {"X-Dup", "b  c"}, {"X-Fold", "first second third"},
        {"X-Empty", ""}, {"X-Empty-Folded", "later"}, {"Content-Length", "2"},
    };
    char path[1024];
    raw_path(path, sizeof path, raw_head, sizeof raw_head - 1);
    goose_request *req = goose_request_new(u, "GET", path);
    OK(goose_request_set_name(req, "/raw"));
    goose_response *r = goose_request_send(req);
    const char *first, *value;
    OK(goose_response_header_at(r, 0, &first, &value));
    fields_are(r, want, sizeof want / sizeof want[0]);
    same("the first name, read again", first, "X-One"); /* valid until freed */
    goose_response_free(r);

    /* interim heads (103, 100) are not the response's */
    static const char *const hints[][2] = {
        {"X-Final", "yes"}, {"Content-Type", "text/plain"}, {"Content-Length", "12"}};
    r = goose_get(u, "/early-hints");
    fields_are(r, hints, 3);
    goose_response_free(r);

    /* trailer fields follow the head's */
    static const char *const chunked[][2] = {
        {"Content-Type", "text/plain"}, {"Transfer-Encoding", "chunked"},
        {"Trailer", "X-Trailer"}, {"X-Trailer", "done"}};
    r = goose_get(u, "/chunked");
    fields_are(r, chunked, 4);
    goose_response_free(r);

    /* none at all */
    static const char bare[] = "HTTP/1.1 204 No Content\r\n\r\n";
    raw_path(path, sizeof path, bare, sizeof bare - 1);
    r = goose_get(u, path);
    fields_are(r, NULL, 0);
    goose_response_free(r);
    atomic_fetch_add(&reached, 1);
    return GOOSE_OK;
}

TEST(header_fields_over_http1)
{
    py_start("python3", "tests/rawhttp.py");
    goose_attack *a = attack(fields_h1, py.url, "1");
    json_t *report = run(a, 1);
    ASSERT_EQ(jint(entry(report, "GET", "/raw"), "success"), 1);
    json_decref(report);
    goose_attack_free(a);
    py_stop();
}

static int fields_h2(goose_user *u)
{
    static const char *const want[][2] = {{"content-length", "5"},
                                          {"set-cookie", "h2=yes; Path=/"}};
    goose_response *r = goose_get(u, "/");
    fields_are(r, want, 2);
    OK(goose_response_expect_header(r, "Set-Cookie", "h2=yes; Path=/"));
    goose_response_free(r);
    atomic_fetch_add(&reached, 1);
    return GOOSE_OK;
}

TEST(header_fields_over_http2)
{
    py_start(python_with_h2(), "tests/h2server.py");
    goose_attack *a = attack(fields_h2, py.url, "1");
    set(a, "http-version", "2");
    json_t *report = run(a, 1);
    all_over(entry(report, "GET", "/"), "HTTP/2");
    ASSERT_EQ(jint(entry(report, "GET", "/"), "success"), 1);
    json_decref(report);
    goose_attack_free(a);
    py_stop();
}

/* ---- checks ---- */

/* A page whose X-Id differs every time, with a NUL byte in its body. */
static goose_response *page(goose_user *u, const char *name, unsigned id)
{
    static const char body[] = "<p>\0\xff Welcome</p>\n";
    char raw[256], path[1024];
    int n = snprintf(raw, sizeof raw,
                     "HTTP/1.1 200 OK\r\nX-Id: %u\r\nContent-Type: text/html\r\n"
                     "Content-Length: %zu\r\n\r\n", id, sizeof body - 1);
    memcpy(raw + n, body, sizeof body - 1);
    raw_path(path, sizeof path, raw, (size_t)n + sizeof body - 1);
    goose_request *req = goose_request_new(u, "GET", path);
    OK(goose_request_set_name(req, name));
    return goose_request_send(req);
}

static unsigned next_id = 100;

static int checks(goose_user *u)
{
    /* checks that hold: a request that stays a success */
    goose_response *r = page(u, "holds", next_id++);
    OK(goose_response_expect_text(r, "Welcome")); /* past the NUL byte */
    OK(goose_response_expect_text(r, "\xff Wel"));
    OK(goose_response_expect_text(r, ""));
    OK(goose_response_expect_header(r, "x-id", NULL));
    OK(goose_response_expect_header(r, "CONTENT-TYPE", "text/html"));
    if (goose_response_error(r))
        miss("a check that held failed the request: %s", goose_response_error(r));
    goose_response_free(r);

    r = page(u, "text", next_id++);
    RC(goose_response_expect_text(r, "Goodbye"), GOOSE_EFAILED);
    RC(goose_response_expect_header(r, "X-Id", "7"), GOOSE_EFAILED); /* the first reason stays */
    OK(goose_response_expect_text(r, "Welcome")); /* holds: no change */
    same("error", goose_response_error(r), "expected text \"Goodbye\" not in the body");
    goose_response_free(r);

    /* a value the server sends differently each time: one row all the same */
    r = page(u, "header value", next_id++);
    RC(goose_response_expect_header(r, "X-Id", "7"), GOOSE_EFAILED);
    same("error", goose_response_error(r), "expected header X-Id: 7, got X-Id: (another value)");
    goose_response_free(r);

    r = page(u, "header absent", next_id++);
    RC(goose_response_expect_header(r, "X-Token", "abc"), GOOSE_EFAILED);
    goose_response_free(r);

    r = page(u, "header missing", next_id++);
    RC(goose_response_expect_header(r, "X-Token", NULL), GOOSE_EFAILED);
    goose_response_free(r);

    /* a long text with quotes, a backslash and control bytes: quoted on one line */
    r = page(u, "long text", next_id++);
    /* (63 bytes are quoted: the 64th would split "\xc3\xa9") */
    RC(goose_response_expect_text(r, "say \"hi\"\\\n\tnow \x01 and a long story that goes on "
                                     "and on, and then\xc3\xa9nd"),
       GOOSE_EFAILED);
    goose_response_free(r);

    /* a request that failed already keeps its reason */
    r = goose_get(u, "/missing");
    RC(goose_response_expect_text(r, "Welcome"), GOOSE_EFAILED);
    OK(goose_response_expect_text(r, "no such path"));
    same("error", goose_response_error(r), "404 Not Found");
    goose_response_free(r);
    atomic_fetch_add(&reached, 1);
    return GOOSE_OK;
}

TEST(checks_fail_requests_one_row_each)
{
    py_start("python3", "tests/rawhttp.py");
    goose_attack *a = attack(checks, py.url, "3");
    json_t *report = run(a, 3);
    ASSERT_EQ(jint(entry(report, "GET", "holds"), "success"), 3);
    static const struct {
        const char *name, *error;
    } rows[] = {
        {"text", "expected text \"Goodbye\" not in the body"},
        {"header value", "expected header X-Id: 7, got X-Id: (another value)"},
        {"header absent", "expected header X-Token: abc, got no X-Token"},
        {"header missing", "expected header X-Token, not in the response"},
        {"long text", "expected text \"say \\\"hi\\\"\\\\\\n\\tnow \\x01 and a long story "
                      "that goes on and on, and then...\" not in the body"},
        {"/missing", "404 Not Found"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        ASSERT_EQ(jint(entry(report, "GET", rows[i].name), "fail"), 3);
        one_error(report, rows[i].name, rows[i].error, 3);
        printf("errors row: GET %s: %s (3)\n", rows[i].name, rows[i].error);
    }
    json_decref(report);
    goose_attack_free(a);
    py_stop();
}

/* ---- bad input ---- */

static int bad_input(goose_user *u)
{
    goose_request *req = goose_request_new(u, "POST", "/echo");
    RC(goose_request_add_form(NULL, "a", "b"), GOOSE_EINVAL);
    RC(goose_request_add_form(req, NULL, "b"), GOOSE_EINVAL);
    RC(goose_request_add_form(req, "a", NULL), GOOSE_EINVAL);
    RC(goose_request_set_json(NULL, "{}"), GOOSE_EINVAL);
    RC(goose_request_set_json(req, NULL), GOOSE_EINVAL);
    RC(goose_request_add_query(NULL, "a", "b"), GOOSE_EINVAL);
    RC(goose_request_add_query(req, NULL, "b"), GOOSE_EINVAL);
    RC(goose_request_add_query(req, "a", NULL), GOOSE_EINVAL);
    RC(goose_request_set_timeout(NULL, 100), GOOSE_EINVAL);
    RC(goose_request_set_timeout(req, -1), GOOSE_EINVAL);
    RC(goose_request_set_timeout(req, 0), GOOSE_EINVAL);
    RC(goose_request_set_basic_auth(NULL, "u", "p"), GOOSE_EINVAL);
    RC(goose_request_set_basic_auth(req, NULL, "p"), GOOSE_EINVAL);
    RC(goose_request_set_basic_auth(req, "u", NULL), GOOSE_EINVAL);
    RC(goose_request_set_basic_auth(req, "a:b", "p"), GOOSE_EINVAL);
    RC(goose_request_set_basic_auth(req, "u\r\nX-Evil: 1", "p"), GOOSE_EINVAL);
    RC(goose_request_set_basic_auth(req, "u", "p\n"), GOOSE_EINVAL);
    RC(goose_request_set_basic_auth(req, "u", "p\x7f"), GOOSE_EINVAL);
    /* the first refusal sticks: the request is not sent */
    refused_send(req, "goose_request_add_form refused a field: request not sent");
    goose_response *r = goose_post(u, "/echo", NULL, 0);

    const char *name = "set", *val = "set";
    if (goose_response_header_count(NULL) != 0)
        miss("header_count(NULL) is not 0");
    RC(goose_response_header_at(NULL, 0, &name, &val), GOOSE_EINVAL);
    if (name || val)
        miss("header_at(NULL): name and value are not NULL");
    RC(goose_response_header_at(r, 0, NULL, &val), GOOSE_EINVAL);
    RC(goose_response_header_at(r, 0, &name, NULL), GOOSE_EINVAL);
    RC(goose_response_expect_text(NULL, "x"), GOOSE_EINVAL);
    RC(goose_response_expect_text(r, NULL), GOOSE_EINVAL);
    RC(goose_response_expect_header(NULL, "X", NULL), GOOSE_EINVAL);
    RC(goose_response_expect_header(r, NULL, "v"), GOOSE_EINVAL);
    RC(goose_response_expect_header(r, "", NULL), GOOSE_EINVAL);
    RC(goose_response_expect_header(r, "X Id", NULL), GOOSE_EINVAL);
    RC(goose_response_expect_header(r, "X-Id:", NULL), GOOSE_EINVAL);
    RC(goose_response_expect_header(r, "X-Id", "7\r\nX-Evil: 1"), GOOSE_EINVAL);
    RC(goose_response_expect_header(r, "X-Id", "7\n"), GOOSE_EINVAL);
    if (goose_response_error(r))
        miss("bad input failed the request: %s", goose_response_error(r));

    /* a freed response: refused, no crash, the request's count unchanged */
    goose_response_free(r);
    if (goose_response_header_count(r) != 0)
        miss("header_count of a freed response is not 0");
    RC(goose_response_header_at(r, 0, &name, &val), GOOSE_EINVAL);
    RC(goose_response_expect_text(r, "x"), GOOSE_EINVAL);
    RC(goose_response_expect_header(r, "X", NULL), GOOSE_EINVAL);
    atomic_fetch_add(&reached, 1);
    return GOOSE_OK;
}

TEST(bad_input_is_refused)
{
    target_start(&tgt);
    goose_attack *a = attack(bad_input, tgt.url, "1");
    json_t *report = run(a, 1);
    json_t *posted = entry(report, "POST", "/echo");
    ASSERT_EQ(jint(posted, "count"), 1);
    ASSERT_EQ(jint(posted, "success"), 1);
    json_decref(report);
    goose_attack_free(a);
    target_stop(&tgt);
}

TEST_MAIN(TEST_ENTRY(form_body_as_the_target_got_it), TEST_ENTRY(credentials_stay_on_their_origin), TEST_ENTRY(json_body_as_the_target_got_it),
          TEST_ENTRY(one_body_one_way), TEST_ENTRY(query_parameters_as_the_target_got_them),
          TEST_ENTRY(basic_auth_as_the_target_got_it), TEST_ENTRY(own_timeout_over_http1),
          TEST_ENTRY(own_timeout_over_libcurl), TEST_ENTRY(own_timeout_over_http2),
          TEST_ENTRY(header_fields_over_http1), TEST_ENTRY(header_fields_over_http2),
          TEST_ENTRY(checks_fail_requests_one_row_each), TEST_ENTRY(bad_input_is_refused))
