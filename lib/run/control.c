/* The controller's port: a thread of its own with an event loop that
 * tells the two protocols apart by the first line - "GET /metrics
 * HTTP/1.1" is HTTP, anything else a telnet-style session of one command
 * per line - and hands each command to the run's control loop, waiting
 * for its answer.  Sizes are bounded: a line, the headers and a body are
 * at most 8 KiB, 64 connections at once. */
#include "run/control.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "util/hostport.h"
#include "util/loop.h"

#define LINE_MAX_BYTES 8192
#define CONNS_MAX 64
#define ANSWERS_MAX_BYTES (1024 * 1024) /* unread answers of one client */
#define IDLE_S 600                     /* a silent connection closes */
#define ANSWER_WAIT_S 10

typedef struct pending {
    const char *command;
    const char *value;
    goose_control_reply *reply;
    int done;
} pending;

struct goose_control {
    goose_attack *a;
    goose_loop loop;
    struct evconnlistener *listener;
    struct conn *conns;
    size_t nconns;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    pending *pending;        /* under lock */
    int closing;             /* under lock */
    goose_control_state state; /* the control loop's */
};

typedef struct conn {
    struct conn *next, *prev; /* every open connection, to close at the end */
    goose_control *ctl;
    struct bufferevent *bev;
    int http;                /* -1: not known yet */
    char *head;              /* HTTP: the request line */
    long body_len;           /* HTTP: -1 until the headers are in */
    int closing;             /* the last answer is going out: read no more */
} conn;

/* ---- the mailbox ---- */

static void ask(goose_control *ctl, const char *command, const char *value,
                goose_control_reply *reply)
{
    pending p = {command, value, reply, 0};
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += ANSWER_WAIT_S;
    pthread_mutex_lock(&ctl->lock);
    ctl->pending = &p;
    while (!p.done && !ctl->closing &&
           pthread_cond_timedwait(&ctl->cond, &ctl->lock, &until) != ETIMEDOUT)
        ;
    ctl->pending = NULL;
    pthread_mutex_unlock(&ctl->lock);
    if (!p.done) {
        reply->ok = 0;
        goose__buf_clear(&reply->text);
        goose__buf_adds(&reply->text, "the test is ending: no answer");
    }
}

void goose__control_poll(goose_control *ctl, const goose_control_run *run)
{
    if (!ctl)
        return;
    pthread_mutex_lock(&ctl->lock);
    pending *p = ctl->pending;
    if (p && !p->done) {
        goose__control_execute(&ctl->state, run, p->command, p->value, p->reply);
        p->done = 1;
        pthread_cond_broadcast(&ctl->cond);
    }
    pthread_mutex_unlock(&ctl->lock);
}

int goose__control_reset(goose_control *ctl, const goose_run_config *cfg)
{
    if (!ctl)
        return 0;
    goose__control_state_free(&ctl->state);
    return goose__control_state_init(&ctl->state, cfg);
}

/* ---- connections ---- */

static void conn_free(conn *c)
{
    c->ctl->nconns--;
    if (c->prev)
        c->prev->next = c->next;
    else
        c->ctl->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    bufferevent_free(c->bev);
    free(c->head);
    free(c);
}

static void on_drained(struct bufferevent *bev, void *arg)
{
    (void)bev;
    conn_free(arg);
}

static void on_event(struct bufferevent *bev, short what, void *arg);

/* Reads no more; the connection closes once its last bytes are out (the
 * end of on_read frees it when there are none: never under its feet). */
static void finish(conn *c)
{
    c->closing = 1;
    bufferevent_disable(c->bev, EV_READ);
    bufferevent_setcb(c->bev, NULL, on_drained, on_event, c);
}

/* "users 10" -> command "users", value "10" (NULL when none). */
static void split_command(char *line, char **command, char **value)
{
    char *p = line + strspn(line, " \t");
    char *end = p + strlen(p);
    while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
        *--end = '\0';
    *command = p;
    char *space = p + strcspn(p, " \t");
    *value = NULL;
    if (*space) {
        *space = '\0';
        *value = space + 1 + strspn(space + 1, " \t");
    }
}

static void telnet_line(conn *c, char *line)
{
    char *command, *value;
    split_command(line, &command, &value);
    if (!*command)
        return;
    if (!strcmp(command, "quit") || !strcmp(command, "exit")) {
        finish(c);
        return;
    }
    goose_control_reply r = {0};
    goose__buf_init(&r.text);
    ask(c->ctl, command, value, &r);
    struct evbuffer *out = bufferevent_get_output(c->bev);
    const char *text = r.text.data ? r.text.data : "";
    if (strchr(text, '\n'))
        evbuffer_add_printf(out, "%s%s", text, text[strlen(text) - 1] == '\n' ? "" : "\n");
    else
        evbuffer_add_printf(out, "%s: %s\n", r.ok ? "ok" : "error", text);
    goose__buf_free(&r.text);
    json_decref(r.data);
}

static int is_http_request_line(const char *line)
{
    const char *sp = strchr(line, ' ');
    const char *last = strrchr(line, ' ');
    return sp && last != sp && line[0] >= 'A' && line[0] <= 'Z' && last[1] &&
           !strncmp(last + 1, "HTTP/1.", 7);
}

static void on_read(struct bufferevent *bev, void *arg);

/* The peer left, a write failed, or the connection sat idle too long. */
static void on_event(struct bufferevent *bev, short what, void *arg)
{
    (void)bev;
    if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT))
        conn_free(arg);
}

static void too_long(conn *c)
{
    const char *http = c->body_len == -3 ? "411 Length Required" : "413 Payload Too Large";
    if (c->http == 1)
        evbuffer_add_printf(bufferevent_get_output(c->bev),
                            "HTTP/1.1 %s\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                            http);
    else
        evbuffer_add_printf(bufferevent_get_output(c->bev),
                            "error: line longer than %d bytes\n", LINE_MAX_BYTES);
    finish(c);
}

static void http_request(conn *c, struct evbuffer *in);

static void read_input(conn *c, struct evbuffer *in);

static void on_read(struct bufferevent *bev, void *arg)
{
    conn *c = arg;
    read_input(c, bufferevent_get_input(bev));
    if (c->closing && evbuffer_get_length(bufferevent_get_output(bev)) == 0)
        conn_free(c);
}

/* Lines, or one HTTP request, as far as they have come in. */
static void read_input(conn *c, struct evbuffer *in)
{
    while (c->http != 1 && !c->closing) {
        size_t n;
        char *line = evbuffer_readln(in, &n, EVBUFFER_EOL_CRLF);
        if (!line) {
            if (evbuffer_get_length(in) > LINE_MAX_BYTES)
                too_long(c);
            return;
        }
        if (c->http < 0 && is_http_request_line(line)) {
            c->http = 1;
            c->head = line;
            break;
        }
        c->http = 0;
        if (n > LINE_MAX_BYTES ||
            evbuffer_get_length(bufferevent_get_output(c->bev)) > ANSWERS_MAX_BYTES)
            too_long(c); /* or a client that never reads its answers */
        else
            telnet_line(c, line);
        free(line);
    }
    if (c->http == 1 && !c->closing)
        http_request(c, in);
}

static void on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
                      int len, void *arg)
{
    (void)l, (void)sa, (void)len;
    goose_control *ctl = arg;
    if (ctl->nconns >= CONNS_MAX) {
        static const char busy[] = "error: too many controller connections\n";
        ssize_t n = write(fd, busy, sizeof busy - 1);
        (void)n;
        evutil_closesocket(fd);
        return;
    }
    conn *c = calloc(1, sizeof *c);
    struct bufferevent *bev = bufferevent_socket_new(ctl->loop.base, fd, BEV_OPT_CLOSE_ON_FREE);
    if (!c || !bev) {
        free(c);
        if (bev)
            bufferevent_free(bev);
        else
            evutil_closesocket(fd);
        return;
    }
    ctl->nconns++;
    c->next = ctl->conns;
    if (ctl->conns)
        ctl->conns->prev = c;
    ctl->conns = c;
    c->ctl = ctl;
    c->bev = bev;
    c->http = -1;
    c->body_len = -1;
    bufferevent_setcb(bev, on_read, NULL, on_event, c);
    struct timeval idle = {IDLE_S, 0};
    bufferevent_set_timeouts(bev, &idle, NULL);
    bufferevent_enable(bev, EV_READ | EV_WRITE);
}

/* ---- HTTP: one request per connection, JSON both ways ---- */

static int hexval(char ch)
{
    return ch >= '0' && ch <= '9' ? ch - '0'
           : (ch | 32) >= 'a' && (ch | 32) <= 'f' ? (ch | 32) - 'a' + 10 : -1;
}

/* Decodes %XX and '+' in place. */
static void url_decode(char *s)
{
    char *out = s;
    for (; *s; s++) {
        if (*s == '%' && hexval(s[1]) >= 0 && hexval(s[2]) >= 0) {
            *out++ = (char)(hexval(s[1]) * 16 + hexval(s[2]));
            s += 2;
        } else {
            *out++ = *s == '+' ? ' ' : *s;
        }
    }
    *out = '\0';
}

/* The headers: only Content-Length matters.  0 when complete, 1 when more
 * is needed, -1 on a bad request. */
static int read_headers(conn *c, struct evbuffer *in)
{
    for (;;) {
        size_t n;
        char *line = evbuffer_readln(in, &n, EVBUFFER_EOL_CRLF);
        if (!line)
            return evbuffer_get_length(in) > LINE_MAX_BYTES ? -1 : 1;
        if (n == 0) {
            free(line);
            if (c->body_len < 0)
                c->body_len = 0;
            return 0;
        }
        if (!strncasecmp(line, "Content-Length:", 15)) {
            char *end;
            long v = strtol(line + 15, &end, 10);
            end += strspn(end, " \t");
            c->body_len = (*end || v < 0 || v > LINE_MAX_BYTES) ? -2 : v;
        } else if (!strncasecmp(line, "Transfer-Encoding:", 18)) {
            c->body_len = -3; /* chunked: not for a one-value command */
        }
        free(line);
        if (c->body_len <= -2)
            return -1;
    }
}

/* The "value" parameter of a query or form body ("a=1&value=3"), decoded
 * in place; NULL when there is none. */
static char *form_value(char *form)
{
    for (char *p = form; p && *p;) {
        char *amp = strchr(p, '&');
        if (amp)
            *amp = '\0';
        if (!strncmp(p, "value=", 6)) {
            url_decode(p + 6);
            return p + 6;
        }
        p = amp ? amp + 1 : NULL;
    }
    return NULL;
}

/* The value: ?value=..., or the body's "value" (JSON or a form), or the
 * body itself with its surrounding white space dropped. */
static char *request_value(char *query, char *body, json_t *json)
{
    char *form = form_value(query);
    if (form || (!json && (form = form_value(strstr(body, "value=") == body ? body : NULL))))
        return strdup(form);
    json_t *v = json ? json_object_get(json, "value") : NULL;
    if (json_is_string(v))
        return strdup(json_string_value(v));
    if (json_is_integer(v) || json_is_real(v)) {
        char buf[64];
        snprintf(buf, sizeof buf, "%.17g", json_number_value(v));
        return strdup(buf);
    }
    if (json)
        return NULL;
    char *start = body + strspn(body, " \t\r\n");
    size_t n = strlen(start);
    while (n && strchr(" \t\r\n", start[n - 1]))
        n--;
    return n ? strndup(start, n) : NULL;
}

/* JSON strings are UTF-8: a value echoed in an answer may not be. */
static json_t *json_text(const char *s)
{
    json_t *j = json_string(s);
    if (j)
        return j;
    char *copy = strdup(s);
    for (char *p = copy; p && *p; p++)
        if ((unsigned char)*p >= 0x80)
            *p = '?';
    j = json_string(copy ? copy : "");
    free(copy);
    return j;
}

static void http_answer(conn *c, const char *command, const goose_control_reply *r)
{
    const char *message = r->data ? "" : r->text.data ? r->text.data : "";
    json_t *o = json_pack("{s:b, s:o, s:o}", "ok", r->ok, "command", json_text(command),
                          "message", json_text(message));
    if (o && r->data)
        json_object_set(o, "data", r->data);
    char *text = o ? json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(12)) : NULL;
    json_decref(o);
    evbuffer_add_printf(bufferevent_get_output(c->bev),
                        "HTTP/1.1 %s\r\nContent-Type: application/json\r\n"
                        "Content-Length: %zu\r\nConnection: close\r\n\r\n%s\n",
                        r->ok ? "200 OK" : "400 Bad Request", text ? strlen(text) + 1 : 0,
                        text ? text : "");
    free(text);
}

static void http_handle(conn *c, char *body)
{
    char *path = strchr(c->head, ' ') + 1;
    *strchr(path, ' ') = '\0';
    char *query = strchr(path, '?');
    if (query)
        *query++ = '\0';
    json_t *json = *body ? json_loads(body, JSON_DECODE_ANY, NULL) : NULL;
    if (json && !json_is_object(json)) {
        json_decref(json);
        json = NULL;
    }
    char *first = path + strspn(path, "/");
    first[strcspn(first, "/")] = '\0'; /* "/users/" is "users" */
    const char *command = first;
    json_t *named = json ? json_object_get(json, "command") : NULL;
    if (!*command && !named && json)
        named = json_object_get(json, "request"); /* Goose's WebSocket form */
    if (!*command)
        command = json_is_string(named) ? json_string_value(named) : "help";
    char *value = request_value(query, body, json);
    goose_control_reply r = {0};
    goose__buf_init(&r.text);
    ask(c->ctl, command, value, &r);
    http_answer(c, command, &r);
    goose__buf_free(&r.text);
    json_decref(r.data);
    json_decref(json);
    free(value);
    finish(c);
}

static void http_request(conn *c, struct evbuffer *in)
{
    if (c->body_len < 0) {
        int rc = read_headers(c, in);
        if (rc < 0) {
            too_long(c);
            return;
        }
        if (rc > 0)
            return;
    }
    if (evbuffer_get_length(in) < (size_t)c->body_len)
        return;
    char *body = calloc(1, (size_t)c->body_len + 1);
    if (!body) {
        finish(c);
        return;
    }
    evbuffer_remove(in, body, (size_t)c->body_len);
    http_handle(c, body);
    free(body);
}

/* ---- the server ---- */

static int listen_on(goose_control *ctl, const char *hostport)
{
    char host[256], port[8];
    unsigned p;
    if (goose__split_hostport(hostport, host, sizeof host, &p) < 0)
        return goose__fail(ctl->a, GOOSE_ECONFIG,
                           "--controller \"%s\" must be HOST:PORT or PORT", hostport);
    snprintf(port, sizeof port, "%u", p);
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE};
    struct addrinfo *res = NULL;
    int rc = getaddrinfo(host, port, &hints, &res);
    if (rc != 0)
        return goose__fail(ctl->a, GOOSE_ECONFIG, "--controller %s: %s", host, gai_strerror(rc));
    ctl->listener = evconnlistener_new_bind(ctl->loop.base, on_accept, ctl,
                                            LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE |
                                                LEV_OPT_CLOSE_ON_EXEC,
                                            16, res->ai_addr, (int)res->ai_addrlen);
    freeaddrinfo(res);
    if (!ctl->listener)
        return goose__fail(ctl->a, GOOSE_ECONFIG, "--controller: cannot listen on %s:%u: %s",
                           host, p, strerror(errno));
    goose__log(ctl->a, GOOSE_LOG_INFO, "controller listening on %s:%u (telnet or HTTP)", host, p);
    return GOOSE_OK;
}

goose_control *goose__control_start(goose_attack *a, const char *hostport,
                                    const goose_run_config *cfg)
{
    goose_control *ctl = calloc(1, sizeof *ctl);
    if (!ctl) {
        goose__fail(a, GOOSE_ENOMEM, "out of memory");
        return NULL;
    }
    ctl->a = a;
    pthread_mutex_init(&ctl->lock, NULL);
    pthread_cond_init(&ctl->cond, NULL);
    if (goose__loop_init(&ctl->loop) < 0 || goose__control_state_init(&ctl->state, cfg) < 0) {
        goose__fail(a, GOOSE_ESYS, "--controller: cannot set up its event loop");
        goose__control_stop(ctl);
        return NULL;
    }
    if (listen_on(ctl, hostport) != GOOSE_OK) {
        goose__control_stop(ctl);
        return NULL;
    }
    if (goose__loop_start(&ctl->loop) < 0) {
        goose__fail(a, GOOSE_ESYS, "--controller: cannot start its thread");
        goose__control_stop(ctl);
        return NULL;
    }
    return ctl;
}

void goose__control_stop(goose_control *ctl)
{
    if (!ctl)
        return;
    pthread_mutex_lock(&ctl->lock);
    ctl->closing = 1;
    pthread_cond_broadcast(&ctl->cond);
    pthread_mutex_unlock(&ctl->lock);
    goose__loop_stop(&ctl->loop);
    while (ctl->conns)
        conn_free(ctl->conns);
    if (ctl->listener)
        evconnlistener_free(ctl->listener);
    goose__loop_free(&ctl->loop);
    goose__control_state_free(&ctl->state);
    pthread_mutex_destroy(&ctl->lock);
    pthread_cond_destroy(&ctl->cond);
    free(ctl);
}
