/* RFC 6901 pointers over jansson.  jansson keeps an object's keys in
 * the order it read them, so compact dumps keep the document's order. */
#include "content/json.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "coro/coro.h"

/* A result handed out, kept until the document is freed. */
typedef struct json_result {
    struct json_result *next;
    char *pointer;
    char *text; /* NULL: nothing there */
} json_result;

struct goose_json {
    json_t *root;
    json_result *results;
    /* Read with JSON_DECODE_INT_AS_REAL (an integer past 64 bits): the
     * body's own text, where numbers and containers are found. */
    char *body;
    size_t len;
};

/* jansson's reader, writer and free recurse (about 300 bytes a level,
 * JSON_PARSER_MAX_DEPTH levels): each runs through goose__coro_call, on
 * the engine thread's stack rather than the user's small one. */
typedef struct jansson_call {
    const char *body;
    size_t len;
    size_t flags;
    json_t *v;
    json_error_t err;
    char *text;
} jansson_call;

static void load_on_thread(void *arg)
{
    jansson_call *c = arg;
    c->v = json_loadb(c->body, c->len, c->flags, &c->err);
    /* An integer beyond 64 bits (ids some APIs send): read as a real
     * rather than lose the whole document. */
    if (!c->v && json_error_code(&c->err) == json_error_numeric_overflow) {
        c->flags |= JSON_DECODE_INT_AS_REAL;
        c->v = json_loadb(c->body, c->len, c->flags, &c->err);
    }
}

static void dump_on_thread(void *arg)
{
    jansson_call *c = arg;
    c->text = json_dumps(c->v, JSON_COMPACT | JSON_ENCODE_ANY);
}

static void decref_on_thread(void *arg)
{
    json_decref(arg);
}

/* The document at body, with flags telling how it was read; NULL when
 * not JSON. */
static json_t *load(const char *body, size_t len, size_t *flags)
{
    jansson_call c = {.body = body, .len = len, .flags = JSON_DECODE_ANY | JSON_ALLOW_NUL};
    goose__coro_call(load_on_thread, &c);
    *flags = c.flags;
    return c.v;
}

int goose__json_valid(const char *text, size_t len)
{
    size_t flags;
    json_t *v = text ? load(text, len, &flags) : NULL;
    if (v)
        goose__coro_call(decref_on_thread, v);
    return v != NULL;
}

goose_json *goose__json_parse(const char *body, size_t len)
{
    if (!body)
        return NULL;
    goose_json *doc = calloc(1, sizeof *doc);
    if (!doc)
        return NULL;
    size_t flags;
    if (!(doc->root = load(body, len, &flags)))
        goto fail;
    if (flags & JSON_DECODE_INT_AS_REAL) {
        if (!(doc->body = malloc(len ? len : 1)))
            goto fail;
        memcpy(doc->body, body, len);
        doc->len = len;
    }
    return doc;
fail:
    goose__json_free(doc);
    return NULL;
}

void goose__json_free(goose_json *doc)
{
    if (!doc)
        return;
    while (doc->results) {
        json_result *r = doc->results;
        doc->results = r->next;
        free(r->pointer);
        free(r->text);
        free(r);
    }
    if (doc->root)
        goose__coro_call(decref_on_thread, doc->root);
    free(doc->body);
    free(doc);
}

/* The array index a reference token names: digits without a leading
 * zero ("0" itself is one); -1 for anything else ("-" included: the
 * member after the last, which does not exist). */
static long long array_index(const char *tok, size_t len)
{
    if (!len || (len > 1 && tok[0] == '0') || len > 18)
        return -1;
    long long i = 0;
    for (size_t k = 0; k < len; k++) {
        if (tok[k] < '0' || tok[k] > '9')
            return -1;
        i = i * 10 + (tok[k] - '0');
    }
    return i;
}

/* Unescapes the reference token tok[0..len) into key (~1 is /, ~0 is ~);
 * its length, or -1 for a ~ followed by anything else. */
static long unescape(const char *tok, size_t len, char *key)
{
    size_t n = 0;
    for (size_t k = 0; k < len; k++) {
        if (tok[k] != '~') {
            key[n++] = tok[k];
            continue;
        }
        if (k + 1 == len || (tok[k + 1] != '0' && tok[k + 1] != '1'))
            return -1;
        key[n++] = tok[++k] == '0' ? '~' : '/';
    }
    return (long)n;
}

/* The value at pointer, or NULL. */
static json_t *resolve(json_t *v, const char *pointer)
{
    if (*pointer && *pointer != '/')
        return NULL;
    char *key = malloc(strlen(pointer) + 1);
    if (!key)
        return NULL;
    const char *p = pointer;
    while (v && *p == '/') {
        const char *tok = ++p;
        while (*p && *p != '/')
            p++;
        size_t len = (size_t)(p - tok);
        long n = unescape(tok, len, key);
        if (n < 0) {
            v = NULL;
        } else if (json_is_object(v)) {
            v = json_object_getn(v, key, (size_t)n);
        } else if (json_is_array(v)) {
            long long i = array_index(key, (size_t)n);
            v = i < 0 || (size_t)i >= json_array_size(v) ? NULL : json_array_get(v, (size_t)i);
        } else {
            v = NULL;
        }
    }
    free(key);
    return v;
}

/* A real as the shortest text that reads back as the same double, the
 * way JSON writers (JavaScript's Number#toString, Python's repr) write
 * it: jansson's own %.17g turns 19.99 into 19.989999999999998. */
static char *real_text(double d)
{
    char buf[40];
    if (!isfinite(d))
        return strdup("null"); /* cannot come from a parse; as JSON has it */
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, sizeof buf, "%.*g", prec, d);
        if (strtod(buf, NULL) == d)
            break;
    }
    if (!strpbrk(buf, ".eEn"))
        strcat(buf, ".0"); /* still a real, as jansson writes one */
    return strdup(buf);
}

/* ---- the body's own text, for a document read with INT_AS_REAL ----
 * An iterative scanner: the body is valid JSON (jansson read it), so it
 * only skips, never checks. */

static size_t skip_ws(const char *b, size_t n, size_t i)
{
    while (i < n && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r'))
        i++;
    return i;
}

/* Past the string whose opening quote is b[i]. */
static size_t skip_string(const char *b, size_t n, size_t i)
{
    for (i++; i < n && b[i] != '"'; i++)
        if (b[i] == '\\')
            i++;
    return i + 1;
}

/* Past the value starting at b[i]. */
static size_t skip_value(const char *b, size_t n, size_t i)
{
    if (i < n && b[i] == '"')
        return skip_string(b, n, i);
    if (i < n && (b[i] == '[' || b[i] == '{')) {
        size_t depth = 0;
        while (i < n) {
            if (b[i] == '"') {
                i = skip_string(b, n, i);
                continue;
            }
            if (b[i] == '[' || b[i] == '{')
                depth++;
            else if ((b[i] == ']' || b[i] == '}') && --depth == 0)
                return i + 1;
            i++;
        }
        return n;
    }
    while (i < n && !strchr(",]} \t\n\r", b[i]))
        i++;
    return i;
}

static unsigned hex4(const char *s)
{
    unsigned v = 0;
    for (int k = 0; k < 4; k++)
        v = v * 16 + (unsigned)(s[k] <= '9' ? s[k] - '0' : (s[k] | 0x20) - 'a' + 10);
    return v;
}

static size_t put_utf8(char *out, unsigned cp)
{
    if (cp < 0x80)
        return out[0] = (char)cp, 1;
    if (cp < 0x800)
        return out[0] = (char)(0xc0 | cp >> 6), out[1] = (char)(0x80 | (cp & 0x3f)), 2;
    if (cp < 0x10000)
        return out[0] = (char)(0xe0 | cp >> 12), out[1] = (char)(0x80 | (cp >> 6 & 0x3f)),
               out[2] = (char)(0x80 | (cp & 0x3f)), 3;
    return out[0] = (char)(0xf0 | cp >> 18), out[1] = (char)(0x80 | (cp >> 12 & 0x3f)),
           out[2] = (char)(0x80 | (cp >> 6 & 0x3f)), out[3] = (char)(0x80 | (cp & 0x3f)), 4;
}

/* Whether the string at b[i] (a member name) reads as key[0..klen). */
static int name_is(const char *b, size_t n, size_t i, const char *key, size_t klen)
{
    size_t k = 0;
    for (i++; i < n && b[i] != '"'; i++) {
        char u[4] = {b[i]};
        size_t ul = 1;
        int escaped = b[i] == '\\';
        if (escaped && b[++i] == 'u') {
            unsigned cp = hex4(b + i + 1);
            i += 4;
            if (cp >= 0xd800 && cp < 0xdc00) { /* a pair: jansson checked it */
                cp = 0x10000 + ((cp - 0xd800) << 10) + (hex4(b + i + 3) - 0xdc00);
                i += 6;
            }
            ul = put_utf8(u, cp);
        } else if (escaped) {
            const char *esc = strchr("b\bf\fn\nr\rt\t", b[i]);
            u[0] = esc ? esc[1] : b[i]; /* \" \\ \/ stand for themselves */
        }
        if (k + ul > klen || memcmp(key + k, u, ul) != 0)
            return 0;
        k += ul;
    }
    return k == klen;
}

/* The start of the value the reference token key[0..klen) names in the
 * container at b[i]; n for none.  Of duplicate names, the last, as
 * jansson keeps. */
static size_t member(const char *b, size_t n, size_t i, const char *key, size_t klen)
{
    size_t found = n;
    if (b[i] == '{') {
        for (i = skip_ws(b, n, i + 1); i < n && b[i] == '"';) {
            int match = name_is(b, n, i, key, klen);
            i = skip_ws(b, n, skip_ws(b, n, skip_string(b, n, i)) + 1); /* past : */
            if (match)
                found = i;
            i = skip_ws(b, n, skip_value(b, n, i));
            if (i < n && b[i] == ',')
                i = skip_ws(b, n, i + 1);
        }
    } else if (b[i] == '[') {
        long long idx = array_index(key, klen);
        i = skip_ws(b, n, i + 1);
        for (long long k = 0; idx >= 0 && i < n && b[i] != ']'; k++) {
            if (k == idx)
                return i;
            i = skip_ws(b, n, skip_value(b, n, i));
            if (i < n && b[i] == ',')
                i = skip_ws(b, n, i + 1);
        }
    }
    return found;
}

/* The body's text of the value at pointer, outside strings without its
 * blanks; NULL when out of memory. */
static char *body_text(const goose_json *doc, const char *pointer)
{
    const char *b = doc->body;
    size_t n = doc->len, i = skip_ws(b, n, 0);
    char *key = malloc(strlen(pointer) + 1);
    if (!key)
        return NULL;
    for (const char *p = pointer; i < n && *p == '/';) {
        const char *tok = ++p;
        while (*p && *p != '/')
            p++;
        long kn = unescape(tok, (size_t)(p - tok), key);
        i = kn < 0 ? n : member(b, n, i, key, (size_t)kn);
    }
    free(key);
    if (i >= n)
        return NULL; /* cannot be: jansson found it */
    size_t end = skip_value(b, n, i);
    char *out = malloc(end - i + 1), *o = out;
    if (!out)
        return NULL;
    while (i < end) {
        size_t next = b[i] == '"' ? skip_string(b, n, i) : i + 1;
        if (!strchr(" \t\n\r", b[i]))
            o = (char *)memcpy(o, b + i, next - i) + (next - i);
        i = next;
    }
    *o = '\0';
    return out;
}

/* The text of v, malloc'd. */
static char *text_of(const goose_json *doc, json_t *v, const char *pointer)
{
    if (json_is_string(v))
        return strndup(json_string_value(v), json_string_length(v));
    /* read with INT_AS_REAL: every integer is a real in v; the body
     * still has the numbers as they were written */
    if (doc->body)
        return body_text(doc, pointer);
    if (json_is_real(v))
        return real_text(json_real_value(v));
    /* objects, arrays, integers, true, false, null */
    jansson_call c = {.v = v};
    goose__coro_call(dump_on_thread, &c);
    return c.text;
}

const char *goose__json_pointer(goose_json *doc, const char *pointer)
{
    if (!doc || !pointer)
        return NULL;
    for (json_result *r = doc->results; r; r = r->next)
        if (strcmp(r->pointer, pointer) == 0)
            return r->text;
    json_result *r = calloc(1, sizeof *r);
    if (!r || !(r->pointer = strdup(pointer)))
        goto fail;
    json_t *v = resolve(doc->root, pointer);
    if (v && !(r->text = text_of(doc, v, pointer)))
        goto fail;
    r->next = doc->results;
    doc->results = r;
    return r->text;
fail: /* out of memory: nothing kept, asked again next time */
    if (r)
        free(r->pointer);
    free(r);
    return NULL;
}
