/* The transports' shared parts: captures, header lines, the words for
 * the commonest errors. */
#include "http/http.h"

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

const char *goose__http_list_value(const goose_lines *list, const char *name, size_t *len)
{
    size_t n = strlen(name);
    const char *h = NULL;
    while (list && (h = goose__lines_next(list, h))) {
        if (!goose__http_line_names(h, name))
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

int goose__http_line_names(const char *line, const char *name)
{
    size_t n = strlen(name);
    return strncasecmp(line, name, n) == 0 && (line[n] == ':' || line[n] == ';');
}

int goose__http_list_names(const goose_lines *list, const char *name)
{
    const char *h = NULL;
    while (list && (h = goose__lines_next(list, h)))
        if (goose__http_line_names(h, name))
            return 1;
    return 0;
}

int goose__lines_add(goose_lines *l, const char *s)
{
    if (goose__buf_add(&l->buf, s, strlen(s) + 1) < 0)
        return -1;
    l->n++;
    return 0;
}

void goose__lines_free(goose_lines *l)
{
    goose__buf_free(&l->buf);
    l->n = 0;
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

void goose__http_h2_required_error(goose_http_capture *c, goose_http_protocol got)
{
    const char *name = goose__http_protocol_name(got);
    if (name)
        snprintf(c->errbuf, sizeof c->errbuf, "HTTP/2 required (--http-version 2) but the "
                 "server answered %s", name);
    else
        snprintf(c->errbuf, sizeof c->errbuf, "%s", GOOSE_HTTP_H2_REQUIRED);
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
    c->status = 0;
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
    c->status = 0;
    c->protocol = GOOSE_PROTO_NONE;
    c->errbuf[0] = '\0';
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

const char *goose__http_protocol_name(goose_http_protocol p)
{
    switch (p) {
    case GOOSE_PROTO_HTTP_1_0: return "HTTP/1.0";
    case GOOSE_PROTO_HTTP_1_1: return "HTTP/1.1";
    case GOOSE_PROTO_HTTP_2: return "HTTP/2";
    case GOOSE_PROTO_NONE:
    case GOOSE_PROTO_COUNT: break;
    }
    return NULL;
}
