/* One user's HTTP/1.1 connection: connect (to each known address in
 * turn), the TLS handshake for https (tls.h; resuming the session this
 * connection kept), write the request, read the response, keep the
 * connection for the next request.  The read event stays registered for the
 * connection's life, so a request costs one send and one recv, and an
 * idle connection the server closes is noticed and dropped at once.  A
 * request on a reused connection that dies before any byte of the answer
 * may go again once on a new connection (may_retry says when). */
#include "http/h1.h"

#include "http/h2.h"
#include "http/tls.h"
#include "util/clock.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/uio.h>
#include <unistd.h>

#define READ_CHUNK 16384

struct goose_h1 {
    struct event_base *base;
    const goose_http_setup *setup;
    unsigned index;             /* the user's: picks its local address */
    goose_transport_done_fn done;
    void *arg;
    goose_h1_origin origin;
    int aimed;
    int fd;                     /* -1: no connection */
    unsigned addr_at;           /* the origin address being tried */
    int connecting;
    int reused;                 /* the connection carried a request before */
    int retried;
    int idempotent;             /* the request may be sent twice */
    int close_after;            /* the request asked for Connection: close */
    int busy;                   /* a request is under way */
    int in_send;                /* inside goose__h1_send: report, don't call */
    goose_terr sync_result;
    struct event *rev, *wev, *timer;
    long timeout_ms;            /* of the request under way; 0: none */
    goose_buf head;             /* the request head, kept for a retry */
    const char *body;
    size_t body_len;
    size_t sent;                /* of head + body */
    goose_http_capture *capture;
    goose_h1_parser parser;
    goose_tls *tls;             /* https: the connection's TLS, or NULL */
    goose_tls_session *session; /* the last one the origin gave this slot */
    int handshaking;
    const goose_http_request *req; /* under way (for a hand-over to h2) */
    uint64_t sent_us;           /* when it began */
    goose_http_request handed;  /* req as handed over, with sent_us: its time
                                   limit runs on (valid while h2 may retry it) */
    goose_h2 *h2;               /* ALPN chose h2: this client carries the slot's requests */
};

static void on_read(evutil_socket_t fd, short what, void *arg);
static void on_write(evutil_socket_t fd, short what, void *arg);
static void on_timeout(evutil_socket_t fd, short what, void *arg);

goose_h1 *goose__h1_new(struct event_base *base, const goose_http_setup *setup,
                        unsigned index, goose_transport_done_fn done, void *arg)
{
    goose_h1 *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->base = base;
    c->setup = setup;
    c->index = index;
    c->done = done;
    c->arg = arg;
    c->fd = -1;
    goose__buf_init(&c->head);
    c->rev = event_new(base, -1, 0, on_read, c);
    c->wev = event_new(base, -1, 0, on_write, c);
    c->timer = evtimer_new(base, on_timeout, c); /* a request may have a limit of its own */
    if (!c->rev || !c->wev || !c->timer) {
        goose__h1_free(c);
        return NULL;
    }
    return c;
}

static void close_connection(goose_h1 *c)
{
    if (c->fd < 0)
        return;
    event_del(c->rev);
    event_del(c->wev);
    goose__tls_free(c->tls);
    c->tls = NULL;
    c->handshaking = 0;
    close(c->fd);
    c->fd = -1;
    c->connecting = 0;
    c->reused = 0;
}

void goose__h1_free(goose_h1 *c)
{
    if (!c)
        return;
    close_connection(c);
    if (c->rev)
        event_free(c->rev);
    if (c->wev)
        event_free(c->wev);
    if (c->timer)
        event_free(c->timer);
    goose__buf_free(&c->head);
    goose__h2_free(c->h2); /* first: it may keep its session in c->session */
    goose__tls_session_free(c->session);
    free(c);
}

int goose__h1_serves(const goose_h1 *c, const goose_url_parts *url)
{
    return c->aimed && url->secure == c->origin.secure &&
           url->authority_len < sizeof c->origin.authority &&
           memcmp(c->origin.authority, url->authority, url->authority_len) == 0 &&
           c->origin.authority[url->authority_len] == '\0';
}

int goose__h1_busy(const goose_h1 *c)
{
    return c->busy;
}

int goose__h1_free_for(const goose_h1 *c, const goose_url_parts *url)
{
    return !c->busy && goose__h1_serves(c, url);
}

/* A session is resumed only with the origin that gave it. */
void goose__h1_aim(goose_h1 *c, const goose_h1_origin *origin)
{
    close_connection(c);
    goose__h2_free(c->h2);
    c->h2 = NULL;
    goose__tls_session_free(c->session);
    c->session = NULL;
    c->origin = *origin;
    c->aimed = 1;
}

/* The request ended.  Calling done() is the last thing done here: it
 * resumes the user, which may send again or free this connection. */
static void finish(goose_h1 *c, goose_terr result)
{
    c->busy = 0;
    if (c->timer)
        evtimer_del(c->timer);
    if (result != GOOSE_TE_OK)
        close_connection(c);
    else
        c->capture->status = c->parser.status;
    if (c->in_send) {
        c->sync_result = result;
        return;
    }
    c->done(c->arg, c->capture, result, goose__now_us());
}

static void fail(goose_h1 *c, goose_terr result, const char *why)
{
    snprintf(c->capture->errbuf, sizeof c->capture->errbuf, "%s", why);
    finish(c, result);
}

static void write_request(goose_h1 *c);
static void start_connect(goose_h1 *c);

/* An event still armed is left alone: assigning it again would put it
 * twice in libevent's list for the fd (a TLS write that blocked, then a
 * read event that wrote again), and the loop would spin. */
static int watch_writable(goose_h1 *c)
{
    if (event_pending(c->wev, EV_WRITE, NULL))
        return 0;
    event_assign(c->wev, c->base, c->fd, EV_WRITE, on_write, c);
    if (event_add(c->wev, NULL) == 0)
        return 0;
    fail(c, GOOSE_TE_NOMEM, "could not watch the connection");
    return -1;
}

/* ALPN chose h2 (--http-version auto offers it): the connection, TLS and
 * all, goes to an HTTP/2 client of this slot (h2.c), and the request
 * under way with it; the slot's requests go there from now on
 * (goose__h1_h2).  That client reports the request. */
static void hand_over(goose_h1 *c)
{
    if (!c->h2 && !(c->h2 = goose__h2_new(c->base, c->setup, c->index, c->done, c->arg))) {
        fail(c, GOOSE_TE_NOMEM, "Out of memory");
        return;
    }
    goose__h2_aim(c->h2, &c->origin);
    goose__h2_session_slot(c->h2, &c->session);
    event_del(c->rev);
    event_del(c->wev);
    if (goose__h2_adopt(c->h2, c->fd, c->tls) < 0) {
        fail(c, GOOSE_TE_NOMEM, "Out of memory");
        return;
    }
    c->fd = -1;
    c->tls = NULL;
    c->handshaking = c->connecting = c->reused = 0;
    c->busy = 0;
    if (c->timer)
        evtimer_del(c->timer);
    c->handed = *c->req; /* its time limit counts the connect and handshake */
    c->handed.started_us = c->sent_us;
    goose_terr rc = goose__h2_send(c->h2, &c->handed, c->capture);
    if (rc == GOOSE_TE_AGAIN)
        return;
    if (c->in_send)
        c->sync_result = rc;
    else
        c->done(c->arg, c->capture, rc, goose__now_us());
}

goose_h2 *goose__h1_h2(const goose_h1 *c)
{
    return c->h2;
}

/* One step of the handshake; the persistent read event or a write event
 * brings the next.  The words of a failure are in the capture already. */
static void handshake(goose_h1 *c)
{
    goose_terr code = GOOSE_TE_TLS;
    switch (goose__tls_handshake(c->tls, c->capture, &code)) {
    case GOOSE_TLS_OK:
        c->handshaking = 0;
        if (goose__tls_is_h2(c->tls))
            hand_over(c);
        else
            write_request(c);
        break;
    case GOOSE_TLS_WANT_READ:
        break;
    case GOOSE_TLS_WANT_WRITE:
        watch_writable(c);
        break;
    default:
        finish(c, code);
        break;
    }
}

static void start_tls(goose_h1 *c)
{
    /* auto offers h2 too, as browsers do */
    c->tls = goose__tls_new(c->setup->tls_ctx, c->fd, c->origin.tls_host,
                            c->setup->version == GOOSE_HTTP_AUTO ? GOOSE_HTTP_AUTO
                                                                 : GOOSE_HTTP_1_1,
                            &c->session);
    if (!c->tls) {
        fail(c, GOOSE_TE_NOMEM, "Out of memory");
        return;
    }
    c->handshaking = 1;
    handshake(c);
}

static void connected(goose_h1 *c)
{
    c->connecting = 0;
    event_assign(c->rev, c->base, c->fd, EV_READ | EV_PERSIST, on_read, c);
    if (event_add(c->rev, NULL) < 0) {
        fail(c, GOOSE_TE_NOMEM, "could not watch the connection");
        return;
    }
    if (c->origin.secure)
        start_tls(c);
    else
        write_request(c);
}

static void connect_failed(goose_h1 *c, int err)
{
    close_connection(c);
    if (++c->addr_at < c->origin.naddrs) {
        start_connect(c);
        return;
    }
    goose__http_connect_error(c->capture, c->origin.authority, strlen(c->origin.authority), err);
    finish(c, GOOSE_TE_CONNECT);
}

static void start_connect(goose_h1 *c)
{
    int rc = goose__dial(c->setup, c->index, &c->origin, c->addr_at, &c->fd);
    if (rc == 0) {
        connected(c);
    } else if (rc == EINPROGRESS) {
        c->connecting = 1;
        event_assign(c->wev, c->base, c->fd, EV_WRITE, on_write, c);
        if (event_add(c->wev, NULL) < 0)
            connect_failed(c, ENOMEM);
    } else {
        connect_failed(c, rc);
    }
}

/* A reused connection died before the answer began, most likely closed
 * by the server while idle: the request goes again on a new connection,
 * once -- when it is idempotent (RFC 9110, 9.2.2); when not one byte of
 * it went out (Go's net/http draws the same line); or when the server
 * reset the connection and the request was small enough to have been
 * read whole at once: a reset means the server closed with bytes unread,
 * so it read none of it.  A bigger request may have been read in part
 * (an early 413, say) and is not sent twice.  Before a request that may
 * not go twice, still_open() asks whether the server closed already. */
#define READ_AT_ONCE 16384

static int may_retry(const goose_h1 *c, int reset)
{
    return c->reused && !c->retried && c->parser.received == 0 &&
           (c->idempotent || c->sent == 0 ||
            (reset && c->head.len + c->body_len <= READ_AT_ONCE));
}

static int is_idempotent(const char *method)
{
    static const char *const safe[] = {"GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"};
    for (size_t i = 0; i < sizeof safe / sizeof safe[0]; i++)
        if (strcmp(method, safe[i]) == 0)
            return 1;
    return 0;
}

static void retry(goose_h1 *c)
{
    close_connection(c);
    c->capture->errbuf[0] = '\0'; /* TLS may have said why it ended */
    c->retried = 1;
    c->sent = 0;
    c->addr_at = 0;
    start_connect(c);
}

/* A send or a recv failed (curl's words: "Send failure: ..."). */
static void io_failed(goose_h1 *c, int err, int sending)
{
    if (may_retry(c, err == ECONNRESET || err == EPIPE)) {
        retry(c);
        return;
    }
    char why[96];
    snprintf(why, sizeof why, "%s failure: %s", sending ? "Send" : "Recv", strerror(err));
    fail(c, sending ? GOOSE_TE_SEND : GOOSE_TE_RECV, why);
}

/* A TLS read or write failed: its words are in the capture. */
static void tls_failed(goose_h1 *c, goose_terr code)
{
    if (may_retry(c, 0))
        retry(c);
    else
        finish(c, code);
}

/* The request through TLS (a small body went into the head: one record).
 * When TLS wants to read first, the read event writes the rest. */
static void tls_write_request(goose_h1 *c)
{
    size_t total = c->head.len + c->body_len;
    while (c->sent < total) {
        const char *p = c->sent < c->head.len ? c->head.data + c->sent
                                              : c->body + (c->sent - c->head.len);
        size_t len = c->sent < c->head.len ? c->head.len - c->sent : total - c->sent, n = 0;
        switch (goose__tls_write(c->tls, p, len, &n, c->capture)) {
        case GOOSE_TLS_OK:
            c->sent += n;
            break;
        case GOOSE_TLS_WANT_WRITE:
            watch_writable(c);
            return;
        case GOOSE_TLS_WANT_READ:
            return;
        case GOOSE_TLS_CLOSED:
            io_failed(c, EPIPE, 1);
            return;
        default:
            tls_failed(c, GOOSE_TE_SEND);
            return;
        }
    }
}

/* Sends what is left of head + body; waits for writability when the
 * socket is full. */
static void write_request(goose_h1 *c)
{
    if (c->tls) {
        tls_write_request(c);
        return;
    }
    size_t total = c->head.len + c->body_len;
    while (c->sent < total) {
        struct iovec iov[2];
        int n = 0;
        if (c->sent < c->head.len)
            iov[n++] = (struct iovec){c->head.data + c->sent, c->head.len - c->sent};
        size_t body_at = c->sent > c->head.len ? c->sent - c->head.len : 0;
        if (c->body_len > body_at)
            iov[n++] = (struct iovec){(void *)(c->body + body_at), c->body_len - body_at};
        struct msghdr msg = {.msg_iov = iov, .msg_iovlen = (size_t)n};
        ssize_t w = sendmsg(c->fd, &msg, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && errno == EAGAIN) {
            watch_writable(c);
            return;
        }
        if (w < 0) {
            io_failed(c, errno, 1);
            return;
        }
        c->sent += (size_t)w;
    }
}

static void tls_readable(goose_h1 *c);

static void on_write(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    goose_h1 *c = arg;
    if (c->handshaking) {
        handshake(c);
        return;
    }
    if (!c->connecting) {
        if (c->tls && c->sent == c->head.len + c->body_len)
            tls_readable(c); /* a read that wanted to write */
        else
            write_request(c);
        return;
    }
    int err = goose__dial_result(fd);
    if (err)
        connect_failed(c, err);
    else
        connected(c);
}

/* extra_bytes: the server said more than the answer; an answer before
 * the whole request went out (an early 413, say) ends the connection too. */
static void response_done(goose_h1 *c, int extra_bytes)
{
    if (!c->parser.keep_alive || c->close_after || extra_bytes ||
        c->sent < c->head.len + c->body_len)
        close_connection(c);
    else
        c->reused = 1;
    finish(c, GOOSE_TE_OK);
}

/* 1 while the response goes on: 0 once it ended (done() may have
 * freed c). */
static int got_bytes(goose_h1 *c, const char *data, size_t len)
{
    size_t used = goose__h1_parse(&c->parser, c->capture, data, len);
    if (c->parser.state == GOOSE_H1_ERROR)
        fail(c, c->parser.code, c->parser.error);
    else if (c->parser.state == GOOSE_H1_DONE)
        response_done(c, used < len || (c->tls && goose__tls_pending(c->tls)));
    else
        return 1;
    return 0;
}

/* After the server's FIN, a reset says it closed before our request came:
 * its kernel answered the request with a RST (which Linux reports as
 * EPIPE once the FIN is in).  A server that read the request and then
 * closed sends none. */
static int reset_after_close(const goose_h1 *c)
{
    int err = 0;
    socklen_t len = sizeof err;
    return getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 &&
           (err == EPIPE || err == ECONNRESET);
}

static void got_eof(goose_h1 *c, int reset)
{
    if (!reset && !c->idempotent && c->reused)
        reset = reset_after_close(c);
    if (may_retry(c, reset)) {
        retry(c);
        return;
    }
    close_connection(c);
    if (goose__h1_parse_eof(&c->parser) == GOOSE_H1_DONE)
        finish(c, GOOSE_TE_OK);
    else
        fail(c, c->parser.code, c->parser.error);
}

/* TLS hands out what it decrypted, record by record: read until it
 * wants more from the socket, as no event comes for what it holds.  Of
 * an idle connection only a close (or bytes out of turn) ends it: the
 * server may still send session tickets. */
static void tls_readable(goose_h1 *c)
{
    char buf[READ_CHUNK];
    goose_http_capture idle;
    for (;;) {
        size_t n = 0;
        goose_http_capture *cap = c->busy ? c->capture : &idle;
        goose_tls_io r = goose__tls_read(c->tls, buf, sizeof buf, &n, cap);
        if (r == GOOSE_TLS_WANT_READ) {
            if (c->busy && c->sent < c->head.len + c->body_len)
                write_request(c); /* it waited for this read */
            return;
        }
        if (r == GOOSE_TLS_WANT_WRITE) {
            watch_writable(c);
            return;
        }
        if (!c->busy) {
            close_connection(c);
            return;
        }
        if (r == GOOSE_TLS_OK) {
            if (!got_bytes(c, buf, n))
                return;
        } else if (r == GOOSE_TLS_CLOSED) {
            got_eof(c, errno == ECONNRESET);
            return;
        } else {
            tls_failed(c, GOOSE_TE_RECV);
            return;
        }
    }
}

static void on_read(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    goose_h1 *c = arg;
    if (c->tls) {
        if (c->handshaking)
            handshake(c);
        else
            tls_readable(c);
        return;
    }
    char buf[READ_CHUNK];
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (!c->busy) { /* an idle connection closed, or spoke out of turn */
        close_connection(c);
        return;
    }
    if (n > 0)
        got_bytes(c, buf, (size_t)n);
    else if (n == 0 || errno == ECONNRESET)
        got_eof(c, n < 0);
    else
        io_failed(c, errno, 0);
}

static void on_timeout(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    goose_h1 *c = arg;
    goose__http_timeout_error(c->capture, c->timeout_ms);
    finish(c, GOOSE_TE_TIMEOUT);
}

/* ---- the request head ---- */

/* One line of the request's header list, as curl reads it: "Name: value"
 * is sent, "Name;" sends the header empty, "Name:" only removes ours. */
static int add_header_line(goose_buf *b, const char *line)
{
    const char *colon = strchr(line, ':');
    if (colon) {
        const char *v = colon + 1;
        while (*v == ' ' || *v == '\t')
            v++;
        if (!*v)
            return 0;
        return goose__buf_adds(b, line) < 0 || goose__buf_add(b, "\r\n", 2) < 0 ? -1 : 0;
    }
    size_t n = strcspn(line, ";");
    if (!line[n])
        return 0;
    return goose__buf_add(b, line, n) < 0 || goose__buf_add(b, ":\r\n", 3) < 0 ? -1 : 0;
}

/* The headers of the request's list that change what we add. */
typedef struct given { int host, accept, type, agent; } given;

static int add_header_list(goose_h1 *c, const goose_lines *l, given *g)
{
    const char *h = NULL;
    while (l && (h = goose__lines_next(l, h))) {
        switch (tolower((unsigned char)h[0])) {
        case 'h':
            g->host |= goose__http_line_names(h, "Host");
            break;
        case 'a':
            g->accept |= goose__http_line_names(h, "Accept");
            break;
        case 'u':
            g->agent |= goose__http_line_names(h, "User-Agent");
            break;
        case 'c': /* never Content-Length: goose_request_set_header refuses it */
            g->type |= goose__http_line_names(h, "Content-Type");
            if (goose__http_line_names(h, "Connection") && strcasestr(h, "close"))
                c->close_after = 1;
            break;
        }
        if (add_header_line(&c->head, h) < 0)
            return -1;
    }
    return 0;
}

static int build_head(goose_h1 *c, const goose_http_request *req)
{
    const char *path = req->parts->path, *cookie = req->cookie;
    size_t path_len = req->parts->path_len;
    goose_buf *b = &c->head;
    given g = {0};
    goose__buf_clear(b);
    c->close_after = 0;
    int slash = path_len == 0 || path[0] != '/';
    if (goose__buf_adds(b, req->method) < 0 || goose__buf_add(b, " /", slash ? 2 : 1) < 0 ||
        goose__buf_add(b, path, path_len) < 0 || goose__buf_add(b, " HTTP/1.1\r\n", 11) < 0 ||
        add_header_list(c, req->headers, &g) < 0)
        return -1;
    if (!g.agent && goose__buf_add(b, GOOSE_HTTP_USER_AGENT "\r\n",
                                   sizeof GOOSE_HTTP_USER_AGENT + 1) < 0)
        return -1;
    if (!g.host && goose__buf_add(b, c->origin.host_header, c->origin.host_header_len) < 0)
        return -1;
    if (!g.accept && goose__buf_add(b, "Accept: */*\r\n", 13) < 0)
        return -1;
    if (cookie && goose__buf_printf(b, "Cookie: %s\r\n", cookie) < 0)
        return -1;
    if (req->has_body) {
        if (!g.type && goose__buf_adds(b, "Content-Type: application/x-www-form-urlencoded\r\n") < 0)
            return -1;
        if (goose__buf_printf(b, "Content-Length: %zu\r\n", req->body_len) < 0)
            return -1;
    }
    return goose__buf_add(b, "\r\n", 2);
}

/* Whether the server has not closed an idle connection: asked before a
 * request that may not be sent twice (one recv; GETs skip it, they are
 * sent again if the connection turns out dead). */
static int still_open(const goose_h1 *c)
{
    char byte;
    ssize_t n = recv(c->fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) &&
           !(c->tls && goose__tls_pending(c->tls));
}

/* Over TLS a body that fits one record goes in it with the head: one
 * write, one record. */
#define TLS_RECORD 16384

static int body_into_head(goose_h1 *c)
{
    if (!c->origin.secure || !c->body_len || c->head.len + c->body_len > TLS_RECORD)
        return 0;
    if (goose__buf_add(&c->head, c->body, c->body_len) < 0)
        return -1;
    c->body = NULL;
    c->body_len = 0;
    return 0;
}

goose_terr goose__h1_send(goose_h1 *c, const goose_http_request *req,
                          goose_http_capture *capture)
{
    c->capture = capture;
    c->req = req;
    if (build_head(c, req) < 0) {
        snprintf(capture->errbuf, sizeof capture->errbuf, "Out of memory");
        return GOOSE_TE_NOMEM;
    }
    c->body = req->has_body ? req->body : NULL;
    c->body_len = req->has_body ? req->body_len : 0;
    if (c->origin.secure && body_into_head(c) < 0) {
        snprintf(capture->errbuf, sizeof capture->errbuf, "Out of memory");
        return GOOSE_TE_NOMEM;
    }
    c->sent = 0;
    c->retried = 0;
    c->idempotent = is_idempotent(req->method);
    c->busy = 1;
    c->in_send = 1;
    c->sync_result = GOOSE_TE_AGAIN;
    goose__h1_parser_start(&c->parser, strcmp(req->method, "HEAD") == 0);
    c->timeout_ms = goose__http_timeout_ms(c->setup, req);
    c->sent_us = goose__now_us();
    if (c->timeout_ms > 0) {
        struct timeval tv = {c->timeout_ms / 1000, (c->timeout_ms % 1000) * 1000};
        evtimer_add(c->timer, &tv);
    }
    if (c->fd >= 0 && !c->idempotent && !still_open(c))
        close_connection(c);
    if (c->fd < 0) {
        c->addr_at = 0;
        start_connect(c);
    } else {
        write_request(c);
    }
    c->in_send = 0;
    return c->sync_result;
}
