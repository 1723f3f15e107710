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

static size_t fail(goose_h1_parser *p, goose_terr code, const char *why)
{
    p->state = GOOSE_H1_ERROR;
    p->code = code;
    p->error = why;
    return 0;
}

static int refuse(goose_h1_parser *p, goose_terr code, const char *why)
{
    fail(p, code, why);
    return -1;
}

/* "Name: value" -> value (trimmed) when the line's name is `name`; the
 * line comes without its line end. */
static int header_value(const char *line, const char *end, const char *name,
                        const char **v, const char **ve)
{
    size_t n = strlen(name);
    if ((size_t)(end - line) <= n || line[n] != ':' || strncasecmp(line, name, n) != 0)
        return 0;
    const char *s = line + n + 1, *e = end;
    while (s < e && (*s == ' ' || *s == '\t'))
        s++;
    while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
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

/* The codings of a Transfer-Encoding line, after those of earlier lines:
 * *chunked says whether the last so far is chunked.  -1 when a coding
 * follows chunked (RFC 9112 6.1: chunked is applied once, and last). */
/* What follows a coding's name up to the next comma: whitespace, then
 * parameters (";...") for codings that take them; chunked takes none. */
static int coding_tail_ok(const char *t, const char *e, int chunked)
{
    while (t < e && (*t == ' ' || *t == '\t'))
        t++;
    return t == e || (*t == ';' && !chunked);
}

/* 0, CODINGS_CHUNKED_NOT_LAST, or CODINGS_MALFORMED (no coding at all, or
 * a coding followed by another word or, for chunked, by parameters). */
enum { CODINGS_CHUNKED_NOT_LAST = -1, CODINGS_MALFORMED = -2 };
static int read_codings(const char *v, const char *ve, int *chunked)
{
    int codings = 0;
    while (v < ve) {
        while (v < ve && (*v == ' ' || *v == '\t' || *v == ','))
            v++;
        const char *t = v;
        while (v < ve && *v != ',')
            v++;
        const char *te = t;
        while (te < v && *te != ';' && *te != ' ' && *te != '\t')
            te++;
        if (te == t)
            continue; /* an empty list element */
        if (*chunked)
            return CODINGS_CHUNKED_NOT_LAST;
        *chunked = te - t == 7 && strncasecmp(t, "chunked", 7) == 0;
        if (!coding_tail_ok(te, v, *chunked))
            return CODINGS_MALFORMED;
        codings++;
    }
    return codings ? 0 : CODINGS_MALFORMED;
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

/* A line from s up to its '\n' (at eol), without the CR before it. */
static const char *line_end(const char *s, const char *eol)
{
    return eol > s && eol[-1] == '\r' ? eol - 1 : eol;
}

/* RFC 9110 5.6.2: the characters of a token (a field name), by byte. */
static const unsigned char tchar[256] = {
    ['!'] = 1, ['#'] = 1, ['$'] = 1, ['%'] = 1, ['&'] = 1, ['\''] = 1, ['*'] = 1,
    ['+'] = 1, ['-'] = 1, ['.'] = 1, ['^'] = 1, ['_'] = 1, ['`'] = 1, ['|'] = 1,
    ['~'] = 1, ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1,
    ['6'] = 1, ['7'] = 1, ['8'] = 1, ['9'] = 1, ['A'] = 1, ['B'] = 1, ['C'] = 1,
    ['D'] = 1, ['E'] = 1, ['F'] = 1, ['G'] = 1, ['H'] = 1, ['I'] = 1, ['J'] = 1,
    ['K'] = 1, ['L'] = 1, ['M'] = 1, ['N'] = 1, ['O'] = 1, ['P'] = 1, ['Q'] = 1,
    ['R'] = 1, ['S'] = 1, ['T'] = 1, ['U'] = 1, ['V'] = 1, ['W'] = 1, ['X'] = 1,
    ['Y'] = 1, ['Z'] = 1, ['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1,
    ['f'] = 1, ['g'] = 1, ['h'] = 1, ['i'] = 1, ['j'] = 1, ['k'] = 1, ['l'] = 1,
    ['m'] = 1, ['n'] = 1, ['o'] = 1, ['p'] = 1, ['q'] = 1, ['r'] = 1, ['s'] = 1,
    ['t'] = 1, ['u'] = 1, ['v'] = 1, ['w'] = 1, ['x'] = 1, ['y'] = 1, ['z'] = 1,
};

typedef enum field_fault {
    FIELD_OK,
    FIELD_FOLD,     /* obs-fold: continues the field before it */
    FIELD_NUL,
    FIELD_BARE_CR,
    FIELD_NO_COLON,
    FIELD_BAD_NAME, /* not a token: empty, a space before the colon, ... */
    FIELD_FIRST_FOLD
} field_fault;

/* One header or trailer line (without its line end, and known to hold no
 * NUL) as RFC 9110 5.5 and RFC 9112 5 have it: a token, a colon, a value
 * without CR.  Other control bytes in a value are kept, as RFC 9110 5.5
 * allows and curl does.  A line starting with whitespace continues the
 * field before it (obs-fold), which a user agent must take (RFC 9112 5.2).
 * The name ends before e: the line's end in the buffer is a CR or LF. */
static inline field_fault check_field(const char *s, const char *e)
{
    const char *c = s;
    if (*s == ' ' || *s == '\t')
        return memchr(s, '\r', (size_t)(e - s)) ? FIELD_BARE_CR : FIELD_FOLD;
    while (tchar[(unsigned char)*c])
        c++;
    if (*c != ':' || c == s)
        return memchr(c, '\r', (size_t)(e - c)) ? FIELD_BARE_CR
               : memchr(s, ':', (size_t)(e - s)) ? FIELD_BAD_NAME
                                                 : FIELD_NO_COLON;
    return memchr(c, '\r', (size_t)(e - c)) ? FIELD_BARE_CR : FIELD_OK;
}

/* The words for a faulty field, in the head or in the trailers; curl's
 * where curl has them (as for Content-Length and the chunked framing). */
static const char *field_error(field_fault f, int trailer)
{
    static const char *const words[][2] = {
        [FIELD_NUL] = {"Nul byte in header", "Nul byte in trailer"},
        [FIELD_BARE_CR] = {"Bare CR in header", "Bare CR in trailer"},
        [FIELD_NO_COLON] = {"Header without colon", "Trailer without colon"},
        [FIELD_BAD_NAME] = {"Invalid header name", "Invalid trailer name"},
        [FIELD_FIRST_FOLD] = {"Whitespace before the first header",
                              "Whitespace before the first trailer"},
    };
    return words[f][trailer];
}

typedef struct head_facts {
    int http10;
    int chunked, has_te;
    int has_length;
    uint64_t length;
    int conn_close, conn_keep_alive;
    int set_cookie;
    int fields;
    int framing;            /* the last field was Content-Length, Transfer-Encoding
                               or Connection: a fold of it is refused */
} head_facts;

/* HTTP/1.x SP 3DIGIT [SP reason]; a reason of SP, HTAB, visible
 * characters and obs-text (RFC 9112 4).  The space before an empty
 * reason may be missing, as curl and llhttp allow. */
static int read_status_line(goose_h1_parser *p, const char *s, const char *e,
                            head_facts *f)
{
    static const char *const versions[] = {
        "Unsupported HTTP version (1.2) in response", "Unsupported HTTP version (1.3) in response",
        "Unsupported HTTP version (1.4) in response", "Unsupported HTTP version (1.5) in response",
        "Unsupported HTTP version (1.6) in response", "Unsupported HTTP version (1.7) in response",
        "Unsupported HTTP version (1.8) in response", "Unsupported HTTP version (1.9) in response",
    };
    if (e - s < 12 || memcmp(s, "HTTP/1.", 7) != 0 || !isdigit((unsigned char)s[7]) ||
        s[8] != ' ' || !isdigit((unsigned char)s[9]) || !isdigit((unsigned char)s[10]) ||
        !isdigit((unsigned char)s[11]) || (e - s > 12 && s[12] != ' '))
        goto bad;
    for (const char *c = s + 13; c < e; c++)
        if ((unsigned char)*c < 0x20 ? *c != '\t' : *c == 0x7f)
            goto bad;
    if (s[7] > '1') /* curl refuses it too; RFC 9112 2.3 would read it as 1.1 */
        return refuse(p, GOOSE_TE_VERSION, versions[s[7] - '2']);
    f->http10 = s[7] == '0';
    p->status = (s[9] - '0') * 100 + (s[10] - '0') * 10 + (s[11] - '0');
    if (p->status >= 100)
        return 0;
bad:
    return refuse(p, GOOSE_TE_PROTOCOL, "Invalid status line in the response");
}

static int read_header_line(goose_h1_parser *p, const char *s, const char *e, head_facts *f)
{
    const char *v, *ve;
    field_fault fault = check_field(s, e);
    if (fault == FIELD_FOLD && !f->fields)
        fault = FIELD_FIRST_FOLD; /* RFC 9112 2.2: refused, as curl does */
    if (fault == FIELD_FOLD && f->framing)
        return refuse(p, GOOSE_TE_PROTOCOL, "Folded Content-Length, "
                      "Transfer-Encoding or Connection in the response");
    if (fault == FIELD_FOLD)
        return 0; /* continues a field that does not frame the body */
    if (fault != FIELD_OK)
        return refuse(p, GOOSE_TE_PROTOCOL, field_error(fault, 0));
    f->fields++;
    f->framing = 0;
    char first = (char)tolower((unsigned char)*s);
    if (first == 's')
        f->set_cookie |= goose__http_is_set_cookie(s, (size_t)(e - s));
    if (first != 'c' && first != 't')
        return 0; /* none of the three that frame the body */
    if (header_value(s, e, "Content-Length", &v, &ve)) {
        uint64_t n;
        f->framing = 1;
        if (parse_length(v, ve, &n) < 0 || (f->has_length && n != f->length))
            return refuse(p, GOOSE_TE_PROTOCOL, "Invalid Content-Length: value");
        f->has_length = 1;
        f->length = n;
    } else if (header_value(s, e, "Transfer-Encoding", &v, &ve)) {
        f->framing = 1;
        f->has_te = 1;
        int rc = read_codings(v, ve, &f->chunked);
        if (rc == CODINGS_CHUNKED_NOT_LAST)
            return refuse(p, GOOSE_TE_PROTOCOL,
                          "Transfer-Encoding with chunked not last in the response");
        if (rc == CODINGS_MALFORMED)
            return refuse(p, GOOSE_TE_PROTOCOL,
                          "Malformed Transfer-Encoding in the response");
    } else if (header_value(s, e, "Connection", &v, &ve)) {
        f->framing = 1; /* whether the connection serves the next response */
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
    if (read_status_line(p, s, line_end(s, eol), &f) < 0)
        return;
    c->protocol = f.http10 ? GOOSE_PROTO_HTTP_1_0 : GOOSE_PROTO_HTTP_1_1;
    if (memchr(eol, '\0', (size_t)(end - eol))) {
        fail(p, GOOSE_TE_PROTOCOL, field_error(FIELD_NUL, 0));
        return;
    }
    for (s = eol + 1; s < end; s = eol + 1) {
        eol = memchr(s, '\n', (size_t)(end - s));
        const char *e = line_end(s, eol);
        if (e == s)
            break; /* the empty line that ends the head */
        if (read_header_line(p, s, e, &f) < 0)
            return;
    }
    c->set_cookie = f.set_cookie;
    p->keep_alive = f.http10 ? f.conn_keep_alive && !f.conn_close : !f.conn_close;
    if (p->status < 200 || p->no_body || p->status == 204 || p->status == 304) {
        p->state = GOOSE_H1_DONE;
    } else if (f.has_te && f.chunked) {
        p->state = GOOSE_H1_CHUNK_SIZE;
        p->step = 0;
        p->remaining = 0;
        p->line_start = h->len; /* where trailers will go */
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
        fail(p, GOOSE_TE_PROTOCOL, "Unexpected protocol switch");
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
            return fail(p, GOOSE_TE_RECV, "Too large response headers");
        if (goose__buf_add(&c->headers, data, used) < 0)
            return fail(p, GOOSE_TE_NOMEM, "Out of memory");
        return head_ended(p, c) ? used + parse_head(p, c, data + used, len - used) : used;
    }
    while (used < len) {
        const char *nl = memchr(data + used, '\n', len - used);
        size_t take = nl ? (size_t)(nl - (data + used)) + 1 : len - used;
        if (c->headers.len + take > HEAD_CAP)
            return fail(p, GOOSE_TE_RECV, "Too large response headers");
        if (goose__buf_add(&c->headers, data + used, take) < 0)
            return fail(p, GOOSE_TE_NOMEM, "Out of memory");
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
        return fail(p, GOOSE_TE_NOMEM, "Out of memory");
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

/* Where a chunk-size line is: RFC 9112 7.1, 1*HEXDIG [BWS] [";" ext] CRLF. */
enum { SIZE_FIRST, SIZE_HEX, SIZE_BWS, SIZE_EXT, SIZE_CR };

/* A chunk-size line, a byte at a time (the line is never kept).  Leading
 * zeros are taken (curl refuses more than 16 digits); a size past 64 bits
 * is not.  An extension may hold any byte but a control other than HTAB;
 * a bare LF ends no line here (curl takes it, RFC 9112 and llhttp do not). */
static size_t parse_size_line(goose_h1_parser *p, const char *data, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)data[i];
        int hex = hex_value((char)ch);
        if (ch == '\n' && p->step != SIZE_FIRST && p->step != SIZE_CR)
            return fail(p, GOOSE_TE_RECV,
                        "Chunk-size line not ended by CR LF in chunked-encoding");
        switch (p->step) {
        case SIZE_FIRST:
        case SIZE_HEX:
            if (hex >= 0) {
                if (p->remaining >> 60)
                    return fail(p, GOOSE_TE_RECV,
                                "Too long hexadecimal number in chunked-encoding");
                p->remaining = p->remaining * 16 + (uint64_t)hex;
                p->step = SIZE_HEX;
                continue;
            }
            if (p->step == SIZE_FIRST || (ch != ' ' && ch != '\t' && ch != ';' && ch != '\r'))
                return fail(p, GOOSE_TE_RECV,
                            "Illegal or missing hexadecimal sequence in chunked-encoding");
            /* fall through */
        case SIZE_BWS:
            if (ch == ' ' || ch == '\t')
                p->step = SIZE_BWS;
            else if (ch == ';')
                p->step = SIZE_EXT;
            else if (ch == '\r')
                p->step = SIZE_CR;
            else
                return fail(p, GOOSE_TE_RECV,
                            "Illegal or missing hexadecimal sequence in chunked-encoding");
            break;
        case SIZE_EXT:
            if (ch == '\r')
                p->step = SIZE_CR;
            else if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
                return fail(p, GOOSE_TE_RECV, "Invalid chunk extension in chunked-encoding");
            break;
        default: /* SIZE_CR */
            if (ch != '\n')
                return fail(p, GOOSE_TE_RECV,
                            "Chunk-size line not ended by CR LF in chunked-encoding");
            p->state = p->remaining ? GOOSE_H1_CHUNK_DATA : GOOSE_H1_TRAILER;
            p->step = 0;
            return i + 1;
        }
    }
    return len;
}

/* The CR LF after a chunk's data, exactly. */
static size_t parse_chunk_end(goose_h1_parser *p, const char *data, size_t len)
{
    size_t i = 0;
    for (; i < len; i++) {
        if (data[i] != (p->step ? '\n' : '\r'))
            return fail(p, GOOSE_TE_RECV, "Malformed encoding found in chunked-encoding");
        if (p->step++) {
            p->state = GOOSE_H1_CHUNK_SIZE;
            p->step = SIZE_FIRST;
            p->remaining = 0;
            return i + 1;
        }
    }
    return i;
}

/* Trailer lines join the headers, as with curl, each a valid field; the
 * empty line after them ends the response and is not kept. */
static size_t parse_trailer(goose_h1_parser *p, goose_http_capture *c,
                            const char *data, size_t len)
{
    const char *nl = memchr(data, '\n', len);
    size_t take = nl ? (size_t)(nl - data) + 1 : len;
    if (c->headers.len + take > HEAD_CAP)
        return fail(p, GOOSE_TE_RECV, "Too large response headers");
    if (goose__buf_add(&c->headers, data, take) < 0)
        return fail(p, GOOSE_TE_NOMEM, "Out of memory");
    if (!nl)
        return take;
    const char *s = c->headers.data + p->line_start, *eol = c->headers.data + c->headers.len - 1;
    const char *e = line_end(s, eol);
    if (e == s) {
        c->headers.len = p->line_start;
        c->headers.data[c->headers.len] = '\0';
        p->state = GOOSE_H1_DONE;
        return take;
    }
    field_fault fault = memchr(s, '\0', (size_t)(e - s)) ? FIELD_NUL : check_field(s, e);
    if (fault == FIELD_FOLD && !p->trailers)
        fault = FIELD_FIRST_FOLD;
    if (fault != FIELD_OK && fault != FIELD_FOLD)
        return fail(p, GOOSE_TE_RECV, field_error(fault, 1));
    p->trailers++;
    p->line_start = c->headers.len;
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
        case GOOSE_H1_CHUNK_SIZE:
            used += parse_size_line(p, at, left);
            break;
        case GOOSE_H1_CHUNK_END:
            used += parse_chunk_end(p, at, left);
            break;
        default:
            used += parse_trailer(p, c, at, left);
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
            fail(p, GOOSE_TE_EMPTY, "Empty reply from server");
        else
            fail(p, GOOSE_TE_RECV, "Connection closed in the response headers");
        break;
    default:
        fail(p, GOOSE_TE_PARTIAL, "Connection closed before the end of the response body");
        break;
    }
    return p->state;
}
