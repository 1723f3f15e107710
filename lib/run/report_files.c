/* Report files: the format follows the extension (.json, .md, .csv, .html
 * or .htm; a .csv also gets NAME_history.csv, the per-second series,
 * NAME_transaction_errors.csv, and with thresholds NAME_thresholds.csv).
 * Each file is written next to its target and renamed over it, so a reader
 * never sees half a report. */
#include "run/run.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/io.h"

/* Written next to the target then renamed over it, so a reader never sees
 * half a report.  Returns 0, or -1 with errno set. */
static int write_file(const char *path, const char *text)
{
    size_t plen = strlen(path);
    char *tmp = malloc(plen + sizeof ".tmp");
    int fd = -1, err = 0;
    if (!tmp)
        return -1;
    memcpy(tmp, path, plen);
    memcpy(tmp + plen, ".tmp", sizeof ".tmp");
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        err = errno;
        goto out;
    }
    if (goose__write_all(fd, text, strlen(text)) < 0 || goose__write_all(fd, "\n", 1) < 0 ||
        fsync(fd) < 0)
        err = errno;
    if (close(fd) < 0 && !err)
        err = errno;
    if (!err && rename(tmp, path) < 0)
        err = errno;
    if (err)
        unlink(tmp);
out:
    free(tmp);
    errno = err;
    return err ? -1 : 0;
}

static const char *extension(const char *path)
{
    const char *dot = strrchr(path, '.');
    return dot ? dot : "";
}

/* NAME.csv -> NAME_history.csv (suffix "_history.csv") */
static char *sibling_path(const char *path, const char *suffix)
{
    size_t n = strlen(path) - 4, len = strlen(suffix) + 1;
    char *p = malloc(n + len);
    if (p) {
        memcpy(p, path, n);
        memcpy(p + n, suffix, len);
    }
    return p;
}

/* One more table of a .csv report, in a file of its own. */
static int write_sibling(goose_attack *a, const goose_report_ctx *ctx, const char *path,
                         const char *suffix, goose_renderer render)
{
    char *spath = sibling_path(path, suffix);
    char *text = render(&a->results, ctx);
    int rc = GOOSE_OK;
    if (!spath || !text || write_file(spath, text) < 0) {
        int err = spath && text ? errno : ENOMEM;
        rc = goose__fail(a, GOOSE_EIO, "cannot write report %s: %s", spath ? spath : path,
                         strerror(err));
    }
    free(spath);
    free(text);
    return rc;
}

static int write_report(goose_attack *a, const goose_report_ctx *ctx, const char *path)
{
    const char *ext = extension(path);
    int html = !strcmp(ext, ".html") || !strcmp(ext, ".htm");
    goose_renderer render = !strcmp(ext, ".md")  ? goose__report_markdown
                          : !strcmp(ext, ".csv") ? goose__report_csv
                          : html                 ? goose__report_html
                                                 : goose__report_json;
    char *text = render(&a->results, ctx);
    if (!text)
        return goose__fail(a, GOOSE_ENOMEM, "cannot write report %s: %s", path,
                           strerror(ENOMEM));
    int rc = write_file(path, text) < 0 ? -1 : 0;
    free(text);
    if (rc == 0 && !strcmp(ext, ".csv")) {
        rc = write_sibling(a, ctx, path, "_history.csv", goose__report_csv_history);
        if (rc == GOOSE_OK)
            rc = write_sibling(a, ctx, path, "_transaction_errors.csv",
                               goose__report_csv_tx_errors);
        if (rc == GOOSE_OK && a->results.nthresholds)
            rc = write_sibling(a, ctx, path, "_thresholds.csv",
                               goose__report_csv_thresholds);
        return rc;
    }
    if (rc < 0)
        return goose__fail(a, GOOSE_EIO, "cannot write report %s: %s", path,
                           strerror(errno));
    return GOOSE_OK;
}

goose_report_ctx goose__report_ctx(const goose_attack *a)
{
    goose_report_ctx ctx = {.opt = &a->opt, .baseline = a->baseline};
    return ctx;
}

char *goose__report_render(const goose_attack *a, const char *format)
{
    static const struct {
        const char *format;
        goose_renderer render;
    } FORMATS[] = {{"json", goose__report_json}, {"text", goose__report_text},
                   {"html", goose__report_html}, {"md", goose__report_markdown},
                   {"csv", goose__report_csv}};
    for (size_t i = 0; a && format && i < sizeof FORMATS / sizeof FORMATS[0]; i++) {
        if (!strcmp(format, FORMATS[i].format)) {
            goose_report_ctx ctx = goose__report_ctx(a);
            return FORMATS[i].render(&a->results, &ctx);
        }
    }
    return NULL;
}

char *goose__report_path(const goose_attack *a, const char *pattern)
{
    char number[16], stamp[32];
    struct tm tm;
    snprintf(number, sizeof number, "%u", a->test_number ? a->test_number : 1);
    gmtime_r(&a->test_time, &tm);
    strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
    goose_buf b;
    goose__buf_init(&b);
    int rc = 0;
    for (const char *p = pattern; *p && rc == 0;) {
        if (!strncmp(p, "{n}", 3)) {
            rc = goose__buf_adds(&b, number);
            p += 3;
        } else if (!strncmp(p, "{time}", 6)) {
            rc = goose__buf_adds(&b, stamp);
            p += 6;
        } else {
            rc = goose__buf_add(&b, p++, 1);
        }
    }
    if (rc < 0) {
        goose__buf_free(&b);
        return NULL;
    }
    return goose__buf_steal(&b);
}

int goose__report_write_files(goose_attack *a)
{
    goose_report_ctx ctx = goose__report_ctx(a);
    for (size_t i = 0; i < a->opt.nreport_files; i++) {
        char *path = goose__report_path(a, a->opt.report_files[i]);
        int rc = path ? write_report(a, &ctx, path)
                      : goose__fail(a, GOOSE_ENOMEM, "cannot write report %s: %s",
                                    a->opt.report_files[i], strerror(ENOMEM));
        free(path);
        if (rc != GOOSE_OK)
            return rc;
    }
    return GOOSE_OK;
}
