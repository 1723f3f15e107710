/* bench/read.c - `make bench-read`: the CPU cost of each body reader per
 * MB of body, the first call on a fresh response (the parse included),
 * as goose_response_title, _form_value, _json and _extract make it
 * (they call these lib/content functions, once per response).  Bodies of
 * about 1 MB are built here, the same on every run; each reader runs
 * RUNS times, the median thread CPU time is printed as a Markdown table
 * (ms per MB; the document's free included). */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "content/extract.h"
#include "content/html.h"
#include "content/json.h"

#define RUNS 9
#define TARGET (1024 * 1024)

static double cpu_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int articles, items;

static char *html_page(size_t *len)
{
    size_t cap = TARGET + 4096, n = 0;
    char *b = malloc(cap);
    n += sprintf(b, "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>Bench page"
                    "</title><link rel=\"stylesheet\" href=\"/css/site.css\"></head><body>\n");
    for (int i = 0; n < TARGET - 1024; i++, articles++)
        n += sprintf(b + n, "<div class=\"node\" id=\"n%d\"><h2><a href=\"/node/%d\">Article %d "
                     "&amp; more</a></h2><p>Lorem ipsum dolor sit amet, <em>consectetur</em> "
                     "adipiscing elit, sed do eiusmod tempor.</p><img src=\"/img/%d.png\" "
                     "alt=\"pic\"><form><input type=\"hidden\" name=\"t%d\" value=\"v%d\">"
                     "</form></div>\n", i, i, i, i, i, i);
    n += sprintf(b + n, "<form><input type=\"hidden\" name=\"form_token\" value=\"tok-end\">"
                        "</form></body></html>\n");
    *len = n;
    return b;
}

static char *json_doc(size_t *len)
{
    size_t cap = TARGET + 4096, n = 0;
    char *b = malloc(cap);
    n += sprintf(b, "{\"data\": {\"items\": [");
    for (int i = 0; n < TARGET - 256; i++, items++)
        n += sprintf(b + n, "%s{\"id\": %d, \"name\": \"item %d\", \"price\": %d.99, "
                     "\"tags\": [\"a\", \"b\"], \"active\": %s}", i ? ", " : "", i, i, i % 100,
                     i % 2 ? "true" : "false");
    n += sprintf(b + n, "], \"last\": \"tok-end\"}}");
    *len = n;
    return b;
}

typedef struct doc {
    const char *body;
    size_t len;
} doc;

typedef const char *(*reader)(const doc *d, char **keep);

static const char *title(const doc *d, char **keep)
{
    goose_html *h = goose__html_parse(d->body, d->len);
    const char *t = goose__html_title(h);
    *keep = t ? strdup(t) : NULL;
    goose__html_free(h);
    return *keep;
}

static const char *form_value(const doc *d, char **keep)
{
    goose_html *h = goose__html_parse(d->body, d->len);
    const char *t = goose__html_form_value(h, "form_token");
    *keep = t ? strdup(t) : NULL;
    goose__html_free(h);
    return *keep;
}

static const char *json(const doc *d, char **keep)
{
    goose_json *j = goose__json_parse(d->body, d->len);
    const char *t = goose__json_pointer(j, "/data/last");
    *keep = t ? strdup(t) : NULL;
    goose__json_free(j);
    return *keep;
}

static const char *pattern;

static const char *extract(const doc *d, char **keep)
{
    char err[256];
    *keep = NULL;
    int rc = goose__extract(d->body, d->len, pattern, keep, err, sizeof err);
    return rc == 1 ? *keep : rc == 0 ? "(no match)" : NULL;
}

/* The same pattern through PCRE2's interpreter, no JIT: what the JIT
 * saves. */
static const char *interpreted(const doc *d, char **keep)
{
    static pcre2_code *re;
    static pcre2_match_data *md;
    int code;
    PCRE2_SIZE off;
    if (!re) {
        re = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED, 0, &code, &off, NULL);
        md = pcre2_match_data_create_from_pattern(re, NULL);
    }
    *keep = NULL;
    int rc = pcre2_match(re, (PCRE2_SPTR)d->body, d->len, 0, 0, md, NULL);
    if (rc < 2)
        return "(no match)";
    PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
    *keep = strndup(d->body + ov[2], ov[3] - ov[2]);
    return *keep;
}

static void row(const char *what, const char *reads, reader fn, const doc *d, const char *want)
{
    double t[RUNS];
    char *keep = NULL;
    for (int i = 0; i < RUNS; i++) {
        double t0 = cpu_ms();
        const char *got = fn(d, &keep);
        t[i] = cpu_ms() - t0;
        if (!got || strcmp(got, want) != 0) {
            fprintf(stderr, "bench/read: %s gave %s, expected %s\n", what, got ? got : "NULL",
                    want);
            exit(1);
        }
        free(keep);
    }
    qsort(t, RUNS, sizeof *t, cmp);
    double mb = d->len / 1048576.0;
    printf("| %s | %s | %.2f | %.2f | %.2f |\n", what, reads, mb, t[RUNS / 2] / mb, t[0] / mb);
}

int main(void)
{
    doc page, api;
    char *h = html_page(&page.len), *j = json_doc(&api.len);
    page.body = h;
    api.body = j;
    printf("Bodies: an HTML page of %d articles with a form each (%zu bytes), a JSON document "
           "of %d items (%zu bytes).\n\n", articles, page.len, items, api.len);
    printf("| reader (first call on a fresh response) | what it reads | MB | ms per MB "
           "(median of %d) | ms per MB (fastest) |\n|---|---|---:|---:|---:|\n", RUNS);
    row("goose_response_title", "the HTML page, parsed", title, &page, "Bench page");
    row("goose_response_form_value", "the HTML page, parsed, to its last control", form_value,
        &page, "tok-end");
    row("goose_response_json", "the JSON document, parsed, \"/data/last\"", json, &api, "tok-end");
    pattern = "name=\"form_token\" value=\"([^\"]+)\"";
    row("goose_response_extract", "the HTML page to its end, JIT (pattern cached)", extract,
        &page, "tok-end");
    row("(PCRE2 interpreter, no JIT)", "the same match, for comparison", interpreted, &page,
        "tok-end");
    pattern = "id=\"n(\\d+)\"[^>]*>\\s*<h3>";
    row("goose_response_extract", "no match: every byte tried, JIT", extract, &page,
        "(no match)");
    goose__extract_forget();
    free(h);
    free(j);
    return 0;
}
