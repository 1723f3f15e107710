/* RFC 6901 pointers over jansson.  jansson keeps an object's keys in
 * the order it read them, so compact dumps keep the document's order. */
#include "content/json.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

/* A result handed out, kept until the document is freed. */
typedef struct json_result {
    struct json_result *next;
    char *pointer;
    char *text; /* NULL: nothing there */
} json_result;

struct goose_json {
    json_t *root;
    json_result *results;
};

goose_json *goose__json_parse(const char *body, size_t len)
{
    if (!body)
        return NULL;
    goose_json *doc = calloc(1, sizeof *doc);
    if (!doc)
        return NULL;
    json_error_t err;
    size_t flags = JSON_DECODE_ANY | JSON_ALLOW_NUL;
    doc->root = json_loadb(body, len, flags, &err);
    /* An integer beyond 64 bits (ids some APIs send): read as a real
     * rather than lose the whole document. */
    if (!doc->root && json_error_code(&err) == json_error_numeric_overflow)
        doc->root = json_loadb(body, len, flags | JSON_DECODE_INT_AS_REAL, &err);
    if (!doc->root) {
        free(doc);
        return NULL;
    }
    return doc;
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
    json_decref(doc->root);
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

/* The text of v, malloc'd. */
static char *text_of(json_t *v)
{
    if (json_is_string(v))
        return strndup(json_string_value(v), json_string_length(v));
    if (json_is_real(v))
        return real_text(json_real_value(v));
    /* objects, arrays, integers, true, false, null */
    return json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
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
    if (v && !(r->text = text_of(v)))
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
