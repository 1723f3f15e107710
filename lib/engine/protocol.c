/* Any protocol: a transaction that speaks to its own sockets waits on them
 * with goose_wait_fd (an event on the thread's loop: the user waits, not
 * the thread), and counts what it did with goose_record, which takes the
 * road an HTTP request's metric takes (response.c's finalize): the same
 * rows, histograms, errors, logs, co-mitigation and throttle slots. */
#include "engine/engine.h"

#include <event2/event.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <unistd.h>

#include "coro/coro.h"
#include "util/clock.h"

/* A record's error text is cut to this many bytes (as a transaction's
 * reason is): the errors table and a Worker's messages stay bounded. */
#define RECORD_ERROR_MAX 1024

int64_t goose_now_us(void)
{
    return (int64_t)goose__now_us();
}

/* Inside a transaction of u (its coroutine is the one running). */
static int in_transaction(const goose_user *u)
{
    return u->coro && goose__coro_current() == u->coro;
}

static void on_fd(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    goose_user *u = arg;
    if (u->abandoned || u->waiting != GOOSE_WAIT_FD)
        return;
    u->fd_ready = (what & EV_READ ? GOOSE_READ : 0) | (what & EV_WRITE ? GOOSE_WRITE : 0);
    goose__user_resume(u);
}

/* 1 when epoll takes fd: asked of a scratch epoll instance. */
static int epoll_takes(int fd)
{
    int ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0)
        return 1; /* cannot ask: the loop will say */
    struct epoll_event ev = {.events = EPOLLIN};
    int ok = epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) == 0;
    close(ep);
    return ok;
}

/* epoll refuses regular files, directories and devices without poll
 * (/dev/null), and the thread's loop learns it only when it applies its
 * changes (printing a warning of libevent's, the user never woken):
 * refused here instead.  Sockets and pipes, the usual case, need no
 * question; anything else is asked of epoll itself. */
static const char *unwatchable(int fd)
{
    struct stat st;
    if (fstat(fd, &st) < 0)
        return "is not an open file descriptor";
    if (S_ISSOCK(st.st_mode) || S_ISFIFO(st.st_mode))
        return NULL;
    if (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode))
        return "is a file or directory, which the event loop cannot watch";
    if (!epoll_takes(fd))
        return "cannot be watched by the event loop (epoll refuses it)";
    return NULL;
}

static void refuse_fd(goose_user *u, int fd, const char *why)
{
    char what[160];
    snprintf(what, sizeof what, "goose_wait_fd: fd %d %s", fd, why);
    goose__response_misuse(u, what);
}

int goose_wait_fd(goose_user *u, int fd, int events, long timeout_ms)
{
    if (!u || fd < 0 || events == 0 || (events & ~(GOOSE_READ | GOOSE_WRITE)))
        return GOOSE_EINVAL;
    if (!in_transaction(u))
        return GOOSE_ESTATE;
    int in_on_stop = u->phase == GOOSE_PHASE_STOP;
    if (goose__user_stopping(u) && !in_on_stop) {
        u->stopping_tx = 1; /* cut short by the end: not counted */
        return GOOSE_ESTOPPING;
    }
    const char *why = unwatchable(fd);
    if (why) {
        refuse_fd(u, fd, why);
        return GOOSE_EINVAL;
    }
    short what = (short)((events & GOOSE_READ ? EV_READ : 0) | (events & GOOSE_WRITE ? EV_WRITE : 0));
    struct event_base *base = u->thread->base;
    if (u->fd_event ? event_assign(u->fd_event, base, fd, what, on_fd, u) < 0
                    : !(u->fd_event = event_new(base, fd, what, on_fd, u)))
        return GOOSE_ESYS;
    struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    if (event_add(u->fd_event, timeout_ms >= 0 ? &tv : NULL) < 0)
        return GOOSE_ESYS;
    for (;;) {
        u->fd_ready = -1;
        u->waiting = GOOSE_WAIT_FD;
        goose__coro_yield();
        if (u->fd_ready >= 0 || !in_on_stop)
            break;
        /* on_stop waits on, woken by the stop only: the stop timeout ends
           it (the user abandoned, this event freed with it) */
    }
    event_del(u->fd_event);
    if (u->fd_ready >= 0)
        return u->fd_ready;
    u->stopping_tx = 1;
    return GOOSE_ESTOPPING;
}

/* One UTF-8 character at s (n bytes left): its length, 0 when invalid. */
static size_t utf8_char(const unsigned char *s, size_t n)
{
    size_t len = s[0] < 0x80 ? 1 : s[0] >= 0xc2 && s[0] < 0xe0 ? 2
               : s[0] >= 0xe0 && s[0] < 0xf0 ? 3 : s[0] >= 0xf0 && s[0] < 0xf5 ? 4 : 0;
    if (!len || len > n)
        return 0;
    for (size_t i = 1; i < len; i++)
        if ((s[i] & 0xc0) != 0x80)
            return 0;
    if ((len == 3 && s[0] == 0xe0 && s[1] < 0xa0) || (len == 4 && s[0] == 0xf0 && s[1] < 0x90) ||
        (len == 4 && s[0] == 0xf4 && s[1] > 0x8f) || (len == 3 && s[0] == 0xed && s[1] > 0x9f))
        return 0; /* overlong, beyond U+10FFFF, or a surrogate */
    return len;
}

/* Why text cannot be a report's method, name or error, or NULL: every
 * renderer (JSON, CSV, Prometheus labels, the logs) takes UTF-8 text of
 * one line. */
static const char *bad_text(const char *s)
{
    if (!*s)
        return "is empty";
    size_t n = strlen(s);
    for (size_t i = 0; i < n;) {
        const unsigned char *c = (const unsigned char *)s + i;
        if (*c < 0x20 || *c == 0x7f)
            return "has a control character";
        size_t len = utf8_char(c, n - i);
        if (!len)
            return "is not UTF-8";
        i += len;
    }
    return NULL;
}

static int refuse_record(goose_user *u, const char *what, const char *why)
{
    char line[160];
    snprintf(line, sizeof line, "goose_record: the %s %s", what, why);
    goose__response_misuse(u, line);
    return GOOSE_EINVAL;
}

/* The arguments' mistakes, logged: GOOSE_EINVAL, or GOOSE_OK. */
static int check_record(goose_user *u, const char *method, const char *name,
                        int64_t start_us, int64_t end_us, const char *error)
{
    const char *why;
    if (!method || !name)
        return refuse_record(u, method ? "name" : "method", "is NULL");
    if ((why = bad_text(method)) != NULL)
        return refuse_record(u, "method", why);
    if (strchr(method, ' '))
        return refuse_record(u, "method", "has a space");
    if ((why = bad_text(name)) != NULL)
        return refuse_record(u, "name", why);
    if (error && *error && (why = bad_text(error)) != NULL)
        return refuse_record(u, "error", why);
    if (start_us <= 0 || end_us < start_us)
        return refuse_record(u, "times", "are not a span of goose_now_us (0 < start_us <= end_us)");
    if (end_us > goose_now_us())
        return refuse_record(u, "end", "is in the future (end_us > goose_now_us())");
    return GOOSE_OK;
}

/* error cut to RECORD_ERROR_MAX bytes, before a UTF-8 character. */
static size_t error_len(const char *error)
{
    size_t n = strlen(error);
    if (n > RECORD_ERROR_MAX) {
        n = RECORD_ERROR_MAX;
        while (n > 0 && ((unsigned char)error[n] & 0xc0) == 0x80)
            n--;
    }
    return n;
}

/* The record as a reply, finalized at once: counted exactly where and as
 * an HTTP request's is. */
static int count(goose_user *u, const char *method, const char *name, int64_t start_us,
                 int64_t end_us, const char *error)
{
    goose_reply *r = goose__response_get(u);
    if (!r)
        return GOOSE_ENOMEM;
    int rc = goose__buf_adds(&r->method, method) < 0 || goose__buf_adds(&r->name, name) < 0;
    if (!rc && error)
        rc = *error ? goose__buf_add(&r->failure, error, error_len(error)) < 0
                    : goose__buf_adds(&r->failure, "failed") < 0;
    if (rc) {
        r->not_sent = 1; /* not what the script meant: not counted */
        goose__response_recycle(r);
        return GOOSE_ENOMEM;
    }
    r->any_protocol = 1;
    r->sent_us = (uint64_t)start_us;
    r->elapsed_us = (uint64_t)(end_us - start_us);
    goose__response_recycle(r); /* finalized, then kept for reuse */
    return GOOSE_OK;
}

int goose_record(goose_user *u, const char *method, const char *name, int64_t start_us,
                 int64_t end_us, const char *error)
{
    if (!u)
        return GOOSE_EINVAL;
    if (!in_transaction(u))
        return GOOSE_ESTATE;
    int rc = check_record(u, method, name, start_us, end_us, error);
    if (rc == GOOSE_OK)
        rc = count(u, method, name, start_us, end_us, error);
    /* a record takes a request slot as a request does; the user waits for
       it after the fact, so what it does next keeps the pace (a stop ends
       the wait: the record is counted all the same, it happened) */
    if (rc == GOOSE_OK)
        goose__lane_await_slot(&u->lane);
    return rc;
}
