/* Test data (goose_attack_add_data, goose_user_value): the CSV table as
 * files come (RFC 4180, and the ways files break), a Worker's share
 * built from cells, and runs against the target on 127.0.0.1. */
#include "e2e.h"

#include <unistd.h>

#include "content/table.h"

/* ---- the CSV table ---- */

/* A file holding exactly these bytes (NULs included); the path is static. */
static const char *csv_file(const char *bytes, size_t len)
{
    static char path[64];
    snprintf(path, sizeof path, "/tmp/goose-data-%d.csv", (int)getpid());
    FILE *f = fopen(path, "wb");
    ASSERT_NOT_NULL(f);
    ASSERT_EQ(fwrite(bytes, 1, len, f), len);
    ASSERT_EQ(fclose(f), 0);
    return path;
}

static void load_ok(goose_table *t, const char *text)
{
    char err[256] = "";
    const char *path = csv_file(text, strlen(text));
    if (goose__table_load(t, path, err, sizeof err) != 0)
        TEST_FAIL("%s: %s", text, err);
    unlink(path);
}

/* The load fails with exactly "PATH: why" (why names the line). */
static void load_fails(const char *bytes, size_t len, const char *why)
{
    char err[256] = "", want[320];
    goose_table t;
    const char *path = csv_file(bytes, len);
    ASSERT_EQ(goose__table_load(&t, path, err, sizeof err), -1);
    snprintf(want, sizeof want, "%s: %s", path, why);
    ASSERT_STR_EQ(err, want);
    ASSERT_EQ(t.nrows, 0); /* nothing kept */
    ASSERT_NULL(t.cells);
    ASSERT_NULL(t.names);
    unlink(path);
}

#define FAILS(text, why) load_fails(text, sizeof text - 1, why)

static const char *cell(const goose_table *t, size_t row, const char *col)
{
    int c = goose__table_column(t, col);
    ASSERT_GE(c, 0);
    return goose__table_field(t, goose__table_row(t, row), (size_t)c);
}

TEST(csv_plain)
{
    goose_table t;
    load_ok(&t, "name,password\nann,a1\nbob,b2\n");
    ASSERT_EQ(t.ncols, 2);
    ASSERT_EQ(t.nrows, 2);
    ASSERT_STR_EQ(cell(&t, 0, "name"), "ann");
    ASSERT_STR_EQ(cell(&t, 0, "password"), "a1");
    ASSERT_STR_EQ(cell(&t, 1, "name"), "bob");
    ASSERT_STR_EQ(cell(&t, 1, "password"), "b2");
    ASSERT_EQ(goose__table_column(&t, "nope"), -1);
    ASSERT_EQ(goose__table_column(&t, "Name"), -1);
    ASSERT_EQ(goose__table_row_len(&t, goose__table_row(&t, 1)), strlen("bob") + 1 + strlen("b2") + 1);
    goose__table_free(&t);
    goose__table_free(&t); /* freed twice: still nothing */
}

TEST(csv_quotes)
{
    goose_table t;
    /* quoted commas, "" escapes, a quoted newline (LF and CRLF), empty
     * fields quoted or not, spaces kept, a bare quote inside a field */
    load_ok(&t, "a,b,c\r\n"
                "\"x,y\",\"say \"\"hi\"\"\",\"two\nlines\"\r\n"
                "\"\",,\" sp \"\r\n"
                "5\" disk,\"crlf\r\nin\",\"\"\"\"\r\n"
                " lead,trail ,\"\"");
    ASSERT_EQ(t.nrows, 4);
    ASSERT_STR_EQ(cell(&t, 0, "a"), "x,y");
    ASSERT_STR_EQ(cell(&t, 0, "b"), "say \"hi\"");
    ASSERT_STR_EQ(cell(&t, 0, "c"), "two\nlines");
    ASSERT_STR_EQ(cell(&t, 1, "a"), "");
    ASSERT_STR_EQ(cell(&t, 1, "b"), "");
    ASSERT_STR_EQ(cell(&t, 1, "c"), " sp ");
    ASSERT_STR_EQ(cell(&t, 2, "a"), "5\" disk");
    ASSERT_STR_EQ(cell(&t, 2, "b"), "crlf\r\nin");
    ASSERT_STR_EQ(cell(&t, 2, "c"), "\"");
    ASSERT_STR_EQ(cell(&t, 3, "a"), " lead");
    ASSERT_STR_EQ(cell(&t, 3, "b"), "trail ");
    ASSERT_STR_EQ(cell(&t, 3, "c"), "");
    goose__table_free(&t);
    /* quoted column names, one with a comma */
    load_ok(&t, "\"user,name\",\"pw\"\nann,1\n");
    ASSERT_STR_EQ(cell(&t, 0, "user,name"), "ann");
    ASSERT_STR_EQ(cell(&t, 0, "pw"), "1");
    goose__table_free(&t);
}

TEST(csv_line_ends)
{
    /* the same table however the lines end and the file stops */
    static const char *const files[] = {
        "n,v\nann,1\nbob,2",         "n,v\nann,1\nbob,2\n",       "n,v\r\nann,1\r\nbob,2\r\n",
        "n,v\r\nann,1\r\nbob,2",     "n,v\nann,1\nbob,2\n\n\n",   "n,v\r\nann,1\r\nbob,2\r\n\r\n",
        "\xef\xbb\xbfn,v\nann,1\nbob,2\n", "\xef\xbb\xbfn,v\r\nann,1\r\nbob,2",
    };
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        goose_table t;
        load_ok(&t, files[i]);
        ASSERT_EQ(t.ncols, 2);
        ASSERT_EQ(t.nrows, 2);
        ASSERT_STR_EQ(cell(&t, 0, "n"), "ann");
        ASSERT_STR_EQ(cell(&t, 0, "v"), "1");
        ASSERT_STR_EQ(cell(&t, 1, "n"), "bob");
        ASSERT_STR_EQ(cell(&t, 1, "v"), "2");
        goose__table_free(&t);
    }
    /* one column: an empty line inside the file is a row with an empty
     * value; only trailing ones are no rows */
    goose_table t;
    load_ok(&t, "n\na\n\nb\n\n");
    ASSERT_EQ(t.nrows, 3);
    ASSERT_STR_EQ(cell(&t, 1, "n"), "");
    ASSERT_STR_EQ(cell(&t, 2, "n"), "b");
    goose__table_free(&t);
    /* a lone CR is a byte of the field */
    load_ok(&t, "n,v\na\rb,1\n");
    ASSERT_STR_EQ(cell(&t, 0, "n"), "a\rb");
    goose__table_free(&t);
    /* a trailing comma is one more (empty) field */
    load_ok(&t, "a,b,c\n1,2,\n");
    ASSERT_EQ(t.ncols, 3);
    ASSERT_STR_EQ(cell(&t, 0, "c"), "");
    goose__table_free(&t);
}

/* Every mistake names the file and the physical line it is on. */
TEST(csv_errors)
{
    FAILS("", "line 1: no header: the file is empty");
    FAILS("\n\r\n\n", "line 1: no header: the file is empty");
    FAILS("\xef\xbb\xbf", "line 1: no header: the file is empty");
    FAILS("name,pw\n", "line 1: a header and no rows");
    FAILS("name,pw", "line 1: a header and no rows");
    FAILS("name,,pw\na,b,c\n", "line 1: column 2 has no name");
    FAILS("name,pw,\na,b,c\n", "line 1: column 3 has no name");
    FAILS("\"\"\na\n", "line 1: column 1 has no name");
    FAILS("pw,name,pw\na,b,c\n", "line 1: column \"pw\" named twice");
    FAILS("n,v\na,1\nb,2,3\nc,4\n", "line 3: 3 fields, the header has 2");
    FAILS("n,v\na,1\nb\n", "line 3: 1 field, the header has 2");
    FAILS("n,v\na,1\n\nb,2\n", "line 3: 1 field, the header has 2");
    /* a row after a quoted newline: its own physical line */
    FAILS("n,v\n\"a\nb\",1\nc\n", "line 4: 1 field, the header has 2");
    FAILS("n,v\n\"a\nb\",1,2\n", "line 2: 3 fields, the header has 2");
    FAILS("n,v\na,1\n\"b,2\nc,3\n", "line 3: a quoted field is never closed");
    FAILS("n,v\na,\"1\n", "line 2: a quoted field is never closed");
    FAILS("n,v\na,\"x\"\"\n", "line 2: a quoted field is never closed");
    FAILS("n,\"v\nw\"x\na,1\n", "line 2: text after a closing quote");
    FAILS("n,v\na,\"1\" \n", "line 2: text after a closing quote");
    FAILS("n,v\na,1\nb,\"2\"\"\"x\n", "line 3: text after a closing quote");
    FAILS("n,v\na,1\nb,2\0\n", "line 3: a NUL byte");
    FAILS("n,v\na,\"x\ny\0\"\n", "line 3: a NUL byte");
    FAILS("n\0,v\na,1\n", "line 1: a NUL byte");

    char err[256];
    goose_table t;
    ASSERT_EQ(goose__table_load(&t, "/nonexistent/goose.csv", err, sizeof err), -1);
    ASSERT_STR_EQ(err, "/nonexistent/goose.csv: No such file or directory");
    ASSERT_EQ(goose__table_load(&t, "/tmp", err, sizeof err), -1);
    ASSERT_STR_EQ(err, "/tmp: Is a directory");
}

/* Rows past a few strides, the marks pointing at every STRIDE-th one. */
TEST(csv_many_rows)
{
    size_t n = 10 * GOOSE_TABLE_STRIDE + 3;
    char *text = malloc(32 * (n + 1));
    ASSERT_NOT_NULL(text);
    size_t len = (size_t)sprintf(text, "id,\"text\"\r\n");
    for (size_t i = 0; i < n; i++)
        len += (size_t)sprintf(text + len, i % 3 ? "%zu,x%zu\r\n" : "%zu,\"q,%zu\"\r\n", i, i);
    goose_table t;
    load_ok(&t, text);
    free(text);
    ASSERT_EQ(t.nrows, n);
    ASSERT_EQ(t.nmarks, (n + GOOSE_TABLE_STRIDE - 1) / GOOSE_TABLE_STRIDE);
    ASSERT_LE(t.len, len); /* unquoted in place: never more than the file */
    for (size_t i = 0; i < n; i++) {
        char want[32];
        snprintf(want, sizeof want, "%zu", i);
        ASSERT_STR_EQ(cell(&t, i, "id"), want);
        snprintf(want, sizeof want, i % 3 ? "x%zu" : "q,%zu", i);
        ASSERT_STR_EQ(cell(&t, i, "text"), want);
    }
    goose__table_free(&t);
}

/* A Worker's share: columns, then rows as the Manager's cells, in
 * pieces; bytes that do not hold what they claim are refused and leave
 * the table as it was. */
TEST(table_worker_share)
{
    char err[256];
    goose_table t;
    goose__table_init(&t);
    ASSERT_EQ(goose__table_append(&t, "a\0", 2, 1, err, sizeof err), -1);
    ASSERT_STR_EQ(err, "test data: rows before the columns");
    ASSERT_EQ(goose__table_set_columns(&t, "name\0pw\0", 8, 3, err, sizeof err), -1);
    ASSERT_STR_EQ(err, "test data: the column names are not 3 NUL-terminated names");
    ASSERT_EQ(goose__table_set_columns(&t, "name\0pw", 7, 2, err, sizeof err), -1);
    ASSERT_EQ(goose__table_set_columns(&t, "name\0\0", 6, 2, err, sizeof err), -1);
    ASSERT_STR_EQ(err, "test data: column 2 has no name");
    ASSERT_EQ(goose__table_set_columns(&t, "pw\0pw\0", 6, 2, err, sizeof err), -1);
    ASSERT_STR_EQ(err, "test data: column \"pw\" named twice");
    ASSERT_EQ(goose__table_set_columns(&t, "", 0, 0, err, sizeof err), -1);
    ASSERT_STR_EQ(err, "test data: no columns");
    ASSERT_EQ(t.ncols, 0);
    ASSERT_EQ(goose__table_set_columns(&t, "name\0pw\0", 8, 2, err, sizeof err), 0);
    ASSERT_EQ(goose__table_set_columns(&t, "x\0", 2, 1, err, sizeof err), -1);
    ASSERT_STR_EQ(err, "test data: the columns are already set");
    ASSERT_EQ(goose__table_column(&t, "pw"), 1);

    /* too few cells, too many, a cell cut short, rows and no bytes */
    ASSERT_EQ(goose__table_append(&t, "a\0", 2, 1, err, sizeof err), -1);
    ASSERT_STR_EQ(err, "test data: the cells are not 1 rows of 2 fields");
    ASSERT_EQ(goose__table_append(&t, "a\0b\0c\0", 6, 1, err, sizeof err), -1);
    ASSERT_EQ(goose__table_append(&t, "a\0b", 3, 1, err, sizeof err), -1);
    ASSERT_EQ(goose__table_append(&t, "", 0, 1, err, sizeof err), -1);
    ASSERT_EQ(goose__table_append(&t, "a\0b\0", 4, 0, err, sizeof err), -1);
    ASSERT_EQ(goose__table_append(&t, "a\0b\0", 4, SIZE_MAX / 2 + 1, err, sizeof err), -1);
    ASSERT_EQ(t.nrows, 0);
    ASSERT_EQ(t.len, 0);
    ASSERT_EQ(goose__table_append(&t, NULL, 0, 0, err, sizeof err), 0);

    /* 40 rows in pieces of 1, 2, 3...: every row where it belongs */
    size_t done = 0;
    for (size_t piece = 1; done < 40; piece++) {
        char cells[512];
        size_t len = 0;
        for (size_t i = done; i < done + piece && i < 40; i++)
            len += (size_t)sprintf(cells + len, "u%zu%cp%zu%c", i, 0, i, 0) ;
        size_t rows = done + piece <= 40 ? piece : 40 - done;
        ASSERT_EQ(goose__table_append(&t, cells, len, rows, err, sizeof err), 0);
        done += rows;
    }
    ASSERT_EQ(t.nrows, 40);
    ASSERT_EQ(t.nmarks, 3);
    for (size_t i = 0; i < 40; i++) {
        char want[16];
        snprintf(want, sizeof want, "u%zu", i);
        ASSERT_STR_EQ(cell(&t, i, "name"), want);
        snprintf(want, sizeof want, "p%zu", i);
        ASSERT_STR_EQ(cell(&t, i, "pw"), want);
    }
    /* a refused piece after good ones changes nothing */
    size_t len = t.len;
    ASSERT_EQ(goose__table_append(&t, "x\0", 2, 1, err, sizeof err), -1);
    ASSERT_EQ(t.nrows, 40);
    ASSERT_EQ(t.len, len);
    ASSERT_EQ(t.nmarks, 3);

    /* a loaded table's own bytes make the same share */
    goose_table f, w;
    load_ok(&f, "k,\"v\"\n1,\"a,\"\"b\"\n2,\n");
    goose__table_init(&w);
    ASSERT_EQ(goose__table_set_columns(&w, f.names, f.names_len, f.ncols, err, sizeof err), 0);
    const char *r1 = goose__table_row(&f, 1);
    ASSERT_EQ(goose__table_append(&w, r1, goose__table_row_len(&f, r1), 1, err, sizeof err), 0);
    ASSERT_STR_EQ(cell(&w, 0, "k"), "2");
    ASSERT_STR_EQ(cell(&w, 0, "v"), "");
    ASSERT_EQ(goose__table_append(&w, f.cells, f.len, f.nrows, err, sizeof err), 0);
    ASSERT_STR_EQ(cell(&w, 1, "v"), "a,\"b");
    goose__table_free(&w);
    goose__table_free(&f);
    goose__table_free(&t);
}

/* ---- the target's accounts ---- */

static long long stat_of(const target *t, const char *key)
{
    json_t *j = target_json(t, "/stats");
    ASSERT_NOT_NULL(j);
    json_t *v = json_object_get(j, key);
    ASSERT(json_is_integer(v));
    long long n = json_integer_value(v);
    json_decref(j);
    return n;
}

static long long login_count(const target *t, const char *name)
{
    char path[48];
    snprintf(path, sizeof path, "/account/count?name=%.24s", name);
    json_t *j = target_json(t, path);
    ASSERT_NOT_NULL(j);
    ASSERT_STR_EQ(json_string_value(json_object_get(j, "name")), name);
    long long n = json_integer_value(json_object_get(j, "count"));
    json_decref(j);
    return n;
}

static long fetch_status(const target *t, const char *path, const char *post)
{
    char url[256];
    long status = 0;
    snprintf(url, sizeof url, "%s%s", t->url, path);
    free(http_fetch(url, post, 10000, &status));
    return status;
}

/* /account/login counts names, from the query or a form; /reset clears. */
TEST(target_accounts)
{
    target t = {0};
    target_start(&t);
    ASSERT_EQ(fetch_status(&t, "/account/login?name=ann", NULL), 200);
    ASSERT_EQ(fetch_status(&t, "/account/login?name=ann", NULL), 200);
    ASSERT_EQ(fetch_status(&t, "/account/login", "name=bob&pw=x"), 200);
    ASSERT_EQ(fetch_status(&t, "/account/login?name=a%2Cb", NULL), 200);
    ASSERT_EQ(fetch_status(&t, "/account/login", NULL), 400);
    ASSERT_EQ(fetch_status(&t, "/account/login?name=", NULL), 400);
    ASSERT_EQ(stat_of(&t, "logins"), 4);
    ASSERT_EQ(stat_of(&t, "distinct_logins"), 3);
    ASSERT_EQ(stat_of(&t, "logins_overflow"), 0);
    ASSERT_EQ(login_count(&t, "ann"), 2);
    ASSERT_EQ(login_count(&t, "bob"), 1);
    ASSERT_EQ(login_count(&t, "a,b"), 1); /* decoded */
    ASSERT_EQ(login_count(&t, "carl"), 0);
    json_t *j = target_json(&t, "/stats");
    ASSERT_EQ(target_count(j, "/account/login"), 6); /* counted as a path too */
    json_decref(j);
    ASSERT_EQ(fetch_status(&t, "/reset", NULL), 200);
    ASSERT_EQ(stat_of(&t, "logins"), 0);
    ASSERT_EQ(stat_of(&t, "distinct_logins"), 0);
    ASSERT_EQ(login_count(&t, "ann"), 0);
    target_stop(&t);
}

TEST_MAIN(TEST_ENTRY(csv_plain), TEST_ENTRY(csv_quotes), TEST_ENTRY(csv_line_ends),
          TEST_ENTRY(csv_errors), TEST_ENTRY(csv_many_rows), TEST_ENTRY(table_worker_share),
          TEST_ENTRY(target_accounts))
