/* Reading a response: its body as HTML (a title, form values), JSON
 * (RFC 6901 pointers) or by PCRE2 patterns.  A reply gets its reading
 * when a transaction first asks, so a script that never asks pays
 * nothing; each parse happens once per response, and every result stays
 * valid until the response is freed (the reading goes with the reply
 * when it is recycled). */
#include "engine/engine.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "content/extract.h"
#include "content/html.h"
#include "content/json.h"

/* How much of a title a failed check quotes: error rows stay short. */
#define TITLE_QUOTED 48

/* A pattern's result, kept so that asking again returns it (a script
 * extracting in a loop does not grow the reading). */
typedef struct extracted {
    struct extracted *next;
    char *pattern;
    char *text; /* NULL: no match */
} extracted;

struct goose_reading {
    goose_html *html;
    goose_json *json;
    int json_tried; /* the body was not JSON: not parsed again */
    extracted *extracts;
};

void goose__reading_free(goose_reading *rd)
{
    if (!rd)
        return;
    goose__html_free(rd->html);
    goose__json_free(rd->json);
    while (rd->extracts) {
        extracted *e = rd->extracts;
        rd->extracts = e->next;
        free(e->pattern);
        free(e->text);
        free(e);
    }
    free(rd);
}

static goose_reading *reading_of(goose_reply *r)
{
    if (!r->reading)
        r->reading = calloc(1, sizeof *r->reading);
    return r->reading;
}

/* The kept body (up to GOOSE_HTTP_BODY_CAP bytes). */
static const char *body_of(const goose_reply *r, size_t *len)
{
    *len = r->capture.body.len;
    return r->capture.body.data ? r->capture.body.data : "";
}

/* HTML is read from the first 2 MiB of a body: libxml2's tree takes some
 * 45 times the bytes it parses (a 16 MiB page: 700 MB and 4 s of CPU on
 * the thread every user shares), and a page's title, forms and assets
 * come long before that. */
#define HTML_READ_MAX (2u * 1024 * 1024)

goose_html *goose__reply_html(goose_reply *r)
{
    goose_reading *rd = reading_of(r);
    if (!rd)
        return NULL;
    if (!rd->html) {
        size_t len;
        const char *body = body_of(r, &len);
        rd->html = goose__html_parse(body, len < HTML_READ_MAX ? len : HTML_READ_MAX);
    }
    return rd->html;
}

static goose_json *json_of(goose_reply *r)
{
    goose_reading *rd = reading_of(r);
    if (!rd)
        return NULL;
    if (!rd->json_tried) {
        size_t len;
        const char *body = body_of(r, &len);
        rd->json = goose__json_parse(body, len);
        rd->json_tried = 1;
    }
    return rd->json;
}

/* The reply a reader may read, or NULL (h NULL, freed, another user's). */
static goose_reply *readable(goose_response *h, const char *fn)
{
    return h ? goose__response_own(h, fn) : NULL;
}

const char *goose_response_extract(goose_response *h, const char *pattern)
{
    goose_reply *r = readable(h, "goose_response_extract");
    goose_reading *rd = r && pattern ? reading_of(r) : NULL;
    if (!rd)
        return NULL;
    for (extracted *e = rd->extracts; e; e = e->next)
        if (strcmp(e->pattern, pattern) == 0)
            return e->text;
    size_t len;
    const char *body = body_of(r, &len);
    char *text, err[256];
    int rc = goose__extract(body, len, pattern, &text, err, sizeof err);
    if (rc == -1) { /* a bad pattern fails the request and its transaction */
        goose__response_check_failed(h, err);
        goose__transaction_fail(r->user, err);
        return NULL;
    }
    extracted *e = rc >= 0 ? calloc(1, sizeof *e) : NULL;
    if (!e || !(e->pattern = strdup(pattern))) {
        free(e);
        free(text);
        return NULL;
    }
    e->text = text;
    e->next = rd->extracts;
    rd->extracts = e;
    return text;
}

const char *goose_response_json(goose_response *h, const char *pointer)
{
    goose_reply *r = readable(h, "goose_response_json");
    goose_json *doc = r && pointer ? json_of(r) : NULL;
    return doc ? goose__json_pointer(doc, pointer) : NULL;
}

const char *goose_response_form_value(goose_response *h, const char *field)
{
    goose_reply *r = readable(h, "goose_response_form_value");
    goose_html *doc = r && field ? goose__reply_html(r) : NULL;
    return doc ? goose__html_form_value(doc, field) : NULL;
}

const char *goose_response_title(goose_response *h)
{
    goose_reply *r = readable(h, "goose_response_title");
    goose_html *doc = r ? goose__reply_html(r) : NULL;
    return doc ? goose__html_title(doc) : NULL;
}

/* s quoted for an error text: at most TITLE_QUOTED bytes, cut on a UTF-8
 * character's boundary, "..." saying it was cut. */
static void quote(char *dst, size_t dstlen, const char *s)
{
    size_t n = strlen(s);
    int cut = n > TITLE_QUOTED;
    if (cut) {
        n = TITLE_QUOTED;
        while (n && ((unsigned char)s[n] & 0xC0) == 0x80)
            n--;
    }
    snprintf(dst, dstlen, "\"%.*s%s\"", (int)n, s, cut ? "..." : "");
}

int goose_response_expect_title(goose_response *h, const char *title)
{
    goose_reply *r = title ? readable(h, "goose_response_expect_title") : NULL;
    if (!r)
        return GOOSE_EINVAL;
    goose_html *doc = goose__reply_html(r);
    char *want = strdup(title);
    if (!doc || !want) {
        free(want);
        return GOOSE_ENOMEM;
    }
    goose__html_collapse(want);
    const char *got = goose__html_title(doc);
    int rc = GOOSE_OK;
    if (!got || strcmp(got, want) != 0) {
        char qwant[TITLE_QUOTED + 8], qgot[TITLE_QUOTED + 8], why[2 * TITLE_QUOTED + 64];
        quote(qwant, sizeof qwant, want);
        if (got)
            quote(qgot, sizeof qgot, got);
        snprintf(why, sizeof why, "expected title %s, got %s", qwant, got ? qgot : "no title");
        rc = goose__response_check_failed(h, why);
    }
    free(want);
    return rc;
}
