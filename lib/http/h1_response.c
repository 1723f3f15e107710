/* Reading an HTTP/1.1 response as it arrives, in whatever pieces: the
 * head into the capture's header lines (as curl's header callback would
 * have them), the body into the capture's bounded body, framed by
 * Content-Length, chunked encoding, or the end of the connection. */
#include "http/h1.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#define HEAD_CAP (256u * 1024) /* the most header bytes we accept */

void goose__h1_parser_start(goose_h1_parser *p, int no_body)
{
    memset(p, 0, sizeof *p);
    p->state = GOOSE_H1_HEAD;
    p->no_body = no_body;
}

static size_t fail(goose_h1_parser *p, CURLcode code, const char *why)
{
    p->state = GOOSE_H1_ERROR;
    p->code = code;
    p->error = why;
    return 0;
}

/* "Name: value" -> value (trimmed) when the line's name is `name`. */
static int header_value(const char *line, const char *end, const char *name,
                        const char **v, const char **ve)
{
    size_t n = strlen(name);
    if ((size_t)(end - line) <= n || line[n] != ':' || strncasecmp(line, name, n) != 0)
        return 0;
    const char *s = line + n + 1, *e = end;
    while (s < e && (*s == ' ' || *s == '\t'))
        s++;
    while (e > s && isspace((unsigned char)e[-1]))
        e--;
    *v = s;
    *ve = e;
    return 1;
}

/* Whether a comma-separated value names `token` (any case). */
static int has_token(const char *v, const char *ve, const char *token)
{
    size_t n = strlen(token);
    while (v < ve) {
        while (v < ve && (*v == ' ' || *v == '\t' || *v == ','))
            v++;
        const char *t = v;
        while (v < ve && *v != ',')
            v++;
        const char *te = v;
        while (te > t && (te[-1] == ' ' || te[-1] == '\t'))
            te--;
        if ((size_t)(te - t) == n && strncasecmp(t, token, n) == 0)
            return 1;
    }
    return 0;
}

/* The last coding of Transfer-Encoding is what frames the body. */
static int ends_chunked(const char *v, const char *ve)
{
    const char *last = ve;
    while (last > v && last[-1] != ',')
        last--;
    while (last < ve && (*last == ' ' || *last == '\t'))
        last++;
    return ve - last == 7 && strncasecmp(last, "chunked", 7) == 0;
}

static int parse_length(const char *v, const char *ve, uint64_t *out)
{
    uint64_t n = 0;
    if (v == ve)
        return -1;
    for (; v < ve; v++) {
        if (!isdigit((unsigned char)*v) || n > (UINT64_MAX - 9) / 10)
            return -1;
        n = n * 10 + (uint64_t)(*v - '0');
    }
    *out = n;
    return 0;
}

typedef struct head_facts {
    int http10;
    int chunked, has_te;
    int has_length;
    uint64_t length;
    int conn_close, conn_keep_alive;
    int set_cookie;
} head_facts;

static int read_status_line(goose_h1_parser *p, const char *s, const char *e,
                            head_facts *f)
{
    /* HTTP/1.x SP 3DIGIT [SP reason] */
    if (e - s < 12 || memcmp(s, "HTTP/1.", 7) != 0 || !isdigit((unsigned char)s[7]) ||
        s[8] != ' ' || !isdigit((unsigned char)s[9]) || !isdigit((unsigned char)s[10]) ||
        !isdigit((unsigned char)s[11]) || (e - s > 12 && s[12] != ' ' && s[12] != '\r'))
        return -1;
    f->http10 = s[7] == '0';
    p->status = (s[9] - '0') * 100 + (s[10] - '0') * 10 + (s[11] - '0');
    return p->status >= 100 ? 0 : -1;
}

static int read_header_line(const char *s, const char *e, head_facts *f)
{
    const char *v, *ve;
    char first = (char)tolower((unsigned char)*s);
    if (first == 's')
        f->set_cookie |= goose__http_is_set_cookie(s, (size_t)(e - s));
    if (first != 'c' && first != 't')
        return 0; /* none of the three that frame the body */
    if (header_value(s, e, "Content-Length", &v, &ve)) {
        uint64_t n;
        if (parse_length(v, ve, &n) < 0 || (f->has_length && n != f->length))
            return -1;
        f->has_length = 1;
        f->length = n;
    } else if (header_value(s, e, "Transfer-Encoding", &v, &ve)) {
        f->has_te = 1;
        f->chunked = ends_chunked(v, ve);
    } else if (header_value(s, e, "Connection", &v, &ve)) {
        f->conn_close |= has_token(v, ve, "close");
        f->conn_keep_alive |= has_token(v, ve, "keep-alive");
    }
    return 0;
}

/* The head is complete in c->headers: what it says about the body. */
static void read_head(goose_h1_parser *p, goose_http_capture *c)
{
    const goose_buf *h = &c->headers;
    head_facts f = {0};
    const char *s = h->data, *end = h->data + h->len;
    const char *eol = memchr(s, '\n', (size_t)(end - s));
    if (read_status_line(p, s, eol, &f) < 0) {
        fail(p, CURLE_WEIRD_SERVER_REPLY, "Invalid status line in the response");
        return;
    }
    for (s = eol + 1; s < end; s = eol + 1) {
        eol = memchr(s, '\n', (size_t)(end - s));
        if (read_header_line(s, eol, &f) < 0) {
            fail(p, CURLE_WEIRD_SERVER_REPLY, "Invalid Content-Length in the response");
            return;
        }
    }
    c->set_cookie = f.set_cookie;
    p->keep_alive = f.http10 ? f.conn_keep_alive && !f.conn_close : !f.conn_close;
    if (p->status < 200 || p->no_body || p->status == 204 || p->status == 304) {
        p->state = GOOSE_H1_DONE;
    } else if (f.has_te && f.chunked) {
        p->state = GOOSE_H1_CHUNK_SIZE;
    } else if (f.has_length && !f.has_te) {
        p->remaining = f.length;
        p->state = f.length ? GOOSE_H1_BODY : GOOSE_H1_DONE;
    } else {
        p->state = GOOSE_H1_UNTIL_CLOSE;
        p->keep_alive = 0;
    }
}

/* The head is complete: interim responses (100, 103) are dropped and the
 * real one awaited; 0 when the head is final (or failed). */
static int head_ended(goose_h1_parser *p, goose_http_capture *c)
{
    read_head(p, c);
    if (p->state == GOOSE_H1_DONE && p->status < 200 && p->status != 101) {
        goose__buf_clear(&c->headers);
        p->state = GOOSE_H1_HEAD;
        p->line_start = 0;
        return 1;
    }
    if (p->status == 101)
        fail(p, CURLE_WEIRD_SERVER_REPLY, "Unexpected protocol switch");
    return 0;
}

/* Just past the empty line that ends a head, or NULL. */
static const char *head_end(const char *data, size_t len)
{
    const char *p = data, *end = data + len;
    while ((p = memchr(p, '\n', (size_t)(end - p))) && ++p < end) {
        if (*p == '\n')
            return p + 1;
        if (*p == '\r' && p + 1 < end && p[1] == '\n')
            return p + 2;
    }
    return NULL;
}

/* Head bytes, line by line, until the empty line that ends the head.  A
 * head that arrives whole (the usual case) is taken in one piece. */
static size_t parse_head(goose_h1_parser *p, goose_http_capture *c,
                         const char *data, size_t len)
{
    size_t used = 0;
    const char *end;
    if (c->headers.len == 0 && (end = head_end(data, len))) {
        used = (size_t)(end - data);
        if (used > HEAD_CAP)
            return fail(p, CURLE_RECV_ERROR, "Too large response headers");
        if (goose__buf_add(&c->headers, data, used) < 0)
            return fail(p, CURLE_OUT_OF_MEMORY, "Out of memory");
        return head_ended(p, c) ? used + parse_head(p, c, data + used, len - used) : used;
    }
    while (used < len) {
        const char *nl = memchr(data + used, '\n', len - used);
        size_t take = nl ? (size_t)(nl - (data + used)) + 1 : len - used;
        if (c->headers.len + take > HEAD_CAP)
            return fail(p, CURLE_RECV_ERROR, "Too large response headers");
        if (goose__buf_add(&c->headers, data + used, take) < 0)
            return fail(p, CURLE_OUT_OF_MEMORY, "Out of memory");
        used += take;
        if (!nl)
            break;
        size_t line = c->headers.len - p->line_start;
        if (line == 1 || (line == 2 && c->headers.data[p->line_start] == '\r')) {
            if (head_ended(p, c))
                return used + parse_head(p, c, data + used, len - used);
            break;
        }
        p->line_start = c->headers.len;
    }
    return used;
}

static size_t take_body(goose_h1_parser *p, goose_http_capture *c,
                        const char *data, size_t len)
{
    size_t n = len;
    if (p->state != GOOSE_H1_UNTIL_CLOSE && p->remaining < n)
        n = (size_t)p->remaining;
    if (goose__http_capture_body(c, data, n) < 0)
        return fail(p, CURLE_OUT_OF_MEMORY, "Out of memory");
    if (p->state == GOOSE_H1_UNTIL_CLOSE)
        return n;
    p->remaining -= n;
    if (p->remaining == 0)
        p->state = p->state == GOOSE_H1_BODY ? GOOSE_H1_DONE : GOOSE_H1_CHUNK_END;
    return n;
}

static int hex_value(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    ch = (char)tolower((unsigned char)ch);
    return ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
}

/* "1a2;ext=1" -> 0x1a2 (extensions ignored). */
static int chunk_size(const char *s, size_t len, uint64_t *out)
{
    uint64_t n = 0;
    size_t i = 0;
    for (; i < len && hex_value(s[i]) >= 0; i++) {
        if (n >> 60)
            return -1;
        n = n * 16 + (uint64_t)hex_value(s[i]);
    }
    if (i == 0)
        return -1;
    *out = n;
    return 0;
}

/* A line of the chunked framing (size line, chunk end, trailer); the
 * line's first bytes are kept in p->line, trailer lines in the headers. */
static size_t parse_framing_line(goose_h1_parser *p, goose_http_capture *c,
                                 const char *data, size_t len)
{
    const char *nl = memchr(data, '\n', len);
    size_t take = nl ? (size_t)(nl - data) + 1 : len;
    if (p->state == GOOSE_H1_TRAILER) { /* trailers join the headers, as with curl */
        if (c->headers.len + take > HEAD_CAP)
            return fail(p, CURLE_RECV_ERROR, "Too large response headers");
        if (goose__buf_add(&c->headers, data, take) < 0)
            return fail(p, CURLE_OUT_OF_MEMORY, "Out of memory");
    }
    for (size_t i = 0; i < take; i++) {
        if (p->line_len == 1 && p->line[0] == '0' && hex_value(data[i]) >= 0)
            p->line_len = 0; /* leading zeros: "0001a" keeps "1a" */
        if (p->line_len < sizeof p->line)
            p->line[p->line_len++] = data[i];
    }
    if (!nl)
        return take;
    size_t line_len = p->line_len; /* up to sizeof line */
    while (line_len && (p->line[line_len - 1] == '\n' || p->line[line_len - 1] == '\r'))
        line_len--;
    p->line_len = 0;
    if (p->state == GOOSE_H1_CHUNK_SIZE) {
        if (chunk_size(p->line, line_len, &p->remaining) < 0)
            return fail(p, CURLE_RECV_ERROR, "Invalid chunk size in the response");
        p->state = p->remaining ? GOOSE_H1_CHUNK_DATA : GOOSE_H1_TRAILER;
        p->line_start = c->headers.len;
    } else if (p->state == GOOSE_H1_CHUNK_END) {
        if (line_len)
            return fail(p, CURLE_RECV_ERROR, "Malformed chunk end in the response");
        p->state = GOOSE_H1_CHUNK_SIZE;
    } else if (line_len == 0) { /* the empty line after the trailers: not kept */
        c->headers.len = p->line_start;
        c->headers.data[c->headers.len] = '\0';
        p->state = GOOSE_H1_DONE;
    } else {
        p->line_start = c->headers.len;
    }
    return take;
}

size_t goose__h1_parse(goose_h1_parser *p, goose_http_capture *c,
                       const char *data, size_t len)
{
    size_t used = 0;
    p->received += len;
    while (used < len && p->state != GOOSE_H1_DONE && p->state != GOOSE_H1_ERROR) {
        const char *at = data + used;
        size_t left = len - used;
        switch (p->state) {
        case GOOSE_H1_HEAD:
            used += parse_head(p, c, at, left);
            break;
        case GOOSE_H1_BODY:
        case GOOSE_H1_CHUNK_DATA:
        case GOOSE_H1_UNTIL_CLOSE:
            used += take_body(p, c, at, left);
            break;
        default:
            used += parse_framing_line(p, c, at, left);
            break;
        }
    }
    return used;
}

goose_h1_state goose__h1_parse_eof(goose_h1_parser *p)
{
    switch (p->state) {
    case GOOSE_H1_DONE:
    case GOOSE_H1_ERROR:
        break;
    case GOOSE_H1_UNTIL_CLOSE:
        p->state = GOOSE_H1_DONE;
        break;
    case GOOSE_H1_HEAD:
        if (p->received == 0)
            fail(p, CURLE_GOT_NOTHING, "Empty reply from server");
        else
            fail(p, CURLE_RECV_ERROR, "Connection closed in the response headers");
        break;
    default:
        fail(p, CURLE_PARTIAL_FILE, "Connection closed before the end of the response body");
        break;
    }
    return p->state;
}
