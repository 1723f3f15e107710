/* Any protocol: goose_wait_fd, goose_now_us and goose_record, in-process
 * and through examples/lineproto.c and examples/redis.c against real
 * servers on 127.0.0.1 (a line server forked here, a redis-server). */
#include "e2e.h"
#include "gaggle.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/time.h>

#include "config/attack.h"
#include "report/report.h"

/* ---- the line server: "PING" -> "PONG", "ECHO x" -> "x", "STATS" ->
 * "PING n ECHO m" (not counted); silent: accepts, never answers. ---- */

#define LS_CLIENTS 64

typedef struct line_client {
    int fd;
    char buf[1024];
    size_t len;
} line_client;

static long long ls_ping, ls_echo;

static void ls_answer(int fd, const char *line)
{
    char out[1100];
    if (strcmp(line, "PING") == 0) {
        ls_ping++;
        snprintf(out, sizeof out, "PONG\n");
    } else if (strncmp(line, "ECHO ", 5) == 0) {
        ls_echo++;
        snprintf(out, sizeof out, "%s\n", line + 5);
    } else if (strcmp(line, "STATS") == 0) {
        snprintf(out, sizeof out, "PING %lld ECHO %lld\n", ls_ping, ls_echo);
    } else {
        snprintf(out, sizeof out, "ERR\n");
    }
    if (send(fd, out, strlen(out), MSG_NOSIGNAL) < 0)
        return; /* the client is gone: its close is seen by poll */
}

/* Reads what came on c; -1 when the client is gone. */
static int ls_read(line_client *c)
{
    ssize_t k = recv(c->fd, c->buf + c->len, sizeof c->buf - 1 - c->len, 0);
    if (k <= 0)
        return -1;
    c->len += (size_t)k;
    char *nl;
    while ((nl = memchr(c->buf, '\n', c->len))) {
        *nl = 0;
        ls_answer(c->fd, c->buf);
        c->len -= (size_t)(nl + 1 - c->buf);
        memmove(c->buf, nl + 1, c->len);
    }
    return c->len == sizeof c->buf - 1 ? -1 : 0;
}

static void ls_serve(int lfd)
{
    static line_client cl[LS_CLIENTS];
    struct pollfd p[LS_CLIENTS + 1];
    size_t n = 0;
    for (;;) {
        p[0] = (struct pollfd){.fd = lfd, .events = POLLIN};
        for (size_t i = 0; i < n; i++)
            p[i + 1] = (struct pollfd){.fd = cl[i].fd, .events = POLLIN};
        if (poll(p, n + 1, -1) < 0)
            continue;
        for (size_t i = n; i-- > 0;) {
            if (p[i + 1].revents && ls_read(&cl[i]) < 0) {
                close(cl[i].fd);
                cl[i] = cl[--n];
            }
        }
        if (p[0].revents & POLLIN) {
            int fd = accept(lfd, NULL, NULL);
            if (fd >= 0 && n == LS_CLIENTS)
                close(fd);
            else if (fd >= 0)
                cl[n++] = (line_client){.fd = fd};
        }
    }
}

static int listen_loopback(int *port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof sa;
    ASSERT_EQ(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    ASSERT_EQ(listen(fd, 128), 0);
    ASSERT_EQ(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
    *port = ntohs(sa.sin_port);
    return fd;
}

/* The line server in a child process (gone with the test); its port. */
static int line_server_start(pid_t *pid)
{
    int port, lfd = listen_loopback(&port);
    *pid = fork();
    ASSERT(*pid >= 0);
    if (*pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        ls_serve(lfd);
        _exit(0);
    }
    close(lfd);
    return port;
}

/* The server's "PING n ECHO m". */
static void line_server_stats(int port, long long *ping, long long *echo)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    struct timeval tv = {5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ASSERT_EQ(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    ASSERT_EQ(send(fd, "STATS\n", 6, MSG_NOSIGNAL), 6);
    char buf[128];
    ssize_t k = recv(fd, buf, sizeof buf - 1, 0);
    ASSERT_GT(k, 0);
    buf[k] = 0;
    ASSERT_EQ(sscanf(buf, "PING %lld ECHO %lld", ping, echo), 2);
    close(fd);
}

/* ---- in-process runs ---- */

static goose_attack *attack_of(goose_transaction_fn fn, const char *users)
{
    goose_attack *a = goose_attack_new();
    goose_scenario *s = goose_scenario_new("Any");
    goose_scenario_set_host(s, "http://127.0.0.1:1");
    goose_scenario_add_transaction(s, "tx", fn);
    ASSERT_EQ(goose_attack_add_scenario(a, s), GOOSE_OK);
    set(a, "users", users);
    set(a, "hatch-rate", "1000");
    set(a, "threads", "1");
    set(a, "quiet", NULL);
    return a;
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    ASSERT_NOT_NULL(f);
    static char buf[1 << 20];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = 0;
    fclose(f);
    return buf;
}

static int two_records(goose_user *u)
{
    int64_t t = goose_now_us();
    if (goose_record(u, "REDIS", "SET session", t - 2000, t, NULL) != GOOSE_OK)
        miss("record of a success refused");
    if (goose_record(u, "REDIS", "GET session", t - 1000, t, "ERR wrong type") != GOOSE_OK)
        miss("record of a failure refused");
    return GOOSE_OK;
}

/* Each renderer shows both rows, the failure's text, and no status. */
TEST(record_in_every_report)
{
    char log[256];
    snprintf(log, sizeof log, "/tmp/goose-anyproto-%d.log", (int)getpid());
    static const char *formats[] = {"json", "csv", "raw"};
    for (size_t f = 0; f < 3; f++) {
        goose_attack *a = attack_of(two_records, "2");
        set(a, "iterations", "3");
        set(a, "request-log", log);
        set(a, "request-format", formats[f]);
        ASSERT_EQ(goose_attack_run(a), GOOSE_OK);
        ASSERT_EQ(atomic_load(&bad), 0);
        const char *text = slurp(log);
        size_t lines = 0;
        for (const char *p = text; (p = strstr(p, "GET session")); p++)
            lines++;
        ASSERT_EQ(lines, 6);
        if (f == 0) {
            ASSERT_NOT_NULL(strstr(text, "\"method\":\"REDIS\""));
            ASSERT_NOT_NULL(strstr(text, "\"status\":null"));
            ASSERT_NULL(strstr(text, "\"status\":0"));
            ASSERT_NOT_NULL(strstr(text, "\"error\":\"ERR wrong type\""));
        } else if (f == 1) {
            ASSERT_NOT_NULL(strstr(text, ",REDIS,GET session,,,"));
            ASSERT_NOT_NULL(strstr(text, ",false,ERR wrong type\n"));
        } else {
            ASSERT_NOT_NULL(strstr(text, "status= "));
            ASSERT_NULL(strstr(text, "status=0"));
        }
        if (f < 2) {
            goose_attack_free(a);
            continue;
        }
        json_t *j = report_of(a);
        json_t *set_row = report_request(j, "REDIS", "SET session");
        json_t *get_row = report_request(j, "REDIS", "GET session");
        ASSERT_NOT_NULL(set_row);
        ASSERT_NOT_NULL(get_row);
        ASSERT_EQ(jint(set_row, "count"), 6);
        ASSERT_EQ(jint(set_row, "fail"), 0);
        ASSERT_EQ(jint(get_row, "fail"), 6);
        ASSERT_EQ(json_object_size(json_object_get(set_row, "status_codes")), 0);
        ASSERT_EQ(json_object_size(json_object_get(get_row, "status_codes")), 0);
        all_over(set_row, "not HTTP"); /* no HTTP status, and no "no answer" */
        all_over(get_row, "not HTTP");
        /* 2 ms and 1 ms: the times given, not when goose_record ran */
        json_t *rt = json_object_get(set_row, "response_time_us");
        ASSERT_GE(jint(rt, "min"), 1980);
        ASSERT_LE(jint(rt, "max"), 2020);
        json_t *err = json_array_get(json_object_get(j, "errors"), 0);
        ASSERT_STR_EQ(json_string_value(json_object_get(err, "error")), "ERR wrong type");
        ASSERT_EQ(jint(err, "count"), 6);
        json_decref(j);
        static const char *reports[] = {"text", "md", "html", "csv"};
        for (size_t k = 0; k < 4; k++) {
            char *r = goose_attack_report(a, reports[k]);
            ASSERT_NOT_NULL(r);
            if (!strstr(r, "SET session") || !strstr(r, "GET session") ||
                (k < 3 && !strstr(r, "ERR wrong type"))) /* the CSV has no errors */
                TEST_FAIL("the %s report lacks a record's row or error:\n%s", reports[k], r);
            /* no status row of 0, and not "no response" as a transport error */
            if (strstr(r, "no response") || strstr(r, "no answer") || (k != 2 && strstr(r, ": 0")) ||
                strstr(r, "code c0"))
                TEST_FAIL("the %s report shows a status for a record:\n%s", reports[k], r);
            if (k == 0 && (!strstr(r, "REDIS SET session | -") ||
                           !strstr(r, "Protocols:     not HTTP 12 (100%)")))
                TEST_FAIL("the text report's status codes or protocols:\n%s", r);
            if (getenv("ANYPROTO_SHOW"))
                fprintf(stderr, "%s\n", r);
            goose_free(r);
        }
        char *prom = goose__metrics_render(&a->results.totals, 0, "done");
        ASSERT_NOT_NULL(strstr(prom, "method=\"REDIS\",name=\"SET session\""));
        ASSERT_NULL(strstr(prom, "status=\"0\""));
        ASSERT_NULL(strstr(prom, "goose_responses_total{method=\"REDIS\""));
        ASSERT_NOT_NULL(strstr(prom, "protocol=\"not HTTP\"} 6"));
        free(prom);
        goose_attack_free(a);
    }
    unlink(log);
}

static int timed_record(goose_user *u)
{
    int64_t t = goose_now_us();
    goose_record(u, "LINE", "slow", t - 30000, t, NULL); /* 30 ms */
    return GOOSE_OK;
}

/* --threshold on a record's row: a p50 above 30 ms fails, below passes. */
TEST(threshold_on_record)
{
    goose_attack *a = attack_of(timed_record, "1");
    set(a, "iterations", "5");
    set(a, "threshold", "LINE slow:p50<20ms");
    ASSERT_EQ(goose_attack_run(a), GOOSE_ETHRESHOLD);
    goose_attack_free(a);
    a = attack_of(timed_record, "1");
    set(a, "iterations", "5");
    set(a, "threshold", "LINE slow:p50<40ms");
    ASSERT_EQ(goose_attack_run(a), GOOSE_OK);
    goose_attack_free(a);
}

static long long row_count(json_t *j, const char *method, const char *name, const char *key);

static int many_names(goose_user *u)
{
    char name[32];
    int64_t t = goose_now_us();
    for (int i = 0; i < 10; i++) {
        snprintf(name, sizeof name, "key %d", i);
        goose_record(u, "KV", name, t, t, NULL);
    }
    return GOOSE_OK;
}

/* --max-request-names bounds records' names as it does requests': past it
 * they fold into KV (other), every record still counted. */
TEST(max_request_names_on_records)
{
    goose_attack *a = attack_of(many_names, "2");
    set(a, "iterations", "3");
    set(a, "max-request-names", "4");
    ASSERT_EQ(goose_attack_run(a), GOOSE_OK);
    json_t *j = report_of(a);
    ASSERT_EQ(report_total(j), 2 * 3 * 10);
    ASSERT_EQ(json_array_size(json_object_get(j, "requests")), 5); /* 4 and (other) */
    ASSERT_EQ(row_count(j, "KV", "(other)", "count"), 2 * 3 * 6);
    json_decref(j);
    goose_attack_free(a);
}

static atomic_int refusals_ok;

static int bad_records(goose_user *u)
{
    int64_t t = goose_now_us();
    struct { const char *m, *n, *e; int64_t s, end; } bad_args[] = {
        {NULL, "n", NULL, t - 1, t}, {"M", NULL, NULL, t - 1, t}, {"", "n", NULL, t - 1, t},
        {"M", "", NULL, t - 1, t}, {"M", "a\nb", NULL, t - 1, t}, {"M E", "n", NULL, t - 1, t},
        {"M", "n\x7f", NULL, t - 1, t}, {"M", "\xff", NULL, t - 1, t},
        {"M", "n", "line\nbreak", t - 1, t}, {"M", "n", NULL, t, t - 1},
        {"M", "n", NULL, 0, t}, {"M", "n", NULL, t, t + 60000000}};
    for (size_t i = 0; i < sizeof bad_args / sizeof bad_args[0]; i++)
        if (goose_record(u, bad_args[i].m, bad_args[i].n, bad_args[i].s, bad_args[i].end,
                         bad_args[i].e) != GOOSE_EINVAL)
            miss("bad record %zu accepted", i);
    if (goose_record(NULL, "M", "n", t - 1, t, NULL) != GOOSE_EINVAL)
        miss("NULL user");
    /* a long error is cut, not refused; a UTF-8 name is fine */
    char long_error[3000];
    memset(long_error, 'x', sizeof long_error - 1);
    long_error[sizeof long_error - 1] = 0;
    if (goose_record(u, "M", "caf\xc3\xa9", t - 1, t, long_error) != GOOSE_OK)
        miss("a long error or a UTF-8 name refused");
    atomic_fetch_add(&refusals_ok, 1);
    return GOOSE_OK;
}

static void count_logged(void *arg, goose_log_level level, const char *msg)
{
    (void)level, (void)msg;
    atomic_fetch_add((atomic_int *)arg, 1);
}

/* Bad arguments: GOOSE_EINVAL, logged, nothing counted; outside a
 * transaction GOOSE_ESTATE. */
TEST(record_refusals)
{
    static atomic_int logged;
    goose_attack *a = attack_of(bad_records, "1");
    set(a, "iterations", "1");
    goose_attack_set_log(a, count_logged, &logged);
    ASSERT_EQ(goose_attack_run(a), GOOSE_OK);
    ASSERT_EQ(atomic_load(&bad), 0);
    ASSERT_EQ(atomic_load(&refusals_ok), 1);
    ASSERT_GE(atomic_load(&logged), 5);
    json_t *j = report_of(a);
    ASSERT_EQ(json_array_size(json_object_get(j, "requests")), 1);
    json_t *row = report_request(j, "M", "caf\xc3\xa9");
    ASSERT_NOT_NULL(row);
    json_t *err = json_array_get(json_object_get(j, "errors"), 0);
    ASSERT_EQ(strlen(json_string_value(json_object_get(err, "error"))), 1024);
    json_decref(j);
    goose_attack_free(a);
    /* no transaction running: this thread is no user's */
    ASSERT_EQ(goose_record(NULL, "M", "n", 1, 2, NULL), GOOSE_EINVAL);
    ASSERT_GT(goose_now_us(), 0);
    int64_t t0 = goose_now_us();
    usleep(2000);
    ASSERT_GE(goose_now_us() - t0, 2000);
}

/* ---- goose_wait_fd ---- */

static atomic_int wait_checks;

static int wait_cases(goose_user *u)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) < 0)
        return 1;
    int64_t t = goose_now_us();
    int rc = goose_wait_fd(u, sv[0], GOOSE_READ, 100); /* nothing comes */
    int64_t waited = goose_now_us() - t;
    if (rc != 0 || waited < 90000 || waited > 2000000)
        miss("timeout: rc %d after %lld us", rc, (long long)waited);
    if ((rc = goose_wait_fd(u, sv[0], GOOSE_WRITE, 1000)) != GOOSE_WRITE)
        miss("writable: rc %d", rc);
    if ((rc = goose_wait_fd(u, sv[0], GOOSE_WRITE | GOOSE_READ, -1)) != GOOSE_WRITE)
        miss("writable, not readable: rc %d", rc);
    if (write(sv[1], "x", 1) != 1)
        miss("write");
    if ((rc = goose_wait_fd(u, sv[0], GOOSE_READ, -1)) != GOOSE_READ)
        miss("readable: rc %d", rc);
    if ((rc = goose_wait_fd(u, sv[0], GOOSE_READ | GOOSE_WRITE, 1000)) != (GOOSE_READ | GOOSE_WRITE))
        miss("both: rc %d", rc);
    if (goose_wait_fd(NULL, sv[0], GOOSE_READ, 0) != GOOSE_EINVAL ||
        goose_wait_fd(u, -1, GOOSE_READ, 0) != GOOSE_EINVAL ||
        goose_wait_fd(u, sv[0], 0, 0) != GOOSE_EINVAL ||
        goose_wait_fd(u, sv[0], 4, 0) != GOOSE_EINVAL ||
        goose_wait_fd(u, sv[0], GOOSE_READ | 8, 0) != GOOSE_EINVAL)
        miss("bad arguments accepted");
    int file = open("/proc/self/exe", O_RDONLY);
    if ((rc = goose_wait_fd(u, file, GOOSE_READ, 100)) >= 0)
        miss("a regular file: rc %d", rc);
    close(file);
    int null = open("/dev/null", O_RDONLY); /* a device epoll refuses: at once, not at 100 ms */
    if ((rc = goose_wait_fd(u, null, GOOSE_READ, -1)) != GOOSE_EINVAL)
        miss("/dev/null: rc %d", rc);
    close(null);
    int closed = dup(sv[1]);
    close(closed);
    if ((rc = goose_wait_fd(u, closed, GOOSE_READ, 100)) >= 0)
        miss("a closed fd: rc %d", rc);
    close(sv[0]);
    close(sv[1]);
    atomic_fetch_add(&wait_checks, 1);
    return GOOSE_OK;
}

static atomic_int other_record_rc;

static void *other_thread(void *arg)
{
    int64_t t = goose_now_us();
    atomic_store(&other_record_rc, goose_record(arg, "M", "n", t, t, NULL));
    return (void *)(intptr_t)goose_wait_fd(arg, 0, GOOSE_READ, 0);
}

static atomic_int other_rc;

static int wait_from_elsewhere(goose_user *u)
{
    pthread_t th;
    void *rc;
    pthread_create(&th, NULL, other_thread, u);
    pthread_join(th, &rc);
    atomic_store(&other_rc, (int)(intptr_t)rc);
    return GOOSE_OK;
}

TEST(wait_fd_ready_timeout_and_refusals)
{
    goose_attack *a = attack_of(wait_cases, "2");
    set(a, "iterations", "2");
    ASSERT_EQ(goose_attack_run(a), GOOSE_OK);
    ASSERT_EQ(atomic_load(&bad), 0);
    ASSERT_EQ(atomic_load(&wait_checks), 4);
    goose_attack_free(a);
    a = attack_of(wait_from_elsewhere, "1");
    set(a, "iterations", "1");
    ASSERT_EQ(goose_attack_run(a), GOOSE_OK);
    ASSERT_EQ(atomic_load(&other_rc), GOOSE_ESTATE);
    ASSERT_EQ(atomic_load(&other_record_rc), GOOSE_ESTATE);
    json_t *j = report_of(a);
    ASSERT_EQ(json_array_size(json_object_get(j, "requests")), 0); /* nothing counted */
    json_decref(j);
    goose_attack_free(a);
    ASSERT_EQ(goose_wait_fd(NULL, 0, GOOSE_READ, 0), GOOSE_EINVAL);
}

static atomic_int stopped_users, on_stop_waited;

static int wait_forever(goose_user *u)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
        return 1;
    int rc = goose_wait_fd(u, sv[0], GOOSE_READ, -1); /* nothing ever comes */
    if (rc == GOOSE_ESTOPPING)
        atomic_fetch_add(&stopped_users, 1);
    else
        miss("wait without a timeout returned %d", rc);
    if (goose_wait_fd(u, sv[0], GOOSE_READ, -1) != GOOSE_ESTOPPING) /* at once, now */
        miss("a second wait after the stop");
    close(sv[0]);
    close(sv[1]);
    return rc;
}

/* on_stop's wait is not cut by the stop: its timeout ends it */
static int on_stop_wait(goose_user *u)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
        return 1;
    int rc = goose_wait_fd(u, sv[0], GOOSE_READ, 300);
    if (rc == 0)
        atomic_fetch_add(&on_stop_waited, 1);
    close(sv[0]);
    close(sv[1]);
    return GOOSE_OK;
}

/* The stop wakes users blocked on silent fds at once: the run takes its
 * --run-time, not its --stop-timeout; on_stop then runs and waits. */
TEST(wait_fd_stop)
{
    goose_attack *a = attack_of(wait_forever, "4");
    goose_scenario *s = goose_scenario_new("Closing");
    goose_scenario_set_host(s, "http://127.0.0.1:1");
    goose_scenario_add_transaction(s, "wait", wait_forever);
    goose_transaction_set_on_stop(goose_scenario_add_transaction(s, "close", on_stop_wait));
    ASSERT_EQ(goose_attack_add_scenario(a, s), GOOSE_OK);
    set(a, "run-time", "1");
    set(a, "stop-timeout", "20s");
    int64_t t = goose_now_us();
    ASSERT_EQ(goose_attack_run(a), GOOSE_OK);
    int64_t took = goose_now_us() - t;
    ASSERT_EQ(atomic_load(&bad), 0);
    ASSERT_EQ(atomic_load(&stopped_users), 4);
    ASSERT_EQ(atomic_load(&on_stop_waited), 2);
    ASSERT_LT(took, 5000000); /* not the 20 s of --stop-timeout */
    json_t *j = report_of(a);
    json_t *tx;
    size_t i;
    json_array_foreach(json_object_get(j, "transactions"), i, tx) {
        if (!strcmp(json_string_value(json_object_get(tx, "name")), "wait"))
            ASSERT_EQ(jint(tx, "count"), 0); /* cut short by the end: not counted */
    }
    json_decref(j);
    goose_attack_free(a);
}

static atomic_int on_stop_full;

static int quick(goose_user *u)
{
    (void)u;
    return GOOSE_OK;
}

static int on_stop_long_wait(goose_user *u)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
        return 1;
    int64_t t = goose_now_us();
    int rc = goose_wait_fd(u, sv[0], GOOSE_READ, 1500);
    long long took = goose_now_us() - t;
    if (rc == 0 && took >= 1400000)
        atomic_fetch_add(&on_stop_full, 1);
    else
        miss("on_stop's wait cut short: %d after %lld us", rc, took);
    close(sv[0]);
    close(sv[1]);
    return GOOSE_OK;
}

/* The stop that comes while on_stop waits does not cut the wait short:
 * on_stop runs as it would (bounded by --stop-timeout). */
TEST(wait_fd_on_stop_not_cut)
{
    goose_attack *a = goose_attack_new();
    goose_scenario *s = goose_scenario_new("Done");
    goose_scenario_set_host(s, "http://127.0.0.1:1");
    goose_scenario_add_transaction(s, "quick", quick);
    goose_transaction_set_on_stop(goose_scenario_add_transaction(s, "wait", on_stop_long_wait));
    ASSERT_EQ(goose_attack_add_scenario(a, s), GOOSE_OK);
    set(a, "users", "2");
    set(a, "hatch-rate", "100");
    set(a, "iterations", "1");
    set(a, "run-time", "1"); /* the stop comes during on_stop's wait */
    set(a, "stop-timeout", "10s");
    set(a, "quiet", NULL);
    ASSERT_EQ(goose_attack_run(a), GOOSE_OK);
    ASSERT_EQ(atomic_load(&bad), 0);
    ASSERT_EQ(atomic_load(&on_stop_full), 2);
    goose_attack_free(a);
}

static int on_stop_forever(goose_user *u)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
        return 1;
    goose_wait_fd(u, sv[0], GOOSE_READ, -1); /* never returns: abandoned */
    miss("on_stop's endless wait returned");
    return GOOSE_OK;
}

static int idle(goose_user *u)
{
    return goose_sleep(u, 50);
}

/* A wait in on_stop is bounded by --stop-timeout: the user is abandoned
 * and its event freed (ASan, valgrind). */
TEST(wait_fd_abandoned_in_on_stop)
{
    goose_attack *a = goose_attack_new();
    goose_scenario *s = goose_scenario_new("Stuck");
    goose_scenario_set_host(s, "http://127.0.0.1:1");
    goose_scenario_add_transaction(s, "idle", idle);
    goose_transaction_set_on_stop(goose_scenario_add_transaction(s, "stuck", on_stop_forever));
    ASSERT_EQ(goose_attack_add_scenario(a, s), GOOSE_OK);
    set(a, "users", "2");
    set(a, "hatch-rate", "100");
    set(a, "run-time", "1");
    set(a, "stop-timeout", "1s");
    set(a, "quiet", NULL);
    int64_t t = goose_now_us();
    int rc = goose_attack_run(a);
    int64_t took = goose_now_us() - t;
    ASSERT(rc == GOOSE_OK || rc == GOOSE_EFAILED);
    ASSERT_LT(took, 6000000);
    ASSERT_EQ(atomic_load(&bad), 0);
    goose_attack_free(a);
}

static int paced(goose_user *u)
{
    int64_t t = goose_now_us();
    goose_record(u, "PACE", "tick", t, t, NULL);
    return goose_sleep(u, 0); /* gives the loop a turn: the pace is the throttle's */
}

/* --throttle-requests holds records to the rate. */
TEST(throttle_paces_records)
{
    goose_attack *a = attack_of(paced, "3");
    set(a, "run-time", "2");
    set(a, "throttle-requests", "10");
    ASSERT_EQ(goose_attack_run(a), GOOSE_OK);
    json_t *j = report_of(a);
    long long n = jint(report_request(j, "PACE", "tick"), "count");
    ASSERT_GE(n, 10);
    ASSERT_LE(n, 24); /* 2 s at 10/s, and a slot's slack at each end */
    json_decref(j);
    goose_attack_free(a);
}

/* ---- examples/lineproto.c and examples/redis.c, as processes ---- */

static int run_example(const char *name, const char *envname, const char *addr,
                       const char *const *args, size_t n, int seconds)
{
    char prog[256];
    snprintf(prog, sizeof prog, "%s/examples/%s", build_dir(), name);
    char *argv[24] = {prog};
    for (size_t i = 0; i < n && i < 22; i++)
        argv[i + 1] = (char *)args[i];
    pid_t pid = fork();
    ASSERT(pid >= 0);
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        setenv(envname, addr, 1);
        if (!freopen("/dev/null", "w", stdout))
            _exit(127);
        execv(prog, argv);
        _exit(127);
    }
    return wait_exit(pid, seconds);
}

static long long row_count(json_t *j, const char *method, const char *name, const char *key)
{
    json_t *r = report_request(j, method, name);
    return r ? jint(r, key) : 0;
}

TEST(lineproto_counts_equal_the_server)
{
    pid_t srv;
    int port = line_server_start(&srv);
    char addr[32], report[128];
    snprintf(addr, sizeof addr, "127.0.0.1:%d", port);
    snprintf(report, sizeof report, "/tmp/goose-lineproto-%d.json", (int)getpid());
    const char *args[] = {"-u", "5", "-r", "100", "--iterations", "7", "--report-file", report, "-q"};
    ASSERT_EQ(run_example("lineproto", "LINEPROTO_SERVER", addr, args, 9, 30), 0);
    long long ping, echo;
    line_server_stats(port, &ping, &echo);
    json_t *j = json_load_file(report, 0, NULL);
    ASSERT_NOT_NULL(j);
    ASSERT_EQ(row_count(j, "LINE", "PING", "count"), ping);
    ASSERT_EQ(row_count(j, "LINE", "ECHO", "count"), echo);
    ASSERT_EQ(ping, 5 * 7 * 2);
    ASSERT_EQ(echo, 5 * 7);
    ASSERT_EQ(row_count(j, "LINE", "PING", "fail"), 0);
    ASSERT_EQ(row_count(j, "TCP", "connect", "count"), 5);
    json_decref(j);
    unlink(report);
    kill(srv, SIGKILL);
    waitpid(srv, NULL, 0);
}

/* A server that accepts (the kernel's backlog) and never answers: the run
 * ends at --run-time, its users told GOOSE_ESTOPPING, each line they sent
 * counted as failed. */
TEST(lineproto_silent_server)
{
    int port, lfd = listen_loopback(&port); /* never accepted */
    char addr[32], report[128];
    snprintf(addr, sizeof addr, "127.0.0.1:%d", port);
    snprintf(report, sizeof report, "/tmp/goose-lineproto-%d.json", (int)getpid());
    const char *args[] = {"-u", "3", "-r", "100", "--run-time", "2", "--stop-timeout", "30s",
                          "--report-file", report, "-q"};
    int64_t t = goose_now_us();
    ASSERT_EQ(run_example("lineproto", "LINEPROTO_SERVER", addr, args, 11, 40), 0);
    ASSERT_LT(goose_now_us() - t, 10000000);
    json_t *j = json_load_file(report, 0, NULL);
    ASSERT_NOT_NULL(j);
    ASSERT_EQ(row_count(j, "LINE", "PING", "fail"), 3);
    ASSERT_EQ(row_count(j, "LINE", "PING", "success"), 0);
    json_t *err = json_array_get(json_object_get(j, "errors"), 0);
    ASSERT_STR_EQ(json_string_value(json_object_get(err, "error")),
                  "the test stopped before the answer");
    json_decref(j);
    unlink(report);
    close(lfd);
}

/* Records of two Workers sum to the Manager's totals: the line server
 * counted every line of both. */
TEST(lineproto_gaggle)
{
    snprintf(dir, sizeof dir, "%s/anyproto-%d", build_dir(), (int)getpid());
    mkdir(dir, 0755);
    program = "examples/lineproto";
    pid_t srv;
    int port = line_server_start(&srv);
    char addr[32], mport[8], report[256];
    snprintf(addr, sizeof addr, "127.0.0.1:%d", port);
    setenv("LINEPROTO_SERVER", addr, 1);
    manager_spot(mport, report);
    pid_t m = spawn("manager", NULL, "--manager", "--expect-workers", "2", PORT_ARGS(mport),
                    "-u", "6", "-r", "100", "--iterations", "4", "--report-file", report, NULL);
    pid_t w0 = spawn("worker0", NULL, "--worker", "--manager-port", mport, NULL);
    pid_t w1 = spawn("worker1", NULL, "--worker", "--manager-port", mport, NULL);
    ASSERT_EQ(wait_exit(m, 60), 0);
    ASSERT_EQ(wait_exit(w0, 10), 0);
    ASSERT_EQ(wait_exit(w1, 10), 0);
    long long ping, echo;
    line_server_stats(port, &ping, &echo);
    json_t *j = json_load_file(report, 0, NULL);
    ASSERT_NOT_NULL(j);
    ASSERT_EQ(ping, 6 * 4 * 2);
    ASSERT_EQ(echo, 6 * 4);
    ASSERT_EQ(row_count(j, "LINE", "PING", "count"), ping);
    ASSERT_EQ(row_count(j, "LINE", "ECHO", "count"), echo);
    ASSERT_EQ(workers_sum(j, NULL), ping + echo + 6); /* and 6 connects */
    all_over(report_request(j, "LINE", "PING"), "not HTTP"); /* merged by name */
    json_decref(j);
    kill(srv, SIGKILL);
    waitpid(srv, NULL, 0);
    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
}

/* One inline command to redis on port, its whole answer into out. */
static void redis_ask(int port, const char *cmd, char *out, size_t size)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    struct timeval tv = {0, 300000}; /* the answer is in when nothing more comes */
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ASSERT_EQ(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    ASSERT_EQ(send(fd, cmd, strlen(cmd), MSG_NOSIGNAL), (ssize_t)strlen(cmd));
    size_t n = 0;
    for (ssize_t k; n < size - 1 && (k = recv(fd, out + n, size - 1 - n, 0)) > 0;)
        n += (size_t)k;
    out[n] = 0;
    close(fd);
}

static long long redis_calls(const char *info, const char *cmd)
{
    char key[64];
    snprintf(key, sizeof key, "cmdstat_%s:calls=", cmd);
    const char *p = strstr(info, key);
    return p ? atoll(p + strlen(key)) : 0;
}

/* examples/redis.c against a real redis-server: the report's counts are
 * INFO commandstats' calls, exactly. */
TEST(redis_counts_equal_commandstats)
{
    char prog[256];
    snprintf(prog, sizeof prog, "%s/examples/redis", build_dir());
    if (access("/usr/bin/redis-server", X_OK) != 0 || access(prog, X_OK) != 0)
        TEST_SKIP("redis-server or %s is missing (make deps DEPS=test)", prog);
    int port = free_port();
    char sport[8], addr[32], report[128], info[16384];
    snprintf(sport, sizeof sport, "%d", port);
    pid_t srv = fork();
    ASSERT(srv >= 0);
    if (srv == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (!freopen("/dev/null", "w", stdout))
            _exit(127);
        execl("/usr/bin/timeout", "timeout", "120", "/usr/bin/redis-server", "--port", sport,
              "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", "/tmp",
              (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 100; i++) { /* until it listens */
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port),
                                 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        int ok = connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
        close(fd);
        if (ok)
            break;
        usleep(50000);
    }
    redis_ask(port, "CONFIG RESETSTAT\r\n", info, sizeof info);
    ASSERT_NOT_NULL(strstr(info, "+OK"));
    snprintf(addr, sizeof addr, "127.0.0.1:%d", port);
    snprintf(report, sizeof report, "/tmp/goose-redis-%d.json", (int)getpid());
    const char *args[] = {"-u", "4", "-r", "100", "--iterations", "10", "--report-file", report, "-q"};
    ASSERT_EQ(run_example("redis", "REDIS_SERVER", addr, args, 9, 60), 0);
    redis_ask(port, "INFO commandstats\r\n", info, sizeof info);
    json_t *j = json_load_file(report, 0, NULL);
    ASSERT_NOT_NULL(j);
    ASSERT_EQ(row_count(j, "REDIS", "SET session", "count"), redis_calls(info, "set"));
    ASSERT_EQ(row_count(j, "REDIS", "GET session", "count"), redis_calls(info, "get"));
    ASSERT_EQ(row_count(j, "REDIS", "INCR visits", "count"), redis_calls(info, "incr"));
    ASSERT_EQ(redis_calls(info, "get"), 4 * 10 * 3);
    ASSERT_EQ(redis_calls(info, "set"), 4 * 10);
    ASSERT_EQ(row_count(j, "REDIS", "GET session", "fail"), 0);
    json_decref(j);
    unlink(report);
    kill(srv, SIGTERM);
    waitpid(srv, NULL, 0);
}

TEST_MAIN(TEST_ENTRY(record_in_every_report), TEST_ENTRY(threshold_on_record),
          TEST_ENTRY(record_refusals), TEST_ENTRY(max_request_names_on_records), TEST_ENTRY(wait_fd_ready_timeout_and_refusals),
          TEST_ENTRY(wait_fd_stop), TEST_ENTRY(wait_fd_on_stop_not_cut),
          TEST_ENTRY(wait_fd_abandoned_in_on_stop),
          TEST_ENTRY(throttle_paces_records), TEST_ENTRY(lineproto_counts_equal_the_server),
          TEST_ENTRY(lineproto_silent_server), TEST_ENTRY(lineproto_gaggle),
          TEST_ENTRY(redis_counts_equal_commandstats))
