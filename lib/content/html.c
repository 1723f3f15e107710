/* HTML bodies read by libxml2's HTML parser, which recovers from any
 * bytes the way browsers do (unclosed tags, stray end tags, uppercase
 * names, a <meta charset> or no charset at all) and hands back UTF-8.
 *
 * Why libxml2 and not gumbo (both Debian packages): gumbo is archived
 * upstream (google/gumbo-parser, no release since 2016) while libxml2 is
 * maintained and on nearly every Debian system already; libxml2 decodes
 * charsets itself (gumbo takes UTF-8 only, a Latin-1 page would need
 * iconv of our own); and it costs half: a 1 MB page of articles, forms
 * and images parsed in 20-25 ms of CPU by libxml2 2.9.14, 42-47 ms (and
 * 5 ms to free) by gumbo 0.10.1 (-O2, this machine, 2026-12-07).  gumbo
 * follows HTML5's tree building more closely (libxml2 builds elements
 * inside <title> and <textarea>, which browsers read as text); for what
 * is read here (a title, form controls, src and href) the trees agree on
 * real pages. */
#include "content/html.h"
#include "coro/coro.h"

#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/HTMLparser.h>
#include <libxml/globals.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>

/* A result handed out, kept until the document is freed. */
typedef struct html_value {
    struct html_value *next;
    char *field;
    char *value; /* NULL: no control of that name */
} html_value;

struct goose_html {
    htmlDocPtr doc;   /* NULL for an empty body */
    int title_done;
    char *title;
    html_value *values;
};

static pthread_once_t init_once = PTHREAD_ONCE_INIT;

/* libxml2's globals, set up once before threads race to do it. */
static void init_libxml(void)
{
    xmlInitParser();
}

/* Errors libxml2 raises without a parser context (a charset converter
 * that fails) go to its generic handler, stderr by default: the library
 * never prints. */
static void silent(void *ctx, const char *msg, ...)
{
    (void)ctx;
    (void)msg;
}

static void silent_structured(void *ctx, xmlErrorPtr err)
{
    (void)ctx;
    (void)err;
}

typedef struct html_call {
    const char *body;
    size_t len;
    xmlDocPtr doc;
} html_call;

/* libxml2's reader is iterative, but its frames and encoding buffers are
 * not small: it runs on the engine thread's stack (goose__coro_call). */
static void read_on_thread(void *arg)
{
    html_call *c = arg;
    c->doc = htmlReadMemory(c->body, c->len > INT_MAX ? INT_MAX : (int)c->len, NULL, NULL,
                            HTML_PARSE_RECOVER | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING |
                                HTML_PARSE_NONET | HTML_PARSE_COMPACT | XML_PARSE_HUGE);
}

goose_html *goose__html_parse(const char *body, size_t len)
{
    pthread_once(&init_once, init_libxml);
    goose_html *h = calloc(1, sizeof *h);
    if (!h)
        return NULL;
    if (!body || !len)
        return h;
    /* The handlers are per thread: this thread's are restored after. */
    xmlGenericErrorFunc generic = xmlGenericError;
    void *generic_ctx = xmlGenericErrorContext;
    xmlStructuredErrorFunc structured = xmlStructuredError;
    void *structured_ctx = xmlStructuredErrorContext;
    xmlSetGenericErrorFunc(NULL, silent);
    xmlSetStructuredErrorFunc(NULL, silent_structured);
    /* NULL encoding: a BOM or <meta charset> says it, else UTF-8 with a
     * fall back to Latin-1 on bytes that are not UTF-8.  HUGE: without it
     * libxml2 drops everything below 256 levels of nesting and text
     * nodes past 10 MB (a kept body is up to 16 MB); its parse and free
     * are not recursive, so depth costs no stack. */
    html_call c = {.body = body, .len = len};
    goose__coro_call(read_on_thread, &c);
    h->doc = c.doc;
    xmlSetGenericErrorFunc(generic_ctx, generic);
    xmlSetStructuredErrorFunc(structured_ctx, structured);
    return h;
}

void goose__html_free(goose_html *h)
{
    if (!h)
        return;
    while (h->values) {
        html_value *v = h->values;
        h->values = v->next;
        free(v->field);
        free(v->value);
        free(v);
    }
    free(h->title);
    if (h->doc)
        xmlFreeDoc(h->doc);
    free(h);
}

/* ---- walking the tree ---- */

/* The node after n in document order inside top's subtree (the whole
 * document when top is NULL), without entering n's children when
 * skip_children.  Iterative: a deep tree must not eat a user's
 * coroutine stack. */
static xmlNodePtr next_within(xmlNodePtr n, xmlNodePtr top, int skip_children)
{
    if (!skip_children && n->children)
        return n->children;
    for (; n && n != top; n = n->parent) {
        if (n->type == XML_HTML_DOCUMENT_NODE || n->type == XML_DOCUMENT_NODE)
            return NULL;
        if (n->next)
            return n->next;
    }
    return NULL;
}

static xmlNodePtr next_node(xmlNodePtr n, int skip_children)
{
    return next_within(n, NULL, skip_children);
}

static int is(xmlNodePtr n, const char *name)
{
    return n->type == XML_ELEMENT_NODE && xmlStrcasecmp(n->name, BAD_CAST name) == 0;
}

/* Subtrees a browser builds no page elements from: with scripting on,
 * <noscript>'s content is text; <template>'s is an inert fragment;
 * <svg> and <math> hold foreign elements (an <svg><title> is a tooltip,
 * not the page's title). */
static int skipped(xmlNodePtr n)
{
    return is(n, "noscript") || is(n, "template") || is(n, "svg") || is(n, "math");
}

static const char *attr(xmlNodePtr n, const char *name)
{
    for (xmlAttrPtr a = n->properties; a; a = a->next) {
        if (xmlStrcasecmp(a->name, BAD_CAST name) != 0)
            continue;
        xmlNodePtr t = a->children;
        if (!t) /* a bare attribute: <option selected> */
            return "";
        if (t->type == XML_TEXT_NODE && !t->next && t->content)
            return (const char *)t->content;
        return "";
    }
    return NULL;
}

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

char *goose__html_collapse(char *s)
{
    char *w = s;
    int gap = 0;
    for (const char *r = s; *r; r++) {
        if (is_space(*r)) {
            gap = w != s;
            continue;
        }
        if (gap)
            *w++ = ' ';
        gap = 0;
        *w++ = *r;
    }
    *w = '\0';
    return s;
}

/* The text of n's subtree, malloc'd (libxml2 decoded the entities). */
static char *text_of(xmlNodePtr n)
{
    xmlChar *t = xmlNodeGetContent(n);
    char *s = strdup(t ? (const char *)t : "");
    xmlFree(t);
    return s;
}

const char *goose__html_title(goose_html *h)
{
    if (!h)
        return NULL;
    if (h->title_done)
        return h->title;
    xmlNodePtr root = h->doc ? xmlDocGetRootElement(h->doc) : NULL;
    for (xmlNodePtr n = root; n; n = next_node(n, skipped(n))) {
        if (!is(n, "title"))
            continue;
        if (!(h->title = text_of(n)))
            return NULL; /* out of memory: asked again next time */
        goose__html_collapse(h->title);
        break;
    }
    h->title_done = 1;
    return h->title;
}

static int type_is(xmlNodePtr n, const char *dflt, const char *type)
{
    const char *t = attr(n, "type");
    return strcasecmp(t && *t ? t : dflt, type) == 0;
}

/* What an <option> submits: its value attribute, else its text stripped
 * and collapsed. */
static char *option_value(xmlNodePtr o)
{
    const char *v = attr(o, "value");
    if (v)
        return strdup(v);
    char *t = text_of(o);
    return t ? goose__html_collapse(t) : NULL;
}

/* The option a <select> submits: the selected one (the last one marked,
 * without multiple, as browsers keep only that; the first one with
 * multiple), else, for a drop-down (no multiple, no size above 1), its
 * first option that is not disabled.  NULL when it submits nothing. */
static xmlNodePtr chosen_option(xmlNodePtr sel)
{
    int multiple = attr(sel, "multiple") != NULL;
    const char *size = attr(sel, "size");
    int listbox = multiple || (size && atoi(size) > 1);
    xmlNodePtr selected = NULL, first = NULL;
    for (xmlNodePtr n = sel->children; n; n = next_within(n, sel, is(n, "option"))) {
        if (!is(n, "option"))
            continue;
        int disabled = attr(n, "disabled") != NULL;
        if (!first && !disabled)
            first = n;
        if (attr(n, "selected") && (!multiple || !selected))
            selected = n;
    }
    if (selected)
        return attr(selected, "disabled") ? NULL : selected;
    return listbox ? NULL : first;
}

/* What control n submits under field, malloc'd in *out: 1, 0 when n is
 * not a control that submits field, -1 when out of memory. */
static int control_value(xmlNodePtr n, const char *field, char **out)
{
    if (n->type != XML_ELEMENT_NODE)
        return 0;
    const char *name = attr(n, "name");
    if (!name || strcmp(name, field) != 0 || attr(n, "disabled"))
        return 0;
    const char *v = NULL;
    if (is(n, "input")) {
        if (type_is(n, "text", "button") || type_is(n, "text", "reset") ||
            type_is(n, "text", "image") || type_is(n, "text", "file"))
            return 0;
        if (type_is(n, "text", "checkbox") || type_is(n, "text", "radio")) {
            if (!attr(n, "checked"))
                return 0; /* a browser submits nothing for it */
            v = attr(n, "value");
            v = v ? v : "on";
        } else {
            v = attr(n, "value");
            v = v ? v : "";
        }
    } else if (is(n, "button")) {
        if (!type_is(n, "submit", "submit"))
            return 0;
        v = attr(n, "value");
        v = v ? v : "";
    } else if (is(n, "select")) {
        xmlNodePtr o = chosen_option(n);
        if (!o)
            return 0;
        return (*out = option_value(o)) ? 1 : -1;
    } else if (is(n, "textarea")) {
        if (!(*out = text_of(n)))
            return -1;
        /* browsers drop the newline right after <textarea>; libxml2 keeps it */
        size_t skip = **out == '\n' ? 1 : (**out == '\r' && (*out)[1] == '\n') ? 2 : 0;
        memmove(*out, *out + skip, strlen(*out + skip) + 1);
        return 1;
    } else {
        return 0;
    }
    return (*out = strdup(v)) ? 1 : -1;
}

const char *goose__html_form_value(goose_html *h, const char *field)
{
    if (!h || !field)
        return NULL;
    for (html_value *v = h->values; v; v = v->next)
        if (strcmp(v->field, field) == 0)
            return v->value;
    html_value *v = calloc(1, sizeof *v);
    if (!v || !(v->field = strdup(field)))
        goto fail;
    xmlNodePtr root = h->doc ? xmlDocGetRootElement(h->doc) : NULL;
    for (xmlNodePtr n = root; n; n = next_node(n, skipped(n))) {
        int found = control_value(n, field, &v->value);
        if (found < 0)
            goto fail;
        if (found)
            break;
    }
    v->next = h->values;
    h->values = v;
    return v->value;
fail: /* out of memory: nothing kept, asked again next time */
    if (v)
        free(v->field);
    free(v);
    return NULL;
}

/* ---- assets ---- */

/* Whether the rel token list (case-insensitive) names what a browser
 * loads with the page. */
static int rel_loads(const char *rel)
{
    const char *p = rel;
    while (*p) {
        while (is_space(*p))
            p++;
        const char *end = p;
        while (*end && !is_space(*end))
            end++;
        size_t n = (size_t)(end - p);
        if ((n == 10 && strncasecmp(p, "stylesheet", n) == 0) ||
            (n == 4 && strncasecmp(p, "icon", n) == 0))
            return 1;
        p = end;
    }
    return 0;
}

/* The reference element n makes the page load, or NULL. */
static const char *asset_ref(xmlNodePtr n)
{
    if (is(n, "img") || is(n, "script"))
        return attr(n, "src");
    if (is(n, "link")) {
        const char *rel = attr(n, "rel");
        return rel && rel_loads(rel) ? attr(n, "href") : NULL;
    }
    return NULL;
}

int goose__html_assets(goose_html *h, goose_html_asset_fn fn, void *arg)
{
    xmlNodePtr root = h && h->doc ? xmlDocGetRootElement(h->doc) : NULL;
    for (xmlNodePtr n = root; n; n = next_node(n, skipped(n))) {
        const char *ref = asset_ref(n);
        if (!ref)
            continue;
        /* a URL attribute's surrounding whitespace is not part of it;
         * an empty one loads nothing */
        while (is_space(*ref))
            ref++;
        size_t len = strlen(ref);
        while (len && is_space(ref[len - 1]))
            len--;
        if (!len)
            continue;
        int rc;
        if (ref[len]) {
            char *copy = strndup(ref, len);
            if (!copy)
                return -1;
            rc = fn(arg, copy);
            free(copy);
        } else {
            rc = fn(arg, ref);
        }
        if (rc)
            return rc;
    }
    return 0;
}

/* ---- the base URL ---- */

const char *goose__html_base(goose_html *h)
{
    xmlNodePtr root = h && h->doc ? xmlDocGetRootElement(h->doc) : NULL;
    for (xmlNodePtr n = root; n; n = next_node(n, skipped(n))) {
        const char *href = is(n, "base") ? attr(n, "href") : NULL;
        if (href) /* the first <base> with an href, as browsers take it */
            return href;
    }
    return NULL;
}
