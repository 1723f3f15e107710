/* libcurl as a row of the transport table: whatever the own clients do
 * not take (https, proxies, host names that need DNS, unusual URLs).
 *
 * Per run: curl's global init, the default header lists and the --resolve
 * list.  Per engine thread: a CURLM driven by the thread's event_base
 * through curl's socket and timer callbacks (the hiperfifo pattern).  Per
 * user: one easy handle, set up once (keep-alive, no signals) and
 * re-aimed for each request, with a share of its own so that its
 * connections are its own; up to 6 when its requests go at once (a batch).  This is the one file that speaks curl: its
 * results leave as goose_terr, its words in the capture's errbuf. */
#include "http/transport.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http/tls.h"
#include "util/clock.h"

_Static_assert(GOOSE_HTTP_ERROR_SIZE >= CURL_ERROR_SIZE, "curl writes CURL_ERROR_SIZE bytes");

/* ---- per run ---- */

typedef struct curl_run {
    const goose_http_setup *setup;
    struct curl_slist *plain;     /* User-Agent */
    struct curl_slist *with_body; /* User-Agent, and no "Expect: 100-continue" */
    struct curl_slist *resolve;   /* the --resolve entries, or NULL */
} curl_run;

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;

static void init_curl(void)
{
    curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static void run_free(void *arg)
{
    curl_run *r = arg;
    if (!r)
        return;
    curl_slist_free_all(r->plain);
    curl_slist_free_all(r->with_body);
    curl_slist_free_all(r->resolve);
    free(r);
}

/* Headers every request carries unless it says otherwise.  A fixed list
 * costs curl far less than CURLOPT_USERAGENT, which it formats again for
 * every request (6,500 instructions, a tenth of a request's). */
static int default_headers(curl_run *r)
{
    r->plain = curl_slist_append(NULL, GOOSE_HTTP_USER_AGENT);
    r->with_body = curl_slist_append(NULL, GOOSE_HTTP_USER_AGENT);
    if (r->with_body && !curl_slist_append(r->with_body, "Expect:")) {
        curl_slist_free_all(r->with_body);
        r->with_body = NULL;
    }
    return r->plain && r->with_body ? 0 : -1;
}

/* lines (may be NULL) appended to *list; -1 when out of memory. */
static int append_lines(struct curl_slist **list, const goose_lines *lines)
{
    const char *s = NULL;
    while (lines && (s = goose__lines_next(lines, s))) {
        struct curl_slist *l = curl_slist_append(*list, s);
        if (!l)
            return -1;
        *list = l;
    }
    return 0;
}

static int run_new(void **out, const goose_http_setup *setup, char *err, size_t errlen)
{
    pthread_once(&curl_once, init_curl);
    if (curl_init_rc != CURLE_OK) {
        snprintf(err, errlen, "curl_global_init failed: %s", curl_easy_strerror(curl_init_rc));
        return -1;
    }
    curl_run *r = calloc(1, sizeof *r);
    if (!r || default_headers(r) < 0 || append_lines(&r->resolve, setup->resolve) < 0) {
        run_free(r);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    r->setup = setup;
    *out = r;
    return 0;
}

/* ---- per user ---- */

/* Easy handles a user may have under way at once (goose_batch): a
 * browser's connections per origin.  The first is made with the user;
 * the others when first needed, sharing its connections. */
#define EASIES 6

typedef struct curl_user {
    curl_run *run;
    struct curl_thread *thread;
    goose_transport_done_fn done;
    void *arg;
    CURL *easy;
    CURLSH *share;             /* the user's own connection pool */
    CURLU *uh;                 /* the URL the handle is aimed at, parsed once */
    goose_buf url;
    struct curl_slist *extra;  /* this request's header list, when not a default */
    goose_http_capture *capture;
    const char *authority;     /* of the request under way, or NULL */
    size_t authority_len;
    const char *host;          /* its host, or NULL */
    size_t host_len;
    int busy;                  /* in the multi handle */
    int secure;                /* the request under way is https:// */
    unsigned index;
    struct curl_user *more[EASIES - 1]; /* the first's: its other handles */
} curl_user;

/* ---- per thread ---- */

typedef struct curl_thread {
    struct event_base *base;
    CURLM *multi;
    struct event *timer;
} curl_thread;

typedef struct curl_sock {
    struct event *ev;
    curl_socket_t fd;
} curl_sock;

static goose_terr terr_of(CURLcode rc)
{
    switch (rc) {
    case CURLE_OK: return GOOSE_TE_OK;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY: return GOOSE_TE_RESOLVE;
    case CURLE_COULDNT_CONNECT: return GOOSE_TE_CONNECT;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR: return GOOSE_TE_TLS;
    case CURLE_OPERATION_TIMEDOUT: return GOOSE_TE_TIMEOUT;
    case CURLE_SEND_ERROR: return GOOSE_TE_SEND;
    case CURLE_RECV_ERROR: return GOOSE_TE_RECV;
    case CURLE_WEIRD_SERVER_REPLY: return GOOSE_TE_PROTOCOL;
    case CURLE_UNSUPPORTED_PROTOCOL: return GOOSE_TE_VERSION;
    case CURLE_GOT_NOTHING: return GOOSE_TE_EMPTY;
    case CURLE_PARTIAL_FILE: return GOOSE_TE_PARTIAL;
    case CURLE_OUT_OF_MEMORY: return GOOSE_TE_NOMEM;
    case CURLE_ABORTED_BY_CALLBACK: return GOOSE_TE_ABORTED;
    default: return GOOSE_TE_OTHER;
    }
}

/* A certificate problem is worded as the own clients word it
 * (goose__tls_verify_error): the same row of the errors table whichever
 * transport met it. */
static void tls_words(curl_user *cu, goose_http_capture *c, int handshake)
{
    long verify = 0;
    char host[256];
    size_t len = cu->host_len < sizeof host ? cu->host_len : sizeof host - 1;
    memcpy(host, cu->host ? cu->host : "", cu->host ? len : 0);
    host[cu->host ? len : 0] = '\0';
    /* a check that failed without stopping a handshake is no error; 1
     * (!X509_V_OK) is curl's "not read": its own host-name check failed
     * first, in the words goose__tls_verify_error uses */
    if (handshake && !cu->run->setup->tls.accept_invalid_certs)
        curl_easy_getinfo(cu->easy, CURLINFO_SSL_VERIFYRESULT, &verify);
    if (verify == 1)
        verify = 0;
    goose__tls_verify_error(c, verify, host);
}

static goose_http_protocol protocol_of(long curl_version)
{
    switch (curl_version) {
    case CURL_HTTP_VERSION_1_0: return GOOSE_PROTO_HTTP_1_0;
    case CURL_HTTP_VERSION_1_1: return GOOSE_PROTO_HTTP_1_1;
    case CURL_HTTP_VERSION_2_0: return GOOSE_PROTO_HTTP_2;
    default: return GOOSE_PROTO_NONE;
    }
}

/* --http-version 2: over TLS curl falls back to HTTP/1.1 when ALPN does
 * not choose h2, and an answer that came so fails the request; in clear
 * text (prior knowledge) a server that speaks no HTTP/2 closes without an
 * answer (nginx) or breaks curl's framing, which is said in like words. */
static goose_terr h2_required(curl_user *cu, CURLcode rc)
{
    goose_http_capture *c = cu->capture;
    if (rc == CURLE_OK && c->protocol != GOOSE_PROTO_HTTP_2) {
        goose__http_h2_required_error(c, c->protocol);
        return GOOSE_TE_VERSION;
    }
    if (!cu->secure && c->protocol == GOOSE_PROTO_NONE &&
        (rc == CURLE_HTTP2 || rc == CURLE_GOT_NOTHING || rc == CURLE_WEIRD_SERVER_REPLY)) {
        goose__http_h2_required_error(c, GOOSE_PROTO_NONE);
        return GOOSE_TE_VERSION;
    }
    return terr_of(rc);
}

/* The transfer ended: its status and words go to the capture.  curl's
 * texts for a refused connection and a timeout carry timings; every
 * transport says them alike (see goose__http_connect_error). */
static goose_terr transfer_done(curl_user *cu, CURLcode rc)
{
    goose_http_capture *c = cu->capture;
    long code = 0, version = 0;
    curl_easy_getinfo(cu->easy, CURLINFO_RESPONSE_CODE, &code);
    curl_easy_getinfo(cu->easy, CURLINFO_HTTP_VERSION, &version);
    c->status = (int)code;
    c->protocol = code ? protocol_of(version) : GOOSE_PROTO_NONE;
    long timeout_ms = cu->run->setup->timeout_ms;
    if (rc == CURLE_COULDNT_CONNECT && cu->authority) {
        long err = 0;
        curl_easy_getinfo(cu->easy, CURLINFO_OS_ERRNO, &err);
        goose__http_connect_error(c, cu->authority, cu->authority_len, (int)err);
    } else if (rc == CURLE_OPERATION_TIMEDOUT && cu->authority && timeout_ms > 0) {
        goose__http_timeout_error(c, timeout_ms);
    } else if (rc != CURLE_OK && !c->errbuf[0]) {
        snprintf(c->errbuf, sizeof c->errbuf, "%s", curl_easy_strerror(rc));
    }
    if (terr_of(rc) == GOOSE_TE_TLS || rc == CURLE_RECV_ERROR || rc == CURLE_SEND_ERROR)
        tls_words(cu, c, terr_of(rc) == GOOSE_TE_TLS);
    curl_slist_free_all(cu->extra);
    cu->extra = NULL;
    cu->busy = 0;
    return cu->run->setup->version == GOOSE_HTTP_2 ? h2_required(cu, rc) : terr_of(rc);
}

/* A completed transfer, kept apart from its user's state, which the
 * user may free once done() resumed it. */
typedef struct finished {
    goose_transport_done_fn done;
    void *arg;
    goose_http_capture *capture;
    goose_terr result;
} finished;

/* Completed transfers are reported once curl is done with the list: a
 * user resumed by done() may start its next request at once. */
static void check_multi_info(curl_thread *t)
{
    finished ready[64];
    size_t n;
    do {
        CURLMsg *msg;
        int left;
        n = 0;
        uint64_t now = goose__now_us();
        while (n < 64 && (msg = curl_multi_info_read(t->multi, &left))) {
            if (msg->msg != CURLMSG_DONE)
                continue;
            curl_user *cu = NULL;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&cu);
            CURLcode rc = msg->data.result;
            curl_multi_remove_handle(t->multi, msg->easy_handle);
            goose_terr result = transfer_done(cu, rc);
            ready[n++] = (finished){cu->done, cu->arg, cu->capture, result};
        }
        for (size_t i = 0; i < n; i++)
            ready[i].done(ready[i].arg, ready[i].capture, ready[i].result, now);
    } while (n == 64);
}

static void on_socket_event(evutil_socket_t fd, short what, void *arg)
{
    curl_thread *t = arg;
    int flags = ((what & EV_READ) ? CURL_CSELECT_IN : 0) |
                ((what & EV_WRITE) ? CURL_CSELECT_OUT : 0);
    int running;
    curl_multi_socket_action(t->multi, fd, flags, &running);
    check_multi_info(t);
}

static void on_curl_timeout(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    curl_thread *t = arg;
    int running;
    curl_multi_socket_action(t->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    check_multi_info(t);
}

static int on_curl_timer(CURLM *multi, long timeout_ms, void *arg)
{
    (void)multi;
    curl_thread *t = arg;
    if (timeout_ms < 0)
        return evtimer_del(t->timer);
    struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    return evtimer_add(t->timer, &tv);
}

/* curl says which events it wants on a socket.  The event structure is
 * reused for the socket's life (no allocation per request), and the base
 * keeps a changelist, so a socket dropped at the end of one transfer and
 * taken up by the next in the same loop pass costs no epoll_ctl. */
static int on_curl_socket(CURL *easy, curl_socket_t fd, int what, void *arg, void *sockp)
{
    (void)easy;
    curl_thread *t = arg;
    curl_sock *s = sockp;
    if (what == CURL_POLL_REMOVE) {
        if (s) {
            event_del(s->ev);
            event_free(s->ev);
            free(s);
            curl_multi_assign(t->multi, fd, NULL);
        }
        return 0;
    }
    short kind = EV_PERSIST | ((what & CURL_POLL_IN) ? EV_READ : 0) |
                 ((what & CURL_POLL_OUT) ? EV_WRITE : 0);
    if (!s) {
        s = calloc(1, sizeof *s);
        if (!s || !(s->ev = event_new(t->base, fd, kind, on_socket_event, t))) {
            free(s);
            return -1;
        }
        s->fd = fd;
        curl_multi_assign(t->multi, fd, s);
    } else {
        if (event_get_events(s->ev) == kind)
            return 0;
        event_del(s->ev);
        event_assign(s->ev, t->base, fd, kind, on_socket_event, t);
    }
    return event_add(s->ev, NULL);
}

static void thread_free(void *arg)
{
    curl_thread *t = arg;
    if (!t)
        return;
    if (t->multi)
        curl_multi_cleanup(t->multi);
    if (t->timer)
        event_free(t->timer);
    free(t);
}

static int thread_new(void **out, void *run, struct event_base *base)
{
    (void)run;
    curl_thread *t = calloc(1, sizeof *t);
    if (!t)
        return -1;
    t->base = base;
    t->multi = curl_multi_init();
    t->timer = evtimer_new(base, on_curl_timeout, t);
    if (!t->multi || !t->timer) {
        thread_free(t);
        return -1;
    }
    curl_multi_setopt(t->multi, CURLMOPT_SOCKETFUNCTION, on_curl_socket);
    curl_multi_setopt(t->multi, CURLMOPT_SOCKETDATA, t);
    curl_multi_setopt(t->multi, CURLMOPT_TIMERFUNCTION, on_curl_timer);
    curl_multi_setopt(t->multi, CURLMOPT_TIMERDATA, t);
    *out = t;
    return 0;
}

/* Every user keeps its keep-alive connection while it waits. */
static void thread_users(void *arg, size_t users)
{
    curl_thread *t = arg;
    curl_multi_setopt(t->multi, CURLMOPT_MAXCONNECTS, (long)(users ? users : 1));
}

/* ---- the user's handle ---- */

static size_t on_body(char *data, size_t size, size_t n, void *arg)
{
    size_t len = size * n;
    return goose__http_capture_body(arg, data, len) < 0 ? CURL_WRITEFUNC_ERROR : len;
}

static size_t on_header(char *data, size_t size, size_t n, void *arg)
{
    goose_http_capture *c = arg;
    size_t len = size * n;
    /* a new status line (after 100 Continue, say) starts a new response */
    if (len >= 5 && memcmp(data, "HTTP/", 5) == 0) {
        goose__buf_clear(&c->headers);
        c->set_cookie = 0;
    }
    c->set_cookie |= goose__http_is_set_cookie(data, len);
    if (goose__buf_add(&c->headers, data, len) < 0)
        return 0;
    return len;
}

/* A user's own connection pool: curl's multi handle would otherwise let
 * any user take any idle connection, and 100,000 users waiting 10 s would
 * share a few hundred connections instead of holding one each. */
static CURLSH *share_new(void)
{
    CURLSH *sh = curl_share_init();
    if (sh && curl_share_setopt(sh, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT) != CURLSHE_OK) {
        curl_share_cleanup(sh);
        return NULL;
    }
    return sh;
}

/* curl makes an OpenSSL context for each new connection: the run's CA
 * store, client certificate and verification go into it, and curl reads
 * no CA file (it would parse the whole bundle each time). */
static CURLcode on_ssl_ctx(CURL *e, void *ssl_ctx, void *arg)
{
    (void)e;
    return goose__tls_ctx_apply(arg, ssl_ctx) == 0 ? CURLE_OK : CURLE_SSL_CERTPROBLEM;
}

/* The run's trust and the protocols it allows. */
static void tls_options(CURL *e, const goose_http_setup *setup)
{
    if (setup->tls.accept_invalid_certs) {
        curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    /* auto: h2 when ALPN offers it over TLS, else HTTP/1.1 (2: per request) */
    curl_easy_setopt(e, CURLOPT_HTTP_VERSION, setup->version == GOOSE_HTTP_1_1
                                                  ? (long)CURL_HTTP_VERSION_1_1
                                                  : (long)CURL_HTTP_VERSION_2TLS);
    if (!setup->tls_ctx)
        return;
    curl_easy_setopt(e, CURLOPT_CAINFO, NULL);
    curl_easy_setopt(e, CURLOPT_CAPATH, NULL);
    curl_easy_setopt(e, CURLOPT_SSL_CTX_FUNCTION, on_ssl_ctx);
    curl_easy_setopt(e, CURLOPT_SSL_CTX_DATA, setup->tls_ctx);
}

/* User `index` binds to its turn of the local addresses. */
static CURL *easy_new(const curl_run *run, curl_user *owner, unsigned index, CURLSH *share)
{
    const goose_http_setup *setup = run->setup;
    CURL *e = curl_easy_init();
    if (!e)
        return NULL;
    curl_easy_setopt(e, CURLOPT_SHARE, share);
    curl_easy_setopt(e, CURLOPT_PRIVATE, owner);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L); /* each hop is counted */
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
    tls_options(e, setup);
    if (setup->timeout_ms > 0)
        curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, setup->timeout_ms);
    if (run->resolve)
        curl_easy_setopt(e, CURLOPT_RESOLVE, run->resolve);
    if (setup->nlocal_addrs) {
        char iface[80];
        snprintf(iface, sizeof iface, "host!%s",
                 setup->local_addrs[index % setup->nlocal_addrs]);
        curl_easy_setopt(e, CURLOPT_INTERFACE, iface);
    }
    if (setup->no_env_proxy) {
        /* what curl would conclude, without five getenv() per request */
        curl_easy_setopt(e, CURLOPT_PROXY, "");
        curl_easy_setopt(e, CURLOPT_NOPROXY, "");
    }
    return e;
}

static void user_free(void *arg)
{
    curl_user *cu = arg;
    if (!cu)
        return;
    for (size_t i = 0; i < EASIES - 1; i++) {
        if (cu->more[i]) {
            cu->more[i]->share = NULL; /* the first's */
            user_free(cu->more[i]);
        }
    }
    if (cu->easy)
        curl_easy_cleanup(cu->easy);
    curl_url_cleanup(cu->uh);
    goose__buf_free(&cu->url);
    curl_slist_free_all(cu->extra);
    if (cu->share) /* closes the user's connection */
        curl_share_cleanup(cu->share);
    free(cu);
}

static void *user_new(void *run, void *thread, struct event_base *base, unsigned index,
                      goose_transport_done_fn done, void *arg)
{
    (void)base;
    curl_user *cu = calloc(1, sizeof *cu);
    if (!cu)
        return NULL;
    cu->run = run;
    cu->thread = thread;
    cu->done = done;
    cu->arg = arg;
    cu->index = index;
    goose__buf_init(&cu->url);
    if (!(cu->share = share_new()) || !(cu->easy = easy_new(run, cu, index, cu->share))) {
        user_free(cu);
        return NULL;
    }
    return cu;
}

/* Another handle of the user's, on its connections. */
static curl_user *more_new(curl_user *first)
{
    curl_user *cu = calloc(1, sizeof *cu);
    if (!cu)
        return NULL;
    cu->run = first->run;
    cu->thread = first->thread;
    cu->done = first->done;
    cu->arg = first->arg;
    cu->index = first->index;
    goose__buf_init(&cu->url);
    if (!(cu->easy = easy_new(cu->run, cu, cu->index, first->share))) {
        user_free(cu);
        return NULL;
    }
    return cu;
}

/* A handle of the user's that is free, or NULL with *busy set when all
 * EASIES are under way (or out of memory). */
static curl_user *free_handle(curl_user *first, int *busy)
{
    if (!first->busy)
        return first;
    for (size_t i = 0; i < EASIES - 1; i++) {
        if (!first->more[i])
            return first->more[i] = more_new(first);
        if (!first->more[i]->busy)
            return first->more[i];
    }
    *busy = 1;
    return NULL;
}

/* libcurl takes anything. */
static int takes(void *run, void *user, const goose_http_request *req)
{
    (void)run, (void)user, (void)req;
    return 1;
}

/* One line added to *list; -1 when out of memory. */
static int append(struct curl_slist **list, const char *line)
{
    struct curl_slist *l = curl_slist_append(*list, line);
    if (l)
        *list = l;
    return l ? 0 : -1;
}

/* The request's header list: a default one, or the request's own lines
 * completed with the defaults they do not set, and the jar's Cookie
 * header.  NULL when out of memory. */
static struct curl_slist *header_list(curl_user *cu, const goose_http_request *req)
{
    curl_slist_free_all(cu->extra);
    cu->extra = NULL;
    if (!req->headers && !req->cookie)
        return req->has_body ? cu->run->with_body : cu->run->plain;
    struct curl_slist *list = NULL;
    goose_buf cookie;
    goose__buf_init(&cookie);
    int rc = append_lines(&list, req->headers);
    if (rc == 0 && !goose__http_list_names(req->headers, "User-Agent"))
        rc = append(&list, GOOSE_HTTP_USER_AGENT);
    if (rc == 0 && req->has_body)
        rc = append(&list, "Expect:");
    if (rc == 0 && req->cookie)
        rc = goose__buf_printf(&cookie, "Cookie: %s", req->cookie) < 0 ? -1
                                                                      : append(&list, cookie.data);
    goose__buf_free(&cookie);
    if (rc < 0) {
        curl_slist_free_all(list);
        return NULL;
    }
    return cu->extra = list;
}

/* Most users ask for the same URLs again and again: a URL parsed once is
 * handed to curl as a CURLU, so it is not parsed again. */
static int aim(curl_user *cu, const char *url)
{
    if (!cu->uh && !(cu->uh = curl_url()))
        return -1;
    if (!cu->url.data || strcmp(cu->url.data, url) != 0) {
        goose__buf_clear(&cu->url);
        if (curl_url_set(cu->uh, CURLUPART_URL, url, 0) != CURLUE_OK ||
            goose__buf_adds(&cu->url, url) < 0) {
            goose__buf_clear(&cu->url);
            return -1;
        }
        curl_easy_setopt(cu->easy, CURLOPT_CURLU, cu->uh);
    }
    return 0;
}

static void prepare(CURL *e, const goose_http_request *req, struct curl_slist *headers,
                    goose_http_capture *capture)
{
    if (strcmp(req->method, "HEAD") == 0) {
        curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, NULL);
    } else if (req->has_body) {
        curl_easy_setopt(e, CURLOPT_NOBODY, 0L);
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, req->body ? req->body : "");
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST,
                         strcmp(req->method, "POST") == 0 ? NULL : req->method);
    } else {
        curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST,
                         strcmp(req->method, "GET") == 0 ? NULL : req->method);
    }
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, capture);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, capture);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, capture->errbuf);
}

static goose_terr not_sent(goose_http_capture *c, const char *why)
{
    snprintf(c->errbuf, sizeof c->errbuf, "%s", why);
    return GOOSE_TE_NOT_SENT;
}

/* The handle goes to the thread's multi handle, which reports the
 * transfer when it is done. */
static goose_terr start(void *user, const goose_http_request *req, goose_http_capture *capture)
{
    int busy = 0;
    curl_user *cu = free_handle(user, &busy);
    if (!cu)
        return busy ? GOOSE_TE_BUSY : not_sent(capture, "out of memory");
    struct curl_slist *headers = header_list(cu, req);
    if (!headers)
        return not_sent(capture, "out of memory");
    if (aim(cu, req->url) < 0)
        return not_sent(capture, "bad URL");
    prepare(cu->easy, req, headers, capture);
    cu->capture = capture; /* before curl may call back */
    cu->authority = req->parts ? req->parts->authority : NULL;
    cu->authority_len = req->parts ? req->parts->authority_len : 0;
    cu->host = req->parts ? req->parts->host : NULL;
    cu->host_len = req->parts ? req->parts->host_len : 0;
    cu->secure = req->parts ? req->parts->secure : strncasecmp(req->url, "https:", 6) == 0;
    if (cu->run->setup->version == GOOSE_HTTP_2) /* h2c has no ALPN: prior knowledge */
        curl_easy_setopt(cu->easy, CURLOPT_HTTP_VERSION,
                         cu->secure ? (long)CURL_HTTP_VERSION_2TLS
                                    : (long)CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE);
    cu->busy = 1;
    if (curl_multi_add_handle(cu->thread->multi, cu->easy) != CURLM_OK) {
        cu->busy = 0;
        return not_sent(capture, "could not start the transfer");
    }
    return GOOSE_TE_AGAIN;
}

static void cancel_one(curl_user *cu)
{
    if (!cu || !cu->busy)
        return;
    curl_multi_remove_handle(cu->thread->multi, cu->easy);
    cu->busy = 0;
}

static void cancel(void *user)
{
    curl_user *cu = user;
    cancel_one(cu);
    for (size_t i = 0; i < EASIES - 1; i++)
        cancel_one(cu->more[i]);
}

const goose_transport goose__transport_curl = {
    .name = "libcurl",
    .run_new = run_new,
    .run_free = run_free,
    .thread_new = thread_new,
    .thread_free = thread_free,
    .thread_users = thread_users,
    .user_new = user_new,
    .user_free = user_free,
    .takes = takes,
    .start = start,
    .cancel = cancel,
};

/* ---- redirects ---- */

int goose__http_resolve(const char *base, const char *location, goose_buf *out)
{
    CURLU *uh = curl_url();
    char *url = NULL;
    int rc = -1;
    if (uh && curl_url_set(uh, CURLUPART_URL, base, 0) == CURLUE_OK &&
        curl_url_set(uh, CURLUPART_URL, location, 0) == CURLUE_OK &&
        curl_url_get(uh, CURLUPART_URL, &url, 0) == CURLUE_OK) {
        goose__buf_clear(out);
        rc = goose__buf_adds(out, url);
    }
    curl_free(url);
    curl_url_cleanup(uh);
    return rc;
}
