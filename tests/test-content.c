/* lib/content: the HTML reader (libxml2), JSON pointers (jansson) and
 * patterns (PCRE2) on bodies as servers send them, broken ones included. */
#include "test.h"

#include <fcntl.h>
#include <pthread.h>
#include <unistd.h>

#include "content/html.h"

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

TEST_MAIN(TEST_ENTRY(html_title), TEST_ENTRY(html_no_title), TEST_ENTRY(html_malformed_bytes),
          TEST_ENTRY(html_inputs), TEST_ENTRY(html_checkboxes), TEST_ENTRY(html_selects),
          TEST_ENTRY(html_textareas), TEST_ENTRY(html_document_order),
          TEST_ENTRY(html_assets), TEST_ENTRY(html_deep_nesting))
