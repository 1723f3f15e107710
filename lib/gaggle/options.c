/* Which options make sense on which side of a Gaggle.  The Manager owns the
 * test (users, rates, times, reports); a Worker only knows where the
 * Manager is and how to run its own users.  Refused, as Goose did, with a
 * clear message rather than ignored. */
#include "gaggle/gaggle.h"

#include <stdio.h>
#include <unistd.h>

static const char *const manager_only[] = {
    "users", "hatch-rate", "startup-time", "run-time", "iterations", "host", "scenarios",
    "timeout", "co-mitigation", "no-reset-metrics", "report-file", "running-metrics",
    "no-print-metrics", "expect-workers", "manager-bind-host",
    "manager-bind-port", "no-hash-check", "resolve", "metrics-listen", "test-plan",
    "throttle-requests", "arrival-rate", "arrival-plan", "controller", "sticky-follow", "threshold",
    "threshold-abort", "stop-timeout", NULL};

static const char *const worker_only[] = {
    "manager-host", "manager-port", "threads", "stack-size", "local-address",
    "request-log", "request-format", "transaction-log", "transaction-format", "error-log",
    "error-format", NULL};

static int refuse_given(goose_attack *a, const char *const *names,
                        const char *side, const char *owner)
{
    for (size_t i = 0; names[i]; i++)
        if (goose__option_given(&a->opt, names[i]))
            return goose__fail(a, GOOSE_ECONFIG,
                               "--%s makes no sense on a %s: set it on the %s",
                               names[i], side, owner);
    return GOOSE_OK;
}

int goose__gaggle_check_options(goose_attack *a, int manager)
{
    if (a->opt.manager && a->opt.worker)
        return goose__fail(a, GOOSE_ECONFIG, "--manager and --worker exclude each other");
    if (!manager)
        return refuse_given(a, manager_only, "Worker", "Manager");
    int rc = refuse_given(a, worker_only, "Manager", "Workers");
    if (rc == GOOSE_OK && a->opt.expect_workers == 0)
        rc = goose__fail(a, GOOSE_ECONFIG,
                         "a Manager needs --expect-workers N (how many Workers to wait for)");
    return rc;
}

/* How a Worker names itself in the Manager's report: host and process. */
void goose__gaggle_name(char *out, size_t len)
{
    char host[64] = "";
    gethostname(host, sizeof host - 1);
    snprintf(out, len, "%s:%d", host[0] ? host : "worker", (int)getpid());
}
