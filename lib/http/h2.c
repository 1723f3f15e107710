/* The own HTTP/2 client: a user's connections to one origin, each an
 * nghttp2 client session, and the requests on them as streams.
 *
 * nghttp2 does the framing, HPACK, flow control and the checks of HTTP
 * messaging; this file does the I/O (what nghttp2_session_mem_send gives
 * is collected and written with one send; what recv reads goes to
 * nghttp2_session_mem_recv), the events (a persistent read event per
 * connection, as h1.c), the timeouts and the retries.
 *
 * nghttp2's callbacks only take notes: a stream that ended goes to the
 * finished list, one to send again to the pending list, a connection that
 * failed is marked dead.  After nghttp2 returns, settle() starts the
 * pending streams, drops dead connections and reports the finished
 * streams with done() -- never from inside nghttp2, and never from inside
 * goose__h2_send, since done() resumes the user, who may send again or
 * free the whole client. */
#include "http/h2.h"
#include "http/tls.h"

#include "util/clock.h"

#include <ctype.h>
#include <errno.h>
#include <nghttp2/nghttp2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#define READ_CHUNK 16384
#define WRITE_BATCH 65536          /* frames collected before one send */
#define HEAD_CAP (256u * 1024)     /* as h1_response.c */
#define STREAM_WINDOW (1u << 20)   /* what the server may send a stream unasked */
#define CONN_WINDOW (1 << 24)

typedef struct h2_conn h2_conn;

typedef enum stream_state {
    STREAM_SPARE,       /* kept for the next request */
    STREAM_PENDING,     /* waiting for a connection */
    STREAM_OPEN,        /* submitted on conn */
    STREAM_FINISHED     /* waiting to be reported */
} stream_state;

typedef struct h2_stream {
    goose_h2 *client;
    h2_conn *conn;
    const goose_http_request *req;
    goose_http_capture *capture;
    stream_state state;
    int32_t id;
    size_t body_at;
    int sent;           /* its HEADERS went out */
    int answered;       /* some of the response came */
    int complete;       /* the final response ended (END_STREAM) */
    int retried;
    int idempotent;
    int final_head;     /* the final (non-1xx) head began */
    int reset_by_peer;  /* the server sent RST_STREAM */
    int own_error;      /* errbuf holds our words for a stream we reset */
    goose_terr own_code;
    goose_terr result;
    struct event *timer;
    long timeout_ms;    /* of its request; 0: none */
    struct h2_stream *prev, *next; /* in the list of its state */
} h2_stream;

typedef struct stream_list {
    h2_stream *head, *tail;
} stream_list;

struct h2_conn {
    goose_h2 *client;
    nghttp2_session *session;
    int fd;             /* -1: none yet, or a fuzzing connection */
    goose_tls *tls;     /* https: TLS on fd */
    int handshaking;
    int read_wants_write; /* a TLS read waits for writability */
    unsigned addr_at;
    int connecting;
    int fuzz;
    int goaway;         /* takes no new streams */
    int dead;           /* to be dropped by settle() */
    int reused;         /* a stream ended on it */
    int settings;       /* the server's SETTINGS came */
    int said_goaway;    /* the server sent GOAWAY */
    int heard;          /* some bytes came */
    int may_resend;     /* it died as a closed connection does, not by an error */
    int reset;          /* ... by a reset: the server left our bytes unread */
    uint32_t our_goaway; /* the code of the GOAWAY we sent (nghttp2 found an error) */
    uint32_t goaway_code;
    goose_terr fail_code;
    char why[GOOSE_HTTP_ERROR_SIZE]; /* why it died, for its open streams */
    size_t streams;     /* its open streams */
    struct event *rev, *wev;
    goose_buf out;
    size_t out_at;
    h2_conn *next;
};

struct goose_h2 {
    struct event_base *base;
    const goose_http_setup *setup;
    unsigned index;
    goose_transport_done_fn done;
    void *arg;
    goose_h1_origin origin;
    char authority[264];  /* :authority: the Host header's value */
    goose_tls_session *session; /* the user's TLS session with the origin */
    goose_tls_session **slot;   /* where it is kept: &session, or a hand-over's */
    int aimed, secure;
    int fuzzing;          /* its one connection is a fuzzing one */
    h2_conn *conns;       /* the first one takes new streams unless goaway */
    stream_list pending, open, finished, spare;
    int depth;            /* calls of ours under way on the stack */
    int in_send;          /* inside goose__h2_send: no done() */
    int doomed;           /* freed while depth > 0 */
    struct event *later;  /* reports what finished during goose__h2_send */
    nghttp2_session_callbacks *cbs;
    nghttp2_option *opt;
    goose_buf fields;     /* scratch: a request's :path when it needs a "/" */
    char length[24];      /* scratch: its content-length */
    nghttp2_nv *nva;
    size_t nva_cap;
};

static void settle(goose_h2 *h);
static void conn_flush(h2_conn *c);
static void conn_fail(h2_conn *c, goose_terr code, const char *why);
static void on_read(evutil_socket_t fd, short what, void *arg);
static void on_write(evutil_socket_t fd, short what, void *arg);

/* ---- lists ---- */

static void list_push(stream_list *l, h2_stream *s)
{
    s->next = NULL;
    s->prev = l->tail;
    if (l->tail)
        l->tail->next = s;
    else
        l->head = s;
    l->tail = s;
}

static void list_remove(stream_list *l, h2_stream *s)
{
    if (s->prev)
        s->prev->next = s->next;
    else
        l->head = s->next;
    if (s->next)
        s->next->prev = s->prev;
    else
        l->tail = s->prev;
    s->prev = s->next = NULL;
}

static stream_list *list_of(goose_h2 *h, stream_state st)
{
    switch (st) {
    case STREAM_PENDING: return &h->pending;
    case STREAM_OPEN: return &h->open;
    case STREAM_FINISHED: return &h->finished;
    case STREAM_SPARE: break;
    }
    return &h->spare;
}

static void move_to(h2_stream *s, stream_state st)
{
    goose_h2 *h = s->client;
    list_remove(list_of(h, s->state), s);
    s->state = st;
    list_push(list_of(h, st), s);
}

static void free_list(stream_list *l)
{
    while (l->head) {
        h2_stream *s = l->head;
        list_remove(l, s);
        if (s->timer)
            event_free(s->timer);
        free(s);
    }
}

/* ---- the client ---- */

static void really_free(goose_h2 *h);

static void enter(goose_h2 *h)
{
    h->depth++;
}

/* Leaves a call of ours; 1 when the client was freed meanwhile and is
 * gone now. */
static int leave(goose_h2 *h)
{
    if (--h->depth == 0 && h->doomed) {
        really_free(h);
        return 1;
    }
    return 0;
}

static void on_later(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    goose_h2 *h = arg;
    enter(h);
    settle(h);
    leave(h);
}

static int make_callbacks(goose_h2 *h);

goose_h2 *goose__h2_new(struct event_base *base, const goose_http_setup *setup,
                        unsigned index, goose_transport_done_fn done, void *arg)
{
    goose_h2 *h = calloc(1, sizeof *h);
    if (!h)
        return NULL;
    h->base = base;
    h->setup = setup;
    h->index = index;
    h->done = done;
    h->arg = arg;
    h->slot = &h->session;
    goose__buf_init(&h->fields);
    h->later = event_new(base, -1, 0, on_later, h);
    if (!h->later || make_callbacks(h) < 0) {
        really_free(h);
        return NULL;
    }
    return h;
}

static void conn_free(h2_conn *c)
{
    if (c->rev)
        event_free(c->rev);
    if (c->wev)
        event_free(c->wev);
    goose__tls_free(c->tls);
    if (c->fd >= 0)
        close(c->fd);
    nghttp2_session_del(c->session);
    goose__buf_free(&c->out);
    free(c);
}

static void really_free(goose_h2 *h)
{
    while (h->conns) {
        h2_conn *c = h->conns;
        h->conns = c->next;
        conn_free(c);
    }
    free_list(&h->pending);
    free_list(&h->open);
    free_list(&h->finished);
    free_list(&h->spare);
    if (h->later)
        event_free(h->later);
    if (h->cbs)
        nghttp2_session_callbacks_del(h->cbs);
    if (h->opt)
        nghttp2_option_del(h->opt);
    goose__buf_free(&h->fields);
    goose__tls_session_free(h->session);
    free(h->nva);
    free(h);
}

void goose__h2_free(goose_h2 *h)
{
    if (!h)
        return;
    if (h->depth > 0) { /* from inside done(): we are on the stack */
        h->doomed = 1;
        return;
    }
    really_free(h);
}

void goose__h2_aim(goose_h2 *h, const goose_h1_origin *origin)
{
    if (h->slot == &h->session && h->session &&
        (!h->aimed || strcmp(h->origin.authority, origin->authority) != 0)) {
        goose__tls_session_free(h->session); /* another origin's */
        h->session = NULL;
    }
    h->origin = *origin;
    h->secure = origin->secure;
    h->aimed = 1;
    /* "Host: value\r\n" -> value */
    size_t n = origin->host_header_len > 8 ? origin->host_header_len - 8 : 0;
    if (n >= sizeof h->authority)
        n = sizeof h->authority - 1;
    memcpy(h->authority, origin->host_header + 6, n);
    h->authority[n] = '\0';
    for (h2_conn *c = h->conns; c; c = c->next)
        c->goaway = 1; /* the old origin's: they finish what they carry */
}

int goose__h2_serves(const goose_h2 *h, const goose_url_parts *url)
{
    return h->aimed && !url->secure == !h->secure &&
           url->authority_len < sizeof h->origin.authority &&
           memcmp(h->origin.authority, url->authority, url->authority_len) == 0 &&
           h->origin.authority[url->authority_len] == '\0';
}

/* ---- streams ending ---- */

static void detach(h2_stream *s)
{
    if (!s->conn)
        return;
    s->conn->streams--;
    if (s->id > 0 && s->conn->session)
        nghttp2_session_set_stream_user_data(s->conn->session, s->id, NULL);
    s->conn = NULL;
}

static void stream_finish(h2_stream *s, goose_terr result)
{
    if (s->state == STREAM_FINISHED)
        return;
    detach(s);
    if (s->timer)
        evtimer_del(s->timer);
    s->result = result;
    if (result == GOOSE_TE_OK)
        s->capture->protocol = GOOSE_PROTO_HTTP_2;
    move_to(s, STREAM_FINISHED);
}

static void stream_fail(h2_stream *s, goose_terr result, const char *why)
{
    snprintf(s->capture->errbuf, sizeof s->capture->errbuf, "%s", why);
    stream_finish(s, result);
}

/* Goes again, on another connection (settle() starts it). */
static void stream_again(h2_stream *s)
{
    detach(s);
    s->retried = 1;
    s->id = 0;
    s->sent = s->answered = s->complete = 0;
    s->final_head = s->reset_by_peer = s->own_error = 0;
    s->body_at = 0;
    goose__http_capture_reset(s->capture);
    move_to(s, STREAM_PENDING);
}

/* The server did not process it: REFUSED_STREAM, or above a GOAWAY's
 * last stream (RFC 9113, 8.7), or it never went out. */
static void stream_unprocessed(h2_stream *s, goose_terr code, const char *why)
{
    if (!s->retried)
        stream_again(s);
    else
        stream_fail(s, code, why);
}

/* Its connection died with it open.  Not sent: it goes again.  Sent on a
 * connection that had carried a request before (a server closing an idle
 * connection) with no answer yet, it goes again once, as in h1.c: when
 * it is idempotent (RFC 9110, 9.2.2), or when a reset says the server
 * left what we sent unread and it was small enough to have been read
 * whole at once.  Never after a protocol error. */
#define READ_AT_ONCE 16384

static void stream_orphaned(h2_stream *s, h2_conn *c)
{
    if (!c->may_resend)
        stream_fail(s, c->fail_code, c->why);
    else if (!s->sent)
        stream_unprocessed(s, c->fail_code, c->why);
    else if (!s->retried && !s->answered && c->reused &&
             (s->idempotent || (c->reset && s->req->body_len <= READ_AT_ONCE)))
        stream_again(s);
    else
        stream_fail(s, c->fail_code, c->why);
}

/* ---- nghttp2's callbacks: notes only ---- */

static h2_stream *stream_of(nghttp2_session *session, int32_t id)
{
    return nghttp2_session_get_stream_user_data(session, id);
}

static int add_field(goose_http_capture *cap, const uint8_t *name, size_t nlen,
                     const uint8_t *value, size_t vlen)
{
    goose_buf *b = &cap->headers;
    if (goose__buf_reserve(b, nlen + vlen + 4) < 0)
        return -1;
    /* one reserve and plain copies: this runs for every response header */
    char *p = b->data + b->len;
    memcpy(p, name, nlen);
    p += nlen;
    *p++ = ':';
    *p++ = ' ';
    memcpy(p, value, vlen);
    p += vlen;
    *p++ = '\r';
    *p++ = '\n';
    *p = '\0';
    b->len = (size_t)(p - b->data);
    cap->set_cookie |= nlen == 10 && memcmp(name, "set-cookie", 10) == 0;
    return 0;
}

/* "HTTP/2 %d\r\n" into an empty b, without printf's cost per response. */
static int status_line(goose_buf *b, int status)
{
    char line[16] = "HTTP/2 ";
    size_t n = 7;
    if (status >= 100)
        line[n++] = (char)('0' + status / 100);
    if (status >= 10)
        line[n++] = (char)('0' + status / 10 % 10);
    line[n++] = (char)('0' + status % 10);
    line[n++] = '\r';
    line[n++] = '\n';
    return goose__buf_add(b, line, n);
}

/* Fails the stream with our words and resets it (INTERNAL_ERROR). */
static int stream_refuse(h2_stream *s, goose_terr code, const char *why)
{
    snprintf(s->capture->errbuf, sizeof s->capture->errbuf, "%s", why);
    s->own_error = 1;
    s->own_code = code;
    return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
}

static int on_header(nghttp2_session *session, const nghttp2_frame *frame,
                     const uint8_t *name, size_t nlen, const uint8_t *value, size_t vlen,
                     uint8_t flags, void *arg)
{
    (void)flags, (void)arg;
    if (frame->hd.type != NGHTTP2_HEADERS)
        return 0;
    h2_stream *s = stream_of(session, frame->hd.stream_id);
    if (!s)
        return 0;
    goose_http_capture *cap = s->capture;
    s->answered = 1;
    if (nlen == 7 && memcmp(name, ":status", 7) == 0) {
        if (vlen != 3 || !isdigit(value[0]) || !isdigit(value[1]) || !isdigit(value[2]))
            return stream_refuse(s, GOOSE_TE_PROTOCOL, "Invalid HTTP/2 status");
        int status = (value[0] - '0') * 100 + (value[1] - '0') * 10 + (value[2] - '0');
        goose__buf_clear(&cap->headers); /* after an interim head */
        cap->set_cookie = 0;
        s->final_head = status >= 200;
        if (s->final_head)
            cap->status = status;
        return status_line(&cap->headers, status) < 0
                   ? stream_refuse(s, GOOSE_TE_NOMEM, "Out of memory") : 0;
    }
    if (cap->headers.len + nlen + vlen + 4 > HEAD_CAP)
        return stream_refuse(s, GOOSE_TE_RECV, "Too large response headers");
    if (add_field(cap, name, nlen, value, vlen) < 0)
        return stream_refuse(s, GOOSE_TE_NOMEM, "Out of memory");
    return 0;
}

static int on_data(nghttp2_session *session, uint8_t flags, int32_t id, const uint8_t *data,
                   size_t len, void *arg)
{
    (void)flags, (void)arg;
    h2_stream *s = stream_of(session, id);
    if (!s)
        return 0;
    s->answered = 1;
    if (goose__http_capture_body(s->capture, (const char *)data, len) < 0)
        return stream_refuse(s, GOOSE_TE_NOMEM, "Out of memory");
    return 0;
}

static int on_frame_recv(nghttp2_session *session, const nghttp2_frame *frame, void *arg)
{
    h2_conn *c = arg;
    h2_stream *s;
    switch (frame->hd.type) {
    case NGHTTP2_SETTINGS:
        c->settings = 1;
        break;
    case NGHTTP2_GOAWAY:
        /* nghttp2 closes the streams above last_stream_id (REFUSED_STREAM) */
        c->goaway = c->said_goaway = 1;
        c->goaway_code = frame->goaway.error_code;
        break;
    case NGHTTP2_RST_STREAM:
        if ((s = stream_of(session, frame->hd.stream_id)))
            s->reset_by_peer = 1;
        break;
    case NGHTTP2_HEADERS:
        if ((s = stream_of(session, frame->hd.stream_id))) {
            if (frame->hd.flags & NGHTTP2_FLAG_END_HEADERS && frame->headers.cat ==
                NGHTTP2_HCAT_RESPONSE && goose__buf_add(&s->capture->headers, "\r\n", 2) < 0)
                return NGHTTP2_ERR_CALLBACK_FAILURE;
            if (frame->hd.flags & NGHTTP2_FLAG_END_STREAM && s->final_head)
                s->complete = 1;
        }
        break;
    case NGHTTP2_DATA:
        if (frame->hd.flags & NGHTTP2_FLAG_END_STREAM &&
            (s = stream_of(session, frame->hd.stream_id)) && s->final_head)
            s->complete = 1;
        break;
    }
    return 0;
}

/* Server push is off (SETTINGS_ENABLE_PUSH 0); a server that promises a
 * stream anyway gets it refused. */
static int on_begin_headers(nghttp2_session *session, const nghttp2_frame *frame, void *arg)
{
    (void)arg;
    if (frame->hd.type == NGHTTP2_PUSH_PROMISE)
        nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE,
                                  frame->push_promise.promised_stream_id,
                                  NGHTTP2_REFUSED_STREAM);
    return 0;
}

static int on_frame_send(nghttp2_session *session, const nghttp2_frame *frame, void *arg)
{
    h2_conn *c = arg;
    h2_stream *s;
    if (frame->hd.type == NGHTTP2_HEADERS && (s = stream_of(session, frame->hd.stream_id)))
        s->sent = 1;
    if (frame->hd.type == NGHTTP2_GOAWAY)
        c->our_goaway = frame->goaway.error_code;
    return 0;
}

static const char *code_name(uint32_t code)
{
    /* nghttp2_http2_strerror's names ("INTERNAL_ERROR") for the known
     * codes; a number for the others (each engine thread its own) */
    static _Thread_local char other[32];
    if (code <= NGHTTP2_HTTP_1_1_REQUIRED)
        return nghttp2_http2_strerror(code);
    snprintf(other, sizeof other, "error code 0x%x", code);
    return other;
}

static int on_stream_close(nghttp2_session *session, int32_t id, uint32_t code, void *arg)
{
    h2_conn *c = arg;
    h2_stream *s = stream_of(session, id);
    if (!s)
        return 0;
    char why[GOOSE_HTTP_ERROR_SIZE];
    c->reused = 1;
    if (s->complete) {
        stream_finish(s, GOOSE_TE_OK);
    } else if (s->own_error) {
        stream_finish(s, s->own_code);
    } else if (code == NGHTTP2_REFUSED_STREAM && !s->answered) {
        snprintf(why, sizeof why, "HTTP/2 stream refused by the server (%s)",
                 c->said_goaway ? "GOAWAY" : "REFUSED_STREAM");
        stream_unprocessed(s, GOOSE_TE_RECV, why);
    } else if (s->reset_by_peer) {
        snprintf(why, sizeof why, "HTTP/2 stream reset by the server: %s", code_name(code));
        stream_fail(s, GOOSE_TE_RECV, why);
    } else {
        /* nghttp2 reset it: the answer broke HTTP/2's rules */
        snprintf(why, sizeof why, "HTTP/2 stream closed: invalid response from the server (%s)",
                 code_name(code));
        stream_fail(s, GOOSE_TE_PROTOCOL, why);
    }
    return 0;
}

static ssize_t read_body(nghttp2_session *session, int32_t id, uint8_t *buf, size_t len,
                         uint32_t *flags, nghttp2_data_source *source, void *arg)
{
    (void)arg;
    h2_stream *s = source->ptr;
    if (stream_of(session, id) != s) /* it ended (a timeout): s may be another's now */
        return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    size_t left = s->req->body_len - s->body_at;
    size_t n = left < len ? left : len;
    if (n)
        memcpy(buf, (const char *)s->req->body + s->body_at, n);
    s->body_at += n;
    if (s->body_at == s->req->body_len)
        *flags |= NGHTTP2_DATA_FLAG_EOF;
    return (ssize_t)n;
}

static int make_callbacks(goose_h2 *h)
{
    if (nghttp2_session_callbacks_new(&h->cbs) != 0 || nghttp2_option_new(&h->opt) != 0)
        return -1;
    nghttp2_session_callbacks *cb = h->cbs;
    nghttp2_session_callbacks_set_on_header_callback(cb, on_header);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, on_data);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cb, on_frame_recv);
    nghttp2_session_callbacks_set_on_begin_headers_callback(cb, on_begin_headers);
    nghttp2_session_callbacks_set_on_frame_send_callback(cb, on_frame_send);
    nghttp2_session_callbacks_set_on_stream_close_callback(cb, on_stream_close);
    /* closed streams are not kept for a priority tree nobody uses */
    nghttp2_option_set_no_closed_streams(h->opt, 1);
    return 0;
}

/* ---- connections ---- */

static const nghttp2_settings_entry settings[] = {
    {NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
    {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, STREAM_WINDOW},
};

static h2_conn *conn_new(goose_h2 *h)
{
    h2_conn *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->client = h;
    c->fd = -1;
    goose__buf_init(&c->out);
    c->rev = event_new(h->base, -1, 0, on_read, c);
    c->wev = event_new(h->base, -1, 0, on_write, c);
    if (!c->rev || !c->wev || nghttp2_session_client_new2(&c->session, h->cbs, c, h->opt) != 0 ||
        nghttp2_submit_settings(c->session, NGHTTP2_FLAG_NONE, settings,
                                sizeof settings / sizeof settings[0]) != 0 ||
        nghttp2_session_set_local_window_size(c->session, NGHTTP2_FLAG_NONE, 0,
                                              CONN_WINDOW) != 0) {
        conn_free(c);
        return NULL;
    }
    c->next = h->conns;
    h->conns = c;
    return c;
}

/* The connection ends: its open streams go again or fail (settle()
 * drops it). */
static void conn_fail(h2_conn *c, goose_terr code, const char *why)
{
    if (c->dead)
        return;
    c->dead = c->goaway = 1;
    c->fail_code = code;
    snprintf(c->why, sizeof c->why, "%s", why);
    if (c->fd >= 0) {
        event_del(c->rev);
        event_del(c->wev);
    }
    goose_h2 *h = c->client;
    h2_stream *s = h->open.head;
    while (s) {
        h2_stream *next = s->next;
        if (s->conn == c)
            stream_orphaned(s, c);
        s = next;
    }
}

/* Reads as they come, for the connection's life (as h1.c). */
static void conn_ready(h2_conn *c)
{
    if (c->tls) /* one recv a burst, not two a TLS record */
        goose__tls_read_ahead(c->tls);
    event_assign(c->rev, c->client->base, c->fd, EV_READ | EV_PERSIST, on_read, c);
    if (event_add(c->rev, NULL) < 0) {
        conn_fail(c, GOOSE_TE_NOMEM, "could not watch the connection");
        return;
    }
    conn_flush(c);
}

/* Waits for the socket to be readable or writable, once.  An event still
 * armed is left alone: assigning it again would put it twice in libevent's
 * list for the fd (a write that blocked, then a read event that wrote
 * again, say), and the loop would spin. */
static void conn_wait(h2_conn *c, goose_tls_io io)
{
    short what = io == GOOSE_TLS_WANT_WRITE ? EV_WRITE : EV_READ;
    struct event *ev = what == EV_WRITE ? c->wev : c->rev;
    if (event_pending(ev, what, NULL))
        return;
    event_assign(ev, c->client->base, c->fd, what, what == EV_WRITE ? on_write : on_read, c);
    if (event_add(ev, NULL) < 0)
        conn_fail(c, GOOSE_TE_NOMEM, "could not watch the connection");
}

static void conn_handshake(h2_conn *c)
{
    goose_http_capture words = {0};
    goose_terr code = GOOSE_TE_TLS;
    goose_tls_io io = goose__tls_handshake(c->tls, &words, &code);
    if (io == GOOSE_TLS_WANT_READ || io == GOOSE_TLS_WANT_WRITE) {
        conn_wait(c, io);
        return;
    }
    c->handshaking = 0;
    /* a server without h2 answers our offer with no protocol, or with
     * OpenSSL's alert 120 (no_application_protocol) */
    if (io == GOOSE_TLS_OK ? !goose__tls_is_h2(c->tls)
                           : strstr(words.errbuf, "no application protocol") != NULL)
        conn_fail(c, GOOSE_TE_VERSION,
                  c->client->setup->version == GOOSE_HTTP_2
                      ? GOOSE_HTTP_H2_REQUIRED
                      : "The server no longer speaks HTTP/2 (ALPN did not choose h2)");
    else if (io != GOOSE_TLS_OK)
        conn_fail(c, code, words.errbuf[0] ? words.errbuf : "SSL connect error");
    else
        conn_ready(c);
}

static void conn_connected(h2_conn *c)
{
    goose_h2 *h = c->client;
    c->connecting = 0;
    if (!h->secure) {
        conn_ready(c);
        return;
    }
    if (!h->setup->tls_ctx) {
        conn_fail(c, GOOSE_TE_TLS, "SSL connect error: no TLS context");
        return;
    }
    c->tls = goose__tls_new(h->setup->tls_ctx, c->fd, h->origin.tls_host,
                            h->setup->version == GOOSE_HTTP_2 ? GOOSE_HTTP_2 : GOOSE_HTTP_AUTO,
                            h->slot);
    if (!c->tls) {
        conn_fail(c, GOOSE_TE_NOMEM, "Out of memory");
        return;
    }
    c->handshaking = 1;
    conn_handshake(c);
}

static void conn_connect(h2_conn *c);

static void connect_failed(h2_conn *c, int err)
{
    goose_h2 *h = c->client;
    if (c->fd >= 0) {
        event_del(c->wev);
        close(c->fd);
        c->fd = -1;
    }
    if (++c->addr_at < h->origin.naddrs) {
        conn_connect(c);
        return;
    }
    goose_http_capture tmp;
    goose__http_connect_error(&tmp, h->origin.authority, strlen(h->origin.authority), err);
    conn_fail(c, GOOSE_TE_CONNECT, tmp.errbuf);
}

static void conn_connect(h2_conn *c)
{
    goose_h2 *h = c->client;
    int rc = goose__dial(h->setup, h->index, &h->origin, c->addr_at, &c->fd);
    if (rc == 0) {
        conn_connected(c);
    } else if (rc == EINPROGRESS) {
        c->connecting = 1;
        event_assign(c->wev, h->base, c->fd, EV_WRITE, on_write, c);
        if (event_add(c->wev, NULL) < 0)
            connect_failed(c, ENOMEM);
    } else {
        connect_failed(c, rc);
    }
}

/* One TLS write of what is collected: 0 when bytes went, -1 when it
 * waits (an event is armed) or failed. */
static int tls_write(h2_conn *c)
{
    goose_http_capture words = {0};
    size_t n = 0;
    goose_tls_io io = goose__tls_write(c->tls, c->out.data + c->out_at, c->out.len - c->out_at,
                                       &n, &words);
    switch (io) {
    case GOOSE_TLS_OK:
        c->out_at += n;
        return 0;
    case GOOSE_TLS_WANT_WRITE:
        conn_wait(c, io);
        return -1;
    case GOOSE_TLS_WANT_READ: /* the persistent read event comes back here */
        return -1;
    case GOOSE_TLS_CLOSED:
        c->may_resend = 1;
        c->reset = errno == ECONNRESET;
        conn_fail(c, GOOSE_TE_SEND, c->reset ? "Send failure: Connection reset by peer"
                                              : "Send failure: Broken pipe");
        return -1;
    case GOOSE_TLS_FAILED:
        break;
    }
    conn_fail(c, GOOSE_TE_SEND, words.errbuf[0] ? words.errbuf : "Send failure");
    return -1;
}

/* Writes what is collected, then collects more from nghttp2, until it has
 * nothing more or the socket is full. */
static void conn_flush(h2_conn *c)
{
    if (c->dead || c->connecting || c->handshaking || (c->fd < 0 && !c->fuzz))
        return;
    for (;;) {
        if (c->out_at == c->out.len) {
            goose__buf_clear(&c->out);
            c->out_at = 0;
            while (c->out.len < WRITE_BATCH) {
                const uint8_t *data;
                ssize_t n = nghttp2_session_mem_send(c->session, &data);
                if (n < 0) {
                    conn_fail(c, GOOSE_TE_SEND, nghttp2_strerror((int)n));
                    return;
                }
                if (n == 0)
                    break;
                if (goose__buf_add(&c->out, data, (size_t)n) < 0) {
                    conn_fail(c, GOOSE_TE_NOMEM, "Out of memory");
                    return;
                }
            }
            if (c->out.len == 0)
                break;
        }
        if (c->fuzz) { /* written nowhere */
            c->out_at = c->out.len;
            continue;
        }
        if (c->tls) {
            if (tls_write(c) < 0)
                return;
            continue;
        }
        ssize_t w = send(c->fd, c->out.data + c->out_at, c->out.len - c->out_at, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && errno == EAGAIN) {
            conn_wait(c, GOOSE_TLS_WANT_WRITE);
            return;
        }
        if (w < 0) {
            char why[96];
            snprintf(why, sizeof why, "Send failure: %s", strerror(errno));
            c->may_resend = 1;
            c->reset = errno == EPIPE || errno == ECONNRESET;
            conn_fail(c, GOOSE_TE_SEND, why);
            return;
        }
        c->out_at += (size_t)w;
    }
    /* nothing more to say or hear: a GOAWAY ended it, the server's or
     * ours (nghttp2 found the server broke the protocol) */
    if (!nghttp2_session_want_read(c->session) && !nghttp2_session_want_write(c->session)) {
        char why[GOOSE_HTTP_ERROR_SIZE];
        if (c->our_goaway != NGHTTP2_NO_ERROR)
            snprintf(why, sizeof why, "HTTP/2 connection ended: the server broke the protocol (%s)",
                     code_name(c->our_goaway));
        else
            snprintf(why, sizeof why, "HTTP/2 connection closed by the server (GOAWAY: %s)",
                     code_name(c->goaway_code));
        conn_fail(c, GOOSE_TE_PROTOCOL, why);
    }
}

/* Bytes from the server; -1 when they ended the connection. */
static int conn_input(h2_conn *c, const char *data, size_t len)
{
    /* a server's first frame is SETTINGS (RFC 9113, 3.4): anything else
     * (nginx without h2c answers the preface with an HTTP/1.1 400) is a
     * server that does not speak HTTP/2 */
    if (!c->heard && len >= 4 && data[3] != NGHTTP2_SETTINGS) {
        conn_fail(c, GOOSE_TE_VERSION, GOOSE_HTTP_H2_REQUIRED);
        return -1;
    }
    c->heard = 1;
    ssize_t n = nghttp2_session_mem_recv(c->session, (const uint8_t *)data, len);
    if (n < 0) {
        char why[GOOSE_HTTP_ERROR_SIZE];
        snprintf(why, sizeof why, "HTTP/2 protocol error from the server: %s",
                 nghttp2_strerror((int)n));
        conn_fail(c, c->settings ? GOOSE_TE_PROTOCOL : GOOSE_TE_VERSION, why);
        return -1;
    }
    conn_flush(c);
    return c->dead ? -1 : 0;
}

/* After the server's FIN, a reset says it closed before our bytes came
 * (Linux reports it as EPIPE once the FIN is in), as in h1.c. */
static int reset_after_close(const h2_conn *c)
{
    int err = 0;
    socklen_t len = sizeof err;
    return getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 &&
           (err == EPIPE || err == ECONNRESET);
}

static void conn_eof(h2_conn *c, int err)
{
    char why[GOOSE_HTTP_ERROR_SIZE];
    if (err)
        snprintf(why, sizeof why, "Recv failure: %s", strerror(err));
    else if (c->said_goaway && c->goaway_code != NGHTTP2_NO_ERROR)
        snprintf(why, sizeof why, "HTTP/2 connection closed by the server (GOAWAY: %s)",
                 code_name(c->goaway_code));
    else if (!c->settings)
        snprintf(why, sizeof why, "Server returned nothing (no headers, no data)");
    else
        snprintf(why, sizeof why, "HTTP/2 connection closed by the server");
    c->may_resend = 1;
    c->reset = err == ECONNRESET || (!err && c->streams && reset_after_close(c));
    conn_fail(c, err ? GOOSE_TE_RECV : c->settings ? GOOSE_TE_RECV : GOOSE_TE_EMPTY, why);
}

/* Reads what TLS has, a bounded number of records at a time: bytes
 * OpenSSL keeps beyond that get no read event, so the event is made
 * active again for them. */
static void tls_read(h2_conn *c, char *buf, size_t cap)
{
    for (int round = 0; round < 16 && !c->dead; round++) {
        goose_http_capture words = {0};
        size_t n = 0;
        goose_tls_io io = goose__tls_read(c->tls, buf, cap, &n, &words);
        if (io == GOOSE_TLS_OK) {
            conn_input(c, buf, n);
            if (goose__tls_drained(c->tls))
                return; /* a read now would find nothing: a syscall saved */
            continue;
        }
        if (io == GOOSE_TLS_WANT_WRITE) {
            c->read_wants_write = 1; /* on_write reads again */
            conn_wait(c, io);
        } else if (io == GOOSE_TLS_CLOSED)
            conn_eof(c, errno == ECONNRESET ? ECONNRESET : 0);
        else if (io == GOOSE_TLS_FAILED)
            conn_fail(c, GOOSE_TE_RECV, words.errbuf[0] ? words.errbuf : "Recv failure");
        return;
    }
    if (!c->dead && goose__tls_pending(c->tls))
        event_active(c->rev, EV_READ, 1);
}

static void on_read(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    h2_conn *c = arg;
    goose_h2 *h = c->client;
    char buf[READ_CHUNK];
    enter(h);
    if (c->handshaking) {
        conn_handshake(c);
    } else if (c->tls) {
        tls_read(c, buf, sizeof buf);
        conn_flush(c); /* a write that waited for a read */
    } else {
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n > 0)
            conn_input(c, buf, (size_t)n);
        else if (n == 0 || (errno != EAGAIN && errno != EINTR))
            conn_eof(c, n == 0 ? 0 : errno);
    }
    settle(h);
    leave(h);
}

static void on_write(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    h2_conn *c = arg;
    goose_h2 *h = c->client;
    enter(h);
    if (c->handshaking) {
        conn_handshake(c);
    } else if (c->connecting) {
        int err = goose__dial_result(fd);
        if (err)
            connect_failed(c, err);
        else
            conn_connected(c);
    } else {
        if (c->tls && c->read_wants_write) {
            char buf[READ_CHUNK];
            c->read_wants_write = 0;
            tls_read(c, buf, sizeof buf);
        }
        conn_flush(c);
    }
    settle(h);
    leave(h);
}

/* ---- requests ---- */

static int is_idempotent(const char *method)
{
    static const char *const safe[] = {"GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"};
    for (size_t i = 0; i < sizeof safe / sizeof safe[0]; i++)
        if (strcmp(method, safe[i]) == 0)
            return 1;
    return 0;
}


/* Our own constant strings: nghttp2 need not copy them. */
#define NV_STATIC (NGHTTP2_NV_FLAG_NO_COPY_NAME | NGHTTP2_NV_FLAG_NO_COPY_VALUE)
#define NV_STATIC_NAME NGHTTP2_NV_FLAG_NO_COPY_NAME

/* One field into h->nva, pointing at the caller's bytes: they need only
 * last until nghttp2_submit_request, which copies all but what flags
 * say are static, and lower-cases the names it copies (the request's
 * own lines may say "User-Agent"). */
static int field(goose_h2 *h, size_t *n, const char *name, size_t nlen, const char *value,
                 size_t vlen, uint8_t flags)
{
    if (*n == h->nva_cap) {
        size_t cap = h->nva_cap ? 2 * h->nva_cap : 16;
        nghttp2_nv *nva = realloc(h->nva, cap * sizeof *nva);
        if (!nva)
            return -1;
        h->nva = nva;
        h->nva_cap = cap;
    }
    h->nva[(*n)++] = (nghttp2_nv){(uint8_t *)(uintptr_t)name, (uint8_t *)(uintptr_t)value, nlen,
                                  vlen, flags};
    return 0;
}

static int named(const char *line, size_t n, const char *name)
{
    return strlen(name) == n && strncasecmp(line, name, n) == 0;
}

/* Fields HTTP/2 forbids (RFC 9113, 8.2.2; TE only as "trailers"), and
 * Host, which :authority says. */
static int forbidden(const char *name, size_t n, const char *v, size_t vlen)
{
    if (named(name, n, "TE"))
        return !(vlen == 8 && strncasecmp(v, "trailers", 8) == 0);
    return named(name, n, "Connection") || named(name, n, "Keep-Alive") ||
           named(name, n, "Proxy-Connection") || named(name, n, "Transfer-Encoding") ||
           named(name, n, "Upgrade") || named(name, n, "Host");
}

typedef struct given {
    int accept, type, agent;
    const char *host;
    size_t host_len;
} given;

/* The request's own lines, as curl reads them: "Name: value" is sent,
 * "Name;" sends the field empty, "Name:" only removes ours. */
static int own_fields(goose_h2 *h, size_t *n, const goose_lines *l, given *g)
{
    const char *line = NULL;
    while (l && (line = goose__lines_next(l, line))) {
        size_t nlen = strcspn(line, ":;");
        if (!line[nlen] || nlen == 0)
            continue;
        int empty = line[nlen] == ';';
        const char *v = line + nlen + 1;
        while (*v == ' ' || *v == '\t')
            v++;
        g->accept |= named(line, nlen, "Accept");
        g->agent |= named(line, nlen, "User-Agent");
        g->type |= named(line, nlen, "Content-Type");
        if (empty)
            v = "";
        else if (!*v)
            continue;
        size_t vlen = strlen(v);
        while (vlen && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
            vlen--;
        if (named(line, nlen, "Host") && vlen) {
            g->host = v;
            g->host_len = vlen;
        }
        if (forbidden(line, nlen, v, vlen))
            continue;
        if (field(h, n, line, nlen, v, vlen, NGHTTP2_NV_FLAG_NONE) < 0)
            return -1;
    }
    return 0;
}

/* The request's fields into h->nva: *n of them; -1 out of memory.  They
 * point into the request, h and constants (no copies of ours). */
static int build_fields(goose_h2 *h, const goose_http_request *req, size_t *n)
{
    static const char ua[] = "user-agent", accept[] = "accept", any[] = "*/*",
                      form[] = "application/x-www-form-urlencoded";
    given g = {0};
    const goose_url_parts *p = req->parts;
    const char *path = p->path;
    size_t path_len = p->path_len;
    *n = 0;
    if (path_len == 0 || path[0] != '/') { /* "/" before it */
        goose__buf_clear(&h->fields);
        if (goose__buf_add(&h->fields, "/", 1) < 0 ||
            goose__buf_add(&h->fields, path, path_len) < 0)
            return -1;
        path = h->fields.data;
        path_len = h->fields.len;
    }
    /* pseudo-fields first; :authority's value comes after the lines,
     * which may name their own Host (curl sends that one) */
    if (field(h, n, ":method", 7, req->method, strlen(req->method), NV_STATIC_NAME) < 0 ||
        field(h, n, ":scheme", 7, h->secure ? "https" : "http", h->secure ? 5 : 4,
              NV_STATIC) < 0 ||
        field(h, n, ":authority", 10, "", 0, NV_STATIC_NAME) < 0 ||
        field(h, n, ":path", 5, path, path_len, NV_STATIC_NAME) < 0 ||
        own_fields(h, n, req->headers, &g) < 0)
        return -1;
    if (!g.agent && field(h, n, ua, sizeof ua - 1, &GOOSE_HTTP_USER_AGENT[12],
                          sizeof GOOSE_HTTP_USER_AGENT - 13, NV_STATIC) < 0)
        return -1;
    if (!g.accept && field(h, n, accept, sizeof accept - 1, any, sizeof any - 1, NV_STATIC) < 0)
        return -1;
    if (req->cookie &&
        field(h, n, "cookie", 6, req->cookie, strlen(req->cookie), NV_STATIC_NAME) < 0)
        return -1;
    if (req->has_body) {
        int l = snprintf(h->length, sizeof h->length, "%zu", req->body_len);
        if ((!g.type &&
             field(h, n, "content-type", 12, form, sizeof form - 1, NV_STATIC) < 0) ||
            field(h, n, "content-length", 14, h->length, (size_t)l, NV_STATIC_NAME) < 0)
            return -1;
    }
    h->nva[2].value = (uint8_t *)(uintptr_t)(g.host ? g.host : h->authority);
    h->nva[2].valuelen = g.host ? g.host_len : strlen(h->authority);
    return 0;
}

/* Whether the server has not closed an idle connection: asked before a
 * request that may not be sent twice, as h1.c does (one recv). */
static int still_open(const h2_conn *c)
{
    char byte;
    ssize_t n = recv(c->fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

/* The connection new streams go on: the newest that takes them, else a
 * new one (connecting).  NULL when out of memory or when fuzzing. */
static h2_conn *usable_conn(goose_h2 *h, int idempotent)
{
    for (h2_conn *c = h->conns; c; c = c->next) {
        if (c->goaway || c->dead)
            continue;
        if (!idempotent && !c->streams && c->fd >= 0 && !c->connecting && !still_open(c)) {
            c->goaway = 1; /* the server closed it: its EOF is waiting */
            continue;
        }
        return c;
    }
    if (h->fuzzing)
        return NULL;
    h2_conn *c = conn_new(h);
    if (c)
        conn_connect(c);
    return c;
}

static void stream_start(h2_stream *s)
{
    goose_h2 *h = s->client;
    size_t n;
    if (build_fields(h, s->req, &n) < 0) {
        stream_fail(s, GOOSE_TE_NOMEM, "Out of memory");
        return;
    }
    for (int tries = 0; tries < 2; tries++) {
        h2_conn *c = usable_conn(h, s->idempotent);
        if (!c) {
            stream_fail(s, GOOSE_TE_NOMEM, h->fuzzing ? "No connection" : "Out of memory");
            return;
        }
        if (c->dead) { /* it failed at once (connect) */
            stream_fail(s, c->fail_code, c->why);
            return;
        }
        nghttp2_data_provider body = {.source.ptr = s, .read_callback = read_body};
        int has_data = s->req->has_body && s->req->body_len > 0;
        int32_t id = nghttp2_submit_request(c->session, NULL, h->nva, n,
                                            has_data ? &body : NULL, s);
        if (id == NGHTTP2_ERR_STREAM_ID_NOT_AVAILABLE) { /* 2^31 streams: a new one */
            c->goaway = 1;
            continue;
        }
        if (id < 0) {
            stream_fail(s, GOOSE_TE_NOMEM, nghttp2_strerror(id));
            return;
        }
        s->id = id;
        s->conn = c;
        c->streams++;
        move_to(s, STREAM_OPEN);
        conn_flush(c);
        return;
    }
    stream_fail(s, GOOSE_TE_OTHER, "HTTP/2: no stream identifiers left");
}

/* Drops dead connections, and those told to go that carry nothing. */
static void sweep(goose_h2 *h)
{
    h2_conn **at = &h->conns;
    while (*at) {
        h2_conn *c = *at;
        if (c->dead || (c->goaway && c->streams == 0)) {
            *at = c->next;
            conn_free(c);
        } else {
            at = &c->next;
        }
    }
}

/* After nghttp2 returned: pending streams start, dead connections go,
 * finished streams are reported -- unless inside goose__h2_send. */
static void settle(goose_h2 *h)
{
    while (h->pending.head)
        stream_start(h->pending.head);
    sweep(h);
    if (h->in_send) {
        if (h->finished.head)
            event_active(h->later, EV_TIMEOUT, 1);
        return;
    }
    h2_stream *s;
    while (!h->doomed && (s = h->finished.head)) {
        move_to(s, STREAM_SPARE);
        h->done(h->arg, s->capture, s->result, goose__now_us());
    }
}

static void on_timeout(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    h2_stream *s = arg;
    goose_h2 *h = s->client;
    enter(h);
    h2_conn *c = s->conn;
    if (c && s->id > 0) {
        nghttp2_submit_rst_stream(c->session, NGHTTP2_FLAG_NONE, s->id, NGHTTP2_CANCEL);
        detach(s); /* before the reset's close could report it */
    }
    goose__http_timeout_error(s->capture, s->timeout_ms);
    stream_finish(s, GOOSE_TE_TIMEOUT);
    if (c)
        conn_flush(c);
    settle(h);
    leave(h);
}

static h2_stream *stream_new(goose_h2 *h)
{
    h2_stream *s = h->spare.head;
    if (s) {
        list_remove(&h->spare, s);
        return s;
    }
    s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->client = h;
    if (!(s->timer = evtimer_new(h->base, on_timeout, s))) { /* a request may have a limit */
        free(s);
        return NULL;
    }
    return s;
}

goose_terr goose__h2_send(goose_h2 *h, const goose_http_request *req,
                          goose_http_capture *capture)
{
    h2_stream *s = stream_new(h);
    if (!s) {
        snprintf(capture->errbuf, sizeof capture->errbuf, "Out of memory");
        return GOOSE_TE_NOT_SENT;
    }
    s->req = req;
    s->capture = capture;
    s->id = 0;
    s->conn = NULL;
    s->body_at = 0;
    s->sent = s->answered = s->complete = s->retried = 0;
    s->final_head = s->reset_by_peer = s->own_error = 0;
    s->idempotent = is_idempotent(req->method);
    s->state = STREAM_PENDING;
    list_push(&h->pending, s);
    s->timeout_ms = goose__http_timeout_ms(h->setup, req);
    if (s->timeout_ms > 0) { /* what is left of it when another client began it */
        uint64_t spent_ms = req->started_us ? (goose__now_us() - req->started_us) / 1000 : 0;
        long left = spent_ms < (uint64_t)s->timeout_ms ? s->timeout_ms - (long)spent_ms : 0;
        struct timeval tv = {left / 1000, (left % 1000) * 1000};
        evtimer_add(s->timer, &tv);
    }
    enter(h);
    int was_in_send = h->in_send;
    h->in_send = 1;
    settle(h);
    h->in_send = was_in_send;
    goose_terr rc = GOOSE_TE_AGAIN;
    if (s->state == STREAM_FINISHED) { /* ended at once: no done() for it */
        rc = s->result;
        move_to(s, STREAM_SPARE);
    }
    leave(h);
    return rc;
}

int goose__h2_idle(const goose_h2 *h)
{
    return !h->pending.head && !h->open.head && !h->finished.head;
}

void goose__h2_session_slot(goose_h2 *h, struct goose_tls_session **slot)
{
    h->slot = slot ? slot : &h->session;
}

int goose__h2_adopt(goose_h2 *h, int fd, struct goose_tls *tls)
{
    h2_conn *c = conn_new(h);
    if (!c)
        return -1;
    c->fd = fd;
    c->tls = tls;
    enter(h);
    conn_ready(c);
    settle(h);
    leave(h);
    return 0;
}

/* ---- fuzzing ---- */

int goose__h2_fuzz_open(goose_h2 *h)
{
    h2_conn *c = conn_new(h);
    if (!c)
        return -1;
    c->fuzz = 1;
    h->fuzzing = 1;
    return 0;
}

int goose__h2_fuzz_input(goose_h2 *h, const void *data, size_t len)
{
    h2_conn *c = h->conns;
    if (!c || !c->fuzz)
        return -1;
    enter(h);
    conn_input(c, data, len);
    settle(h);
    int alive = h->conns == c && !c->dead;
    return leave(h) ? -1 : alive ? 0 : -1;
}
