/* bench/data.c - `make bench-data`: what test data costs in memory.  A
 * CSV file of ROWS rows and 2 columns (a name, and a password quoted
 * around a comma every third row) is written to the path given, then
 * read by goose__table_load as a run reads it (lib/content/table.c).
 * Prints a Markdown table: the file's size, the table's bytes (cells,
 * names, marks), the process's RSS growth (VmRSS before and after the
 * load), the load's CPU time; exit 1 when a row reads back wrong or the
 * table (or the RSS growth) is above MAX_RATIO times the file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "content/table.h"

#define ROWS 1000000
#define MAX_RATIO 1.10

static long rss_kib(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kib = -1;
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, "VmRSS:", 6))
            kib = strtol(line + 6, NULL, 10);
    if (f)
        fclose(f);
    return kib;
}

static double cpu_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static long write_file(const char *path)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fprintf(f, "name,password\r\n");
    for (long i = 0; i < ROWS; i++)
        fprintf(f, i % 3 ? "user%07ld,pw%07ld\r\n" : "user%07ld,\"pw,%07ld\"\r\n", i, i);
    long size = ftell(f);
    return fclose(f) == 0 ? size : -1;
}

static int row_right(const goose_table *t, long i, int name, int pw)
{
    char want[32];
    const char *row = goose__table_row(t, (size_t)i);
    snprintf(want, sizeof want, "user%07ld", i);
    if (strcmp(goose__table_field(t, row, (size_t)name), want))
        return 0;
    snprintf(want, sizeof want, i % 3 ? "pw%07ld" : "pw,%07ld", i);
    return !strcmp(goose__table_field(t, row, (size_t)pw), want);
}

/* Every 997th row and the last hold what was written. */
static int rows_right(const goose_table *t)
{
    int name = goose__table_column(t, "name"), pw = goose__table_column(t, "password");
    if (t->nrows != ROWS || name < 0 || pw < 0)
        return 0;
    for (long i = 0; i < ROWS; i += 997)
        if (!row_right(t, i, name, pw))
            return 0;
    return row_right(t, ROWS - 1, name, pw);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: data FILE (written, then read)\n");
        return 2;
    }
    long size = write_file(argv[1]);
    if (size < 0) {
        perror(argv[1]);
        return 2;
    }
    goose_table t;
    char err[512];
    long before = rss_kib();
    double t0 = cpu_ms();
    if (goose__table_load(&t, argv[1], err, sizeof err) < 0) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    double ms = cpu_ms() - t0;
    long after = rss_kib();
    size_t bytes = t.cap + t.names_len + t.marks_cap * sizeof *t.marks;
    double ratio = (double)bytes / (double)size;
    double rss_ratio = (double)(after - before) * 1024 / (double)size;
    int right = rows_right(&t);
    printf("| rows | file | table (cells + names + marks) | table / file | RSS growth | "
           "RSS growth / file | load (CPU) |\n");
    printf("|---:|---:|---:|---:|---:|---:|---:|\n");
    printf("| %d | %.1f MB | %.1f MB | %.3f | %.1f MB | %.3f | %.0f ms |\n", ROWS, size / 1e6,
           bytes / 1e6, ratio, (after - before) * 1024 / 1e6, rss_ratio, ms);
    goose__table_free(&t);
    if (!right) {
        fprintf(stderr, "data: a row read back wrong\n");
        return 1;
    }
    if (ratio > MAX_RATIO || rss_ratio > MAX_RATIO) {
        fprintf(stderr, "data: above %.2f x the file's size\n", MAX_RATIO);
        return 1;
    }
    return 0;
}
