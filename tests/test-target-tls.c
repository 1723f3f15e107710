/* The targets' TLS options (--accept-invalid-certs, --ca-file,
 * --client-cert, --client-key, --http-version): refused before anything
 * starts when wrong, honoured against a real nginx with TLS and HTTP/2 on
 * 127.0.0.1 (certificates made here with the openssl command), carried by
 * a Gaggle (the CA file's contents cross the wire, a client certificate
 * never does), and said in every report.
 *
 * The certificates and the nginx here are this file's own (a CA, a second
 * CA, a server certificate for 127.0.0.1, one for another name, a client
 * certificate); tests/tls/ may take them over. */
#include "gaggle.h"

#include <limits.h>
#include <poll.h>
#include <pthread.h>

static char certs[200];
static pid_t nginx_pid;
/* nginx's servers: TLS with h2, TLS without h2, TLS for another name,
 * TLS asking for a client certificate (and h2), plain http */
static int port_h2, port_h1, port_wrong, port_mtls, port_plain;

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

static const char *cert(const char *name)
{
    static char paths[16][300];
    static int next;
    char *p = paths[next++ % 16];
    snprintf(p, 300, "%s/%s", certs, name);
    return p;
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    ASSERT_NOT_NULL(f);
    char *buf = malloc(4 << 20);
    ASSERT_NOT_NULL(buf);
    size_t n = fread(buf, 1, (4 << 20) - 1, f);
    fclose(f);
    buf[n] = '\0';
    if (len)
        *len = n;
    return buf;
}

/* Two CAs; from the first a certificate for 127.0.0.1, one for another
 * name and a client's; the client's with its key in one file. */
static void make_certs(void)
{
    if (system("command -v openssl >/dev/null") != 0)
        TEST_SKIP("the openssl command is not installed (tools/deps.sh test)");
    snprintf(certs, sizeof certs, "%s/certs", dir);
    const char *ec = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
    sh("mkdir -p %s && cd %s && printf 'subjectAltName=IP:127.0.0.1\n' > ip.ext"
       " && printf 'subjectAltName=DNS:wrong.example\n' > wrong.ext"
       " && printf 'extendedKeyUsage=clientAuth\n' > client.ext", certs, certs);
    for (int i = 1; i <= 2; i++)
        sh("cd %s && openssl req -x509 %s -keyout ca%d.key -out ca%d.pem -days 2"
           " -subj /CN=goose-tls-ca%d 2>/dev/null", certs, ec, i, i, i);
    const char *leaf[][2] = {{"server", "ip.ext"}, {"wrong", "wrong.ext"},
                             {"client", "client.ext"}};
    for (int i = 0; i < 3; i++)
        sh("cd %s && openssl req %s -keyout %s.key -out %s.csr -subj /CN=%s 2>/dev/null &&"
           " openssl x509 -req -in %s.csr -CA ca1.pem -CAkey ca1.key -CAcreateserial"
           " -out %s.pem -days 2 -extfile %s 2>/dev/null",
           certs, ec, leaf[i][0], leaf[i][0], leaf[i][0], leaf[i][0], leaf[i][0], leaf[i][1]);
    sh("cd %s && cat client.pem client.key > client-both.pem", certs);
}

static int listener(int *port);

static int reachable(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int ok = connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
    close(fd);
    return ok;
}

/* nginx on 127.0.0.1, its access log saying port, protocol and the client
 * certificate check of every request. */
static void nginx_start(void)
{
    if (system("command -v nginx >/dev/null 2>&1 || test -x /usr/sbin/nginx") != 0)
        TEST_SKIP("nginx is not installed (tools/deps.sh test)");
    char here[PATH_MAX], *was = strdup(dir); /* nginx takes absolute paths */
    ASSERT_NOT_NULL(realpath(was, here));
    if (strlen(here) >= sizeof dir)
        TEST_SKIP("the build folder's path is too long for the tests' dir");
    memcpy(dir, here, strlen(here) + 1);
    snprintf(certs, sizeof certs, "%s/certs", dir);
    free(was);
    /* five ports, each bound until all are found, so no two are alike */
    int *const ports_of[] = {&port_h2, &port_h1, &port_wrong, &port_mtls, &port_plain};
    int held[5];
    for (int i = 0; i < 5; i++)
        held[i] = listener(ports_of[i]);
    for (int i = 0; i < 5; i++)
        close(held[i]);
    char conf[300];
    snprintf(conf, sizeof conf, "%s/nginx/nginx.conf", dir);
    sh("mkdir -p %s/nginx/tmp", dir);
    FILE *f = fopen(conf, "w");
    ASSERT_NOT_NULL(f);
    fprintf(f,
            "worker_processes 1;\npid %s/nginx/nginx.pid;\nerror_log %s/nginx/error.log;\n"
            "events { worker_connections 256; }\n"
            "http {\n"
            "  log_format t '$server_port $server_protocol $ssl_client_verify $request_uri';\n"
            "  access_log %s/nginx/access.log t;\n"
            "  client_body_temp_path %s/nginx/tmp; proxy_temp_path %s/nginx/tmp;\n"
            "  fastcgi_temp_path %s/nginx/tmp; uwsgi_temp_path %s/nginx/tmp;\n"
            "  scgi_temp_path %s/nginx/tmp;\n"
            "  ssl_certificate %s/server.pem; ssl_certificate_key %s/server.key;\n"
            "  server { listen 127.0.0.1:%d ssl http2; location / { return 200 \"ok\\n\"; } }\n"
            "  server { listen 127.0.0.1:%d ssl; location / { return 200 \"ok\\n\"; } }\n"
            "  server { listen 127.0.0.1:%d ssl; ssl_certificate %s/wrong.pem;\n"
            "    ssl_certificate_key %s/wrong.key; location / { return 200 \"ok\\n\"; } }\n"
            "  server { listen 127.0.0.1:%d ssl http2; ssl_verify_client on;\n"
            "    ssl_client_certificate %s/ca1.pem; location / { return 200 \"ok\\n\"; } }\n"
            "  server { listen 127.0.0.1:%d; location / { return 200 \"ok\\n\"; } }\n"
            "}\n",
            dir, dir, dir, dir, dir, dir, dir, dir, certs, certs, port_h2, port_h1, port_wrong,
            certs, certs, port_mtls, certs, port_plain);
    fclose(f);
    char prefix[300], err[300];
    snprintf(prefix, sizeof prefix, "%s/nginx/", dir);
    snprintf(err, sizeof err, "%s/nginx/error.log", dir);
    nginx_pid = fork();
    ASSERT(nginx_pid >= 0);
    if (nginx_pid == 0) {
        /* SIGTERM, not SIGKILL: nginx's master then stops its workers too,
           where a killed master leaves them running */
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        execlp("nginx", "nginx", "-p", prefix, "-e", err, "-c", conf, "-g", "daemon off;",
               (char *)NULL);
        execl("/usr/sbin/nginx", "nginx", "-p", prefix, "-e", err, "-c", conf, "-g",
              "daemon off;", (char *)NULL);
        _exit(127);
    }
    const int ports[] = {port_h2, port_h1, port_wrong, port_mtls, port_plain};
    for (size_t i = 0; i < 5; i++) {
        int n = 0;
        while (!reachable(ports[i]) && n++ < 100)
            usleep(50000);
        if (n > 100)
            TEST_FAIL("nginx does not answer on 127.0.0.1:%d (see %s)", ports[i], err);
    }
}

static void nginx_stop(void)
{
    if (nginx_pid > 0) {
        kill(nginx_pid, SIGTERM);
        waitpid(nginx_pid, NULL, 0);
    }
    nginx_pid = 0;
}

/* Lines of nginx's access log that hold every word of `words` (space
 * separated, "-" for none), as "PORT PROTOCOL VERIFY". */
static int logged(int port, const char *protocol, const char *verify)
{
    char path[300], line[512], want[128];
    snprintf(path, sizeof path, "%s/nginx/access.log", dir);
    snprintf(want, sizeof want, "%d %s %s ", port, protocol, verify);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    int n = 0;
    while (fgets(line, sizeof line, f))
        n += strncmp(line, want, strlen(want)) == 0;
    fclose(f);
    return n;
}

/* nginx logs a request once it has sent the answer, a moment after the
 * client has it: the count, once it is `want` or 3 s have passed. */
static int logged_now(int port, const char *protocol, const char *verify, int want)
{
    int n = 0;
    for (int i = 0; i < 60 && (n = logged(port, protocol, verify)) != want; i++)
        usleep(50000);
    return n;
}

#define ASSERT_LOGGED(port, protocol, verify, want)                            \
    ASSERT_EQ(logged_now(port, protocol, verify, want), want)

static int get_front(goose_user *u)
{
    goose_response_free(goose_get(u, "/"));
    return GOOSE_OK;
}

static goose_attack *new_attack(void)
{
    goose_attack *a = goose_attack_new();
    goose_scenario *s = goose_scenario_new("s");
    goose_scenario_add_transaction(s, "front", get_front);
    goose_attack_add_scenario(a, s);
    return a;
}

static char warnings[8192];

static void keep_warnings(void *arg, goose_log_level level, const char *line)
{
    (void)arg;
    if (level == GOOSE_LOG_WARN && strlen(warnings) + strlen(line) + 2 < sizeof warnings) {
        strcat(warnings, line);
        strcat(warnings, "\n");
    }
}

/* One user asks for / three times; more options as name, value pairs
 * (value NULL for a flag) up to NULL.  Returns the attack, run. */
static goose_attack *run_against(int https, int port, ...)
{
    char url[64];
    snprintf(url, sizeof url, "%s://127.0.0.1:%d", https ? "https" : "http", port);
    goose_attack *a = new_attack();
    warnings[0] = '\0';
    goose_attack_set_log(a, keep_warnings, NULL);
    set(a, "host", url);
    set(a, "users", "1");
    set(a, "iterations", "3");
    set(a, "timeout", "5s");
    va_list ap;
    va_start(ap, port);
    for (const char *name; (name = va_arg(ap, const char *));)
        set(a, name, va_arg(ap, const char *));
    va_end(ap);
    ASSERT_EQ(goose_attack_run(a), GOOSE_OK);
    return a;
}

/* The row of GET / and the error text its failures had, if any. */
static json_t *front_row(goose_attack *a, json_t **report, const char **error)
{
    *report = report_of(a);
    json_t *row = report_request(*report, "GET", "/");
    ASSERT_NOT_NULL(row);
    json_t *e = json_array_get(json_object_get(*report, "errors"), 0);
    *error = e ? json_string_value(json_object_get(e, "error")) : "";
    return row;
}

static void expect(goose_attack *a, long long success, long long fail, const char *error)
{
    json_t *report;
    const char *seen;
    json_t *row = front_row(a, &report, &seen);
    if (jint(row, "success") != success || jint(row, "fail") != fail ||
        (error && !strstr(seen, error)) || (!error && seen[0]))
        TEST_FAIL("want %lld ok, %lld failed (%s); got %lld, %lld (\"%s\")", success, fail,
                  error ? error : "no error", jint(row, "success"), jint(row, "fail"), seen);
    json_decref(report);
    goose_attack_free(a);
}

/* ---- options: values, environment, and refusals before anything starts ---- */

static int main_with(goose_attack *a, ...)
{
    char *argv[32] = {(char *)"loadtest"};
    int argc = 1;
    va_list ap;
    va_start(ap, a);
    for (char *s; (s = va_arg(ap, char *)) && argc < 31;)
        argv[argc++] = s;
    va_end(ap);
    argv[argc] = NULL;
    return goose_main(a, argc, argv);
}

/* A listening socket nobody should dial: the run must stop before. */
static int listener(int *port)
{
    int l = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof sa;
    ASSERT_EQ(bind(l, (struct sockaddr *)&sa, sizeof sa), 0);
    ASSERT_EQ(listen(l, 8), 0);
    ASSERT_EQ(getsockname(l, (struct sockaddr *)&sa, &len), 0);
    *port = ntohs(sa.sin_port);
    return l;
}

static void nobody_dialed(int l)
{
    struct pollfd p = {.fd = l, .events = POLLIN};
    if (poll(&p, 1, 200) != 0)
        TEST_FAIL("something connected before the configuration was refused");
    close(l);
}

/* goose_main refuses with exit status 2 and these words, having dialed
 * nothing: args end with NULL. */
#define REFUSED(words, ...)                                                    \
    do {                                                                       \
        int port_;                                                             \
        int l_ = listener(&port_);                                             \
        char host_[64];                                                        \
        snprintf(host_, sizeof host_, "http://127.0.0.1:%d", port_);           \
        goose_attack *a_ = new_attack();                                       \
        int rc_ = main_with(a_, "--host", host_, "-u", "1", "-t", "1s",        \
                            "--timeout", "1s", "--stop-timeout", "1s",         \
                            __VA_ARGS__, NULL);                                \
        if (rc_ != 2 || !strstr(goose_attack_error(a_), words))                \
            TEST_FAIL("%s: exit %d, \"%s\"; want 2, \"%s\"", #__VA_ARGS__, rc_,\
                      goose_attack_error(a_), words);                          \
        goose_attack_free(a_);                                                 \
        nobody_dialed(l_);                                                     \
    } while (0)

TEST(options_values_and_environment)
{
    setup();
    make_certs();
    goose_attack *a = new_attack();
    set(a, "accept-invalid-certs", NULL);
    set(a, "ca-file", cert("ca1.pem"));
    set(a, "client-cert", cert("client.pem"));
    set(a, "client-key", cert("client.key"));
    set(a, "http-version", "1.1");
    ASSERT_EQ(a->opt.accept_invalid_certs, 1);
    ASSERT_STR_EQ(a->opt.ca_file, cert("ca1.pem"));
    size_t len;
    char *pem = slurp(cert("ca1.pem"), &len);
    ASSERT_EQ(a->opt.ca_pem_len, len); /* the contents, read once */
    ASSERT(memcmp(a->opt.ca_pem, pem, len) == 0);
    ASSERT_STR_EQ(a->opt.client_cert, cert("client.pem"));
    ASSERT_STR_EQ(a->opt.client_key, cert("client.key"));
    ASSERT_EQ(a->opt.http_version, GOOSE_HTTP_1_1);
    set(a, "http-version", "2");
    ASSERT_EQ(a->opt.http_version, GOOSE_HTTP_2);
    set(a, "http-version", "auto");
    ASSERT_EQ(a->opt.http_version, GOOSE_HTTP_AUTO);
    set(a, "accept-invalid-certs", "false");
    ASSERT_EQ(a->opt.accept_invalid_certs, 0);
    ASSERT_EQ(goose_attack_set_option(a, "http-version", "3"), GOOSE_EVALUE);
    ASSERT_STR_EQ(goose_attack_error(a), "--http-version \"3\" must be auto, 1.1 or 2");
    goose_attack_free(a);

    setenv("GOOSE_ACCEPT_INVALID_CERTS", "1", 1);
    setenv("GOOSE_CA_FILE", cert("ca2.pem"), 1);
    setenv("GOOSE_CLIENT_CERT", cert("client-both.pem"), 1);
    setenv("GOOSE_CLIENT_KEY", cert("client.key"), 1);
    setenv("GOOSE_HTTP_VERSION", "2", 1);
    a = new_attack();
    ASSERT_EQ(goose_attack_parse_args(a, 0, NULL), GOOSE_OK);
    ASSERT_EQ(a->opt.accept_invalid_certs, 1);
    ASSERT_STR_EQ(a->opt.ca_file, cert("ca2.pem"));
    ASSERT_STR_EQ(a->opt.client_cert, cert("client-both.pem"));
    ASSERT_STR_EQ(a->opt.client_key, cert("client.key"));
    ASSERT_EQ(a->opt.http_version, GOOSE_HTTP_2);
    goose_attack_free(a);
    a = new_attack(); /* a flag wins over the environment */
    char *argv[] = {(char *)"t", (char *)"--http-version", (char *)"1.1", NULL};
    ASSERT_EQ(goose_attack_parse_args(a, 3, argv), GOOSE_OK);
    ASSERT_EQ(a->opt.http_version, GOOSE_HTTP_1_1);
    goose_attack_free(a);
    setenv("GOOSE_HTTP_VERSION", "h2", 1);
    a = new_attack();
    ASSERT_EQ(main_with(a, "--version", NULL), 2);
    goose_attack_free(a);
    unsetenv("GOOSE_ACCEPT_INVALID_CERTS");
    unsetenv("GOOSE_CA_FILE");
    unsetenv("GOOSE_CLIENT_CERT");
    unsetenv("GOOSE_CLIENT_KEY");
    unsetenv("GOOSE_HTTP_VERSION");
    free(pem);
    teardown();
}

TEST(bad_files_refused_before_anything_starts)
{
    setup();
    make_certs();
    char missing[300], junk[300], big[300], broken[300];
    snprintf(missing, sizeof missing, "%s/missing.pem", certs);
    snprintf(junk, sizeof junk, "%s/junk.pem", certs);
    snprintf(big, sizeof big, "%s/big.pem", certs);
    snprintf(broken, sizeof broken, "%s/broken.pem", certs);
    sh("echo 'no certificate here' > %s", junk);
    /* a bundle over 1 MiB: the same certificate again and again */
    sh("for i in $(seq 2500); do cat %s; done > %s", cert("ca1.pem"), big);
    sh("cp %s %s && printf -- '-----BEGIN CERTIFICATE-----\\nAAAA\\n-----END CERTIFICATE-----\\n'"
       " >> %s", cert("ca1.pem"), broken, broken);
    REFUSED("cannot read --ca-file", "--ca-file", missing);
    REFUSED("No such file or directory", "--ca-file", missing);
    REFUSED("a directory", "--ca-file", certs);
    REFUSED("holds no PEM certificate", "--ca-file", junk);
    REFUSED("larger than 1024 KiB", "--ca-file", big);
    REFUSED("certificate 2 is not a valid PEM certificate", "--ca-file", broken);
    REFUSED("cannot read --client-cert", "--client-cert", missing);
    REFUSED("cannot read --client-key", "--client-cert", cert("client.pem"), "--client-key",
            missing);
    REFUSED("--client-key needs --client-cert", "--client-key", cert("client.key"));
    REFUSED("holds no private key: give --client-key", "--client-cert", cert("client.pem"));
    REFUSED("holds no PEM certificate", "--client-cert", cert("client.key"));
    REFUSED("holds no PEM private key", "--client-cert", cert("client.pem"), "--client-key",
            cert("client.pem"));
    REFUSED("is not the key of --client-cert", "--client-cert", cert("client.pem"),
            "--client-key", cert("ca2.key"));
    REFUSED("--http-version \"1\" must be auto, 1.1 or 2", "--http-version", "1");
    REFUSED("--http-version \"HTTP/2\" must be auto, 1.1 or 2", "--http-version", "HTTP/2");

    /* a file gone after it was set: the run reads it again */
    char gone[300];
    snprintf(gone, sizeof gone, "%s/gone.pem", certs);
    sh("cp %s %s", cert("client-both.pem"), gone);
    int port, l = listener(&port);
    char host[64];
    snprintf(host, sizeof host, "http://127.0.0.1:%d", port);
    goose_attack *a = new_attack();
    set(a, "host", host);
    set(a, "client-cert", gone);
    unlink(gone);
    ASSERT_EQ(goose_attack_run(a), GOOSE_ECONFIG);
    ASSERT(strstr(goose_attack_error(a), "cannot read --client-cert"));
    goose_attack_free(a);
    nobody_dialed(l);
    teardown();
}

/* The Manager owns the targets' trust and version; each Worker its own
 * client certificate, read before it dials the Manager. */
TEST(sides_of_the_gaggle)
{
    setup();
    make_certs();
    static const char *const manager_only[][2] = {
        {"--accept-invalid-certs", NULL}, {"--ca-file", NULL}, {"--http-version", "2"}};
    for (size_t i = 0; i < 3; i++) {
        goose_attack *a = new_attack();
        const char *v = manager_only[i][1] ? manager_only[i][1] : cert("ca1.pem");
        int rc = strcmp(manager_only[i][0], "--accept-invalid-certs")
                     ? main_with(a, "--worker", manager_only[i][0], v, NULL)
                     : main_with(a, "--worker", manager_only[i][0], NULL);
        char want[200];
        snprintf(want, sizeof want, "%s makes no sense on a Worker: set it on the Manager",
                 manager_only[i][0]);
        ASSERT_EQ(rc, 2);
        ASSERT_STR_EQ(goose_attack_error(a), want);
        goose_attack_free(a);
    }
    for (int key = 0; key < 2; key++) {
        goose_attack *a = new_attack();
        ASSERT_EQ(main_with(a, "--manager", "--expect-workers", "1", "--host",
                            "https://127.0.0.1:1", key ? "--client-key" : "--client-cert",
                            cert(key ? "client.key" : "client-both.pem"), NULL), 2);
        ASSERT_STR_EQ(goose_attack_error(a), key ? "--client-key makes no sense on a Manager: "
                                                   "set it on the Workers"
                                                 : "--client-cert makes no sense on a Manager: "
                                                   "set it on the Workers");
        goose_attack_free(a);
    }
    /* a Worker whose certificate will not do never dials its Manager */
    int port, l = listener(&port);
    char p[8];
    snprintf(p, sizeof p, "%d", port);
    goose_attack *a = new_attack();
    ASSERT_EQ(main_with(a, "--worker", "--manager-port", p, "--client-cert",
                        cert("client.pem"), NULL), 2);
    ASSERT(strstr(goose_attack_error(a), "holds no private key"));
    goose_attack_free(a);
    a = new_attack();
    ASSERT_EQ(main_with(a, "--worker", "--manager-port", p, "--client-key",
                        cert("client.key"), NULL), 2);
    ASSERT(strstr(goose_attack_error(a), "--client-key needs --client-cert"));
    goose_attack_free(a);
    nobody_dialed(l);
    teardown();
}

/* ---- against nginx ---- */

TEST(ca_file_and_accept_invalid_certs)
{
    setup();
    make_certs();
    nginx_start();
    /* the system's store does not know the test's CA */
    expect(run_against(1, port_h2, NULL), 0, 3, "SSL certificate problem");
    expect(run_against(1, port_h2, "ca-file", cert("ca1.pem"), NULL), 3, 0, NULL);
    expect(run_against(1, port_h2, "ca-file", cert("ca2.pem"), NULL), 0, 3,
           "SSL certificate problem");
    /* the host name is checked, and --accept-invalid-certs checks neither */
    expect(run_against(1, port_wrong, "ca-file", cert("ca1.pem"), NULL), 0, 3,
           "127.0.0.1");
    expect(run_against(1, port_wrong, "ca-file", cert("ca1.pem"), "accept-invalid-certs", NULL,
                       NULL), 3, 0, NULL);
    goose_attack *a = run_against(1, port_h2, "accept-invalid-certs", NULL, NULL);
    ASSERT(strstr(warnings, "--accept-invalid-certs: certificates and host names of https:// "
                            "targets are not checked"));
    expect(a, 3, 0, NULL);
    ASSERT_LOGGED(port_h2, "HTTP/2.0", "NONE", 2 * 3); /* the refused ones sent nothing */
    nginx_stop();
    teardown();
}

/* Every report says certificates were not checked; none does when they were. */
TEST(reports_say_certificates_were_not_checked)
{
    setup();
    make_certs();
    nginx_start();
    static const char *const formats[] = {"json", "text", "html", "md", "csv"};
    static const char *const words[] = {
        "\"accept_invalid_certs\": true", "Certificates NOT checked",
        "<p class=\"bad\" id=\"certs-unchecked\">Certificates NOT checked",
        "**Certificates NOT checked", "\nCertificates,Certificates NOT checked: "};
    for (int unchecked = 0; unchecked < 2; unchecked++) {
        goose_attack *a = unchecked ? run_against(1, port_h2, "accept-invalid-certs", NULL, NULL)
                                    : run_against(1, port_h2, "ca-file", cert("ca1.pem"), NULL);
        if (!unchecked && warnings[0])
            TEST_FAIL("a warning with certificates checked: %s", warnings);
        for (size_t i = 0; i < 5; i++) {
            char *text = goose_attack_report(a, formats[i]);
            ASSERT_NOT_NULL(text);
            if (!!strstr(text, unchecked ? words[i] : "ertificates NOT checked") != unchecked)
                TEST_FAIL("%s report, certificates %s checked: \"%s\" %s", formats[i],
                          unchecked ? "not" : "", unchecked ? words[i] : "NOT checked",
                          unchecked ? "missing" : "present");
            if (!unchecked && strstr(text, "accept_invalid_certs"))
                TEST_FAIL("%s report names accept_invalid_certs with the checks on", formats[i]);
            goose_free(text);
        }
        goose_attack_free(a);
    }
    nginx_stop();
    teardown();
}

TEST(http_versions)
{
    setup();
    make_certs();
    nginx_start();
    const char *ca = cert("ca1.pem");
    expect(run_against(1, port_h2, "ca-file", ca, NULL), 3, 0, NULL); /* auto: h2 by ALPN */
    ASSERT_LOGGED(port_h2, "HTTP/2.0", "NONE", 3);
    expect(run_against(1, port_h2, "ca-file", ca, "http-version", "1.1", NULL), 3, 0, NULL);
    ASSERT_LOGGED(port_h2, "HTTP/1.1", "NONE", 3);
    expect(run_against(1, port_h2, "ca-file", ca, "http-version", "2", NULL), 3, 0, NULL);
    ASSERT_LOGGED(port_h2, "HTTP/2.0", "NONE", 6);
    expect(run_against(1, port_h1, "ca-file", ca, NULL), 3, 0, NULL); /* auto: no h2 offered */
    ASSERT_LOGGED(port_h1, "HTTP/1.1", "NONE", 3);
    /* 2 requires HTTP/2: the own client offers only h2 by ALPN, a server
       without it ends the handshake, and nothing is sent */
    expect(run_against(1, port_h1, "ca-file", ca, "http-version", "2", NULL), 0, 3,
           "HTTP/2 required (--http-version 2) but the server does not speak it");
    ASSERT_LOGGED(port_h1, "HTTP/1.1", "NONE", 3);
    /* in clear text, prior knowledge: nginx here speaks no h2c */
    expect(run_against(0, port_plain, "http-version", "2", NULL), 0, 3,
           "HTTP/2 required (--http-version 2) but the server does not speak it");
    expect(run_against(0, port_plain, "http-version", "1.1", NULL), 3, 0, NULL);
    ASSERT_LOGGED(port_plain, "HTTP/1.1", "-", 3);
    nginx_stop();
    teardown();
}

TEST(client_certificates)
{
    setup();
    make_certs();
    nginx_start();
    const char *ca = cert("ca1.pem");
    /* nginx answers 400 to a client without a certificate */
    expect(run_against(1, port_mtls, "ca-file", ca, NULL), 0, 3, "400");
    ASSERT_LOGGED(port_mtls, "HTTP/2.0", "NONE", 3);
    expect(run_against(1, port_mtls, "ca-file", ca, "client-cert", cert("client.pem"),
                       "client-key", cert("client.key"), NULL), 3, 0, NULL);
    ASSERT_LOGGED(port_mtls, "HTTP/2.0", "SUCCESS", 3);
    /* a certificate file that holds its key, as curl takes it */
    expect(run_against(1, port_mtls, "ca-file", ca, "client-cert", cert("client-both.pem"), NULL),
           3, 0, NULL);
    ASSERT_LOGGED(port_mtls, "HTTP/2.0", "SUCCESS", 6);
    nginx_stop();
    teardown();
}

/* ---- the Gaggle ---- */

/* A relay between a Worker and its Manager that keeps every byte each way. */
typedef struct relay {
    int listen_fd;
    int manager_port;
    goose_buf to_worker, to_manager;
} relay;

static void *relay_main(void *arg)
{
    relay *r = arg;
    struct pollfd lp = {.fd = r->listen_fd, .events = POLLIN};
    if (poll(&lp, 1, 20000) != 1)
        return NULL;
    int w = accept(r->listen_fd, NULL, NULL);
    int m = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET,
                             .sin_port = htons((uint16_t)r->manager_port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (w < 0 || connect(m, (struct sockaddr *)&sa, sizeof sa) < 0) {
        close(w);
        close(m);
        return NULL;
    }
    struct pollfd p[2] = {{.fd = w, .events = POLLIN}, {.fd = m, .events = POLLIN}};
    char buf[65536];
    for (int alive = 1; alive && poll(p, 2, 30000) > 0;) { /* bounded by the run */
        for (int i = 0; i < 2 && alive; i++) {
            if (!p[i].revents)
                continue;
            ssize_t n = read(p[i].fd, buf, sizeof buf);
            if (n <= 0 || write(p[1 - i].fd, buf, (size_t)n) != n) {
                alive = 0;
                break;
            }
            goose__buf_add(i ? &r->to_worker : &r->to_manager, buf, (size_t)n);
        }
    }
    close(w);
    close(m);
    return NULL;
}

static void *manager_main(void *arg)
{
    static int rc;
    rc = gaggle_manager_run(arg);
    return &rc;
}

static int holds(const goose_buf *b, const char *text, size_t len)
{
    return b->len && memmem(b->data, b->len, text, len) != NULL;
}

/* The base64 body of a PEM file's first block: what any copy of it holds. */
static void pem_body(const char *path, char *out, size_t cap)
{
    char *text = slurp(path, NULL);
    char *start = strchr(text, '\n');
    ASSERT_NOT_NULL(start);
    snprintf(out, cap, "%.60s", start + 1);
    free(text);
}

/* A Manager with --ca-file (and the other options it ships); a Worker that
 * has no CA file and its own client certificate reaches nginx, which asks
 * for one.  Every byte between them is kept: the CA's contents went to the
 * Worker; no trace of the client certificate went either way. */
/* A Gaggle of one Worker against nginx: version is the Manager's
 * --http-version ("1.1" or "auto", which nginx answers with h2). */
static void gaggle_run(int accept_invalid, const char *version)
{
    char mport[8], wport[8];
    relay r;
    int rport;
    r.listen_fd = listener(&rport); /* held: the Manager's port is another */
    snprintf(mport, sizeof mport, "%d", free_port());
    r.manager_port = atoi(mport);
    snprintf(wport, sizeof wport, "%d", rport);
    goose__buf_init(&r.to_worker);
    goose__buf_init(&r.to_manager);
    char host[64];
    snprintf(host, sizeof host, "https://127.0.0.1:%d", port_mtls);

    goose_attack *m = new_attack();
    set(m, "manager", NULL);
    set(m, "expect-workers", "1");
    set(m, "manager-bind-host", "127.0.0.1");
    set(m, "manager-bind-port", mport);
    set(m, "host", host);
    set(m, "users", "2");
    set(m, "hatch-rate", "100");
    set(m, "iterations", "3");
    set(m, "http-version", version);
    set(m, "gaggle-timeout", "5s");
    if (accept_invalid)
        set(m, "accept-invalid-certs", NULL);
    else
        set(m, "ca-file", cert("ca1.pem"));
    goose_attack *w = new_attack();
    warnings[0] = '\0';
    goose_attack_set_log(w, keep_warnings, NULL);
    set(w, "worker", NULL);
    set(w, "manager-host", "127.0.0.1");
    set(w, "manager-port", wport);
    set(w, "gaggle-timeout", "5s");
    set(w, "client-cert", cert("client.pem"));
    set(w, "client-key", cert("client.key"));

    pthread_t mt, rt;
    ASSERT_EQ(pthread_create(&rt, NULL, relay_main, &r), 0);
    ASSERT_EQ(pthread_create(&mt, NULL, manager_main, m), 0);
    usleep(200000); /* the Manager listens (the Worker retries meanwhile anyway) */
    gaggle_worker *gw = gaggle_worker_start(w);
    ASSERT_NOT_NULL(gw);
    ASSERT_EQ(gaggle_worker_join(gw), GOOSE_OK);
    void *mrc;
    pthread_join(mt, &mrc);
    ASSERT_EQ(*(int *)mrc, GOOSE_OK);
    pthread_join(rt, NULL);
    close(r.listen_fd);

    json_t *report = report_of(m);
    json_t *row = report_request(report, "GET", "/");
    ASSERT_NOT_NULL(row);
    ASSERT_EQ(jint(row, "success"), 6);
    ASSERT_EQ(jint(row, "fail"), 0);
    ASSERT_EQ(json_is_true(json_object_get(report, "accept_invalid_certs")), accept_invalid);
    /* the Manager's --http-version, and the Worker's own certificate */
    int h2 = strcmp(version, "1.1") != 0;
    const char *protocol = h2 ? "HTTP/2" : "HTTP/1.1";
    ASSERT_EQ(jint(json_object_get(row, "protocols"), protocol), 6);
    ASSERT_EQ(json_object_size(json_object_get(row, "protocols")), 1);
    ASSERT_EQ(jint(json_object_get(json_object_get(report, "totals"), "protocols"), protocol), 6);
    json_decref(report);
    if (h2)
        ASSERT_LOGGED(port_mtls, "HTTP/2.0", "SUCCESS", 6);
    else
        ASSERT_LOGGED(port_mtls, "HTTP/1.1", "SUCCESS", accept_invalid ? 12 : 6);
    ASSERT_NULL(w->opt.ca_file); /* the Worker had no CA file... */
    size_t len;
    char *pem = slurp(cert("ca1.pem"), &len);
    if (!accept_invalid) { /* ...but the Manager's contents */
        ASSERT_EQ(w->opt.ca_pem_len, len);
        ASSERT(memcmp(w->opt.ca_pem, pem, len) == 0);
    }
    ASSERT_EQ(holds(&r.to_worker, pem, len), !accept_invalid);
    ASSERT_EQ(!!strstr(warnings, "--accept-invalid-certs: certificates and host names"),
              accept_invalid);
    free(pem);
    char body[80];
    const char *secrets[] = {cert("client.pem"), cert("client.key"), "client.pem",
                             "client.key", NULL, NULL};
    pem_body(cert("client.pem"), body, sizeof body);
    secrets[4] = body;
    static char keybody[80];
    pem_body(cert("client.key"), keybody, sizeof keybody);
    secrets[5] = keybody;
    ASSERT(r.to_worker.len > 0 && r.to_manager.len > 0); /* the relay saw the Gaggle */
    for (size_t i = 0; i < 6; i++)
        if (holds(&r.to_worker, secrets[i], strlen(secrets[i])) ||
            holds(&r.to_manager, secrets[i], strlen(secrets[i])))
            TEST_FAIL("\"%s\" crossed the wire", secrets[i]);
    goose__buf_free(&r.to_worker);
    goose__buf_free(&r.to_manager);
    goose_attack_free(m);
    goose_attack_free(w);
}

TEST(gaggle_ships_the_ca_never_the_client_certificate)
{
    setup();
    make_certs();
    nginx_start();
    gaggle_run(0, "1.1");
    gaggle_run(1, "1.1");
    gaggle_run(0, "auto"); /* HTTP/2 through the Gaggle: counted as nginx saw it */
    nginx_stop();
    teardown();
}

/* ---- a Worker fed a hostile welcome ---- */

/* A welcome as the Manager sends it, with a CA field of the given msgpack
 * type ('s' str, 'b' bin, 'i' int, '-' none) and bytes. */
static void welcome_with(gaggle_out *o, char type, const char *ca, size_t ca_len,
                         const char *version)
{
    goose_shape users = {0}, none = {0};
    goose__shape_add(&users, 2, 0);
    goose__out_begin(o, "welcome", type == '-' ? 28 : 29);
    goose__out_u64(o, "worker", 0);
    goose__out_u64(o, "workers", 1);
    goose__out_u64(o, "users", 2);
    goose__out_f64(o, "hatch_rate", 2);
    goose__out_u64(o, "run_time_us", 1000000);
    goose__out_u64(o, "iterations", 0);
    goose__out_u64(o, "timeout_ms", 5000);
    goose__out_bool(o, "reset", 1);
    goose__out_bool(o, "sticky_follow", 0);
    goose__out_bool(o, "assets_cross_origin", 0);
    goose__out_bool(o, "no_cache", 0);
    goose__out_u64(o, "stop_timeout_us", 30000000);
    goose__out_str(o, "co_mitigation", "disabled");
    goose__out_str(o, "host", "https://127.0.0.1:1");
    goose__out_u64(o, "end_us", 0);
    goose__out_bool(o, "controller", 0);
    goose__out_f64(o, "throttle", 0);
    goose__out_bool(o, "accept_invalid_certs", 1);
    goose__out_str(o, "http_version", version);
    if (type != '-') {
        goose__out_key(o, "ca_pem");
        if (type == 's') {
            msgpack_pack_str(&o->pk, ca_len);
            msgpack_pack_str_body(&o->pk, ca, ca_len);
        } else if (type == 'b') {
            msgpack_pack_bin(&o->pk, ca_len);
            msgpack_pack_bin_body(&o->pk, ca, ca_len);
        } else {
            msgpack_pack_uint64(&o->pk, ca_len);
        }
    }
    goose__out_key(o, "shape");
    goose__pack_shape(&o->pk, &users);
    goose__out_key(o, "arrivals");
    goose__pack_shape(&o->pk, &none);
    goose__out_str(o, "select", "");
    goose__out_u64(o, "seed", 1);
    goose__out_str(o, "scheduler", "serial");
    goose__out_key(o, "resolve");
    msgpack_pack_array(&o->pk, 0);
    goose__out_key(o, "slots");
    msgpack_pack_array(&o->pk, 2);
    msgpack_pack_uint64(&o->pk, 0);
    msgpack_pack_uint64(&o->pk, 1);
    goose__out_key(o, "scenarios");
    msgpack_pack_array(&o->pk, 2);
    msgpack_pack_uint64(&o->pk, 0);
    msgpack_pack_uint64(&o->pk, 0);
    goose__out_key(o, "data"); /* no data sets */
    msgpack_pack_array(&o->pk, 0);
    goose__shape_free(&users);
}

/* 0 when a Worker takes the welcome; what it took stays in *o. */
static int read_welcome(char type, const char *ca, size_t ca_len, const char *version,
                        goose_options *o)
{
    gaggle_out out;
    msgpack_unpacked u;
    char kind[32];
    gaggle_welcome w;
    welcome_with(&out, type, ca, ca_len, version);
    goose__out_finish(&out);
    msgpack_unpacked_init(&u);
    ASSERT_EQ(goose__frame_decode((unsigned char *)out.sb.data + 4, out.sb.size - 4, &u, kind,
                                  sizeof kind), 0);
    int rc = goose__welcome_read(&u.data, 1, &w, o);
    goose__welcome_free(&w);
    msgpack_unpacked_destroy(&u);
    goose__out_free(&out);
    return rc;
}

TEST(worker_refuses_a_hostile_ca_field)
{
    setup();
    make_certs();
    size_t len;
    char *pem = slurp(cert("ca1.pem"), &len);
    goose_options o;
    goose__options_init(&o);
    ASSERT_EQ(read_welcome('s', pem, len, "2", &o), 0);
    ASSERT_EQ(o.ca_pem_len, len);
    ASSERT(memcmp(o.ca_pem, pem, len) == 0);
    ASSERT_EQ(o.accept_invalid_certs, 1);
    ASSERT_EQ(o.http_version, GOOSE_HTTP_2);
    ASSERT_EQ(o.set_mask[0] | o.set_mask[1], 0); /* nothing the Manager sent counts as given here */
    ASSERT_EQ(read_welcome('s', "", 0, "auto", &o), 0); /* none: the system's store */
    ASSERT_NULL(o.ca_pem);
    ASSERT_EQ(o.ca_pem_len, 0);
    /* over 1 MiB: refused, however valid */
    size_t big = GOOSE_CA_FILE_MAX + 1;
    char *huge = malloc(big);
    ASSERT_NOT_NULL(huge);
    for (size_t i = 0; i < big; i++)
        huge[i] = pem[i % len];
    ASSERT_EQ(read_welcome('s', huge, big, "auto", &o), -1);
    ASSERT_EQ(read_welcome('s', "garbage", 7, "auto", &o), -1);
    const char broken[] = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
    ASSERT_EQ(read_welcome('s', broken, sizeof broken - 1, "auto", &o), -1);
    ASSERT_EQ(read_welcome('b', pem, len, "auto", &o), -1); /* another type */
    ASSERT_EQ(read_welcome('i', pem, len, "auto", &o), -1);
    ASSERT_EQ(read_welcome('-', pem, len, "auto", &o), -1); /* a Manager of protocol 5 */
    ASSERT_EQ(read_welcome('s', pem, len, "3", &o), -1);
    ASSERT_EQ(read_welcome('s', pem, len, "", &o), -1);
    goose__options_free(&o);
    free(huge);
    free(pem);
    teardown();
}

TEST_MAIN(TEST_ENTRY(options_values_and_environment),
          TEST_ENTRY(bad_files_refused_before_anything_starts),
          TEST_ENTRY(sides_of_the_gaggle), TEST_ENTRY(ca_file_and_accept_invalid_certs),
          TEST_ENTRY(reports_say_certificates_were_not_checked), TEST_ENTRY(http_versions),
          TEST_ENTRY(client_certificates),
          TEST_ENTRY(gaggle_ships_the_ca_never_the_client_certificate),
          TEST_ENTRY(worker_refuses_a_hostile_ca_field))
