/* The request builders a script reaches for most: a form or JSON body,
 * query parameters, a time limit of its own and Basic authentication.
 * The rest of the builder (new, headers, a raw body, send) is send.c's.
 *
 * A request has one body, given one way: form fields (goose_request_add_form,
 * repeatable), a JSON text, or raw bytes (goose_request_set_body).  A second
 * way is refused (as k6 and Locust refuse data and json together), so
 * nothing a script gave is dropped without a word. */
#include "engine/engine.h"

#include "content/json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- encoding ---- */

static int is_unreserved(unsigned char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch == '*' || ch == '-' || ch == '.' || ch == '_';
}

/* The WHATWG application/x-www-form-urlencoded byte serializer, as
 * browsers send forms: the bytes above kept, a space as '+', every
 * other byte as %XX in upper case (UTF-8 goes byte by byte). */
static int form_encode(goose_buf *out, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    if (goose__buf_reserve(out, strlen(s) * 3) < 0)
        return -1;
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (is_unreserved(ch)) {
            out->data[out->len++] = (char)ch;
        } else if (ch == ' ') {
            out->data[out->len++] = '+';
        } else {
            out->data[out->len++] = '%';
            out->data[out->len++] = hex[ch >> 4];
            out->data[out->len++] = hex[ch & 15];
        }
    }
    out->data[out->len] = '\0';
    return 0;
}

/* "name=value", encoded, after sep (NULL: none) into out. */
static int add_pair(goose_buf *out, const char *sep, const char *name, const char *value)
{
    if ((sep && goose__buf_adds(out, sep) < 0) || form_encode(out, name) < 0 ||
        goose__buf_add(out, "=", 1) < 0 || form_encode(out, value) < 0)
        return -1;
    return 0;
}

/* RFC 4648 base64, with padding. */
static int base64(goose_buf *out, const unsigned char *s, size_t len)
{
    static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    if (goose__buf_reserve(out, (len + 2) / 3 * 4) < 0)
        return -1;
    char *p = out->data + out->len;
    for (size_t i = 0; i < len; i += 3) {
        unsigned v = (unsigned)s[i] << 16 | (i + 1 < len ? (unsigned)s[i + 1] << 8 : 0) |
                     (i + 2 < len ? s[i + 2] : 0u);
        *p++ = abc[v >> 18 & 63];
        *p++ = abc[v >> 12 & 63];
        *p++ = i + 1 < len ? abc[v >> 6 & 63] : '=';
        *p++ = i + 2 < len ? abc[v & 63] : '=';
    }
    *p = '\0';
    out->len = (size_t)(p - out->data);
    return 0;
}

/* A builder call that fails leaves the request other than the script
 * meant it: the first such mistake sticks, and goose_request_send then
 * sends nothing (the response says why; nothing is counted). */
static int refuse(goose_request *req, int rc, const char *why)
{
    if (req && !req->refused)
        req->refused = why;
    return rc;
}

/* ---- bodies ---- */

/* The body becomes text (len bytes), given the way kind says. */
static int take_body(goose_request *req, goose_buf *text, int kind)
{
    free(req->body);
    req->body_len = text->len;
    req->body = goose__buf_steal(text);
    req->has_body = 1;
    req->body_kind = kind;
    return GOOSE_OK;
}

int goose_request_add_form(goose_request *req, const char *name, const char *value)
{
    if (!req || !name || !value ||
        (req->body_kind != GOOSE_BODY_NONE && req->body_kind != GOOSE_BODY_FORM))
        return refuse(req, GOOSE_EINVAL, "goose_request_add_form refused a field: request not sent");
    goose_buf text;
    goose__buf_init(&text);
    int fields = req->body_kind == GOOSE_BODY_FORM;
    if ((fields && goose__buf_add(&text, req->body, req->body_len) < 0) ||
        add_pair(&text, fields ? "&" : NULL, name, value) < 0) {
        goose__buf_free(&text);
        return refuse(req, GOOSE_ENOMEM, "goose_request_add_form: out of memory: request not sent");
    }
    return take_body(req, &text, GOOSE_BODY_FORM);
}

int goose_request_set_json(goose_request *req, const char *json)
{
    if (!req || !json ||
        (req->body_kind != GOOSE_BODY_NONE && req->body_kind != GOOSE_BODY_JSON))
        return refuse(req, GOOSE_EINVAL, "goose_request_set_json refused the body: request not sent");
    /* any JSON value (RFC 8259), an integer past 64 bits and "\u0000" in a
     * string too; the text goes as given */
    if (!goose__json_valid(json, strlen(json)))
        return refuse(req, GOOSE_EINVAL, "goose_request_set_json: not JSON: request not sent");
    goose_buf text;
    goose__buf_init(&text);
    if (goose__buf_adds(&text, json) < 0) {
        goose__buf_free(&text);
        return refuse(req, GOOSE_ENOMEM, "goose_request_set_json: out of memory: request not sent");
    }
    return take_body(req, &text, GOOSE_BODY_JSON);
}

int goose__request_content_type(goose_request *req)
{
    const char *type = req->body_kind == GOOSE_BODY_FORM ? "application/x-www-form-urlencoded"
                       : req->body_kind == GOOSE_BODY_JSON ? "application/json"
                                                           : NULL;
    /* the request's own Content-Type (or "Content-Type:", none) wins */
    if (!type || goose__http_list_names(&req->headers, "Content-Type"))
        return 0;
    char line[64];
    snprintf(line, sizeof line, "Content-Type: %s", type);
    return goose__lines_add(&req->headers, line);
}

/* ---- the URL ---- */

int goose_request_add_query(goose_request *req, const char *name, const char *value)
{
    if (!req || !name || !value)
        return refuse(req, GOOSE_EINVAL, "goose_request_add_query refused a parameter: request not sent");
    /* the name in the report stays the path as given: values that change
     * from request to request must not make a key each */
    if (!req->name && !(req->name = strdup(req->path)))
        return refuse(req, GOOSE_ENOMEM, "goose_request_add_query: out of memory: request not sent");
    size_t end = strcspn(req->path, "#"); /* the query goes before a fragment */
    const char *query = memchr(req->path, '?', end);
    const char *sep = !query ? "?"
                      : query + 1 == req->path + end || req->path[end - 1] == '&' ? NULL
                                                                                  : "&";
    goose_buf path;
    goose__buf_init(&path);
    if (goose__buf_add(&path, req->path, end) < 0 || add_pair(&path, sep, name, value) < 0 ||
        goose__buf_adds(&path, req->path + end) < 0) {
        goose__buf_free(&path);
        return refuse(req, GOOSE_ENOMEM, "goose_request_add_query: out of memory: request not sent");
    }
    free(req->path);
    req->path = goose__buf_steal(&path);
    return GOOSE_OK;
}

/* ---- time and credentials ---- */

/* 0 is refused, as --timeout 0 is: a request without any limit could
 * hold its user until the stop timeout */
int goose_request_set_timeout(goose_request *req, long ms)
{
    if (!req || ms <= 0)
        return refuse(req, GOOSE_EINVAL, "goose_request_set_timeout refused its limit: request not sent");
    req->timeout_ms = ms;
    return GOOSE_OK;
}

/* RFC 7617 forbids control characters in both; a line break would also
 * end the header. */
static int has_control(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return 1;
    return 0;
}

/* The request's header lines without those named name (any of the three
 * forms of goose_http_request), then line. */
static int replace_header(goose_lines *lines, const char *name, const char *line)
{
    goose_lines kept = {0};
    for (const char *h = NULL; (h = goose__lines_next(lines, h));) {
        if (goose__http_line_names(h, name))
            continue;
        if (goose__lines_add(&kept, h) < 0)
            goto fail;
    }
    if (goose__lines_add(&kept, line) < 0)
        goto fail;
    goose__lines_free(lines);
    *lines = kept;
    return 0;
fail:
    goose__lines_free(&kept);
    return -1;
}

int goose_request_set_basic_auth(goose_request *req, const char *user, const char *password)
{
    if (!req || !user || !password || strchr(user, ':') || has_control(user) ||
        has_control(password))
        return refuse(req, GOOSE_EINVAL,
                      "goose_request_set_basic_auth refused the credentials: request not sent");
    goose_buf pair, line;
    goose__buf_init(&pair);
    goose__buf_init(&line);
    int rc = GOOSE_ENOMEM;
    if (goose__buf_printf(&pair, "%s:%s", user, password) < 0 ||
        goose__buf_adds(&line, "Authorization: Basic ") < 0 ||
        base64(&line, (const unsigned char *)pair.data, pair.len) < 0 ||
        replace_header(&req->headers, "Authorization", line.data) < 0)
        goto out;
    rc = GOOSE_OK;
out:
    goose__buf_free(&pair);
    goose__buf_free(&line);
    return rc == GOOSE_OK ? rc
                          : refuse(req, rc, "goose_request_set_basic_auth: out of memory: "
                                            "request not sent");
}
