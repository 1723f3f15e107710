/* Report files: the format follows the extension (.json, .md, .csv, .html
 * or .htm; a .csv also gets NAME_history.csv, the per-second series, and
 * with thresholds NAME_thresholds.csv).
 * Each file is written next to its target and renamed over it, so a reader
 * never sees half a report. */
#include "report/report.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
static int write_sibling(goose_attack *a, const char *path, const char *suffix,
                         char *(*render)(const goose_attack *))
{
    char *spath = sibling_path(path, suffix);
    char *text = render(a);
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

static int write_report(goose_attack *a, const char *path)
{
    const char *ext = extension(path);
    int html = !strcmp(ext, ".html") || !strcmp(ext, ".htm");
    char *text = !strcmp(ext, ".md")    ? goose__report_markdown(a)
               : !strcmp(ext, ".csv")   ? goose__report_csv(a)
               : html                   ? goose__report_html(a)
                                        : goose__report_json(a);
    if (!text)
        return goose__fail(a, GOOSE_ENOMEM, "cannot write report %s: %s", path,
                           strerror(ENOMEM));
    int rc = write_file(path, text) < 0 ? -1 : 0;
    free(text);
    if (rc == 0 && !strcmp(ext, ".csv")) {
        rc = write_sibling(a, path, "_history.csv", goose__report_csv_history);
        if (rc == GOOSE_OK && a->results.nthresholds)
            rc = write_sibling(a, path, "_thresholds.csv", goose__report_csv_thresholds);
        return rc;
    }
    if (rc < 0)
        return goose__fail(a, GOOSE_EIO, "cannot write report %s: %s", path,
                           strerror(errno));
    return GOOSE_OK;
}

int goose__report_write_files(goose_attack *a)
{
    for (size_t i = 0; i < a->opt.nreport_files; i++) {
        int rc = write_report(a, a->opt.report_files[i]);
        if (rc != GOOSE_OK)
            return rc;
    }
    return GOOSE_OK;
}
