/* Serving Workers (--worker-reconnect) with real processes on 127.0.0.1:
 * a Worker up long before its Manager, Managers in a row, stops during
 * and between tests, key and certificate failures, an embedded Worker
 * serving test after test without growing, and a hostile "Manager"
 * between tests. */
#include "gaggle.h"

#include <errno.h>
#include <poll.h>

/* ---- reading logs and reports ---- */

/* The waits a Worker's log announces ("dialing again in X s"): how many,
 * and the longest. */
static int dial_waits(const char *name, double *longest)
{
    char path[256], line[1024];
    snprintf(path, sizeof path, "%s/%s.log", dir, name);
    FILE *f = fopen(path, "r");
    int n = 0;
    *longest = 0;
    while (f && fgets(line, sizeof line, f)) {
        const char *p = strstr(line, "dialing again in ");
        double s;
        if (p && sscanf(p, "dialing again in %lf s", &s) == 1) {
            n++;
            *longest = s > *longest ? s : *longest;
        }
    }
    if (f)
        fclose(f);
    return n;
}

/* The target's total so far. */
static long long seen(void)
{
    json_t *stats = target_json(&tgt, "/stats");
    long long n = target_total(stats);
    json_decref(stats);
    return n;
}

static long long count_lines(const char *path)
{
    FILE *f = fopen(path, "r");
    long long n = 0;
    for (int c; f && (c = fgetc(f)) != EOF;)
        n += c == '\n';
    if (f)
        fclose(f);
    return n;
}

/* A one-shot Manager's report: its total is what the target saw since
 * `before`, every request of the one Worker it expects. */
static void check_report(const char *report, long long before)
{
    json_t *r = load_report(report);
    long long now = seen();
    ASSERT_GT(now - before, 0);
    ASSERT_EQ(report_total(r), now - before);
    ASSERT_EQ(workers_sum(r, "done"), 1);
    json_decref(r);
}

static pid_t one_shot_manager(const char *name, const char *port, const char *report,
                              const char *run_time)
{
    return spawn(name, NULL, "--manager", "--expect-workers", "1", PORT_ARGS(port), "--host",
                 tgt.url, "-u", "3", "-r", "30", "-t", run_time, "--no-reset-metrics",
                 "--report-file", report, NULL);
}

static pid_t serving_worker(const char *name, const char *port)
{
    return spawn(name, NULL, "--worker", "--worker-reconnect", "--manager-port", port, "-v",
                 "--gaggle-timeout", "3s", NULL);
}

/* ---- the handle's fd ---- */

static int front(goose_user *u)
{
    goose_response_free(goose_get(u, "/"));
    return GOOSE_OK;
}

/* NULL is refused; the fd is a non-blocking, close-on-exec eventfd,
 * readable at once; a Worker that cannot run (an option of the Manager's)
 * goes to STOPPED, done, and the fd is closed by the join. */
TEST(worker_fd_follows_a_worker_that_cannot_run)
{
    ASSERT_EQ(gaggle_worker_fd(NULL), GOOSE_EINVAL);
    ASSERT_EQ(gaggle_worker_state(NULL), GOOSE_EINVAL);
    goose_attack *a = goose_attack_new();
    goose_scenario *sc = goose_scenario_new("Reader");
    goose_scenario_add_transaction(sc, "front", front);
    ASSERT_EQ(goose_attack_add_scenario(a, sc), GOOSE_OK);
    ASSERT_EQ(goose_attack_set_option(a, "users", "3"), GOOSE_OK); /* a Manager's */
    ASSERT_EQ(goose_attack_set_option(a, "worker-reconnect", NULL), GOOSE_OK);
    gaggle_worker *w = gaggle_worker_start(a);
    ASSERT_NOT_NULL(w);
    int fd = gaggle_worker_fd(w);
    ASSERT_GE(fd, 0);
    ASSERT(fcntl(fd, F_GETFL) & O_NONBLOCK);
    ASSERT(fcntl(fd, F_GETFD) & FD_CLOEXEC);
    int state = 0;
    for (int i = 0; i < 100 && state != GAGGLE_WORKER_STOPPED; i++) {
        struct pollfd p = {fd, POLLIN, 0};
        ASSERT_EQ(poll(&p, 1, 5000), 1);
        state = gaggle_worker_state(w);
        ASSERT(state >= GAGGLE_WORKER_DIALING && state <= GAGGLE_WORKER_STOPPED);
    }
    ASSERT_EQ(state, GAGGLE_WORKER_STOPPED);
    ASSERT_EQ(gaggle_worker_done(w), 1);
    struct pollfd p = {fd, POLLIN, 0};
    ASSERT_EQ(poll(&p, 1, 0), 0); /* drained: no change since */
    ASSERT_EQ(gaggle_worker_join(w), GOOSE_ECONFIG);
    ASSERT(strstr(goose_attack_error(a), "--users makes no sense on a Worker"));
    ASSERT_EQ(fcntl(fd, F_GETFD), -1); /* closed */
    goose_attack_free(a);
}

/* ---- real Managers ---- */

/* Up 20 s before its Manager, it joins, with waits that grew to seconds
 * (about 7 dials, not 80 at 250 ms), and the report is the target's. */
TEST(serving_worker_waits_for_a_late_manager)
{
    setup();
    char port[8], report[256];
    manager_spot(port, report);
    pid_t w = serving_worker("worker", port);
    sleep(20);
    ASSERT_EQ(waitpid(w, NULL, WNOHANG), 0); /* still dialing */
    pid_t m = one_shot_manager("manager", port, report, "2s");
    ASSERT_EQ(wait_exit(m, 40), 0);
    check_report(report, 0);
    double longest;
    int dials = dial_waits("worker", &longest);
    printf("%d waits announced in 20 s, the longest %.1f s\n", dials, longest);
    ASSERT_GE(longest, 4.0);
    ASSERT_LE(dials, 12);
    ASSERT(log_has("worker", "no manager at 127.0.0.1:"));
    ASSERT(log_has("worker", "(connection refused): dialing again in 0.25 s"));
    ASSERT(wait_log("worker", "the manager went away: dialing again", 10));
    kill(w, SIGTERM);
    ASSERT_EQ(wait_exit(w, 5), 0);
    teardown();
}

/* Two one-shot Managers in a row, each report exact; stopped while it
 * waits for the third, it leaves at once with status 0. */
TEST(serving_worker_serves_managers_in_a_row)
{
    setup();
    char port[8], report[256], log[256];
    manager_spot(port, report);
    snprintf(log, sizeof log, "%s/requests-{n}.csv", dir); /* one file a test */
    pid_t w = spawn("worker", NULL, "--worker", "--worker-reconnect", "--manager-port", port,
                    "-v", "--gaggle-timeout", "3s", "--request-log", log, NULL);
    long long before = 0;
    for (int i = 0; i < 2; i++) {
        char name[24];
        snprintf(name, sizeof name, "manager%d", i);
        snprintf(report, sizeof report, "%s/report%d.json", dir, i);
        pid_t m = one_shot_manager(name, port, report, "2s");
        ASSERT_EQ(wait_exit(m, 40), 0);
        check_report(report, before);
        json_t *r = load_report(report);
        snprintf(log, sizeof log, "%s/requests-%d.csv", dir, i + 1);
        /* a JSON line a request, written out as the Worker frees the test */
        for (int t = 0; t < 100 && count_lines(log) != report_total(r); t++)
            usleep(50000);
        ASSERT_EQ(count_lines(log), report_total(r));
        json_decref(r);
        before = seen();
        ASSERT_EQ(waitpid(w, NULL, WNOHANG), 0);
    }
    sleep(2); /* dialing for the third */
    ASSERT_EQ(kill(w, SIGTERM), 0);
    ASSERT_EQ(wait_exit(w, 1), 0);
    ASSERT(log_has("worker", "stopped: this worker is done"));
    teardown();
}

/* SIGTERM while its users run: they finish, the "done" with the last
 * metrics reaches the Manager (its report is the target's), exit 0. */
TEST(sigterm_during_a_test_delivers_done)
{
    setup();
    char port[8], report[256];
    manager_spot(port, report);
    pid_t w = serving_worker("worker", port);
    pid_t m = one_shot_manager("manager", port, report, "60s");
    ASSERT(wait_log("worker", "START: running", 20));
    sleep(2);
    ASSERT_EQ(kill(w, SIGTERM), 0);
    ASSERT_EQ(wait_exit(w, 15), 0);
    ASSERT_EQ(wait_exit(m, 20), 0);
    ASSERT(log_has("worker", "stopping users: asked to stop"));
    check_report(report, 0);
    teardown();
}

/* A Manager that cannot prove the Worker's key: the Worker's own check
 * ends it (status 1) instead of dialing again. */
TEST(wrong_key_ends_a_serving_worker)
{
    setup();
    write_key("a.key", "0123456789abcdef0123456789abcdef");
    write_key("b.key", "fedcba9876543210fedcba9876543210");
    char port[8], report[256], ka[256], kb[256];
    manager_spot(port, report);
    snprintf(ka, sizeof ka, "%s/a.key", dir);
    snprintf(kb, sizeof kb, "%s/b.key", dir);
    pid_t m = spawn("manager", NULL, "--manager", "--expect-workers", "1", PORT_ARGS(port),
                    "--gaggle-key-file", ka, "--host", tgt.url, "-u", "2", "-t", "1s", NULL);
    pid_t w = spawn("worker", NULL, "--worker", "--worker-reconnect", "--manager-port", port,
                    "--gaggle-key-file", kb, NULL);
    ASSERT_EQ(wait_exit(w, 15), 1);
    ASSERT(log_has("worker", "the manager cannot prove the gaggle key"));
    kill(m, SIGINT);
    wait_exit(m, 10);
    ASSERT_EQ(seen(), 0);
    teardown();
}

static char certs[256];

static void sh(const char *cmd)
{
    char full[2048];
    snprintf(full, sizeof full, "cd %s && %s 2>/dev/null", certs, cmd);
    if (system(full) != 0)
        TEST_FAIL("command failed: %s", full);
}

/* Two CAs, and a certificate of the first for 127.0.0.1. */
static void make_certs(void)
{
    if (system("command -v openssl >/dev/null") != 0)
        TEST_SKIP("the openssl command is not installed");
    snprintf(certs, sizeof certs, "%s/certs", dir);
    mkdir(certs, 0755);
    const char *ec = "openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
    char cmd[1024];
    for (int i = 1; i <= 2; i++) {
        snprintf(cmd, sizeof cmd, "%s -x509 -keyout ca%d.key -out ca%d.pem -days 2 "
                 "-subj /CN=goose-serve-ca%d", ec, i, i, i);
        sh(cmd);
    }
    sh("printf 'subjectAltName=IP:127.0.0.1\\n' > ip.ext");
    snprintf(cmd, sizeof cmd, "%s -keyout server.key -out server.csr -subj /CN=server && "
             "openssl x509 -req -in server.csr -CA ca1.pem -CAkey ca1.key -CAcreateserial "
             "-out server.pem -days 2 -extfile ip.ext", ec);
    sh(cmd);
}

/* A TLS Manager whose certificate the Worker's CA did not sign: exit 1,
 * no dialing again. */
TEST(untrusted_manager_certificate_ends_a_serving_worker)
{
    setup();
    make_certs();
    char port[8], report[256], cert[300], key[300], ca2[300];
    manager_spot(port, report);
    snprintf(cert, sizeof cert, "%s/server.pem", certs);
    snprintf(key, sizeof key, "%s/server.key", certs);
    snprintf(ca2, sizeof ca2, "%s/ca2.pem", certs);
    pid_t m = spawn("manager", NULL, "--manager", "--expect-workers", "1", PORT_ARGS(port),
                    "--tls-cert", cert, "--tls-key", key, "--host", tgt.url, "-u", "2", "-t",
                    "1s", NULL);
    pid_t w = spawn("worker", NULL, "--worker", "--worker-reconnect", "--manager-host",
                    "127.0.0.1", "--manager-port", port, "--tls-ca", ca2, NULL);
    ASSERT_EQ(wait_exit(w, 20), 1);
    ASSERT(log_has("worker", "certificate failed verification"));
    kill(m, SIGINT);
    wait_exit(m, 10);
    ASSERT_EQ(seen(), 0);
    teardown();
}

/* ---- an embedded Worker, test after test ---- */

typedef struct footprint {
    int fds;
    long rss_kb;
} footprint;

/* "after test N: fds F rss K kB" of the service's log. */
static int footprints(const char *name, footprint *fp, int max)
{
    char path[256], line[512];
    snprintf(path, sizeof path, "%s/%s.log", dir, name);
    FILE *f = fopen(path, "r");
    int n = 0;
    while (f && fgets(line, sizeof line, f)) {
        int i, fds;
        long rss;
        if (sscanf(line, "after test %d: fds %d rss %ld kB", &i, &fds, &rss) == 3 && i >= 1 &&
            i <= max) {
            fp[i - 1] = (footprint){fds, rss};
            n = i > n ? i : n;
        }
    }
    if (f)
        fclose(f);
    return n;
}

/* The states the service saw, a letter each: "DJRDJR...S". */
static void states_seen(const char *name, char *out, size_t len)
{
    char path[256], line[512], state[16];
    snprintf(path, sizeof path, "%s/%s.log", dir, name);
    FILE *f = fopen(path, "r");
    size_t n = 0;
    while (f && fgets(line, sizeof line, f) && n + 1 < len)
        if (sscanf(line, "state %15s", state) == 1)
            out[n++] = state[0];
    out[n] = '\0';
    if (f)
        fclose(f);
}

/* The same number of open files after every test, and the memory of test
 * 5 within 2 MiB of test 2's (test 1 sets up what stays: arenas, TLS). */
static void check_no_growth(const char *name, int tests)
{
    footprint fp[8];
    ASSERT_EQ(footprints(name, fp, 8), tests);
    for (int i = 0; i < tests; i++)
        printf("after test %d: %d fds, %ld kB resident\n", i + 1, fp[i].fds, fp[i].rss_kb);
    for (int i = 1; i < tests; i++)
        ASSERT_EQ(fp[i].fds, fp[0].fds);
    ASSERT_GT(fp[1].rss_kb, 0);
#ifndef __SANITIZE_ADDRESS__ /* ASan's quarantine holds what was freed */
    ASSERT_LT(fp[tests - 1].rss_kb - fp[1].rss_kb, 2048);
#endif
}

/* Five one-shot Managers, one after the other, for one embedded Worker
 * that dials again after each. */
TEST(embedded_worker_serves_five_managers_without_growth)
{
    enum { TESTS = 5 };
    setup();
    program = "tests/serve-embedded";
    char port[8], report[256], tests[4];
    manager_spot(port, report);
    snprintf(tests, sizeof tests, "%d", TESTS);
    pid_t svc = spawn("service", NULL, "serve", tests, "--manager-port", port,
                      "--gaggle-timeout", "3s", NULL);
    long long before = 0;
    for (int i = 1; i <= TESTS; i++) {
        char name[24], after[32];
        snprintf(name, sizeof name, "manager%d", i);
        snprintf(report, sizeof report, "%s/report%d.json", dir, i);
        pid_t m = one_shot_manager(name, port, report, "1s");
        ASSERT_EQ(wait_exit(m, 40), 0);
        snprintf(after, sizeof after, "after test %d:", i);
        ASSERT(wait_log("service", after, 20)); /* measured before the next Manager */
        check_report(report, before);
        before = seen();
    }
    ASSERT_EQ(wait_exit(svc, 10), 0);
    char states[64];
    states_seen("service", states, sizeof states);
    printf("states: %s\n", states);
    ASSERT_EQ(states[0], 'D');
    ASSERT_STR_EQ(strstr(states, "RDS"), "RDS"); /* the fifth test, then the stop */
    ASSERT(log_has("service", "worker: success"));
    check_no_growth("service", TESTS);
    teardown();
}

/* No Manager: 6 s into its dialing (a 4 s wait under way) the host
 * stops it, and it ends within a slice of its sleep. */
TEST(embedded_worker_stops_at_once_while_dialing)
{
    setup();
    program = "tests/serve-embedded";
    char port[8];
    snprintf(port, sizeof port, "%d", free_port());
    pid_t svc = spawn("service", NULL, "serve", "0", "--manager-port", port, NULL);
    ASSERT_EQ(wait_exit(svc, 20), 0);
    char path[256], line[256];
    snprintf(path, sizeof path, "%s/service.log", dir);
    FILE *f = fopen(path, "r");
    long long ms = -1;
    while (f && fgets(line, sizeof line, f))
        sscanf(line, "stopped in %lld ms", &ms);
    if (f)
        fclose(f);
    printf("stopped in %lld ms while dialing\n", ms);
    ASSERT_GE(ms, 0);
    ASSERT_LT(ms, 500);
    ASSERT(log_has("service", "dialing again in 4 s"));
    char states[16];
    states_seen("service", states, sizeof states);
    ASSERT_STR_EQ(states, "DS");
    teardown();
}

/* A controller's answer to one command line. */
static void talk(const char *port, const char *command, char *answer, size_t len)
{
    int fd = dial(port);
    struct timeval tv = {10, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ASSERT_EQ(write(fd, command, strlen(command)), (ssize_t)strlen(command));
    size_t got = 0;
    for (ssize_t r; got + 1 < len && !memchr(answer, '\n', got) &&
                    (r = read(fd, answer + got, len - 1 - got)) > 0;)
        got += (size_t)r;
    answer[got] = '\0';
    close(fd);
}

/* One Manager that stays up (--no-autostart), five controller starts:
 * the embedded Worker serves them all on one connection ("idle" between
 * them), and grows no more than with five Managers. */
TEST(embedded_worker_serves_five_tests_on_one_connection)
{
    enum { TESTS = 5 };
    setup();
    program = "tests/serve-embedded";
    char port[8], ctl[8], ctl_at[24], report[256], tests[4], answer[512];
    manager_spot(port, report);
    snprintf(ctl, sizeof ctl, "%d", free_port());
    snprintf(ctl_at, sizeof ctl_at, "127.0.0.1:%s", ctl);
    snprintf(report, sizeof report, "%s/report{n}.json", dir);
    snprintf(tests, sizeof tests, "%d", TESTS);
    pid_t m = spawn("manager", NULL, "--manager", "--no-autostart", "--controller", ctl_at,
                    "--expect-workers", "1", PORT_ARGS(port), "--host", tgt.url, "-u", "3",
                    "-r", "30", "-t", "1s", "--no-reset-metrics", "--report-file", report,
                    NULL);
    pid_t svc = spawn("service", NULL, "serve", tests, "--manager-port", port,
                      "--gaggle-timeout", "3s", NULL);
    ASSERT(wait_log("service", "joined the manager at 127.0.0.1:", 20));
    long long before = 0;
    for (int i = 1; i <= TESTS; i++) {
        char after[32];
        talk(ctl, "start\n", answer, sizeof answer);
        ASSERT(!strncmp(answer, "ok", 2));
        snprintf(after, sizeof after, "after test %d:", i);
        ASSERT(wait_log("service", after, 30));
        snprintf(report, sizeof report, "%s/report%d.json", dir, i);
        for (int j = 0; j < 100 && access(report, F_OK) != 0; j++)
            usleep(100000); /* written once the Manager has every "done" */
        usleep(200000);
        check_report(report, before);
        before = seen();
    }
    ASSERT_EQ(wait_exit(svc, 10), 0);
    talk(ctl, "shutdown\n", answer, sizeof answer);
    ASSERT_EQ(wait_exit(m, 20), 0);
    char states[64];
    states_seen("service", states, sizeof states);
    printf("states: %s\n", states);
    ASSERT_STR_EQ(states, "DJRJRJRJRJRJS"); /* never DIALING again */
    ASSERT(log_has("service", "test over: waiting for the next one"));
    ASSERT(log_has("service", "worker: success"));
    check_no_growth("service", TESTS);
    teardown();
}

/* ---- a hostile "Manager" between tests ---- */

static int listen_on(const char *port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(port)),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    ASSERT_EQ(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    ASSERT_EQ(listen(fd, 8), 0);
    return fd;
}

/* The Worker's next connection, within 15 s. */
static int next_worker(int lfd)
{
    struct pollfd p = {lfd, POLLIN, 0};
    ASSERT_EQ(poll(&p, 1, 15000), 1);
    int fd = accept(lfd, NULL, NULL);
    ASSERT(fd >= 0);
    struct timeval tv = {10, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    return fd;
}

/* -1 when the Worker closed (or reset) the connection; 10 s of silence
 * fails the test. */
static int read_all(int fd, void *buf, size_t n)
{
    for (size_t got = 0; got < n;) {
        ssize_t r = read(fd, (char *)buf + got, n - got);
        if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            TEST_FAIL("the worker said nothing for 10 s, and kept the connection");
        if (r <= 0)
            return -1;
        got += (size_t)r;
    }
    return 0;
}

static void send_out(int fd, gaggle_out *o);

static void send_pong(int fd, uint64_t t)
{
    gaggle_out o;
    goose__out_begin(&o, "pong", 1);
    goose__out_u64(&o, "t", t);
    send_out(fd, &o);
}

/* The next frame's type (pings answered and skipped, for 20 s at most); "" when the
 * Worker closed. */
static const char *read_type(int fd, char type[32])
{
    static unsigned char body[65536];
    for (int pings = 0;; pings++) {
        if (pings > 20)
            TEST_FAIL("the worker only pings, and keeps the connection");
        unsigned char head[4];
        if (read_all(fd, head, 4) < 0)
            return strcpy(type, "");
        uint32_t n = (uint32_t)head[0] << 24 | head[1] << 16 | head[2] << 8 | head[3];
        ASSERT(n <= sizeof body);
        ASSERT_EQ(read_all(fd, body, n), 0);
        msgpack_unpacked u;
        uint64_t t = 0;
        msgpack_unpacked_init(&u);
        ASSERT_EQ(goose__frame_decode(body, n, &u, type, 32), 0);
        int ping = !strcmp(type, "ping") && goose__get_u64(&u.data, "t", &t) == 0;
        msgpack_unpacked_destroy(&u);
        if (ping) /* answered: only what the test sends may close it */
            send_pong(fd, t);
        else if (strcmp(type, "pong"))
            return type;
    }
}

static void send_out(int fd, gaggle_out *o)
{
    goose__out_finish(o);
    ASSERT_EQ(write(fd, o->sb.data, o->sb.size), (ssize_t)o->sb.size);
    goose__out_free(o);
}

/* hello, challenge (no key), auth, "idle": the Worker has joined. */
static int fake_join(int lfd)
{
    char type[32];
    int fd = next_worker(lfd);
    ASSERT_STR_EQ(read_type(fd, type), "hello");
    gaggle_out o;
    unsigned char nonce[GAGGLE_NONCE] = {7};
    goose__out_begin(&o, "challenge", 2);
    goose__out_bin(&o, "nonce", nonce, sizeof nonce);
    goose__out_bool(&o, "key", 0);
    send_out(fd, &o);
    ASSERT_STR_EQ(read_type(fd, type), "auth");
    goose__out_begin(&o, "idle", 0);
    send_out(fd, &o);
    return fd;
}

/* The Worker closes the connection (what it sends first is read). */
static void closed_by_worker(int fd)
{
    char type[32];
    ASSERT_STR_EQ(read_type(fd, type), "");
    close(fd);
}

/* After garbage, an oversized frame and an unexpected "start" between
 * tests, the Worker closes, says why, and dials again; a stop ends it. */
TEST(hostile_manager_between_tests)
{
    setup();
    char port[8], report[256];
    manager_spot(port, report);
    int lfd = listen_on(port);
    pid_t w = serving_worker("worker", port);
    int fd = fake_join(lfd);
    ASSERT(wait_log("worker", "joined the manager at 127.0.0.1:", 10));
    unsigned char junk[64] = {0, 0, 0, 60};
    for (size_t i = 4; i < sizeof junk; i++)
        junk[i] = (unsigned char)(i * 37 + 11);
    ASSERT_EQ(write(fd, junk, sizeof junk), (ssize_t)sizeof junk);
    closed_by_worker(fd);
    fd = fake_join(lfd); /* a new hello: it dialed again */
    const unsigned char huge[] = {0x7f, 0xff, 0xff, 0xff, 0x81};
    ASSERT_EQ(write(fd, huge, sizeof huge), (ssize_t)sizeof huge);
    closed_by_worker(fd);
    fd = fake_join(lfd);
    gaggle_out o;
    goose__out_begin(&o, "start", 1);
    goose__out_u64(&o, "in_us", 0);
    send_out(fd, &o);
    closed_by_worker(fd);
    fd = fake_join(lfd);
    ASSERT(wait_log("worker", "dialing again (malformed frame)", 5));
    ASSERT(log_has("worker", "dialing again (frame of "));
    ASSERT(log_has("worker", "dialing again (unexpected message \"start\" from the manager)"));
    ASSERT_EQ(kill(w, SIGTERM), 0);
    ASSERT_EQ(wait_exit(w, 2), 0);
    close(fd);
    close(lfd);
    teardown();
}

/* A fake Manager's reject of the Worker's next connection: "retry" 1 or
 * 0, or none when retry < 0. */
static void reject_next(int lfd, int retry, const char *reason)
{
    char type[32];
    int fd = next_worker(lfd);
    ASSERT_STR_EQ(read_type(fd, type), "hello");
    gaggle_out o;
    goose__out_begin(&o, "reject", retry >= 0 ? 2 : 1);
    goose__out_str(&o, "reason", reason);
    if (retry >= 0)
        goose__out_bool(&o, "retry", retry);
    send_out(fd, &o);
    closed_by_worker(fd);
}

/* A reject with "retry": the Worker dials again; with retry false, or
 * none: refused for good, status 1. */
TEST(reject_retry_decides)
{
    setup();
    char port[8], report[256];
    manager_spot(port, report);
    int lfd = listen_on(port);
    pid_t w = serving_worker("worker", port);
    reject_next(lfd, 1, "the gaggle is full");
    ASSERT(wait_log("worker", "the manager refused this worker: the gaggle is full: dialing "
                              "again in ", 5));
    reject_next(lfd, 0, "authentication failed: the gaggle keys differ");
    ASSERT_EQ(wait_exit(w, 5), 1);
    ASSERT(log_has("worker", "the manager refused this worker: authentication failed"));
    w = serving_worker("worker2", port);
    reject_next(lfd, -1, "no retry said");
    ASSERT_EQ(wait_exit(w, 5), 1);
    ASSERT(log_has("worker2", "the manager refused this worker: no retry said"));
    close(lfd);
    teardown();
}

/* A "Manager" without a key meets a serving Worker with one: the Worker
 * refuses it (exit 1) and waits for it to close, but this one never closes
 * and pings on: a stop ends the wait within a second, and without one
 * 3 x --gaggle-timeout does. */
static pid_t refused_pinging_manager(int lfd, const char *port, const char *key, int *fd)
{
    pid_t w = spawn("worker", NULL, "--worker", "--worker-reconnect", "--manager-port", port,
                    "--gaggle-timeout", "1s", "--gaggle-key-file", key, NULL);
    char type[32];
    *fd = next_worker(lfd);
    ASSERT_STR_EQ(read_type(*fd, type), "hello");
    gaggle_out o;
    unsigned char nonce[GAGGLE_NONCE] = {7};
    goose__out_begin(&o, "challenge", 2);
    goose__out_bin(&o, "nonce", nonce, sizeof nonce);
    goose__out_bool(&o, "key", 0);
    send_out(*fd, &o);
    ASSERT_STR_EQ(read_type(*fd, type), "refuse");
    return w;
}

/* Pings every 200 ms for up to `ms`: 1 when w ended meanwhile (*st). */
static int ping_until_exit(int fd, pid_t w, int ms, int *st)
{
    for (int i = 0; i < ms / 200; i++) {
        gaggle_out o;
        goose__out_begin(&o, "ping", 1);
        goose__out_u64(&o, "t", (uint64_t)i + 1);
        send_out(fd, &o);
        usleep(200000);
        if (waitpid(w, st, WNOHANG) == w)
            return 1;
    }
    return 0;
}

TEST(a_talking_manager_cannot_hold_a_leaving_worker)
{
    setup();
    signal(SIGPIPE, SIG_IGN);
    write_key("w.key", "0123456789abcdef0123456789abcdef");
    char port[8], report[256], key[256];
    manager_spot(port, report);
    snprintf(key, sizeof key, "%s/w.key", dir);
    int lfd = listen_on(port), fd, st = 0;
    pid_t w = refused_pinging_manager(lfd, port, key, &fd);
    ASSERT(ping_until_exit(fd, w, 6000, &st)); /* 3 x 1 s, not for ever */
    ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 1);
    close(fd);
    w = refused_pinging_manager(lfd, port, key, &fd);
    usleep(300000);
    kill(w, SIGTERM);
    ASSERT(ping_until_exit(fd, w, 2000, &st)); /* a stop: a second */
    ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 1);
    close(fd);
    close(lfd);
    teardown();
}

TEST_MAIN(TEST_ENTRY(worker_fd_follows_a_worker_that_cannot_run),
          TEST_ENTRY(a_talking_manager_cannot_hold_a_leaving_worker),
          TEST_ENTRY(serving_worker_waits_for_a_late_manager),
          TEST_ENTRY(serving_worker_serves_managers_in_a_row),
          TEST_ENTRY(sigterm_during_a_test_delivers_done),
          TEST_ENTRY(wrong_key_ends_a_serving_worker),
          TEST_ENTRY(untrusted_manager_certificate_ends_a_serving_worker),
          TEST_ENTRY(embedded_worker_serves_five_managers_without_growth),
          TEST_ENTRY(embedded_worker_serves_five_tests_on_one_connection),
          TEST_ENTRY(embedded_worker_stops_at_once_while_dialing),
          TEST_ENTRY(hostile_manager_between_tests), TEST_ENTRY(reject_retry_decides))
