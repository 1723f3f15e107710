/*
 * lineproto.c - load on a line protocol over a raw TCP socket: no HTTP.
 *
 *   cc lineproto.c $(pkg-config --cflags --libs libgoose) -o lineproto
 *   LINEPROTO_SERVER=127.0.0.1:7171 ./lineproto -u 10 -r 10 -t 30s
 *
 * The server answers "PING" with "PONG" and "ECHO x" with "x" (the tests
 * run one: tests/test-anyproto.c).  Each user connects in on_start, then
 * its loop sends PING and ECHO, each line counted with goose_record as
 * one request ("LINE PING", "LINE ECHO") in every report.  Its socket is
 * non-blocking: the user waits in goose_wait_fd, never the thread.  When
 * the test stops, goose_wait_fd returns GOOSE_ESTOPPING at once: a line
 * the server may have seen is counted as failed, and on_stop closes the
 * socket (the free function of goose_user_set_data closes it too, should
 * the user be abandoned at --stop-timeout).
 */
#include <goose.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define TIMEOUT_MS 5000 /* for a connect, or a line's answer */
#define STOPPED "the test stopped before the answer"

typedef struct conn {
    int fd;
    char in[512]; /* what came and is not yet a whole line */
    size_t len;
} conn;

static struct sockaddr_in server;

static void conn_free(void *p)
{
    conn *c = p;
    if (c->fd >= 0)
        close(c->fd);
    free(c);
}

static void conn_close(conn *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    c->len = 0;
}

/* Connects without blocking; counted as "TCP connect".  GOOSE_OK, 1 when
 * it failed, or GOOSE_ESTOPPING. */
static int conn_open(goose_user *u, conn *c)
{
    int64_t start = goose_now_us();
    const char *err = NULL;
    c->len = 0;
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0)
        return goose_transaction_fail(u, strerror(errno)), 1;
    if (connect(c->fd, (struct sockaddr *)&server, sizeof server) < 0) {
        int rc = errno == EINPROGRESS ? goose_wait_fd(u, c->fd, GOOSE_WRITE, TIMEOUT_MS)
                                      : -errno;
        int so = 0;
        socklen_t len = sizeof so;
        if (rc == GOOSE_ESTOPPING) {
            conn_close(c);
            return rc;
        }
        if (rc == 0)
            err = "connect: timed out";
        else if (rc < 0)
            err = "connect: refused";
        else if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &so, &len) < 0 || so)
            err = so ? strerror(so) : "connect: getsockopt failed";
    }
    goose_record(u, "TCP", "connect", start, goose_now_us(), err);
    if (err)
        conn_close(c);
    return err ? 1 : GOOSE_OK;
}

/* Sends all of line; waits while the socket is full.  NULL, or why not
 * (*stopped when the test stops). */
static const char *send_line(goose_user *u, conn *c, const char *line, int *stopped)
{
    for (size_t off = 0, n = strlen(line); off < n;) {
        ssize_t k = send(c->fd, line + off, n - off, MSG_NOSIGNAL);
        if (k > 0) {
            off += (size_t)k;
            continue;
        }
        if (k < 0 && errno != EAGAIN && errno != EINTR)
            return "send failed";
        int rc = goose_wait_fd(u, c->fd, GOOSE_WRITE, TIMEOUT_MS);
        if (rc == GOOSE_ESTOPPING)
            return *stopped = 1, STOPPED;
        if (rc <= 0)
            return rc == 0 ? "send: timed out" : "send: cannot wait";
    }
    return NULL;
}

/* Reads one line (its '\n' cut) into out.  NULL, or why not. */
static const char *read_line(goose_user *u, conn *c, char *out, size_t size, int *stopped)
{
    for (;;) {
        char *nl = memchr(c->in, '\n', c->len);
        if (nl) {
            size_t n = (size_t)(nl - c->in);
            snprintf(out, size, "%.*s", (int)n, c->in);
            c->len -= n + 1;
            memmove(c->in, nl + 1, c->len);
            return NULL;
        }
        if (c->len == sizeof c->in)
            return "answer line too long";
        ssize_t k = recv(c->fd, c->in + c->len, sizeof c->in - c->len, 0);
        if (k > 0) {
            c->len += (size_t)k;
            continue;
        }
        if (k == 0)
            return "connection closed by the server";
        if (errno != EAGAIN && errno != EINTR)
            return "recv failed";
        int rc = goose_wait_fd(u, c->fd, GOOSE_READ, TIMEOUT_MS);
        if (rc == GOOSE_ESTOPPING)
            return *stopped = 1, STOPPED;
        if (rc <= 0)
            return rc == 0 ? "no answer in time" : "recv: cannot wait";
    }
}

/* One command and its answer, counted as "LINE name". */
static int exchange(goose_user *u, const char *name, const char *line, const char *want)
{
    conn *c = goose_user_data(u);
    int rc = c->fd < 0 ? conn_open(u, c) : GOOSE_OK; /* after an error: anew */
    if (rc != GOOSE_OK)
        return rc;
    int stopped = 0;
    char answer[256];
    int64_t start = goose_now_us();
    const char *err = send_line(u, c, line, &stopped);
    if (!err)
        err = read_line(u, c, answer, sizeof answer, &stopped);
    if (!err && strcmp(answer, want) != 0)
        err = "unexpected answer";
    goose_record(u, "LINE", name, start, goose_now_us(), err);
    if (err) /* whatever comes later belongs to this line: start over */
        conn_close(c);
    return stopped ? GOOSE_ESTOPPING : err ? 1 : GOOSE_OK;
}

static int on_start(goose_user *u)
{
    conn *c = calloc(1, sizeof *c);
    if (!c)
        return 1;
    c->fd = -1;
    goose_user_set_data(u, c, conn_free); /* closes the socket when the user ends */
    return conn_open(u, c);
}

static int ping(goose_user *u)
{
    return exchange(u, "PING", "PING\n", "PONG");
}

static int echo(goose_user *u)
{
    char line[80], want[64];
    snprintf(want, sizeof want, "hello %u", goose_user_index(u));
    snprintf(line, sizeof line, "ECHO %s\n", want);
    return exchange(u, "ECHO", line, want);
}

static int on_stop(goose_user *u)
{
    conn *c = goose_user_data(u);
    if (c)
        conn_close(c);
    return GOOSE_OK;
}

/* LINEPROTO_SERVER=ADDR:PORT, a loopback IPv4 address (default
 * 127.0.0.1:7171). */
static int server_from_env(void)
{
    const char *env = getenv("LINEPROTO_SERVER");
    char host[64];
    unsigned port = 7171;
    if (!env || !*env)
        env = "127.0.0.1:7171";
    const char *colon = strrchr(env, ':');
    if (!colon || (size_t)(colon - env) >= sizeof host || sscanf(colon + 1, "%u", &port) != 1 ||
        port == 0 || port > 65535)
        return -1;
    snprintf(host, sizeof host, "%.*s", (int)(colon - env), env);
    server.sin_family = AF_INET;
    server.sin_port = htons((unsigned short)port);
    if (inet_pton(AF_INET, host, &server.sin_addr) != 1)
        return -1;
    return (ntohl(server.sin_addr.s_addr) >> 24) == 127 ? 0 : -1; /* loopback only */
}

int main(int argc, char **argv)
{
    if (server_from_env() < 0) {
        fprintf(stderr, "lineproto: LINEPROTO_SERVER must be 127.x.x.x:PORT\n");
        return 2;
    }
    goose_attack *attack = goose_attack_new();
    goose_scenario *s = goose_scenario_new("LineUser");
    goose_scenario_set_host(s, "http://127.0.0.1"); /* no HTTP here; a scenario needs one */
    goose_transaction_set_on_start(goose_scenario_add_transaction(s, "connect", on_start));
    goose_transaction_set_weight(goose_scenario_add_transaction(s, "ping", ping), 2);
    goose_scenario_add_transaction(s, "echo", echo);
    goose_transaction_set_on_stop(goose_scenario_add_transaction(s, "close", on_stop));
    goose_attack_add_scenario(attack, s);
    int status = goose_main(attack, argc, argv);
    goose_attack_free(attack);
    return status;
}
