/* lib/content: the HTML reader (libxml2), JSON pointers (jansson) and
 * patterns (PCRE2) on bodies as servers send them, broken ones included. */
#include "test.h"

#include <fcntl.h>
#include <pthread.h>
#include <unistd.h>

#include "content/extract.h"
#include "content/html.h"
#include "content/json.h"
#include "coro/coro.h"

/* ---- HTML ---- */

static goose_html *html(const char *body)
{
    goose_html *h = goose__html_parse(body, strlen(body));
    ASSERT_NOT_NULL(h);
    return h;
}

TEST(html_title)
{
    goose_html *h = html("<HTML><HEAD><TITLE>\n  Home &amp;\t away &lt;3 </TITLE>"
                         "</HEAD><BODY><p>x</BODY></HTML>");
    ASSERT_STR_EQ(goose__html_title(h), "Home & away <3");
    ASSERT(goose__html_title(h) == goose__html_title(h)); /* parsed once */
    goose__html_free(h);
    /* no <head>, unclosed title: recovered like a browser */
    h = html("<title>Log in<body><p>form");
    ASSERT_STR_EQ(goose__html_title(h), "Log in");
    goose__html_free(h);
    /* the first title of the page; an <svg>'s title is a tooltip */
    h = html("<svg><title>icon</title></svg><title>Page</title><title>Two</title>");
    ASSERT_STR_EQ(goose__html_title(h), "Page");
    goose__html_free(h);
    h = html("<title>  </title>");
    ASSERT_STR_EQ(goose__html_title(h), "");
    goose__html_free(h);
}

TEST(html_no_title)
{
    goose_html *h = html("<html><body><h1>Title</h1></body></html>");
    ASSERT_NULL(goose__html_title(h));
    goose__html_free(h);
    h = goose__html_parse("", 0);
    ASSERT_NOT_NULL(h);
    ASSERT_NULL(goose__html_title(h));
    ASSERT_NULL(goose__html_form_value(h, "x"));
    goose__html_free(h);
    h = html("{\"not\": \"html\"}");
    ASSERT_NULL(goose__html_title(h));
    goose__html_free(h);
    goose__html_free(NULL);
}

/* Bytes that are not UTF-8, a declared charset, NUL bytes: a defined
 * answer in UTF-8, and never a word on stderr. */
TEST(html_malformed_bytes)
{
    char path[] = "/tmp/goose-content-XXXXXX";
    int fd = mkstemp(path);
    ASSERT(fd >= 0);
    unlink(path);
    fflush(stderr);
    int saved = dup(2);
    ASSERT_EQ(dup2(fd, 2), 2);

    goose_html *h = html("<meta charset=\"iso-8859-1\"><title>caf\xe9</title>");
    const char *latin1 = goose__html_title(h);
    char *copy1 = latin1 ? strdup(latin1) : NULL;
    goose__html_free(h);
    h = html("<title>caf\xc3\xa9 \xff\xfe</title><input name=a value='\xc3\x28'>");
    char *copy2 = goose__html_title(h) ? strdup(goose__html_title(h)) : NULL;
    char *copy3 = goose__html_form_value(h, "a") ? strdup(goose__html_form_value(h, "a")) : NULL;
    goose__html_free(h);
    /* a charset the converter chokes on mid-page */
    h = html("<meta charset=\"shift_jis\"><title>\x82\xa0\x82</title><input name=b value=\"\x81\">");
    (void)goose__html_title(h);
    (void)goose__html_form_value(h, "b");
    goose__html_free(h);
    static const char nul[] = "<title>a\0b</title><input name=n value=\"x\0y\"><p>\0</p>";
    h = goose__html_parse(nul, sizeof nul - 1);
    ASSERT_NOT_NULL(h);
    const char *t = goose__html_title(h);
    char *copy4 = t ? strdup(t) : NULL;
    goose__html_free(h);

    fflush(stderr);
    ASSERT_EQ(dup2(saved, 2), 2);
    off_t printed = lseek(fd, 0, SEEK_END);
    close(fd);
    close(saved);
    ASSERT_EQ(printed, 0);
    ASSERT_STR_EQ(copy1, "caf\xc3\xa9"); /* converted to UTF-8 */
    /* not UTF-8: read as Latin-1 from there on, as browsers guess */
    ASSERT_NOT_NULL(copy2);
    ASSERT_NOT_NULL(copy3);
    ASSERT_NOT_NULL(copy4);
    ASSERT_EQ(copy4[0], 'a');
    free(copy1);
    free(copy2);
    free(copy3);
    free(copy4);
}

TEST(html_inputs)
{
    goose_html *h = html(
        "<FORM action=/login METHOD=post>\n"
        "<INPUT TYPE=HIDDEN NAME=form_token VALUE=\"a&amp;b&#x3d;&quot;c&quot;&nbsp;\">\n"
        "<input name=user>\n"
        "<input name=dup value=first><input name=dup value=second>\n"
        "<input name=off value=no disabled><input name=off value=yes>\n"
        "<input type=submit name=op value=\"Log in\">\n"
        "<input type=reset name=r value=x><input type=image name=img value=y>\n"
        "<input name=unclosed value='v1'<p>text\n");
    ASSERT_STR_EQ(goose__html_form_value(h, "form_token"), "a&b=\"c\"\xc2\xa0");
    ASSERT_STR_EQ(goose__html_form_value(h, "user"), ""); /* present, empty */
    ASSERT_STR_EQ(goose__html_form_value(h, "dup"), "first");
    ASSERT_STR_EQ(goose__html_form_value(h, "off"), "yes"); /* disabled: not submitted */
    ASSERT_STR_EQ(goose__html_form_value(h, "op"), "Log in");
    ASSERT_NULL(goose__html_form_value(h, "r"));
    ASSERT_NULL(goose__html_form_value(h, "img"));
    ASSERT_NULL(goose__html_form_value(h, "missing"));
    ASSERT_NULL(goose__html_form_value(h, "FORM_TOKEN")); /* names are case-sensitive */
    ASSERT_NOT_NULL(goose__html_form_value(h, "unclosed"));
    /* several results alive at once, the same one each time */
    const char *a = goose__html_form_value(h, "form_token");
    const char *b = goose__html_form_value(h, "dup");
    ASSERT(a == goose__html_form_value(h, "form_token"));
    ASSERT_STR_EQ(a, "a&b=\"c\"\xc2\xa0");
    ASSERT_STR_EQ(b, "first");
    goose__html_free(h);
}

TEST(html_checkboxes)
{
    goose_html *h = html(
        "<input type=checkbox name=news value=yes>"          /* unchecked: skipped */
        "<input type=CHECKBOX name=news value=weekly CHECKED>"
        "<input type=checkbox name=agree checked>"             /* no value: "on" */
        "<input type=checkbox name=never value=1>"
        "<input type=radio name=color value=red>"
        "<input type=radio name=color value=blue checked>"
        "<input type=radio name=color value=green>");
    ASSERT_STR_EQ(goose__html_form_value(h, "news"), "weekly");
    ASSERT_STR_EQ(goose__html_form_value(h, "agree"), "on");
    ASSERT_NULL(goose__html_form_value(h, "never"));
    ASSERT_STR_EQ(goose__html_form_value(h, "color"), "blue");
    goose__html_free(h);
}

TEST(html_selects)
{
    goose_html *h = html(
        "<select name=one><option value=a>A<option value=b selected>B<option>C</select>"
        /* no value attribute: the text, stripped and collapsed */
        "<SELECT NAME=text><OPTION>  First\n  one </OPTION><OPTION SELECTED>  Second \n one"
        "</SELECT>"
        /* none selected: the first option that is not disabled */
        "<select name=none><option disabled value=x>X<optgroup label=g>"
        "<option value=y>Y</optgroup><option value=z>Z</select>"
        /* two marked: a drop-down keeps the last */
        "<select name=two><option value=p selected>P<option value=q selected>Q</select>"
        /* multiple: the first selected; none selected submits nothing */
        "<select name=multi multiple><option value=m1>1<option value=m2 selected>2"
        "<option value=m3 selected>3</select>"
        "<select name=empty multiple><option value=e>E</select>"
        "<select name=nothing></select>"
        "<select name=ent><option value='&lt;&amp;&gt;'>x</select>"
        "<select name=gone disabled><option value=g selected>G</select>");
    ASSERT_STR_EQ(goose__html_form_value(h, "one"), "b");
    ASSERT_STR_EQ(goose__html_form_value(h, "text"), "Second one");
    ASSERT_STR_EQ(goose__html_form_value(h, "none"), "y");
    ASSERT_STR_EQ(goose__html_form_value(h, "two"), "q");
    ASSERT_STR_EQ(goose__html_form_value(h, "multi"), "m2");
    ASSERT_NULL(goose__html_form_value(h, "empty"));
    ASSERT_NULL(goose__html_form_value(h, "nothing"));
    ASSERT_STR_EQ(goose__html_form_value(h, "ent"), "<&>");
    ASSERT_NULL(goose__html_form_value(h, "gone"));
    goose__html_free(h);
}

TEST(html_textareas)
{
    goose_html *h = html("<textarea name=body>\nfirst line\n  second &amp; more\n</textarea>"
                         "<TEXTAREA NAME=empty></TEXTAREA>"
                         "<textarea name=keep>\n\nkept</textarea>"
                         "<textarea name=open>never closed");
    /* the newline right after the tag is dropped, the rest kept as is */
    ASSERT_STR_EQ(goose__html_form_value(h, "body"), "first line\n  second & more\n");
    ASSERT_STR_EQ(goose__html_form_value(h, "empty"), "");
    ASSERT_STR_EQ(goose__html_form_value(h, "keep"), "\nkept");
    ASSERT_STR_EQ(goose__html_form_value(h, "open"), "never closed");
    goose__html_free(h);
}

/* The first control of the name in document order, whatever its kind;
 * controls a browser never builds (noscript, template) are not it. */
TEST(html_document_order)
{
    goose_html *h = html("<noscript><input name=k value=ns></noscript>"
                         "<template><input name=k value=tpl></template>"
                         "<textarea name=k>area</textarea><input name=k value=input>"
                         "<select name=s><option>o</select><input name=s value=later>");
    ASSERT_STR_EQ(goose__html_form_value(h, "k"), "area");
    ASSERT_STR_EQ(goose__html_form_value(h, "s"), "o");
    goose__html_free(h);
}

typedef struct refs {
    char text[512];
    int stop_after;
    int seen;
} refs;

static int collect(void *arg, const char *ref)
{
    refs *r = arg;
    size_t len = strlen(r->text);
    snprintf(r->text + len, sizeof r->text - len, "%s%s", len ? " " : "", ref);
    return ++r->seen == r->stop_after ? 7 : 0;
}

TEST(html_assets)
{
    goose_html *h = html(
        "<HTML><HEAD><LINK REL=STYLESHEET HREF=\"/css/a.css\">"
        "<link rel=\"shortcut Icon\" href=\"/favicon.ico\">"
        "<link rel=\"apple-touch-icon\" href=\"/no1.png\">"   /* not the token icon */
        "<link rel=canonical href=\"/no2\"><link href=/no3.css>"
        "<script src=\"/js/app.js?v=1&amp;x=2\"></script><script>var x = '<img src=no4>';</script>"
        "</head><body><IMG SRC=\" /img/a.png \"><img src=\"\"><img alt=none>"
        "<noscript><img src=/no5.gif></noscript><svg><image href=/no6.svg></image></svg>"
        "<p>unclosed <img src=/img/b.png><script src=/js/late.js></script>");
    refs r = {0};
    ASSERT_EQ(goose__html_assets(h, collect, &r), 0);
    ASSERT_STR_EQ(r.text, "/css/a.css /favicon.ico /js/app.js?v=1&x=2 /img/a.png /img/b.png "
                          "/js/late.js");
    /* fn's non-zero return stops the walk and is returned */
    refs s = {.stop_after = 2};
    ASSERT_EQ(goose__html_assets(h, collect, &s), 7);
    ASSERT_STR_EQ(s.text, "/css/a.css /favicon.ico");
    goose__html_free(h);
    h = goose__html_parse("", 0);
    refs e = {0};
    ASSERT_EQ(goose__html_assets(h, collect, &e), 0);
    ASSERT_EQ(e.seen, 0);
    goose__html_free(h);
}

/* Nesting far deeper than any page (libxml2 stops at 256 levels unless
 * told otherwise), read without recursion on a 64 KiB stack, a quarter
 * of a user's coroutine's. */
static void *deep(void *arg)
{
    size_t depth = 100000;
    char *body = malloc(depth * 5 + 64);
    if (!body)
        return NULL;
    char *p = body;
    for (size_t i = 0; i < depth; i++)
        p += sprintf(p, "<div>");
    p += sprintf(p, "<input name=deep value=found><title>T</title>");
    goose_html *h = goose__html_parse(body, (size_t)(p - body));
    const char *v = goose__html_form_value(h, "deep");
    *(int *)arg = v && strcmp(v, "found") == 0;
    goose__html_free(h);
    free(body);
    return NULL;
}

TEST(html_deep_nesting)
{
    pthread_attr_t attr;
    pthread_t t;
    int found = 0;
    ASSERT_EQ(pthread_attr_init(&attr), 0);
    ASSERT_EQ(pthread_attr_setstacksize(&attr, 64 * 1024), 0);
    ASSERT_EQ(pthread_create(&t, &attr, deep, &found), 0);
    ASSERT_EQ(pthread_join(t, NULL), 0);
    pthread_attr_destroy(&attr);
    ASSERT_EQ(found, 1);
}

/* ---- JSON ---- */

static goose_json *json(const char *body)
{
    goose_json *j = goose__json_parse(body, strlen(body));
    ASSERT_NOT_NULL(j);
    return j;
}

static const char doc[] =
    "{\"data\": {\"items\": [{\"id\": 7, \"name\": \"caf\\u00e9 \\\"x\\\"\"}, {\"id\": 8}],"
    " \"total\": 2},"
    " \"z\": 1, \"a\": [true, false, null, 19.99, -0.5e-3, 1.0, 12345678901234567],"
    " \"a/b\": \"slash\", \"m~n\": \"tilde\", \"\": \"empty key\", \"~1\": \"literal\","
    " \"nested\": {\"b\": {\"c\": [1, {\"d\": \"deep\"}]}, \"a\": \"second\"}}";

TEST(json_pointers)
{
    goose_json *j = json(doc);
    ASSERT_STR_EQ(goose__json_pointer(j, "/data/items/0/id"), "7");
    ASSERT_STR_EQ(goose__json_pointer(j, "/data/items/0/name"), "caf\xc3\xa9 \"x\"");
    ASSERT_STR_EQ(goose__json_pointer(j, "/data/items/1"), "{\"id\":8}");
    ASSERT_STR_EQ(goose__json_pointer(j, "/data/total"), "2");
    ASSERT_STR_EQ(goose__json_pointer(j, "/a/0"), "true");
    ASSERT_STR_EQ(goose__json_pointer(j, "/a/1"), "false");
    ASSERT_STR_EQ(goose__json_pointer(j, "/a/2"), "null");
    ASSERT_STR_EQ(goose__json_pointer(j, "/a/3"), "19.99"); /* not 19.989999999999998 */
    ASSERT_STR_EQ(goose__json_pointer(j, "/a/4"), "-0.0005");
    ASSERT_STR_EQ(goose__json_pointer(j, "/a/5"), "1.0");
    ASSERT_STR_EQ(goose__json_pointer(j, "/a/6"), "12345678901234567");
    /* containers: compact, keys in document order */
    ASSERT_STR_EQ(goose__json_pointer(j, "/nested"),
                  "{\"b\":{\"c\":[1,{\"d\":\"deep\"}]},\"a\":\"second\"}");
    ASSERT_STR_EQ(goose__json_pointer(j, "/nested/b/c/1/d"), "deep");
    /* escapes: ~1 is /, ~0 is ~, ~01 is ~1 (not /) */
    ASSERT_STR_EQ(goose__json_pointer(j, "/a~1b"), "slash");
    ASSERT_STR_EQ(goose__json_pointer(j, "/m~0n"), "tilde");
    ASSERT_STR_EQ(goose__json_pointer(j, "/~01"), "literal");
    ASSERT_STR_EQ(goose__json_pointer(j, "/"), "empty key");
    /* "" is the whole document */
    const char *all = goose__json_pointer(j, "");
    ASSERT_NOT_NULL(all);
    ASSERT(strncmp(all, "{\"data\":{\"items\":[{\"id\":7,", 26) == 0);
    ASSERT(strstr(all, "\"z\":1,\"a\":[true,false,null,") != NULL);
    /* results stay valid together, and asking again gives the same */
    const char *a = goose__json_pointer(j, "/data/items/0/id");
    const char *b = goose__json_pointer(j, "/data/items/1/id");
    ASSERT(a == goose__json_pointer(j, "/data/items/0/id"));
    ASSERT_STR_EQ(a, "7");
    ASSERT_STR_EQ(b, "8");
    goose__json_free(j);
}

TEST(json_bad_pointers)
{
    goose_json *j = json(doc);
    ASSERT_NULL(goose__json_pointer(j, "data/total"));    /* no leading / */
    ASSERT_NULL(goose__json_pointer(j, "/data/items/01")); /* leading zero */
    ASSERT_NULL(goose__json_pointer(j, "/data/items/-")); /* past the end */
    ASSERT_NULL(goose__json_pointer(j, "/data/items/2"));
    ASSERT_NULL(goose__json_pointer(j, "/data/items/-1"));
    ASSERT_NULL(goose__json_pointer(j, "/data/items/1x"));
    ASSERT_NULL(goose__json_pointer(j, "/data/items/99999999999999999999"));
    ASSERT_NULL(goose__json_pointer(j, "/a~2b"));         /* ~ not ~0 or ~1 */
    ASSERT_NULL(goose__json_pointer(j, "/m~"));
    ASSERT_NULL(goose__json_pointer(j, "/data/total/x"));  /* into a number */
    ASSERT_NULL(goose__json_pointer(j, "/missing"));
    ASSERT_NULL(goose__json_pointer(j, "/Data/total"));   /* keys are case-sensitive */
    ASSERT_NULL(goose__json_pointer(j, NULL));
    ASSERT_STR_EQ(goose__json_pointer(j, "/data/items/0/id"), "7"); /* still answers */
    goose__json_free(j);
    goose__json_free(NULL);
}

TEST(json_bodies)
{
    /* any JSON value at the top */
    goose_json *j = json(" \"text\" ");
    ASSERT_STR_EQ(goose__json_pointer(j, ""), "text");
    goose__json_free(j);
    j = json("[1,2,3]");
    ASSERT_STR_EQ(goose__json_pointer(j, "/2"), "3");
    ASSERT_STR_EQ(goose__json_pointer(j, ""), "[1,2,3]");
    goose__json_free(j);
    /* an integer past 64 bits does not cost the rest of the document */
    j = json("{\"big\": 123456789012345678901234567890, \"id\": 5}");
    ASSERT_STR_EQ(goose__json_pointer(j, "/id"), "5");
    ASSERT_NOT_NULL(goose__json_pointer(j, "/big"));
    goose__json_free(j);
    /* not JSON */
    ASSERT_NULL(goose__json_parse("<html>", 6));
    ASSERT_NULL(goose__json_parse("{\"a\": 1", 7));
    ASSERT_NULL(goose__json_parse("", 0));
    ASSERT_NULL(goose__json_parse("{} trailing", 11));
    /* the length counts, not a NUL: "{}" then a NUL byte is not JSON */
    ASSERT_NULL(goose__json_parse("{}\0{}", 5));
    j = goose__json_parse("{\"a\":1}xyz", 7);
    ASSERT_NOT_NULL(j);
    ASSERT_STR_EQ(goose__json_pointer(j, "/a"), "1");
    goose__json_free(j);
}

/* A document with one integer past 64 bits: every number keeps the text
 * the body gives it, containers come out compact, names found through
 * their escapes, the last of duplicate names wins (as jansson keeps). */
TEST(json_number_texts)
{
    goose_json *j = json("{\"big\": 123456789012345678901234567890, \"id\": 12345678901234567,\n"
                         " \"count\": 5, \"price\": 19.99, \"e\": 1E2, \"neg\": -0,\n"
                         " \"s\": \"a \\\"}] b\", \"list\": [1, 2.50, {\"x\" : -3}],\n"
                         " \"a\\nb\": 1, \"x\\\\n\": 2, \"\\u00e9\\ud83d\\ude00\": 3, \"\\/\": 4,\n"
                         " \"dup\": 1, \"dup\": [ 2 ], \"t\": true, \"nil\": null}");
    ASSERT_STR_EQ(goose__json_pointer(j, "/big"), "123456789012345678901234567890");
    ASSERT_STR_EQ(goose__json_pointer(j, "/id"), "12345678901234567");
    ASSERT_STR_EQ(goose__json_pointer(j, "/count"), "5");
    ASSERT_STR_EQ(goose__json_pointer(j, "/price"), "19.99");
    ASSERT_STR_EQ(goose__json_pointer(j, "/e"), "1E2");
    ASSERT_STR_EQ(goose__json_pointer(j, "/neg"), "-0");
    ASSERT_STR_EQ(goose__json_pointer(j, "/s"), "a \"}] b");
    ASSERT_STR_EQ(goose__json_pointer(j, "/list"), "[1,2.50,{\"x\":-3}]");
    ASSERT_STR_EQ(goose__json_pointer(j, "/list/1"), "2.50");
    ASSERT_STR_EQ(goose__json_pointer(j, "/list/2/x"), "-3");
    ASSERT_NULL(goose__json_pointer(j, "/list/3"));
    ASSERT_STR_EQ(goose__json_pointer(j, "/a\nb"), "1");
    ASSERT_STR_EQ(goose__json_pointer(j, "/x\\n"), "2");
    ASSERT_STR_EQ(goose__json_pointer(j, "/\xc3\xa9\xf0\x9f\x98\x80"), "3");
    ASSERT_STR_EQ(goose__json_pointer(j, "/~1"), "4");
    ASSERT_STR_EQ(goose__json_pointer(j, "/dup"), "[2]");
    ASSERT_STR_EQ(goose__json_pointer(j, "/t"), "true");
    ASSERT_STR_EQ(goose__json_pointer(j, "/nil"), "null");
    goose__json_free(j);
    /* without a big integer, jansson's values as before */
    j = json("{\"count\": 5, \"price\": 19.99, \"list\": [1, {\"x\" : -3}]}");
    ASSERT_STR_EQ(goose__json_pointer(j, "/count"), "5");
    ASSERT_STR_EQ(goose__json_pointer(j, "/price"), "19.99");
    ASSERT_STR_EQ(goose__json_pointer(j, "/list"), "[1,{\"x\":-3}]");
    goose__json_free(j);
}

/* goose_request_set_json's check: any JSON text, a 2^64 integer too */
TEST(json_valid)
{
    ASSERT_EQ(goose__json_valid("{\"id\": 18446744073709551616}", 28), 1);
    ASSERT_EQ(goose__json_valid("18446744073709551616", 20), 1);
    ASSERT_EQ(goose__json_valid("\"\\u0000\"", 8), 1);
    ASSERT_EQ(goose__json_valid("[1,", 3), 0);
    ASSERT_EQ(goose__json_valid("", 0), 0);
    ASSERT_EQ(goose__json_valid(NULL, 0), 0);
}

/* [[[...1...]]] depth levels deep, with a big integer beside the 1 when
 * big; malloc'd. */
static char *nested(int depth, int big)
{
    char *s = malloc((size_t)depth * 2 + 32), *p = s;
    for (int i = 0; i < depth; i++)
        *p++ = '[';
    p += sprintf(p, big ? "1,18446744073709551616" : "1");
    for (int i = 0; i < depth; i++)
        *p++ = ']';
    *p = '\0';
    return s;
}

typedef struct deep_read {
    int depth, big;
    int ok; /* the innermost value and the whole document read back */
} deep_read;

static void read_deep(void *arg)
{
    deep_read *d = arg;
    char *body = nested(d->depth, d->big);
    char *ptr = malloc((size_t)d->depth * 2 + 1), *p = ptr;
    for (int i = 1; i < d->depth; i++)
        p += sprintf(p, "/0");
    sprintf(p, "/0");
    goose_json *j = goose__json_parse(body, strlen(body));
    const char *all = j ? goose__json_pointer(j, "") : NULL;
    const char *one = j ? goose__json_pointer(j, ptr) : NULL;
    d->ok = all && one && strcmp(all, body) == 0 && strcmp(one, "1") == 0;
    goose__json_free(j);
    free(ptr);
    free(body);
}

/* jansson recurses about 300 bytes a level: a 2 KB body nested 1000 deep
 * read, pointed into, dumped and freed by a user with a 16 KiB stack (the
 * smallest --stack-size); deeper than jansson's 2048 levels: not JSON. */
TEST(json_deep_on_a_small_stack)
{
    for (int depth = 1000; depth <= 3000; depth += 1000) {
        for (int big = 0; big < 2; big++) {
            deep_read d = {.depth = depth, .big = big};
            goose_coro *c = goose__coro_new(16 * 1024, read_deep, &d);
            ASSERT_NOT_NULL(c);
            goose__coro_resume(c);
            ASSERT(goose__coro_finished(c));
            if (d.ok != (depth <= 2000))
                TEST_FAIL("depth %d big %d: %d", depth, big, d.ok);
            goose__coro_free(c);
        }
    }
}

/* ---- patterns ---- */

static char *extract(const char *body, size_t len, const char *pattern, int want_rc)
{
    char *out = (char *)"unset", err[256] = "";
    int rc = goose__extract(body, len, pattern, &out, err, sizeof err);
    if (rc != want_rc)
        TEST_FAIL("extract /%s/: %d (%s), expected %d", pattern, rc, err, want_rc);
    if (rc != 1 && out)
        TEST_FAIL("extract /%s/: a result without a match", pattern);
    return out;
}

#define ASSERT_EXTRACT(body, pattern, want)                                    \
    do {                                                                       \
        char *got_ = extract(body, strlen(body), pattern, 1);                 \
        ASSERT_STR_EQ(got_, want);                                             \
        free(got_);                                                            \
    } while (0)

TEST(extract_groups)
{
    const char *page = "<input name=\"form_token\" value=\"abc123\"> id=42 id=43";
    /* group 1 when the pattern has one */
    ASSERT_EXTRACT(page, "name=\"form_token\" value=\"([^\"]+)\"", "abc123");
    ASSERT_EXTRACT(page, "id=(\\d+)", "42"); /* the first match */
    /* no group: the whole match */
    ASSERT_EXTRACT(page, "id=\\d+", "id=42");
    /* (?:...) captures nothing; group 1 of two; a named group is group 1 */
    ASSERT_EXTRACT(page, "(?:id)=(\\d)(\\d)", "4");
    ASSERT_EXTRACT(page, "(?<n>\\d+)", "123");
    ASSERT_EXTRACT(page, "(?i)NAME=\"(FORM_\\w+)", "form_token");
    /* an empty group matched: an empty string, not NULL */
    ASSERT_EXTRACT(page, "id=()4", "");
    /* \K in a lookaround (a match ending before its start) is refused */
    ASSERT_NULL(extract("abc", 3, "(?=ab\\K)", -1));
    ASSERT_NULL(extract(page, strlen(page), "id=(\\d+)x", 0));
    ASSERT_NULL(extract("", 0, "x", 0));
    ASSERT_EXTRACT("", "^$", "");
}

/* Group 1 not taking part in the match: NULL, as a capture that is
 * undefined in JavaScript or None in Python. */
TEST(extract_unset_group)
{
    ASSERT_NULL(extract("b", 1, "(a)?b", 0));
    ASSERT_NULL(extract("xb", 2, "(a)|b", 0));
    ASSERT_EXTRACT("ab", "(a)?b", "a");
}

TEST(extract_nul_bytes)
{
    static const char body[] = "head\0token=\"t\0k\" tail=9";
    size_t len = sizeof body - 1;
    /* matched past a NUL, the length counts */
    char *t = extract(body, len, "tail=(\\d)", 1);
    ASSERT_STR_EQ(t, "9");
    free(t);
    /* a NUL inside the result ends the C string there */
    t = extract(body, len, "token=\"([^\"]*)\"", 1);
    ASSERT_STR_EQ(t, "t");
    free(t);
    t = extract(body, len, "\\x00token", 1);
    ASSERT_EQ(t[0], '\0');
    free(t);
    /* only len bytes are read */
    ASSERT_NULL(extract(body, 4, "token", 0));
}

TEST(extract_bad_pattern)
{
    char *out = (char *)"unset", err[256] = "";
    ASSERT_EQ(goose__extract("abc", 3, "a(b", &out, err, sizeof err), -1);
    ASSERT_NULL(out);
    ASSERT_STR_EQ(err, "bad pattern \"a(b\": missing closing parenthesis at offset 3");
    ASSERT_EQ(goose__extract("abc", 3, "x**", &out, err, sizeof err), -1);
    ASSERT_STR_EQ(err, "bad pattern \"x**\": quantifier does not follow a repeatable item "
                       "at offset 2");
    /* a long pattern is cut short in the text */
    char longp[200];
    memset(longp, 'a', sizeof longp);
    longp[0] = '[';
    longp[sizeof longp - 1] = '\0';
    ASSERT_EQ(goose__extract("abc", 3, longp, &out, err, sizeof err), -1);
    ASSERT(strncmp(err, "bad pattern \"[aaaa", 17) == 0);
    ASSERT(strstr(err, "aaa...\": missing terminating ] for character class at offset 199"));
    ASSERT_EQ(goose__extract("abc", 3, NULL, &out, err, sizeof err), -1);
    /* the cache keeps none of it: good patterns still work */
    char *t = extract("abc", 3, "b", 1);
    ASSERT_STR_EQ(t, "b");
    free(t);
}

/* Catastrophic backtracking ends at PCRE2's match limit with an error,
 * never runs for hours. */
TEST(extract_match_limit)
{
    char body[64];
    memset(body, 'a', sizeof body);
    char *out, err[256] = "";
    ASSERT_EQ(goose__extract(body, sizeof body, "(a+)+$(?<!a)", &out, err, sizeof err), -1);
    ASSERT(strstr(err, "match limit") != NULL);
}

/* More patterns than the cache holds, again and again: each still
 * matches (evicted ones are compiled again). */
TEST(extract_cache_bound)
{
    char pattern[32], body[32], want[32];
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < GOOSE_EXTRACT_CACHED * 2; i++) {
            snprintf(pattern, sizeof pattern, "k%d=(\\w+)", i);
            snprintf(body, sizeof body, "k%d=v%d;", i, i);
            snprintf(want, sizeof want, "v%d", i);
            char *t = extract(body, strlen(body), pattern, 1);
            ASSERT_STR_EQ(t, want);
            free(t);
        }
    }
    goose__extract_forget();
    goose__extract_forget(); /* twice: nothing left to free */
    char *t = extract("k=1", 3, "k=(\\d)", 1);
    ASSERT_STR_EQ(t, "1");
    free(t);
    goose__extract_forget();
}

/* pcre2_compile (about 20 KiB of stack) and the interpreter's 20 KiB
 * frame buffer ((*UTF): no JIT) from a 16 KiB user stack */
static void extract_small(void *arg)
{
    int *ok = arg;
    char *out = NULL, err[256] = "";
    const char body[] = "id=\xc3\xa9" "42;";
    *ok = goose__extract(body, sizeof body - 1, "(*UTF)id=\\x{e9}(\\d+)(?:a|b|c|d)*;", &out,
                         err, sizeof err) == 1 &&
          strcmp(out, "42") == 0;
    free(out);
    *ok += goose__extract(body, sizeof body - 1, "id=..(\\d+)", &out, err, sizeof err) == 1 &&
           strcmp(out, "42") == 0;
    free(out);
}

TEST(extract_on_a_small_stack)
{
    goose__extract_forget(); /* compiled afresh */
    int ok = 0;
    goose_coro *c = goose__coro_new(16 * 1024, extract_small, &ok);
    ASSERT_NOT_NULL(c);
    goose__coro_resume(c);
    ASSERT(goose__coro_finished(c));
    ASSERT_EQ(ok, 2);
    goose__coro_free(c);
}

TEST_MAIN(TEST_ENTRY(html_title), TEST_ENTRY(html_no_title), TEST_ENTRY(html_malformed_bytes),
          TEST_ENTRY(html_inputs), TEST_ENTRY(html_checkboxes), TEST_ENTRY(html_selects),
          TEST_ENTRY(html_textareas), TEST_ENTRY(html_document_order),
          TEST_ENTRY(html_assets), TEST_ENTRY(html_deep_nesting), TEST_ENTRY(json_pointers),
          TEST_ENTRY(json_bad_pointers), TEST_ENTRY(json_bodies), TEST_ENTRY(json_number_texts),
          TEST_ENTRY(json_valid), TEST_ENTRY(json_deep_on_a_small_stack), TEST_ENTRY(extract_on_a_small_stack), TEST_ENTRY(extract_groups),
          TEST_ENTRY(extract_unset_group), TEST_ENTRY(extract_nul_bytes),
          TEST_ENTRY(extract_bad_pattern), TEST_ENTRY(extract_match_limit),
          TEST_ENTRY(extract_cache_bound))
