/* Test data (goose_attack_add_data, goose_user_value): the CSV table as
 * files come (RFC 4180, and the ways files break), a Worker's share
 * built from cells, and runs against the target on 127.0.0.1. */
#include "e2e.h"

#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/attack.h"
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


/* ---- runs: goose_attack_add_data and goose_user_value ---- */

static target tgt;

/* A CSV file of its own for a test: "name\nPREFIX0\nPREFIX1\n..." (rows
 * rows); the path is in out. */
static void names_file(char *out, size_t len, const char *tag, size_t rows)
{
    snprintf(out, len, "/tmp/goose-data-%d-%s.csv", (int)getpid(), tag);
    FILE *f = fopen(out, "w");
    ASSERT_NOT_NULL(f);
    fprintf(f, "name,password\r\n");
    for (size_t i = 0; i < rows; i++)
        fprintf(f, "%s%zu,\"pw,%zu\"\r\n", tag, i, i);
    ASSERT_EQ(fclose(f), 0);
}

/* GET /account/login?name=N with the user's row of "accounts". */
static int login(goose_user *u)
{
    const char *name = goose_user_value(u, "accounts", "name");
    const char *pw = goose_user_value(u, "accounts", "password");
    if (!name || !pw) {
        miss("user %u: no account", goose_user_index(u));
        return 1;
    }
    /* the row's fields go together */
    if (strncmp(pw, "pw,", 3) || strcmp(pw + 3, name + strcspn(name, "0123456789")))
        miss("user %u: name %s with password %s", goose_user_index(u), name, pw);
    char path[128];
    snprintf(path, sizeof path, "/account/login?name=%s", name);
    goose_response *r = goose_get(u, path);
    int ok = goose_response_status(r) == 200;
    goose_response_free(r);
    return ok ? GOOSE_OK : 1;
}

static goose_attack *data_attack(const char *path, int mode, goose_transaction_fn fn)
{
    goose_attack *a = goose_attack_new();
    goose_scenario *s = goose_scenario_new("accounts");
    goose_scenario_add_transaction(s, "login", fn);
    ASSERT_EQ(goose_attack_add_scenario(a, s), GOOSE_OK);
    ASSERT_EQ(goose_attack_add_data(a, "accounts", path, mode), GOOSE_OK);
    return a;
}

/* The attack of a test against the target (or port 9, where no request
 * goes, when it runs none). */
static goose_attack *login_attack(const char *path, int mode, goose_transaction_fn fn)
{
    goose_attack *a = data_attack(path, mode, fn);
    set(a, "host", tgt.pid ? tgt.url : "http://127.0.0.1:9");
    set(a, "hatch-rate", "1000");
    set(a, "quiet", NULL);
    return a;
}

/* UNIQUE: user k has row k for its whole life, every iteration. */
static int login_own_row(goose_user *u)
{
    char want[32];
    snprintf(want, sizeof want, "u%u", goose_user_index(u));
    const char *name = goose_user_value(u, "accounts", "name");
    if (!name || strcmp(name, want))
        miss("user %u has row %s", goose_user_index(u), name ? name : "(none)");
    return login(u);
}

TEST(unique_rows)
{
    char path[128];
    names_file(path, sizeof path, "u", 60);
    target_start(&tgt);
    goose_attack *a = login_attack(path, GOOSE_DATA_UNIQUE, login_own_row);
    set(a, "users", "50");
    set(a, "iterations", "2");
    set(a, "threads", "2");
    ASSERT_EQ(goose_attack_run(a), GOOSE_OK);
    ASSERT_EQ(atomic_load(&bad), 0);
    ASSERT_EQ(stat_of(&tgt, "logins"), 100);
    ASSERT_EQ(stat_of(&tgt, "distinct_logins"), 50);
    for (int i = 0; i < 50; i += 7) {
        char name[16];
        snprintf(name, sizeof name, "u%d", i);
        ASSERT_EQ(login_count(&tgt, name), 2);
    }
    ASSERT_EQ(login_count(&tgt, "u50"), 0);
    goose_attack_free(a);
    target_stop(&tgt);
    unlink(path);
}

/* Fewer UNIQUE rows than users: exit status 2, and not one request. */
TEST(unique_too_few_rows)
{
    char path[128], want[320];
    names_file(path, sizeof path, "few", 5);
    target_start(&tgt);
    goose_attack *a = login_attack(path, GOOSE_DATA_UNIQUE, login);
    set(a, "users", "10");
    set(a, "iterations", "1");
    ASSERT_EQ(goose_attack_run(a), GOOSE_ECONFIG);
    snprintf(want, sizeof want, "data \"accounts\" (%s) has 5 rows for 10 users: "
             "GOOSE_DATA_UNIQUE gives each user its own row", path);
    ASSERT_STR_EQ(goose_attack_error(a), want);
    goose_attack_free(a);
    /* a test plan's most users count, as goose_main says with exit 2 */
    a = login_attack(path, GOOSE_DATA_UNIQUE, login);
    char *argv[] = {(char *)"data", (char *)"--test-plan", (char *)"3,1s;6,1s;0,1s", NULL};
    ASSERT_EQ(goose_main(a, 3, argv), 2);
    goose_attack_free(a);
    /* as many rows as users runs */
    a = login_attack(path, GOOSE_DATA_UNIQUE, login);
    set(a, "users", "5");
    set(a, "iterations", "1");
    ASSERT_EQ(goose_attack_run(a), GOOSE_OK);
    ASSERT_EQ(stat_of(&tgt, "distinct_logins"), 5);
    ASSERT_EQ(stat_of(&tgt, "logins"), 5); /* the refused runs sent nothing */
    goose_attack_free(a);
    target_stop(&tgt);
    unlink(path);
}

/* CIRCULAR: each iteration of any user takes the test's next row. */
TEST(circular_rows)
{
    char path[128];
    names_file(path, sizeof path, "c", 3);
    target_start(&tgt);
    goose_attack *a = login_attack(path, GOOSE_DATA_CIRCULAR, login);
    set(a, "users", "1");
    set(a, "iterations", "9");
    ASSERT_EQ(goose_attack_run(a), GOOSE_OK);
    ASSERT_EQ(atomic_load(&bad), 0);
    ASSERT_EQ(stat_of(&tgt, "logins"), 9);
    for (int i = 0; i < 3; i++) {
        char name[16];
        snprintf(name, sizeof name, "c%d", i);
        ASSERT_EQ(login_count(&tgt, name), 3);
    }
    goose_attack_free(a);
    unlink(path);

    /* 4 users of 2 threads, 5 iterations each, 7 rows: 20 rows taken in
       turn, rows 0-5 three times, row 6 twice */
    names_file(path, sizeof path, "m", 7);
    ASSERT_EQ(fetch_status(&tgt, "/reset", NULL), 200);
    a = login_attack(path, GOOSE_DATA_CIRCULAR, login);
    set(a, "users", "4");
    set(a, "threads", "2");
    set(a, "iterations", "5");
    ASSERT_EQ(goose_attack_run(a), GOOSE_OK);
    ASSERT_EQ(stat_of(&tgt, "logins"), 20);
    for (int i = 0; i < 7; i++) {
        char name[16];
        snprintf(name, sizeof name, "m%d", i);
        ASSERT_EQ(login_count(&tgt, name), i < 6 ? 3 : 2);
    }
    goose_attack_free(a);
    target_stop(&tgt);
    unlink(path);
}

/* The row of a loop pass: drawn at the pass's first goose_user_value,
 * kept for the pass; on_start shares the first pass's, on_stop keeps the
 * last. */
static char seen[64][8];
static atomic_int nseen;

static int note(goose_user *u)
{
    const char *v = goose_user_value(u, "accounts", "name");
    int i = atomic_fetch_add(&nseen, 1);
    if (i < 64)
        snprintf(seen[i], sizeof seen[i], "%s", v ? v : "-");
    return GOOSE_OK;
}

static int skip(goose_user *u)
{
    (void)u;
    return GOOSE_OK;
}

TEST(row_per_pass)
{
    char path[128];
    names_file(path, sizeof path, "p", 5);
    goose_attack *a = goose_attack_new();
    goose_scenario *s = goose_scenario_new("passes");
    goose_transaction_set_on_start(goose_scenario_add_transaction(s, "start", note));
    goose_scenario_add_transaction(s, "one", note);
    goose_scenario_add_transaction(s, "two", note);
    goose_scenario_add_transaction(s, "quiet", skip); /* asks for nothing */
    goose_transaction_set_on_stop(goose_scenario_add_transaction(s, "stop", note));
    ASSERT_EQ(goose_attack_add_scenario(a, s), GOOSE_OK);
    ASSERT_EQ(goose_attack_add_data(a, "accounts", path, GOOSE_DATA_CIRCULAR), GOOSE_OK);
    set(a, "host", "http://127.0.0.1:9"); /* no request is sent */
    set(a, "users", "1");
    set(a, "iterations", "3");
    set(a, "quiet", NULL);
    ASSERT_EQ(goose_attack_run(a), GOOSE_OK);
    static const char *const want[] = {"p0", "p0", "p0", "p1", "p1", "p2", "p2", "p2"};
    ASSERT_EQ(atomic_load(&nseen), 8);
    for (int i = 0; i < 8; i++)
        ASSERT_STR_EQ(seen[i], want[i]);
    goose_attack_free(a);
    unlink(path);
}

/* RANDOM: each iteration a row from the user's own stream: the same
 * --seed gives the same rows, another seed others; goose_user_random's
 * values are those of a test without data. */
#define RANDOM_USERS 3
#define RANDOM_ITERATIONS 20
static unsigned drawn[RANDOM_USERS][RANDOM_ITERATIONS];
static uint64_t randoms[RANDOM_USERS][RANDOM_ITERATIONS];
static unsigned iteration_of[RANDOM_USERS];

static int draw_row(goose_user *u)
{
    unsigned k = goose_user_index(u), n = iteration_of[k]++;
    const char *v = goose_user_value(u, "accounts", "name");
    if (k >= RANDOM_USERS || n >= RANDOM_ITERATIONS || !v) {
        miss("user %u iteration %u: %s", k, n, v ? v : "no row");
        return 1;
    }
    drawn[k][n] = (unsigned)atoi(v + 1);
    randoms[k][n] = goose_user_random(u);
    return GOOSE_OK;
}

static int random_only(goose_user *u)
{
    unsigned k = goose_user_index(u);
    randoms[k][iteration_of[k]++] = goose_user_random(u);
    return GOOSE_OK;
}

static void random_run(const char *path, const char *seed, goose_transaction_fn fn)
{
    memset(drawn, 0, sizeof drawn);
    memset(randoms, 0, sizeof randoms);
    memset(iteration_of, 0, sizeof iteration_of);
    goose_attack *a = login_attack(path, GOOSE_DATA_RANDOM, fn);
    set(a, "host", "http://127.0.0.1:9");
    set(a, "users", "3");
    set(a, "threads", "2");
    set(a, "iterations", "20");
    set(a, "seed", seed);
    ASSERT_EQ(goose_attack_run(a), GOOSE_OK);
    ASSERT_EQ(atomic_load(&bad), 0);
    goose_attack_free(a);
}

TEST(random_rows)
{
    char path[128];
    names_file(path, sizeof path, "r", 1000);
    unsigned first[RANDOM_USERS][RANDOM_ITERATIONS];
    uint64_t first_randoms[RANDOM_USERS][RANDOM_ITERATIONS];
    random_run(path, "7", draw_row);
    memcpy(first, drawn, sizeof first);
    memcpy(first_randoms, randoms, sizeof first_randoms);
    /* rows of 1000 spread over the test: not one row, not in order */
    int distinct = 0;
    for (int k = 0; k < RANDOM_USERS; k++)
        for (int n = 0; n < RANDOM_ITERATIONS; n++) {
            int twice = 0;
            for (int m = 0; m < n; m++)
                twice |= first[k][m] == first[k][n];
            distinct += !twice;
        }
    ASSERT_GT(distinct, RANDOM_USERS * RANDOM_ITERATIONS - 5);
    ASSERT(memcmp(first[0], first[1], sizeof first[0]) != 0); /* users differ */
    random_run(path, "7", draw_row);
    ASSERT(memcmp(first, drawn, sizeof first) == 0);
    random_run(path, "8", draw_row);
    ASSERT(memcmp(first, drawn, sizeof first) != 0);
    /* goose_user_random is not disturbed by the rows drawn */
    random_run(path, "7", random_only);
    ASSERT(memcmp(first_randoms, randoms, sizeof randoms) == 0);
    unlink(path);
}

/* --data NAME=PATH (and GOOSE_DATA) reads another file; an unregistered
 * NAME or a bad value is exit status 2. */
static int main_data(const char *path, const char *flag, const char *value)
{
    goose_attack *a = login_attack(path, GOOSE_DATA_CIRCULAR, login);
    char *argv[] = {(char *)"data", (char *)"-u", (char *)"1", (char *)"--iterations",
                    (char *)"2", (char *)flag, (char *)value, NULL};
    int rc = goose_main(a, flag ? 7 : 5, argv);
    goose_attack_free(a);
    return rc;
}

TEST(data_option)
{
    char path[128], other[128], missing[160];
    names_file(path, sizeof path, "reg", 2);
    names_file(other, sizeof other, "alt", 2);
    snprintf(missing, sizeof missing, "%s.missing", path);
    target_start(&tgt);
    char value[200];
    snprintf(value, sizeof value, "accounts=%s", other);
    ASSERT_EQ(main_data(missing, "--data", value), 0);
    ASSERT_EQ(login_count(&tgt, "alt0"), 1);
    ASSERT_EQ(login_count(&tgt, "alt1"), 1);
    setenv("GOOSE_DATA", value, 1);
    ASSERT_EQ(main_data(missing, NULL, NULL), 0);
    ASSERT_EQ(login_count(&tgt, "alt0"), 2);
    /* the flag wins over the environment */
    snprintf(value, sizeof value, "accounts=%s", path);
    ASSERT_EQ(main_data(missing, "--data", value), 0);
    ASSERT_EQ(login_count(&tgt, "reg0"), 1);
    unsetenv("GOOSE_DATA");
    ASSERT_EQ(stat_of(&tgt, "logins"), 6);
    /* refused, before any request */
    ASSERT_EQ(main_data(missing, NULL, NULL), 2);
    snprintf(value, sizeof value, "other=%s", other);
    ASSERT_EQ(main_data(path, "--data", value), 2);
    ASSERT_EQ(main_data(path, "--data", other), 2);
    ASSERT_EQ(main_data(path, "--data", "accounts="), 2);
    ASSERT_EQ(main_data(path, "--data", "=x.csv"), 2);
    ASSERT_EQ(main_data(path, "--data", "my accounts=x.csv"), 2);
    { /* a test without any data refuses a --data too, never ignores it */
        goose_attack *none = goose_attack_new();
        goose_scenario *sc = goose_scenario_new("s");
        goose_scenario_add_transaction(sc, "t", login);
        goose_attack_add_scenario(none, sc);
        char *argv[] = {(char *)"data", (char *)"--host", (char *)"http://127.0.0.1:9",
                        (char *)"--data", (char *)"typo=x.csv", (char *)"-t", (char *)"1", NULL};
        ASSERT_EQ(goose_main(none, 7, argv), 2);
        ASSERT_STR_EQ(goose_attack_error(none), "--data typo: no data is registered under "
                                                "that name (goose_attack_add_data)");
        goose_attack_free(none);
    }
    snprintf(value, sizeof value, "accounts=%s", missing);
    ASSERT_EQ(main_data(path, "--data", value), 2);
    ASSERT_EQ(stat_of(&tgt, "logins"), 6);

    /* the same NAME twice: the last one given */
    goose_attack *a = login_attack(path, GOOSE_DATA_CIRCULAR, login);
    set(a, "data", "accounts=first.csv");
    snprintf(value, sizeof value, "accounts=%s", other);
    set(a, "data", value);
    ASSERT_EQ(a->opt.ndata, 1);
    ASSERT_STR_EQ(goose__data_path(a, &a->datasets[0]), other);
    ASSERT_EQ(goose_attack_set_option(a, "data", "nothing"), GOOSE_EVALUE);
    ASSERT_STR_EQ(goose_attack_error(a), "--data \"nothing\" must be NAME=PATH");
    goose_attack_free(a);
    a = login_attack(path, GOOSE_DATA_CIRCULAR, login);
    set(a, "data", "other=x.csv");
    ASSERT_EQ(goose_attack_run(a), GOOSE_ECONFIG);
    ASSERT_STR_EQ(goose_attack_error(a),
                  "--data other: no data is registered under that name (goose_attack_add_data)");
    goose_attack_free(a);
    /* a Worker has no files: --data is the Manager's */
    a = data_attack(path, GOOSE_DATA_CIRCULAR, login);
    set(a, "worker", NULL);
    set(a, "data", "accounts=x.csv");
    char *argv[] = {(char *)"data", NULL};
    ASSERT_EQ(goose_main(a, 1, argv), 2);
    ASSERT_NOT_NULL(strstr(goose_attack_error(a), "--data makes no sense on a Worker"));
    goose_attack_free(a);
    target_stop(&tgt);
    unlink(path);
    unlink(other);
}

/* A file that cannot be read or parsed: the run refuses before any
 * request, naming the data set, the file and the line. */
TEST(bad_files)
{
    static const char *const files[][2] = {
        {"name,password\na,1\nb\n", "line 3: 1 field, the header has 2"},
        {"name,password\na,\"1\n", "line 2: a quoted field is never closed"},
        {"name,password\n", "line 1: a header and no rows"},
        {"", "line 1: no header: the file is empty"},
        {"name,name\na,b\n", "line 1: column \"name\" named twice"},
        {"name,password\n\"a\"b,1\n", "line 2: text after a closing quote"},
    };
    target_start(&tgt);
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char path[64], want[320];
        snprintf(path, sizeof path, "/tmp/goose-data-%d-bad.csv", (int)getpid());
        FILE *f = fopen(path, "w");
        ASSERT_NOT_NULL(f);
        fputs(files[i][0], f);
        fclose(f);
        goose_attack *a = login_attack(path, GOOSE_DATA_RANDOM, login);
        set(a, "users", "1");
        set(a, "iterations", "1");
        ASSERT_EQ(goose_attack_run(a), GOOSE_ECONFIG);
        snprintf(want, sizeof want, "data \"accounts\": %s: %s", path, files[i][1]);
        ASSERT_STR_EQ(goose_attack_error(a), want);
        goose_attack_free(a);
        ASSERT_EQ(main_data(path, NULL, NULL), 2);
        unlink(path);
    }
    /* a directory, and no file */
    goose_attack *a = login_attack("/tmp", GOOSE_DATA_RANDOM, login);
    ASSERT_EQ(goose_attack_run(a), GOOSE_ECONFIG);
    ASSERT_STR_EQ(goose_attack_error(a), "data \"accounts\": /tmp: Is a directory");
    goose_attack_free(a);
    ASSERT_EQ(main_data("/nonexistent/a.csv", NULL, NULL), 2);
    json_t *j = target_json(&tgt, "/stats");
    ASSERT_EQ(target_total(j), 0);
    json_decref(j);
    target_stop(&tgt);
}

/* goose_attack_add_data refuses what it cannot use, and the first
 * mistake sticks: the run refuses it too. */
static int add_while_running_rc;

static int add_while_running(goose_user *u)
{
    add_while_running_rc = goose_attack_add_data(goose_user_attack(u), "late", "x.csv",
                                                 GOOSE_DATA_RANDOM);
    return GOOSE_OK;
}

static void refused(int mode, const char *name, const char *path, int code, const char *why)
{
    goose_attack *a = goose_attack_new();
    ASSERT_EQ(goose_attack_add_data(a, "accounts", "a.csv", GOOSE_DATA_UNIQUE), GOOSE_OK);
    ASSERT_EQ(goose_attack_add_data(a, name, path, mode), code);
    ASSERT_STR_EQ(goose_attack_error(a), why);
    goose_scenario *s = goose_scenario_new("s");
    goose_scenario_add_transaction(s, "t", skip);
    goose_attack_add_scenario(a, s);
    set(a, "host", "http://127.0.0.1:9");
    ASSERT_EQ(goose_attack_run(a), code); /* it stuck */
    ASSERT_STR_EQ(goose_attack_error(a), why);
    ASSERT_EQ(a->ndatasets, 1);
    goose_attack_free(a);
}

TEST(registration_refusals)
{
    ASSERT_EQ(goose_attack_add_data(NULL, "a", "a.csv", GOOSE_DATA_UNIQUE), GOOSE_EINVAL);
    refused(GOOSE_DATA_UNIQUE, NULL, "b.csv", GOOSE_EINVAL,
            "goose_attack_add_data: the name \"(null)\" must be 1 to 255 bytes, without '=' or spaces");
    refused(GOOSE_DATA_UNIQUE, "", "b.csv", GOOSE_EINVAL,
            "goose_attack_add_data: the name \"\" must be 1 to 255 bytes, without '=' or spaces");
    refused(GOOSE_DATA_UNIQUE, "a=b", "b.csv", GOOSE_EINVAL,
            "goose_attack_add_data: the name \"a=b\" must be 1 to 255 bytes, without '=' or spaces");
    refused(GOOSE_DATA_UNIQUE, "a b", "b.csv", GOOSE_EINVAL,
            "goose_attack_add_data: the name \"a b\" must be 1 to 255 bytes, without '=' or spaces");
    char long_name[300];
    memset(long_name, 'n', 256);
    long_name[256] = '\0'; /* a Worker carries 255 bytes of a name */
    goose_attack *a255 = goose_attack_new();
    ASSERT_EQ(goose_attack_add_data(a255, long_name + 1, "a.csv", GOOSE_DATA_UNIQUE), GOOSE_OK);
    ASSERT_EQ(goose_attack_add_data(a255, long_name, "a.csv", GOOSE_DATA_UNIQUE), GOOSE_EINVAL);
    goose_attack_free(a255);
    refused(GOOSE_DATA_UNIQUE, "b", NULL, GOOSE_EINVAL,
            "goose_attack_add_data: data \"b\" has no file");
    refused(GOOSE_DATA_UNIQUE, "b", "", GOOSE_EINVAL,
            "goose_attack_add_data: data \"b\" has no file");
    for (int mode = -1; mode < 6; mode += mode == 0 ? 4 : 1)
        refused(mode, "b", "b.csv", GOOSE_EINVAL,
                "goose_attack_add_data: data \"b\": the mode must be GOOSE_DATA_UNIQUE, "
                "GOOSE_DATA_CIRCULAR or GOOSE_DATA_RANDOM");
    refused(GOOSE_DATA_RANDOM, "accounts", "b.csv", GOOSE_EEXIST,
            "goose_attack_add_data: data \"accounts\" is already registered");

    /* while the attack runs: refused, and not a mistake of the attack */
    goose_attack *a = goose_attack_new();
    goose_scenario *s = goose_scenario_new("s");
    goose_scenario_add_transaction(s, "t", add_while_running);
    goose_attack_add_scenario(a, s);
    set(a, "host", "http://127.0.0.1:9");
    set(a, "users", "1");
    set(a, "iterations", "1");
    ASSERT_EQ(goose_attack_run(a), GOOSE_OK);
    ASSERT_EQ(add_while_running_rc, GOOSE_ESTATE);
    ASSERT_EQ(a->ndatasets, 0);
    ASSERT_EQ(goose_attack_run(a), GOOSE_OK);
    goose_attack_free(a);
}

/* goose_user_value's NULLs, each logged as misuse. */
static char misuse_log[4096];
static pthread_mutex_t misuse_lock = PTHREAD_MUTEX_INITIALIZER;

static void keep_log(void *arg, goose_log_level level, const char *line)
{
    (void)arg;
    pthread_mutex_lock(&misuse_lock);
    if (level == GOOSE_LOG_ERROR && strlen(misuse_log) + strlen(line) + 2 < sizeof misuse_log) {
        strcat(misuse_log, line);
        strcat(misuse_log, "\n");
    }
    pthread_mutex_unlock(&misuse_lock);
}

static goose_user *other_thread_user;
static const char *other_thread_value = "unset";

static void *value_elsewhere(void *arg)
{
    (void)arg;
    other_thread_value = goose_user_value(other_thread_user, "accounts", "name");
    return NULL;
}

static int nulls(goose_user *u)
{
    if (!goose_user_value(u, "accounts", "name"))
        miss("no value at all");
    other_thread_user = u; /* a thread of its own: outside the user's transaction */
    pthread_t th;
    pthread_create(&th, NULL, value_elsewhere, NULL);
    pthread_join(th, NULL);
    /* the first five misuses of a run are logged */
    if (goose_user_value(NULL, "accounts", "name") || goose_user_value(u, NULL, "name") ||
        goose_user_value(u, "accounts", NULL) || goose_user_value(u, "nothing", "name") ||
        goose_user_value(u, "accounts", "email") || goose_user_value(u, "Accounts", "name"))
        miss("a value for a NULL or unknown name or column");
    return GOOSE_OK;
}

TEST(user_value_nulls)
{
    char path[128];
    names_file(path, sizeof path, "n", 3);
    goose_attack *a = login_attack(path, GOOSE_DATA_CIRCULAR, nulls);
    goose_attack_set_log(a, keep_log, NULL);
    set(a, "host", "http://127.0.0.1:9");
    set(a, "users", "1");
    set(a, "iterations", "1");
    set(a, "quiet", NULL);
    ASSERT_EQ(goose_attack_run(a), GOOSE_OK);
    ASSERT_EQ(atomic_load(&bad), 0);
    ASSERT_NULL(other_thread_value);
    ASSERT_NOT_NULL(strstr(misuse_log, "goose_user_value with a NULL name"));
    ASSERT_NOT_NULL(strstr(misuse_log, "goose_user_value with a NULL column"));
    ASSERT_NOT_NULL(strstr(misuse_log, "goose_user_value: no data \"nothing\""));
    ASSERT_NOT_NULL(strstr(misuse_log, "goose_user_value: data \"accounts\" has no column \"email\""));
    ASSERT_NOT_NULL(strstr(misuse_log, "goose_user_value outside the user's own transaction"));
    goose_attack_free(a);
    unlink(path);
}

/* The load-test hash covers the data sets' names and modes: a Worker with
 * another file (it has none) is the same test. */
TEST(hash_names_and_modes)
{
    char h[4][65];
    const char *paths[] = {"a.csv", "/elsewhere/b.csv"};
    for (int i = 0; i < 2; i++) {
        goose_attack *a = goose_attack_new();
        ASSERT_EQ(goose_attack_add_data(a, "accounts", paths[i], GOOSE_DATA_UNIQUE), GOOSE_OK);
        ASSERT_EQ(goose__test_hash(a, h[i]), 0);
        goose_attack_free(a);
    }
    ASSERT_STR_EQ(h[0], h[1]);
    goose_attack *a = goose_attack_new();
    ASSERT_EQ(goose_attack_add_data(a, "accounts", "a.csv", GOOSE_DATA_RANDOM), GOOSE_OK);
    ASSERT_EQ(goose__test_hash(a, h[2]), 0);
    goose_attack_free(a);
    a = goose_attack_new();
    ASSERT_EQ(goose_attack_add_data(a, "users", "a.csv", GOOSE_DATA_UNIQUE), GOOSE_OK);
    ASSERT_EQ(goose__test_hash(a, h[3]), 0);
    goose_attack_free(a);
    ASSERT(strcmp(h[0], h[2]) && strcmp(h[0], h[3]) && strcmp(h[2], h[3]));
    a = goose_attack_new();
    char none[65];
    ASSERT_EQ(goose__test_hash(a, none), 0);
    goose_attack_free(a);
    ASSERT(strcmp(none, h[0]));
}

/* The controller never gives a UNIQUE set more users than it has rows. */
static int dial_controller(int port)
{
    for (int i = 0; i < 200; i++) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                                 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0)
            return fd;
        close(fd);
        usleep(20000);
    }
    TEST_FAIL("the controller does not listen on %d", port);
}

static void talk(int port, const char *command, char *answer, size_t len)
{
    int fd = dial_controller(port);
    struct timeval tv = {10, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ASSERT_EQ(write(fd, command, strlen(command)), (ssize_t)strlen(command));
    size_t got = 0;
    for (ssize_t r; got + 1 < len && !memchr(answer, '\n', got) &&
                    (r = read(fd, answer + got, len - 1 - got)) > 0;)
        got += (size_t)r;
    answer[got] = '\0';
    close(fd);
}

static void *run_attack(void *a)
{
    static int rc;
    rc = goose_attack_run(a);
    return &rc;
}

TEST(controller_unique_rows)
{
    char path[128], hostport[32], answer[512];
    names_file(path, sizeof path, "k", 4);
    target_start(&tgt);
    goose_attack *a = login_attack(path, GOOSE_DATA_UNIQUE, login);
    set(a, "users", "2");
    set(a, "run-time", "3s");
    int port = free_port();
    snprintf(hostport, sizeof hostport, "127.0.0.1:%d", port);
    set(a, "controller", hostport);
    pthread_t th;
    ASSERT_EQ(pthread_create(&th, NULL, run_attack, a), 0);
    usleep(500000);
    talk(port, "users 5\n", answer, sizeof answer);
    ASSERT_NOT_NULL(strstr(answer, "error: 5 users: data \"accounts\" has 4 rows: "
                                   "GOOSE_DATA_UNIQUE gives each user its own row"));
    talk(port, "test-plan 2,1s;5,1s\n", answer, sizeof answer);
    ASSERT_NOT_NULL(strstr(answer, "error: 5 users: data \"accounts\""));
    talk(port, "users 4\n", answer, sizeof answer);
    ASSERT_NOT_NULL(strstr(answer, "ok: users 2 -> 4"));
    void *rc;
    pthread_join(th, &rc);
    ASSERT_EQ(*(int *)rc, GOOSE_OK);
    ASSERT_EQ(stat_of(&tgt, "distinct_logins"), 4);
    goose_attack_free(a);
    target_stop(&tgt);
    unlink(path);
}

TEST_MAIN(TEST_ENTRY(csv_plain), TEST_ENTRY(csv_quotes), TEST_ENTRY(csv_line_ends),
          TEST_ENTRY(csv_errors), TEST_ENTRY(csv_many_rows), TEST_ENTRY(table_worker_share),
          TEST_ENTRY(target_accounts), TEST_ENTRY(unique_rows), TEST_ENTRY(unique_too_few_rows),
          TEST_ENTRY(circular_rows), TEST_ENTRY(row_per_pass), TEST_ENTRY(random_rows),
          TEST_ENTRY(data_option), TEST_ENTRY(bad_files), TEST_ENTRY(registration_refusals),
          TEST_ENTRY(user_value_nulls), TEST_ENTRY(hash_names_and_modes),
          TEST_ENTRY(controller_unique_rows))
