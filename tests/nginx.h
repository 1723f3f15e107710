/* Debian's nginx with TLS on 127.0.0.1 for the HTTPS tests: the servers
 * of tests/tls/nginx.conf (each on a free port), certificates made fresh
 * by tests/tls/make-certs.sh, goose-target behind /echo, and nginx's
 * access log read back line by line.  Run from the source tree. */
#ifndef GOOSE_TEST_NGINX_H
#define GOOSE_TEST_NGINX_H

#include "e2e.h"

#include <errno.h>
#include <sys/stat.h>
#include <time.h>

enum nginx_server {
    NG_OK,        /* keep-alive */
    NG_ONCE,      /* keepalive_requests 1 */
    NG_IDLE,      /* keepalive_timeout 100ms */
    NG_TLS12,     /* TLS 1.2 only, keepalive_requests 1 */
    NG_EXPIRED,   /* certificates: expired, */
    NG_WRONG,     /*   for another name, */
    NG_UNTRUSTED, /*   of a CA nobody trusts */
    NG_CLIENT,    /* asks for a client certificate of client-ca.pem */
    NG_SERVERS
};

static const char *const nginx_keys[NG_SERVERS] = {
    "@OK@", "@ONCE@", "@IDLE@", "@TLS12@", "@EXPIRED@", "@WRONG@", "@UNTRUSTED@", "@CLIENT@",
};

typedef struct nginx {
    pid_t pid;
    char dir[64];       /* scratch: nginx.conf, logs, certs/ */
    char certs[96];
    char log[96];
    int port[NG_SERVERS];
    target upstream;    /* goose-target, behind /echo */
} nginx;

/* One line of the access log (tests/tls/nginx.conf's format "tls"). */
typedef struct nginx_entry {
    int port;
    char method[16];
    char uri[128];
    int status;
    char reused;        /* 'r': the TLS session was resumed, '.': not */
    char ssl[16];       /* TLSv1.3 */
    char proto[16];     /* HTTP/1.1, HTTP/2.0 */
    long len;           /* of the request, head and body */
    long conn;          /* nginx's connection serial number */
    long conn_req;      /* the request's number on its connection */
    char verify[32];    /* of the client certificate: SUCCESS, NONE, ... */
    char user[32];      /* X-User, "-" when absent */
    char cookie[128];   /* Cookie, "-" when absent */
} nginx_entry;

static inline int nginx_have(void)
{
    return system("command -v nginx >/dev/null 2>&1 || test -x /usr/sbin/nginx") == 0;
}

/* text with every key replaced by its value, to free */
static inline char *nginx_fill(const char *text, const char *const *keys,
                               const char *const *values, size_t n)
{
    size_t cap = strlen(text) * 2 + 4096, len = 0;
    char *out = malloc(cap);
    ASSERT_NOT_NULL(out);
    for (const char *p = text; *p;) {
        size_t k = 0;
        while (k < n && strncmp(p, keys[k], strlen(keys[k])) != 0)
            k++;
        const char *add = k < n ? values[k] : p;
        size_t add_len = k < n ? strlen(values[k]) : 1;
        ASSERT_LT(len + add_len, cap);
        memcpy(out + len, add, add_len);
        len += add_len;
        p += k < n ? strlen(keys[k]) : 1;
    }
    out[len] = '\0';
    return out;
}

static inline char *nginx_read_file(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    char *text = calloc(1, 1 << 16);
    ASSERT_NOT_NULL(text);
    size_t n = fread(text, 1, (1 << 16) - 1, f);
    text[n] = '\0';
    fclose(f);
    return text;
}

static inline int nginx_accepts(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int ok = connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
    close(fd);
    return ok;
}

static inline void nginx_write_conf(nginx *n)
{
    char src[512], target_port[16], ports[NG_SERVERS][16], path[160];
    ASSERT_NOT_NULL(getcwd(src, sizeof src));
    snprintf(target_port, sizeof target_port, "%d", n->upstream.port);
    const char *keys[NG_SERVERS + 3] = {"@DIR@", "@SRC@", "@TARGET@"};
    const char *values[NG_SERVERS + 3] = {n->dir, src, target_port};
    for (int i = 0; i < NG_SERVERS; i++) {
        int dup;
        do { /* the kernel may hand out a port it just freed again */
            n->port[i] = free_port();
            dup = n->port[i] == n->upstream.port;
            for (int k = 0; k < i; k++)
                dup |= n->port[k] == n->port[i];
        } while (dup);
        snprintf(ports[i], sizeof ports[i], "%d", n->port[i]);
        keys[3 + i] = nginx_keys[i];
        values[3 + i] = ports[i];
    }
    char *tmpl = nginx_read_file("tests/tls/nginx.conf");
    if (!tmpl)
        TEST_FAIL("tests/tls/nginx.conf not found: run from the source tree");
    char *conf = nginx_fill(tmpl, keys, values, NG_SERVERS + 3);
    snprintf(path, sizeof path, "%s/nginx.conf", n->dir);
    FILE *f = fopen(path, "w");
    ASSERT_NOT_NULL(f);
    fputs(conf, f);
    fclose(f);
    free(tmpl);
    free(conf);
}

/* The certificates, goose-target and nginx; skips the test when nginx
 * or openssl is not installed (tools/deps.sh group test has them). */
static inline void nginx_start(nginx *n)
{
    char cmd[256], path[160];
    memset(n, 0, sizeof *n);
    if (!nginx_have())
        TEST_SKIP("nginx is not installed (tools/deps.sh test)");
    if (system("command -v openssl >/dev/null 2>&1") != 0)
        TEST_SKIP("the openssl command is not installed (tools/deps.sh test)");
    snprintf(n->dir, sizeof n->dir, "/tmp/goose-nginx-XXXXXX");
    ASSERT_NOT_NULL(mkdtemp(n->dir));
    chmod(n->dir, 0755); /* nginx's workers may run as another user */
    snprintf(path, sizeof path, "%s/tmp", n->dir);
    ASSERT_EQ(mkdir(path, 0777), 0);
    chmod(path, 0777);
    snprintf(n->certs, sizeof n->certs, "%s/certs", n->dir);
    snprintf(n->log, sizeof n->log, "%s/access.log", n->dir);
    snprintf(cmd, sizeof cmd, "sh tests/tls/make-certs.sh %s", n->certs);
    if (system(cmd) != 0)
        TEST_FAIL("tests/tls/make-certs.sh failed");
    target_start(&n->upstream);
    nginx_write_conf(n);
    char conf[160], errlog[160], prefix[80];
    snprintf(prefix, sizeof prefix, "%s/", n->dir);
    snprintf(conf, sizeof conf, "%s/nginx.conf", n->dir);
    snprintf(errlog, sizeof errlog, "%s/error.log", n->dir);
    fflush(NULL);
    n->pid = fork();
    ASSERT(n->pid >= 0);
    if (n->pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGTERM); /* a failed test leaves no server */
        if (!freopen("/dev/null", "w", stdout))
            _exit(127);
        execlp("nginx", "nginx", "-p", prefix, "-e", errlog, "-c", conf, "-g", "daemon off;",
               (char *)NULL);
        execl("/usr/sbin/nginx", "nginx", "-p", prefix, "-e", errlog, "-c", conf, "-g",
              "daemon off;", (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 250; i++) {
        int up = 0;
        for (int s = 0; s < NG_SERVERS; s++)
            up += nginx_accepts(n->port[s]);
        if (up == NG_SERVERS)
            return;
        if (waitpid(n->pid, NULL, WNOHANG) == n->pid) {
            n->pid = 0;
            char *e = nginx_read_file(errlog);
            TEST_FAIL("nginx did not start: %s", e ? e : "(no error.log)");
        }
        usleep(20000);
    }
    TEST_FAIL("nginx did not listen within 5 s");
}

static inline void nginx_stop(nginx *n)
{
    char cmd[128];
    if (n->pid > 0) {
        kill(n->pid, SIGTERM);
        waitpid(n->pid, NULL, 0);
        n->pid = 0;
    }
    target_stop(&n->upstream);
    if (n->dir[0]) {
        snprintf(cmd, sizeof cmd, "rm -rf %s", n->dir);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", n->dir);
    }
}

/* "https://127.0.0.1:PORT" of a server */
static inline const char *nginx_url(const nginx *n, int server)
{
    static char url[NG_SERVERS][48];
    snprintf(url[server], sizeof url[server], "https://127.0.0.1:%d", n->port[server]);
    return url[server];
}

/* The access log's lines, at least `want` of them when they come within
 * 2 s (nginx writes a line just after its answer went out); *count says
 * how many.  To free. */
static inline nginx_entry *nginx_log(const nginx *n, size_t want, size_t *count)
{
    nginx_entry *all = NULL;
    size_t len = 0;
    for (int tries = 0; tries < 100; tries++) {
        FILE *f = fopen(n->log, "r");
        char line[1024];
        len = 0;
        while (f && fgets(line, sizeof line, f)) {
            nginx_entry e = {0};
            if (sscanf(line, "%d %15s %127s %d %c %15s %15s %ld %ld %ld %31s u=%31s c=%127[^\n]",
                       &e.port, e.method, e.uri, &e.status, &e.reused, e.ssl, e.proto, &e.len,
                       &e.conn, &e.conn_req, e.verify, e.user, e.cookie) != 13)
                TEST_FAIL("unexpected access log line: %s", line);
            nginx_entry *grown = realloc(all, (len + 1) * sizeof *all);
            ASSERT_NOT_NULL(grown);
            all = grown;
            all[len++] = e;
        }
        if (f)
            fclose(f);
        if (len >= want)
            break;
        usleep(20000);
    }
    *count = len;
    return all;
}

/* Lines of one server (port), method and uri (NULL: any). */
static inline long nginx_count(const nginx_entry *e, size_t n, int port, const char *method,
                               const char *uri)
{
    long k = 0;
    for (size_t i = 0; i < n; i++)
        k += (!port || e[i].port == port) && (!method || !strcmp(e[i].method, method)) &&
             (!uri || !strcmp(e[i].uri, uri));
    return k;
}

/* Distinct connections among a server's lines. */
static inline long nginx_conns(const nginx_entry *e, size_t n, int port)
{
    long k = 0;
    for (size_t i = 0; i < n; i++) {
        if (port && e[i].port != port)
            continue;
        int seen = 0;
        for (size_t j = 0; j < i && !seen; j++)
            seen = (!port || e[j].port == port) && e[j].conn == e[i].conn;
        k += !seen;
    }
    return k;
}

#endif
