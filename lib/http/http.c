#include "http/http.h"

#include <goose/version.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int goose__http_is_set_cookie(const char *line, size_t len)
{
    return len > 11 && (line[0] == 'S' || line[0] == 's') &&
           strncasecmp(line, "Set-Cookie:", 11) == 0;
}

int goose__http_capture_body(goose_http_capture *c, const char *data, size_t len)
{
    c->body_seen += len;
    size_t room = GOOSE_HTTP_BODY_CAP > c->body.len
                      ? GOOSE_HTTP_BODY_CAP - c->body.len : 0;
    size_t keep = len < room ? len : room;
    return keep ? goose__buf_add(&c->body, data, keep) : 0;
}

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
CURLSH *goose__http_share_new(void)
{
    CURLSH *sh = curl_share_init();
    if (sh && curl_share_setopt(sh, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT) != CURLSHE_OK) {
        curl_share_cleanup(sh);
        return NULL;
    }
    return sh;
}

CURL *goose__http_easy_new(const goose_http_setup *setup, void *owner, unsigned index,
                           CURLSH *share)
{
    CURL *e = curl_easy_init();
    if (!e)
        return NULL;
    if (share)
        curl_easy_setopt(e, CURLOPT_SHARE, share);
    curl_easy_setopt(e, CURLOPT_PRIVATE, owner);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L); /* each hop is counted */
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
    if (setup->timeout_ms > 0)
        curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, setup->timeout_ms);
    if (setup->resolve)
        curl_easy_setopt(e, CURLOPT_RESOLVE, setup->resolve);
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

/* Headers every request carries unless it says otherwise.  A fixed list
 * costs curl far less than CURLOPT_USERAGENT, which it formats again for
 * every request (6,500 instructions, a tenth of a request's). */
int goose__http_headers_init(goose_http_headers *h)
{
    h->plain = curl_slist_append(NULL, GOOSE_HTTP_USER_AGENT);
    h->with_body = curl_slist_append(NULL, GOOSE_HTTP_USER_AGENT);
    if (h->with_body && !curl_slist_append(h->with_body, "Expect:")) {
        curl_slist_free_all(h->with_body);
        h->with_body = NULL;
    }
    return h->plain && h->with_body ? 0 : -1;
}

void goose__http_headers_free(goose_http_headers *h)
{
    curl_slist_free_all(h->plain);
    curl_slist_free_all(h->with_body);
    h->plain = h->with_body = NULL;
}

/* A request's own headers, completed with the defaults it did not set. */
int goose__http_headers_complete(struct curl_slist *list, int has_body)
{
    int has_ua = 0;
    for (const struct curl_slist *l = list; l; l = l->next)
        has_ua |= strncasecmp(l->data, "User-Agent:", 11) == 0 ||
                  strncasecmp(l->data, "User-Agent;", 11) == 0;
    if (!has_ua && !curl_slist_append(list, GOOSE_HTTP_USER_AGENT))
        return -1;
    if (has_body && !curl_slist_append(list, "Expect:"))
        return -1;
    return 0;
}

const char *goose__http_list_value(const struct curl_slist *list, const char *name,
                                   size_t *len)
{
    size_t n = strlen(name);
    for (; list; list = list->next) {
        const char *h = list->data;
        if (strncasecmp(h, name, n) != 0 || (h[n] != ':' && h[n] != ';'))
            continue;
        if (h[n] == ';') { /* sent empty */
            *len = 0;
            return h + n + 1;
        }
        const char *v = h + n + 1;
        while (*v == ' ' || *v == '\t')
            v++;
        if (!*v)
            continue; /* "Name:" only takes a default header away */
        *len = strlen(v);
        return v;
    }
    return NULL;
}

void goose__http_connect_error(goose_http_capture *c, const char *authority, size_t len,
                               int err)
{
    snprintf(c->errbuf, sizeof c->errbuf, "Failed to connect to %.*s: %s",
             (int)(len < 200 ? len : 200), authority,
             err ? strerror(err) : "Couldn't connect to server");
}

void goose__http_timeout_error(goose_http_capture *c, long timeout_ms)
{
    snprintf(c->errbuf, sizeof c->errbuf, "Operation timed out after %ld milliseconds",
             timeout_ms);
}

int goose__http_no_env_proxy(void)
{
    static const char *const names[] = {"http_proxy", "HTTP_PROXY", "https_proxy",
                                        "HTTPS_PROXY", "all_proxy", "ALL_PROXY"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        const char *v = getenv(names[i]);
        if (v && *v)
            return 0;
    }
    return 1;
}

void goose__http_capture_init(goose_http_capture *c)
{
    goose__buf_init(&c->body);
    goose__buf_init(&c->headers);
    c->body_seen = 0;
    c->set_cookie = 0;
    c->errbuf[0] = '\0';
}

void goose__http_capture_free(goose_http_capture *c)
{
    goose__buf_free(&c->body);
    goose__buf_free(&c->headers);
}

void goose__http_capture_reset(goose_http_capture *c)
{
    goose__buf_clear(&c->body);
    goose__buf_clear(&c->headers);
    c->body_seen = 0;
    c->set_cookie = 0;
    c->errbuf[0] = '\0';
}

int goose__http_prepare(CURL *e, const goose_http_request *req,
                        goose_http_capture *capture)
{
    if (goose__http_aim(e, req->target, req->url) < 0)
        return -1;
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
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, req->headers);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, capture);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, capture);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, capture->errbuf);
    return 0;
}

/* Most users ask for the same URLs again and again: a URL parsed once is
 * handed to curl as a CURLU, so it is not parsed again. */
int goose__http_aim(CURL *e, goose_http_target *t, const char *url)
{
    if (!t->uh) {
        t->uh = curl_url();
        if (!t->uh)
            return -1;
    }
    if (!t->url.data || strcmp(t->url.data, url) != 0) {
        goose__buf_clear(&t->url);
        if (curl_url_set(t->uh, CURLUPART_URL, url, 0) != CURLUE_OK ||
            goose__buf_adds(&t->url, url) < 0) {
            goose__buf_clear(&t->url);
            return -1;
        }
        curl_easy_setopt(e, CURLOPT_CURLU, t->uh);
    }
    return 0;
}

void goose__http_target_free(goose_http_target *t)
{
    curl_url_cleanup(t->uh);
    t->uh = NULL;
    goose__buf_free(&t->url);
}

int goose__http_status(CURL *e)
{
    long code = 0;
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &code);
    return (int)code;
}

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

const char *goose__http_header(const goose_buf *headers, const char *name,
                               goose_buf *out)
{
    size_t nlen = strlen(name);
    const char *p = headers->data;
    const char *end = p ? p + headers->len : NULL;
    while (p && p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        const char *line_end = eol ? eol : end;
        if ((size_t)(line_end - p) > nlen && p[nlen] == ':' &&
            strncasecmp(p, name, nlen) == 0) {
            const char *v = p + nlen + 1;
            while (v < line_end && (*v == ' ' || *v == '\t'))
                v++;
            const char *ve = line_end;
            while (ve > v && isspace((unsigned char)ve[-1]))
                ve--;
            goose__buf_clear(out);
            if (goose__buf_add(out, v, (size_t)(ve - v)) < 0)
                return NULL;
            return out->data;
        }
        p = eol ? eol + 1 : end;
    }
    return NULL;
}

const char *goose__http_reason(int status)
{
    switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 303: return "See Other";
    case 304: return "Not Modified";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    }
    return "";
}
