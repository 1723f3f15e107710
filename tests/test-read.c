/* Reading responses in a real run against the bundled target: titles,
 * form values, JSON pointers and patterns read in transactions, results
 * alive together until the response is freed, and a bad pattern or a
 * title that does not hold as a failure row of the report. */
#include "e2e.h"

#include <pthread.h>
#include <sys/wait.h>
#include <time.h>

static target tgt;

/* A request's error row in the report: its count, 0 when absent. */
static long long error_count(json_t *report, const char *text)
{
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(report, "errors"), i, e)
        if (strcmp(json_string_value(json_object_get(e, "error")), text) == 0)
            return jint(e, "count");
    return 0;
}

static void expect_str(const char *what, const char *got, const char *want)
{
    if (!got || strcmp(got, want) != 0)
        miss("%s: \"%s\", expected \"%s\"", what, got ? got : "(null)", want);
}

static void expect_null(const char *what, const char *got)
{
    if (got)
        miss("%s: \"%s\", expected NULL", what, got);
}

/* Every reader on one page, every result checked only after the last
 * call: each stays valid while the others are made. */
static int read_node(goose_user *u)
{
    goose_response *r = goose_get(u, "/node/7");
    const char *title = goose_response_title(r);
    const char *h1 = goose_response_extract(r, "<h1>node (\\d+)</h1>");
    const char *link = goose_response_extract(r, "href=\"[^\"]+\"");
    const char *none = goose_response_extract(r, "<form");
    const char *field = goose_response_form_value(r, "token");
    const char *json = goose_response_json(r, "/a"); /* HTML is not JSON */
    if (goose_response_expect_title(r, "  node\n 7 ") != GOOSE_OK)
        miss("expect_title \"node 7\" did not hold");
    expect_str("title", title, "node 7");
    expect_str("extract group 1", h1, "7");
    expect_str("extract whole match", link, "href=\"/node/8\"");
    expect_null("extract without a match", none);
    expect_null("form_value on a page without a form", field);
    expect_null("json of HTML", json);
    if (goose_response_title(r) != title || goose_response_extract(r, "<h1>node (\\d+)</h1>") != h1)
        miss("asking again gave another pointer");
    goose_response_free(r);

    /* the reply is recycled for the next request: nothing read before
     * is left on it */
    r = goose_get(u, "/node/8");
    expect_str("title after recycling", goose_response_title(r), "node 8");
    expect_str("extract after recycling", goose_response_extract(r, "<h1>node (\\d+)</h1>"), "8");
    goose_response_free(r);

    /* JSON: the target's own counters (never counted by it); "/node/7"
     * is the key "/paths/~1node~17" */
    r = goose_get(u, "/stats");
    const char *count = goose_response_json(r, "/paths/~1node~17");
    const char *paths = goose_response_json(r, "/paths");
    const char *missing = goose_response_json(r, "/paths/~1nowhere");
    if (!count || atoi(count) < 1)
        miss("json /paths/~1node~17: %s", count ? count : "(null)");
    if (!paths || paths[0] != '{' || !strstr(paths, "\"/node/7\":"))
        miss("json /paths: %s", paths ? paths : "(null)");
    expect_null("json of a member not there", missing);
    expect_null("form_value of JSON", goose_response_form_value(r, "paths"));
    goose_response_free(r);

    /* a form echoed back, with a NUL byte before it: read as a browser
     * would, the pattern past the NUL */
    static const char form[] = "x\0<form><input type=hidden name=token value=\"a&amp;b\">"
                               "<select name=s><option>one<option selected>two</select>"
                               "<textarea name=t>\nhi</textarea></form>";
    r = goose_post(u, "/echo", form, sizeof form - 1);
    expect_str("form_value input", goose_response_form_value(r, "token"), "a&b");
    expect_str("form_value select", goose_response_form_value(r, "s"), "two");
    expect_str("form_value textarea", goose_response_form_value(r, "t"), "hi");
    expect_str("extract past a NUL", goose_response_extract(r, "value=\"([^\"]+)\""), "a&amp;b");
    goose_response_free(r);
    return GOOSE_OK;
}

TEST(readers_in_a_run)
{
    target_start(&tgt);
    goose_attack *a = goose_attack_new();
    goose_scenario *s = goose_scenario_new("read");
    goose_scenario_add_transaction(s, "read node", read_node);
    goose_attack_add_scenario(a, s);
    set(a, "host", tgt.url);
    set(a, "users", "2");
    set(a, "hatch-rate", "100");
    set(a, "iterations", "3");
    ASSERT_EQ(goose_attack_run(a), GOOSE_OK);
    ASSERT_EQ(atomic_load(&bad), 0);
    json_t *report = report_of(a);
    ASSERT_EQ(jint(report_request(report, "GET", "/node/7"), "success"), 6);
    ASSERT_EQ(jint(report_request(report, "GET", "/node/7"), "fail"), 0);
    ASSERT_EQ(jint(report_request(report, "POST", "/echo"), "success"), 6);
    ASSERT_EQ(json_array_size(json_object_get(report, "errors")), 0);
    json_decref(report);
    goose_attack_free(a);
    target_stop(&tgt);
}

static int checks(goose_user *u)
{
    /* a bad pattern: NULL, and the request fails with PCRE2's message */
    goose_response *r = goose_get(u, "/node/1");
    expect_null("bad pattern", goose_response_extract(r, "node (\\d+"));
    expect_str("title beside a bad pattern", goose_response_title(r), "node 1");
    goose_response_free(r);
    /* a title that does not hold */
    r = goose_get(u, "/node/2");
    if (goose_response_expect_title(r, "Home") != GOOSE_EFAILED)
        miss("expect_title \"Home\" on node 2 held");
    goose_response_free(r);
    /* no title at all */
    r = goose_get(u, "/");
    if (goose_response_expect_title(r, "Home") != GOOSE_EFAILED)
        miss("expect_title on a page without a title held");
    goose_response_free(r);
    /* a freed response, no response, no title given: refused */
    if (goose_response_title(r) || goose_response_extract(r, "x") ||
        goose_response_json(r, "") || goose_response_form_value(r, "x") ||
        goose_response_expect_title(r, "x") != GOOSE_EINVAL)
        miss("a freed response was read");
    if (goose_response_title(NULL) || goose_response_expect_title(NULL, "x") != GOOSE_EINVAL)
        miss("a NULL response was read");
    r = goose_get(u, "/node/3");
    if (goose_response_expect_title(r, NULL) != GOOSE_EINVAL || goose_response_extract(r, NULL) ||
        goose_response_json(r, NULL) || goose_response_form_value(r, NULL))
        miss("NULL arguments were taken");
    goose_response_free(r);
    return GOOSE_OK;
}

TEST(failures_in_the_report)
{
    target_start(&tgt);
    goose_attack *a = goose_attack_new();
    goose_scenario *s = goose_scenario_new("checks");
    goose_scenario_add_transaction(s, "checks", checks);
    goose_attack_add_scenario(a, s);
    set(a, "host", tgt.url);
    set(a, "users", "1");
    set(a, "iterations", "4");
    ASSERT_EQ(goose_attack_run(a), GOOSE_OK);
    ASSERT_EQ(atomic_load(&bad), 0);
    json_t *report = report_of(a);
    ASSERT_EQ(jint(report_request(report, "GET", "/node/1"), "fail"), 4);
    ASSERT_EQ(jint(report_request(report, "GET", "/node/2"), "fail"), 4);
    ASSERT_EQ(jint(report_request(report, "GET", "/"), "fail"), 4);
    ASSERT_EQ(jint(report_request(report, "GET", "/node/3"), "fail"), 0);
    ASSERT_EQ(error_count(report, "bad pattern \"node (\\d+\": missing closing parenthesis "
                                  "at offset 9"), 4);
    ASSERT_EQ(error_count(report, "expected title \"Home\", got \"node 2\""), 4);
    ASSERT_EQ(error_count(report, "expected title \"Home\", got no title"), 4);
    ASSERT_EQ(json_array_size(json_object_get(report, "errors")), 3);
    /* the bad pattern also fails its transaction, with the same words */
    json_t *txe = json_array_get(json_object_get(report, "transaction_errors"), 0);
    ASSERT_EQ(json_array_size(json_object_get(report, "transaction_errors")), 1);
    ASSERT_STR_EQ(json_string_value(json_object_get(txe, "error")),
                  "bad pattern \"node (\\d+\": missing closing parenthesis at offset 9");
    ASSERT_EQ(json_integer_value(json_object_get(txe, "count")), 4);
    json_decref(report);
    goose_attack_free(a);
    target_stop(&tgt);
}

/* A title longer than an error row quotes (48 bytes): cut short, on a
 * character's boundary (the 48th byte is inside an é here). */
#define A10 "AAAAAAAAAA"
static int long_title(goose_user *u)
{
    static const char page[] = "<title>" A10 A10 A10 A10 "AAAAAAA\xc3\xa9\xc3\xa9 tail</title>";
    goose_response *r = goose_post(u, "/echo", page, sizeof page - 1);
    if (goose_response_expect_title(r, "short") != GOOSE_EFAILED)
        miss("expect_title \"short\" held");
    goose_response_free(r);
    return GOOSE_OK;
}

TEST(long_titles_are_cut)
{
    target_start(&tgt);
    goose_attack *a = goose_attack_new();
    goose_scenario *s = goose_scenario_new("long");
    goose_scenario_add_transaction(s, "long", long_title);
    goose_attack_add_scenario(a, s);
    set(a, "host", tgt.url);
    set(a, "users", "1");
    set(a, "iterations", "1");
    ASSERT_EQ(goose_attack_run(a), GOOSE_OK);
    ASSERT_EQ(atomic_load(&bad), 0);
    json_t *report = report_of(a);
    json_t *e = json_array_get(json_object_get(report, "errors"), 0);
    ASSERT_NOT_NULL(e);
    ASSERT_STR_EQ(json_string_value(json_object_get(e, "error")),
                  "expected title \"short\", got \"" A10 A10 A10 A10 "AAAAAAA...\"");
    json_decref(report);
    goose_attack_free(a);
    target_stop(&tgt);
}

/* HTML is read from the first 2 MiB of a body; a check on a request that
 * failed already keeps its first reason (the status here). */
static int big_and_failed(goose_user *u)
{
    size_t n = 3u << 20;
    char *page = malloc(n + 32);
    if (!page)
        return 1;
    memset(page, ' ', n);
    memcpy(page + n, "<title>late</title>", 19);
    goose_response *r = goose_post(u, "/echo", page, n + 19);
    expect_null("a title after the first 2 MiB", goose_response_title(r));
    goose_response_free(r);
    memcpy(page, "<title>early</title>", 20);
    r = goose_post(u, "/echo", page, n + 19);
    expect_str("a title in the first 2 MiB", goose_response_title(r), "early");
    goose_response_free(r);
    free(page);
    r = goose_get(u, "/status/404");
    if (goose_response_expect_title(r, "Home") != GOOSE_EFAILED)
        miss("expect_title held on a 404");
    if (goose_response_extract(r, "(unclosed"))
        miss("a bad pattern matched");
    expect_str("the 404's reason", goose_response_error(r), "404 Not Found");
    goose_response_free(r);
    return GOOSE_OK;
}

TEST(html_bound_and_first_reason)
{
    target_start(&tgt);
    goose_attack *a = goose_attack_new();
    goose_scenario *s = goose_scenario_new("big");
    goose_scenario_add_transaction(s, "big", big_and_failed);
    goose_attack_add_scenario(a, s);
    set(a, "host", tgt.url);
    set(a, "users", "1");
    set(a, "iterations", "1");
    ASSERT_EQ(goose_attack_run(a), GOOSE_OK);
    ASSERT_EQ(atomic_load(&bad), 0);
    json_t *report = report_of(a);
    ASSERT_EQ(json_array_size(json_object_get(report, "errors")), 1); /* the 404's only */
    json_decref(report);
    goose_attack_free(a);
    target_stop(&tgt);
}

/* [[[...1...]]] depth levels deep, with an integer past 64 bits beside
 * the 1 when big; malloc'd.  "/0" depth times points at the 1. */
static char *nested(int depth, int big, char **pointer)
{
    char *s = malloc((size_t)depth * 2 + 32), *p = s;
    *pointer = malloc((size_t)depth * 2 + 1);
    for (int i = 0; i < depth; i++) {
        *p++ = '[';
        memcpy(*pointer + 2 * i, "/0", 2);
    }
    (*pointer)[2 * depth] = '\0';
    p += sprintf(p, big ? "1,18446744073709551616" : "1");
    for (int i = 0; i < depth; i++)
        *p++ = ']';
    *p = '\0';
    return s;
}

/* A 2 KB body nested 1000 deep and one 2000 deep, echoed back and read
 * whole and at its innermost member (jansson recurses about 300 bytes
 * a level); deeper than jansson's 2048 levels: not JSON.  Patterns
 * compiled afresh each time (pcre2_compile takes 22 KiB of stack). */
static int deep_json(goose_user *u)
{
    static atomic_int round;
    int n = atomic_fetch_add(&round, 1);
    for (int depth = 1000; depth <= 3000; depth += 1000) {
        char *pointer, *body = nested(depth, (depth / 1000 + n) % 2, &pointer);
        goose_response *r = goose_post(u, "/echo/body", body, strlen(body));
        const char *all = goose_response_json(r, "");
        const char *one = goose_response_json(r, pointer);
        if (depth <= 2000) {
            expect_str("json of a deep body", all, body);
            expect_str("json deep inside", one, "1");
        } else {
            expect_null("json deeper than 2048", all);
        }
        char pattern[64];
        snprintf(pattern, sizeof pattern, "(*UTF)\\[(\\d)[,\\]]|x{%d}", n * 10 + depth / 1000);
        expect_str("extract a fresh pattern", goose_response_extract(r, pattern), "1");
        goose_response_free(r);
        free(pointer);
        free(body);
    }
    return GOOSE_OK;
}

static goose_attack *deep_attack(const char *stack_size)
{
    goose_attack *a = goose_attack_new();
    goose_scenario *s = goose_scenario_new("deep");
    goose_scenario_add_transaction(s, "deep", deep_json);
    goose_attack_add_scenario(a, s);
    set(a, "host", tgt.url);
    set(a, "users", "2");
    set(a, "hatch-rate", "100");
    set(a, "iterations", "2");
    if (stack_size)
        set(a, "stack-size", stack_size);
    return a;
}

/* At the default stack and the smallest --stack-size, and in a program
 * whose threads get 128 KiB by default (an embedding host's setting):
 * the library calls run on the engine threads' own 8 MiB stacks. */
TEST(deep_json_on_small_stacks)
{
    target_start(&tgt);
    const char *sizes[] = {NULL, "16k"};
    for (int i = 0; i < 2; i++) {
        goose_attack *a = deep_attack(sizes[i]);
        ASSERT_EQ(goose_attack_run(a), GOOSE_OK);
        ASSERT_EQ(atomic_load(&bad), 0);
        json_t *report = report_of(a);
        ASSERT_EQ(jint(report_request(report, "POST", "/echo/body"), "success"), 12);
        json_decref(report);
        goose_attack_free(a);
    }
    pid_t pid = fork();
    ASSERT(pid >= 0);
    if (pid == 0) {
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setstacksize(&attr, 128 * 1024);
        pthread_setattr_default_np(&attr);
        goose_attack *a = deep_attack("16k");
        int rc = goose_attack_run(a);
        _exit(rc == GOOSE_OK && atomic_load(&bad) == 0 ? 0 : 1);
    }
    int status;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    target_stop(&tgt);
}

TEST_MAIN(TEST_ENTRY(readers_in_a_run), TEST_ENTRY(deep_json_on_small_stacks),
          TEST_ENTRY(failures_in_the_report), TEST_ENTRY(long_titles_are_cut),
          TEST_ENTRY(html_bound_and_first_reason))
