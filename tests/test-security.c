/* Gaggle security with real processes: the pre-shared key both ways, TLS
 * and mTLS, and hostile bytes and crowds on the Manager's port while a real
 * test runs with exact totals. */
#include "gaggle.h"

/* A Manager with the key file `mkey` (NULL: none) and one Worker with
 * `wkey`; returns the Worker's exit status, and the Manager's in *mrc. */
static int keyed_pair(const char *mkey, const char *wkey, int *mrc)
{
    char port[8], mk[256], wk[256];
    snprintf(port, sizeof port, "%d", free_port());
    snprintf(mk, sizeof mk, "%s/%s", dir, mkey ? mkey : "");
    snprintf(wk, sizeof wk, "%s/%s", dir, wkey ? wkey : "");
    pid_t m = mkey ? spawn("manager", NULL, "--manager", "--expect-workers", "1",
                           PORT_ARGS(port), "--gaggle-key-file", mk, "--host", tgt.url,
                           "-u", "2", "-r", "20", "-t", "1s", "--gaggle-timeout", "2s", NULL)
                   : spawn("manager", NULL, "--manager", "--expect-workers", "1",
                           PORT_ARGS(port), "--host", tgt.url, "-u", "2", "-r", "20", "-t",
                           "1s", "--gaggle-timeout", "2s", NULL);
    pid_t w = wkey ? spawn("worker", NULL, "--worker", "--manager-port", port,
                           "--gaggle-key-file", wk, NULL)
                   : spawn("worker", NULL, "--worker", "--manager-port", port, NULL);
    int wrc = wait_exit(w, 15);
    if (wrc == 0) {
        *mrc = wait_exit(m, 15);
    } else {
        kill(m, SIGINT); /* it still waits for a worker */
        *mrc = wait_exit(m, 15);
    }
    return wrc;
}

TEST(right_key_joins)
{
    setup();
    write_key("a.key", "0123456789abcdef0123456789abcdef");
    write_key("a2.key", "0123456789abcdef0123456789abcdef");
    int mrc;
    ASSERT_EQ(keyed_pair("a.key", "a2.key", &mrc), 0);
    ASSERT_EQ(mrc, 0);
    json_t *stats = target_json(&tgt, "/stats");
    ASSERT_GT(target_total(stats), 0);
    json_decref(stats);
    teardown();
}

TEST(wrong_key_is_refused_both_ways)
{
    setup();
    write_key("a.key", "0123456789abcdef0123456789abcdef");
    write_key("b.key", "fedcba9876543210fedcba9876543210");
    int mrc;
    /* the worker meets a manager that cannot prove the worker's key: the
       rogue manager case; the worker starts no user */
    ASSERT_EQ(keyed_pair("a.key", "b.key", &mrc), 1);
    ASSERT(log_has("worker", "the manager cannot prove the gaggle key"));
    json_t *stats = target_json(&tgt, "/stats");
    ASSERT_EQ(target_total(stats), 0);
    json_decref(stats);
    ASSERT_EQ(mrc, 1); /* stopped before any worker joined */
    teardown();
}

TEST(key_on_one_side_only_is_refused)
{
    setup();
    write_key("a.key", "0123456789abcdef0123456789abcdef");
    int mrc;
    ASSERT_EQ(keyed_pair("a.key", NULL, &mrc), 1);
    ASSERT(log_has("worker", "the manager requires a gaggle key"));
    ASSERT_EQ(keyed_pair(NULL, "a.key", &mrc), 1);
    ASSERT(log_has("worker", "refusing an unauthenticated manager"));
    json_t *stats = target_json(&tgt, "/stats");
    ASSERT_EQ(target_total(stats), 0);
    json_decref(stats);
    teardown();
}

/* Workers with a wrong key, with no key, and a plaintext one against a
 * keyed Manager are refused, each with its reason in both logs, while the
 * real Worker runs the test to exact totals. */
TEST(imposters_refused_while_the_real_test_runs)
{
    setup();
    write_key("a.key", "0123456789abcdef0123456789abcdef");
    write_key("b.key", "fedcba9876543210fedcba9876543210");
    char port[8], report[256], ka[256], kb[256];
    manager_spot(port, report);
    snprintf(ka, sizeof ka, "%s/a.key", dir);
    snprintf(kb, sizeof kb, "%s/b.key", dir);
    pid_t m = spawn("manager", NULL, "--manager", "--expect-workers", "1", PORT_ARGS(port),
                    "--gaggle-key-file", ka, "--host", tgt.url, "-u", "3", "-r", "30",
                    "-t", "2s", "--no-reset-metrics", "--report-file", report, NULL);
    pid_t wrong = spawn("wrong", NULL, "--worker", "--manager-port", port,
                        "--gaggle-key-file", kb, NULL);
    pid_t none = spawn("none", NULL, "--worker", "--manager-port", port, NULL);
    ASSERT_EQ(wait_exit(wrong, 15), 1);
    ASSERT_EQ(wait_exit(none, 15), 1);
    ASSERT(log_has("wrong", "the manager cannot prove the gaggle key"));
    ASSERT(log_has("none", "the manager requires a gaggle key"));
    ASSERT(wait_log("manager", "refused this manager: the manager cannot prove", 5));
    ASSERT(wait_log("manager", "refused this manager: the manager requires a gaggle key", 5));
    pid_t real = spawn("real", NULL, "--worker", "--manager-port", port,
                       "--gaggle-key-file", ka, NULL);
    ASSERT_EQ(wait_exit(m, 30), 0);
    ASSERT_EQ(wait_exit(real, 10), 0);
    json_t *r = load_report(report), *stats = target_json(&tgt, "/stats");
    ASSERT_EQ(report_total(r), target_total(stats));
    ASSERT_GT(target_total(stats), 0);
    json_decref(r);
    json_decref(stats);
    teardown();
}

/* A raw client that knows the protocol but not the key learns nothing. */
TEST(worker_without_proof_learns_nothing)
{
    setup();
    write_key("a.key", "0123456789abcdef0123456789abcdef");
    char port[8], mk[256];
    snprintf(port, sizeof port, "%d", free_port());
    snprintf(mk, sizeof mk, "%s/a.key", dir);
    pid_t m = spawn("manager", NULL, "--manager", "--expect-workers", "1", PORT_ARGS(port),
                    "--gaggle-key-file", mk, "--host", tgt.url, "-u", "2", "-t", "1s", NULL);
    int fd = dial(port);
    gaggle_out o;
    unsigned char nonce[GAGGLE_NONCE] = {1};
    goose__out_begin(&o, "hello", 2);
    goose__out_u64(&o, "version", GAGGLE_PROTOCOL_VERSION);
    goose__out_bin(&o, "nonce", nonce, sizeof nonce);
    goose__out_finish(&o);
    ASSERT_EQ(write(fd, o.sb.data, o.sb.size), (ssize_t)o.sb.size);
    goose__out_free(&o);
    unsigned char fake[GAGGLE_PROOF] = {0};
    goose__out_begin(&o, "auth", 3);
    goose__out_str(&o, "hash", "x");
    goose__out_str(&o, "name", "intruder");
    goose__out_bin(&o, "proof", fake, sizeof fake);
    goose__out_finish(&o);
    ASSERT_EQ(write(fd, o.sb.data, o.sb.size), (ssize_t)o.sb.size);
    goose__out_free(&o);
    char buf[8192];
    size_t got = 0;
    ssize_t n;
    struct timeval tv = {5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    while ((n = read(fd, buf + got, sizeof buf - 1 - got)) > 0)
        got += (size_t)n;
    close(fd);
    buf[got] = '\0';
    ASSERT(memmem(buf, got, "challenge", 9));
    ASSERT(memmem(buf, got, "authentication failed", 21));
    ASSERT(!memmem(buf, got, "welcome", 7)); /* no configuration, no host */
    ASSERT(!memmem(buf, got, tgt.url + 7, strlen(tgt.url + 7)));
    kill(m, SIGINT);
    wait_exit(m, 10);
    ASSERT(log_has("manager", "failed the key check: the worker's key proof is wrong"));
    teardown();
}

/* 200 connections that say nothing and 200 that send random bytes, while
 * a real, keyed Gaggle runs: it finishes with exact totals. */
TEST(crowd_of_hostile_connections)
{
    setup();
    write_key("a.key", "0123456789abcdef0123456789abcdef");
    char port[8], report[256], key[256];
    manager_spot(port, report);
    snprintf(key, sizeof key, "%s/a.key", dir);
    pid_t m = spawn("manager", NULL, "--manager", "--expect-workers", "2", PORT_ARGS(port),
                    "--gaggle-key-file", key, "--host", tgt.url, "-u", "6", "-r", "60",
                    "-t", "3s", "--no-reset-metrics", "--gaggle-timeout", "3s",
                    "--report-file", report, NULL);
    static int fds[400];
    unsigned char junk[300];
    unsigned seed = 99;
    for (int i = 0; i < 400; i++) {
        fds[i] = dial(port);
        if (i < 200)
            continue;
        for (size_t j = 0; j < sizeof junk; j++) {
            seed = seed * 1103515245u + 12345u;
            junk[j] = (unsigned char)(seed >> 16);
        }
        ssize_t n = write(fds[i], junk, 8 + seed % (sizeof junk - 8));
        (void)n;
    }
    pid_t w0 = spawn("worker0", NULL, "--worker", "--manager-port", port,
                     "--gaggle-key-file", key, NULL);
    pid_t w1 = spawn("worker1", NULL, "--worker", "--manager-port", port,
                     "--gaggle-key-file", key, NULL);
    ASSERT_EQ(wait_exit(m, 40), 0);
    ASSERT_EQ(wait_exit(w0, 10), 0);
    ASSERT_EQ(wait_exit(w1, 10), 0);
    for (int i = 0; i < 400; i++)
        close(fds[i]);
    json_t *r = load_report(report), *stats = target_json(&tgt, "/stats");
    ASSERT_EQ(report_total(r), target_total(stats));
    ASSERT_GT(target_total(stats), 0);
    ASSERT_EQ(workers_sum(r, "done"), 2);
    ASSERT(json_is_true(json_object_get(r, "gaggle_authenticated")));
    json_decref(r);
    json_decref(stats);
    teardown();
}

/* ---- TLS ---- */

static char certs[256];

static void sh(const char *fmt, ...)
{
    char cmd[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    if (system(cmd) != 0)
        TEST_FAIL("command failed: %s", cmd);
}

/* A CA, a second CA, and certificates for 127.0.0.1, for another name,
 * self-signed, and for a Worker (mTLS). */
static void make_certs(void)
{
    if (system("command -v openssl >/dev/null") != 0)
        TEST_SKIP("the openssl command is not installed");
    snprintf(certs, sizeof certs, "%s/certs", dir);
    const char *ec = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
    sh("mkdir -p %s && cd %s && printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' > ip.ext"
       " && printf 'subjectAltName=DNS:wrong.example\n' > wrong.ext", certs, certs);
    for (int i = 1; i <= 2; i++)
        sh("cd %s && openssl req -x509 %s -keyout ca%d.key -out ca%d.pem -days 2"
           " -subj /CN=goose-test-ca%d 2>/dev/null", certs, ec, i, i, i);
    const char *leaf[][2] = {{"server", "ip.ext"}, {"wrong", "wrong.ext"}, {"client", "ip.ext"}};
    for (int i = 0; i < 3; i++)
        sh("cd %s && openssl req %s -keyout %s.key -out %s.csr -subj /CN=%s 2>/dev/null &&"
           " openssl x509 -req -in %s.csr -CA ca1.pem -CAkey ca1.key -CAcreateserial"
           " -out %s.pem -days 2 -extfile %s 2>/dev/null",
           certs, ec, leaf[i][0], leaf[i][0], leaf[i][0], leaf[i][0], leaf[i][0], leaf[i][1]);
    sh("cd %s && openssl req -x509 %s -keyout self.key -out self.pem -days 2 -subj /CN=self"
       " -addext subjectAltName=IP:127.0.0.1 2>/dev/null", certs, ec);
}

static const char *cert(const char *name)
{
    static char paths[8][300];
    static int next;
    char *p = paths[next++ % 8];
    snprintf(p, 300, "%s/%s", certs, name);
    return p;
}

/* A Manager and a Worker with extra arguments (NULL-terminated lists);
 * returns the Worker's exit status and the Manager's in *mrc. */
static int tls_pair(const char *const *margs, const char *const *wargs, int *mrc)
{
    char port[8];
    snprintf(port, sizeof port, "%d", free_port());
    const char *mv[32] = {"--manager", "--expect-workers", "1", "--manager-bind-host",
                          "127.0.0.1", "--manager-bind-port", port, "--host", tgt.url,
                          "-u", "2", "-r", "20", "-t", "1s", "--gaggle-timeout", "5s"};
    const char *wv[32] = {"--worker", "--manager-host", "127.0.0.1", "--manager-port", port,
                          "--gaggle-timeout", "5s"};
    size_t nm = 17, nw = 7;
    for (; *margs; margs++)
        mv[nm++] = *margs;
    for (; *wargs; wargs++)
        wv[nw++] = *wargs;
    pid_t m = spawn_argv("manager", NULL, mv, nm);
    pid_t w = spawn_argv("worker", NULL, wv, nw);
    int wrc = wait_exit(w, 20);
    if (wrc != 0)
        kill(m, SIGINT);
    *mrc = wait_exit(m, 20);
    return wrc;
}

#define ARGS(...) ((const char *const[]){__VA_ARGS__, NULL})
#define SERVER "--tls-cert", cert("server.pem"), "--tls-key", cert("server.key")

TEST(tls_valid_chain_and_mtls)
{
    setup();
    make_certs();
    int mrc;
    char report[256];
    snprintf(report, sizeof report, "%s/report.json", dir);
    ASSERT_EQ(tls_pair(ARGS(SERVER, "--no-reset-metrics", "--report-file", report),
                       ARGS("--tls-ca", cert("ca1.pem")), &mrc), 0);
    ASSERT_EQ(mrc, 0);
    ASSERT(log_has("manager", "TLS on"));
    json_t *r = load_report(report), *stats = target_json(&tgt, "/stats");
    ASSERT_EQ(report_total(r), target_total(stats));
    ASSERT_GT(target_total(stats), 0);
    ASSERT(json_is_true(json_object_get(r, "gaggle_tls")));
    json_decref(r);
    json_decref(stats);
    /* mTLS: the Manager asks for a certificate of its CA */
    ASSERT_EQ(tls_pair(ARGS(SERVER, "--tls-ca", cert("ca1.pem")),
                       ARGS("--tls-ca", cert("ca1.pem"), "--tls-cert", cert("client.pem"),
                            "--tls-key", cert("client.key")), &mrc), 0);
    ASSERT_EQ(mrc, 0);
    ASSERT_EQ(tls_pair(ARGS(SERVER, "--tls-ca", cert("ca1.pem")),
                       ARGS("--tls-ca", cert("ca1.pem")), &mrc), 1);
    ASSERT(log_has("worker", "TLS"));
    ASSERT_EQ(mrc, 1);
    teardown();
}

TEST(tls_wrong_ca_self_signed_and_wrong_name)
{
    setup();
    make_certs();
    int mrc;
    ASSERT_EQ(tls_pair(ARGS(SERVER), ARGS("--tls-ca", cert("ca2.pem")), &mrc), 1);
    ASSERT(log_has("worker", "certificate failed verification"));
    ASSERT_EQ(tls_pair(ARGS("--tls-cert", cert("self.pem"), "--tls-key", cert("self.key")),
                       ARGS("--tls-ca", cert("ca1.pem")), &mrc), 1);
    ASSERT(log_has("worker", "certificate failed verification"));
    ASSERT_EQ(tls_pair(ARGS("--tls-cert", cert("wrong.pem"), "--tls-key", cert("wrong.key")),
                       ARGS("--tls-ca", cert("ca1.pem")), &mrc), 1);
    ASSERT(log_has("worker", "does not name --manager-host"));
    json_t *stats = target_json(&tgt, "/stats");
    ASSERT_EQ(target_total(stats), 0); /* no worker ever started a user */
    json_decref(stats);
    teardown();
}

TEST(tls_and_plaintext_do_not_mix)
{
    setup();
    make_certs();
    int mrc;
    /* a plaintext worker (a self-signed manager and no --tls-ca) */
    ASSERT_EQ(tls_pair(ARGS("--tls-cert", cert("self.pem"), "--tls-key", cert("self.key")),
                       ARGS("-v"), &mrc), 1);
    ASSERT(log_has("worker", "a TLS manager? give --tls-ca"));
    ASSERT(log_has("manager", "does not speak TLS"));
    /* a TLS worker against a plaintext manager */
    ASSERT_EQ(tls_pair(ARGS("-v"), ARGS("--tls-ca", cert("ca1.pem")), &mrc), 1);
    ASSERT(log_has("worker", "a plaintext manager without --tls-cert?"));
    ASSERT(log_has("manager", "speaks TLS but this side has no TLS"));
    teardown();
}

TEST(hostile_bytes_close_one_connection)
{
    setup();
    char port[8], report[256];
    manager_spot(port, report);
    pid_t m = spawn("manager", NULL, "--manager", "--expect-workers", "2", PORT_ARGS(port),
                    "--host", tgt.url, "-u", "6", "-r", "60", "-t", "3s",
                    "--no-reset-metrics", "--gaggle-timeout", "2s", "--report-file", report,
                    NULL);
    int idle = dial(port); /* says nothing: closed after the timeout */
    pid_t w0 = spawn("worker0", NULL, "--worker", "--manager-port", port, NULL);
    unsigned char random_bytes[512];
    srand(7);
    for (size_t i = 0; i < sizeof random_bytes; i++)
        random_bytes[i] = (unsigned char)rand();
    random_bytes[0] = 0; /* a plausible length: the map inside is garbage */
    random_bytes[1] = 0;
    ASSERT(closed_after(port, random_bytes, sizeof random_bytes));
    const unsigned char huge[] = {0xff, 0xff, 0xff, 0xff, 0x81};
    ASSERT(closed_after(port, huge, sizeof huge));
    const unsigned char not_hello[] = {0, 0, 0, 11, 0x81, 0xa4, 't', 'y', 'p', 'e',
                                       0xa4, 's', 't', 'o', 'p'};
    ASSERT(closed_after(port, not_hello, sizeof not_hello));
    /* a truncated frame: the length promises more than ever comes */
    const unsigned char truncated[] = {0, 0, 0, 100, 0x81, 0xa4, 't'};
    int fd = dial(port);
    ASSERT_EQ(write(fd, truncated, sizeof truncated), (ssize_t)sizeof truncated);
    close(fd);
    /* a map claiming four billion entries in a few bytes */
    const unsigned char claim[] = {0, 0, 0, 5, 0xdf, 0xff, 0xff, 0xff, 0xff};
    ASSERT(closed_after(port, claim, sizeof claim));
    pid_t w1 = spawn("worker1", NULL, "--worker", "--manager-port", port, NULL);
    ASSERT_EQ(wait_exit(m, 30), 0);
    ASSERT_EQ(wait_exit(w0, 10), 0);
    ASSERT_EQ(wait_exit(w1, 10), 0);
    char buf[16];
    ASSERT_EQ(read(idle, buf, sizeof buf), 0); /* closed by the manager */
    close(idle);
    json_t *r = load_report(report), *stats = target_json(&tgt, "/stats");
    ASSERT_EQ(report_total(r), target_total(stats));
    ASSERT_EQ(workers_sum(r, "done"), 2);
    json_decref(r);
    json_decref(stats);
    teardown();
}

TEST_MAIN(TEST_ENTRY(right_key_joins), TEST_ENTRY(wrong_key_is_refused_both_ways),
          TEST_ENTRY(imposters_refused_while_the_real_test_runs),
          TEST_ENTRY(key_on_one_side_only_is_refused),
          TEST_ENTRY(worker_without_proof_learns_nothing),
          TEST_ENTRY(crowd_of_hostile_connections),
          TEST_ENTRY(hostile_bytes_close_one_connection),
          TEST_ENTRY(tls_valid_chain_and_mtls),
          TEST_ENTRY(tls_wrong_ca_self_signed_and_wrong_name),
          TEST_ENTRY(tls_and_plaintext_do_not_mix))
