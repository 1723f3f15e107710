/* Test data (goose_attack_add_data): a CSV file (RFC 4180, the first row
 * names the columns) held as one buffer of cells, each field
 * NUL-terminated in place, row after row, with the offset of every
 * GOOSE_TABLE_STRIDE-th row: a million rows cost about the file's size.
 * A Gaggle Worker builds its share from the cells the Manager ships. */
#ifndef GOOSE_CONTENT_TABLE_H
#define GOOSE_CONTENT_TABLE_H

#include <stddef.h>

#define GOOSE_TABLE_STRIDE 16

typedef struct goose_table {
    char *names;         /* the column names, each NUL-terminated */
    size_t names_len;
    size_t ncols;
    char *cells;         /* every row's ncols fields, each NUL-terminated */
    size_t len, cap;
    size_t nrows;
    size_t *marks;       /* offset in cells of rows 0, STRIDE, 2 STRIDE, ... */
    size_t nmarks, marks_cap;
} goose_table;

void goose__table_init(goose_table *t);
void goose__table_free(goose_table *t);
/* Reads a CSV file: 0, or -1 with "PATH: line N: why" (or "PATH: the
 * system's reason") in err. */
int goose__table_load(goose_table *t, const char *path, char *err, size_t errlen);
/* A Worker's share: the columns (ncols NUL-terminated names, as in
 * t->names), then rows as cells.  -1 with a reason in err when the bytes
 * do not hold exactly what they claim (a hostile or broken peer). */
int goose__table_set_columns(goose_table *t, const char *names, size_t len, size_t ncols,
                             char *err, size_t errlen);
int goose__table_append(goose_table *t, const char *cells, size_t len, size_t nrows,
                        char *err, size_t errlen);
/* Row i's first field (i < nrows); the row's next fields follow it, each
 * after the previous one's NUL. */
const char *goose__table_row(const goose_table *t, size_t i);
/* The bytes of row i, from its first field to its last field's NUL
 * included. */
size_t goose__table_row_len(const goose_table *t, const char *row);
/* Field col of a row (col < ncols). */
const char *goose__table_field(const goose_table *t, const char *row, size_t col);
/* The index of a column, or -1. */
int goose__table_column(const goose_table *t, const char *name);

#endif
