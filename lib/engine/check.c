/* A response's header fields one by one, and the checks a script makes of
 * a page (goose-eggs' validate_page): text in the body, a header.  The
 * fields are parsed once, when first asked, so a script that never asks
 * pays nothing.  A check that does not hold fails the request with a
 * text made only of what the script gave (never of what the server
 * sent), so that each check makes one row of the errors table. */
#include "engine/engine.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

/* Longest part of a script's text quoted in a failure. */
#define QUOTED_MAX 64

static int is_token(const char *s, size_t len)
{
    if (!len)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (!isalnum((unsigned char)s[i]) && !strchr("!#$%&'*+-.^_`|~", s[i]))
            return 0;
    return 1;
}

/* ---- header fields ---- */

static int add_field(goose_reply *r, const char *name, size_t nlen, const char *value,
                     size_t vlen)
{
    size_t at[2] = {r->fields.len, r->fields.len + nlen + 1};
    /* no add to fields can fail after the reserve */
    if (goose__buf_reserve(&r->fields, nlen + vlen + 2) < 0 ||
        goose__buf_add(&r->field_at, at, sizeof at) < 0)
        return -1;
    goose__buf_add(&r->fields, name, nlen);
    goose__buf_add(&r->fields, "", 1);
    goose__buf_add(&r->fields, value, vlen);
    return goose__buf_add(&r->fields, "", 1);
}

/* obs-fold (RFC 9112, 5.2): a line that starts with a space or a tab
 * goes on with the value before it, joined by one space. */
static int continue_field(goose_reply *r, const char *text, size_t len)
{
    if (goose__buf_reserve(&r->fields, len + 1) < 0) /* no add below can fail */
        return -1;
    r->fields.len--; /* the value's '\0' */
    if (len && r->fields.data[r->fields.len - 1] != '\0') /* after a value */
        goose__buf_add(&r->fields, " ", 1);
    goose__buf_add(&r->fields, text, len);
    return goose__buf_add(&r->fields, "", 1);
}

/* The captured head: a status line, "Name: value" lines, an empty line,
 * then any trailer fields (as goose_response_header reads them). */
static int parse_fields(goose_reply *r)
{
    goose__buf_clear(&r->fields);
    goose__buf_clear(&r->field_at);
    const char *p = r->capture.headers.data;
    const char *end = p ? p + r->capture.headers.len : NULL;
    int field = 0; /* the line before was a field */
    while (p && p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        const char *next = eol ? eol + 1 : end;
        const char *le = eol ? eol : end;
        if (le > p && le[-1] == '\r')
            le--;
        const char *colon = memchr(p, ':', (size_t)(le - p));
        const char *v = colon ? colon + 1 : p;
        if (field && (*p == ' ' || *p == '\t'))
            v = p;
        while (v < le && (*v == ' ' || *v == '\t'))
            v++;
        const char *ve = le;
        while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
            ve--;
        int rc = 0;
        if (field && (*p == ' ' || *p == '\t')) {
            rc = continue_field(r, v, (size_t)(ve - v));
        } else if (colon && is_token(p, (size_t)(colon - p))) { /* not the status line */
            rc = add_field(r, p, (size_t)(colon - p), v, (size_t)(ve - v));
            field = 1;
        } else {
            field = 0;
        }
        if (rc < 0)
            return -1;
        p = next;
    }
    r->fields_parsed = 1;
    return 0;
}

static size_t field_count(const goose_reply *r)
{
    return r->field_at.len / (2 * sizeof(size_t));
}

/* Field i's name and value (i < field_count). */
static void field(const goose_reply *r, size_t i, const char **name, const char **value)
{
    size_t at[2];
    memcpy(at, r->field_at.data + i * sizeof at, sizeof at);
    *name = r->fields.data + at[0];
    *value = r->fields.data + at[1];
}

/* The reply with its fields parsed, or NULL. */
static goose_reply *with_fields(goose_response *h, const char *fn, int *rc)
{
    goose_reply *r = h ? goose__response_own(h, fn) : NULL;
    *rc = GOOSE_EINVAL;
    if (!r)
        return NULL;
    *rc = GOOSE_ENOMEM;
    if (!r->fields_parsed && parse_fields(r) < 0)
        return NULL;
    *rc = GOOSE_OK;
    return r;
}

size_t goose_response_header_count(goose_response *h)
{
    int rc;
    goose_reply *r = with_fields(h, "goose_response_header_count", &rc);
    return r ? field_count(r) : 0;
}

int goose_response_header_at(goose_response *h, size_t i, const char **name,
                             const char **value)
{
    if (name)
        *name = NULL;
    if (value)
        *value = NULL;
    if (!h || !name || !value)
        return GOOSE_EINVAL;
    int rc;
    goose_reply *r = with_fields(h, "goose_response_header_at", &rc);
    if (!r)
        return rc;
    if (i >= field_count(r))
        return GOOSE_EINVAL;
    field(r, i, name, value);
    return GOOSE_OK;
}

/* ---- checks ---- */

/* Up to QUOTED_MAX bytes of a script's text, its control bytes, quotes
 * and backslashes escaped (so the text stays one line in every report),
 * "..." when cut (never inside a UTF-8 sequence). */
static int add_quoted(goose_buf *b, const char *s)
{
    size_t n = strlen(s), cut = n > QUOTED_MAX ? QUOTED_MAX : n;
    while (cut < n && cut && ((unsigned char)s[cut] & 0xc0) == 0x80)
        cut--;
    for (size_t i = 0; i < cut; i++) {
        unsigned char ch = (unsigned char)s[i];
        int rc = ch == '"' || ch == '\\' ? goose__buf_printf(b, "\\%c", ch)
                 : ch == '\n'             ? goose__buf_adds(b, "\\n")
                 : ch == '\t'             ? goose__buf_adds(b, "\\t")
                 : ch < 0x20 || ch == 0x7f ? goose__buf_printf(b, "\\x%02X", ch)
                                           : goose__buf_add(b, &s[i], 1);
        if (rc < 0)
            return -1;
    }
    return cut < n ? goose__buf_adds(b, "...") : 0;
}

/* The check did not hold: the request fails with why, unless it failed
 * already (a transport error, a status): the first reason stays. */
static int check_failed(goose_response *h, goose_reply *r, goose_buf *why, int built)
{
    int rc = GOOSE_EFAILED;
    if (built < 0)
        rc = GOOSE_ENOMEM;
    else if (!goose_response_error(h) && !r->recorded) {
        goose__buf_free(&r->failure);
        r->failure = *why;
        return rc;
    }
    goose__buf_free(why);
    return rc;
}

int goose__response_check_failed(goose_response *h, const char *why)
{
    goose_reply *r = h->reply;
    goose_buf text;
    goose__buf_init(&text);
    return check_failed(h, r, &text, goose__buf_adds(&text, why));
}

int goose_response_expect_text(goose_response *h, const char *text)
{
    goose_reply *r = h && text ? goose__response_own(h, "goose_response_expect_text") : NULL;
    if (!r)
        return GOOSE_EINVAL;
    const goose_buf *body = &r->capture.body;
    size_t n = strlen(text);
    if (n == 0 || (body->len >= n && memmem(body->data, body->len, text, n)))
        return GOOSE_OK;
    goose_buf why;
    goose__buf_init(&why);
    int built = goose__buf_adds(&why, "expected text \"") < 0 || add_quoted(&why, text) < 0 ||
                        goose__buf_adds(&why, "\" not in the body") < 0
                    ? -1
                    : 0;
    return check_failed(h, r, &why, built);
}

int goose_response_expect_header(goose_response *h, const char *name, const char *value)
{
    if (!h || !name || !is_token(name, strlen(name)) || (value && strpbrk(value, "\r\n")))
        return GOOSE_EINVAL;
    int rc;
    goose_reply *r = with_fields(h, "goose_response_expect_header", &rc);
    if (!r)
        return rc;
    int named = 0;
    for (size_t i = 0; i < field_count(r); i++) {
        const char *n, *v;
        field(r, i, &n, &v);
        if (strcasecmp(n, name) != 0)
            continue;
        if (!value || strcmp(v, value) == 0)
            return GOOSE_OK;
        named = 1;
    }
    /* the value the server sent is left out: it may differ every time */
    goose_buf why;
    goose__buf_init(&why);
    int built = goose__buf_printf(&why, "expected header %s", name);
    if (built == 0 && value)
        built = goose__buf_adds(&why, ": ") < 0 || add_quoted(&why, value) < 0 ? -1 : 0;
    if (built == 0)
        built = !value   ? goose__buf_adds(&why, ", not in the response")
                : named ? goose__buf_printf(&why, ", got %s: (another value)", name)
                        : goose__buf_printf(&why, ", got no %s", name);
    return check_failed(h, r, &why, built);
}
