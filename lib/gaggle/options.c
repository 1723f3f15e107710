/* Options that make no sense on this side of a Gaggle (the sides of each
 * row of the option table, options.c).  The Manager owns the test (users,
 * rates, times, reports); a Worker only knows where the Manager is and how
 * to run its own users.  Refused, as Goose did, with a clear message rather
 * than ignored. */
#include "gaggle/gaggle.h"

#include <stdio.h>
#include <unistd.h>

/* The first option given that its row does not allow on this side. */
static int refuse_given(goose_attack *a, unsigned side, const char *name, const char *owner)
{
    for (int id = 0; id < GOOSE_NOPTIONS; id++) {
        const goose_option_info *info = goose__option_row(id);
        if (!(info->sides & side) && goose__option_given(&a->opt, id))
            return goose__fail(a, GOOSE_ECONFIG,
                               "--%s makes no sense on a %s: set it on the %s",
                               info->name, name, owner);
    }
    return GOOSE_OK;
}

int goose__gaggle_check_options(goose_attack *a, int manager)
{
    if (a->opt.manager && a->opt.worker)
        return goose__fail(a, GOOSE_ECONFIG, "--manager and --worker exclude each other");
    if (!manager) { /* its own client certificate, read before it joins */
        int rc = refuse_given(a, GOOSE_SIDE_WORKER, "Worker", "Manager");
        return rc == GOOSE_OK ? goose__run_check_tls(a) : rc;
    }
    int rc = refuse_given(a, GOOSE_SIDE_MANAGER, "Manager", "Workers");
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
