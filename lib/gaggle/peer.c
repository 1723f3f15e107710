/* A framed connection on a bufferevent: reads 4-byte lengths and msgpack
 * maps, refuses frames over the cap as soon as their length is known (so a
 * connection never buffers more than one frame), and closes on anything
 * malformed.  Only that one connection is affected. */
#include "gaggle/gaggle.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent_ssl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "util/clock.h"

static void close_with(gaggle_peer *p, const char *why)
{
    if (p->closed)
        return;
    p->closed = 1;
    bufferevent_disable(p->bev, EV_READ | EV_WRITE);
    if (p->on_close)
        p->on_close(p, why);
}

void goose__peer_close(gaggle_peer *p, const char *why)
{
    close_with(p, why);
}

/* Callbacks before the loop looks at its timers again: a pass over many
 * busy connections cannot hold up the heartbeats for long.  A read brings
 * at most libevent's 16 KiB per connection and callback. */
#define MAX_CALLBACKS 16
#define MAX_PASS_US 10000

void goose__gaggle_note_lag(goose_attack *a, goose_lag *lag, int *warned, uint64_t now,
                            const char *self, const char *peers)
{
    uint64_t late = goose__lag_note(lag, now);
    if (late < 1000000 || *warned)
        return;
    *warned = 1;
    char ms[32];
    goose__log(a, GOOSE_LOG_WARN, "%s ran %s ms late (stopped, or short of CPU): %s",
               self, goose__group_digits(late / 1000, ms, sizeof ms), peers);
}

struct event_base *goose__gaggle_base(void)
{
    struct event_config *cfg = event_config_new();
    if (!cfg)
        return NULL;
    struct timeval pass = {0, MAX_PASS_US};
    event_config_set_max_dispatch_interval(cfg, &pass, MAX_CALLBACKS, GAGGLE_PRI_TIMER + 1);
    struct event_base *base = event_base_new_with_config(cfg);
    event_config_free(cfg);
    if (base && event_base_priority_init(base, GAGGLE_PRI_TIMER + 2) < 0) {
        event_base_free(base);
        return NULL;
    }
    return base;
}

static void heard(gaggle_peer *p)
{
    p->last_rx_us = goose__now_us();
    p->lag_at_rx_us = p->lag ? p->lag->total_us : 0;
}

void goose__peer_watch(gaggle_peer *p, const goose_lag *lag)
{
    p->lag = lag;
    p->lag_at_rx_us = lag ? lag->total_us : 0;
}

/* The socket is asked only when the silence gets long (every timeout is
 * at least a heartbeat): a tick over many peers costs no system calls. */
uint64_t goose__peer_silence_us(const gaggle_peer *p, uint64_t now)
{
    uint64_t quiet = now > p->last_rx_us ? now - p->last_rx_us : 0;
    uint64_t late = p->lag && p->lag->total_us > p->lag_at_rx_us
                        ? p->lag->total_us - p->lag_at_rx_us : 0;
    uint64_t silence = quiet > late ? quiet - late : 0;
    int unread = 0;
    if (silence >= GAGGLE_HEARTBEAT_US &&
        ioctl(bufferevent_getfd(p->bev), FIONREAD, &unread) == 0 && unread > 0)
        return 0;
    return silence;
}

static int dispatch(gaggle_peer *p, const unsigned char *data, size_t len)
{
    msgpack_unpacked u;
    char type[32];
    msgpack_unpacked_init(&u);
    int rc = goose__frame_decode(data, len, &u, type, sizeof type);
    if (rc == 0)
        p->on_msg(p, type, &u.data);
    msgpack_unpacked_destroy(&u);
    return rc;
}

static void on_read(struct bufferevent *bev, void *arg)
{
    gaggle_peer *p = arg;
    struct evbuffer *in = bufferevent_get_input(bev);
    if (p->flushing || p->draining) { /* finished: what comes now is read and dropped */
        if (evbuffer_get_length(in))
            heard(p); /* still there, to read what we sent last */
        evbuffer_drain(in, evbuffer_get_length(in));
        return;
    }
    /* A proven peer is alive while its bytes come, even those of a big
     * frame not complete yet; a stranger only once it says something. */
    if (p->max_frame > GAGGLE_HANDSHAKE_FRAME_MAX)
        heard(p);
    while (!p->closed) {
        unsigned char head[4];
        uint32_t n;
        char why[96];
        if (evbuffer_copyout(in, head, 4) < 4)
            return;
        int rc = goose__frame_length(head, p->max_frame, &n);
        if (rc == -2 && !p->tls) {
            close_with(p, "the peer speaks TLS but this side has no TLS "
                          "(--tls-cert on the Manager, --tls-ca on Workers)");
            return;
        }
        if (rc < 0) {
            snprintf(why, sizeof why, "frame of %u bytes refused (cap %u)", n, p->max_frame);
            close_with(p, why);
            return;
        }
        if (evbuffer_get_length(in) < (size_t)n + 4)
            return;
        const unsigned char *frame = evbuffer_pullup(in, (ev_ssize_t)n + 4);
        heard(p);
        rc = frame ? dispatch(p, frame + 4, n) : -1;
        evbuffer_drain(in, (size_t)n + 4);
        if (rc < 0)
            close_with(p, "malformed frame");
    }
}

/* Everything written: say so with a FIN, and read until the peer closes
 * too.  Closing at once could reset the connection (unread data makes the
 * kernel send RST), and an RST throws away what the peer had not read yet:
 * a Worker's last metrics, say. */
static void on_write(struct bufferevent *bev, void *arg)
{
    gaggle_peer *p = arg;
    if (p->flushing && evbuffer_get_length(bufferevent_get_output(bev)) == 0) {
        p->flushing = 0;
        p->draining = 1;
        shutdown(bufferevent_getfd(bev), SHUT_WR);
    } else if (!p->flushing && !p->draining && !p->closed && p->on_drain) {
        p->on_drain(p); /* room for what waited (a Worker's rows) */
    }
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
    (void)bev;
    gaggle_peer *p = arg;
    if (what & BEV_EVENT_CONNECTED)
        return;
    if (p->flushing || p->draining) { /* the peer closed too: done */
        p->flushing = p->draining = 0;
        p->closed = 1;
        bufferevent_disable(bev, EV_READ | EV_WRITE);
        return;
    }
    char buf[256];
    if (p->tls && (what & BEV_EVENT_ERROR))
        close_with(p, goose__tls_error(bev, p->tls == 1, buf, sizeof buf));
    else
        close_with(p, (what & BEV_EVENT_EOF) ? "connection closed" : "connection error");
}

static gaggle_peer *peer_alloc(struct event_base *base, evutil_socket_t fd,
                               SSL_CTX *tls, const char *host, gaggle_msg_fn on_msg,
                               gaggle_close_fn on_close, void *owner)
{
    gaggle_peer *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->bev = tls ? goose__tls_bufferevent(base, fd, tls, host)
                 : bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
    if (!p->bev) {
        free(p);
        return NULL;
    }
    if (tls) {
        p->tls = host ? 2 : 1;
        bufferevent_openssl_set_allow_dirty_shutdown(p->bev, 1);
    }
    p->on_msg = on_msg;
    p->on_close = on_close;
    p->owner = owner;
    p->opened_us = p->last_rx_us = goose__now_us();
    bufferevent_setcb(p->bev, on_read, on_write, on_event, p);
    goose__peer_set_max_frame(p, GAGGLE_HANDSHAKE_FRAME_MAX);
    bufferevent_enable(p->bev, EV_READ | EV_WRITE);
    return p;
}

gaggle_peer *goose__peer_new(struct event_base *base, evutil_socket_t fd,
                             SSL_CTX *tls, gaggle_msg_fn on_msg,
                             gaggle_close_fn on_close, void *owner)
{
    gaggle_peer *p = peer_alloc(base, fd, tls, NULL, on_msg, on_close, owner);
    if (!p)
        return NULL;
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    char host[INET6_ADDRSTRLEN] = "?";
    unsigned port = 0;
    if (getpeername(fd, (struct sockaddr *)&ss, &len) == 0) {
        if (ss.ss_family == AF_INET6) {
            struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
            inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof host);
            port = ntohs(a->sin6_port);
        } else if (ss.ss_family == AF_INET) {
            struct sockaddr_in *a = (struct sockaddr_in *)&ss;
            inet_ntop(AF_INET, &a->sin_addr, host, sizeof host);
            port = ntohs(a->sin_port);
        }
    }
    snprintf(p->addr, sizeof p->addr, "%s:%u", host, port);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return p;
}

#define DIAL_SLICE_MS 50

/* connect() that waits at most timeout_us, and no longer than the next
 * slice once *stop is set: a Manager's host that drops the packets holds
 * no Worker that was asked to stop.  0, or -1 with errno. */
static int connect_within(evutil_socket_t fd, const struct addrinfo *ai,
                          const atomic_int *stop, uint64_t timeout_us)
{
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
        return 0;
    if (errno != EINPROGRESS)
        return -1;
    uint64_t until = goose__now_us() + timeout_us;
    for (;;) {
        struct pollfd pfd = {fd, POLLOUT, 0};
        int n = poll(&pfd, 1, DIAL_SLICE_MS);
        if (n > 0) {
            int e = 0;
            socklen_t len = sizeof e;
            if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &len) < 0)
                return -1;
            errno = e;
            return e ? -1 : 0;
        }
        if (n < 0 && errno != EINTR)
            return -1;
        if (stop && atomic_load(stop)) {
            errno = ECANCELED;
            return -1;
        }
        if (goose__now_us() >= until) {
            errno = ETIMEDOUT;
            return -1;
        }
    }
}

static evutil_socket_t dial(const char *host, unsigned port, const atomic_int *stop,
                            uint64_t timeout_us, char *err, size_t errlen)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;
    char service[8];
    snprintf(service, sizeof service, "%u", port);
    int rc = getaddrinfo(host, service, &hints, &res);
    if (rc != 0) {
        snprintf(err, errlen, "cannot resolve manager host %s: %s", host, gai_strerror(rc));
        errno = 0;
        return -1;
    }
    evutil_socket_t fd = -1;
    int e = 0;
    for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
                    ai->ai_protocol);
        if (fd >= 0 && connect_within(fd, ai, stop, timeout_us) < 0) {
            e = errno;
            snprintf(err, errlen, "cannot connect to the manager at %s:%u: %s", host,
                     port, strerror(e));
            close(fd);
            fd = -1;
        } else if (fd < 0) {
            e = errno;
            snprintf(err, errlen, "cannot connect to the manager at %s:%u: %s", host,
                     port, strerror(e));
        }
    }
    freeaddrinfo(res);
    if (fd >= 0) {
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    errno = e;
    return fd;
}

gaggle_peer *goose__peer_connect(struct event_base *base, const char *host,
                                 unsigned port, SSL_CTX *tls, gaggle_msg_fn on_msg,
                                 gaggle_close_fn on_close, void *owner,
                                 const atomic_int *stop, uint64_t timeout_us,
                                 char *err, size_t errlen)
{
    evutil_socket_t fd = dial(host, port, stop, timeout_us, err, errlen);
    if (fd < 0)
        return NULL;
    gaggle_peer *p = peer_alloc(base, fd, tls, host, on_msg, on_close, owner);
    if (!p) {
        close(fd);
        snprintf(err, errlen, "cannot set up the connection to %s", host);
        errno = ENOMEM;
        return NULL;
    }
    snprintf(p->addr, sizeof p->addr, "%s:%u", host, port);
    return p;
}

/* libevent stops reading once one whole frame is buffered: bounded memory. */
void goose__peer_set_max_frame(gaggle_peer *p, uint32_t max)
{
    p->max_frame = max;
    bufferevent_setwatermark(p->bev, EV_READ, 0, (size_t)max + 4);
}

/* Written at once when nothing is queued before it (plain TCP): a busy
 * loop's write callbacks wait behind its reads, and a heartbeat must not.
 * What the socket does not take goes the usual way. */
int goose__peer_send(gaggle_peer *p, gaggle_out *o)
{
    goose__out_finish(o);
    if (p->closed || p->flushing)
        return -1;
    const char *data = o->sb.data;
    size_t size = o->sb.size;
    if (!p->tls && evbuffer_get_length(bufferevent_get_output(p->bev)) == 0) {
        ssize_t n = send(bufferevent_getfd(p->bev), data, size, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n > 0) {
            data += n;
            size -= (size_t)n;
        }
    }
    return size ? bufferevent_write(p->bev, data, size) : 0;
}

void goose__peer_finish(gaggle_peer *p)
{
    if (p->closed || p->flushing || p->draining)
        return;
    p->flushing = 1;
    on_write(p->bev, p);
}

void goose__peer_free(gaggle_peer *p)
{
    if (!p)
        return;
    bufferevent_free(p->bev);
    free(p);
}
