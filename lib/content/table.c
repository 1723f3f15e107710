/* Test data: a CSV file read once into one buffer and unquoted in place.
 * Every field becomes its bytes and a NUL; the separators and quotes it
 * loses make room, so the cells never outgrow the file.  The header goes
 * to names; the rows then fill the buffer from its start. */
#include "content/table.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void goose__table_init(goose_table *t)
{
    memset(t, 0, sizeof *t);
}

void goose__table_free(goose_table *t)
{
    if (!t)
        return;
    free(t->names);
    free(t->cells);
    free(t->marks);
    goose__table_init(t);
}

static int fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (err && errlen)
        vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

/* The whole file in one buffer with a spare byte (the last field's NUL
 * when the file does not end with a newline). */
static char *read_file(const char *path, size_t *len, char *err, size_t errlen)
{
    char *b = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        goto fail;
    struct stat st;
    if (fstat(fd, &st) < 0)
        goto fail;
    /* st_size is a hint: a pipe says 0, a growing file says less. */
    size_t cap = (st.st_size > 0 ? (size_t)st.st_size : 4096) + 1, n = 0;
    if (!(b = malloc(cap)))
        goto fail;
    for (;;) {
        if (n + 1 == cap) {
            if (cap > SIZE_MAX / 2) {
                errno = ENOMEM;
                goto fail;
            }
            char *nb = realloc(b, cap * 2);
            if (!nb)
                goto fail;
            b = nb;
            cap *= 2;
        }
        ssize_t r = read(fd, b + n, cap - 1 - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            goto fail;
        if (r == 0)
            break;
        n += (size_t)r;
    }
    close(fd);
    *len = n;
    return b;
fail:
    fail(err, errlen, "%s: %s", path, strerror(errno));
    if (fd >= 0)
        close(fd);
    free(b);
    return NULL;
}

static int add_mark(goose_table *t, size_t off)
{
    if (t->nmarks == t->marks_cap) {
        size_t cap = t->marks_cap ? t->marks_cap * 2 : 64;
        size_t *m = realloc(t->marks, cap * sizeof *m);
        if (!m)
            return -1;
        t->marks = m;
        t->marks_cap = cap;
    }
    t->marks[t->nmarks++] = off;
    return 0;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Every name non-empty and no name twice (sorted, so a header of many
 * columns costs n log n): 0, or -1 with why in err. */
static int check_names(const char *names, size_t ncols, const char *where, char *err,
                       size_t errlen)
{
    const char **v = malloc(ncols * sizeof *v);
    if (!v)
        return fail(err, errlen, "%sout of memory", where);
    const char *p = names;
    int rc = 0;
    for (size_t i = 0; i < ncols; i++, p += strlen(p) + 1) {
        if (!*p) {
            rc = fail(err, errlen, "%scolumn %zu has no name", where, i + 1);
            goto out;
        }
        v[i] = p;
    }
    qsort(v, ncols, sizeof *v, cmp_names);
    for (size_t i = 1; i < ncols; i++)
        if (!strcmp(v[i - 1], v[i])) {
            rc = fail(err, errlen, "%scolumn \"%.64s\" named twice", where, v[i]);
            goto out;
        }
out:
    free(v);
    return rc;
}

/* The parser's state over one buffer: r reads, w writes (w <= r + 1, the
 * one extra byte being the last field's NUL at the end of the file). */
typedef struct csv {
    char *b;
    size_t r, w, end;
    size_t line;
    const char *path;
    char *err;
    size_t errlen;
} csv;

static int csv_fail(csv *c, size_t line, const char *why)
{
    return fail(c->err, c->errlen, "%s: line %zu: %s", c->path, line, why);
}

/* Where a field ends: 1 at ',' (consumed), 2 at the end of the line
 * (consumed), 3 at the end of the file, 0 elsewhere. */
static int at_end(csv *c)
{
    if (c->r == c->end)
        return 3;
    char ch = c->b[c->r];
    if (ch == ',') {
        c->r++;
        return 1;
    }
    if (ch == '\n' || (ch == '\r' && c->r + 1 < c->end && c->b[c->r + 1] == '\n')) {
        c->r += ch == '\r' ? 2 : 1;
        c->line++;
        return 2;
    }
    return 0;
}

/* One field into w, NUL-terminated: 1 more field on the line, 2 the
 * record's last, 3 the file's last; -1 on an error. */
static int csv_field(csv *c)
{
    int e;
    if (c->r < c->end && c->b[c->r] == '"') {
        size_t opened = c->line;
        c->r++;
        for (;;) {
            if (c->r == c->end)
                return csv_fail(c, opened, "a quoted field is never closed");
            char ch = c->b[c->r++];
            if (ch == '"') {
                if (c->r < c->end && c->b[c->r] == '"')
                    c->r++;
                else
                    break;
            } else if (ch == '\0') {
                return csv_fail(c, c->line, "a NUL byte");
            } else if (ch == '\n') {
                c->line++;
            }
            c->b[c->w++] = ch;
        }
        if (!(e = at_end(c)))
            return csv_fail(c, c->line, "text after a closing quote");
    } else {
        while (!(e = at_end(c))) {
            char ch = c->b[c->r++];
            if (ch == '\0')
                return csv_fail(c, c->line, "a NUL byte");
            c->b[c->w++] = ch;
        }
    }
    c->b[c->w++] = '\0';
    return e;
}

/* One record: its number of fields, or 0 after an error. */
static size_t csv_record(csv *c, int *last)
{
    size_t n = 0;
    int e;
    do {
        if ((e = csv_field(c)) < 0)
            return 0;
        n++;
    } while (e == 1);
    *last = e == 3 || c->r == c->end;
    return n;
}

static int parse(goose_table *t, csv *c)
{
    char why[96];
    if (c->r == c->end)
        return csv_fail(c, 1, "no header: the file is empty");
    int last;
    size_t ncols = csv_record(c, &last);
    if (!ncols)
        return -1;
    if (!(t->names = malloc(c->w)))
        return csv_fail(c, 1, "out of memory");
    memcpy(t->names, c->b, c->w);
    t->names_len = c->w;
    t->ncols = ncols;
    if (check_names(t->names, ncols, "", why, sizeof why) < 0)
        return csv_fail(c, 1, why);
    if (last)
        return csv_fail(c, c->line, "a header and no rows");
    /* The header is copied out: the rows fill the buffer from its start. */
    c->w = 0;
    while (!last) {
        size_t line = c->line;
        if (t->nrows % GOOSE_TABLE_STRIDE == 0 && add_mark(t, c->w) < 0)
            return csv_fail(c, line, "out of memory");
        size_t n = csv_record(c, &last);
        if (!n)
            return -1;
        if (n != ncols) {
            snprintf(why, sizeof why, "%zu field%s, the header has %zu", n, n == 1 ? "" : "s",
                     ncols);
            return csv_fail(c, line, why);
        }
        t->nrows++;
    }
    return 0;
}

int goose__table_load(goose_table *t, const char *path, char *err, size_t errlen)
{
    goose__table_init(t);
    size_t n;
    char *b = read_file(path, &n, err, errlen);
    if (!b)
        return -1;
    csv c = {.b = b, .end = n, .line = 1, .path = path, .err = err, .errlen = errlen};
    if (n >= 3 && !memcmp(b, "\xef\xbb\xbf", 3))
        c.r = 3;
    /* Trailing empty lines are no rows: the file ends at its last
     * non-empty line (a newline in there would be inside an unclosed
     * quote, which stays unclosed). */
    while (c.end > c.r && (b[c.end - 1] == '\n' || b[c.end - 1] == '\r'))
        c.end--;
    if (parse(t, &c) < 0) {
        free(b);
        goose__table_free(t);
        return -1;
    }
    /* Give back what unquoting freed (glibc moves a large block with
     * mremap, nothing is copied). */
    char *shrunk = realloc(b, c.w ? c.w : 1);
    t->cells = shrunk ? shrunk : b;
    t->len = t->cap = c.w;
    return 0;
}

/* Counts the NUL-terminated strings in p[0..len): -1 when the last byte
 * is not a NUL (a string cut short). */
static long long count_strings(const char *p, size_t len)
{
    if (len && p[len - 1] != '\0')
        return -1;
    long long n = 0;
    for (const char *e = p + len; p < e; n++)
        p += strlen(p) + 1;
    return n;
}

int goose__table_set_columns(goose_table *t, const char *names, size_t len, size_t ncols,
                             char *err, size_t errlen)
{
    if (t->ncols)
        return fail(err, errlen, "test data: the columns are already set");
    if (!names || !len || !ncols)
        return fail(err, errlen, "test data: no columns");
    long long n = count_strings(names, len);
    if (n < 0 || (unsigned long long)n != ncols)
        return fail(err, errlen, "test data: the column names are not %zu NUL-terminated names",
                    ncols);
    if (check_names(names, ncols, "test data: ", err, errlen) < 0)
        return -1;
    if (!(t->names = malloc(len)))
        return fail(err, errlen, "test data: out of memory");
    memcpy(t->names, names, len);
    t->names_len = len;
    t->ncols = ncols;
    return 0;
}

int goose__table_append(goose_table *t, const char *cells, size_t len, size_t nrows,
                        char *err, size_t errlen)
{
    if (!t->ncols)
        return fail(err, errlen, "test data: rows before the columns");
    if (!nrows && !len)
        return 0;
    if (!cells || nrows > SIZE_MAX / t->ncols)
        return fail(err, errlen, "test data: %zu rows do not fit", nrows);
    long long n = count_strings(cells, len);
    if (n < 0 || (unsigned long long)n != nrows * t->ncols)
        return fail(err, errlen, "test data: the cells are not %zu rows of %zu fields", nrows,
                    t->ncols);
    if (len > SIZE_MAX - t->len)
        return fail(err, errlen, "test data: %zu more bytes do not fit", len);
    if (len > t->cap - t->len) {
        size_t cap = t->cap ? t->cap : 4096;
        while (cap - t->len < len)
            cap = cap > SIZE_MAX / 2 ? SIZE_MAX : cap * 2;
        char *nc = realloc(t->cells, cap);
        if (!nc)
            return fail(err, errlen, "test data: out of memory");
        t->cells = nc;
        t->cap = cap;
    }
    /* Marks first: a failure leaves the table as it was. */
    size_t nmarks = t->nmarks, off = t->len;
    for (size_t i = 0; i < nrows; i++) {
        if ((t->nrows + i) % GOOSE_TABLE_STRIDE == 0 && add_mark(t, off) < 0) {
            t->nmarks = nmarks;
            return fail(err, errlen, "test data: out of memory");
        }
        const char *row = cells + (off - t->len);
        off += goose__table_row_len(t, row);
    }
    memcpy(t->cells + t->len, cells, len);
    t->len += len;
    t->nrows += nrows;
    return 0;
}

const char *goose__table_row(const goose_table *t, size_t i)
{
    const char *p = t->cells + t->marks[i / GOOSE_TABLE_STRIDE];
    for (size_t skip = (i % GOOSE_TABLE_STRIDE) * t->ncols; skip; skip--)
        p += strlen(p) + 1;
    return p;
}

size_t goose__table_row_len(const goose_table *t, const char *row)
{
    const char *p = row;
    for (size_t i = 0; i < t->ncols; i++)
        p += strlen(p) + 1;
    return (size_t)(p - row);
}

const char *goose__table_field(const goose_table *t, const char *row, size_t col)
{
    (void)t;
    while (col--)
        row += strlen(row) + 1;
    return row;
}

int goose__table_column(const goose_table *t, const char *name)
{
    const char *p = t->names;
    for (size_t i = 0; i < t->ncols && i <= INT_MAX; i++, p += strlen(p) + 1)
        if (!strcmp(p, name))
            return (int)i;
    return -1;
}
