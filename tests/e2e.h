/* End-to-end helpers: the bundled target server in a child process, its
 * /stats counters, and the JSON report of an attack. */
#ifndef GOOSE_TEST_E2E_H
#define GOOSE_TEST_E2E_H

#include <curl/curl.h>
#include <goose.h>
#include <jansson.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test.h"

typedef struct target {
    pid_t pid;
    int port;
    char url[64];
} target;

static inline const char *build_dir(void)
{
    const char *b = getenv("GOOSE_BUILD");
    return b && *b ? b : "build";
}

/* A port nobody listens on (bound once, then freed). */
static inline int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof sa;
    ASSERT_EQ(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    ASSERT_EQ(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
    close(fd);
    return ntohs(sa.sin_port);
}

static inline void target_start(target *t)
{
    char path[256], portfile[128];
    snprintf(path, sizeof path, "%s/goose-target", build_dir());
    snprintf(portfile, sizeof portfile, "/tmp/goose-test-port.%d", (int)getpid());
    unlink(portfile);
    t->pid = fork();
    ASSERT(t->pid >= 0);
    if (t->pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGTERM); /* a failed test leaves no server */
        if (!freopen("/dev/null", "w", stdout) || !freopen("/dev/null", "w", stderr))
            _exit(127);
        execl(path, path, "--port-file", portfile, (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 200; i++) {
        FILE *f = fopen(portfile, "r");
        if (f) {
            int ok = fscanf(f, "%d", &t->port) == 1;
            fclose(f);
            if (ok)
                break;
        }
        usleep(20000);
    }
    unlink(portfile);
    ASSERT_GT(t->port, 0);
    snprintf(t->url, sizeof t->url, "http://127.0.0.1:%d", t->port);
}

static inline void target_stop(target *t)
{
    if (t->pid > 0) {
        kill(t->pid, SIGTERM);
        waitpid(t->pid, NULL, 0);
        t->pid = 0;
    }
}

typedef struct body {
    char *data;
    size_t len;
} body;

static inline size_t body_add(char *p, size_t size, size_t n, void *arg)
{
    body *b = arg;
    char *d = realloc(b->data, b->len + size * n + 1);
    if (!d)
        return 0;
    memcpy(d + b->len, p, size * n);
    b->data = d;
    b->len += size * n;
    d[b->len] = '\0';
    return size * n;
}

/* GET url (POST `post` when not NULL): the body, to free; NULL when the
 * transfer failed.  *status (when given) is the HTTP status. */
static inline char *http_fetch(const char *url, const char *post, long timeout_ms, long *status)
{
    body b = {NULL, 0};
    CURL *e = curl_easy_init();
    curl_easy_setopt(e, CURLOPT_URL, url);
    if (post)
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, post);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, body_add);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, timeout_ms);
    CURLcode rc = curl_easy_perform(e);
    if (status)
        curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, status);
    curl_easy_cleanup(e);
    if (rc != CURLE_OK) {
        free(b.data);
        return NULL;
    }
    return b.data ? b.data : calloc(1, 1);
}

/* GET a control path of the target (not counted by it). */
static inline json_t *target_json(const target *t, const char *path)
{
    char url[128];
    snprintf(url, sizeof url, "%s%s", t->url, path);
    char *text = http_fetch(url, NULL, 10000, NULL);
    ASSERT_NOT_NULL(text);
    json_error_t err;
    json_t *j = json_loads(text, 0, &err);
    free(text);
    return j;
}

/* How many requests the target answered for a path (query stripped). */
static inline long long target_count(json_t *stats, const char *path)
{
    json_t *n = json_object_get(json_object_get(stats, "paths"), path);
    return n ? json_integer_value(n) : 0;
}

static inline long long target_total(json_t *stats)
{
    return json_integer_value(json_object_get(stats, "total"));
}

static inline json_t *report_of(goose_attack *a)
{
    char *text = goose_attack_report(a, "json");
    ASSERT_NOT_NULL(text);
    json_error_t err;
    json_t *j = json_loads(text, 0, &err);
    if (!j)
        TEST_FAIL("report is not JSON: %s", err.text);
    goose_free(text);
    return j;
}

/* The request entry "METHOD name" of a report, or NULL. */
static inline json_t *report_request(json_t *report, const char *method,
                                     const char *name)
{
    size_t i;
    json_t *r;
    json_array_foreach(json_object_get(report, "requests"), i, r) {
        if (!strcmp(json_string_value(json_object_get(r, "method")), method) &&
            !strcmp(json_string_value(json_object_get(r, "name")), name))
            return r;
    }
    return NULL;
}

static inline long long jint(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    if (!v)
        TEST_FAIL("missing key \"%s\"", key);
    return json_integer_value(v);
}

/* Every request entry: count == success + fail; returns the sum of counts. */
static inline long long report_total(json_t *report)
{
    long long total = 0;
    size_t i;
    json_t *r;
    json_array_foreach(json_object_get(report, "requests"), i, r) {
        ASSERT_EQ(jint(r, "count"), jint(r, "success") + jint(r, "fail"));
        total += jint(r, "count");
    }
    return total;
}

/* A report entry's "protocols" is {proto: its count}: every request of it
 * was answered over proto. */
static inline void all_over(json_t *entry, const char *proto)
{
    json_t *p = json_object_get(entry, "protocols");
    if (!json_is_object(p) || json_object_size(p) != 1)
        TEST_FAIL("protocols of %s %s: %zu protocols, want only %s",
                  json_string_value(json_object_get(entry, "method")),
                  json_string_value(json_object_get(entry, "name")),
                  json_is_object(p) ? json_object_size(p) : 0, proto);
    ASSERT_EQ(jint(p, proto), jint(entry, "count"));
}

static inline void set(goose_attack *a, const char *name, const char *value)
{
    if (goose_attack_set_option(a, name, value) != GOOSE_OK)
        TEST_FAIL("--%s %s: %s", name, value ? value : "", goose_attack_error(a));
}

/* Findings inside transactions, which run on engine threads and cannot
 * fail the test there: counted (the test asserts bad is 0 after the run),
 * the first few said. */
static atomic_int bad __attribute__((unused));

static inline void miss(const char *fmt, ...)
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

#endif
